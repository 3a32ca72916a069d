"""distance: how the distance between moving objects changes, and which pair is closest when.

"trend" and "when": A and B sit at the two ends of a rod that drifts, turns and stretches or
shrinks, so their distance follows a planned profile exactly (grows, shrinks, grows then shrinks or
shrinks then grows) around a level drawn independently of the profile, so the distance seen in
any one frame hints at the profile only weakly.
"closest_pair": several objects move through random layouts; the asked pair is the closest one at
the moment a named object stops, while the closest pair in the first, middle and last frames is
drawn independently.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, Writer, narrate_events, pct
from ..pixels import PixelScene, Unreadable, asked_objects, describe, motion_bounds, stem, stop_frame
from ..questions import interval, multiple_choice, pick
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

TRENDS = ("it keeps growing", "it keeps shrinking", "it grows, then shrinks", "it shrinks, then grows")
SIGNS = {(1,): TRENDS[0], (-1,): TRENDS[1], (1, -1): TRENDS[2], (-1, 1): TRENDS[3]}  # distance changes
CLEAR = 0.06  # the closest pair is this much closer than any other, so it is plain to see
EVENT_PHRASES = {
    "start": (
        "At {t} the {a} and the {b} start moving; they are about {d} of the frame width apart.",
        "The pair sets off at {t}, about {d} of the frame width apart.",
    ),
    "farthest": (
        "At {t} they are farthest apart (about {d}); after that the gap closes.",
        "The gap peaks at {t} (about {d}) and then shrinks.",
    ),
    "closest": (
        "At {t} they are closest (about {d}); after that they drift apart.",
        "The gap is smallest at {t} (about {d}) and then grows.",
    ),
    "stop": ("At {t} they stop, about {d} apart.", "They come to rest at {t}, about {d} of the frame width apart."),
    "*": ("At {t} the {obj} stops.",),
}


@dataclass(frozen=True)
class DistanceParams(Params):
    distance: tuple[float, float] = (0.2, 0.88)  # A-B center distance, any frame
    change: tuple[float, float] = (0.12, 0.2)  # between the nearest and farthest A-B distance
    size: tuple[float, float] = (0.06, 0.09)
    distractors: int = 1  # other objects drifting about in "trend" and "when" questions
    pair_objects: int = 4  # objects in "closest_pair" questions (4 objects: 6 pairs, 4 options)


class Distance(Family):
    name = "distance"
    category = "short_term"
    Params = DistanceParams
    round2 = {"duration": (8.0, 12.0), "change": (0.1, 0.16), "distractors": 2, "pair_objects": 5}
    ladder = (
        {},
        round2,
        {"duration": (8.0, 12.0), "change": (0.08, 0.13), "distractors": 3, "pair_objects": 5},
        {"duration": (10.0, 14.0), "change": (0.07, 0.11), "distractors": 3, "pair_objects": 6},
        {"duration": (12.0, 16.0), "change": (0.06, 0.09), "distractors": 4, "pair_objects": 6},
    )

    KINDS = ("trend", "when", "closest_pair")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "trend":
            return {"kind": kind, "trend": pick(rng, TRENDS)}
        if kind == "when":
            # The asked phase first, then one of the three profiles that have it.
            phase = pick(rng, (1, -1))
            return {"kind": kind, "phase": phase, "trend": pick(rng, [t for s, t in SIGNS.items() if phase in s])}
        pairs = len(list(itertools.combinations(range(params.pair_objects), 2)))
        # Closest pair at the stop (the answer) and, independently, in the first, middle and last frames.
        return {"kind": kind, "closest": [int(i) for i in rng.integers(pairs, size=4)]}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        if plan["kind"] == "closest_pair":
            return _pair_scene(rng, params, plan["closest"], num_frames)
        objects = motion.random_objects(rng, 2 + params.distractors, params.size)
        keys = motion.split_points(rng, num_frames, 3, min_gap=num_frames // 5, edge=num_frames // 12)
        frames = np.arange(num_frames)
        gap = np.interp(frames, keys, _profile(rng, plan["trend"], params))
        for _ in range(1000):
            center = np.stack([np.interp(frames, keys[::2], rng.uniform(0.15, 0.85, size=2)) for _ in range(2)])
            heading = np.interp(frames, keys[::2], rng.uniform(0, 2 * math.pi) + rng.uniform(-1, 1, size=2))
            half = gap / 2 * np.stack([np.cos(heading), np.sin(heading)])
            ends = [center - half, center + half]
            if all(motion.in_frame(*xy, o.size) for xy, o in zip(ends, objects)):
                break
        else:
            raise RuntimeError("could not fit the two objects in frame")
        tracks = {o.id: _track(*xy) for o, xy in zip(objects, ends)}
        for obj in objects[2:]:
            for _ in range(1000):
                tracks[obj.id] = _track(*(np.interp(frames, keys[::2], rng.uniform(0.1, 0.9, size=2)) for _ in range(2)))
                if motion.in_frame(tracks[obj.id].x, tracks[obj.id].y, obj.size) and motion.separated(objects[: len(tracks)], tracks):
                    break
                del tracks[obj.id]
            else:
                raise RuntimeError("could not place a distractor apart from the others")
        pair = [objects[0].id, objects[1].id]
        events = [Event(keys[0], "start", pair), Event(keys[2], "stop", pair)]
        turn = _signs(gap)
        if len(turn) == 2:
            events.append(Event(keys[1], "farthest" if turn[0] > 0 else "closest", pair))
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        kind = plan["kind"]
        if kind == "closest_pair":
            return _ask_pair(rng, timeline)
        a, b = (timeline.tracks[o.id] for o in timeline.objects[:2])
        name_a, name_b = (motion.describe(o) for o in timeline.objects[:2])
        gap = np.hypot(a.x - b.x, a.y - b.y)
        if kind == "trend":
            text = pick(
                rng,
                (
                    f"How does the distance between the {name_a} and the {name_b} change over the video?",
                    f"Watch the {name_a} and the {name_b}. What happens to the space between them?",
                ),
            )
            return multiple_choice(rng, text, SIGNS[_signs(gap)], TRENDS, primitive="distance", kind=kind)
        change = np.sign(np.round(np.diff(gap), 9))
        moving = np.flatnonzero(change == plan["phase"])  # frames f with the distance changing to f + 1
        verb = "grow" if plan["phase"] > 0 else "shrink"
        text = pick(
            rng,
            (
                f"When does the distance between the {name_a} and the {name_b} {verb}?",
                f"During which time span do the {name_a} and the {name_b} get {'farther apart' if plan['phase'] > 0 else 'closer together'}?",
            ),
        )
        return interval(text, timeline.time(moving[0]), timeline.time(moving[-1] + 1))

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I watch the gap between the objects as they move.",
        "I track how far apart the objects are over time.",
    )
    focus = {
        "trend": ("So for the distance between them: {answer_text}.", "Overall, {answer_text}."),
        "closest_pair": ("So at that moment the closest pair is {answer_text}.", "The two closest then are {answer_text}."),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        tracks = ctx.tl.tracks

        def gap(i: str, j: str, frame: int) -> float:
            return float(np.hypot(tracks[i].x[frame] - tracks[j].x[frame], tracks[i].y[frame] - tracks[j].y[frame]))

        if ctx.kind == "closest_pair":
            stop = next(e for e in ctx.tl.events if e.type == "stop")
            w.say(
                ("At {t} the {obj} stops moving.", "The {obj} comes to rest at {t}."), t=ctx.t(stop.frame), obj=ctx.names[stop.objects[0]]
            )
            pairs = sorted(itertools.combinations([o.id for o in ctx.objects], 2), key=lambda p: gap(*p, stop.frame))
            listed = ", ".join(f"the {ctx.names[p]} and the {ctx.names[q]} about {pct(gap(p, q, stop.frame))}" for p, q in pairs)
            w.say(
                (
                    "At that moment the pairwise distances, closest first, are: {listed}.",
                    "Measuring every pair at that moment, from closest: {listed}.",
                ),
                listed=listed,
            )
            return
        a, b = ctx.objects[0].id, ctx.objects[1].id
        names = {"a": ctx.names[a], "b": ctx.names[b]}
        narrate_events(
            ctx, w, [e for e in ctx.tl.events if e.objects == [a, b]], EVENT_PHRASES, lambda e: {**names, "d": pct(gap(a, b, e.frame))}
        )

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        kind = row["question_type"]
        text = stem(row)
        if kind == "closest_pair":
            stopper = asked_objects(row)[0]
            stop = stop_frame(scene.position(stopper), scene.still_threshold())
            objects = row["objects"]
            at = [scene.position(o)[stop] for o in objects]
            pairs = [(i, j) for i in range(len(objects)) for j in range(i + 1, len(objects))]
            i, j = min(pairs, key=lambda q: float(np.hypot(*(at[q[0]] - at[q[1]]))))
            return f"the {describe(objects[i])} and the {describe(objects[j])}"
        a, b = asked_objects(row)[:2]
        gap = np.hypot(*(scene.position(a) - scene.position(b)).T)
        smooth = np.convolve(np.pad(gap, 2, mode="edge"), np.ones(5) / 5, mode="valid")
        tau = 0.03 * scene.width
        top, bottom = int(np.argmax(smooth)), int(np.argmin(smooth))
        if smooth[top] - smooth[0] > tau and smooth[top] - smooth[-1] > tau:
            trend, turn = TRENDS[2], top
        elif smooth[0] - smooth[bottom] > tau and smooth[-1] - smooth[bottom] > tau:
            trend, turn = TRENDS[3], bottom
        else:
            trend, turn = (TRENDS[0] if smooth[-1] > smooth[0] else TRENDS[1]), None
        if kind == "trend":
            return trend
        grow = bool(re.search(r"\bgrow\b|farther apart", text))
        visible = 0.01 * scene.width  # a change of distance smaller than 1% of the frame is not seen
        start, _ = _change_bounds(smooth[: turn + 1] if turn is not None else smooth, visible)
        _, stop = _change_bounds(smooth[turn:] if turn is not None else smooth, visible)
        if turn is not None:
            stop += turn
        if turn is None:
            if (trend == TRENDS[0]) != grow:
                raise Unreadable(f"the distance read as '{trend}', the question asks when it {'grows' if grow else 'shrinks'}")
            return scene.interval(start, stop)
        rising_first = trend == TRENDS[2]
        return scene.interval(start, turn) if rising_first == grow else scene.interval(turn, stop)


def _profile(rng, trend, params):
    """Distances at the start, turn and end: the trend's shape around a level drawn apart from it.

    Any one frame shows the level give or take half the change, so it hints at the trend only as far
    as the change stands out against the spread of levels; the ends are nudged toward the level by
    independent amounts, so the two ends of a grow-then-shrink are not equal either.
    """
    change = rng.uniform(*params.change)
    level = rng.uniform(params.distance[0] + change / 2, params.distance[1] - change / 2)
    low, high = level - change / 2 + rng.uniform(0, change / 4), level + change / 2 - rng.uniform(0, change / 4)
    # The middle key keeps a third of the change on either side of it, so both stretches of a
    # monotone profile change visibly (else "when does it grow" would include a flat-looking part).
    third = (high - low) / 3
    if trend == TRENDS[0]:
        return low, rng.uniform(low + third, high - third), high
    if trend == TRENDS[1]:
        return high, rng.uniform(low + third, high - third), low
    if trend == TRENDS[2]:
        return low, level + change / 2, level - change / 2 + rng.uniform(0, change / 4)
    return high, level - change / 2, level + change / 2 - rng.uniform(0, change / 4)


def _signs(gap):
    """The directions the distance changes in, in order, still frames ignored: (1,), (-1, 1), ..."""
    change = np.sign(np.round(np.diff(gap), 9))
    change = change[change != 0]
    return tuple(int(c) for i, c in enumerate(change) if i == 0 or c != change[i - 1])


def _track(x, y):
    return Track(x=x, y=y, angle=np.zeros(len(x)), visible=np.ones(len(x), bool))


def _pair_scene(rng, params, closest, num_frames):
    """Objects moving in straight lines between four layouts; the first of them stops mid-clip."""
    objects = motion.random_objects(rng, params.pair_objects, params.size)
    pairs = list(itertools.combinations(range(len(objects)), 2))
    middle, edge = (num_frames - 1) // 2, num_frames // 6
    stop = pick(rng, [f for f in range(edge, num_frames - edge) if abs(f - middle) >= edge])
    # A layout at the stop, first, middle and last frames; in between everything moves in straight lines.
    wanted = dict(zip((stop, 0, middle, num_frames - 1), closest))
    keys = sorted(wanted)
    for _ in range(20):
        layouts = []
        for key in keys:
            fixed = layouts[-1][0] if key > stop else None  # the stopped object stays put
            layout = _layout(rng, objects, pairs[wanted[key]], fixed, layouts[-1] if layouts else None)
            if layout is None:
                break
            layouts.append(layout)
        else:
            frames, path = np.arange(num_frames), np.array(layouts)
            tracks = {
                o.id: _track(np.interp(frames, keys, path[:, i, 0]), np.interp(frames, keys, path[:, i, 1])) for i, o in enumerate(objects)
            }
            return Timeline(FPS, num_frames, objects, tracks, [Event(stop, "stop", [objects[0].id])])
    raise RuntimeError("could not move the objects between their layouts without overlaps")


def _layout(rng, objects, closest, fixed, previous, batch=256):
    """Random centers, in frame, whose closest pair is ``closest`` by a clear margin (None if none found).

    No two objects come near each other here, nor anywhere on the straight way from ``previous``:
    on that way each pair's offset moves along a segment, whose distance from zero is exact.
    Candidates are drawn and checked a batch at a time, and the first good one is kept.
    """
    low = np.array([o.size / 2 + motion.MARGIN for o in objects])[:, None]
    reach = np.array([o.size / 2 * math.sqrt(2) for o in objects])
    limit = reach[:, None] + reach[None, :] + motion.MARGIN
    np.fill_diagonal(limit, -1.0)
    i, j = closest
    for _ in range(20):
        points = rng.uniform(low, 1 - low, size=(batch, len(objects), 2))
        if fixed is not None:
            points[:, 0] = fixed
        offset = points[:, :, None, :] - points[:, None, :, :]
        dist = np.hypot(offset[..., 0], offset[..., 1])
        others = dist + np.eye(len(objects)) * 9
        others[:, [i, j], [j, i]] = 9
        good = (dist[:, i, j] + CLEAR <= others.min(axis=(1, 2))) & np.all(dist >= limit, axis=(1, 2))
        if previous is not None:
            start = previous[:, None, :] - previous[None, :, :]
            step = offset - start
            s = np.clip(-(start * step).sum(-1) / np.maximum((step**2).sum(-1), 1e-12), 0, 1)
            nearest = start + s[..., None] * step
            good &= np.all(np.hypot(nearest[..., 0], nearest[..., 1]) >= limit, axis=(1, 2))
        hits = np.flatnonzero(good)
        if hits.size:
            return points[hits[0]]
    return None


def _ask_pair(rng, timeline):
    stop = next(e for e in timeline.events if e.type == "stop")
    objects = timeline.objects
    names = [motion.describe(o) for o in objects]
    at = [(timeline.tracks[o.id].x[stop.frame], timeline.tracks[o.id].y[stop.frame]) for o in objects]
    pairs = list(itertools.combinations(range(len(objects)), 2))
    i, j = min(pairs, key=lambda p: math.dist(at[p[0]], at[p[1]]))
    options = [f"the {names[p]} and the {names[q]}" for p, q in pairs]
    stopper = motion.describe(timeline.object(stop.objects[0]))
    text = pick(
        rng,
        (
            f"At the moment the {stopper} stops moving, which two objects are closest to each other?",
            f"Which pair of objects is closest together when the {stopper} comes to rest?",
        ),
    )
    answer = options[pairs.index((i, j))]
    return multiple_choice(rng, text, answer, options, primitive="distance", kind="closest_pair", num_options=min(4, len(pairs)))


def _change_bounds(values: np.ndarray, visible: float) -> tuple[int, int]:
    """First and last frame of the visible change of a 1-D signal: where it first moves ``visible``
    away from its starting level (and last comes within it of its final level), traced back (forward)
    at the local rate of change to where that change began (ended)."""
    return motion_bounds(np.stack([values, np.zeros_like(values)], axis=1), visible)
