"""Template chain of thought: the reasoning a careful viewer would give, written from the metadata.

Offline, deterministic, and correct by construction: every time it cites is a real event's (printed
to the hundredth of a second), events are narrated in the order they happen, counts are the counted
events, and the last line is ``<answer>`` with the ground truth. The same rule-based verifier that
checks model CoT (:func:`synrl_hf.cot.verify.verify`) checks these.

How it is built (one generic narrator, small per-family tables):

* short-term: an opening line saying what to watch, then the relevant timed events in order
  (``EVENT_PHRASES[(family, event type)]``: "At 1.30 s the red square touches the left wall, its 2nd
  contact"), plus measurements read off the tracks where the answer lives in the motion rather
  than in an event (speeds, distances, sides: ``MEASURES``), then a conclusion.
* long-term: the revealed state at its moment, the operations with their time spans and captions,
  and what each one changes (``STATES[family]`` splits a state into named parts: a container, a
  position, a directory …) — forwards when the initial state is shown, backwards (undoing the
  operations from the last one) when only the final state is; the whole state again at the moment
  the question asks about (``MOMENTS``).
* conclusion: per question kind a focus line (``FOCUS[(family, kind)]``, formatted with the answer)
  and a generic closing line per answer type (the option letter and text, the count, the span).

Every table entry has several phrasings; which one is used is drawn from the sample's seed, so two
samples rarely read alike while the same sample always reads the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import motion
from ..questions import LETTERS, ordinal
from ..sample import Scene, build_scene

__all__ = ["completion", "scene_for_row", "template_completion", "template_cot"]

PHRASE_SALT = 0x5C07  # the phrasing stream is independent of the simulation's streams


def ts(t: float) -> str:
    return f"{t:.2f} s"


def completion(reasoning: str, answer: str) -> str:
    """The assistant turn: ``<think>reasoning</think><answer>answer</answer>``."""
    return f"<think>\n{reasoning.strip()}\n</think>\n<answer>{answer}</answer>"


def pct(v: float) -> str:
    """A speed or distance in canvas units as a percentage of the frame width."""
    value = 100.0 * float(v)
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


class Writer:
    """Collects sentences; picks one phrasing per use from the sample's own phrasing stream."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng([PHRASE_SALT, int(seed)])
        self.paragraphs: list[list[str]] = [[]]

    def choose(self, variants):
        if isinstance(variants, str):
            return variants
        return variants[int(self.rng.integers(len(variants)))]

    def say(self, variants, **fields) -> None:
        text = self.choose(variants).format(**fields)
        self.paragraphs[-1].append(text[:1].upper() + text[1:])

    def paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs if p)


# --- what every conclusion needs ----------------------------------------------------------------


class Context:
    """The scene plus what the narration refers to again and again."""

    def __init__(self, scene: Scene):
        self.scene, self.tl, self.q, self.plan = scene, scene.timeline, scene.question, scene.plan
        self.kind = self.q.kind
        self.objects = self.tl.objects
        self.names = {o.id: motion.describe(o) for o in self.objects}
        self.target = self.names[self.objects[0].id] if self.objects else ""
        answer = self.q.answer
        self.letter = answer if self.q.answer_type == "multiple_choice" else ""
        self.answer_text = self.q.options[LETTERS.index(answer)] if self.letter else answer
        self.end = self.tl.time(self.tl.num_frames - 1)

    def t(self, frame: int) -> str:
        return ts(self.tl.time(frame))

    def fields(self, **more) -> dict[str, Any]:
        return {
            "target": self.target,
            "answer": self.q.answer,
            "answer_text": self.answer_text,
            "letter": self.letter,
            "end": ts(self.end),
            **more,
        }

    def own(self, *types: str, oid: str | None = None):
        oid = oid or self.objects[0].id
        return [e for e in self.tl.events if e.objects == [oid] and (not types or e.type in types)]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _narrate(ctx: Context, w: Writer, events, family: str, extra: Callable[[Any], dict] | None = None) -> None:
    """One sentence per event, in time order, with the n-th of each type per object counted."""
    counts: dict[tuple[str, str], int] = {}
    for number, event in enumerate(sorted(events, key=lambda e: e.frame)):
        key = (event.type, event.objects[0] if event.objects else "")
        counts[key] = counts.get(key, 0) + 1
        n = counts[key]
        phrases = EVENT_PHRASES.get((family, event.type)) or EVENT_PHRASES[(family, "*")]
        if number == 0:  # "Then …" / "Next, …" only once something has happened
            phrases = tuple(p for p in phrases if not p.startswith(("Then", "Next"))) or phrases
        fields = ctx.fields(
            t=ctx.t(event.frame),
            obj=ctx.names.get(key[1], ctx.target),
            detail=event.detail,
            n=n,
            nth=ordinal(n),
            type=event.type.replace("_", " "),
        )
        if extra is not None:
            fields.update(extra(event))
        w.say(phrases, **fields)


# --- short-term event phrasings -----------------------------------------------------------------

