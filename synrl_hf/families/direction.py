"""direction: which way an object moves (compass directions, diagonals included).

The object rests, moves one way, turns once and moves another way, then rests: the question asks
about one of the two legs, so neither the first nor the last frame gives the answer away. The turn
happens in open space, so every question announces it ("changes direction once"); the other
objects glide one straight way between two rests and never turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, Writer, narrate_events
from ..perception import MIN_STOP_PATH, px, seconds
from ..pixels import PixelScene, Unreadable, asked_objects, compass, motion_bounds, stem
from ..questions import interval, multiple_choice, pick
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

NORTH_NOTE = "North is the top of the frame."
EVENT_PHRASES = {
    "start": ("At {t} the {obj} starts moving {detail}.", "The {obj} sets off at {t}, heading {detail}."),
    "turn": ("At {t} it turns and heads {detail}.", "At {t} it changes direction: now it goes {detail}."),
    "stop": ("At {t} it stops.", "It comes to rest at {t}."),
}


@dataclass(frozen=True)
class DirectionParams(Params):
    size: tuple[float, float] = (0.08, 0.14)
    leg_length: tuple[float, float] = (0.15, 0.35)  # canvas units per leg
    distractors: int = 1  # other objects moving in other directions


PERCEPTUAL_CONTRACT = {
    "first_leg, second_leg, when": (
        "the question says the object changes direction once: its one turn, in open space, is the event it describes",
        f"each leg is at least {px(DirectionParams.leg_length[0])} long and lasts at least a fifth of the clip "
        f"(at least {seconds(24)}), so its heading reads within a few degrees of its compass direction",
        "the two legs differ by at least 90 degrees; the other objects move in one straight line, in other directions, and never turn",
        f"the object stops after a path of at least {px(MIN_STOP_PATH)}",
    ),
}


class Direction(Family):
    name = "direction"
    category = "short_term"
    Params = DirectionParams
    round2 = {"duration": (8.0, 12.0), "distractors": 2}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "distractors": 2, "leg_length": (0.13, 0.3)},
        {"duration": (12.0, 16.0), "distractors": 3, "leg_length": (0.12, 0.26), "size": (0.07, 0.11)},
        {"duration": (14.0, 18.0), "distractors": 3, "leg_length": (0.1, 0.22), "size": (0.06, 0.1)},
    )

    KINDS = ("first_leg", "second_leg", "when")

    def plan(self, rng, params):
        first = int(rng.integers(8))
        # The turn is at least 90 degrees, so the two legs are never confused.
        second = (first + int(rng.integers(2, 7))) % 8
        return {"kind": pick(rng, self.KINDS), "legs": (motion.COMPASS[first], motion.COMPASS[second])}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, 1 + params.distractors, params.size)
        for _ in range(200):
            tracks, events = {}, []
            for i, obj in enumerate(objects):
                legs = plan["legs"] if i == 0 else (pick(rng, [d for d in motion.COMPASS if d not in plan["legs"]]),)
                track, turn_events = _leg_track(rng, obj, legs, num_frames, params)
                tracks[obj.id] = track
                events += turn_events
            if motion.separated(objects, tracks):
                return Timeline(FPS, num_frames, objects, tracks, events)
        raise RuntimeError("could not place the objects without overlaps")

    def ask(self, rng, timeline, plan):
        target = timeline.objects[0]
        name = motion.describe(target)
        moves = [e for e in timeline.events if e.objects == [target.id] and e.type in ("start", "turn", "stop")]
        start, turn, stop = (e.frame for e in moves)
        first, second = (e.detail for e in moves[:2])
        kind = plan["kind"]
        if kind == "when":
            leg = int(rng.integers(2))
            direction = (first, second)[leg]
            span = ((start, turn), (turn, stop))[leg]
            text = pick(
                rng,
                (
                    f"The {name} changes direction once. When is it moving {direction}? {NORTH_NOTE}",
                    f"The {name} moves, turns once and moves on. During which time span does it head {direction}? {NORTH_NOTE}",
                ),
            )
            return interval(text, timeline.time(span[0]), timeline.time(span[1]))
        answer = first if kind == "first_leg" else second
        text = pick(
            rng,
            (
                f"The {name} moves, turns once and moves on. In which direction does it move {'first' if kind == 'first_leg' else 'after it turns'}? {NORTH_NOTE}",
                f"The {name} changes direction once. Which way does it go {'before' if kind == 'first_leg' else 'after'} the turn? {NORTH_NOTE}",
            ),
        )
        distractors = [d for d in motion.COMPASS if d != answer]
        return multiple_choice(rng, text, answer, distractors, primitive="direction", kind=kind)

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I watch the {target} and note where it starts, where it turns and which way it goes. North is the top of the frame.",
        "To answer I follow the {target} over time; north is up, east is right.",
    )
    focus = {
        "first_leg": ("Before the turn it was heading {answer_text}.", "Its first direction of travel is {answer_text}."),
        "second_leg": ("After the turn it heads {answer_text}.", "Its direction after turning is {answer_text}."),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        narrate_events(ctx, w, ctx.own(), EVENT_PHRASES)

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (target, *_) = asked_objects(row)
        p = scene.position(target)
        start, stop = motion_bounds(p, scene.still_threshold())
        # The turning point is the point of the path farthest from its two ends together (by the
        # triangle inequality, for two straight legs), which holds for a turn back as well.
        path = p[start : stop + 1]
        turn = start + int(np.argmax(np.hypot(*(path - p[start]).T) + np.hypot(*(path - p[stop]).T)))
        first, second = compass(*(p[turn] - p[start])), compass(*(p[stop] - p[turn]))
        kind = row["question_type"]
        if kind == "when":
            text = stem(row)
            asked = max((d for d in motion.COMPASS if re.search(rf"\b{d}\b", text)), key=len)
            span = (start, turn) if asked == first else (turn, stop) if asked == second else None
            if span is None:
                raise Unreadable(f"legs read as {first} then {second}; the question asks about {asked}")
            return scene.interval(*span)
        return first if kind == "first_leg" else second


def _leg_track(rng, obj, legs, num_frames, params):
    """Rest, one straight leg per direction in ``legs`` (turning between them), rest; the split
    points are drawn independently of the directions."""
    start, turn, stop = motion.split_points(rng, num_frames, 3, min_gap=num_frames // 5, edge=num_frames // 10)
    keys = [start, turn, stop] if len(legs) == 2 else [start, stop]
    for _ in range(1000):
        lengths = rng.uniform(*params.leg_length, size=len(legs))
        steps = [np.array(motion.COMPASS_VECTORS[d]) * length for d, length in zip(legs, lengths)]
        waypoints = np.cumsum([np.zeros(2), *steps], axis=0)
        placed = motion.place_path(rng, waypoints[:, 0], waypoints[:, 1], motion.reach(obj))
        if placed is not None:
            break
    else:
        raise RuntimeError(f"could not fit legs {legs} in the frame")
    x, y = motion.piecewise_path(list(zip(*placed)), list(np.diff(keys)), keys[0], num_frames - 1 - keys[-1])
    track = Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool))
    events = [Event(start, "start", [obj.id], legs[0])]
    if len(legs) == 2:
        events.append(Event(turn, "turn", [obj.id], legs[1]))
    events.append(Event(keys[-1], "stop", [obj.id]))
    return track, events
