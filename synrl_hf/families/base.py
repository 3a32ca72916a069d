"""What a task family is: the hooks contract every family module implements.

A family module defines one ``Family`` subclass and owns everything keyed by its name; the shared
machinery (seeding, rendering, encoding, export, the CoT narrator and verifier, the audit) calls
these hooks and names no family. Adding a family is that module plus one line in
``synrl_hf/families/__init__.py``; the registry refuses a class that lacks a required hook
(:func:`missing_hooks` lists them).

Generation (all families):

``name``, ``category`` (required)
    the family id and ``"short_term"`` or ``"long_term"``; ``Params`` (a :class:`Params` subclass),
    ``round2`` (field overrides for the paper's second RL round) and ``ladder`` (the difficulty
    levels: ``({}, round2, …harder…)``, see :mod:`synrl_hf.difficulty`) are optional.
``plan(rng, params) -> dict``
    answer-first choices made before simulating (question kind, target count, option layout);
    default ``{}``. The plan's ``"kind"`` names the question program.
``simulate(rng, params, plan) -> Timeline`` (required)
    per-frame object states and timed events; no drawing.
``ask(rng, timeline, plan) -> Question`` (required)
    the question, with the answer re-derived from the timeline.

Chain-of-thought narration (:mod:`synrl_hf.cot.templates` calls these with a
:class:`~synrl_hf.narration.Context` ``ctx`` and a :class:`~synrl_hf.narration.Writer` ``w``; the
phrase helpers are in :mod:`synrl_hf.narration`). Phrasings are tuples of variants, one drawn per use
from the sample's seed; they are ``str.format`` templates over ``ctx.fields()`` and what the hook adds.

``cot_intro: tuple[str, ...]`` (required)
    the opening line: what a viewer watches for (short-term, may use ``{target}``, ``{a}``, ``{b}``)
    or what of the state is visible when (long-term).
``observe(ctx, w) -> None`` (required for short-term families)
    the middle paragraph: the family's events in time order (``narration.narrate_events`` with its
    own event phrasings) and whatever it reads off the tracks (speeds, distances, sides, counts).
    Long-term families may implement it to add what the question needs beyond the states (said
    after the state recap); the default says nothing.
``focus: dict[str, tuple[str, ...]]`` and ``focus_fields(ctx) -> dict``
    short-term: per question kind, the line that ties the observations to the answer (may use
    ``{answer_text_lower}`` and the fields ``focus_fields`` adds); none by default.
``state_parts(state, ctx) -> dict[str, str]`` (required for long-term families)
    a state snapshot as named parts (a container, a position, a directory …), each a phrase: the
    whole state is said where it is revealed or asked about, after each operation only the parts
    that changed.
``effect(before, after, op, ctx) -> str | None``
    long-term: how an operation's effect is told beyond its caption (None: the caption says it);
    ``effect_is_complete = True`` when that already says everything that changed.
``moments: dict[str, str]``
    long-term: per question kind, which state the question is about: ``"start"``, ``"end"``, or
    the plan key holding k for the state right after operation k.
``restated_question(ctx) -> str | None``
    long-term: the question as the conclusion restates it (None: not restated); default its first line.

CoT verification:

``count_rule: CountRule | None``
    what the family's counting questions count (:class:`~synrl_hf.narration.CountRule`); None
    (the default) for a family with nothing to count.

Pixel audit:

``answer_from_pixels(scene) -> str`` (required)
    the answer re-derived from the decoded frames alone, as the row writes it (an option's text for
    multiple choice); ``scene`` is a :class:`~synrl_hf.pixels.PixelScene` (:mod:`synrl_hf.pixels` is
    the measuring kit; :mod:`synrl_hf.longterm_pixels` and :mod:`synrl_hf.ocr` read a long-term
    clip's states and captions). Raise :class:`~synrl_hf.pixels.Unreadable` when the clip does not
    show what the question needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..difficulty import PRESETS as PRESETS  # re-exported: the Space imports the presets from here
from ..difficulty import level_of, level_overrides
from ..narration import Context, CountRule, Writer
from ..pixels import PixelScene
from ..questions import Question
from ..timeline import Operation, Timeline

FPS = 30
CATEGORIES = ("short_term", "long_term")

# Hooks a family must define itself (inheriting Family's placeholder counts as missing).
REQUIRED_HOOKS = ("name", "category", "simulate", "ask", "cot_intro")
REQUIRED_BY_CATEGORY = {"short_term": ("observe",), "long_term": ("state_parts",)}


@dataclass(frozen=True)
class Params:
    """Difficulty parameters shared by every family; families subclass and add their own."""

    duration: tuple[float, float] = (4.0, 6.0)  # seconds, drawn uniformly and independently of the answer

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Family:
    """A task family: the hooks of the module docstring, with defaults for the optional ones."""

    name: ClassVar[str]
    category: ClassVar[str]  # "short_term" or "long_term"
    Params: ClassVar[type[Params]] = Params
    # The paper's second RL round: longer clips, more transitions. Field overrides on Params().
    round2: ClassVar[dict[str, Any]] = {}
    # Difficulty levels, each a complete set of Params overrides: ({}, round2, harder, …). Empty: the
    # two presets only. Presets name levels (round1 = 0, round2 = 1, level<k> = k).
    ladder: ClassVar[tuple[dict[str, Any], ...]] = ()

    def plan(self, rng: np.random.Generator, params: Params) -> dict[str, Any]:
        """Answer-first choices made before simulating (question kind, target count, option layout).

        Drawing the target answer first is what makes answers balanced by construction; the
        simulation then realises it and ``ask`` re-derives the answer from the timeline.
        """
        return {}

    def simulate(self, rng: np.random.Generator, params: Params, plan: dict[str, Any]) -> Timeline:
        raise NotImplementedError

    def ask(self, rng: np.random.Generator, timeline: Timeline, plan: dict[str, Any]) -> Question:
        raise NotImplementedError

    # -- CoT narration (see the module docstring) -----------------------------------------------------
    cot_intro: ClassVar[tuple[str, ...]]
    focus: ClassVar[dict[str, tuple[str, ...]]] = {}
    effect_is_complete: ClassVar[bool] = False
    moments: ClassVar[dict[str, str]] = {}

    def observe(self, ctx: Context, w: Writer) -> None:
        """Short-term: the observations paragraph; long-term: what the question needs beyond the states."""

    def focus_fields(self, ctx: Context) -> dict[str, Any]:
        return {}

    def state_parts(self, state: Any, ctx: Context) -> dict[str, str]:
        raise NotImplementedError

    def effect(self, before: Any, after: Any, op: Operation, ctx: Context) -> str | None:
        return None

    def restated_question(self, ctx: Context) -> str | None:
        return ctx.q.text.splitlines()[0]

    # -- CoT verification and pixel audit (see the module docstring) ---------------------------------
    count_rule: ClassVar[CountRule | None] = None

    def answer_from_pixels(self, scene: PixelScene) -> str:
        raise NotImplementedError

    # -- parameters ----------------------------------------------------------------------------
    @classmethod
    def params(cls, preset: str = "round1", **overrides: Any) -> Params:
        """The parameters of ``preset`` (``round1``, ``round2`` or ``level<k>``, a ladder level) with
        ``overrides`` applied; unknown names and levels above the ladder's top are rejected."""
        values = level_overrides(cls, level_of(preset))
        values.update(overrides)
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for family {cls.name!r}; valid: {sorted(fields)}")
        return cls.Params(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def missing_hooks(cls: type[Family]) -> list[str]:
    """The required hooks ``cls`` does not define itself, by name (empty: it is a complete family)."""
    required = [*REQUIRED_HOOKS, *REQUIRED_BY_CATEGORY.get(getattr(cls, "category", None), ())]
    return [hook for hook in required if getattr(cls, hook, None) is None or getattr(cls, hook) is getattr(Family, hook, None)]


def draw_num_frames(rng: np.random.Generator, duration: tuple[float, float], fps: int = FPS) -> int:
    """Clip length in frames, drawn before (and independently of) anything the answer depends on."""
    low, high = duration
    return int(round(rng.uniform(low, high) * fps))