EVENT_PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("collision_count", "wall_contact"): (
        "At {t} the {obj} touches the {detail} wall: that is contact {n}.",
        "{t}: it bounces off the {detail} edge, the {nth} contact.",
        "At {t} its outline meets the {detail} edge of the frame ({nth} contact).",
    ),
    ("direction", "start"): ("At {t} the {obj} starts moving {detail}.", "The {obj} sets off at {t}, heading {detail}."),
    ("direction", "turn"): ("At {t} it turns and heads {detail}.", "At {t} it changes direction: now it goes {detail}."),
    ("direction", "stop"): ("At {t} it stops.", "It comes to rest at {t}."),
    ("trajectory_shape", "start"): (
        "At {t} the {obj} starts moving; {shape_motion}.",
        "From {t} the {obj} is on the move: {shape_motion}.",
    ),
    ("trajectory_shape", "stop"): ("At {t} it pauses.", "It stops at {t}."),
    ("speed", "speed_up"): ("At {t} the {obj} suddenly speeds up.", "At {t} it switches to a faster pace."),
    ("speed", "slow_down"): ("At {t} the {obj} suddenly slows down.", "At {t} it drops to a slower pace."),
    ("speed", "stop"): ("At {t} the {obj} stops dead.", "At {t} it comes to a halt."),
    ("speed", "resume"): ("At {t} it moves on again.", "It starts moving again at {t}."),
    ("motion_count", "hop"): ("At {t} the {obj} takes off for its {nth} hop.", "{t}: hop {n} begins.", "At {t} it jumps ({nth} hop)."),
    ("motion_count", "land"): ("It lands at {t}.", "At {t} it is down again.", "Landing at {t}."),
    ("attribute_change", "change"): ("At {t} {change}.", "{t}: {change}.", "Then at {t} {change}."),
    ("rotation_count", "spin_start"): ("At {t} the {obj} starts spinning {detail}.", "The {obj} begins to rotate {detail} at {t}."),
    ("rotation_count", "full_turn"): (
        "At {t} the dot is back at its starting angle: full turn {n}.",
        "{t}: the {nth} complete turn is done.",
        "By {t} it has turned a full 360 degrees {n_times}.",
    ),
    ("rotation_count", "spin_stop"): (
        "At {t} it stops, part of the way into another turn.",
        "It stops spinning at {t}, before completing another turn.",
    ),
    ("relative_position", "pass"): (
        "At {t} the {a} passes the {b}; now it is {side} it.",
        "At {t} it crosses over and ends up {side} the {b}.",
    ),
    ("relative_position", "stop"): (
        "At {t} the {a} stops moving; at that moment it is {side} the {b}.",
        "The {a} comes to rest at {t}, {side} the {b}.",
    ),
    ("acceleration", "ramp_start"): ("At {t} the {obj} begins {detail}.", "From {t} on, the {obj} is {detail}."),
    ("acceleration", "ramp_end"): ("At {t} its speed settles again.", "By {t} it moves at a steady speed again."),
    ("distance", "start"): (
        "At {t} the {a} and the {b} start moving; they are about {d} of the frame width apart.",
        "The pair sets off at {t}, about {d} of the frame width apart.",
    ),
    ("distance", "farthest"): (
        "At {t} they are farthest apart (about {d}); after that the gap closes.",
        "The gap peaks at {t} (about {d}) and then shrinks.",
    ),
    ("distance", "closest"): (
        "At {t} they are closest (about {d}); after that they drift apart.",
        "The gap is smallest at {t} (about {d}) and then grows.",
    ),
    ("distance", "stop"): ("At {t} they stop, about {d} apart.", "They come to rest at {t}, about {d} of the frame width apart."),
    ("distance", "*"): ("At {t} the {obj} stops.",),
    ("event_order", "*"): ("At {t} the {obj} {action}.", "{t}: the {obj} {action}.", "Next, at {t}, the {obj} {action}."),
}

SHAPE_MOTION = {
    "linear": ("it keeps going in one straight direction", "its positions line up along a single straight line"),
    "circular": ("it curves round at a steady rate and comes back to where it started", "it traces a closed round loop"),
    "zigzag": (
        "it goes back and forth at sharp corners while advancing",
        "it moves in straight strokes that alternate direction at sharp corners",
    ),
    "spiral": (
        "it circles round while its distance from the centre keeps changing",
        "it winds round and round, each loop wider (or narrower) than the last",
    ),
    "figure_eight": ("it loops one way, crosses its own path, and loops the other way", "it draws two loops joined at a crossing point"),
}

ACTION_PHRASES = {
    "blink": "disappears for a moment",
    "jump": "jumps up and lands again",
    "spin": "spins around once",
    "recolor": "briefly changes color",
    "grow": "briefly grows",
}

