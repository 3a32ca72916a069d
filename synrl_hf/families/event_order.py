"""event_order: the temporal order of discrete actions.

Several still objects each perform one distinct short action (blink, jump, spin, recolor, grow),
one after another with pauses in between. Every action ends where it began (the object reappears,
lands, completes its turn, gets its color and size back), so the first and last frames look alike
and only watching the whole clip gives the order. Every action is described in the question's words
("jumps", "spins around once"): a jump's turn at its top is the described event.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .. import motion, shapes
from ..narration import Context, Writer
from ..palette import COLORS, ROTATION_SHAPES
from ..perception import px, seconds
from ..pixels import (
    FrameSource,
    PixelScene,
    PixelTrack,
    RGBFrames,
    Unreadable,
    asked_objects,
    canonical,
    coverage,
    describe,
    ink_pixels,
    measure,
    moving_runs,
    ordinals_in,
    stem,
)
from ..questions import interval, multiple_choice, ordinal, pick, sequence
from ..timeline import Event, StyleChange, Timeline, Track
from ..video import VideoPlanes, yuv_to_rgb
from .base import FPS, Family, Params, draw_num_frames

ACTIONS = {  # what each action looks like, as an answer option
    "blink": "it disappears for a moment",
    "jump": "it jumps",
    "spin": "it spins around once",
    "recolor": "it briefly changes color",
    "grow": "it briefly grows",
}
JUMP = 0.12  # canvas units at the top of a jump
GROW = 1.5  # size at the peak of a grow, relative to the normal size
EDGE = 6  # still frames at both ends of the clip
GROWN = 1.12  # drawn area, of the area at rest, above which the pixel reader sees the object grown
TURNED = 0.2  # summed change of the outline at one scale (marker included), of its area at rest: turned
NOISE = 4  # luma and chroma levels within which two frames draw the object's window alike (the encoder's noise)
# The measures of two frames drawn alike differ by less than DRIFT_HEIGHT pixels of height, and
# DRIFT_AREA pixels' worth of covered area and of outline (over twice the most seen, on 2,000
# objects at 128 and 448 px). Of the area at rest that is little at 448 px; at 128 px it is more
# than any threshold leaves, and every frame showing the object is measured.
DRIFT_HEIGHT = 1.0
DRIFT_AREA = 90.0
ACTION_SENTENCES = ("At {t} the {obj} {action}.", "{t}: the {obj} {action}.", "Next, at {t}, the {obj} {action}.")
ACTION_PHRASES = {  # how the narration tells each action
    "blink": "disappears for a moment",
    "jump": "jumps up and lands again",
    "spin": "spins around once",
    "recolor": "briefly changes color",
    "grow": "briefly grows",
}


@dataclass(frozen=True)
class EventOrderParams(Params):
    objects: tuple[int, int] = (3, 4)  # acting objects, each with its own action
    size: tuple[float, float] = (0.08, 0.12)
    action_frames: tuple[int, int] = (9, 15)  # how long one action lasts
    min_gap: int = 10  # still frames between one action's end and the next one's start


PERCEPTUAL_CONTRACT = {
    "order, nth, next_action, when": (
        f"one object acts at a time; an action lasts {seconds(EventOrderParams.action_frames[0])} or more and the next one starts "
        f"at least `min_gap` still frames later ({seconds(EventOrderParams.min_gap)} in round1, 6 frames in round2)",
        f"a blink hides the object completely; a jump lifts it {px(JUMP)} at its top; a grow takes it to {GROW}x its size "
        f"({GROW**2:.2g}x its area); a recolor shows a palette color no object has; a spin turns its marker dot once around",
        f"the objects rest at least {px(motion.MARGIN)} apart even while one of them jumps, turns or grows",
    ),
}


class EventOrder(Family):
    name = "event_order"
    category = "short_term"
    Params = EventOrderParams
    round2 = {"duration": (8.0, 12.0), "objects": (4, 5), "min_gap": 6}
    ladder = (
        {},
        round2,
        {"duration": (8.0, 12.0), "objects": (5, 5), "min_gap": 5, "action_frames": (8, 13)},
        {"duration": (8.0, 12.0), "objects": (5, 5), "min_gap": 4, "action_frames": (7, 11)},
        {"duration": (8.0, 12.0), "objects": (5, 5), "min_gap": 3, "action_frames": (6, 9)},
    )

    KINDS = ("order", "nth", "next_action", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        count = int(rng.integers(params.objects[0], params.objects[1] + 1))
        # The asked position in the order: any for "nth" and "when", one with a successor for "next_action".
        rank = int(rng.integers(1, count if kind == "next_action" else count + 1))
        return {"kind": kind, "count": count, "rank": rank}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        count = plan["count"]
        objects = motion.random_objects(rng, count, params.size, shapes=ROTATION_SHAPES, marker=True)
        actions = [str(a) for a in rng.permutation(list(ACTIONS))[:count]]
        spans = _schedule(rng, count, num_frames, params)
        spare_colors = [c for c in COLORS if c not in {o.color for o in objects}]
        # Room for whichever object is grown: one acts at a time.
        gap = motion.MARGIN + max(o.size for o in objects) * (GROW - 1) / 2 * math.sqrt(2)
        for _ in range(1000):
            tracks = {}
            for obj, action, (start, end) in zip(objects, actions, spans):
                reach = obj.size * GROW / 2 * math.sqrt(2) + motion.MARGIN  # grown or turned, still in frame
                x, y = rng.uniform(reach, 1 - reach), rng.uniform(reach + JUMP, 1 - reach)
                tracks[obj.id] = _act(Track.still(num_frames, x, y), obj, action, start, end, pick(rng, spare_colors))
            if motion.separated(objects, tracks, gap=gap):
                break
        else:
            raise RuntimeError(f"could not place {count} objects apart")
        events = [
            Event(frame, action, [obj.id], part)
            for obj, action, span in zip(objects, actions, spans)
            for frame, part in zip(span, ("start", "end"))
        ]
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        starts = [e for e in timeline.events if e.detail == "start"]
        order = [timeline.object(e.objects[0]) for e in starts]
        names = [motion.describe(o) for o in order]
        kind, rank = plan["kind"], plan["rank"]
        if kind == "order":
            text = pick(
                rng,
                (
                    "Each object does one thing (blinks, jumps, spins, changes color or grows) at its own moment. "
                    "List the objects in the order in which they act.",
                    "In what order do the objects perform their actions? Name them by color and shape, first to last.",
                ),
            )
            return sequence(text, names, primitive="event_order", kind=kind)
        position = "last" if rank == len(order) else ordinal(rank)
        if kind == "nth":
            text = pick(
                rng,
                (
                    f"Each object performs one short action. Which object acts {position}?",
                    f"The objects take turns doing something. Whose action comes {position}?",
                ),
            )
            return multiple_choice(rng, text, names[rank - 1], names, primitive="event_order", kind=kind, num_options=min(4, len(names)))
        if kind == "next_action":
            done = starts[rank - 1].type
            text = pick(
                rng,
                (
                    f"Right after the {names[rank - 1]} has acted, what does the next object do?",
                    f"Which action comes immediately after the action of the {names[rank - 1]}?",
                ),
            )
            others = [ACTIONS[a] for a in ACTIONS if a != done]
            return multiple_choice(rng, text, ACTIONS[starts[rank].type], others, primitive="event_order", kind=kind)
        start = starts[rank - 1]
        end = next(e for e in timeline.events if e.detail == "end" and e.objects == start.objects)
        description = ACTIONS[start.type].removeprefix("it ")
        text = pick(
            rng,
            (
                f"During which time span does the {names[rank - 1]} perform its action (it {description})?",
                f"Give the time span during which the {names[rank - 1]} {description}.",
            ),
        )
        return interval(text, timeline.time(start.frame), timeline.time(end.frame))

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "Each object does one short action at its own moment; I note who acts when.",
        "I go through the clip and write down each action with its time.",
    )
    focus = {
        "order": ("So the order of the actions is: {answer}.", "In order of acting: {answer}."),
        "nth": ("So the {position} to act is the {answer_text}.",),
        "next_action": ("Right after the {previous} acts, the next object {answer_text_verb}.",),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        events = [e for e in ctx.tl.events if e.detail == "start"]
        ends = {e.objects[0]: e for e in ctx.tl.events if e.detail == "end"}
        for event in events:
            w.say(ACTION_SENTENCES, t=ctx.t(event.frame), obj=ctx.names[event.objects[0]], action=ACTION_PHRASES[event.type])
            end = ends[event.objects[0]]
            w.say(("By {t} it looks as before.", "It is back to normal at {t}."), t=ctx.t(end.frame))

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        acts = sorted(_action_in_pixels(scene, obj) + (obj,) for obj in row["objects"])
        names = [describe(obj) for *_, obj in acts]
        kind = row["question_type"]
        if kind == "order":
            return ", ".join(names)
        if kind == "nth":
            text = stem(row)
            rank = len(acts) if re.search(r"\blast\b", text) else ordinals_in(text)[0]
            return names[rank - 1]
        (asked, *_) = asked_objects(row)
        rank = names.index(describe(asked))
        if kind == "next_action":
            if rank + 1 >= len(acts):
                raise Unreadable(f"the {describe(asked)} acts last")
            return ACTIONS[acts[rank + 1][2]]
        start, end, *_ = acts[rank]
        return scene.interval(start, end)

    def focus_fields(self, ctx: Context) -> dict[str, Any]:
        starts = [e for e in ctx.tl.events if e.detail == "start"]
        rank = ctx.plan["rank"]
        more = {"position": "last" if rank == len(starts) else ordinal(rank)}
        if ctx.kind == "next_action":
            more["previous"] = ctx.names[starts[rank - 1].objects[0]]
            more["answer_text_verb"] = ctx.answer_text.removeprefix("it ")
        return more


def _action_in_pixels(scene: PixelScene, obj: dict) -> tuple[int, int, str]:
    """(first changed frame, first frame looking as before, action) of one object, read off the pixels.

    The object rests in the first frames; from there, frame by frame, it is hidden (a blink, or a
    recolor if another color is drawn where it rests), higher (a jump), bigger (a grow) or turned (a
    spin, by its marker). Its action is the longest run of frames that differ from its rest.

    Each frame is judged in a window round where the object rests, on its own measures or, where
    the window is drawn as in an earlier frame up to the encoder's noise, on that frame's measures
    when no difference the noise can make would change the judgement (:func:`_flags`).
    """
    frames, width = scene.frames, scene.width
    rest = measure(_cut(frames, slice(0, EDGE), 0, scene.height, 0, width), obj["rgb"], obj["size"])
    if not rest.found.any():
        raise Unreadable(f"the {describe(obj)} is not drawn at the start")
    x, y = float(np.nanmedian(rest.x)), float(np.nanmedian(rest.y))
    reach = GROW * obj["size"] * 0.8 + 3  # grown or turned, with its soft edge
    # The window's top and left are even: its decoded chroma samples are whole.
    top, bottom = int(max(y - reach - JUMP * width, 0)) // 2 * 2, int(min(y + reach + 1, width))
    left, right = int(max(x - reach, 0)) // 2 * 2, int(min(x + reach + 1, width))
    flags = _flags(frames, (top, bottom, left, right), obj, y - top)
    changed = np.logical_or.reduce(list(flags.values()))
    runs = moving_runs(changed, min_gap=2)
    if not runs:
        raise Unreadable(f"the {describe(obj)} never acts")
    first, last = max(runs, key=lambda r: r[1] - r[0])
    span = slice(first, last + 1)
    action = max(("hidden", "jump", "grow", "spin"), key=lambda k: int(flags[k][span].sum()))
    if action == "hidden":
        # Drawn in another color where it rests, or not drawn at all?
        windows = frames[span, top:bottom, left:right]
        cx, cy = x - left, y - top
        ys, xs = np.indices(windows.shape[1:3])
        near = np.hypot(xs + 0.5 - cx, ys + 0.5 - cy) <= 0.5 * obj["size"]
        inked = [int((ink_pixels(window) & near).sum()) for window in windows]
        action = "recolor" if np.median(inked) >= 0.5 * near.sum() else "blink"
    return first, last + 1, action


def _flags(frames: FrameSource, window: tuple[int, int, int, int], obj: dict, rest_y: float) -> dict[str, np.ndarray]:
    """Per frame, whether the object is hidden, higher, bigger or turned, in its ``window`` (top,
    bottom, left, right) where it rests at height ``rest_y``.

    Most frames draw the window as an earlier one did, up to the encoder's noise (the object at
    rest, or held for a moment in a blink): such a frame takes that frame's measures
    (:func:`_stand_ins`), which differ from its own by less than the drift (``DRIFT_HEIGHT``,
    ``DRIFT_AREA``). Only the others are measured: the clip's ends, which show the rest, the frames
    where something changes, and the stand-ins of a frame whose decisions the drift could change.
    """
    n, width = len(frames), frames.shape[2]
    source = _stand_ins(_samples(_cut(frames, slice(None), *window)), np.r_[0:EDGE, n - EDGE : n])
    measured = np.unique(source)
    at = np.searchsorted(measured, source)  # per frame, where its measures are
    around = _cut(frames, measured, *window)
    track = measure(around, obj["rgb"], obj["size"])
    rest_pixels = float(np.nanmedian(track.area[at[:EDGE]]))  # of its color, at rest
    drawn = _drawn(around, track, obj, rest_pixels)
    rest = _rest(drawn, (at[:EDGE], at[n - EDGE :]), obj, rest_y)
    measures = _measures(drawn, rest)
    drift = {"height": DRIFT_HEIGHT, "area": DRIFT_AREA / rest.area, "turned": DRIFT_AREA / rest.area}
    low, high = (_decide(measures, width, {k: sign * v for k, v in drift.items()}) for sign in (-1, 1))
    unsure = np.logical_or.reduce([a != b for a, b in zip(low, high)])  # judged otherwise within the drift
    again = np.flatnonzero(unsure[at] & (source != np.arange(n)))  # stand-ins of those, measured after all
    if again.size:
        around = _cut(frames, again, *window)
        more = _measures(_drawn(around, measure(around, obj["rgb"], obj["size"]), obj, rest_pixels), rest)
        measures = {k: np.concatenate([v, more[k]]) for k, v in measures.items()}
        at[again] = len(measured) + np.arange(len(again))
    return dict(zip(("hidden", "jump", "grow", "spin"), _decide({k: v[at] for k, v in measures.items()}, width)))


class _Drawn(NamedTuple):
    """Per frame of a window: the pixels of the object's color, and its coverage where it is drawn."""

    track: PixelTrack
    area: np.ndarray  # the area it covers
    outline: list[np.ndarray | None]  # its outline (marker included) at one scale, None where it is not drawn


