"""Reading back the text the Pillow renderer drew: closed-vocabulary OCR with the renderer's own font.

The renderer draws a label with Pillow's default font, supersampled ``SUPERSAMPLE`` times and box
filtered down, its middle at the object's center pixel corner (anchor ``"mm"``). A string drawn that
way is exactly its glyphs drawn one by one: glyph ``i`` at ``floor(start + pen_i)`` in supersampled
pixels, where ``pen_i`` is the string's length up to and including the glyph less the glyph's own
length (so kerning is included) and ``start`` is the anchor less half the string's length. So a
candidate string's image is composed from per-glyph templates, each drawn once per font size and
sub-pixel phase, and compared with the decoded luma as ink coverage (0 = background, 1 = ink).

Which strings can appear is known (a family knows its captions, names and numbers): the reader
looks for the string of a :class:`Vocabulary` (a trie) whose composed image is closest to the
decoded one (least squares), by branch and bound: glyphs are added left to right, and the columns
no later glyph can reach are final, so their error bounds every completion from below. The string's
start is not known before its length is, so starts near the leftmost ink are tried and a complete
string counts only if its own length puts it at the start it was read at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .palette import INK
from .render.pillow_backend import SUPERSAMPLE, _font, drawn_size, label_layout
from .timeline import SceneObject
from .video import luma

S = SUPERSAMPLE
INK_LUMA = float(luma(INK))
CLEAR_INK = 0.3  # coverage: a column of a line that reaches it shows ink
# Thin glyphs drawn small ("/", "i", "l" at 128 px) peak at 0.25-0.3 coverage at their worst sub-pixel
# place, less after H.264: a line of one such glyph (the root "/" of a listing) is inked at half its
# own darkest pixel. A line whose darkest pixel is fainter than this holds no glyph (H.264's ripples
# on white stay below 0.05).
FAINT_INK = 0.1
END = ""  # trie key marking the end of a vocabulary string


class Vocabulary:
    """The strings a line of text can be, as a trie (``{char: subtrie}``, ``END`` marks a string's end)."""

    def __init__(self, strings: Iterable[str]):
        self.strings = sorted(set(strings))
        self.trie: dict = {}
        for text in self.strings:
            node = self.trie
            for char in text:
                node = node.setdefault(char, {})
            node[END] = {}
        self.chars = sorted({c for text in self.strings for c in text})
        self.start_ranges: dict[tuple[int, int], dict[int, tuple[int, int]]] = {}  # per (font size, anchor): see _start_ranges

    def __len__(self) -> int:
        return len(self.strings)


@dataclass(frozen=True)
class Reading:
    text: str | None  # None: no string of the vocabulary fits
    error: float  # squared coverage error of the best string, over the line's box
    runner_up: float  # the same for the second best string (inf if none)


@dataclass(frozen=True)
class Line:
    """Where a label is drawn: its anchor (supersampled pixels of the frame) and font size.

    ``anchor_x`` may depend on the text (a left-aligned line is drawn centered at a point that
    depends on its width); ``box`` (top, bottom, left, right, in frame pixels) is where its ink may be.
    """

    font_px: int  # supersampled
    anchor_y: int
    anchor_x: int | Callable[[str], int]
    box: tuple[int, int, int, int]
    anchor_key: Any = None  # names a text-dependent ``anchor_x``, so work done for it is kept

    def anchor_for(self, text: str) -> int:
        return self.anchor_x(text) if callable(self.anchor_x) else self.anchor_x

    def rows(self) -> tuple[int, int]:
        """(top, bottom) frame rows the line's glyphs can ink (from the font's ascent and descent)."""
        baseline, ascent, descent = _metrics(self.font_px)
        baseline += self.anchor_y
        return (baseline - ascent) // S, -(-(baseline + descent) // S) + 1


def label_line(obj: SceneObject, center: tuple[int, int], resolution: int, box: tuple[int, int, int, int] | None = None) -> Line:
    """The line of ``obj``'s label when the object's center is at pixel corner ``center`` (what the
    renderer rounds its position to). ``box`` defaults to the object's own box."""
    width, height = drawn_size(obj.size, obj.height, resolution)
    (dx, dy), px = label_layout(obj.shape, width, height if height is not None else width)
    if dx or dy:
        raise ValueError(f"labels of {obj.shape!r} objects are drawn off center; read them where they are")
    if box is None:
        half_w, half_h = width / 2, (height if height is not None else width) / 2
        box = (center[1] - math.ceil(half_h), center[1] + math.ceil(half_h), center[0] - math.ceil(half_w), center[0] + math.ceil(half_w))
    return Line(int(px * S), S * center[1], S * center[0], box)


# -- glyphs ----------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _metrics(font_px: int) -> tuple[int, int, int]:
    """(baseline below the "mm" anchor, ascent, descent), supersampled pixels."""
    font = _font(font_px)
    ascent, descent = font.getmetrics()
    return font.getbbox("H", anchor="mm")[1] - font.getbbox("H", anchor="ls")[1], ascent, descent


@lru_cache(maxsize=65536)
def _length(font_px: int, text: str) -> float:
    return _font(font_px).getlength(text)


@lru_cache(maxsize=4096)
def _glyph_ink(font_px: int, char: str) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """``char``'s supersampled ink and its box (left, top, right, bottom; exclusive) relative to its
    pen point on the baseline; None for a glyph without ink (a space)."""
    font = _font(font_px)
    ascent, descent = font.getmetrics()
    pad = font_px  # glyphs reach a little outside their advance and line box
    width = int(math.ceil(font.getlength(char))) + 2 * pad
    canvas = Image.new("L", (width, ascent + descent + 2 * pad), 0)
    ImageDraw.Draw(canvas).text((pad, pad + ascent), char, font=font, fill=255, anchor="ls")
    ink = np.asarray(canvas)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        return None
    box = (int(cols[0]) - pad, int(rows[0]) - pad - ascent, int(cols[-1]) + 1 - pad, int(rows[-1]) + 1 - pad - ascent)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], box