INTROS: dict[str, tuple[str, ...]] = {
    "collision_count": (
        "I follow the {target} and note every moment its outline touches an edge of the frame.",
        "The {target} travels in straight lines and bounces off the walls; I track each wall contact with its time.",
    ),
    "direction": (
        "I watch the {target} and note where it starts, where it turns and which way it goes. North is the top of the frame.",
        "To answer I follow the {target} over time; north is up, east is right.",
    ),
    "trajectory_shape": (
        "No trail is drawn, so I follow the {target} frame by frame and piece together the path it traces.",
        "I track the position of the {target} across the frames to see what shape its path makes.",
    ),
    "speed": (
        "I compare how far each object travels over the same stretch of time.",
        "Speed only shows across frames, so I watch how quickly each shape covers ground.",
    ),
    "motion_count": (
        "I keep my eyes on the {target} and note each hop: when it takes off and when it lands.",
        "The {target} moves in quick hops with pauses; I log every hop in order.",
    ),
    "attribute_change": (
        "I watch the object's color, size and shape over the whole clip and note every change.",
        "I compare how the object looks from one moment to the next and write down each change.",
    ),
    "rotation_count": (
        "I follow the dot on the {target}: each time it comes back to its starting angle, one full turn is done.",
        "To count turns I track the marker dot on the {target} as it spins.",
    ),
    "relative_position": (
        "I watch the {a} relative to the {b} and note every time it changes sides.",
        "I keep track of which side of the {b} the {a} is on as they move.",
    ),
    "acceleration": (
        "I watch how quickly the {target} covers ground at different moments of the clip.",
        "I compare the speed of the {target} early, in the middle and late in the clip.",
    ),
    "velocity_comparison": (
        "I compare how far each object travels in the same time; the one covering more ground is faster.",
        "Each object keeps its own speed; I estimate each one by how much ground it covers per second.",
    ),
    "distance": (
        "I watch the gap between the objects as they move.",
        "I track how far apart the objects are over time.",
    ),
    "event_order": (
        "Each object does one short action at its own moment; I note who acts when.",
        "I go through the clip and write down each action with its time.",
    ),
}

FOCUS: dict[tuple[str, str], tuple[str, ...]] = {
    ("direction", "first_leg"): ("Before the turn it was heading {answer_text}.", "Its first direction of travel is {answer_text}."),
    ("direction", "second_leg"): ("After the turn it heads {answer_text}.", "Its direction after turning is {answer_text}."),
    ("trajectory_shape", "shape"): ("Put together, the path is {answer_text}.", "So the shape it traces is {answer_text}."),
    ("speed", "extreme"): ("The {extreme} of them is the {answer_text}.", "So the {extreme} mover is the {answer_text}."),
    ("speed", "change"): ("So: {answer_text_lower}.", "That describes its speed as: {answer_text_lower}."),
    ("attribute_change", "which"): ("So what changes is: {answer_text}.", "The changing attribute: {answer_text}."),
    ("attribute_change", "to_color"): ("So the {target} turns {answer_text}.", "After the change the {target} is {answer_text}."),
    ("attribute_change", "order"): ("So the changes come in this order: {answer}.",),
    ("distance", "trend"): ("So for the distance between them: {answer_text}.", "Overall, {answer_text}."),
    ("distance", "closest_pair"): ("So at that moment the closest pair is {answer_text}.", "The two closest then are {answer_text}."),
    ("acceleration", "trend"): ("So: {answer_text_lower}.", "That is, {answer_text_lower}."),
    ("relative_position", "start_end"): ("So it is {answer_text}.",),
    ("velocity_comparison", "rank"): ("Ranked from fastest to slowest: {answer}.", "So the order by speed is {answer}."),
    ("velocity_comparison", "second"): ("So the {position} is the {answer_text}.",),
    ("velocity_comparison", "faster_count"): (
        "So the number of objects faster than the {target} is {answer}.",
        "Counting the objects ahead of the {target} in that ranking gives {answer}.",
    ),
    ("event_order", "order"): ("So the order of the actions is: {answer}.", "In order of acting: {answer}."),
    ("event_order", "nth"): ("So the {position} to act is the {answer_text}.",),
    ("event_order", "next_action"): ("Right after the {previous} acts, the next object {answer_text_verb}.",),
}

CLOSING = {
    "multiple_choice": (
        "That matches option {letter}: {answer_text}.",
        "Among the options this is {letter} ({answer_text}).",
        "The option that fits is {letter}, {answer_text}.",
    ),
    "number": ("So the answer is {answer}.", "The answer is therefore {answer}."),
    "sequence": ("So the answer, in order, is: {answer}.", "In order: {answer}."),
    "yes_no": ("So the answer is {answer}.", "Hence, {answer}."),
    "interval": ("So the span runs from {a} to {b}.", "That gives the interval from {a} to {b}."),
}


# --- measurements read off the tracks -------------------------------------------------------------


def _mean_speeds(ctx: Context) -> dict[str, float]:
    return {o.id: float(motion.track_speed(ctx.tl.tracks[o.id].x, ctx.tl.tracks[o.id].y, ctx.tl.fps).mean()) for o in ctx.objects}


