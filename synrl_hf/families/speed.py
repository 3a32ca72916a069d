"""speed: which object is faster, and whether (and when) an object's speed changes.

Every object glides about the whole frame from a random spot in a random heading, bouncing off the
walls and each other (:mod:`synrl_hf.billiards`), so a single frame shows where objects are but never
how fast they go. Speed changes here are
abrupt (a switch between two speeds, or a pause); gradual changes are the ``acceleration`` family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import motion
from ..billiards import billiards
from ..narration import Context, Writer, mean_speeds, narrate_events, pct, say_speeds
from ..perception import CONTACT_GAP, MIN_STOP_PATH, px, seconds
from ..pixels import PixelScene, asked_objects, describe, moving_runs, speeds, stem, step_fit
from ..questions import interval, multiple_choice, pick, yes_no
from ..timeline import Event, Timeline
from .base import FPS, Family, Params, draw_num_frames

CHANGES = {
    "constant": "It keeps the same speed the whole time",
    "speed_up": "It switches from slow to fast",
    "slow_down": "It switches from fast to slow",
    "stop_and_go": "It stops for a moment, then moves on",
}
# The event types each kind of change leaves on the target, in order.
CHANGE_EVENTS = {"constant": [], "speed_up": ["speed_up"], "slow_down": ["slow_down"], "stop_and_go": ["stop", "resume"]}
EVENT_PHRASES = {
    "speed_up": ("At {t} the {obj} suddenly speeds up.", "At {t} it switches to a faster pace."),
    "slow_down": ("At {t} the {obj} suddenly slows down.", "At {t} it drops to a slower pace."),
    "stop": ("At {t} the {obj} stops dead.", "At {t} it comes to a halt."),
    "resume": ("At {t} it moves on again.", "It starts moving again at {t}."),
}


@dataclass(frozen=True)
class SpeedParams(Params):
    objects: int = 4  # four gives "which is fastest" four options
    size: tuple[float, float] = (0.07, 0.11)
    slowest: tuple[float, float] = (0.06, 0.1)  # canvas units per second
    gap: tuple[float, float] = (1.4, 1.7)  # ratio between the speeds of two objects
    change_ratio: tuple[float, float] = (2.0, 3.0)  # fast / slow when an object switches speed


ROUND2 = {"duration": (8.0, 12.0), "gap": (1.2, 1.35), "change_ratio": (1.5, 2.0)}
# Levels 2-4 go beyond the paper: longer clips, closer speeds, smaller switches.
LADDER = (
    {},
    ROUND2,
    {"duration": (8.0, 12.0), "gap": (1.15, 1.25), "change_ratio": (1.4, 1.7)},
    {"duration": (10.0, 14.0), "gap": (1.1, 1.2), "change_ratio": (1.3, 1.5)},
    {"duration": (12.0, 16.0), "gap": (1.08, 1.15), "change_ratio": (1.25, 1.4)},
)
PERCEPTUAL_CONTRACT = {
    "all kinds": (f"every object glides in straight lines and turns only at a wall or another object (outlines within {px(CONTACT_GAP)})",),
    "extreme, compare": (
        f"the objects keep constant speeds, each at least {SpeedParams.gap[0]} times the next slower one ({ROUND2['gap'][0]} in "
        f"round2, {LADDER[-1]['gap'][0]} at level 4), as measured on the drawn centers over a few frames",
    ),
    "change, when": (
        f"a switch of speed is by a factor of at least {SpeedParams.change_ratio[0]} ({ROUND2['change_ratio'][0]} in round2, "
        f"{LADDER[-1]['change_ratio'][0]} at level 4), "
        "and the faster or slower stretch lasts at least a quarter of the clip",
        f"a pause lasts at least a sixth of the clip (at least {seconds(20)}) and comes after a path of at least {px(MIN_STOP_PATH)}",
    ),
}


class Speed(Family):
    name = "speed"
    category = "short_term"
    Params = SpeedParams
    round2 = ROUND2
    ladder = LADDER

    KINDS = ("extreme", "compare", "change", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "extreme":
            return {"kind": kind, "extreme": pick(rng, ("fastest", "slowest"))}
        if kind == "compare":
            return {"kind": kind, "faster": bool(rng.integers(2))}
        if kind == "change":
            return {"kind": kind, "change": pick(rng, tuple(CHANGES))}
        return {"kind": kind, "burst": pick(rng, ("faster", "slower"))}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, params.objects, params.size)
        if plan["kind"] in ("extreme", "compare"):
            speeds = rng.permutation(motion.speed_ladder(rng, len(objects), params.slowest, params.gap))
            if plan["kind"] == "compare" and (speeds[0] > speeds[1]) != plan["faster"]:
                speeds[[0, 1]] = speeds[[1, 0]]
            profiles, events = [np.full(num_frames - 1, s) for s in speeds], []
        else:
            profile, events = _target_profile(rng, params, plan, num_frames, objects[0].id)
            top = params.slowest[1] * params.change_ratio[1]
            profiles = [profile] + [np.full(num_frames - 1, rng.uniform(params.slowest[0], top)) for _ in objects[1:]]
        return Timeline(FPS, num_frames, objects, billiards(rng, objects, profiles, FPS), events)

    def ask(self, rng, timeline, plan):
        objects = timeline.objects
        names = [motion.describe(o) for o in objects]
        kind = plan["kind"]
        if kind in ("extreme", "compare"):
            mean_speed = [motion.track_speed(timeline.tracks[o.id].x, timeline.tracks[o.id].y, timeline.fps).mean() for o in objects]
            if kind == "compare":
                text = pick(
                    rng,
                    (
                        f"Is the {names[0]} moving faster than the {names[1]}?",
                        f"Does the {names[0]} travel at a higher speed than the {names[1]}?",
                    ),
                )
                return yes_no(text, mean_speed[0] > mean_speed[1], primitive="speed", kind=kind)
            extreme = plan["extreme"]
            answer = names[int(np.argmax(mean_speed) if extreme == "fastest" else np.argmin(mean_speed))]
            text = pick(
                rng,
                (
                    f"Which object moves the {'fastest' if extreme == 'fastest' else 'slowest'}?",
                    f"Of the moving shapes, which one is the {'quickest' if extreme == 'fastest' else 'slowest'}?",
                ),
            )
            return multiple_choice(
                rng, text, answer, [n for n in names if n != answer], primitive="speed", kind=kind, num_options=len(objects)
            )
        target = names[0]
        changes = [e for e in timeline.events if e.objects == [objects[0].id]]
        if kind == "change":
            types = [e.type for e in changes]
            answer = next(CHANGES[c] for c, expected in CHANGE_EVENTS.items() if expected == types)
            text = pick(
                rng,
                (
                    f"How does the speed of the {target} change during the video?",
                    f"Watch the {target}. Which describes its speed?",
                ),
            )
            return multiple_choice(rng, text, answer, list(CHANGES.values()), primitive="speed", kind=kind)
        start, end = changes
        faster = start.type == "speed_up"
        text = pick(
            rng,
            (
                f"When does the {target} move {'faster' if faster else 'slower'} than during the rest of the video?",
                f"During which time span is the {target} {'sped up' if faster else 'slowed down'} compared with the rest of the clip?",
            ),
        )
        return interval(text, timeline.time(start.frame), timeline.time(end.frame))

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I compare how far each object travels over the same stretch of time.",
        "Speed only shows across frames, so I watch how quickly each shape covers ground.",
    )
    focus = {
        "extreme": ("The {extreme} of them is the {answer_text}.", "So the {extreme} mover is the {answer_text}."),
        "change": ("So: {answer_text_lower}.", "That describes its speed as: {answer_text_lower}."),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        if ctx.kind in ("extreme", "compare"):
            measured = mean_speeds(ctx)
            say_speeds(ctx, w, measured)
            if ctx.kind == "compare":
                a, b = ctx.objects[0].id, ctx.objects[1].id
                faster = measured[a] > measured[b]
                w.say(
                    ("The {a} ({va}) is {cmp} than the {b} ({vb}).",),
                    a=ctx.names[a],
                    b=ctx.names[b],
                    va=pct(measured[a]),
                    vb=pct(measured[b]),
                    cmp="faster" if faster else "slower",
                )
            return
        events = ctx.own()
        if not events:
            w.say(
                ("From the start (0.00 s) to the end ({end}) the {target} keeps one pace: it never stops and never switches speed.",),
                **ctx.fields(),
            )
        narrate_events(ctx, w, events, EVENT_PHRASES)

    def focus_fields(self, ctx: Context) -> dict[str, Any]:
        if ctx.kind == "extreme":
            return {"extreme": "fastest" if ctx.plan["extreme"] == "fastest" else "slowest"}
        return {}

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        kind = row["question_type"]
        objects = row["objects"]
        if kind == "extreme":
            mean = scene.mean_speeds()
            fastest = "fastest" in stem(row) or "quickest" in stem(row)
            return describe(objects[int(np.argmax(mean) if fastest else np.argmin(mean))])
        if kind == "compare":
            a, b = asked_objects(row)[:2]
            return "yes" if speeds(scene.track(a)).mean() > speeds(scene.track(b)).mean() else "no"
        (target, *_) = asked_objects(row)
        s = speeds(scene.track(target))
        if kind == "change":
            moving = np.percentile(s, 90)
            still = s < 0.2 * moving
            if any(b - a + 1 >= 8 for a, b in moving_runs(still, min_gap=1)):
                return "It stops for a moment, then moves on"
            # A switch is a quarter of the clip from either end: a shorter end segment is the speed
            # estimate's own edge, where a slow object's whole-pixel steps average out less.
            (cut,) = step_fit(s, 1, min_length=len(s) // 5)
            ratio = s[cut:].mean() / max(s[:cut].mean(), 1e-9)
            if ratio > 1.4:
                return "It switches from slow to fast"
            if ratio < 1 / 1.4:
                return "It switches from fast to slow"
            return "It keeps the same speed the whole time"
        first, second = step_fit(s, 2, min_length=len(s) // 10)  # a burst starts an eighth of the clip in
        return scene.interval(first, second)


def _target_profile(rng, params, plan, num_frames, oid):
    """The target's per-frame speeds and its speed-change events (change and when kinds)."""
    slow = rng.uniform(*params.slowest)
    fast = slow * rng.uniform(*params.change_ratio)
    speeds = np.full(num_frames - 1, slow)
    if plan["kind"] == "when":
        # A burst of one speed inside the other: the asked span runs between two events.
        first, second = motion.split_points(rng, num_frames, 2, min_gap=num_frames // 4, edge=num_frames // 8)
        inside, outside = (fast, slow) if plan["burst"] == "faster" else (slow, fast)
        speeds[:] = outside
        speeds[first:second] = inside
        up, down = ("speed_up", "slow_down") if plan["burst"] == "faster" else ("slow_down", "speed_up")
        return speeds, [Event(first, up, [oid]), Event(second, down, [oid])]
    change = plan["change"]
    if change == "constant":
        # Any speed the changing profiles pass through, so the pace alone never gives it away.
        return np.full(num_frames - 1, rng.uniform(slow, fast)), []
    if change == "stop_and_go":
        # The pause comes after a path of MIN_STOP_PATH at the least, even at the slowest pace.
        edge = max(num_frames // 5, math.ceil(MIN_STOP_PATH * FPS / params.slowest[0]))
        stop, resume = motion.split_points(rng, num_frames, 2, min_gap=num_frames // 6, edge=edge)
        speeds[:] = rng.uniform(slow, fast)
        speeds[stop:resume] = 0.0
        return speeds, [Event(stop, "stop", [oid]), Event(resume, "resume", [oid])]
    (switch,) = motion.split_points(rng, num_frames, 1, min_gap=0, edge=num_frames // 4)
    before, after = (slow, fast) if change == "speed_up" else (fast, slow)
    speeds[:switch] = before
    speeds[switch:] = after
    return speeds, [Event(switch, change, [oid])]
