"""relative_position: where one moving object is relative to another over time, and when that changes.

Objects glide along parallel lanes (rows, or columns) at their own constant speeds and bounce off
the frame's walls at the ends of their lanes, so A can pass B without touching it and every reversal
has a cause a viewer sees. The plan fixes the sides (answer first): on which side of B the object A
is in each stretch between two passes (or, for "side_at_stop", at the start, at A's stop and at the
end, drawn independently); start spots and speeds are drawn until the motion realises them, so a
single frame shows one side at one moment and nothing about passes, stops or the other end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, CountRule, Writer, counted_events, narrate_events, plural, ts
from ..perception import CONTACT_GAP, MIN_COUNT_GAP, MIN_STOP_PATH, px, seconds
from ..pixels import PixelScene, Unreadable, asked_objects, describe, stem, stop_frame
from ..questions import interval, multiple_choice, number, pick, yes_no
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

SIDES = (("left", "right"), ("above", "below"))  # per axis: A before / after B along it
PHRASE = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
SWITCH = ("from its left to its right", "from above it to below it")  # per axis
EDGE = 6  # frames: no pass this close to the clip's ends
BATCH = 256  # candidate motions tried at once
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
    # Lane lengths each object glides over the clip: its speed scales with 1 / duration, so how often
    # A passes B says nothing about the clip's length.
    traversals: tuple[float, float] = (0.25, 3.0)
    side_gap: float = 0.1  # |A - B| along the lanes in the first and last frames, at the stop, and somewhere between passes
    size: tuple[float, float] = (0.07, 0.11)
    distractors: int = 1  # other objects gliding in their own lanes


PERCEPTUAL_CONTRACT = {
    "all kinds": (
        f"A and B glide along lanes and turn back only at the frame's walls (their outlines come within {px(CONTACT_GAP)} of the edge)",
        f"at the first and last frames, and at least once between two passes, A's center is {px(RelativePositionParams.side_gap)} "
        "or more from B's along the lanes, so every side and every pass is plain",
        f"two passes are at least {seconds(MIN_COUNT_GAP)} apart and {EDGE} frames from the clip's ends",
    ),
    "side_at_stop": (
        f"A travels at least {px(MIN_STOP_PATH)} before it stops, and stays still to the end while B moves on",
        f"at the stop A is {px(RelativePositionParams.side_gap)} or more from B along the lanes",
    ),
}


class RelativePosition(Family):
    name = "relative_position"
    category = "short_term"
    Params = RelativePositionParams
    round2 = {"duration": (8.0, 12.0), "crossings": (0, 5), "traversals": (0.2, 5.0), "distractors": 2}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "crossings": (0, 6), "traversals": (0.2, 6.0), "distractors": 2},
        {"duration": (12.0, 16.0), "crossings": (0, 7), "traversals": (0.2, 7.0), "distractors": 2},
        {"duration": (14.0, 18.0), "crossings": (0, 8), "traversals": (0.2, 8.0), "distractors": 3},
    )

    KINDS = ("passed", "count", "start_end", "side_at_stop", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        plan = {"kind": kind, "axis": int(rng.integers(2))}
        first = bool(rng.integers(2))  # A after B (right of / below it) at the start
        low, high = params.crossings
        if kind == "count":
            plan["sides"] = _alternating(first, int(rng.integers(low, high + 1)))
        elif kind == "passed":
            passed = bool(rng.integers(2))  # half of the passes come back, so the ends do not tell
            plan["sides"] = _alternating(first, int(rng.integers(1, 3)) if passed else 0)
        elif kind == "start_end":
            last = bool(rng.integers(2))
            crossings = [c for c in range(low, high + 1) if c % 2 == (first != last)]
            plan["sides"] = _alternating(first, pick(rng, crossings))
        elif kind == "side_at_stop":
            # Drawn independently: the side at the stop says nothing about either end.
            plan["at"] = [bool(s) for s in rng.integers(2, size=3)]  # at the start, at the stop, at the end
            plan["asked"] = bool(rng.integers(2))
        else:
            # One unbroken stretch on the asked side, never the whole clip: before, after or between passes.
            plan["asked"] = first
            shape = pick(rng, ("before", "after", "between"))
            plan["sides"] = {"before": [first, not first], "after": [not first, first], "between": [not first, first, not first]}[shape]
        return plan

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 2 + params.distractors, params.size)
        axis = plan["axis"]
        # A's stop, anywhere in the middle half: it has glided at least a quarter of the clip by then.
        stop = int(rng.integers(num_frames // 4, num_frames - num_frames // 4)) if plan["kind"] == "side_at_stop" else None
        t = np.arange(num_frames) / FPS
        bounds = [_lane_bounds(o, axis) for o in objects]
        for _ in range(100):
            a, b = (_glide(rng, BATCH, bounds[k], params.traversals, t) for k in range(2))
            if stop is not None:  # A stays where it is from the stop on, B keeps moving
                a[:, stop:] = a[:, stop : stop + 1]
            chosen = next((k for k in range(BATCH) if _realises(a[k], b[k], plan, stop, params.side_gap, params.crossings)), None)
            if chosen is not None:
                break
        else:
            raise RuntimeError(f"could not realise the sides {plan.get('sides', plan.get('at'))} in {num_frames} frames")
        along = [a[chosen], b[chosen]] + [_glide(rng, 1, bounds[k], params.traversals, t)[0] for k in range(2, len(objects))]
        ahead = along[0] > along[1]
        events = [Event(f, "pass", [objects[0].id, objects[1].id]) for f in _crossings(ahead)]
        if stop is not None:
            events.append(Event(stop, "stop", [objects[0].id]))
        lanes = _lanes(rng, objects, axis)
        tracks = {}
        for obj, path, lane in zip(objects, along, lanes):
            xy = (path, np.full(num_frames, lane)) if axis == 0 else (np.full(num_frames, lane), path)
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


def _alternating(first, crossings):
    """The side in each stretch between passes: ``crossings`` switches starting from ``first``."""
    return [first == (k % 2 == 0) for k in range(crossings + 1)]


def _lane_bounds(obj, axis):
    """Where the object's center may go along its lane: its outline touches a wall at either end."""
    half = motion.half_extents(obj)[axis] + CONTACT_GAP
    return half, 1.0 - half