class _Rest(NamedTuple):
    """The object at rest in its window."""

    y: float  # its centroid's row
    area: float  # the area it covers
    looks: list[np.ndarray]  # its outline at one scale, at the start and at the end of the clip


def _drawn(around: FrameSource, track: PixelTrack, obj: dict, rest_pixels: float) -> _Drawn:
    """The object in the windows ``around``, where ``track`` measured its color. Its coverage only
    within its own reach (grown as much as its pixels say, of ``rest_pixels`` at rest): a neighbour
    close by is not part of it. Only a box round that reach is converted and looked at."""
    height, width = around.shape[1:3]
    grown = np.sqrt(np.clip(np.nan_to_num(track.area) / max(rest_pixels, 1.0), 1.0, GROW**2))
    own = shapes.MAX_RADIUS * obj["size"] * grown + 1.5
    area, outline = np.zeros(len(around)), [None] * len(around)
    drawn = np.flatnonzero(track.found)
    x, y, reach = (v[drawn, None, None] for v in (track.x, track.y, own))
    # One box size for all frames: each box holds the widest reach round its frame's centroid (within the window).
    half = int(np.ceil(own[drawn].max(initial=0.0))) + 1
    shape = min(2 * half, height), min(2 * half, width)
    top = np.clip(np.floor(y - half + 1).astype(int), 0, height - shape[0])
    left = np.clip(np.floor(x - half + 1).astype(int), 0, width - shape[1])
    ys, xs = np.indices(shape) + 0.5
    near = np.hypot(xs + left - x, ys + top - y) <= reach
    for f, alpha in zip(drawn, coverage(_boxes(around, drawn, top, left, shape), obj["rgb"]) * near):
        area[f], outline[f] = alpha.sum(), canonical(alpha)
    return _Drawn(track, area, outline)


