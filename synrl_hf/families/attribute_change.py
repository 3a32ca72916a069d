"""attribute_change: which attribute of an object (color, size, shape) changes, to what, and in what order.

A single, slowly drifting object changes for "which", "order" and "when": its first and last frames
each show one state drawn uniformly (every change picks uniformly among the other values it may take),
so only comparing states over time answers. "to_color" shows four objects of one shape that all change
color at the same moment to four new colors, which are the four options: the last frame shows every
option, and only following the asked object through the change tells which one is its own.

Shapes are drawn at equal area (:mod:`synrl_hf.shapes`), so a shape change keeps the drawn area and a
size change is never mistaken for one; a shape only changes into one whose outline differs visibly
(the two, centered at equal area, overlap by at most ``MAX_SHAPE_OVERLAP``: never circle to hexagon).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import motion, shapes
from ..narration import Context, Writer, narrate_events
from ..palette import COLORS, SHAPES
from ..perception import COLOR_AREA_TOLERANCE, MIN_SIZE_AREA_RATIO, SHAPE_AREA_TOLERANCE, px, seconds
from ..pixels import PixelScene, Unreadable, canonical, coverage, ink_bounds, ink_pixels, measure, ordinals_in, palette_name, stem
from ..questions import interval, multiple_choice, ordinal, pick, sequence
from ..timeline import Event, SceneObject, StyleChange, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

ATTRIBUTES = ("color", "size", "shape")
NOTHING = "nothing changes"
RECOLORED = 4  # objects in "to_color": four old and four new colors use up the eight palette colors
MAX_SHAPE_OVERLAP = 0.85  # intersection over union of two equal-area outlines a shape may change between
WINDOW = 4  # frames on each side of a frame that the pixel reader compares (changes are further apart)
# The least a shape change moves the outline at one scale (summed coverage difference, of the area):
# two equal-area outlines overlapping by IoU differ by 2 (1 - IoU) / (1 + IoU) of the area. The reader
# takes two thirds of it; drift and the codec move a 9 px object's outline by less than half of it.
SHAPE_STEP = 2 / 3 * 2 * (1 - MAX_SHAPE_OVERLAP) / (1 + MAX_SHAPE_OVERLAP)
EVENT_PHRASES = {
    "change": ("At {t} {change}.", "{t}: {change}.", "Then at {t} {change}."),
}


@dataclass(frozen=True)
class AttributeChangeParams(Params):
    changes: tuple[int, int] = (2, 3)  # changes of the object in "order" and "when" questions
    sizes: tuple[float, ...] = (0.07, 0.1, 0.14, 0.2)  # size levels, each ~1.4x the one before
    drift: float = 0.15  # longest distance (canvas units) the object moves over the whole clip
    min_gap: int = 12  # frames between two changes (and from the clip's ends)


PERCEPTUAL_CONTRACT = {
    "which, order, when": (
        f"a shape change keeps the drawn area within {SHAPE_AREA_TOLERANCE:.0%} (shapes have equal area) and changes the outline "
        f"visibly: the two outlines, centered, overlap by at most {MAX_SHAPE_OVERLAP:.0%} (intersection over union)",
        f"a size change alters the drawn area by at least {MIN_SIZE_AREA_RATIO}x, either way (sizes are 1.4x apart: 2x in area)",
        f"a color change keeps the drawn area within {COLOR_AREA_TOLERANCE:.0%} and goes to another palette color",
        f"changes are instant, one attribute at a time, at least `min_gap` frames apart and from the clip's ends "
        f"({seconds(AttributeChangeParams.min_gap)} in round1, 9 frames in round2); the smallest object is "
        f"{px(AttributeChangeParams.sizes[0])} across",
    ),
    "to_color": (
        "the four objects share one shape and change color in the same frame, each to a color none of them had; "
        "they drift slowly, so each one's place before and after the change is the same to within a pixel or two",
    ),
}


class AttributeChange(Family):
    name = "attribute_change"
    category = "short_term"
    Params = AttributeChangeParams
    round2 = {"duration": (8.0, 12.0), "changes": (3, 5), "drift": 0.3, "min_gap": 9}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "changes": (4, 6), "drift": 0.4, "min_gap": 8},
        {"duration": (12.0, 16.0), "changes": (5, 7), "drift": 0.5, "min_gap": 7},
        {"duration": (14.0, 18.0), "changes": (6, 8), "drift": 0.6, "min_gap": 6},
    )

    KINDS = ("which", "to_color", "order", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "which":
            answer = pick(rng, ATTRIBUTES + (NOTHING,))
            return {"kind": kind, "changes": [] if answer == NOTHING else [answer]}
        if kind == "to_color":
            return {"kind": kind, "to_color": pick(rng, list(COLORS))}
        # Uniform over sequences with no attribute changing twice in a row.
        changes = [pick(rng, ATTRIBUTES)]
        for _ in range(int(rng.integers(params.changes[0], params.changes[1] + 1)) - 1):
            changes.append(pick(rng, [a for a in ATTRIBUTES if a != changes[-1]]))
        if kind == "when":
            return {"kind": kind, "changes": changes, "span": sorted(int(i) for i in rng.choice(len(changes), 2, replace=False))}
        return {"kind": kind, "changes": changes}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        if plan["kind"] == "to_color":
            return _recolor_scene(rng, params, plan["to_color"], num_frames)
        frames = motion.split_points(rng, num_frames, len(plan["changes"]), params.min_gap, params.min_gap)
        choices = {"color": list(COLORS), "shape": SHAPES, "size": params.sizes}
        state = {attribute: pick(rng, values) for attribute, values in choices.items()}
        obj = SceneObject("obj0", state["shape"], state["color"], state["size"])
        changes, events, reach = [], [], shapes.radius(state["shape"], state["size"])
        for frame, attribute in zip(frames, plan["changes"]):
            old = state[attribute]
            others = SHAPE_CHANGES[old] if attribute == "shape" else [v for v in choices[attribute] if v != old]
            state[attribute] = pick(rng, others)
            changes.append(StyleChange(frame, **{attribute: state[attribute]}))
            events.append(Event(frame, "change", [obj.id], f"{attribute}: {old} -> {state[attribute]}"))
            reach = max(reach, shapes.radius(state["shape"], state["size"]))
        x, y = motion.place_path(rng, *_drift(rng, params.drift, num_frames), reach)
        track = Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool), style_changes=changes)
        return Timeline(FPS, num_frames, [obj], {obj.id: track}, events)

    def ask(self, rng, timeline, plan):
        kind = plan["kind"]
        obj = timeline.objects[0]
        if kind == "to_color":
            final = {o.id: timeline.tracks[o.id].style_at(o, timeline.num_frames - 1)[1] for o in timeline.objects}
            text = pick(
                rng,
                (
                    f"All objects change color at the same moment. What color does the {motion.describe(obj)} turn into?",
                    f"Which color does the {obj.shape} that starts out {obj.color} have after the color change?",
                ),
            )
            others = [c for oid, c in final.items() if oid != obj.id]
            return multiple_choice(rng, text, final[obj.id], others, primitive="attribute", kind=kind)
        track = timeline.tracks[obj.id]
        changed = [next(a for a in ATTRIBUTES if getattr(c, a) is not None) for c in track.style_changes]
        if kind == "which":
            text = pick(
                rng,
                (
                    "Which attribute of the object changes during the video?",
                    "Watch the object closely. What about it changes: its color, its size, its shape, or nothing?",
                ),
            )
            answer = changed[0] if changed else NOTHING
            return multiple_choice(rng, text, answer, ATTRIBUTES + (NOTHING,), primitive="attribute", kind=kind)
        if kind == "order":
            text = pick(
                rng,
                (
                    "The object changes several times. In what order do its attributes change? Name each change as color, size or shape.",
                    "List the object's changes in the order they happen, each as color, size or shape.",
                ),
            )
            return sequence(text, changed, primitive="attribute", kind=kind)
        first, last = plan["span"]
        start, end = track.style_changes[first].frame, track.style_changes[last].frame
        text = pick(
            rng,
            (
                f"When does the object go from its {ordinal(first + 1)} change to its {ordinal(last + 1)} change?",
                f"Give the time span from the object's {ordinal(first + 1)} change ({changed[first]}) "
                f"to its {ordinal(last + 1)} change ({changed[last]}).",
            ),
        )
        return interval(text, timeline.time(start), timeline.time(end))

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "I watch the object's color, size and shape over the whole clip and note every change.",
        "I compare how the object looks from one moment to the next and write down each change.",
    )
    focus = {
        "which": ("So what changes is: {answer_text}.", "The changing attribute: {answer_text}."),
        "to_color": ("So the {target} turns {answer_text}.", "After the change the {target} is {answer_text}."),
        "order": ("So the changes come in this order: {answer}.",),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        sizes = list(AttributeChangeParams().sizes)
        words = ("small", "medium-sized", "large", "very large")

        def size_word(value: str) -> str:
            v = float(value)
            return words[min(range(len(sizes)), key=lambda i: abs(sizes[i] - v))]

        def change(event) -> dict[str, str]:
            attribute, rest = event.detail.split(": ", 1)
            if ctx.kind == "to_color":
                pairs = [p.split(" -> ") for p in rest.split(", ")]
                listed = ", ".join(f"the {ctx.names[o.id]} becomes {new}" for o, (old, new) in zip(ctx.objects, pairs))
                return {"change": f"all the objects change color at once: {listed}"}
            old, new = rest.split(" -> ")
            if attribute == "size":
                grows = float(new) > float(old)
                return {"change": f"its size changes: it {'grows' if grows else 'shrinks'} from {size_word(old)} to {size_word(new)}"}
            return {"change": f"its {attribute} changes from {old} to {new}"}

        obj = ctx.objects[0]
        if ctx.kind != "to_color":
            w.say(("At the start it is a {look}.", "It starts out as a {look}."), look=f"{size_word(obj.size)} {obj.color} {obj.shape}")
        if not ctx.tl.events:
            w.say(("From 0.00 s to the end ({end}) nothing about it changes: same color, same size, same shape.",), **ctx.fields())
        narrate_events(ctx, w, ctx.tl.events, EVENT_PHRASES, change)

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        kind = row["question_type"]
        if kind == "to_color":
            # Named by color and shape, or as "the <shape> that starts out <color>".
            (obj,) = [o for o in row["objects"] if re.search(rf"\b{o['color']}\b", stem(row))]
            return _recolored_to(scene, obj)
        changes = _changes_in_pixels(scene.frames)
        if kind == "which":
            if len(changes) > 1:
                raise Unreadable(f"read {len(changes)} changes, the question allows one")
            return changes[0][1] if changes else NOTHING
        if kind == "order":
            return ", ".join(attribute for _, attribute in changes)
        first, last = ordinals_in(stem(row))[:2]
        if last > len(changes):
            raise Unreadable(f"asked about change {last}, {len(changes)} seen")
        return scene.interval(changes[first - 1][0], changes[last - 1][0])


def _changes_in_pixels(frames: np.ndarray) -> list[tuple[int, str]]:
    """(frame, attribute) of every change of the one object a clip shows, read off the pixels.

    Per frame: the object's color (the palette color nearest to its strongly drawn pixels), its
    coverage of that color, the area that covers and its outline at one scale (:func:`canonical`).
    A change is a frame where the color label switches, or where the area (a size change) or the
    outline (a shape change) before and after it differ by more than the drift and the codec make
    them differ; changes are further apart than ``WINDOW`` frames, so windows on either side of one
    hold one state each.
    """
    steps = _steps(*_appearance(frames))
    changes: list[tuple[int, str]] = []
    for attribute in ("color", "size", "shape"):  # a size change blurs a small outline: shape steps near it are not shape changes
        for f in _peaks(steps[attribute]):
            if all(abs(f - g) > WINDOW for g, _ in changes):
                changes.append((f, attribute))
    return sorted(changes)


def _steps(labels: list[str], area: np.ndarray, outline: list[np.ndarray]) -> dict[str, list[tuple[int, float]]]:
    """Per attribute, each frame f where the ``WINDOW`` frames before it and the ``WINDOW`` from it
    differ in that attribute, with how much: the color label switches between two steady runs, the
    median area grows or shrinks by more than half a size step, or the mean outline moves by more
    than ``SHAPE_STEP``. Statistics are taken over every window of frames at once: window f - WINDOW
    ends just before f, window f starts at f."""
    frames = np.arange(WINDOW, len(labels) - WINDOW + 1)
    codes = np.unique(labels, return_inverse=True)[1]
    runs = sliding_window_view(codes, WINDOW)
    steady = (runs == runs[:, :1]).all(axis=1)
    switched = steady[:-WINDOW] & steady[WINDOW:] & (codes[frames - 1] != codes[frames])
    medians = np.median(sliding_window_view(np.log(area), WINDOW), axis=1)
    grown = np.abs(medians[WINDOW:] - medians[:-WINDOW])
    means = sliding_window_view(np.stack(outline), WINDOW, axis=0).mean(axis=-1)
    before, after = means[:-WINDOW], means[WINDOW:]
    differs = np.abs(before - after).sum(axis=(1, 2)) / ((before + after).sum(axis=(1, 2)) / 2)
    found = {
        "color": (switched, np.ones(len(frames))),
        "size": (grown > math.log(MIN_SIZE_AREA_RATIO) / 2, grown),
        "shape": (differs > SHAPE_STEP, differs),
    }
    return {attribute: [(int(f), float(x)) for f, x in zip(frames[hit], strength[hit])] for attribute, (hit, strength) in found.items()}


def _appearance(frames: np.ndarray) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """Per frame: the object's palette color (the one nearest to its drawn pixels), its coverage of
    that color over the box of what is drawn (with two pixels of soft edge round it), the area that
    covers and its outline at one scale (:func:`canonical`).

    Each frame is measured on a crop that holds all its ink (:func:`ink_bounds`) and the two pixels
    round it, the only part converted to RGB: everything measured lies inside, so the crop gives
    what the whole frame gives.
    """
    labels, area, outline = [], np.zeros(len(frames)), []
    for f, bounds in enumerate(ink_bounds(frames)):
        if bounds is None:
            raise Unreadable(f"no object is drawn in frame {f}")
        top, bottom, left, right = bounds
        crop = frames[f, max(top - 2, 0) : bottom + 3, max(left - 2, 0) : right + 3]
        drawn = ink_pixels(crop)
        rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
        if rows.size < 2 or cols.size < 2:
            raise Unreadable(f"no object is drawn in frame {f}")
        box = (slice(max(rows[0] - 2, 0), rows[-1] + 3), slice(max(cols[0] - 2, 0), cols[-1] + 3))  # the object, with its soft edge
        # The pixels of crop[box][drawn[box]] (box holds all ink), gathered several times faster.
        inked = np.take(crop.reshape(-1, 3), np.flatnonzero(drawn), axis=0)
        labels.append(palette_name(np.median(inked, axis=0)))
        alpha = coverage(crop[box], COLORS[labels[-1]], tolerance=None)  # the one object: its blurred edges count too
        area[f] = alpha.sum()
        outline.append(canonical(alpha))
    return labels, area, outline


def _peaks(steps: list[tuple[int, float]]) -> list[int]:
    """The strongest frame of each run of nearby frames: around a change the windows straddle it for a few frames."""
    peaks: list[tuple[int, float]] = []
    for f, strength in steps:
        if peaks and f - peaks[-1][0] <= WINDOW:
            if strength > peaks[-1][1]:
                peaks[-1] = (f, strength)
            continue
        peaks.append((f, strength))
    return [f for f, _ in peaks]


def _recolored_to(scene: PixelScene, obj: dict) -> str:
    """The color the asked object of a "to_color" clip ends in, followed from where its own color is
    first drawn: frame by frame, the drawn pixels near where it was (objects drift slowly, far apart)."""
    frames = scene.frames
    start = measure(frames[:WINDOW], obj["rgb"], obj["size"])
    if not start.found.any():
        raise Unreadable(f"the {obj['color']} {obj['shape']} is not drawn at the start")
    x, y = float(np.nanmedian(start.x)), float(np.nanmedian(start.y))
    reach = int(0.8 * obj["size"] + 3)
    label = obj["color"]
    for f in range(len(frames)):
        x0, y0 = max(int(x) - reach, 0), max(int(y) - reach, 0)
        window = frames[f, y0 : int(y) + reach + 1, x0 : int(x) + reach + 1]
        drawn = ink_pixels(window)
        if drawn.sum() < 4:
            raise Unreadable(f"lost the {obj['color']} {obj['shape']} in frame {f}")
        ys, xs = np.nonzero(drawn)
        x, y = x0 + xs.mean() + 0.5, y0 + ys.mean() + 0.5
        label = palette_name(np.median(window[drawn], axis=0))
    if label == obj["color"]:
        raise Unreadable(f"the {obj['color']} {obj['shape']} never changes color")
    return label


def _overlap(a: str, b: str, resolution: int = 400) -> float:
    """Intersection over union of two shapes' outlines at equal area, centered on each other."""
    from PIL import Image, ImageDraw

    masks = []
    for shape in (a, b):
        image = Image.new("1", (resolution, resolution), 0)
        points = shapes.outline(shape, resolution / 2) + resolution / 2
        ImageDraw.Draw(image).polygon([tuple(p) for p in points], fill=1)
        masks.append(np.asarray(image))
    return float((masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum())


# The shapes each shape may change into: those whose outline differs visibly from it.
SHAPE_CHANGES = {a: [b for b in SHAPES if b != a and _overlap(a, b) <= MAX_SHAPE_OVERLAP] for a in SHAPES}


def _drift(rng, longest, num_frames):
    """A slow straight drift of random length and heading, relative to the start."""
    heading, length = rng.uniform(0, 2 * math.pi), rng.uniform(0, longest)
    s = np.linspace(0, 1, num_frames)
    return length * math.cos(heading) * s, length * math.sin(heading) * s


def _recolor_scene(rng, params, to_color, num_frames):
    """Four same-shaped objects, one per quadrant, that all change to new colors at one frame."""
    new_colors = [to_color] + [str(c) for c in rng.permutation([c for c in COLORS if c != to_color])]
    old_colors = new_colors[RECOLORED : 2 * RECOLORED]
    shape = pick(rng, SHAPES)
    frame = int(rng.integers(params.min_gap, num_frames - params.min_gap))
    objects, tracks = [], {}
    for i, (cell, old, new) in enumerate(zip(motion.grid_cells(rng, RECOLORED), old_colors, new_colors)):
        obj = SceneObject(f"obj{i}", shape, old, float(rng.uniform(0.08, 0.13)), z=i)
        x, y = motion.place_in_box(rng, *_drift(rng, params.drift / 3, num_frames), cell, obj)
        recolor = [StyleChange(frame, color=new)]
        tracks[obj.id] = Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool), style_changes=recolor)
        objects.append(obj)
    detail = ", ".join(f"{o.color} -> {n}" for o, n in zip(objects, new_colors))
    return Timeline(FPS, num_frames, objects, tracks, [Event(frame, "change", [o.id for o in objects], f"color: {detail}")])
