"""velocity_comparison: rankings re-derived from the drawn positions, never from the plan."""

from __future__ import annotations

import collections

import pytest
from short_term_checks import (
    assert_drawn_where_tracked,
    assert_never_overlap,
    assert_position_unrelated_to_speed,
    chosen_option,
    constant_speed,
    render_and_decode,
    scenes_of_kind,
)

from synrl_hf import motion

FAMILY = "velocity_comparison"


def fastest_first(scene):
    tl = scene.timeline
    return sorted(tl.objects, key=lambda o: constant_speed(tl.tracks[o.id]), reverse=True)


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_rank_is_the_drawn_order(preset):
    for scene in scenes_of_kind(FAMILY, "rank", preset=preset):
        ranked = fastest_first(scene)
        assert scene.question.answer == ", ".join(o.color for o in ranked)
        speeds = [constant_speed(scene.timeline.tracks[o.id]) for o in ranked]
        assert min(a / b for a, b in zip(speeds, speeds[1:])) >= scene.params.gap[0] - 1e-9
        assert_never_overlap(scene.timeline)


def test_second_is_the_drawn_second():
    for scene in scenes_of_kind(FAMILY, "second"):
        ranked = fastest_first(scene)
        expected = ranked[1] if "fastest" in scene.question.text else ranked[-2]
        assert chosen_option(scene.question) == motion.describe(expected)
        assert len(scene.question.options) == 4


def test_faster_count_is_the_drawn_count():
    answers = collections.Counter()
    for scene in scenes_of_kind(FAMILY, "faster_count", count=60):
        tl = scene.timeline
        target = constant_speed(tl.tracks[tl.objects[0].id])
        faster = sum(constant_speed(tl.tracks[o.id]) > target for o in tl.objects[1:])
        assert scene.question.answer == str(faster)
        answers[faster] += 1
    assert set(answers) == {0, 1, 2, 3} and max(answers.values()) < 30


def test_no_single_frame_tells_the_speed():
    assert_position_unrelated_to_speed(scenes_of_kind(FAMILY, "rank", count=60))


def test_drawn_pixels_follow_the_tracks():
    row, frames = render_and_decode(FAMILY, 3)
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] // 2, row["num_frames"] - 1])
