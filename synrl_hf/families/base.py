"""What a task family is: difficulty parameters, a simulation and a set of questions.

A family module defines one ``Family`` subclass that only *simulates* (returns a ``Timeline``) and
*asks* (returns a ``Question`` computed from that timeline). Rendering, encoding, seeding and export
are shared and live elsewhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..questions import Question
from ..timeline import Timeline

FPS = 30
PRESETS = ("round1", "round2")


@dataclass(frozen=True)
class Params:
    """Difficulty parameters shared by every family; families subclass and add their own."""

    duration: tuple[float, float] = (4.0, 6.0)  # seconds, drawn uniformly and independently of the answer

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Family:
    name: ClassVar[str]
    category: ClassVar[str]  # "short_term" or "long_term"
    Params: ClassVar[type[Params]] = Params
    # The paper's second RL round: longer clips, more transitions. Field overrides on Params().
    round2: ClassVar[dict[str, Any]] = {}

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

    # -- parameters ----------------------------------------------------------------------------
    @classmethod
    def params(cls, preset: str = "round1", **overrides: Any) -> Params:
        """The preset's parameters with ``overrides`` applied; unknown names are rejected."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
        values = dict(cls.round2) if preset == "round2" else {}
        values.update(overrides)
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for family {cls.name!r}; valid: {sorted(fields)}")
        return cls.Params(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def draw_num_frames(rng: np.random.Generator, duration: tuple[float, float], fps: int = FPS) -> int:
    """Clip length in frames, drawn before (and independently of) anything the answer depends on."""
    low, high = duration
    return int(round(rng.uniform(low, high) * fps))