def _glyph_box(font_px: int, char: str) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of ``char``'s ink relative to its pen point (0-wide for a space)."""
    glyph = _glyph_ink(font_px, char)
    return glyph[1] if glyph is not None else (0, 0, 0, 0)


@lru_cache(maxsize=16384)
def _glyph(font_px: int, char: str, phase_x: int, phase_y: int) -> np.ndarray:
    """``char``'s coverage at output resolution (float, 0..1) when its ink box starts ``phase_*``
    supersampled pixels into an output pixel."""
    ink, (left, top, right, bottom) = _glyph_ink(font_px, char)
    height, width = ink.shape
    canvas = np.zeros((math.ceil((height + phase_y) / S) * S, math.ceil((width + phase_x) / S) * S), np.float32)
    canvas[phase_y : phase_y + height, phase_x : phase_x + width] = ink
    return canvas.reshape(canvas.shape[0] // S, S, canvas.shape[1] // S, S).sum(axis=(1, 3)) / (255.0 * S * S)


@lru_cache(maxsize=256)
def _leftmost_ink(font_px: int, chars: tuple[str, ...]) -> int:
    """The most any glyph of ``chars`` reaches left of its pen point (supersampled, usually <= 0)."""
    return min((_glyph_box(font_px, c)[0] for c in chars), default=0)


# -- reading ---------------------------------------------------------------------------------------
def coverage(luma_frame: np.ndarray, box: tuple[int, int, int, int], background: float) -> np.ndarray:
    """Ink coverage of ``box`` of a luma frame drawn on ``background`` (a luma)."""
    top, bottom, left, right = box
    window = luma_frame[max(top, 0) : bottom, max(left, 0) : right].astype(np.float32)
    return np.clip((background - window) / (background - INK_LUMA), 0.0, 1.0)


def inked_columns(observed: np.ndarray) -> np.ndarray:
    """The columns of a line's coverage ``observed`` that show ink: those reaching :data:`CLEAR_INK`,
    or half the line's darkest pixel where that is fainter (none if it is below :data:`FAINT_INK`)."""
    peak = float(observed.max(initial=0.0))
    if peak < FAINT_INK:
        return np.zeros(0, int)
    return np.flatnonzero(observed.max(axis=0) > min(CLEAR_INK, peak / 2))


def read_line(luma_frame: np.ndarray, line: Line, vocabulary: Vocabulary, background: float = float(luma((255, 255, 255)))) -> Reading:
    """The string of ``vocabulary`` drawn on ``line`` of ``luma_frame``, the closest by squared error."""
    top, bottom, left, right = line.box
    top, left = max(top, 0), max(left, 0)
    observed = coverage(luma_frame, (top, bottom, left, right), background)
    baseline, ascent, descent = _metrics(line.font_px)
    baseline += line.anchor_y
    inked = inked_columns(observed)
    if not inked.size:
        return Reading(None, math.inf, math.inf)
    search = _Search(observed, top, left, line, vocabulary, baseline)
    # Where the first glyph's pen point can be: its box starts at most a pixel before the first
    # clearly inked column (anti-aliased edges are faint) and at most at it. Each (start, first
    # glyph) is tried, those whose first glyph fits best first: the right string is then usually
    # the first complete one, and its small error cuts every other branch short.
    first = S * (left + int(inked[0]))
    tries = []
    for char in vocabulary.trie:
        if char == END:
            continue
        starts = np.arange(first - 2 * S, first + S + 1) - _glyph_box(line.font_px, char)[0]
        tries += zip(search.first_glyph_errors(char, starts).tolist(), starts.tolist(), [char] * len(starts))
    for bound, start, char in sorted(tries):
        if bound >= search.bound():  # this and every later try can only do worse
            break
        search.run(start, char)
    return search.reading()


def composed(line: Line, text: str) -> np.ndarray:
    """The coverage of ``text`` drawn on ``line``, over the line's box: what reading compares with."""
    top, bottom, left, right = line.box
    baseline = line.anchor_y + _metrics(line.font_px)[0]
    search = _Search(np.zeros((bottom - top, right - left), np.float32), top, left, line, Vocabulary([text]), baseline)
    predicted = np.zeros_like(search.observed)
    start = _start(line, text)
    for i, char in enumerate(text):
        search._draw(predicted, char, start + _length(line.font_px, text[: i + 1]) - _length(line.font_px, char))
    return np.minimum(predicted, 1.0)


class _Search:
    """Branch and bound over the vocabulary's trie for one line (see the module docstring)."""

    def __init__(self, observed, top, left, line, vocabulary, baseline):
        self.observed, self.top, self.left, self.line, self.vocabulary = observed, top, left, line, vocabulary
        self.baseline = baseline
        self.reach_left = _leftmost_ink(line.font_px, tuple(vocabulary.chars))
        self.starts = _start_ranges(vocabulary, line)
        self.column_ink = np.concatenate([[0.0], (observed**2).sum(axis=0).cumsum()])  # squared ink left of each column
        self.best: tuple[float, str | None] = (math.inf, None)
        self.runner_up = math.inf  # the least error of another complete string met on the way

    def bound(self) -> float:
        return self.best[0]

    def run(self, start: int, first: str) -> None:
        predicted = np.zeros_like(self.observed)
        self._grow({first: self.vocabulary.trie[first]}, "", start, predicted, 0.0, 0)

    def first_glyph_errors(self, char: str, starts: np.ndarray) -> np.ndarray:
        """Per start, the error over the columns no later glyph can reach of ``char`` drawn first
        there: a lower bound of the error of every string so begun (what ``_grow`` bounds with).
        Every first glyph is tried at many starts, so this is done for all starts at once."""
        final = np.clip((starts + _length(self.line.font_px, char) + self.reach_left - S) // S - self.left, 0, self.observed.shape[1])
        errors = self.column_ink[final.astype(int)]
        if _glyph_ink(self.line.font_px, char) is None:
            return errors
        left, top, _, _ = _glyph_box(self.line.font_px, char)
        box_x, box_y = starts + left, self.baseline + top
        row = (box_y - box_y % S) // S - self.top
        width = self.observed.shape[1]
        for phase in np.unique(box_x % S):
            at = np.flatnonzero(box_x % S == phase)
            template = _glyph(self.line.font_px, char, int(phase), box_y % S)
            rows = slice(max(row, 0), min(row + template.shape[0], self.observed.shape[0]))
            t = template[rows.start - row : rows.stop - row]
            cols = (box_x[at] - phase) // S - self.left  # the template's first column, per start
            columns = cols[:, None] + np.arange(t.shape[1])  # (starts, template width)
            usable = (columns >= 0) & (columns < np.minimum(final[at], width)[:, None])
            windows = self.observed[rows][:, np.clip(columns, 0, width - 1)]  # (rows, starts, width)
            per_column = (t[:, None, :] * (t[:, None, :] - 2 * windows)).sum(axis=0)
            errors[at] += (per_column * usable).sum(axis=1)
        return errors

    def _final_columns(self, start: int, text: str, done: int) -> int:
        """How many columns of the box are final once ``text`` is drawn from ``start``: those left of
        where any later glyph could put ink (a pixel spared for kerning); at least ``done``."""
        cols = int((start + _length(self.line.font_px, text) + self.reach_left - S) // S) - self.left
        return min(max(cols, done), self.observed.shape[1])

    def _placed(self, char: str, pen: float) -> tuple[np.ndarray, int, int]:
        """Glyph ``char``'s template with its pen point at ``pen`` (supersampled), and the (row,
        column) of its top-left pixel in the line's box."""
        left, top, _, _ = _glyph_box(self.line.font_px, char)
        box_x, box_y = math.floor(pen) + left, self.baseline + top
        template = _glyph(self.line.font_px, char, box_x % S, box_y % S)
        return template, (box_y - box_y % S) // S - self.top, (box_x - box_x % S) // S - self.left

    def _grow(self, node: dict, prefix: str, start: int, predicted: np.ndarray, final_error: float, final_cols: int) -> None:
        if END in node:
            self._finish(prefix, start, predicted)
        children = []
        for char, child in node.items():
            low, high = self.starts[id(child)] if char != END else (0, -1)
            if not low <= start <= high:  # no string below starts here
                continue
            text = prefix + char
            grown = predicted.copy()
            self._draw(grown, char, start + _length(self.line.font_px, text) - _length(self.line.font_px, char))
            cols = self._final_columns(start, text, final_cols)
            error = final_error + float(((grown[:, final_cols:cols] - self.observed[:, final_cols:cols]) ** 2).sum())
            if error < self.bound():
                children.append((error, char, child, grown, cols))
        for error, char, child, grown, cols in sorted(children, key=lambda c: c[0]):
            if error < self.bound():
                self._grow(child, prefix + char, start, grown, error, cols)

    def _draw(self, predicted: np.ndarray, char: str, pen: float) -> None:
        if _glyph_ink(self.line.font_px, char) is not None:
            _add(predicted, *self._placed(char, pen))

    def _finish(self, text: str, start: int, predicted: np.ndarray) -> None:
        # The string sits where its own length puts it, or it is not what was drawn there.
        if start != _start(self.line, text):
            return
        error = float(((np.minimum(predicted, 1.0) - self.observed) ** 2).sum())
        if text == self.best[1]:
            return
        if error < self.best[0]:
            self.best, self.runner_up = (error, text), min(self.runner_up, self.best[0])
        else:
            self.runner_up = min(self.runner_up, error)

    def reading(self) -> Reading:
        return Reading(self.best[1], self.best[0], self.runner_up)


def _start(line: Line, text: str) -> int:
    """Where ``text`` drawn on ``line`` has its first pen point (supersampled pixels)."""
    return math.floor(line.anchor_for(text) - _length(line.font_px, text) / 2)


def _start_ranges(vocabulary: Vocabulary, line: Line) -> dict[int, tuple[int, int]]:
    """Per trie node (by ``id``): the least and greatest start of the strings below it."""
    key = (line.font_px, line.anchor_key if callable(line.anchor_x) else line.anchor_x)
    if key in vocabulary.start_ranges:
        return vocabulary.start_ranges[key]
    ranges: dict[int, tuple[int, int]] = {}

    def visit(node: dict, prefix: str) -> tuple[int, int]:
        found = [(_start(line, prefix),) * 2] if END in node else []
        found += [visit(child, prefix + char) for char, child in node.items() if char != END]
        ranges[id(node)] = (min(f[0] for f in found), max(f[1] for f in found))
        return ranges[id(node)]

    visit(vocabulary.trie, "")
    if key[1] is not None:
        vocabulary.start_ranges[key] = ranges
    return ranges


def _add(image: np.ndarray, template: np.ndarray, row: int, col: int) -> None:
    """``image[row:, col:] += template``, clipped to the image."""
    r0, c0 = max(row, 0), max(col, 0)
    r1, c1 = min(row + template.shape[0], image.shape[0]), min(col + template.shape[1], image.shape[1])
    if r0 < r1 and c0 < c1:
        image[r0:r1, c0:c1] += template[r0 - row : r1 - row, c0 - col : c1 - col]
