"""distance: how the distance between moving objects changes, and which pair is closest when.

"trend" and "when": A and B rest, glide in straight lines, and rest again; on the way one of them
bounces off a wall. Start spots, headings and speeds are drawn until their distance follows the
planned profile (grows, shrinks, grows then shrinks or shrinks then grows) around a level drawn
independently of the profile, so the distance seen in any one frame hints at the profile only
weakly. The distance turns exactly at the bounce, so a viewer sees why it turns; every profile
has a bounce, so a bounce alone tells nothing.
"closest_pair": several objects glide about, bouncing off the walls and each other
(:mod:`synrl_hf.billiards`), and a named one stops mid-clip. The layout at the stop is drawn first
(the asked pair closest by a clear margin) and the motion run forward and backward from it; whether
the closest pair in the first, middle and last frames is the same pair is drawn independently.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..billiards import glide, wall_bounds
from ..narration import Context, Writer, narrate_events, pct
from ..perception import CONTACT_GAP, MIN_STOP_PATH, px
from ..pixels import PixelScene, Unreadable, asked_objects, describe, motion_bounds, stem, stop_frame
from ..questions import interval, multiple_choice, pick
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

TRENDS = ("it keeps growing", "it keeps shrinking", "it grows, then shrinks", "it shrinks, then grows")
SIGNS = {(1,): TRENDS[0], (-1,): TRENDS[1], (1, -1): TRENDS[2], (-1, 1): TRENDS[3]}  # distance changes
CLEAR = 0.06  # the closest pair is this much closer than any other, so it is plain to see
# Frames A and B move for in "trend" and "when": a small change of distance over a longer glide
# would need the two to move in near lockstep, and a bounce then to barely graze its wall.
MAX_MOTION = 150
EVENT_PHRASES = {
    "bounce": ("At {t} the {obj} bounces off the {detail} wall.", "{t}: the {obj} hits the {detail} edge and turns."),
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
    speed: tuple[float, float] = (0.04, 0.25)  # canvas units per second of A and B in "trend" and "when"
    pair_speed: tuple[float, float] = (
        0.2,
        0.45,
    )  # of every object in "closest_pair": fast enough that the start and end look unlike the stop
    distractors: int = 1  # other objects drifting about in "trend" and "when" questions
    pair_objects: int = 4  # objects in "closest_pair" questions (4 objects: 6 pairs, 4 options)


PERCEPTUAL_CONTRACT = {
    "trend, when": (
        "A and B move in straight lines; the only turn is one object's bounce off a wall (its outline within "
        f"{px(CONTACT_GAP)} of the edge), and the distance grows or shrinks on every frame of the motion",
        f"a two-phase distance turns exactly at that bounce, and every phase changes the distance by at least a third of the "
        f"whole change ({px(DistanceParams.change[0] / 3)} at the least in round1)",
        f"before they stop, A and B each travel at least {px(MIN_STOP_PATH)}",
    ),
    "closest_pair": (
        f"the objects glide in straight lines and turn only at a wall or another object (outlines within {px(CONTACT_GAP)})",
        f"the named object travels at least {px(MIN_STOP_PATH)} before it stops, then stays still",
        f"at the stop the asked pair's centers are at least {px(CLEAR)} closer than any other pair's",
    ),
}


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
        edge = num_frames // 12
        longest = min(num_frames - 1 - 2 * edge, MAX_MOTION)
        span = int(rng.integers(min(2 * (num_frames // 5), longest), longest + 1))
        start = int(rng.integers(edge, num_frames - edge - span))
        stop = start + span
        tracks, turn_frame, bounce = _pair_motion(rng, params, plan["trend"], start, stop, num_frames, objects[:2])
        frames = np.arange(num_frames)
        for obj in objects[2:]:
            for _ in range(1000):
                ends = rng.uniform(0.1, 0.9, size=(2, 2))
                tracks[obj.id] = _track(*(np.interp(frames, [start, stop], ends[:, k]) for k in range(2)))
                far_enough = math.dist(*ends) >= MIN_STOP_PATH
                if (
                    far_enough
                    and motion.in_frame(tracks[obj.id].x, tracks[obj.id].y, motion.reach(obj))
                    and motion.separated(objects[: len(tracks)], tracks)
                ):
                    break
                del tracks[obj.id]
            else:
                raise RuntimeError("could not place a distractor apart from the others")
        pair = [objects[0].id, objects[1].id]
        a, b = tracks[pair[0]], tracks[pair[1]]
        turn = _signs(np.hypot(a.x - b.x, a.y - b.y))
        events = [Event(start, "start", pair), Event(stop, "stop", pair)]
        if bounce is not None:
            bouncer, wall, frame = bounce
            events.append(Event(frame, "bounce", [pair[bouncer]], wall))
        if len(turn) == 2:
            events.append(Event(turn_frame, "farthest" if turn[0] > 0 else "closest", pair))
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
            ctx,
            w,
            [e for e in ctx.tl.events if e.objects == [a, b] or e.type == "bounce"],
            EVENT_PHRASES,
            lambda e: {**names, "d": pct(gap(a, b, e.frame))},
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


WALLS = ("left", "right", "top", "bottom")


def _profile(rng, trend, params):
    """Distances at the start, turn and end: the trend's shape around a level drawn apart from it.

    Any one frame shows the level give or take half the change, so it hints at the trend only as far
    as the change stands out against the spread of levels; the ends are nudged toward the level by
    independent amounts, so the two ends of a grow-then-shrink are not equal either.
    """
    change = rng.uniform(*params.change)
    level = rng.uniform(params.distance[0] + change / 2, params.distance[1] - change / 2)
    low, high = level - change / 2 + rng.uniform(0, change / 4), level + change / 2 - rng.uniform(0, change / 4)
    # The middle keeps a third of the change on either side of it, so both stretches of a
    # monotone profile change visibly (else "when does it grow" would include a flat-looking part).
    third = (high - low) / 3
    if trend == TRENDS[0]:
        return low, rng.uniform(low + third, high - third), high
    if trend == TRENDS[1]:
        return high, rng.uniform(low + third, high - third), low
    if trend == TRENDS[2]:
        return low, level + change / 2, level - change / 2 + rng.uniform(0, change / 4)
    return high, level - change / 2, level + change / 2 - rng.uniform(0, change / 4)


def _pair_motion(rng, params, trend, start, stop, num_frames, objects):
    """Tracks of A and B, the frame of the distance's turn (the middle of a one-way trend), and the
    bounce as (which of the two, wall, frame), or None.

    Both rest until ``start``, glide in straight lines and rest from ``stop``, their distance going
    through the profile's three values (:func:`_profile`) at ``start``, the turn and ``stop``. A
    grow-then-shrink turns at a bounce of one of them off a wall (straight paths alone give a
    distance that can only dip); a shrink-then-grow turns where the two pass closest; a one-way
    trend has a bounce half of the time, so a bounce alone tells nothing.
    """
    distances = _profile(rng, trend, params)
    bounced = trend == TRENDS[2] or (trend != TRENDS[3] and bool(rng.integers(2)))
    lo, hi = wall_bounds(objects)
    reach = motion.reach(objects[0]) + motion.reach(objects[1]) + motion.MARGIN
    span = stop - start
    frames = np.arange(num_frames)
    signs = {v: k for k, v in SIGNS.items()}[trend]
    for _ in range(5000):
        if bounced:
            turn = int(rng.integers(start + span // 4, stop - span // 4 + 1))
            drawn = _bounce_paths(rng, params, objects, distances, (start, turn, stop), lo, hi)
        else:
            drawn = _straight_paths(rng, params, objects, distances, trend, (start, stop), lo, hi)
        if drawn is None:
            continue
        paths, turn, bounce = drawn
        a, b = (np.stack([np.interp(frames, path[:, 0], path[:, k]) for k in (1, 2)], axis=1) for path in paths)
        gap = np.hypot(*(a - b).T)
        steps = np.diff(gap[start : stop + 1])
        first, second = (signs[0], signs[0]) if len(signs) == 1 else signs
        if not (np.all(steps[: turn - start] * first > 0) and np.all(steps[turn - start :] * second > 0)):
            continue
        if gap.min() < reach or min(_path_length(a), _path_length(b)) < MIN_STOP_PATH:
            continue
        if not all(np.all((xy >= lo[k] - 1e-9) & (xy <= hi[k] + 1e-9)) for k, xy in enumerate((a, b))):
            continue
        return {o.id: _track(*xy.T) for o, xy in zip(objects, (a, b))}, turn, bounce
    raise RuntimeError(f"could not realise the distance profile {trend!r} between frames {start} and {stop}")


def _bounce_paths(rng, params, objects, distances, keys, lo, hi):
    """Key points (frame, x, y) of the two paths, one of them bouncing off a wall at the middle key,
    with the distance at each key as planned; None if the drawn geometry has no such motion."""
    start, turn, stop = keys
    before, after = (turn - start) / FPS, (stop - turn) / FPS
    k = int(rng.integers(2))  # which one bounces
    wall = int(rng.integers(4))
    axis, high = wall // 2, wall % 2
    spot = rng.uniform(lo[k], hi[k])
    spot[axis] = (hi if high else lo)[k][axis]
    angle = rng.uniform(0, 2 * math.pi, size=2)
    along = np.array([math.cos(angle[0]), math.sin(angle[0])])
    other_at_turn = spot + distances[1] * along
    if np.any(other_at_turn <= lo[1 - k] + CONTACT_GAP) or np.any(other_at_turn >= hi[1 - k] - CONTACT_GAP):
        return None
    other_velocity = rng.uniform(*params.speed) * np.array([math.cos(angle[1]), math.sin(angle[1])])
    mirror = np.ones(2)
    mirror[axis] = -1.0
    # The offset other - bouncer is distances[1] * along at the turn; its length at the start and the
    # end puts the bouncer's velocity into it on two circles (the one after the bounce is mirrored).
    sign = 1.0 if k == 0 else -1.0  # the planned offset is B - A
    centre_in = -(distances[1] * along - other_velocity * before) / before
    centre_out = mirror * (distances[1] * along + other_velocity * after) / after
    solutions = _circle_crossings(centre_in, distances[0] / before, centre_out, distances[2] / after)
    rng.shuffle(solutions)
    for velocity in solutions:
        moving_out = velocity[axis] > 0 if high else velocity[axis] < 0
        if not moving_out or not params.speed[0] <= math.hypot(*velocity) <= params.speed[1]:
            continue
        bouncer = np.array([[start, *(spot - velocity * before)], [turn, *spot], [stop, *(spot + mirror * velocity * after)]])
        other = np.array(
            [[start, *(other_at_turn - other_velocity * before)], [turn, *other_at_turn], [stop, *(other_at_turn + other_velocity * after)]]
        )
        del sign
        return ((bouncer, other) if k == 0 else (other, bouncer)), turn, (k, WALLS[wall], turn)
    return None


def _straight_paths(rng, params, objects, distances, trend, keys, lo, hi):
    """Key points (frame, x, y) of two straight paths whose distance follows ``trend`` through the
    planned start and end distances (and, for a shrink-then-grow, its planned closest)."""
    start, stop = keys
    span = (stop - start) / FPS
    heading = rng.uniform(0, 2 * math.pi)
    first = np.array([math.cos(heading), math.sin(heading)])
    if trend == TRENDS[3]:  # pass closest at the turn, on a straight relative path
        closest, ends = distances[1], np.array([distances[0], distances[2]])
        legs = np.sqrt(ends**2 - closest**2)
        before = span * legs[0] / legs.sum()
        turn = start + int(round(before * FPS))
        rate = legs[0] / before
        relative = rate * np.array([-first[1], first[0]]) * (1 if rng.integers(2) else -1)
        offset_at = (start, closest * first - relative * before)
    else:
        end_heading = heading + rng.uniform(-1.0, 1.0)
        offset_end = distances[2] * np.array([math.cos(end_heading), math.sin(end_heading)])
        relative = (offset_end - distances[0] * first) / span
        turn = stop
        offset_at = (start, distances[0] * first)
    speed = rng.uniform(*params.speed)
    angle = rng.uniform(0, 2 * math.pi)
    a_velocity = speed * np.array([math.cos(angle), math.sin(angle)])
    a_start = rng.uniform(lo[0], hi[0])
    b_start = a_start + offset_at[1]
    a = np.array([[start, *a_start], [stop, *(a_start + a_velocity * span)]])
    b = np.array([[start, *b_start], [stop, *(b_start + (a_velocity + relative) * span)]])
    return (a, b), turn, None


def _circle_crossings(c1, r1, c2, r2):
    """The (0 or 2) points on both circles."""
    d = math.dist(c1, c2)
    if d == 0 or d > r1 + r2 or d < abs(r1 - r2):
        return []
    along = (d**2 + r1**2 - r2**2) / (2 * d)
    half = math.sqrt(max(r1**2 - along**2, 0.0))
    unit = (c2 - c1) / d
    base = c1 + along * unit
    normal = np.array([-unit[1], unit[0]])
    return [base + half * normal, base - half * normal]


def _path_length(xy):
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def _signs(gap):
    """The directions the distance changes in, in order, still frames ignored: (1,), (-1, 1), ..."""
    change = np.sign(np.round(np.diff(gap), 9))
    change = change[change != 0]
    return tuple(int(c) for i, c in enumerate(change) if i == 0 or c != change[i - 1])


def _track(x, y):
    return Track(x=x, y=y, angle=np.zeros(len(x)), visible=np.ones(len(x), bool))


def _pair_scene(rng, params, closest, num_frames):
    """Objects gliding about, bouncing off the walls and each other; the first of them stops mid-clip.

    The layout at the stop comes first: the planned pair closest by CLEAR. From it the objects glide
    on (the stopped one stays) and, run backwards, glide to it, each on its own straight heading
    through the stop; the motion is redrawn until the closest pair in the first, middle and last
    frames is the answer's pair exactly when the plan says so.
    """
    objects = motion.random_objects(rng, params.pair_objects, params.size)
    pairs = list(itertools.combinations(range(len(objects)), 2))
    middle, edge = (num_frames - 1) // 2, num_frames // 6
    stop = pick(rng, [f for f in range(edge, num_frames - edge) if abs(f - middle) >= edge])
    same = dict(zip((0, middle, num_frames - 1), (c == closest[0] for c in closest[1:])))  # at the first, middle and last frames

    def as_planned(tracks, frames):
        """Whether the closest pair at each of ``frames`` (of ``tracks``' own count) is the answer's pair exactly as planned."""
        return all(
            (_closest(np.array([[tracks[o.id].x[at], tracks[o.id].y[at]] for o in objects]), pairs) == pairs[closest[0]]) == same[f]
            for f, at in frames
        )

    for _ in range(3000):  # a plan with the same pair closest in all three frames takes a few hundred tries
        layout = _layout(rng, objects, pairs[closest[0]])
        if layout is None:
            continue
        speed = rng.uniform(*params.pair_speed, size=len(objects))
        speed[0] = max(speed[0], MIN_STOP_PATH * FPS / stop)  # the stopper travels far enough before its stop
        angle = rng.uniform(0, 2 * math.pi, size=len(objects))
        heading = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        # Backwards from the stop (then reversed), and on from it; the frames checked as soon as they exist.
        before = glide(objects, layout, -heading, [np.full(stop, v) for v in speed], FPS)
        if before is None or not as_planned(before, [(f, stop - f) for f in same if f <= stop]):
            continue
        after = glide(objects, layout, heading, [np.full(num_frames - 1 - stop, 0.0 if i == 0 else v) for i, v in enumerate(speed)], FPS)
        if after is None or not as_planned(after, [(f, f - stop) for f in same if f > stop]):
            continue
        tracks = {
            o.id: _track(np.r_[before[o.id].x[::-1], after[o.id].x[1:]], np.r_[before[o.id].y[::-1], after[o.id].y[1:]]) for o in objects
        }
        return Timeline(FPS, num_frames, objects, tracks, [Event(stop, "stop", [objects[0].id])])
    raise RuntimeError("could not move the objects about their layout at the stop")


def _closest(points, pairs):
    return min(pairs, key=lambda p: math.dist(points[p[0]], points[p[1]]))


def _layout(rng, objects, closest, batch=256):
    """Random centers, each object clear of the walls and of the others, whose closest pair is
    ``closest`` by a clear margin (None if none found). Candidates are drawn and checked a batch at
    a time, and the first good one is kept."""
    lo, hi = wall_bounds(objects)
    reach = np.array([motion.reach(o) for o in objects])
    limit = reach[:, None] + reach[None, :] + motion.MARGIN
    np.fill_diagonal(limit, -1.0)
    i, j = closest
    for _ in range(20):
        points = rng.uniform(lo + motion.MARGIN, hi - motion.MARGIN, size=(batch, len(objects), 2))
        offset = points[:, :, None, :] - points[:, None, :, :]
        dist = np.hypot(offset[..., 0], offset[..., 1])
        others = dist + np.eye(len(objects)) * 9
        others[:, [i, j], [j, i]] = 9
        good = (dist[:, i, j] + CLEAR <= others.min(axis=(1, 2))) & np.all(dist >= limit, axis=(1, 2))
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
