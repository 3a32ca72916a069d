"""The difficulty controller: levels follow the pass rate, and against a scripted policy it keeps GRPO
groups informative where fixed round1 data does not."""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf.online import Curriculum, Outcome
from synrl_hf.online.simulation import ScriptedPolicy, simulate

TOPS = {"direction": 4, "card_stack": 4}


def groups(family: str, level: int, passes: list[int], size: int = 4, start: int = 0) -> list[Outcome]:
    """One group of ``size`` completions per entry of ``passes``, that many of them right."""
    return [Outcome(f"{family}-{start + g}", family, level, float(k < right)) for g, right in enumerate(passes) for k in range(size)]


def test_levels_move_up_above_the_band_down_below_it_and_stay_inside():
    curriculum = Curriculum(TOPS, 2, band=(0.3, 0.7), min_groups=2)
    record = curriculum.update(groups("direction", 2, [4, 4]) + groups("card_stack", 2, [0, 1]))
    assert record["levels"] == {"direction": 3, "card_stack": 1}
    assert record["pass_rate"] == {"card_stack": 0.125, "direction": 1.0}
    assert record["zero_std_groups"] == {"card_stack": 1, "direction": 2}
    record = curriculum.update(groups("direction", 3, [2, 2], start=9) + groups("card_stack", 1, [2, 3], start=9))
    assert record["levels"] == {"direction": 3, "card_stack": 1}
    assert curriculum.history.versions == [{"direction": 2, "card_stack": 2}] + [{"direction": 3, "card_stack": 1}] * 2


def test_decisions_wait_for_enough_groups_at_the_current_level_and_respect_the_ladder():
    curriculum = Curriculum(TOPS, 4, band=(0.3, 0.7), min_groups=3)
    curriculum.update(groups("direction", 4, [4, 4]) + groups("card_stack", 4, [4, 4, 4]))
    assert curriculum.levels == {"direction": 4, "card_stack": 4}  # 2 groups are too few; 4 is card_stack's top
    curriculum.update(groups("direction", 3, [0, 0, 0]))  # rendered at an older level: logged, not counted
    assert curriculum.window["direction"][2] == 2
    curriculum.update(groups("direction", 4, [0]))  # 3 groups now, pass rate 8/12: inside the band
    assert curriculum.levels["direction"] == 4 and curriculum.window["direction"][2] == 0
    curriculum.update(groups("direction", 4, [0, 1, 0]))
    assert curriculum.levels["direction"] == 3
    fixed = Curriculum(TOPS, 0, adaptive=False, min_groups=1)
    fixed.update(groups("direction", 0, [4, 4, 4]))
    assert fixed.levels == {"direction": 0, "card_stack": 0}


def test_state_round_trips_and_refuses_another_family_set():
    curriculum = Curriculum(TOPS, 1, min_groups=1)
    curriculum.update(groups("direction", 1, [4, 4, 4]))
    copy = Curriculum(TOPS, 0)
    copy.load_state_dict(curriculum.state_dict())
    assert copy.levels == curriculum.levels and copy.history.versions == curriculum.history.versions and copy.updates == 1
    with pytest.raises(ValueError, match="saved curriculum has families"):
        Curriculum({"direction": 4}).load_state_dict(curriculum.state_dict())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"band": (0.7, 0.3)}, "0 <= low < high <= 1"),
        ({"band": (0.2,)}, "0 <= low < high <= 1"),
        ({"min_groups": 0}, "min_groups must be a whole number >= 1"),
        ({"start": {"nope": 1}}, "start levels for unknown families \\['nope'\\]"),
        ({"start": -1}, "must be a whole number >= 0"),
    ],
)
def test_bad_controller_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Curriculum(TOPS, **kwargs)


def test_against_a_scripted_policy_the_controller_keeps_groups_informative():
    """The fast version of scripts/simulate_curriculum.py: 6 families, 120 steps of 32 prompts x 8."""
    rng = np.random.default_rng(0)
    families = ("direction", "speed", "rotation_count", "card_stack", "shell_game", "chip_container")
    policy = ScriptedPolicy({f: float(s) for f, s in zip(families, rng.uniform(-0.5, 1.5, len(families)))}, learning_rate=0.02)
    adaptive = simulate(policy, 120, prompts_per_step=32, min_groups=4)
    fixed = simulate(policy, 120, prompts_per_step=32, adaptive=False)
    # Far fewer groups with all-equal rewards, pass rates mostly in the band, and a policy that learns more.
    assert adaptive.mean_zero_std(skip=20) < 0.5 * fixed.mean_zero_std(skip=20)
    assert adaptive.share_in_band((0.3, 0.7), skip=20) > 2 * fixed.share_in_band((0.3, 0.7), skip=20)
    assert np.mean(list(adaptive.skill[-1].values())) > np.mean(list(fixed.skill[-1].values()))
    assert max(adaptive.levels[-1].values()) >= 2 and set(fixed.levels[-1].values()) == {0}
