"""speed: answers re-derived from the drawn positions, never from the plan."""

from __future__ import annotations

import numpy as np
import pytest
from short_term_checks import (
    assert_drawn_where_tracked,
    assert_never_overlap,
    assert_position_unrelated_to_speed,
    chosen_option,
    constant_speed,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
    steps,
)

from synrl_hf import motion
from synrl_hf.families.speed import CHANGES

FAMILY = "speed"
WINDOW = 3  # frames either side of a change; at most one bounce can shorten a step in it


def speeds_by_name(scene):
    tl = scene.timeline
    return {motion.describe(o): constant_speed(tl.tracks[o.id]) for o in tl.objects}


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_extreme_is_the_fastest_or_slowest_drawn(preset):
    for scene in scenes_of_kind(FAMILY, "extreme", preset=preset):
        speeds = speeds_by_name(scene)
        wanted = max if "fastest" in scene.question.text or "quickest" in scene.question.text else min
        assert chosen_option(scene.question) == wanted(speeds, key=speeds.get)
        ordered = sorted(speeds.values())
        assert min(b / a for a, b in zip(ordered, ordered[1:])) >= scene.params.gap[0] - 1e-9
        assert_never_overlap(scene.timeline)


def test_compare_matches_the_two_speeds():
    answers = []
    for scene in scenes_of_kind(FAMILY, "compare"):
        first, second = (constant_speed(scene.timeline.tracks[o.id]) for o in scene.timeline.objects[:2])
        assert scene.question.answer == ("yes" if first > second else "no")
        answers.append(scene.question.answer)
    assert 0.25 < answers.count("yes") / len(answers) < 0.75


def read_change(track, num_frames):
    """constant / speed_up / slow_down / stop_and_go, and the frames where a pause starts and ends."""
    moved = steps(track)
    still = np.flatnonzero(moved == 0)
    if still.size:
        assert np.all(np.diff(still) == 1), "a single pause"
        return "stop_and_go", [int(still[0]), int(still[-1]) + 1]
    quarter = num_frames // 4
    ratio = moved[-quarter:].max() / moved[:quarter].max()
    if abs(np.log(ratio)) < np.log(1.3):
        return "constant", []
    return ("speed_up" if ratio > 1 else "slow_down"), None


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_change_matches_the_track(preset):
    seen = set()
    for scene in scenes_of_kind(FAMILY, "change", preset=preset):
        tl = scene.timeline
        target = tl.tracks[tl.objects[0].id]
        change, frames = read_change(target, tl.num_frames)
        assert chosen_option(scene.question) == CHANGES[change]
        events = [e.frame for e in tl.events if e.objects == [tl.objects[0].id]]
        moved = steps(target)
        if change in ("speed_up", "slow_down"):
            (switch,) = events
            before, after = moved[switch - WINDOW : switch].max(), moved[switch : switch + WINDOW].max()
            assert before == pytest.approx(moved[: tl.num_frames // 4].max())
            assert after == pytest.approx(moved[-tl.num_frames // 4 :].max())
            assert max(before, after) / min(before, after) >= scene.params.change_ratio[0] - 1e-9
        else:
            assert events == frames
        seen.add(change)
    assert seen == set(CHANGES)


def test_when_spans_the_burst():
    for scene in scenes_of_kind(FAMILY, "when"):
        tl = scene.timeline
        start, end = interval_frames(scene.question, tl.fps)
        moved = steps(tl.tracks[tl.objects[0].id])
        inside = moved[start:end].max()
        outside = max(moved[:start].max(), moved[end:].max())
        # The burst starts exactly at `start` and ends exactly at `end`.
        assert moved[start : start + WINDOW].max() == pytest.approx(inside)
        assert moved[start - WINDOW : start].max() == pytest.approx(outside)
        assert moved[end - WINDOW : end].max() == pytest.approx(inside)
        assert moved[end : end + WINDOW].max() == pytest.approx(outside)
        assert (inside > outside) == ("faster" in scene.question.text or "sped up" in scene.question.text)
        assert start < end


def test_no_single_frame_tells_the_speed():
    assert_position_unrelated_to_speed(scenes_of_kind(FAMILY, "extreme", count=60))


def test_drawn_pixels_follow_the_tracks():
    row, frames = render_and_decode(FAMILY, 1)
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] // 2, row["num_frames"] - 1])
