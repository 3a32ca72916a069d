"""velocity_comparison: rank several objects by their (constant) speeds.

The objects glide about the whole frame from random spots in random headings, bouncing off the
walls and each other (:mod:`synrl_hf.billiards`), each at its own constant speed, so where an object
is says nothing about how fast it goes: telling speeds apart takes several frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import motion
from ..billiards import billiards
from ..narration import Context, Writer, mean_speeds, say_speeds
from ..perception import CONTACT_GAP, px
from ..pixels import PixelScene, asked_objects, describe, stem
from ..questions import multiple_choice, number, ordinal, pick, sequence
from ..timeline import Timeline
from .base import FPS, Family, Params, draw_num_frames


@dataclass(frozen=True)
class VelocityParams(Params):
    objects: int = 4  # four gives every multiple choice four options
    size: tuple[float, float] = (0.07, 0.11)
    slowest: tuple[float, float] = (0.06, 0.1)  # canvas units per second
    gap: tuple[float, float] = (1.4, 1.7)  # speed ratio between neighbours in the ranking


ROUND2 = {"duration": (8.0, 12.0), "gap": (1.2, 1.35)}
# Levels 2-4 go beyond the paper: longer clips, closer speeds.
LADDER = (
    {},
    ROUND2,
    {"duration": (8.0, 12.0), "gap": (1.15, 1.25)},
    {"duration": (10.0, 14.0), "gap": (1.1, 1.2)},
    {"duration": (12.0, 16.0), "gap": (1.07, 1.14)},
)
PERCEPTUAL_CONTRACT = {
    "rank, second, faster_count": (
        f"every object glides in straight lines and turns only at a wall or another object (outlines within {px(CONTACT_GAP)})",
        f"each object keeps one speed, at least {VelocityParams.gap[0]} times the next slower one ({ROUND2['gap'][0]} in round2, {LADDER[-1]['gap'][0]} at level 4), "
        "as measured on the drawn centers over a few frames",
    ),
}


class VelocityComparison(Family):
    name = "velocity_comparison"
    category = "short_term"
    Params = VelocityParams
    round2 = ROUND2
    ladder = LADDER

    KINDS = ("rank", "second", "faster_count")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "faster_count":
            return {"kind": kind, "faster": int(rng.integers(params.objects))}
        if kind == "second":
            return {"kind": kind, "end": pick(rng, ("fastest", "slowest"))}
        return {"kind": kind}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        objects = motion.random_objects(rng, params.objects, params.size)
        speeds = rng.permutation(motion.speed_ladder(rng, len(objects), params.slowest, params.gap))
        if plan["kind"] == "faster_count":
            # The target (object 0) gets the speed with exactly the planned number of faster ones.
            wanted = np.sort(speeds)[::-1][plan["faster"]]
            swap = int(np.flatnonzero(speeds == wanted)[0])
            speeds[[0, swap]] = speeds[[swap, 0]]
        tracks = billiards(rng, objects, [np.full(num_frames - 1, s) for s in speeds], FPS)
        return Timeline(FPS, num_frames, objects, tracks)

    def ask(self, rng, timeline, plan):
        objects = timeline.objects
        measured = [motion.track_speed(timeline.tracks[o.id].x, timeline.tracks[o.id].y, timeline.fps).mean() for o in objects]
        ranked = [objects[i] for i in np.argsort(measured)[::-1]]  # fastest first
        kind = plan["kind"]
        if kind == "rank":
            text = pick(
                rng,
                (
                    "Rank the objects by speed, from fastest to slowest. Name them by color.",
                    "Which colors move fastest? List every object's color in order of speed, fastest first.",
                ),
            )
            return sequence(text, [o.color for o in ranked], primitive="speed", kind=kind)
        if kind == "second":
            end = plan["end"]
            answer = motion.describe(ranked[1] if end == "fastest" else ranked[-2])
            text = pick(
                rng,
                (
                    f"Which object is the {ordinal(2)} {end}?",
                    f"Rank the objects by speed. Which one comes {ordinal(2)} when counting from the {end}?",
                ),
            )
            names = [motion.describe(o) for o in objects]
            return multiple_choice(rng, text, answer, names, primitive="speed", kind=kind, num_options=len(objects))
        name = motion.describe(objects[0])
        faster = ranked.index(objects[0])
        text = pick(
            rng,
            (
                f"How many other objects move faster than the {name}?",
                f"Count the objects that are quicker than the {name}. How many are there?",
            ),
        )
        return number(text, faster, primitive="speed", kind=kind)

    # -- hooks: CoT narration and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I compare how far each object travels in the same time; the one covering more ground is faster.",
        "Each object keeps its own speed; I estimate each one by how much ground it covers per second.",
    )
    focus = {
        "rank": ("Ranked from fastest to slowest: {answer}.", "So the order by speed is {answer}."),
        "second": ("So the {position} is the {answer_text}.",),
        "faster_count": (
            "So the number of objects faster than the {target} is {answer}.",
            "Counting the objects ahead of the {target} in that ranking gives {answer}.",
        ),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        speeds = mean_speeds(ctx)
        say_speeds(ctx, w, speeds)
        ranked = sorted(speeds, key=speeds.get, reverse=True)
        w.say(
            ("From fastest to slowest that is: {order}.", "Ordering them by pace, fastest first: {order}."),
            order=", ".join(ctx.names[o] for o in ranked),
        )

    def focus_fields(self, ctx: Context) -> dict[str, Any]:
        return {"position": f"second {ctx.plan['end']}"} if ctx.kind == "second" else {}

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        objects = row["objects"]
        mean = scene.mean_speeds()
        ranked = [objects[i] for i in np.argsort(mean)[::-1]]
        kind = row["question_type"]
        if kind == "rank":
            return ", ".join(o["color"] for o in ranked)
        if kind == "second":
            return describe(ranked[1] if "fastest" in stem(row) else ranked[-2])
        (target, *_) = asked_objects(row)
        return str(ranked.index(target))
