"""rotation_count: how many full turns a spinning object makes, and which way it turns.

The object (a shape whose outline shows rotation, plus a marker dot) rests, spins at a constant
rate through a whole number of turns plus a random fraction, then rests. The start angle is random,
so neither the first nor the last frame gives the count away. The rate stays far below the
wagon-wheel limit: the marker moves at most ``max_step`` degrees between frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, CountRule, Writer, counted_events, narrate_events, plural
from ..palette import ROTATION_SHAPES
from ..perception import MIN_COUNT_GAP, px, seconds
from ..pixels import PixelScene, Unreadable, asked_objects, marker_angles, ordinals_in, stem
from ..questions import draw_numeric_layout, interval, number, numeric_choice, ordinal, pick, yes_no
from ..shapes import MARKER_RADIUS
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

DOT_NOTE = "Follow the dot on it."
EVENT_PHRASES = {
    "spin_start": ("At {t} the {obj} starts spinning {detail}.", "The {obj} begins to rotate {detail} at {t}."),
    "full_turn": (
        "At {t} the dot is back at its starting angle: full turn {n}.",
        "{t}: the {nth} complete turn is done.",
        "By {t} it has turned a full 360 degrees {n_times}.",
    ),
    "spin_stop": (
        "At {t} it stops, part of the way into another turn.",
        "It stops spinning at {t}, before completing another turn.",
    ),
}


@dataclass(frozen=True)
class RotationParams(Params):
    count: tuple[int, int] = (1, 4)  # full turns, drawn uniformly (the answer)
    size: tuple[float, float] = (0.14, 0.22)
    max_step: float = 18.0  # degrees per frame: well under the 180 where the turning direction aliases
    min_step: float = 4.0  # degrees per frame, so the spin is plainly visible
    fraction: tuple[float, float] = (0.15, 0.85)  # of a turn after the last full one: never close to whole
    distractors: int = 0  # other spinning objects


PERCEPTUAL_CONTRACT = {
    "count, count_choice, direction, when": (
        f"the object carries a marker dot of radius {MARKER_RADIUS:g} of its size (at least "
        f"{px(MARKER_RADIUS * RotationParams.size[0])}) that the pixel reader follows at every frame",
        f"it turns at {RotationParams.min_step:g} to {RotationParams.max_step:g} degrees a frame: far below the 180 where the way it "
        f"turns would alias, so one full turn takes at least {seconds(int(360 / RotationParams.max_step))} "
        f"(full turns at least {seconds(MIN_COUNT_GAP)} apart)",
        "it stops a clear fraction of a turn past its last full one (15% to 85%), never close to a whole count",
    ),
}


class RotationCount(Family):
    name = "rotation_count"
    category = "short_term"
    Params = RotationParams
    round2 = {"duration": (8.0, 12.0), "count": (2, 7), "distractors": 1}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "count": (3, 9), "distractors": 2},
        {"duration": (12.0, 16.0), "count": (4, 11), "distractors": 2},
        {"duration": (14.0, 18.0), "count": (5, 13), "distractors": 3},
    )

    KINDS = ("count", "count_choice", "direction", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        low, high = params.count
        plan = {"kind": kind, "clockwise": bool(rng.integers(2)), "count": int(rng.integers(low, high + 1))}
        if kind == "count_choice":
            # Options stay inside the count range; the lowest is drawn first so they never reveal the rank.
            plan["count"], plan["rank"] = draw_numeric_layout(rng, (low, max(high - 3, low)))
        if kind == "direction":
            plan["asked_clockwise"] = bool(rng.integers(2))
        if kind == "when":
            plan["turn"] = int(rng.integers(1, plan["count"] + 1))
        return plan

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 1 + params.distractors, params.size, shapes=ROTATION_SHAPES, marker=True)
        tracks, events = {}, []
        for i, (obj, box) in enumerate(zip(objects, motion.grid_cells(rng, len(objects)))):
            count = plan["count"] if i == 0 else int(rng.integers(params.count[0], params.count[1] + 1))
            clockwise = plan["clockwise"] if i == 0 else bool(rng.integers(2))
            angle, spin_events = _spin(rng, params, num_frames, count, clockwise, obj.id)
            x, y = motion.place_in_box(rng, np.zeros(1), np.zeros(1), box, obj)
            tracks[obj.id] = Track(x=np.full(num_frames, x[0]), y=np.full(num_frames, y[0]), angle=angle, visible=np.ones(num_frames, bool))
            events += spin_events
        return Timeline(FPS, num_frames, objects, tracks, events)

    def ask(self, rng, timeline, plan):
        target = timeline.objects[0]
        name = motion.describe(target)
        turned = np.diff(timeline.tracks[target.id].angle).sum()  # signed, positive = clockwise on screen
        count = int(abs(turned) // 360)
        kind = plan["kind"]
        if kind == "count":
            text = pick(
                rng,
                (
                    f"How many full rotations does the {name} make? {DOT_NOTE}",
                    f"Count the complete turns of the {name}. How many full 360-degree turns does it make? {DOT_NOTE}",
                ),
            )
            return number(text, count, primitive="counting", kind=kind)
        if kind == "count_choice":
            text = pick(
                rng,
                (
                    f"How many full turns does the {name} complete? {DOT_NOTE}",
                    f"The {name} spins. How many complete rotations does it make? {DOT_NOTE}",
                ),
            )
            return numeric_choice(text, count, plan["rank"], primitive="counting", kind=kind)
        if kind == "direction":
            asked = "clockwise" if plan["asked_clockwise"] else "counter-clockwise"
            text = pick(
                rng,
                (
                    f"Does the {name} rotate {asked}? {DOT_NOTE}",
                    f"Seen on screen, is the {name} spinning {asked}? {DOT_NOTE}",
                ),
            )
            return yes_no(text, (turned > 0) == plan["asked_clockwise"], primitive="direction", kind=kind)
        turns = [e for e in timeline.events if e.objects == [target.id] and e.type in ("spin_start", "full_turn")]
        k = plan["turn"]
        text = pick(
            rng,
            (
                f"When does the {name} make its {ordinal(k)} full turn? {DOT_NOTE}",
                f"From when to when does the {name} perform its {ordinal(k)} full rotation? {DOT_NOTE}",
            ),
        )
        return interval(text, timeline.time(turns[k - 1].frame), timeline.time(turns[k].frame))

    # -- hooks: CoT narration, the verifier's count rule and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I follow the dot on the {target}: each time it comes back to its starting angle, one full turn is done.",
        "To count turns I track the marker dot on the {target} as it spins.",
    )
    count_rule = CountRule(
        ("count", "count_choice"),
        r"(?:full\s+|complete\s+)?(?:turns?|rotations?|revolutions?|times?)",
        counted_events("full_turn", own=True),
    )

    def observe(self, ctx: Context, w: Writer) -> None:
        narrate_events(
            ctx,
            w,
            ctx.own(),
            EVENT_PHRASES,
            lambda e: {"n_times": {1: "once", 2: "twice"}.get(int(e.detail), f"{e.detail} times over") if e.type == "full_turn" else ""},
        )
        turns = len(ctx.own("full_turn"))
        if ctx.kind in ("count", "count_choice"):
            w.say(
                ("That makes {turns}.", "So it completes {rotations}.", "In total: {complete}."),
                turns=plural(turns, "full turn"),
                rotations=plural(turns, "full rotation"),
                complete=plural(turns, "complete turn"),
            )
        elif ctx.kind == "direction":
            actual = ctx.own("spin_start")[0].detail
            asked = "clockwise" if ctx.plan["asked_clockwise"] else "counter-clockwise"
            w.say(("The question asks about {asked}; it spins {actual}.",), asked=asked, actual=actual)

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (obj, *_) = asked_objects(row)
        track = scene.track(obj)
        angle = marker_angles(scene.frames, track, obj["size"], obj["rgb"])
        found = ~np.isnan(angle)
        if found.sum() < 0.9 * len(angle):
            raise Unreadable("the rotation marker is not found")
        frames = np.arange(len(angle))
        angle = np.interp(frames, frames[found], np.unwrap(np.radians(angle[found]))) * 180 / math.pi
        turned = angle - angle[0]
        total = turned[-1]
        kind = row["question_type"]
        if kind in ("count", "count_choice"):
            return str(int(abs(total) // 360))
        if kind == "direction":
            asked_clockwise = "counter-clockwise" not in stem(row)
            return "yes" if (total > 0) == asked_clockwise else "no"
        (k,) = ordinals_in(stem(row))[:1]
        sign = 1.0 if total > 0 else -1.0
        progress = sign * turned
        noise = 3.0
        moving = np.flatnonzero(np.abs(np.diff(angle)) > noise)
        if not moving.size:
            raise Unreadable("the object never turns")
        spin_start = int(moving[0])
        base = progress[spin_start]
        done = [int(np.argmax(progress - base >= 360.0 * j)) for j in range(1, k + 1) if (progress - base >= 360.0 * j).any()]
        if len(done) < k:
            raise Unreadable(f"turn {k} is never completed")
        bounds = [spin_start] + done
        return scene.interval(bounds[k - 1], bounds[k])


def _spin(rng, params, num_frames, count, clockwise, oid):
    """Cumulative angle per frame (rest, constant-rate spin, rest) and the spin's events."""
    edge = motion.MIN_EVENT_GAP
    for _ in range(200):
        total = 360.0 * (count + rng.uniform(*params.fraction))
        shortest = math.ceil(total / params.max_step)
        longest = min(int(total / params.min_step), num_frames - 1 - 2 * edge)
        if shortest > longest:
            continue
        spin_frames = int(rng.integers(shortest, longest + 1))
        start = int(rng.integers(edge, num_frames - edge - spin_frames))
        step = total / spin_frames
        # The first frame drawn past each k * 360 degrees is that turn's completion.
        completions = [start + math.ceil(k * 360.0 / step - 1e-9) for k in range(1, count + 1)]
        frames = [start, *completions, start + spin_frames]
        if all(b - a >= motion.MIN_EVENT_GAP for a, b in zip(frames, frames[1:])):
            break
    else:
        raise RuntimeError(f"cannot fit {count} turns in {num_frames} frames at <= {params.max_step} deg/frame")
    sign = 1.0 if clockwise else -1.0
    angle = rng.uniform(0, 360) + sign * step * np.clip(np.arange(num_frames) - start, 0, spin_frames)
    direction = "clockwise" if clockwise else "counter-clockwise"
    events = [Event(start, "spin_start", [oid], direction)]
    events += [Event(f, "full_turn", [oid], str(k)) for k, f in enumerate(completions, 1)]
    events.append(Event(start + spin_frames, "spin_stop", [oid]))
    return angle, events