def _say_speeds(ctx: Context, w: Writer, speeds: dict[str, float]) -> None:
    lines = [f"the {ctx.names[oid]} about {pct(v)}" for oid, v in speeds.items()]
    w.say(
        (
            "Measured over the whole clip, in frame widths per second: {list}.",
            "Estimating each object's pace (share of the frame width covered per second): {list}.",
        ),
        list=", ".join(lines),
    )


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


def _observe_speed(ctx: Context, w: Writer) -> None:
    if ctx.kind in ("extreme", "compare"):
        speeds = _mean_speeds(ctx)
        _say_speeds(ctx, w, speeds)
        if ctx.kind == "compare":
            a, b = ctx.objects[0].id, ctx.objects[1].id
            faster = speeds[a] > speeds[b]
            w.say(
                ("The {a} ({va}) is {cmp} than the {b} ({vb}).",),
                a=ctx.names[a],
                b=ctx.names[b],
                va=pct(speeds[a]),
                vb=pct(speeds[b]),
                cmp="faster" if faster else "slower",
            )
        return
    events = ctx.own()
    if not events:
        w.say(
            ("From the start (0.00 s) to the end ({end}) the {target} keeps one pace: it never stops and never switches speed.",),
            **ctx.fields(),
        )
    _narrate(ctx, w, events, "speed")


def _observe_velocity(ctx: Context, w: Writer) -> None:
    speeds = _mean_speeds(ctx)
    _say_speeds(ctx, w, speeds)
    ranked = sorted(speeds, key=speeds.get, reverse=True)
    w.say(
        ("From fastest to slowest that is: {order}.", "Ordering them by pace, fastest first: {order}."),
        order=", ".join(ctx.names[o] for o in ranked),
    )


def _observe_acceleration(ctx: Context, w: Writer) -> None:
    from ..families.acceleration import _read_trend

    if ctx.kind == "when":
        _narrate(ctx, w, ctx.own(), "acceleration")
        return
    track = ctx.tl.tracks[ctx.objects[0].id]
    speed = motion.track_speed(track.x, track.y, ctx.tl.fps)
    trend = _read_trend(speed)
    phrases, fields = _speed_phrase(speed, trend)
    w.say(phrases, **fields)
    if ctx.kind == "check":
        from ..families.acceleration import TRENDS

        asked = ctx.plan["asked"]
        w.say(
            ("The question asks whether it {asked}; what I see is: {actual}.",),
            asked=TRENDS[asked][3:].lower() if TRENDS[asked].startswith("It ") else asked,
            actual=TRENDS[trend].lower(),
        )


def _observe_relative(ctx: Context, w: Writer) -> None:
    from ..families.relative_position import PHRASE, SIDES

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
    _narrate(ctx, w, ctx.tl.events, "relative_position", lambda e: {**names, "side": side(e.frame)})
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
        w.say(("So the {a} passes the {b} {times}.", "Altogether it changes sides {times}."), times=_plural(passes, "time"), **names)


def _observe_distance(ctx: Context, w: Writer) -> None:
    tracks = ctx.tl.tracks

    def gap(i: str, j: str, frame: int) -> float:
        return float(np.hypot(tracks[i].x[frame] - tracks[j].x[frame], tracks[i].y[frame] - tracks[j].y[frame]))

    if ctx.kind == "closest_pair":
        import itertools

        stop = next(e for e in ctx.tl.events if e.type == "stop")
        w.say(("At {t} the {obj} stops moving.", "The {obj} comes to rest at {t}."), t=ctx.t(stop.frame), obj=ctx.names[stop.objects[0]])
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
    _narrate(ctx, w, [e for e in ctx.tl.events if e.objects == [a, b]], "distance", lambda e: {**names, "d": pct(gap(a, b, e.frame))})


def _observe_attribute(ctx: Context, w: Writer) -> None:
    from ..families.attribute_change import AttributeChangeParams

    sizes = list(AttributeChangeParams().sizes)
    words = ("small", "medium-sized", "large", "very large")

    def size_word(value: str) -> str:
        v = float(value)
        return words[min(range(len(sizes)), key=lambda i: abs(sizes[i] - v))]

    def change(event) -> dict[str, str]:
        attribute, rest = event.detail.split(": ", 1)
        if ctx.kind == "to_color":
            pairs = [p.split(" -> ") for p in rest.split(", ")]
            listed = ", ".join(f"the {ctx.names[o.id]} becomes {new}" for o, (old, new) in zip(ctx.objects, pairs))
            return {"change": f"all the objects change color at once: {listed}"}
        old, new = rest.split(" -> ")
        if attribute == "size":
            grows = float(new) > float(old)
            return {"change": f"its size changes: it {'grows' if grows else 'shrinks'} from {size_word(old)} to {size_word(new)}"}
        return {"change": f"its {attribute} changes from {old} to {new}"}

    obj = ctx.objects[0]
    if ctx.kind != "to_color":
        w.say(("At the start it is a {look}.", "It starts out as a {look}."), look=f"{size_word(obj.size)} {obj.color} {obj.shape}")
    if not ctx.tl.events:
        w.say(("From 0.00 s to the end ({end}) nothing about it changes: same color, same size, same shape.",), **ctx.fields())
    _narrate(ctx, w, ctx.tl.events, "attribute_change", change)


