"""A scripted policy for checking the controller without a model (and for choosing a band).

The policy has a skill per family, in ladder levels. A prompt at level ``L`` is ``L`` plus its own
difficulty noise (normal, ``spread`` levels); each of its ``group_size`` completions is right with
probability ``sigmoid(sharpness * (skill - difficulty))``. Skill grows with training the way GRPO
learns: after each step a family's skill rises by ``learning_rate`` times the share of its groups
whose rewards were not all equal (a group of equal rewards has zero advantage and teaches nothing).

The steps run through the real machinery: the stream's family draw and level lag
(:class:`~synrl_hf.online.stream.StreamSpec`, no rendering) and the real
:class:`~synrl_hf.online.curriculum.Curriculum` (``adaptive=False`` gives fixed-difficulty data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..difficulty import top_level
from ..families import get_family
from .curriculum import DEFAULT_BAND, DEFAULT_MIN_GROUPS, Curriculum, Outcome
from .stream import StreamSpec


@dataclass(frozen=True)
class ScriptedPolicy:
    start_skill: dict[str, float]  # per family, in levels
    learning_rate: float = 0.25  # skill gained per step when every group of the family is informative
    sharpness: float = 2.0
    spread: float = 0.5

    def accuracy(self, skill: float, difficulty: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.sharpness * (skill - difficulty)))


@dataclass
class SimulationResult:
    """Per step: the share of groups with all-equal rewards, and per family its level, pass rate and skill."""

    zero_std: list[float] = field(default_factory=list)
    levels: list[dict[str, int]] = field(default_factory=list)
    pass_rate: list[dict[str, float]] = field(default_factory=list)
    skill: list[dict[str, float]] = field(default_factory=list)

    def mean_zero_std(self, skip: int = 0) -> float:
        return float(np.mean(self.zero_std[skip:]))

    def share_in_band(self, band: tuple[float, float], skip: int = 0) -> float:
        """Of the (step, family) pass rates after ``skip`` steps, the share inside ``band``."""
        rates = [rate for step in self.pass_rate[skip:] for rate in step.values()]
        return float(np.mean([band[0] <= rate <= band[1] for rate in rates]))


def simulate(
    policy: ScriptedPolicy,
    steps: int,
    *,
    prompts_per_step: int = 64,
    group_size: int = 8,
    adaptive: bool = True,
    start_level: int = 0,
    band: tuple[float, float] = DEFAULT_BAND,
    min_groups: int = DEFAULT_MIN_GROUPS,
    lag: int = 1,
    seed: int = 0,
) -> SimulationResult:
    """Train ``policy`` for ``steps`` GRPO steps of ``prompts_per_step`` groups; return what happened."""
    families = tuple(policy.start_skill)
    spec = StreamSpec(families, seed=seed, block_size=prompts_per_step, lag=lag)
    curriculum = Curriculum(
        {f: top_level(get_family(f)) for f in families}, start_level, band=band, min_groups=min_groups, adaptive=adaptive
    )
    skill = dict(policy.start_skill)
    rng = np.random.default_rng(seed)
    result = SimulationResult()
    for step in range(steps):
        levels = curriculum.history.at(spec.version_of(step))
        outcomes, informative, groups = [], dict.fromkeys(families, 0), dict.fromkeys(families, 0)
        for offset in range(prompts_per_step):
            position = step * prompts_per_step + offset
            family = spec.family_of(position)
            difficulty = levels[family] + rng.normal(0.0, policy.spread)
            rewards = (rng.random(group_size) < policy.accuracy(skill[family], difficulty)).astype(float)
            outcomes += [Outcome(str(position), family, levels[family], float(r)) for r in rewards]
            groups[family] += 1
            informative[family] += rewards.min() != rewards.max()
        record = curriculum.update(outcomes)
        for family in families:
            if groups[family]:
                skill[family] += policy.learning_rate * informative[family] / groups[family]
        total = sum(groups.values())
        result.zero_std.append(1.0 - sum(informative.values()) / total)
        result.levels.append(dict(levels))
        result.pass_rate.append(record["pass_rate"])
        result.skill.append(dict(skill))
    return result
