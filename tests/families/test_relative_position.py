"""relative_position: sides and crossings re-derived from the drawn centers of the two objects."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from short_term_checks import (
    assert_drawn_where_tracked,
    assert_never_overlap,
    chosen_option,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
)

FAMILY = "relative_position"
WORDS = {"left": ("x", False), "right": ("x", True), "above": ("y", False), "below": ("y", True)}


def along(scene):
    """The axis the objects glide along (their lanes are fixed on the other one) and A - B on it."""
    a, b = (scene.timeline.tracks[o.id] for o in scene.timeline.objects[:2])
    axis = "x" if np.ptp(a.y) == 0 and np.ptp(b.y) == 0 else "y"
    assert np.ptp(getattr(a, "y" if axis == "x" else "x")) == 0
    return axis, getattr(a, axis) - getattr(b, axis)


def crossings(offset):
    after = offset > 0
    return [int(f) + 1 for f in np.flatnonzero(after[1:] != after[:-1])]


def check_drawn_clearly(scene):
    tl = scene.timeline
    _, offset = along(scene)
    frames = crossings(offset)
    assert frames == [e.frame for e in tl.events if e.type == "pass"]
    assert all(b - a >= 6 for a, b in zip(frames, frames[1:]))
    assert all(3 <= f <= tl.num_frames - 4 for f in frames)
    # At both ends A is clearly on one side of B (centers apart by more than a small object's width).
    assert abs(offset[0]) >= 0.1 and abs(offset[-1]) >= 0.1
    assert_never_overlap(tl)
    return offset, frames


def side_word(scene, frame):
    axis, offset = along(scene)
    return next(w for w in WORDS if WORDS[w] == (axis, bool(offset[frame] > 0)))


def asked_word(question):
    return next(w for w in WORDS if f" {w} the " in question.text or f"{w} of the " in question.text)


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_count_is_the_number_of_drawn_crossings(preset):
    answers = []
    for scene in scenes_of_kind(FAMILY, "count", preset=preset):
        _, frames = check_drawn_clearly(scene)
        assert int(scene.question.answer) == len(frames)
        answers.append(len(frames))
    low, high = scene.params.crossings
    assert set(answers) == set(range(low, high + 1))


def test_passed_means_a_drawn_crossing():
    answers = collections.Counter()
    ends_differ = 0
    for scene in scenes_of_kind(FAMILY, "passed", count=80):
        offset, frames = check_drawn_clearly(scene)
        assert scene.question.answer == ("yes" if frames else "no")
        answers[scene.question.answer] += 1
        ends_differ += (offset[0] > 0) != (offset[-1] > 0)
    assert 0.3 < answers["yes"] / 80 < 0.7
    # Half the passes come back: the two ends alone do not settle the answer.
    assert ends_differ < 0.75 * answers["yes"]


def test_start_end_is_the_drawn_sides():
    for scene in scenes_of_kind(FAMILY, "start_end"):
        check_drawn_clearly(scene)
        start, end = side_word(scene, 0), side_word(scene, -1)
        phrase = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
        assert chosen_option(scene.question) == f"{phrase[start]} it at the start, {phrase[end]} it at the end"


def test_side_at_stop_is_read_when_a_comes_to_rest():
    answers, same_as_end = collections.Counter(), 0
    for scene in scenes_of_kind(FAMILY, "side_at_stop", count=60):
        tl = scene.timeline
        check_drawn_clearly(scene)
        axis, offset = along(scene)
        moving = getattr(tl.tracks["obj0"], axis)
        stop = int(np.flatnonzero(np.diff(moving) != 0)[-1]) + 1  # first frame of the final rest
        assert [e.frame for e in tl.events if e.type == "stop"] == [stop]
        assert stop < tl.num_frames - 10 and np.ptp(getattr(tl.tracks["obj1"], axis)[stop:]) > 0
        assert scene.question.answer == ("yes" if side_word(scene, stop) == asked_word(scene.question) else "no")
        answers[scene.question.answer] += 1
        same_as_end += (offset[stop] > 0) == (offset[-1] > 0)
    assert 0.3 < answers["yes"] / 60 < 0.7
    assert same_as_end < 0.8 * 60, "the last frame must not give the side at the stop away"


def test_when_spans_the_drawn_stretch_on_that_side():
    for scene in scenes_of_kind(FAMILY, "when"):
        offset, _ = check_drawn_clearly(scene)
        asked = asked_word(scene.question)
        axis, _ = along(scene)
        assert WORDS[asked][0] == axis
        on_side = np.flatnonzero((offset > 0) == WORDS[asked][1])
        assert np.all(np.diff(on_side) == 1), "one unbroken stretch"
        end = min(on_side[-1] + 1, scene.timeline.num_frames - 1)
        assert interval_frames(scene.question, scene.timeline.fps) == (on_side[0], end)


def test_drawn_where_tracked():
    scene = scenes_of_kind(FAMILY, "count", count=1)[0]
    row, frames = render_and_decode(FAMILY, scene.index)
    _, crossing_frames = check_drawn_clearly(scene)
    assert_drawn_where_tracked(row, frames, [0, *crossing_frames[:1], row["num_frames"] - 1])