def _observe_rotation(ctx: Context, w: Writer) -> None:
    _narrate(
        ctx,
        w,
        ctx.own(),
        "rotation_count",
        lambda e: {"n_times": {1: "once", 2: "twice"}.get(int(e.detail), f"{e.detail} times over") if e.type == "full_turn" else ""},
    )
    turns = len(ctx.own("full_turn"))
    if ctx.kind in ("count", "count_choice"):
        w.say(
            ("That makes {turns}.", "So it completes {rotations}.", "In total: {complete}."),
            turns=_plural(turns, "full turn"),
            rotations=_plural(turns, "full rotation"),
            complete=_plural(turns, "complete turn"),
        )
    elif ctx.kind == "direction":
        actual = ctx.own("spin_start")[0].detail
        asked = "clockwise" if ctx.plan["asked_clockwise"] else "counter-clockwise"
        w.say(("The question asks about {asked}; it spins {actual}.",), asked=asked, actual=actual)


def _observe_collision(ctx: Context, w: Writer) -> None:
    contacts = [e for e in ctx.tl.events if e.type == "wall_contact"]
    _narrate(ctx, w, contacts, "collision_count")
    if ctx.kind != "when":
        w.say(
            ("That makes {contacts} in total.", "In total I count {contacts}.", "So the {target} hits a wall {times}."),
            contacts=_plural(len(contacts), "wall contact"),
            times=_plural(len(contacts), "time"),
            **ctx.fields(),
        )


def _observe_hops(ctx: Context, w: Writer) -> None:
    _narrate(ctx, w, ctx.own("hop", "land"), "motion_count")
    if ctx.kind != "when":
        w.say(
            ("That is {hops} in all.", "So the {target} hops {times}.", "Counting them: {hops}."),
            hops=_plural(len(ctx.own("hop")), "hop"),
            times=_plural(len(ctx.own("hop")), "time"),
            **ctx.fields(),
        )


def _observe_events(family: str, extra=None) -> Callable[[Context, Writer], None]:
    def observe(ctx: Context, w: Writer) -> None:
        _narrate(ctx, w, ctx.own(), family, extra(ctx) if extra else None)

    return observe


def _trajectory_extra(ctx: Context):
    def extra(event):
        motions = SHAPE_MOTION.get(event.detail, ("it moves",))
        return {"shape_motion": motions[int(ctx.scene.seed + event.frame) % len(motions)]}

    return extra


def _observe_trajectory(ctx: Context, w: Writer) -> None:
    from ..families.trajectory_shape import SHAPE_NAMES

    _observe_events("trajectory_shape", _trajectory_extra)(ctx, w)
    if ctx.kind == "check":
        actual = SHAPE_NAMES[ctx.own("start")[0].detail]
        w.say(("The question asks about {asked}; the path is {actual}.",), asked=SHAPE_NAMES[ctx.plan["asked"]], actual=actual)
    if ctx.kind == "when":
        w.say(("So the paths in order are: {shapes}.",), shapes=", then ".join(SHAPE_NAMES[e.detail] for e in ctx.own("start")))


def _observe_event_order(ctx: Context, w: Writer) -> None:
    events = [e for e in ctx.tl.events if e.detail == "start"]
    ends = {e.objects[0]: e for e in ctx.tl.events if e.detail == "end"}
    for event in events:
        w.say(EVENT_PHRASES[("event_order", "*")], t=ctx.t(event.frame), obj=ctx.names[event.objects[0]], action=ACTION_PHRASES[event.type])
        end = ends[event.objects[0]]
        w.say(("By {t} it looks as before.", "It is back to normal at {t}."), t=ctx.t(end.frame))


MEASURES: dict[str, Callable[[Context, Writer], None]] = {
    "collision_count": _observe_collision,
    "direction": _observe_events("direction"),
    "trajectory_shape": _observe_trajectory,
    "speed": _observe_speed,
    "motion_count": _observe_hops,
    "attribute_change": _observe_attribute,
    "rotation_count": _observe_rotation,
    "relative_position": _observe_relative,
    "acceleration": _observe_acceleration,
    "velocity_comparison": _observe_velocity,
    "distance": _observe_distance,
    "event_order": _observe_event_order,
}


def _focus_fields(ctx: Context) -> dict[str, Any]:
    plan, kind = ctx.plan, ctx.kind
    more: dict[str, Any] = {"answer_text_lower": ctx.answer_text[:1].lower() + ctx.answer_text[1:]}
    if ctx.scene.family == "speed" and kind == "extreme":
        more["extreme"] = "fastest" if plan["extreme"] == "fastest" else "slowest"
    if ctx.scene.family == "velocity_comparison" and kind == "second":
        more["position"] = f"second {plan['end']}"
    if ctx.scene.family == "event_order":
        starts = [e for e in ctx.tl.events if e.detail == "start"]
        rank = plan["rank"]
        more["position"] = "last" if rank == len(starts) else ordinal(rank)
        if kind == "next_action":
            more["previous"] = ctx.names[starts[rank - 1].objects[0]]
            more["answer_text_verb"] = ctx.answer_text.removeprefix("it ")
    return more


