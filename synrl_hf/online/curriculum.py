"""The difficulty controller: move each family's level so its GRPO groups stay informative.

GRPO learns nothing from a group whose completions all get the same reward (TRL logs the share of
such groups as ``frac_reward_zero_std``; DAPO throws them away). For a prompt the policy solves with
probability p, a group of G completions is all-equal with probability p^G + (1 - p)^G: lowest at
p = 1/2, under 6% for G = 8 while 0.3 <= p <= 0.7, and 17% at p = 0.2 or 0.8. So the controller
keeps each family's pass rate (mean accuracy reward of its completions) inside a band around 1/2:
once ``min_groups`` groups at the family's current level have been scored, a pass rate above the
band moves the family one level up (the policy has outgrown it), below the band one level down,
and the count starts again. Groups rendered at an older level (the stream renders a little ahead)
are logged but do not count towards a decision.

Every process of a distributed run feeds the same gathered outcomes in the same order, so every
process holds the same levels without exchanging them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .history import LevelHistory

DEFAULT_BAND = (0.3, 0.7)
DEFAULT_MIN_GROUPS = 8


@dataclass(frozen=True)
class Outcome:
    """One scored completion: which sample (its id and GRPO group), its family and level, its reward."""

    sample_id: str
    family: str
    level: int
    reward: float


def check_band(band: Iterable[float]) -> tuple[float, float]:
    values = tuple(float(v) for v in band)
    if len(values) != 2 or not 0.0 <= values[0] < values[1] <= 1.0:
        raise ValueError(f"the pass-rate band is two numbers 0 <= low < high <= 1, got {list(band)!r}")
    return values


class Curriculum:
    """Per-family levels, moved to keep each family's group pass rate within ``band``.

    ``tops`` is each family's highest level (its ladder's top), ``start`` the starting level (one for
    all families, or per family; clipped to the ladder). The levels after each update are appended to
    :attr:`history`, which the stream reads. ``adaptive=False`` keeps the start levels and only
    measures (the fixed-difficulty baseline).
    """

    def __init__(
        self,
        tops: dict[str, int],
        start: int | dict[str, int] = 0,
        *,
        band: Iterable[float] = DEFAULT_BAND,
        min_groups: int = DEFAULT_MIN_GROUPS,
        adaptive: bool = True,
        history_path: str | None = None,
    ):
        self.tops = dict(tops)
        self.adaptive = adaptive
        self.band = check_band(band)
        if isinstance(min_groups, bool) or not isinstance(min_groups, int) or min_groups < 1:
            raise ValueError(f"min_groups must be a whole number >= 1, got {min_groups!r}")
        self.min_groups = min_groups
        starts = start if isinstance(start, dict) else dict.fromkeys(self.tops, start)
        unknown = sorted(set(starts) - set(self.tops))
        if unknown:
            raise ValueError(f"start levels for unknown families {unknown}; the stream has {sorted(self.tops)}")
        for family, level in starts.items():
            if isinstance(level, bool) or not isinstance(level, int) or level < 0:
                raise ValueError(f"start level of {family!r} must be a whole number >= 0, got {level!r}")
        self.levels = {family: min(starts.get(family, 0), top) for family, top in self.tops.items()}
        self.history = LevelHistory(self.levels, history_path)
        # Per family, since its last decision: [reward sum, completions, groups] at its current level.
        self.window: dict[str, list[float]] = {family: [0.0, 0, 0] for family in self.tops}
        self.updates = 0

    def update(self, outcomes: Iterable[Outcome]) -> dict[str, Any]:
        """Take one generation step's outcomes (all processes), move levels, append a version.

        Returns the step's record: the levels it was scored at and the new ones, and per family the
        pass rate, the number of groups and of groups whose rewards are all equal.
        """
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            groups[outcome.sample_id].append(outcome)
        per_family: dict[str, dict[str, float]] = {}
        for members in groups.values():
            family, level = members[0].family, members[0].level
            rewards = [m.reward for m in members]
            stats = per_family.setdefault(family, {"reward": 0.0, "completions": 0, "groups": 0, "zero_std": 0})
            stats["reward"] += sum(rewards)
            stats["completions"] += len(rewards)
            stats["groups"] += 1
            stats["zero_std"] += max(rewards) == min(rewards)
            if family in self.window and level == self.levels[family]:
                window = self.window[family]
                window[0] += sum(rewards)
                window[1] += len(rewards)
                window[2] += 1
        before = dict(self.levels)
        for family, (total, completions, count) in self.window.items():
            if not self.adaptive or count < self.min_groups:
                continue
            rate = total / completions
            if rate > self.band[1] and self.levels[family] < self.tops[family]:
                self.levels[family] += 1
            elif rate < self.band[0] and self.levels[family] > 0:
                self.levels[family] -= 1
            self.window[family] = [0.0, 0, 0]
        self.updates += 1
        self.history.append(self.levels)
        return {
            "update": self.updates,
            "levels_before": before,
            "levels": dict(self.levels),
            "pass_rate": {f: s["reward"] / s["completions"] for f, s in sorted(per_family.items())},
            "groups": {f: int(s["groups"]) for f, s in sorted(per_family.items())},
            "zero_std_groups": {f: int(s["zero_std"]) for f, s in sorted(per_family.items())},
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "band": list(self.band),
            "min_groups": self.min_groups,
            "levels": dict(self.levels),
            "window": {f: list(w) for f, w in self.window.items()},
            "updates": self.updates,
            "history": self.history.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if sorted(state["levels"]) != sorted(self.tops):
            raise ValueError(f"the saved curriculum has families {sorted(state['levels'])}, this run has {sorted(self.tops)}")
        self.band = check_band(state["band"])
        self.min_groups = int(state["min_groups"])
        self.levels = {f: int(v) for f, v in state["levels"].items()}
        self.window = {f: [float(w[0]), int(w[1]), int(w[2])] for f, w in state["window"].items()}
        self.updates = int(state["updates"])
        self.history.load_state_dict(state["history"])
