"""acceleration: is an object speeding up, slowing down, keeping a constant speed, or both in turn?

The object glides about the frame, bouncing off the walls and any other object
(:mod:`synrl_hf.billiards`), while its speed changes smoothly (piecewise constant acceleration)
between a slow and a fast speed whose ratio stays well above what a viewer can notice. Start spot and
heading are random, so no single frame shows the trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import motion
from ..billiards import billiards
from ..narration import Context, Writer, narrate_events, pct
from ..perception import CONTACT_GAP, px
from ..pixels import SPEED_EDGE, PixelScene, asked_objects, knot_fit, ramp_fit, speeds, stem
from ..questions import interval, multiple_choice, pick, yes_no
from ..timeline import Event, Timeline
from .base import FPS, Family, Params, draw_num_frames

TRENDS = {
    "speeding up": "It speeds up",
    "slowing down": "It slows down",
    "constant": "It keeps a constant speed",
    # The two compound trends make four options possible, and a model must watch the whole clip.
    "up then down": "It speeds up, then slows down",
    "down then up": "It slows down, then speeds up",
}
CHECKS = {
    "speeding up": ("Is the {} speeding up?", "Does the {} get faster over time?"),
    "slowing down": ("Is the {} slowing down?", "Does the {} get slower over time?"),
    "constant": ("Does the {} keep a constant speed?", "Is the speed of the {} steady throughout?"),
    "up then down": ("Does the {} first speed up and then slow down?", "Does the {} get faster and then slower again?"),
    "down then up": ("Does the {} first slow down and then speed up?", "Does the {} get slower and then faster again?"),
}
CHANGE_THRESHOLD = 1.15  # fastest / slowest speed read off the track that counts as a change
EDGE = 0.1  # a speed extreme further than this fraction of the clip from both ends is a turning point
EVENT_PHRASES = {
    "ramp_start": ("At {t} the {obj} begins {detail}.", "From {t} on, the {obj} is {detail}."),
    "ramp_end": ("At {t} its speed settles again.", "By {t} it moves at a steady speed again."),
}


@dataclass(frozen=True)
class AccelerationParams(Params):
    objects: int = 1  # the target plus distractors with their own trends
    size: tuple[float, float] = (0.08, 0.13)
    slow: tuple[float, float] = (0.08, 0.16)  # canvas units per second
    ratio: tuple[float, float] = (2.5, 3.5)  # fast / slow speed


ROUND2 = {"duration": (8.0, 12.0), "objects": 2, "ratio": (1.7, 2.2)}
# Levels 2-4 go beyond the paper: longer clips, more objects, gentler changes of pace.
LADDER = (
    {},
    ROUND2,
    {"duration": (8.0, 12.0), "objects": 3, "ratio": (1.5, 1.8)},
    {"duration": (10.0, 14.0), "objects": 3, "ratio": (1.35, 1.6)},
    {"duration": (12.0, 16.0), "objects": 4, "ratio": (1.25, 1.45)},
)
PERCEPTUAL_CONTRACT = {
    "trend, check, when": (
        f"the object glides in straight lines and turns only at a wall or another object (outlines within {px(CONTACT_GAP)})",
        f"a changing speed goes between a slow and a fast pace at least {AccelerationParams.ratio[0]} times apart "
        f"({ROUND2['ratio'][0]} in round2, {LADDER[-1]['ratio'][0]} at level 4), as measured on the drawn centers; a constant one stays within a few percent",
        "a ramp (the when question) lasts at least a third of the clip",
    ),
}


class Acceleration(Family):
    name = "acceleration"
    category = "short_term"
    Params = AccelerationParams
    round2 = ROUND2
    ladder = LADDER

    KINDS = ("trend", "check", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        trends = tuple(TRENDS)
        if kind == "check":
            asked, holds = pick(rng, trends), bool(rng.integers(2))
            trend = asked if holds else pick(rng, [t for t in trends if t != asked])
            return {"kind": kind, "trend": trend, "asked": asked}
        return {"kind": kind, "trend": pick(rng, trends[:2] if kind == "when" else trends)}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, params.objects, params.size)
        profiles, events = [], []
        for i, obj in enumerate(objects):
            slow = rng.uniform(*params.slow)
            fast = slow * rng.uniform(*params.ratio)
            if i == 0 and plan["kind"] == "when":
                # Steady, one ramp, steady again: the ramp is the asked span.
                start, end = motion.split_points(rng, num_frames, 2, min_gap=num_frames // 3, edge=num_frames // 8)
                low, high = (slow, fast) if plan["trend"] == "speeding up" else (fast, slow)
                speeds = np.interp(np.arange(num_frames - 1), [start, end], [low, high])
                events += [Event(start, "ramp_start", [obj.id], plan["trend"]), Event(end, "ramp_end", [obj.id])]
            else:
                speeds = _trend_speeds(rng, plan["trend"] if i == 0 else pick(rng, tuple(TRENDS)), num_frames, slow, fast)
            profiles.append(speeds)
        return Timeline(FPS, num_frames, objects, billiards(rng, objects, profiles, FPS), events)

    def ask(self, rng, timeline, plan):
        target = timeline.objects[0]
        name = motion.describe(target)
        kind = plan["kind"]
        if kind == "when":
            start, end = (e for e in timeline.events if e.objects == [target.id])
            text = pick(
                rng,
                (
                    f"When is the {name} {start.detail}?",
                    f"The {name} changes its speed gradually at one point. During which time span is it {start.detail}?",
                ),
            )
            return interval(text, timeline.time(start.frame), timeline.time(end.frame))
        track = timeline.tracks[target.id]
        trend = _read_trend(motion.track_speed(track.x, track.y, timeline.fps))
        if kind == "check":
            text = pick(rng, CHECKS[plan["asked"]]).format(name)
            return yes_no(text, trend == plan["asked"], primitive="speed", kind=kind)
        text = pick(
            rng,
            (
                f"How does the speed of the {name} change over the video?",
                f"Watch the {name}. Which describes how its speed develops?",
            ),
        )
        return multiple_choice(rng, text, TRENDS[trend], list(TRENDS.values()), primitive="speed", kind=kind)

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I watch how quickly the {target} covers ground at different moments of the clip.",
        "I compare the speed of the {target} early, in the middle and late in the clip.",
    )
    focus = {
        "trend": ("So: {answer_text_lower}.", "That is, {answer_text_lower}."),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        if ctx.kind == "when":
            narrate_events(ctx, w, ctx.own(), EVENT_PHRASES)
            return
        track = ctx.tl.tracks[ctx.objects[0].id]
        speed = motion.track_speed(track.x, track.y, ctx.tl.fps)
        trend = _read_trend(speed)
        phrases, fields = _speed_phrase(speed, trend)
        w.say(phrases, **fields)
        if ctx.kind == "check":
            asked = ctx.plan["asked"]
            w.say(
                ("The question asks whether it {asked}; what I see is: {actual}.",),
                asked=TRENDS[asked][3:].lower() if TRENDS[asked].startswith("It ") else asked,
                actual=TRENDS[trend].lower(),
            )

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (target, *_) = asked_objects(row)
        s = speeds(scene.track(target))
        kind = row["question_type"]
        if kind == "when":
            a, b = ramp_fit(s)
            return scene.interval(a, b)
        # A bounce in the clip's last (or first) few frames dips the speed read there: the trend is
        # read between them (a viewer sees the pace before the bounce and after it alike).
        trend = _trend_in_pixels(s[SPEED_EDGE:-SPEED_EDGE])
        if kind == "check":
            text = stem(row)
            asked = next(t for words, t in CHECK_WORDS.items() if words in text)
            return "yes" if asked == trend else "no"
        return TRENDS[trend]


def _trend_speeds(rng, trend, num_frames, slow, fast):
    """Per-frame speeds over the whole clip: linear ramps through the trend's knots."""
    if trend == "constant":
        # Drawn across the range the ramps sweep, so the pace alone is no cue.
        return np.full(num_frames - 1, rng.uniform(slow, fast))
    turn = rng.uniform(0.35, 0.65)
    knots = {
        "speeding up": ([0, 1], [slow, fast]),
        "slowing down": ([0, 1], [fast, slow]),
        "up then down": ([0, turn, 1], [slow, fast, slow]),
        "down then up": ([0, turn, 1], [fast, slow, fast]),
    }[trend]
    return np.interp(np.linspace(0, 1, num_frames - 1), *knots)