def _short_term(ctx: Context, w: Writer) -> None:
    family = ctx.scene.family
    intro_fields = ctx.fields()
    if family in ("relative_position", "distance") and len(ctx.objects) > 1:
        intro_fields.update(a=ctx.names[ctx.objects[0].id], b=ctx.names[ctx.objects[1].id])
    w.say(INTROS[family], **intro_fields)
    w.paragraph()
    MEASURES[family](ctx, w)
    w.paragraph()
    focus = FOCUS.get((family, ctx.kind))
    if focus:
        w.say(focus, **ctx.fields(**_focus_fields(ctx)))


# --- long-term: states and operations -----------------------------------------------------------


def _card_state(state: dict, ctx: Context) -> dict[str, str]:
    discard = ", ".join(state["discard"]) if state["discard"] else "empty"
    return {"stack": f"stack from top to bottom {', '.join(state['stack'])}", "discard": f"discard pile {discard}"}


def _chip_state(state: dict, ctx: Context) -> dict[str, str]:
    parts = {}
    for name in sorted(state):
        chips = state[name]
        parts[name] = (
            f"{name} empty"
            if not chips
            else f"{name} has {len(chips)} chip{'s' if len(chips) > 1 else ''} ({', '.join(str(c) for c in chips)})"
        )
    return parts


def _fs_state(state: dict, ctx: Context) -> dict[str, str]:
    from ..families.file_system import parent

    parts = {"cwd": f"working directory {state['cwd']}"}
    for directory in state["dirs"]:
        files = sorted(f.rsplit("/", 1)[1] for f in state["files"] if parent(f) == directory)
        parts[directory] = f"{directory} holds {', '.join(files) if files else 'no files'}"
    return parts


def _math_state(state: list, ctx: Context) -> dict[str, str]:
    return {str(i): f"position {i} = {v}" for i, v in enumerate(state, 1)}


def _shell_state(state: dict, ctx: Context) -> dict[str, str]:
    from ..families.shell_game import ball_cell, position

    return {color: f"the {color} ball is under {position(ball_cell(state, color))}" for color in state["under"]}


def _puzzle_state(state: list, ctx: Context) -> dict[str, str]:
    n = int(round(len(state) ** 0.5))
    return {str(r): f"row {r + 1}: " + " ".join(str(v) if v else "_" for v in state[r * n : (r + 1) * n]) for r in range(n)}


# A state as named parts (a container, a position, a directory …): the whole state is said where it
# is revealed or asked about, and after each operation only the parts that changed.
STATES: dict[str, Callable[[Any, Context], dict[str, str]]] = {
    "card_stack": _card_state,
    "chip_container": _chip_state,
    "file_system": _fs_state,
    "math_symbols": _math_state,
    "shell_game": _shell_state,
    "sliding_puzzle": _puzzle_state,
}


def _whole(parts: dict[str, str]) -> str:
    return "; ".join(parts.values())


def _changed(old: dict[str, str], new: dict[str, str]) -> str:
    changed = [text for key, text in new.items() if old.get(key) != text]
    return "; ".join(changed) if changed else "nothing I track changes"


def _puzzle_effect(before, after, op, ctx) -> str:
    from ..families.sliding_puzzle import moved_tile

    return f"tile {moved_tile(before, op.args)} slid {op.args['direction']}"


def _shell_effect(before, after, op, ctx) -> str:
    from ..families.shell_game import ball_cell, position

    moved = [c for c in before["under"] if ball_cell(before, c) != ball_cell(after, c)]
    if not moved:
        return "no ball's cup moved"
    return " and ".join(f"the {c} ball's cup moved to {position(ball_cell(after, c))}" for c in moved)


EFFECTS: dict[str, Callable[[Any, Any, Any, Context], str]] = {"sliding_puzzle": _puzzle_effect, "shell_game": _shell_effect}
EFFECT_ONLY = {"shell_game"}  # the effect already says everything that changed