def _boxes(frames: FrameSource, index: np.ndarray, top: np.ndarray, left: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """RGB of a box of ``shape`` in each of the frames ``index``, its corner at ``top``, ``left``
    (shaped (len(index), 1, 1))."""
    at, rows, cols = index[:, None, None], top + np.arange(shape[0])[:, None], left + np.arange(shape[1])
    if not isinstance(frames, RGBFrames):
        return frames[at, rows, cols]
    planes = frames.planes
    return yuv_to_rgb(planes.y[at, rows, cols], planes.u[at, rows // 2, cols // 2], planes.v[at, rows // 2, cols // 2])


def _rest(drawn: _Drawn, ends: tuple[np.ndarray, np.ndarray], obj: dict, y: float) -> _Rest:
    """The object at rest at height ``y``, from the frames of ``drawn`` at the clip's start and end (``ends``)."""
    # A long clip's second H.264 group of pictures (from frame 250) draws a still object a little
    # differently: each frame is compared with the nearer look.
    looks = []
    for at_rest in ends:
        outlines = [drawn.outline[f] for f in at_rest if drawn.outline[f] is not None]
        if not outlines:
            raise Unreadable(f"the {describe(obj)} is not drawn at rest at both ends of the clip")
        looks.append(np.mean(outlines, axis=0))
    return _Rest(y, float(np.median(drawn.area[ends[0]])), looks)


def _measures(drawn: _Drawn, rest: _Rest) -> dict[str, np.ndarray]:
    """Per frame of ``drawn``: whether the object is found, and how much higher (pixels), bigger
    (area, of the area at rest) and turned (summed change of its outline, of its area) than at rest."""
    turned = [0.0 if o is None else min(float(np.abs(o - look).sum() / look.sum()) for look in rest.looks) for o in drawn.outline]
    return {"found": drawn.track.found, "height": rest.y - drawn.track.y, "area": drawn.area / rest.area, "turned": np.array(turned)}


def _decide(measures: dict[str, np.ndarray], width: int, shift: dict[str, float] | None = None) -> tuple[np.ndarray, ...]:
    """Per frame: hidden, higher, bigger, turned (with each measure moved by its ``shift``)."""
    height, area, turned = (measures[k] + (shift[k] if shift else 0.0) for k in ("height", "area", "turned"))
    shown = measures["found"] & (area >= 0.5)  # a few pixels of a similar color at the edge of another are not the object
    return ~shown, shown & (height > max(1.0, 0.008 * width)), shown & (area > GROWN), shown & (turned > TURNED)


def _cut(frames: FrameSource, index: slice | np.ndarray, top: int, bottom: int, left: int, right: int) -> FrameSource:
    """Frames ``index`` cut to rows ``top:bottom`` and columns ``left:right`` (``top`` and ``left``
    even). Decoded planes stay planes: measured round the object, converted only where looked at."""
    if not isinstance(frames, RGBFrames):
        return frames[index, top:bottom, left:right]
    planes = frames.planes
    chroma = index, slice(top // 2, (bottom + 1) // 2), slice(left // 2, (right + 1) // 2)
    return RGBFrames(VideoPlanes(planes.y[index, top:bottom, left:right], planes.u[chroma], planes.v[chroma], planes.native_fps))


def _samples(frames: FrameSource) -> np.ndarray:
    """Per frame, what ``frames`` hold, in a row: decoded luma and chroma samples, or RGB pixels."""
    planes = (frames.planes.y, frames.planes.u, frames.planes.v) if isinstance(frames, RGBFrames) else (frames,)
    return np.concatenate([p.reshape(len(p), -1) for p in planes], axis=1)


def _stand_ins(samples: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per frame, the frame whose measures it takes: the last frame measured before it if every one
    of its ``samples`` (uint8, a row per frame) is within ``NOISE`` of that frame's, else itself.
    The frames ``ends`` (whose measures define the rest) take another's only if drawn exactly alike.

    Most frames of a still window repeat the previous one exactly or nearly: the changes from frame
    to frame, summed since the last measured frame, bound how far a frame can be from it. Only where
    that bound passes ``NOISE`` are the two compared sample by sample.
    """
    steps = _largest_change(samples[1:], samples[:-1]).tolist()
    strict = np.isin(np.arange(len(samples)), ends)
    source = np.arange(len(samples))
    anchor, apart = 0, 0  # the last frame measured, and a bound on how far the current frame is from it
    for f, step in enumerate(steps, 1):
        apart += step
        if apart > NOISE:
            apart = int(_largest_change(samples[f : f + 1], samples[anchor])[0])
        if apart > (0 if strict[f] else NOISE):
            anchor, apart = f, 0
        else:
            source[f] = anchor
    return source


def _largest_change(samples: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per row of ``samples`` (uint8), the largest difference of a sample from ``other``'s."""
    return (np.maximum(samples, other) - np.minimum(samples, other)).max(axis=1)


def _schedule(rng, count, num_frames, params):
    """(start, end) frames of ``count`` actions in a row: the object is changed from start to end - 1."""
    lengths = rng.integers(params.action_frames[0], params.action_frames[1] + 1, size=count)
    spare = num_frames - 1 - 2 * EDGE - int(lengths.sum()) - (count - 1) * params.min_gap
    if spare < 0:
        raise ValueError(f"{count} actions do not fit in {num_frames} frames")
    waits = np.diff(np.sort(rng.integers(0, spare + 1, size=count)), prepend=0)
    spans, start = [], EDGE - params.min_gap
    for wait, length in zip(waits, lengths):
        start += params.min_gap + int(wait)
        spans.append((start, start + int(length)))
        start += int(length)
    return spans


def _act(track, obj, action, start, end, other_color):
    """``track`` with ``action`` done from ``start`` on; from ``end`` on the object looks as before."""
    progress = np.arange(1, end - start + 1) / (end - start + 1)  # in (0, 1) over the changed frames
    bump = np.sin(math.pi * progress)
    if action == "blink":
        track.visible[start:end] = False
    elif action == "jump":
        track.y[start:end] -= JUMP * bump
    elif action == "spin":
        track.angle[start:end] = 360.0 * progress
        track.angle[end:] = 360.0  # clockwise on screen, one full turn
    elif action == "recolor":
        track.style_changes = [StyleChange(start, color=other_color), StyleChange(end, color=obj.color)]
    else:
        track.style_changes = [StyleChange(f, size=obj.size * (1 + (GROW - 1) * b)) for f, b in zip(range(start, end), bump)]
        track.style_changes.append(StyleChange(end, size=obj.size))
    return track
