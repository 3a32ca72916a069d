"""relative_position: where one moving object is relative to another over time, and when that changes.

Objects glide along parallel lanes (rows, or columns), so A can pass B without touching it. Along
the lanes both move piecewise linearly through waypoints; the plan fixes on which side of B the
object A is at each waypoint (answer first) and the offsets and positions are drawn at random, so
a single frame shows one side at one moment and nothing about crossings, stops or the other end.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, CountRule, Writer, counted_events, narrate_events, plural, ts
from ..pixels import PixelScene, Unreadable, asked_objects, describe, stem, stop_frame
from ..questions import interval, multiple_choice, number, pick, yes_no
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

SIDES = (("left", "right"), ("above", "below"))  # per axis: A before / after B along it
PHRASE = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
SWITCH = ("from its left to its right", "from above it to below it")  # per axis
EVENT_PHRASES = {
    "pass": (
        "At {t} the {a} passes the {b}; now it is {side} it.",
        "At {t} it crosses over and ends up {side} the {b}.",
    ),
    "stop": (
        "At {t} the {a} stops moving; at that moment it is {side} the {b}.",
        "The {a} comes to rest at {t}, {side} the {b}.",
    ),
}


@dataclass(frozen=True)
class RelativePositionParams(Params):
    crossings: tuple[int, int] = (0, 3)  # times A passes B in "count" questions, drawn uniformly
    waypoints: int = 5  # per path, ends included; bounds the crossings (at most waypoints - 1)
    offset: tuple[float, float] = (0.12, 0.4)  # |A - B| along the lanes at each waypoint
    size: tuple[float, float] = (0.07, 0.11)
    distractors: int = 1  # other objects gliding in their own lanes


class RelativePosition(Family):
    name = "relative_position"
    category = "short_term"
    Params = RelativePositionParams
    round2 = {"duration": (8.0, 12.0), "crossings": (0, 5), "waypoints": 7, "distractors": 2}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "crossings": (0, 7), "waypoints": 9, "distractors": 2, "offset": (0.1, 0.35)},
        {"duration": (12.0, 16.0), "crossings": (0, 9), "waypoints": 11, "distractors": 2, "offset": (0.09, 0.32)},
        {"duration": (14.0, 18.0), "crossings": (0, 11), "waypoints": 13, "distractors": 2, "offset": (0.08, 0.3)},
    )

    KINDS = ("passed", "count", "start_end", "side_at_stop", "when")

    def plan(self, rng, params):
        kind, count = pick(rng, self.KINDS), params.waypoints
        plan = {"kind": kind, "axis": int(rng.integers(2))}
        first = bool(rng.integers(2))  # A after B (right of / below it) at the first waypoint
        if kind == "count":
            plan["sides"] = _sides(rng, count, int(rng.integers(params.crossings[0], params.crossings[1] + 1)), first)
        elif kind == "passed":
            passed = bool(rng.integers(2))  # half of the passes come back, so the ends do not tell
            plan["sides"] = _sides(rng, count, int(rng.integers(1, 3)) if passed else 0, first)
        elif kind == "start_end":
            last = bool(rng.integers(2))
            crossings = [c for c in range(params.crossings[0], params.crossings[1] + 1) if c % 2 == (first != last)]
            plan["sides"] = _sides(rng, count, pick(rng, crossings), first)
        elif kind == "side_at_stop":
            # Sides drawn independently: the side at the stop says nothing about either end.
            plan["sides"] = [bool(s) for s in rng.integers(2, size=count)]
            plan["stop"] = int(rng.integers(1, count - 1))
            plan["asked"] = bool(rng.integers(2))
        else:
            # One unbroken stretch of waypoints on the asked side (``first`` serves as a fair coin
            # for it), never the whole clip.
            spans = [(i, j) for i in range(count) for j in range(i, count) if (i, j) != (0, count - 1)]
            i, j = pick(rng, spans)
            plan["asked"] = first
            plan["sides"] = [first == (i <= k <= j) for k in range(count)]
        return plan

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 2 + params.distractors, params.size)
        count, stop = params.waypoints, plan.get("stop")
        gap = num_frames // (count + 1)
        keys = [0, *motion.split_points(rng, num_frames, count - 2, gap, gap), num_frames - 1]
        frames = np.arange(num_frames)
        reach = max(o.size for o in objects) / 2 + motion.MARGIN
        lo, hi = reach, 1 - reach
        signs = np.where(plan["sides"], 1.0, -1.0)
        for _ in range(200):
            offset = signs * rng.uniform(*params.offset, size=count)
            center = rng.uniform(lo + np.abs(offset) / 2, hi - np.abs(offset) / 2)
            a, b = center + offset / 2, center - offset / 2
            if stop is not None:  # A stays where it is from the stop on, B keeps moving
                a[stop:] = a[stop]
                b[stop:] = a[stop] - offset[stop:]
            along_a, along_b = np.interp(frames, keys, a), np.interp(frames, keys, b)
            events = [Event(f, "pass", [objects[0].id, objects[1].id]) for f in _crossings(along_a > along_b)]
            if stop is not None:
                events.append(Event(keys[stop], "stop", [objects[0].id]))
            if b.min() >= lo and b.max() <= hi and _spaced(sorted(e.frame for e in events), num_frames):
                break
        else:
            raise RuntimeError("could not place the two paths in frame")
        along = [along_a, along_b] + [np.interp(frames, keys, rng.uniform(lo, hi, size=count)) for _ in objects[2:]]
        lanes = _lanes(rng, objects)
        tracks = {}
        for obj, path, lane in zip(objects, along, lanes):
            xy = (path, np.full(num_frames, lane)) if plan["axis"] == 0 else (np.full(num_frames, lane), path)
            tracks[obj.id] = Track(x=xy[0], y=xy[1], angle=np.zeros(num_frames), visible=np.ones(num_frames, bool))
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        a, b = timeline.objects[:2]
        name_a, name_b = motion.describe(a), motion.describe(b)
        before, after = SIDES[plan["axis"]]
        switch = SWITCH[plan["axis"]]
        coord = "x" if plan["axis"] == 0 else "y"
        ahead = getattr(timeline.tracks[a.id], coord) > getattr(timeline.tracks[b.id], coord)

        def side(frame):
            return after if ahead[frame] else before

        crossings = _crossings(ahead)
        kind = plan["kind"]
        if kind == "passed":
            text = pick(
                rng,
                (
                    f"Does the {name_a} ever get from one side of the {name_b} to the other ({switch}, or back)?",
                    f"At any point in the video, does the {name_a} pass the {name_b} ({switch}, or back)?",
                ),
            )
            return yes_no(text, bool(crossings), primitive="spatial_relation", kind=kind)
        if kind == "count":
            text = pick(
                rng,
                (
                    f"How many times does the {name_a} pass the {name_b}, going {switch} or back?",
                    f"Count how often the {name_a} changes sides relative to the {name_b} ({before}/{after}). How many times?",
                ),
            )
            return number(text, len(crossings), primitive="spatial_relation", kind=kind)
        if kind == "start_end":
            text = pick(
                rng,
                (
                    f"Where is the {name_a} relative to the {name_b} at the start of the video and at the end?",
                    f"Compare the beginning and the end of the video: on which side of the {name_b} is the {name_a} each time?",
                ),
            )
            options = [f"{PHRASE[s]} it at the start, {PHRASE[e]} it at the end" for s in (before, after) for e in (before, after)]
            answer = f"{PHRASE[side(0)]} it at the start, {PHRASE[side(timeline.num_frames - 1)]} it at the end"
            return multiple_choice(rng, text, answer, options, primitive="spatial_relation", kind=kind)
        asked = after if plan["asked"] else before
        if kind == "side_at_stop":
            stop = next(e.frame for e in timeline.events if e.type == "stop")
            text = pick(
                rng,
                (
                    f"The {name_a} stops moving at some point. At that moment, is it {PHRASE[asked]} the {name_b}?",
                    f"When the {name_a} comes to rest, is it {PHRASE[asked]} the {name_b}?",
                ),
            )
            return yes_no(text, side(stop) == asked, primitive="spatial_relation", kind=kind)
        frames = np.flatnonzero(ahead == plan["asked"])
        text = pick(
            rng,
            (
                f"When is the {name_a} {PHRASE[asked]} the {name_b}?",
                f"During which time span is the {name_a} {PHRASE[asked]} the {name_b}?",
            ),
        )
        # The stretch runs from the crossing onto that side to the crossing off it (or a clip end).
        end = min(frames[-1] + 1, timeline.num_frames - 1)
        return interval(text, timeline.time(frames[0]), timeline.time(end))

    # -- hooks: CoT narration, the verifier's count rule and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I watch the {a} relative to the {b} and note every time it changes sides.",
        "I keep track of which side of the {b} the {a} is on as they move.",
    )
    focus = {
        "start_end": ("So it is {answer_text}.",),
    }
    count_rule = CountRule(("count",), r"(?:pass(?:es)?|crossings?|switch(?:es)?|times?)", counted_events("pass", own=False))

    def observe(self, ctx: Context, w: Writer) -> None:
        a, b = ctx.objects[0].id, ctx.objects[1].id
        before, after = SIDES[ctx.plan["axis"]]
        coord = "x" if ctx.plan["axis"] == 0 else "y"
        ahead = getattr(ctx.tl.tracks[a], coord) > getattr(ctx.tl.tracks[b], coord)

        def side(frame: int) -> str:
            return PHRASE[after if ahead[frame] else before]

        names = {"a": ctx.names[a], "b": ctx.names[b]}
        w.say(
            ("At the start (0.00 s) the {a} is {side} the {b}.", "In the first frame (0.00 s) the {a} is {side} the {b}."),
            side=side(0),
            **names,
        )
        narrate_events(ctx, w, ctx.tl.events, EVENT_PHRASES, lambda e: {**names, "side": side(e.frame)})
        w.say(
            ("At the end ({end}) the {a} is {side} the {b}.", "In the last frame ({end}) it is {side} the {b}."),
            side=side(ctx.tl.num_frames - 1),
            **names,
            end=ts(ctx.end),
        )
        passes = sum(e.type == "pass" for e in ctx.tl.events)
        if ctx.kind == "side_at_stop":
            asked = PHRASE[after if ctx.plan["asked"] else before]
            w.say(("The question asks whether, when it stops, the {a} is {asked} the {b}.",), asked=asked, **names)
        if ctx.kind in ("count", "passed"):
            w.say(("So the {a} passes the {b} {times}.", "Altogether it changes sides {times}."), times=plural(passes, "time"), **names)

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        text = stem(row)
        named = asked_objects(row)
        a, b = named[0], named[1]
        if re.search(r"on which side of the .+ is the ", text):
            a, b = b, a
        options_text = " ".join(row["options"])
        axis = 0 if re.search(r"\b(left|right)\b", text + " " + options_text) else 1
        before, after = ("left", "right") if axis == 0 else ("above", "below")
        pa, pb = scene.position(a), scene.position(b)
        diff = pa[:, axis] - pb[:, axis]
        ahead = _hysteresis(diff, 0.5)
        crossings = _crossings(ahead)
        kind = row["question_type"]
        n = len(diff)
        if kind == "passed":
            return "yes" if crossings else "no"
        if kind == "count":
            return str(len(crossings))
        if kind == "start_end":
            side = lambda f: after if ahead[f] else before  # noqa: E731
            return f"{PHRASE[side(0)]} it at the start, {PHRASE[side(n - 1)]} it at the end"
        asked = next(s for s in (after, before) if f" {PHRASE[s]} the " in f" {text} ")
        if kind == "side_at_stop":
            stop = stop_frame(pa, scene.still_threshold())
            side = after if ahead[stop] else before
            return "yes" if side == asked else "no"
        frames = np.flatnonzero(ahead == (asked == after))
        if not frames.size:
            raise Unreadable(f"the {describe(a)} is never {PHRASE[asked]} the {describe(b)}")
        return scene.interval(int(frames[0]), min(int(frames[-1]) + 1, n - 1))


def _sides(rng, count, crossings, first):
    """Side of B at each of ``count`` waypoints, switching between ``crossings`` random pairs of them."""
    switches = set(rng.choice(count - 1, size=crossings, replace=False).tolist())
    sides = [first]
    for k in range(count - 1):
        sides.append(sides[-1] != (k in switches))
    return sides


def _crossings(ahead):
    """First frame on the new side, for every change of side."""
    return [int(f) + 1 for f in np.flatnonzero(ahead[1:] != ahead[:-1])]


def _spaced(frames, num_frames):
    """Events drawn on their own frames: apart from each other and from the clip's ends."""
    gaps_ok = all(b - a >= 2 * motion.MIN_EVENT_GAP for a, b in zip(frames, frames[1:]))
    return gaps_ok and all(motion.MIN_EVENT_GAP <= f <= num_frames - 1 - motion.MIN_EVENT_GAP for f in frames)


def _lanes(rng, objects):
    """One fixed cross-lane coordinate per object, far enough apart that passing objects never touch."""
    for _ in range(1000):
        lanes = [rng.uniform(o.size / 2 + motion.MARGIN, 1 - o.size / 2 - motion.MARGIN) for o in objects]
        if all(
            abs(lanes[i] - lanes[j]) >= (objects[i].size + objects[j].size) / 2 * math.sqrt(2) + motion.MARGIN
            for i in range(len(objects))
            for j in range(i)
        ):
            return lanes
    raise RuntimeError(f"no lanes for {len(objects)} objects")


def _hysteresis(diff: np.ndarray, band: float) -> np.ndarray:
    """diff > 0, with a side switch only once the difference leaves the band around zero."""
    state = bool(diff[0] > 0)
    out = np.empty(len(diff), bool)
    pending = None
    for f, value in enumerate(diff):
        side = value > 0
        if side != state:
            if pending is None:
                pending = f
            if abs(value) > band:
                out[pending:f] = side
                state, pending = side, None
        else:
            pending = None
        out[f] = state
    return out