LONG_INTROS: dict[str, tuple[str, ...]] = {
    "card_stack": (
        "The cards are face up only while one state is revealed; during the operations I see only their backs moving, plus a caption naming each operation.",
        "Only one state of the stack is shown face up; the rest of the time I follow the card backs and the captions.",
    ),
    "chip_container": (
        "The containers are open only while one state is revealed; during the operations I see single chips travelling over the closed lids, with a caption for each move.",
        "I can read the chips only in the revealed state; every other moment the lids are closed and only the moving chip and its caption are visible.",
    ),
    "file_system": (
        "The directory tree is shown only once; during the commands I see just each command line. The shell starts in the root directory /.",
        "Only one listing of the tree is on screen; after that I must apply each command myself, starting from the root directory /.",
    ),
    "math_symbols": (
        "The numbers are visible only while one state is revealed; during the operations the cards are face down and a caption names each operation.",
        "I see the card values only in the revealed state and must apply every captioned operation myself.",
    ),
    "shell_game": (
        "The balls are visible only while the cups are lifted; otherwise I follow the cups through each captioned swap.",
        "I see where the balls are only in the revealed moment, so I track the cups through every swap.",
    ),
    "sliding_puzzle": (
        "The tile numbers are visible only in the revealed layout; during the moves the tiles are blank and a caption gives the direction of each slide.",
        "Numbers show only in the revealed layout; every move is a blank tile sliding into the gap in the captioned direction.",
    ),
}

# Which state the question is about: the last, the first, or the one right after operation plan["k"].
MOMENTS: dict[tuple[str, str], str] = {
    **{("card_stack", k): "end" for k in ("top_end", "bottom_end", "order_end")},
    **{("card_stack", k): "start" for k in ("top_start", "order_start")},
    ("card_stack", "top_after"): "after",
    ("card_stack", "discarded_by"): "after",
    **{("chip_container", k): "end" for k in ("count_end", "count_end_choice")},
    **{("chip_container", k): "start" for k in ("count_start", "count_start_choice")},
    ("chip_container", "most_after"): "after_op",
    ("file_system", "where_end"): "end",
    ("file_system", "files_end"): "end",
    ("file_system", "where_start"): "start",
    ("file_system", "cwd_after"): "after",
    **{("math_symbols", k): "end" for k in ("value_end", "value_end_choice")},
    **{("math_symbols", k): "start" for k in ("value_start", "value_start_choice")},
    ("shell_game", "where_end"): "end",
    ("shell_game", "where_start"): "start",
    ("shell_game", "where_after"): "after",
    ("sliding_puzzle", "end_at"): "end",
    ("sliding_puzzle", "start_at"): "start",
    ("sliding_puzzle", "where_start"): "start",
}

RECAPS = {
    "end": ("So at the end the state is: {state}.", "The final state, then: {state}."),
    "start": ("So at the start the state was: {state}.", "The initial state, then: {state}."),
    "after": (
        "Right after operation {k} (the one at {t}) the state was: {state}.",
        "Just after the {kth} operation ({t}) it was: {state}.",
    ),
}

CONCLUDE = (
    "Now the question: {question} From the tracking above, the answer is {answer_text}.",
    "The question asks: {question} Following the states above gives {answer_text}.",
    "Back to the question, {question} By the tracking above: {answer_text}.",
)


def _long_term(ctx: Context, w: Writer) -> None:
    family, tl, plan = ctx.scene.family, ctx.tl, ctx.plan
    parts = STATES[family]
    describe = lambda state, c: _whole(parts(state, c))  # noqa: E731
    effect = EFFECTS.get(family)
    states = [s.state for s in tl.states]
    ops = tl.operations
    span = lambda op: (ts(tl.time(op.start_frame)), ts(tl.time(op.end_frame)))  # noqa: E731
    w.say(LONG_INTROS[family])
    w.paragraph()
    if plan["shown"] == "initial":
        w.say(
            ("At 0.00 s the initial state is revealed: {state}.", "The clip opens (0.00 s) on the initial state: {state}."),
            state=describe(states[0], ctx),
        )
        for op, before, after in zip(ops, states, states[1:]):
            a, b = span(op)
            what = f"; {effect(before, after, op, ctx)}" if effect else ""
            if family in EFFECT_ONLY:
                w.say(
                    ("From {a} to {b}, operation {k}: “{caption}”{what}.", "Operation {k} runs from {a} to {b}, “{caption}”{what}."),
                    a=a,
                    b=b,
                    k=op.index + 1,
                    caption=tl.events[op.index].detail,
                    what=what,
                )
                continue
            w.say(
                (
                    "From {a} to {b}, operation {k}: “{caption}”{what}. Now {change}.",
                    "Operation {k} runs from {a} to {b}, “{caption}”{what}; afterwards {change}.",
                ),
                a=a,
                b=b,
                k=op.index + 1,
                caption=tl.events[op.index].detail,
                what=what,
                change=_changed(parts(before, ctx), parts(after, ctx)),
            )
        if MOMENTS.get((family, ctx.kind)) != "end":
            w.say(("The final state is not shown, but the tracking gives it: {state}.",), state=describe(states[-1], ctx))
    else:
        w.say(
            (
                "The clip starts with the state hidden (0.00 s); then come the operations, in order.",
                "At first (0.00 s) nothing of the state is visible; the operations follow one by one.",
            )
        )
        for op in ops:
            a, b = span(op)
            w.say(
                ("From {a} to {b}, operation {k}: “{caption}”.", "Operation {k} ({a} to {b}): “{caption}”."),
                a=a,
                b=b,
                k=op.index + 1,
                caption=tl.events[op.index].detail,
            )
        w.paragraph()
        w.say(
            (
                "After the last operation ends at {t}, the final state is revealed: {state}.",
                "Once the last operation is over ({t}) the final state shows: {state}.",
            ),
            t=span(ops[-1])[1],
            state=describe(states[-1], ctx),
        )
        w.say(
            (
                "To know the earlier states I undo the operations from the last one back to the first.",
                "Working backwards, I undo each operation in turn, starting from the last.",
            )
        )
        for op, before, after in reversed(list(zip(ops, states, states[1:]))):
            what = f" ({effect(before, after, op, ctx)})" if effect else ""
            w.say(
                (
                    "Undoing operation {k} (“{caption}”, at {a}){what} gives back: {change}.",
                    "Before operation {k} (“{caption}”, {a}){what}: {change}.",
                ),
                k=op.index + 1,
                caption=tl.events[op.index].detail,
                a=span(op)[0],
                what=what,
                change=_changed(parts(after, ctx), parts(before, ctx)),
            )
    w.paragraph()
    moment = MOMENTS.get((family, ctx.kind))
    if moment == "end":
        w.say(RECAPS["end"], state=describe(states[-1], ctx))
    elif moment == "start":
        w.say(RECAPS["start"], state=describe(states[0], ctx))
    elif moment in ("after", "after_op"):
        k = plan["op"] if moment == "after_op" else plan["k"]
        w.say(RECAPS["after"], k=k, kth=ordinal(k), t=span(ops[k - 1])[0], state=describe(states[k], ctx))
    if family == "shell_game" and ctx.kind == "swap_count":
        from ..families.shell_game import ball_cell

        color = next(o.color for o in ctx.objects if o.id == "ball0")
        moving = [op.index + 1 for op, a, b in zip(ops, states, states[1:]) if ball_cell(a, color) != ball_cell(b, color)]
        which = f"operation {moving[0]}" if len(moving) == 1 else "operations " + ", ".join(map(str, moving[:-1])) + f" and {moving[-1]}"
        w.say(
            (
                "The cup hiding the {color} ball takes part in {which}: {n} {swaps} in all.",
                "The {color} ball's cup is moved by {which}, so {n} {swaps}.",
            ),
            color=color,
            which=which,
            n=len(moving),
            swaps="swap" if len(moving) == 1 else "swaps",
        )