def _read_trend(speed):
    """The trend of a speed curve: whether it changes, and whether its extremes lie inside the clip."""
    if speed.max() < CHANGE_THRESHOLD * speed.min():
        return "constant"
    inside = slice(int(EDGE * len(speed)), int((1 - EDGE) * len(speed)))
    if speed[inside].max() == speed.max():
        return "up then down"
    if speed[inside].min() == speed.min():
        return "down then up"
    return "speeding up" if speed.argmax() > speed.argmin() else "slowing down"


def _speed_phrase(speed: np.ndarray, trend: str) -> tuple[tuple[str, ...], dict[str, str]]:
    n = len(speed)
    edge = max(1, n // 10)
    v0, v1 = speed[:edge].mean(), speed[-edge:].mean()
    fields = {"v0": pct(v0), "v1": pct(v1), "lo": pct(speed.min()), "hi": pct(speed.max())}
    if trend == "constant":
        return (
            "Its pace hardly changes: about {v0} of the frame width per second early on and about {v1} at the end, never outside {lo} to {hi}.",
        ), fields
    if trend in ("speeding up", "slowing down"):
        how = "faster" if trend == "speeding up" else "slower"
        return (
            "Early on it covers about {v0} of the frame width per second; by the end about {v1}: it gets " + how + " the whole way.",
            "Its pace goes from about {v0} of the frame width per second at the start to about {v1} at the end, steadily " + how + ".",
        ), fields
    peak = int(np.argmax(speed) if trend == "up then down" else np.argmin(speed))
    fields.update(vp=pct(speed[peak]), where=f"{round(100 * peak / n)}%")
    word = "fastest" if trend == "up then down" else "slowest"
    return (
        "It starts at about {v0} of the frame width per second, is "
        + word
        + " (about {vp}) roughly {where} of the way through the clip, and ends at about {v1}.",
    ), fields


CHECK_WORDS = {  # the "check" question's wording → the trend it asks about
    "first speed up and then slow down": "up then down",
    "get faster and then slower": "up then down",
    "first slow down and then speed up": "down then up",
    "get slower and then faster": "down then up",
    "speeding up": "speeding up",
    "get faster over time": "speeding up",
    "slowing down": "slowing down",
    "get slower over time": "slowing down",
    "constant speed": "constant",
    "steady throughout": "constant",
}


def _trend_in_pixels(s: np.ndarray) -> str:
    """The trend of a speed curve measured in pixels: a continuous two-piece linear fit, whose ends
    and knot say whether (and where) the speed changes by more than the measurement noise."""
    start, knot, end = knot_fit(s)
    low, high = min(start, knot, end), max(start, knot, end)
    if high < 1.3 * max(low, 1e-9):
        return "constant"
    if knot > 1.15 * max(start, end):
        return "up then down"
    if knot < min(start, end) / 1.15:
        return "down then up"
    return "speeding up" if end > start else "slowing down"
