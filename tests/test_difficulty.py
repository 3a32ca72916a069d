"""Difficulty ladders: every family's levels generate, presets are levels, rows record the level."""

from __future__ import annotations

import json

import pytest

from synrl_hf.build import BuildSpec
from synrl_hf.difficulty import ladder_of, ladder_problems, level_of, level_overrides, preset_name, top_level
from synrl_hf.families import FAMILIES, get_family, register
from synrl_hf.families.direction import Direction
from synrl_hf.sample import build_scene, generate_sample

LEVEL_SAMPLES = 6


def test_every_family_climbs_beyond_round2():
    for name, family in FAMILIES.items():
        levels = ladder_of(family)
        assert top_level(family) >= 4, name
        assert levels[0] == {} and levels[1] == family.round2, name
        assert ladder_problems(family) == [], name


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_level_of_every_family_generates_answerable_samples(family):
    for level in range(top_level(FAMILIES[family]) + 1):
        for index in range(LEVEL_SAMPLES):
            scene = build_scene(family, index, seed=3, preset=preset_name(level))
            question = scene.question
            if question.answer_type == "multiple_choice":
                assert question.answer in "ABCDEFGH"[: len(question.options)], (family, level, index)
            assert scene.params == FAMILIES[family].params(f"level{level}")


def test_levels_above_round2_ask_for_more():
    """Beyond round2 the ladder raises what makes a clip harder: longer clips, or more of what is counted or tracked."""
    for name, family in FAMILIES.items():
        params = [family.params(f"level{k}") for k in range(top_level(family) + 1)]
        assert params[-1].duration[1] >= params[1].duration[1], name
        assert params[-1] != params[1] and params[2] != params[1], name


def test_presets_are_levels_and_rows_record_them():
    assert (level_of("round1"), level_of("round2"), level_of("level3")) == (0, 1, 3)
    assert [preset_name(k) for k in range(4)] == ["round1", "round2", "level2", "level3"]
    row2 = generate_sample("direction", 1, seed=2, preset="round2", resolution=64)
    row1 = generate_sample("direction", 1, seed=2, preset="level1", resolution=64)
    assert row2["level"] == row1["level"] == 1 and row2["video"]["bytes"] == row1["video"]["bytes"]
    top = generate_sample("direction", 1, seed=2, preset="level4", resolution=64)
    assert top["level"] == 4 and top["preset"] == "level4"
    assert json.loads(top["difficulty"])["distractors"] == 3
    assert generate_sample("direction", 1, seed=2, resolution=64)["level"] == 0


@pytest.mark.parametrize("preset", ["round3", "level", "level-1", "level01", "hard", 2])
def test_unknown_presets_name_the_valid_ones(preset):
    with pytest.raises(ValueError, match="valid presets: round1, round2, or level<k>"):
        level_of(preset)


def test_a_level_above_the_ladder_names_its_range():
    with pytest.raises(ValueError, match="family 'direction' has no level 9; its ladder has levels 0 to 4"):
        build_scene("direction", 0, preset="level9")
    with pytest.raises(ValueError, match="no level 9"):
        BuildSpec(families=("direction",), per_task=1, preset="level9")
    with pytest.raises(ValueError, match="valid presets"):
        BuildSpec(families=("direction",), per_task=1, preset="round3")
    assert level_overrides(get_family("direction"), 4)["distractors"] == 3


def test_the_registry_refuses_a_bad_ladder():
    class Unknown(Direction):
        name = "direction_unknown"
        ladder = ({}, Direction.round2, {"wings": 3})

    class Skips(Direction):
        name = "direction_skips"
        ladder = ({}, {"distractors": 5})

    class Repeats(Direction):
        name = "direction_repeats"
        ladder = ({}, Direction.round2, Direction.round2)

    with pytest.raises(ValueError, match=r"level 2 sets unknown parameter\(s\) \['wings'\]"):
        register(Unknown)
    with pytest.raises(ValueError, match="level 1 must equal round2"):
        register(Skips)
    with pytest.raises(ValueError, match="level 2 repeats level 1"):
        register(Repeats)
    assert not {"direction_unknown", "direction_skips", "direction_repeats"} & set(FAMILIES)

    class Plain(Direction):  # no ladder declared: the two presets are its levels
        name = "direction_plain"
        ladder = ()

    assert ladder_problems(Plain) == [] and ladder_of(Plain) == ({}, Direction.round2) and top_level(Plain) == 1