# --- putting it together ------------------------------------------------------------------------


def _conclude(ctx: Context, w: Writer) -> None:
    q = ctx.q
    if q.answer_type == "interval":
        from ..answers import parse_interval

        start, end = parse_interval(q.answer)
        ops = [
            op
            for op in ctx.tl.operations
            if abs(ctx.tl.time(op.start_frame) - start) < 1e-6 and abs(ctx.tl.time(op.end_frame) - end) < 1e-6
        ]
        if ops:
            op = ops[0]
            w.say(
                (
                    "The operation asked about is operation {k}, “{caption}”, shown from {a} to {b}.",
                    "That is operation {k} (“{caption}”), on screen from {a} to {b}.",
                ),
                k=op.index + 1,
                caption=ctx.tl.events[op.index].detail,
                a=ts(start),
                b=ts(end),
            )
        else:
            w.say(CLOSING["interval"], a=ts(start), b=ts(end))
        return
    if ctx.scene.timeline.operations and (ctx.scene.family, ctx.kind) not in (("shell_game", "swap_count"),):
        w.say(
            CONCLUDE,
            question=q.text.splitlines()[0].removeprefix("The shell starts in the root directory /. "),
            answer_text=ctx.answer_text,
        )
    w.say(CLOSING[q.answer_type], **ctx.fields())


def template_cot(scene: Scene) -> str:
    """The reasoning (without tags) for ``scene``: deterministic, ending in the answer."""
    ctx = Context(scene)
    w = Writer(scene.seed)
    if scene.timeline.operations:
        _long_term(ctx, w)
    else:
        _short_term(ctx, w)
    _conclude(ctx, w)
    return w.text()


def template_completion(scene: Scene) -> str:
    """``<think>…</think><answer>…</answer>`` for ``scene``; the answer is the ground truth."""
    return completion(template_cot(scene), scene.question.answer)


def scene_for_row(row: dict[str, Any], base_seed: int | None = None) -> Scene:
    """Rebuild the scene a synthetic row was made from (cheap: no rendering).

    ``base_seed`` defaults to the one in the row's id (``<family>-s<seed>-<split>-<index>``).
    """
    if base_seed is None:
        base_seed = int(row["id"].rsplit("-", 2)[0].rsplit("-s", 1)[1])
    params = json.loads(row["difficulty"]) if row.get("difficulty") else {}
    scene = build_scene(row["task"], int(row["index"]), base_seed, row["split"], preset=row.get("preset") or "round1", params=params)
    if scene.seed != row["seed"]:
        raise ValueError(f"row {row['id']} does not regenerate (seed {scene.seed} != {row['seed']}); pass the build's base seed")
    return scene
