"""collision_count: how many times an object touches the frame's walls during continuous motion.

A corner is never hit: two contacts (with the same wall or two walls) are always at least
``MIN_COUNT_GAP`` frames apart, so every contact a viewer can count is one bounce, and a bounce near
a corner is two plainly separate touches of two walls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import motion
from ..narration import Context, CountRule, Writer, counted_events, narrate_events, plural
from ..perception import CONTACT_GAP, MIN_COUNT_GAP, px, seconds
from ..pixels import PixelScene, Unreadable, asked_objects, moving_runs, ordinals_in, stem
from ..questions import draw_numeric_layout, interval, number, numeric_choice, ordinal, pick
from ..shapes import outline
from ..timeline import Event, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

WALL_GAP = CONTACT_GAP  # between the outline and the frame edge at contact: a touch
MIN_NORMAL_SPEED = 0.1  # canvas units per second towards and away from a wall it touches
EVENT_PHRASES = {
    "wall_contact": (
        "At {t} the {obj} touches the {detail} wall: that is contact {n}.",
        "{t}: it bounces off the {detail} edge, the {nth} contact.",
        "At {t} its outline meets the {detail} edge of the frame ({nth} contact).",
    ),
}


@dataclass(frozen=True)
class CollisionParams(Params):
    count: tuple[int, int] = (1, 6)  # wall contacts, drawn uniformly (the answer)
    size: tuple[float, float] = (0.08, 0.14)
    speed: tuple[float, float] = (0.25, 1.6)  # canvas widths per second


PERCEPTUAL_CONTRACT = {
    "count, count_choice, when": (
        f"at each contact the outline is drawn touching the wall: within {px(WALL_GAP)} of the frame edge, plus anti-aliasing",
        f"two contacts are at least {seconds(MIN_COUNT_GAP)} apart, whichever walls they touch (no corner hits), "
        f"and at least {seconds(motion.MIN_EVENT_GAP)} from the clip's ends",
        f"it comes into each contact and leaves it at {px(MIN_NORMAL_SPEED)} per second or more across the wall "
        f"({px(MIN_NORMAL_SPEED * MIN_COUNT_GAP / 2 / 30)} in the 5 frames either side): no grazing touches",
        "between contacts the object moves in a straight line at a constant speed; it turns only at a wall",
    ),
}


class CollisionCount(Family):
    name = "collision_count"
    category = "short_term"
    Params = CollisionParams
    round2 = {"duration": (8.0, 12.0), "count": (2, 10), "speed": (0.1, 1.6)}
    ladder = (
        {},
        round2,
        {"duration": (10.0, 14.0), "count": (3, 12), "speed": (0.1, 1.6)},
        {"duration": (12.0, 16.0), "count": (4, 14), "speed": (0.1, 2.0)},
        {"duration": (14.0, 18.0), "count": (5, 16), "speed": (0.1, 2.4)},
    )

    KINDS = ("count", "count_choice", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        low, high = params.count
        if kind == "count_choice":
            # Lowest option drawn first, so the options never reveal the answer's rank.
            count, rank = draw_numeric_layout(rng, (low, max(low, high - 3)))
            return {"kind": kind, "count": count, "rank": rank}
        if kind == "when":
            count = int(rng.integers(max(low, 2), max(high, 2) + 1))
            return {"kind": kind, "count": count, "leg": int(rng.integers(1, count))}
        return {"kind": kind, "count": int(rng.integers(low, high + 1))}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        duration = (num_frames - 1) / FPS
        t = np.arange(num_frames) / FPS
        (obj,) = motion.random_objects(rng, 1, params.size)
        # The outline itself touches the frame edge (the wall), a pixel or two inside it. Per side:
        # a triangle, pentagon or star reaches less far below its center than above it.
        points = outline(obj.shape, obj.size, obj.height)
        lo_x, hi_x = WALL_GAP - points[:, 0].min(), 1 - WALL_GAP - points[:, 0].max()
        lo_y, hi_y = WALL_GAP - points[:, 1].min(), 1 - WALL_GAP - points[:, 1].max()
        for _ in range(5000):
            angle = rng.uniform(0, 2 * math.pi)
            speed = rng.uniform(*params.speed)
            vx, vy = speed * math.cos(angle), speed * math.sin(angle)
            x0, y0 = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
            contacts = motion.bounce_contacts(x0, vx, lo_x, hi_x, duration, ("left", "right"), FPS)
            contacts += motion.bounce_contacts(y0, vy, lo_y, hi_y, duration, ("top", "bottom"), FPS)
            contacts.sort(key=lambda c: c.time)
            # A bounce is seen as one: the object comes in and leaves at MIN_NORMAL_SPEED or more, never grazing.
            square = all(abs(vx if c.wall in ("left", "right") else vy) >= MIN_NORMAL_SPEED for c in contacts)
            if len(contacts) == plan["count"] and square and _well_separated(contacts, num_frames):
                break
        else:
            raise RuntimeError(f"could not realise {plan['count']} wall contacts in {duration:.1f} s")
        track = Track(
            x=motion.bounce_axis(x0, vx, lo_x, hi_x, t),
            y=motion.bounce_axis(y0, vy, lo_y, hi_y, t),
            angle=np.zeros(num_frames),
            visible=np.ones(num_frames, bool),
        )
        # A contact falls between two frames; draw its frame at the wall so every counted touch is seen.
        wall_at = {"left": (track.x, lo_x), "right": (track.x, hi_x), "top": (track.y, lo_y), "bottom": (track.y, hi_y)}
        for contact in contacts:
            axis, bound = wall_at[contact.wall]
            axis[contact.frame] = bound
        events = [Event(c.frame, "wall_contact", [obj.id], c.wall) for c in contacts]
        return Timeline(FPS, num_frames, [obj], {obj.id: track}, events)

    def ask(self, rng, timeline, plan):
        obj = timeline.objects[0]
        name = motion.describe(obj)
        contacts = [e for e in timeline.events if e.type == "wall_contact"]
        count = len(contacts)
        if plan["kind"] == "count":
            text = pick(
                rng,
                (
                    f"How many times does the {name} touch the edges of the frame?",
                    f"Count the wall contacts of the {name}. How many times does it hit a wall?",
                    f"The {name} bounces around the frame. How many bounces off a wall do you see?",
                ),
            )
            return number(text, count, primitive="counting", kind="count")
        if plan["kind"] == "count_choice":
            text = pick(
                rng,
                (
                    f"How many times does the {name} bounce off a wall?",
                    f"How many wall collisions does the {name} make during the video?",
                ),
            )
            return numeric_choice(text, count, plan["rank"], primitive="counting", kind="count_choice")
        leg = plan["leg"]
        start, end = contacts[leg - 1], contacts[leg]
        text = pick(
            rng,
            (
                f"When does the {name} travel from its {ordinal(leg)} wall contact to its {ordinal(leg + 1)}?",
                f"Give the time span between the {ordinal(leg)} and the {ordinal(leg + 1)} time the {name} hits a wall.",
            ),
        )
        return interval(text, timeline.time(start.frame), timeline.time(end.frame))

    # -- hooks: CoT narration, the verifier's count rule and the pixel reader (the contract is in base.py) --
    cot_intro = (
        "I follow the {target} and note every moment its outline touches an edge of the frame.",
        "The {target} travels in straight lines and bounces off the walls; I track each wall contact with its time.",
    )
    count_rule = CountRule(
        ("count", "count_choice"),
        r"(?:wall\s+)?(?:contacts?|collisions?|bounces?|hits?|touches|times?)",
        counted_events("wall_contact", own=False),
    )

    def observe(self, ctx: Context, w: Writer) -> None:
        contacts = [e for e in ctx.tl.events if e.type == "wall_contact"]
        narrate_events(ctx, w, contacts, EVENT_PHRASES)
        if ctx.kind != "when":
            w.say(
                ("That makes {contacts} in total.", "In total I count {contacts}.", "So the {target} hits a wall {times}."),
                contacts=plural(len(contacts), "wall contact"),
                times=plural(len(contacts), "time"),
                **ctx.fields(),
            )

    def answer_from_pixels(self, scene: PixelScene) -> str:
        row = scene.row
        (obj, *_) = asked_objects(row)
        track = scene.track(obj)
        p = scene.position(obj)
        w = scene.width
        step = float(np.nanmax(np.hypot(*np.diff(p, axis=0).T)))
        near = WALL_GAP * w + step / 2 + 2.5
        contacts: list[float] = []
        walls = (
            (track.x0, p[:, 0], -1),
            (w - 1 - track.x1, p[:, 0], 1),
            (track.y0, p[:, 1], -1),
            (w - 1 - track.y1, p[:, 1], 1),
        )
        n = len(p)
        for gap, coord, sign in walls:
            gap = np.where(np.isnan(gap), np.inf, gap)
            # A slow approach stays near the reach for many frames, and the box's edge flickers by a
            # pixel or two after H.264 (chroma is at half resolution): its run in reach can break up.
            # Two contacts are never closer than MIN_COUNT_GAP frames, so runs that close are one.
            for a, b in moving_runs(gap <= near, min_gap=MIN_COUNT_GAP):
                if a > 0 and b < n - 1:
                    contacts.append((a + b) / 2)  # in and out of reach at the same speed: the touch is midway
                    continue
                outward = sign * coord[a : b + 1]
                top = int(np.argmax(outward))
                if outward[top] - outward[0] > 0.3 and outward[top] - outward[-1] > 0.3:
                    contacts.append(a + top)
        contacts.sort()
        kind = row["question_type"]
        if kind in ("count", "count_choice"):
            return str(len(contacts))
        first, second = ordinals_in(stem(row))[:2]
        if second > len(contacts):
            raise Unreadable(f"asked about contact {second}, {len(contacts)} seen")
        return scene.interval(round(contacts[first - 1]), round(contacts[second - 1]))


def _well_separated(contacts: list[motion.Contact], num_frames: int) -> bool:
    """Every contact drawn on its own frames: apart from the next, and not at the clip's very ends."""
    frames = [c.frame for c in contacts]
    if any(f < motion.MIN_EVENT_GAP or f > num_frames - 1 - motion.MIN_EVENT_GAP for f in frames):
        return False
    # A near-corner hit (two walls within a few frames) would look like a single contact.
    return all(b - a >= MIN_COUNT_GAP for a, b in zip(frames, frames[1:]))
