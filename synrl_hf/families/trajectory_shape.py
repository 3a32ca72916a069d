"""trajectory_shape: the shape of the path an object traces (line, circle, zigzag, spiral, figure eight).

No trail is drawn, so a frame shows one position only: the shape exists only across frames. Paths
are randomly rotated, mirrored, scaled and placed, and traced at a constant speed. No loop of a
curved path (a circle, a spiral's innermost turn, a lobe of a figure eight) has a radius under
``MIN_TURN_RADIUS`` object sizes, so the inner turns of a spiral stay open loops around a hole,
never a blob; the path's corners (a zigzag's) are its shape, which the question asks about. Several
objects trace their paths anywhere in the frame, never touching.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, Writer, narrate_events
from ..perception import MIN_TURN_RADIUS, px
from ..pixels import PixelScene, Unreadable, asked_objects, moving_runs, stem, wrapped
from ..questions import interval, multiple_choice, pick, yes_no
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

SHAPE_NAMES = {
    "linear": "a straight line",
    "circular": "a circle",
    "zigzag": "a zigzag",
    "spiral": "a spiral",
    "figure_eight": "a figure eight",
}
PATH_SHAPES = tuple(SHAPE_NAMES)
MIN_TRACE = 30  # frames: the shortest time a shape is traced in, so it can be followed
SPIRAL_TURNS = 2  # a spiral winds twice: well above the 1.5 turns the pixel reader takes for one
SPIRAL_INNER = 0.4  # the innermost radius, of the outermost: loops plainly widen, and never close in on a point
# The radius of the smallest loop each curved path turns in, for a path one unit across (_unit_path).
LOOP_RADIUS = {"circular": 0.5, "spiral": 0.5 * SPIRAL_INNER, "figure_eight": 0.25}
EVENT_PHRASES = {
    "start": (
        "At {t} the {obj} starts moving; {shape_motion}.",
        "From {t} the {obj} is on the move: {shape_motion}.",
    ),
    "stop": ("At {t} it pauses.", "It stops at {t}."),
}
SHAPE_MOTION = {
    "linear": ("it keeps going in one straight direction", "its positions line up along a single straight line"),
    "circular": ("it curves round at a steady rate and comes back to where it started", "it traces a closed round loop"),
    "zigzag": (
        "it goes back and forth at sharp corners while advancing",
        "it moves in straight strokes that alternate direction at sharp corners",
    ),
    "spiral": (
        "it circles round while its distance from the centre keeps changing",
        "it winds round and round, each loop wider (or narrower) than the last",
    ),
    "figure_eight": ("it loops one way, crosses its own path, and loops the other way", "it draws two loops joined at a crossing point"),
}


@dataclass(frozen=True)
class TrajectoryParams(Params):
    size: tuple[float, float] = (0.06, 0.09)
    # Of the free region one shape spans: small enough that where the object is in one frame says
    # little about the shape (the ends of a line are its extremes, the start of a spiral its middle).
    extent: tuple[float, float] = (0.3, 0.6)
    trace_time: tuple[float, float] = (2.0, 4.0)  # seconds per shape (all shortened alike if the clip is short)
    max_speed: float = 0.5  # canvas units per second along the path: a path that would be faster is drawn smaller
    segments: int = 2  # different shapes traced one after another, for the when question
    distractors: int = 0  # other objects tracing their own paths


PERCEPTUAL_CONTRACT = {
    "shape, check, when": (
        f"every loop of a curved path (a circle, a spiral's innermost turn, a lobe of a figure eight) has a radius of at least "
        f"{MIN_TURN_RADIUS:g} object size (at least {px(TrajectoryParams.size[0])}), so a spiral's middle is never covered and "
        "its loops read as loops",
        f"a spiral winds {SPIRAL_TURNS} times from {SPIRAL_INNER:g} of its outer radius outwards (or inwards); a circle closes once; "
        "a line is straight; a zigzag's corners are the shape itself",
        f"each path lasts at least {MIN_TRACE} frames; in a chain, the paths are separated by still pauses",
    ),
}


class TrajectoryShape(Family):
    name = "trajectory_shape"
    category = "short_term"
    Params = TrajectoryParams
    round2 = {"duration": (8.0, 12.0), "segments": 3, "distractors": 1}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "segments": 3, "distractors": 2},
        {"duration": (12.0, 16.0), "segments": 4, "distractors": 2},
        {"duration": (14.0, 18.0), "segments": 4, "distractors": 2},
    )

    KINDS = ("shape", "check", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "when":
            # Different shapes with pauses between them; one of them is asked about.
            chosen = rng.choice(len(PATH_SHAPES), size=params.segments, replace=False)
            return {"kind": kind, "shapes": [PATH_SHAPES[i] for i in chosen], "asked": int(rng.integers(params.segments))}
        shape = pick(rng, PATH_SHAPES)
        if kind == "check":
            holds = bool(rng.integers(2))
            return {"kind": kind, "shapes": [shape], "asked": shape if holds else pick(rng, [s for s in PATH_SHAPES if s != shape])}
        return {"kind": kind, "shapes": [shape]}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 1 + params.distractors, params.size)
        tracks, events = {}, []
        for i, obj in enumerate(objects):
            for attempt in range(200):
                # A distractor's shape is free: one that finds no room beside the others is drawn again.
                if attempt % 20 == 0:
                    shapes = plan["shapes"] if i == 0 else [pick(rng, PATH_SHAPES)]
                    # The time per shape is drawn apart from its length, so a short path is no quicker to trace.
                    spans = _schedule(rng, len(shapes), num_frames, params.trace_time)
                traced = _trace(rng, obj, shapes, spans, num_frames, params)
                if traced is None:
                    continue
                tracks[obj.id] = Track(x=traced[0], y=traced[1], angle=np.zeros(num_frames), visible=np.ones(num_frames, bool))
                if motion.separated(objects[: i + 1], tracks):
                    break
            else:
                raise RuntimeError(f"could not trace {shapes} in frame, apart from the other objects")
            for shape, (start, stop) in zip(shapes, spans):
                events += [Event(start, "start", [obj.id], shape), Event(stop, "stop", [obj.id])]
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        target = timeline.objects[0]
        name = motion.describe(target)
        own = [e for e in timeline.events if e.objects == [target.id]]
        starts = [i for i, e in enumerate(own) if e.type == "start"]
        kind = plan["kind"]
        if kind == "when":
            start = own[starts[plan["asked"]]]
            stop = own[starts[plan["asked"]] + 1]
            path = SHAPE_NAMES[start.detail]
            text = pick(
                rng,
                (
                    f"When does the {name} move along {path}?",
                    f"The {name} traces {len(starts)} different paths, pausing in between. During which time span does it trace {path}?",
                ),
            )
            return interval(text, timeline.time(start.frame), timeline.time(stop.frame))
        shape = own[starts[0]].detail
        if kind == "check":
            asked = SHAPE_NAMES[plan["asked"]]
            text = pick(
                rng,
                (
                    f"Does the {name} move along {asked}?",
                    f"Is the path traced by the {name} {asked}?",
                ),
            )
            return yes_no(text, plan["asked"] == shape, primitive="trajectory", kind=kind)
        text = pick(
            rng,
            (
                f"What shape is the path of the {name}?",
                f"Follow the {name} over time. Which shape does its path trace?",
            ),
        )
        answer = SHAPE_NAMES[shape]
        return multiple_choice(rng, text, answer, list(SHAPE_NAMES.values()), primitive="trajectory", kind=kind)

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "No trail is drawn, so I follow the {target} frame by frame and piece together the path it traces.",
        "I track the position of the {target} across the frames to see what shape its path makes.",
    )
    focus = {
        "shape": ("Put together, the path is {answer_text}.", "So the shape it traces is {answer_text}."),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        def extra(event):
            motions = SHAPE_MOTION.get(event.detail, ("it moves",))
            return {"shape_motion": motions[int(ctx.seed + event.frame) % len(motions)]}

        narrate_events(ctx, w, ctx.own(), EVENT_PHRASES, extra)
        if ctx.kind == "check":
            actual = SHAPE_NAMES[ctx.own("start")[0].detail]
            w.say(("The question asks about {asked}; the path is {actual}.",), asked=SHAPE_NAMES[ctx.plan["asked"]], actual=actual)
        if ctx.kind == "when":
            w.say(("So the paths in order are: {shapes}.",), shapes=", then ".join(SHAPE_NAMES[e.detail] for e in ctx.own("start")))

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (obj, *_) = asked_objects(row)
        p = scene.position(obj)
        kind = row["question_type"]
        # How many shapes the clip chains is a build parameter ("segments"), not something that happens.
        count = int(json.loads(row["difficulty"]).get("segments", 2)) if kind == "when" else 1
        shapes = [(classify_path(p[a : b + 1])[0], a, b) for a, b in motion_segments(p, count)]
        if not shapes:
            raise Unreadable("the object never moves")
        if kind == "when":
            asked = next(name for name, words in SHAPE_NAMES.items() if words in stem(row))
            matches = [(a, b) for shape, a, b in shapes if shape == asked]
            if len(matches) != 1:
                raise Unreadable(f"paths read as {[s for s, _, _ in shapes]}; asked about {asked}")
            return scene.interval(*matches[0])
        if len(shapes) != 1:
            raise Unreadable(f"expected one path, read {[s for s, _, _ in shapes]}")
        shape = shapes[0][0]
        if kind == "check":
            asked = next(name for name, words in SHAPE_NAMES.items() if re.search(rf"{words}\?", stem(row)))
            return "yes" if asked == shape else "no"
        return SHAPE_NAMES[shape]


def _arc(points):
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])


def _schedule(rng, count, num_frames, trace_time):
    """(start, stop) frames of each shape: drawn trace times, pauses between, rest around.

    When the clip is too short for those times, everything is compressed to fit.
    """
    moving = [rng.uniform(*trace_time) * FPS for _ in range(count)]
    pauses = [rng.uniform(0.3, 0.6) * FPS for _ in range(count - 1)]
    room = num_frames - 1 - 2 * motion.MIN_EVENT_GAP
    squeeze = min(1.0, room / (sum(moving) + sum(pauses)))
    moving = [max(int(m * squeeze), MIN_TRACE) for m in moving]
    pauses = [max(int(p * squeeze), motion.MIN_EVENT_GAP) for p in pauses]
    # The floors above may overshoot the room a little: the longest shape gives it back.
    longest = int(np.argmax(moving))
    moving[longest] -= max(0, sum(moving) + sum(pauses) - room)
    frame = motion.MIN_EVENT_GAP + int(rng.integers(room - sum(moving) - sum(pauses) + 1))
    spans = []
    for m, p in zip(moving, pauses + [0]):
        spans.append((frame, frame + m))
        frame += m + p
    return spans


def _trace(rng, obj, shapes, spans, num_frames, params):
    """(x, y) per frame of ``shapes`` chained end to start and traced in ``spans``, placed at random
    in the frame; None if this draw of their geometry cannot keep its bends open and fit."""
    paths, end = [], np.zeros(2)
    for shape in shapes:
        points = _unit_path(rng, shape)
        paths.append(points - points[0] + end)
        end = paths[-1][-1]
    lo_x, lo_y, hi_x, hi_y = motion.center_bounds((0.0, 0.0, 1.0, 1.0), obj)
    span = np.ptp(np.vstack(paths), axis=0).clip(1e-9)
    fit = min((hi_x - lo_x) / span[0], (hi_y - lo_y) / span[1])
    # A chain of shapes spans more of the frame, so that each shape stays large enough to follow.
    scale = min(rng.uniform(*params.extent) * np.sqrt(len(shapes)), 0.9) * fit
    # Never faster than max_speed: a long path in a short time is drawn smaller instead ...
    speed_caps = [params.max_speed * (stop - start) / FPS / _arc(p)[-1] for p, (start, stop) in zip(paths, spans)]
    # ... unless that would shrink a loop below the turn radius a viewer can follow.
    loops = [LOOP_RADIUS[shape] for shape in shapes if shape in LOOP_RADIUS]
    scale = max(min(scale, *speed_caps), MIN_TURN_RADIUS * obj.size / min(loops) if loops else 0.0)
    if scale > fit:
        return None
    return motion.place_in_box(rng, *_traced([p * scale for p in paths], spans, num_frames), (0.0, 0.0, 1.0, 1.0), obj)


def _traced(paths, spans, num_frames):
    """Per-frame position: still, shape, still, next shape, still."""
    x, y = np.zeros(num_frames), np.zeros(num_frames)
    for points, (start, stop) in zip(paths, spans):
        # Resample by arc length, so each shape is traced at a constant speed.
        arc = _arc(points)
        along = np.linspace(0.0, arc[-1], stop - start + 1)
        x[start : stop + 1], y[start : stop + 1] = np.interp(along, arc, points[:, 0]), np.interp(along, arc, points[:, 1])
        x[stop + 1 :], y[stop + 1 :] = x[stop], y[stop]
    return x, y


def _unit_path(rng, shape):
    """Dense outline of ``shape`` about one unit across, randomly mirrored and rotated."""
    if shape == "linear":
        points = np.array([[0.0, 0.0], [1.0, 0.0]])
    elif shape == "zigzag":
        teeth = int(rng.integers(4, 7))
        points = np.stack([np.linspace(0, 1, teeth + 1), rng.uniform(0.25, 0.4) * (np.arange(teeth + 1) % 2)], axis=1)
    elif shape == "circular":
        t = np.linspace(0, 2 * math.pi, 241)
        points = 0.5 * np.stack([np.cos(t), np.sin(t)], axis=1)
    elif shape == "spiral":
        t = np.linspace(0, SPIRAL_TURNS * 2 * math.pi, 481)
        radius = 0.5 * (SPIRAL_INNER + (1 - SPIRAL_INNER) * t / t[-1])
        points = (radius * np.stack([np.cos(t), np.sin(t)]))[:, :: 1 if rng.integers(2) else -1].T  # outward or inward
    else:  # figure_eight: a 1:2 Lissajous curve, entered anywhere along the loop
        t = rng.uniform(0, 2 * math.pi) + np.linspace(0, 2 * math.pi, 241)
        points = 0.5 * np.stack([np.sin(t), rng.uniform(0.6, 0.9) * np.sin(2 * t)], axis=1)
    if rng.integers(2):
        points = points * [1.0, -1.0]
    angle = rng.uniform(0, 2 * math.pi)
    return points @ np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])


def classify_path(points: np.ndarray) -> tuple[str, dict[str, float]]:
    """The shape of a traced path: its turning, closure and straightness, resampled by arc length."""
    # Positions are whole pixels: a slow path is a staircase. Average over enough frames to move ~3 px.
    raw_steps = np.hypot(*np.diff(points, axis=0).T)
    width = int(np.clip(2 * round(1.5 / max(float(np.mean(raw_steps)), 1e-3)) + 1, 1, 9))
    if width > 1 and len(points) > width:
        kernel = np.ones(width) / width
        points = np.stack([np.convolve(np.pad(points[:, i], width // 2, mode="edge"), kernel, mode="valid") for i in range(2)], axis=1)
    steps = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    length = arc[-1]
    if length < 3:
        raise Unreadable("the path is too short to read")
    spacing = max(length / 150, 0.75)
    along = np.arange(0, length, spacing)
    resampled = np.stack([np.interp(along, arc, points[:, 0]), np.interp(along, arc, points[:, 1])], axis=1)
    heading = np.arctan2(*np.diff(resampled, axis=0)[:, ::-1].T)
    turning = wrapped(np.degrees(np.diff(heading)))
    total, absolute = float(turning.sum()), float(np.abs(turning).sum())
    extent = float(np.hypot(*np.ptp(points, axis=0)))
    closure = float(np.hypot(*(points[-1] - points[0]))) / max(extent, 1e-9)
    straight = float(np.hypot(*(points[-1] - points[0]))) / length
    stats = {
        "turning": round(total, 1),
        "abs_turning": round(absolute, 1),
        "closure": round(closure, 3),
        "straightness": round(straight, 3),
    }
    if abs(total) > 540:
        return "spiral", stats
    if abs(total) > 200:
        return "circular", stats
    if closure < 0.25:
        return "figure_eight", stats
    if straight > 0.93:
        return "linear", stats
    return "zigzag", stats


STILL_PX = 0.35  # centered two-step displacement (pixels) below which a frame counts as still


def motion_segments(p: np.ndarray, count: int) -> list[tuple[int, int]]:
    """(start, stop) frames of ``count`` stretches of motion, split at the ``count - 1`` longest pauses.

    Frame f is still when the object is where it was a frame before and will be a frame later: the
    centered displacement |p(f+1) - p(f-1)| stays under STILL_PX. The first and last frames of a
    stretch are its resting ends, as in the simulation's start and stop events. (Objects sit on
    whole pixels, so a path slower than a pixel a frame also holds still for a frame or two between
    one-pixel jumps; the pauses between shapes are longer, so the longest still runs are the pauses.)"""
    d2 = np.full(len(p), 0.0)
    d2[1:-1] = np.hypot(*(p[2:] - p[:-2]).T)
    active = np.flatnonzero(d2 >= STILL_PX)
    if not active.size:
        return []
    first, last = int(active[0]), int(active[-1])
    still = [(a, b) for a, b in moving_runs(d2[first : last + 1] < STILL_PX, min_gap=1)]
    pauses = sorted(sorted(still, key=lambda r: r[0] - r[1])[: count - 1])
    out, start = [], first
    for a, b in pauses:
        out.append((start, first + a - 1))
        start = first + b + 1
    out.append((start, last))
    return out
