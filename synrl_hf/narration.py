"""The narration kit: what a family's chain-of-thought hooks write with.

The template narrator (:mod:`synrl_hf.cot.templates`) builds a :class:`Context` and a :class:`Writer`
for a scene and hands them to the family's hooks (see :class:`synrl_hf.families.base.Family`). The
hooks phrase what only the family knows — its events, what it reads off the tracks, how its state
splits into parts — with the helpers here: printed times (:func:`ts`), shares of the frame width
(:func:`pct`), counted nouns (:func:`plural`), one sentence per event (:func:`narrate_events`).

Also here, because a family declares it and the CoT verifier applies it: :class:`CountRule`, what a
counting question counts among a row's :class:`Anchor` moments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import motion
from .questions import LETTERS, Question, ordinal
from .timeline import Event, Timeline

__all__ = ["Anchor", "Context", "CountRule", "Writer", "counted_events", "narrate_events", "pct", "plural", "ts"]

PHRASE_SALT = 0x5C07  # the phrasing stream is independent of the simulation's streams

Phrasings = str | Sequence[str]


def ts(t: float) -> str:
    """A moment as the narration prints it: to the hundredth of a second."""
    return f"{t:.2f} s"


def pct(v: float) -> str:
    """A speed or distance in canvas units as a percentage of the frame width."""
    value = 100.0 * float(v)
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in its plural form ``many`` (default: word + "s") unless ``n`` is 1."""
    return f"{n} {word if n == 1 else many or word + 's'}"


class Writer:
    """Collects sentences; picks one phrasing per use from the sample's own phrasing stream."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng([PHRASE_SALT, int(seed)])
        self.paragraphs: list[list[str]] = [[]]

    def choose(self, variants: Phrasings) -> str:
        if isinstance(variants, str):
            return variants
        return variants[int(self.rng.integers(len(variants)))]

    def say(self, variants: Phrasings, **fields: Any) -> None:
        text = self.choose(variants).format(**fields)
        self.paragraphs[-1].append(text[:1].upper() + text[1:])

    def paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs if p)


class Context:
    """A scene's timeline, question and plan, plus what the narration refers to again and again."""

    def __init__(self, timeline: Timeline, question: Question, plan: dict[str, Any], seed: int):
        self.tl, self.q, self.plan, self.seed = timeline, question, plan, seed
        self.kind = question.kind
        self.objects = timeline.objects
        self.names = {o.id: motion.describe(o) for o in self.objects}
        self.target = self.names[self.objects[0].id] if self.objects else ""
        answer = question.answer
        self.letter = answer if question.answer_type == "multiple_choice" else ""
        self.answer_text = question.options[LETTERS.index(answer)] if self.letter else answer
        self.end = timeline.time(timeline.num_frames - 1)

    def t(self, frame: int) -> str:
        return ts(self.tl.time(frame))

    def fields(self, **more: Any) -> dict[str, Any]:
        """The fields every phrasing may use: target, answer, answer_text, letter, end."""
        return {
            "target": self.target,
            "answer": self.q.answer,
            "answer_text": self.answer_text,
            "letter": self.letter,
            "end": ts(self.end),
            **more,
        }

    def own(self, *types: str, oid: str | None = None) -> list[Event]:
        """The events of one object alone (the target by default), of the given types (any when none)."""
        oid = oid or self.objects[0].id
        return [e for e in self.tl.events if e.objects == [oid] and (not types or e.type in types)]


def narrate_events(
    ctx: Context,
    w: Writer,
    events: Sequence[Event],
    phrases: Mapping[str, Sequence[str]],
    extra: Callable[[Event], dict[str, Any]] | None = None,
) -> None:
    """One sentence per event, in time order, with the n-th of each type per object counted.

    ``phrases`` maps an event type to its phrasings (``"*"``: any other type); they may use
    ``{t}``, ``{obj}``, ``{detail}``, ``{n}``, ``{nth}``, ``{type}``, the context's fields and
    whatever ``extra(event)`` adds.
    """
    counts: dict[tuple[str, str], int] = {}
    for number, event in enumerate(sorted(events, key=lambda e: e.frame)):
        key = (event.type, event.objects[0] if event.objects else "")
        counts[key] = counts.get(key, 0) + 1
        n = counts[key]
        choices = phrases.get(event.type) or phrases["*"]
        if number == 0:  # "Then …" / "Next, …" only once something has happened
            choices = tuple(p for p in choices if not p.startswith(("Then", "Next"))) or choices
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
        w.say(choices, **fields)


def mean_speeds(ctx: Context) -> dict[str, float]:
    """Object id → its mean speed over the clip (canvas widths per second)."""
    return {o.id: float(motion.track_speed(ctx.tl.tracks[o.id].x, ctx.tl.tracks[o.id].y, ctx.tl.fps).mean()) for o in ctx.objects}


def say_speeds(ctx: Context, w: Writer, speeds: dict[str, float]) -> None:
    lines = [f"the {ctx.names[oid]} about {pct(v)}" for oid, v in speeds.items()]
    w.say(
        (
            "Measured over the whole clip, in frame widths per second: {list}.",
            "Estimating each object's pace (share of the frame width covered per second): {list}.",
        ),
        list=", ".join(lines),
    )


# --- what the CoT verifier counts ------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A moment a row's metadata knows: an event, an operation's start or end, or a clip bound."""

    time: float
    label: str
    kind: str  # "event", "op_start", "op_end", "bound"
    type: str = ""  # event type or operation name
    objects: tuple[str, ...] = ()
    index: int = -1  # operation index for op_start / op_end


@dataclass(frozen=True)
class CountRule:
    """What a family's counting questions count, for the CoT verifier's ``count`` check.

    The verifier checks that the last count a reasoning states ("4 wall contacts", "three hops")
    equals the number of counted things, and that the counted moments it cites by time are each of
    them once.
    """

    kinds: tuple[str, ...]  # the question kinds that ask for this count
    nouns: str  # regex alternatives for the counted thing, plural forms included
    # Among a row's anchors (all of them, sorted by time), the counted moments (one or two anchors each).
    counted: Callable[[dict[str, Any], Sequence[Anchor]], list[Anchor]]
    unit: Callable[[Anchor], Any] = lambda a: (a.time, a.type)  # what identifies one counted thing


def counted_events(*types: str, own: bool) -> Callable[[dict[str, Any], Sequence[Anchor]], list[Anchor]]:
    """A :attr:`CountRule.counted` that counts the events of ``types`` (``own``: of the row's first object alone)."""

    def select(row: dict[str, Any], anchors: Sequence[Anchor]) -> list[Anchor]:
        objects = list(row["objects"]) if row.get("objects") is not None else []
        target = objects[0]["id"] if objects else ""
        return [a for a in anchors if a.kind == "event" and a.type in types and (not own or a.objects == (target,))]

    return select
