"""motion_count: how many discrete hops an object makes.

The object rests, hops (a quick arc over a few frames in a random direction), rests, hops again ...
Other objects hop their own numbers of times, so the question's object must be picked out by color
and shape. Hop directions are random (hops can come back) and the walk ends one hop's length from
where it began, so comparing the first and last frames says nothing about the count; each object
hops inside its own region of the frame, so none overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, CountRule, Writer, counted_events, narrate_events, plural
from ..perception import MIN_COUNT_GAP, px, seconds
from ..pixels import PixelScene, Unreadable, asked_objects, moving_runs, ordinals_in, stem
from ..questions import draw_numeric_layout, interval, number, numeric_choice, ordinal, pick
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

EDGE_REST = 4  # still frames before the first hop and after the last landing
# Two hops are separated by min_rest + 1 = 7 still steps (the default min_rest is 6); a shorter still run is a
# hop's apex, which at low resolution can round to the same pixel for a few frames.
HOP_REST = 6
MIN_HOP_LENGTH = 0.05  # canvas units: the shortest hop any preset draws (a still object never moves this far)
EVENT_PHRASES = {
    "hop": ("At {t} the {obj} takes off for its {nth} hop.", "{t}: hop {n} begins.", "At {t} it jumps ({nth} hop)."),
    "land": ("It lands at {t}.", "At {t} it is down again.", "Landing at {t}."),
}


@dataclass(frozen=True)
class MotionCountParams(Params):
    count: tuple[int, int] = (1, 6)  # hops of the asked object, drawn uniformly (the answer)
    size: tuple[float, float] = (0.07, 0.11)
    hop_frames: tuple[int, int] = (6, 12)  # frames in the air per hop
    hop_length: tuple[float, float] = (0.06, 0.16)  # canvas units per hop
    lift: float = 0.03  # height of the hop's arc above the straight line
    min_rest: int = 6  # still frames between two hops, so each hop is seen on its own
    distractors: int = 1  # other objects hopping a random number of times


PERCEPTUAL_CONTRACT = {
    "count, count_choice, when": (
        f"every hop moves the object at least {px(MotionCountParams.hop_length[0])} in a quick arc (never less than "
        f"{px(MIN_HOP_LENGTH)} at any level) and lasts 5 frames or more",
        f"between two hops the object rests still for `min_rest` frames ({seconds(MotionCountParams.min_rest)}), so two "
        f"take-offs are at least {seconds(MIN_COUNT_GAP)} apart: each hop can be counted at 30 FPS",
        f"the first hop starts and the last one lands at least {seconds(EDGE_REST)} from the clip's ends",
    ),
}


class MotionCount(Family):
    name = "motion_count"
    category = "short_term"
    Params = MotionCountParams
    round2 = {"duration": (8.0, 12.0), "count": (2, 10), "hop_frames": (5, 10)}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "count": (3, 11), "hop_frames": (5, 10), "hop_length": (0.05, 0.14)},
        {"duration": (12.0, 16.0), "count": (3, 12), "hop_frames": (5, 8), "min_rest": 5, "distractors": 2, "hop_length": (0.05, 0.12)},
        {"duration": (14.0, 18.0), "count": (4, 12), "hop_frames": (5, 7), "min_rest": 5, "distractors": 3, "hop_length": (0.05, 0.12)},
    )

    KINDS = ("count", "count_choice", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        low, high = params.count
        if kind == "count_choice":
            count, rank = draw_numeric_layout(rng, (max(low - 1, 0), max(high - 3, 0)))
            return {"kind": kind, "count": count, "rank": rank}
        if kind == "when":
            count = int(rng.integers(max(low, 1), high + 1))
            first, last = sorted(int(i) for i in rng.integers(1, count + 1, size=2))
            return {"kind": kind, "count": count, "hops": (first, last)}
        return {"kind": kind, "count": int(rng.integers(low, high + 1))}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 1 + params.distractors, params.size)
        cells = motion.grid_cells(rng, len(objects))
        tracks, events = {}, []
        for i, (obj, cell) in enumerate(zip(objects, cells)):
            count = plan["count"] if i == 0 else int(rng.integers(params.count[0], params.count[1] + 1))
            hops = _schedule(rng, count, num_frames, params)
            tracks[obj.id] = _hop_track(rng, obj, cell, hops, num_frames, params)
            events += [Event(t, "hop", [obj.id]) for t, _ in hops] + [Event(land, "land", [obj.id]) for _, land in hops]
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        target = timeline.objects[0]
        name = motion.describe(target)
        starts = [e.frame for e in timeline.events if e.type == "hop" and e.objects == [target.id]]
        landings = [e.frame for e in timeline.events if e.type == "land" and e.objects == [target.id]]
        count = len(starts)
        if plan["kind"] == "count":
            text = pick(
                rng,
                (
                    f"How many times does the {name} hop?",
                    f"Count the jumps of the {name}. How many separate jumps does it make?",
                    f"The {name} moves in quick hops with pauses in between. How many hops do you see?",
                ),
            )
            return number(text, count, primitive="counting", kind="count")
        if plan["kind"] == "count_choice":
            text = pick(
                rng,
                (
                    f"How many hops does the {name} make?",
                    f"How many times does the {name} jump from one spot to another?",
                ),
            )
            return numeric_choice(text, count, plan["rank"], primitive="counting", kind="count_choice")
        first, last = plan["hops"]
        if first == last:
            text = pick(
                rng,
                (
                    f"When does the {name} make its {ordinal(first)} hop?",
                    f"Give the time span of the {ordinal(first)} jump of the {name}, from take-off to landing.",
                ),
            )
        else:
            text = pick(
                rng,
                (
                    f"When does the {name} go from the start of its {ordinal(first)} hop to the end of its {ordinal(last)} hop?",
                    f"Give the time span from the take-off of the {name}'s {ordinal(first)} jump to the landing of its {ordinal(last)} jump.",
                ),
            )
        return interval(text, timeline.time(starts[first - 1]), timeline.time(landings[last - 1]))

    # -- hooks: CoT narration, the verifier's count rule and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I keep my eyes on the {target} and note each hop: when it takes off and when it lands.",
        "The {target} moves in quick hops with pauses; I log every hop in order.",
    )
    count_rule = CountRule(("count", "count_choice"), r"(?:hops?|jumps?|times?)", counted_events("hop", own=True))

    def observe(self, ctx: Context, w: Writer) -> None:
        narrate_events(ctx, w, ctx.own("hop", "land"), EVENT_PHRASES)
        if ctx.kind != "when":
            w.say(
                ("That is {hops} in all.", "So the {target} hops {times}.", "Counting them: {hops}."),
                hops=plural(len(ctx.own("hop")), "hop"),
                times=plural(len(ctx.own("hop")), "time"),
                **ctx.fields(),
            )

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (target, *_) = asked_objects(row)
        p = scene.position(target)
        step = np.hypot(*np.diff(p, axis=0).T)
        runs = moving_runs(step > scene.still_threshold(), min_gap=HOP_REST)
        # A hop carries the object from one resting spot to another; a resting object's edge can
        # flicker by a pixel column after H.264 (a new group of pictures), which moves its centroid by
        # about half a pixel and back or not at all. Half the shortest hop tells them apart.
        hops = [(a, b) for a, b in runs if math.dist(p[a], p[b + 1]) >= MIN_HOP_LENGTH / 2 * scene.width]
        kind = row["question_type"]
        if kind in ("count", "count_choice"):
            return str(len(hops))
        asked = ordinals_in(stem(row))
        first, last = (asked[0], asked[0]) if len(asked) == 1 else asked[:2]
        if last > len(hops):
            raise Unreadable(f"asked about hop {last}, {len(hops)} seen")
        # A step f → f + 1 moves: frame f + 1 is the first off the spot; the last moving step lands.
        return scene.interval(hops[first - 1][0] + 1, hops[last - 1][1] + 1)


def _schedule(rng, count, num_frames, params):
    """(take-off, landing) frames of ``count`` hops; the rests are a uniform split of the spare frames.

    Take-off is the first frame off the resting spot, landing the first frame back on the ground.
    """
    if params.hop_frames[0] + params.min_rest < MIN_COUNT_GAP:
        raise ValueError(
            f"hops of {params.hop_frames[0]} frames {params.min_rest} frames apart come faster than one per {MIN_COUNT_GAP} frames"
        )
    airtime = rng.integers(params.hop_frames[0], params.hop_frames[1] + 1, size=count)
    spare = num_frames - int(airtime.sum()) - 2 * EDGE_REST - (count - 1) * params.min_rest
    if spare < 0:
        raise ValueError(f"{count} hops do not fit in {num_frames} frames")
    waits = np.diff(np.sort(rng.integers(0, spare + 1, size=count)), prepend=0)
    hops, takeoff = [], EDGE_REST
    for wait, air in zip(waits, airtime):
        takeoff += int(wait)
        hops.append((takeoff, takeoff + int(air) - 1))
        takeoff += int(air) + params.min_rest
    return hops


def _hop_track(rng, obj, cell, hops, num_frames, params):
    """Still between hops, quick arcs between resting spots during them, all inside ``cell``."""
    lo_x, lo_y, hi_x, hi_y = motion.center_bounds(cell, obj)
    lo_y += params.lift  # room for the arc at the top of the region
    spots = _resting_spots(rng, len(hops), (lo_x, lo_y, hi_x, hi_y), params.hop_length)
    x, y = np.empty(num_frames), np.empty(num_frames)
    still_from = 0
    for (takeoff, landing), (x0, y0), (x1, y1) in zip(hops, spots, spots[1:]):
        x[still_from:takeoff], y[still_from:takeoff] = x0, y0
        s = np.arange(1, landing - takeoff + 2) / (landing - takeoff + 1)
        x[takeoff : landing + 1] = x0 + (x1 - x0) * s
        y[takeoff : landing + 1] = y0 + (y1 - y0) * s - params.lift * 4 * s * (1 - s)
        x[landing], y[landing] = x1, y1  # exactly the resting spot, not a rounding error off it
        still_from = landing + 1
    x[still_from:], y[still_from:] = spots[-1]
    return Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool))


def _resting_spots(rng, count, bounds, length):
    """The start and the spot after each of ``count`` hops in random directions.

    The last spot is drawn first, one hop's length from the start, and the walk is redrawn until
    its last hop can reach it: the net displacement is then alike for every count.
    """
    lo_x, lo_y, hi_x, hi_y = bounds
    if length[0] < MIN_HOP_LENGTH:
        raise ValueError(f"hops of {length[0]} canvas units are shorter than the shortest visible hop, {MIN_HOP_LENGTH}")

    def inside(p):
        return lo_x <= p[0] <= hi_x and lo_y <= p[1] <= hi_y

    def hop(p):
        heading = rng.uniform(0, 2 * math.pi)
        return p + rng.uniform(*length) * np.array([math.cos(heading), math.sin(heading)])

    for _ in range(1000):
        spots = [np.array([rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)])]
        goal = hop(spots[0])
        for _ in range(count - 1):
            spots.append(hop(spots[-1]))
        if count:
            spots.append(goal)
        if all(inside(p) for p in spots) and all(length[0] <= math.dist(a, b) <= length[1] for a, b in zip(spots, spots[1:])):
            return spots
    raise RuntimeError(f"no walk of {count} hops fits in the object's region")
