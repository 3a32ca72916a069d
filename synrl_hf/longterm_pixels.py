"""The long-term families' pixel-reading kit: captions, labels and colors read back from decoded frames.

A long-term clip shows one state (the initial or the final reveal) and, during each operation, a
caption naming it. A family's pixel reader (``answer_from_pixels``) reads the shown state off the
reveal's frames (labels with :mod:`synrl_hf.ocr`, colors at the places its layout puts things),
reads each caption, replays the operations from the shown state (forwards from the initial one,
undoing them backwards from the final one) and answers from those states, as ``ask`` does from the
timeline's. It knows its own layout and wording (what can be drawn where); the row's ``events``,
``operations``, ``states``, ``tracks`` and the objects' labels are never read.

Operations are found in time as the runs of frames whose caption band holds ink (a caption is
visible exactly while its operation runs, and still frames separate operations), so "when"
answers are those runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import longterm
from .ocr import Line, Vocabulary, label_line, read_line
from .palette import COLORS
from .pixels import COLOR_TOLERANCE, PixelScene, Unreadable, stem
from .questions import ordinal
from .timeline import SceneObject
from .video import luma

INKED = 0.3  # ink coverage above which a pixel shows ink
WHITE = float(luma((255, 255, 255)))
INKED_BELOW = WHITE - INKED * (WHITE - float(luma((25, 25, 25))))  # the luma of such a pixel on white
ORDINALS = {ordinal(n): n for n in range(1, 33)}


def pixel_corner(scene: PixelScene, x: float, y: float) -> tuple[int, int]:
    """The pixel corner the renderer puts an object's center at, for canvas position (x, y)."""
    return int(round(x * scene.width)), int(round(y * scene.height))


# -- captions ---------------------------------------------------------------------------------------
def caption_line(scene: PixelScene) -> Line:
    line = label_line(longterm.caption_object(0, ""), pixel_corner(scene, 0.5, longterm.CAPTION_Y), scene.width)
    return Line(line.font_px, line.anchor_y, line.anchor_x, (*line.rows(), 0, scene.width))


def operation_spans(scene: PixelScene) -> list[tuple[int, int]]:
    """(first, last) frame of each operation: the runs of frames with a caption."""
    top, bottom, _, _ = caption_line(scene).box
    inked = (scene.luma[:, top:bottom, :].min(axis=(1, 2)) < INKED_BELOW).astype(np.int8)
    edges = np.diff(np.concatenate([[0], inked, [0]]))
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def read_captions(scene: PixelScene, vocabulary: Vocabulary) -> tuple[list[str], list[tuple[int, int]]]:
    """Every operation's caption (read in the middle of its run) and its run of frames."""
    spans = operation_spans(scene)
    if not spans:
        raise Unreadable("no caption is ever shown")
    line = caption_line(scene)
    captions = []
    for first, last in spans:
        reading = read_line(scene.luma[(first + last) // 2], line, vocabulary)
        if reading.text is None:
            raise Unreadable(f"the caption of frames {first}-{last} is none the family writes")
        captions.append(reading.text)
    return captions, spans


def read_operations(scene: PixelScene, vocabulary: Vocabulary, parse: dict[str, Any]) -> tuple[list[Any], list[tuple[int, int]]]:
    """The operations the captions name (``parse``: caption → operation) and their runs of frames."""
    captions, spans = read_captions(scene, vocabulary)
    return [parse[c] for c in captions], spans


# -- labels and colors --------------------------------------------------------------------------------
def read_label(scene: PixelScene, frame: int, obj: SceneObject, x: float, y: float, vocabulary: Vocabulary) -> str:
    """The label of ``obj`` drawn centered at canvas (x, y) on ``frame``, read inside its outline
    (a card's 2-pixel rim, a circle's inscribed square); its fill is the background."""
    line = label_line(obj, pixel_corner(scene, x, y), scene.width)
    top, bottom, left, right = line.box
    inset = int(np.ceil(0.3 * (right - left) / 2)) if obj.shape == "circle" else 3
    line = Line(line.font_px, line.anchor_y, line.anchor_x, (top + inset, bottom - inset, left + inset, right - inset))
    fill = (255, 255, 255) if obj.shape == "box" else COLORS[obj.color]
    reading = read_line(scene.luma[frame], line, vocabulary, background=float(luma(fill)))
    if reading.text is None:
        raise Unreadable(f"no label at ({x:.3f}, {y:.3f}) on frame {frame}")
    return reading.text


def color_at(scene: PixelScene, frame: int, x: float, y: float, half: float) -> str | None:
    """The palette color (name) covering most of the square of half-side ``half`` (canvas units)
    round (x, y) on ``frame``, if it covers at least a third of it; None otherwise (white, ink)."""
    cx, cy = pixel_corner(scene, x, y)
    h = max(int(half * scene.width), 1)
    window = scene.frames[frame, max(cy - h, 0) : cy + h, max(cx - h, 0) : cx + h].reshape(-1, 1, 3).astype(np.int16)
    palette = np.array(list(COLORS.values()), np.int16)
    shares = (np.abs(window - palette).max(axis=-1) <= COLOR_TOLERANCE).mean(axis=0)
    best = int(shares.argmax())
    return list(COLORS)[best] if shares[best] >= 1 / 3 else None


def shown_reveal(scene: PixelScene, revealed: Any) -> str:
    """ "initial" or "final": which end of the clip shows the state, ``revealed(frame)`` telling
    whether a frame shows it; exactly one end must."""
    first, last = revealed(0), revealed(len(scene) - 1)
    if first == last:
        raise Unreadable("the state is shown at both ends of the clip, or at neither")
    return "initial" if first else "final"


def states_from_reveal(shown: str, state: Any, ops: Sequence[Any], apply, undo) -> list[Any]:
    """[S0, …, ST] from the revealed state: replayed forwards from S0, or undone backwards from ST
    (``undo(state_after, op)`` is the state before ``op``)."""
    if shown == "initial":
        return longterm.replay(apply, state, ops)
    states = [state]
    for op in reversed(ops):
        states.append(undo(states[-1], op))
    return states[::-1]


# -- the question -------------------------------------------------------------------------------------
def operation_number(row: dict[str, Any], captions: Sequence[str] = ()) -> int:
    """The 1-based operation a question is about: an ordinal ("the third operation", "swap 2",
    "operation 4", "move 3", "command 5") or a quoted caption."""
    text = stem(row)
    quoted = re.search(r'"([^"]+)"', text)
    if quoted and quoted.group(1) in captions:
        return list(captions).index(quoted.group(1)) + 1
    found = re.search(r"\b(" + "|".join(ORDINALS) + r")\b (?:operation|swap|move|command)", text)
    if found:
        return ORDINALS[found.group(1)]
    found = re.search(r"\b(?:operation|swap|move|command) (\d+)\b", text, flags=re.IGNORECASE)
    if found:
        return int(found.group(1))
    raise Unreadable(f"the question names no operation: {text!r}")


def when_answer(scene: PixelScene, spans: Sequence[tuple[int, int]], k: int) -> str:
    """The interval answer for operation ``k`` (1-based): its run of frames in seconds."""
    if not 1 <= k <= len(spans):
        raise Unreadable(f"operation {k} asked, {len(spans)} seen")
    return scene.interval(*spans[k - 1])