def _glide(rng, count, bounds, traversals, t):
    """``count`` candidate glides along a lane: a random start, a random speed either way (in lane
    lengths per clip), bouncing off the walls at the lane's ends (one row of positions per candidate)."""
    lo, hi = bounds
    start = rng.uniform(lo, hi, size=(count, 1))
    speed = rng.uniform(*traversals, size=(count, 1)) * (hi - lo) / t[-1]
    velocity = speed * rng.choice([-1.0, 1.0], size=(count, 1))
    return motion.bounce_axis(start, velocity, lo, hi, t[None, :])


def _realises(a, b, plan, stop, side_gap, crossings):
    """Whether A and B along the lanes (per frame) show the planned sides, plainly."""
    offset = a - b
    ahead = offset > 0
    passes = _crossings(ahead)
    n = len(offset)
    if plan["kind"] == "side_at_stop":
        if [ahead[0], ahead[stop], ahead[-1]] != plan["at"] or len(passes) > crossings[1] or abs(offset[stop]) < side_gap:
            return False
        if np.abs(np.diff(a[: stop + 1])).sum() < MIN_STOP_PATH:
            return False
    elif len(passes) != len(plan["sides"]) - 1 or bool(ahead[0]) != plan["sides"][0]:
        return False
    if abs(offset[0]) < side_gap or abs(offset[-1]) < side_gap:
        return False
    if any(b - a < MIN_COUNT_GAP for a, b in zip(passes, passes[1:])) or any(f < EDGE or f > n - 1 - EDGE for f in passes):
        return False
    # Between two passes A gets clearly ahead or behind, so each pass is seen as one.
    return all(np.abs(offset[a:b]).max() >= side_gap for a, b in zip(passes, passes[1:]))


def _crossings(ahead):
    """First frame on the new side, for every change of side."""
    return [int(f) + 1 for f in np.flatnonzero(ahead[1:] != ahead[:-1])]


def _lanes(rng, objects, axis):
    """One fixed cross-lane coordinate per object, far enough apart that passing objects never touch."""
    across = 1 - axis
    for _ in range(1000):
        lanes = [
            rng.uniform(*(motion.half_extents(o)[across] + motion.MARGIN, 1 - motion.half_extents(o)[across] - motion.MARGIN))
            for o in objects
        ]
        if all(
            abs(lanes[i] - lanes[j]) >= motion.half_extents(objects[i])[across] + motion.half_extents(objects[j])[across] + motion.MARGIN
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
