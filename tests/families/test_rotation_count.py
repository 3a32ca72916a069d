"""rotation_count: turns re-derived from the drawn angle, and the turning direction checked in pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from short_term_checks import (
    POSITION_TOLERANCE,
    assert_drawn_where_tracked,
    assert_never_overlap,
    chosen_option,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
)

from synrl_hf import build_scene
from synrl_hf.palette import BACKGROUND, ROTATION_SHAPES
from synrl_hf.questions import ordinal

FAMILY = "rotation_count"
MAX_STEP = 20.0  # degrees per frame: far below the 180 where a turn could be read backwards


def per_frame_turn(track):
    """Signed turn between frames as a viewer sees it: the drawn angle mod 360, unwrapped."""
    drawn = np.mod(track.angle, 360.0)
    return (np.diff(drawn) + 180.0) % 360.0 - 180.0


def completions(turn):
    """Frame at which each full turn is first drawn complete."""
    total = np.abs(np.concatenate([[0.0], np.cumsum(turn)]))
    return [int(np.argmax(total >= 360.0 * k - 1e-6)) for k in range(1, int(total[-1] // 360) + 1)]


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_count_is_the_drawn_number_of_turns(preset):
    answers = []
    for scene in scenes_of_kind(FAMILY, "count", preset=preset):
        tl = scene.timeline
        for obj in tl.objects:
            assert obj.marker and obj.shape in ROTATION_SHAPES
            turn = per_frame_turn(tl.tracks[obj.id])
            assert np.abs(turn).max() <= MAX_STEP
            assert np.all(turn * np.sign(turn.sum()) >= -1e-9), "one direction only"
            fraction = abs(turn.sum()) / 360.0 % 1.0
            assert 0.1 < fraction < 0.9, "never close to a whole turn"
            events = [e.frame for e in tl.events if e.objects == [obj.id] and e.type == "full_turn"]
            assert events == completions(turn)
        answers.append(int(scene.question.answer))
        assert int(scene.question.answer) == int(abs(per_frame_turn(tl.tracks[tl.objects[0].id]).sum()) // 360)
        assert_never_overlap(tl)
    low, high = scenes_of_kind(FAMILY, "count", count=1, preset=preset)[0].params.count
    assert set(answers) == set(range(low, high + 1))


def test_count_choice_option_is_the_drawn_count():
    for scene in scenes_of_kind(FAMILY, "count_choice"):
        turns = int(abs(per_frame_turn(scene.timeline.tracks["obj0"]).sum()) // 360)
        assert chosen_option(scene.question) == str(turns)


def test_direction_is_the_sign_of_the_turn():
    answers = []
    for scene in scenes_of_kind(FAMILY, "direction"):
        clockwise = per_frame_turn(scene.timeline.tracks["obj0"]).sum() > 0
        asked_clockwise = "counter-clockwise" not in scene.question.text
        assert scene.question.answer == ("yes" if clockwise == asked_clockwise else "no")
        answers.append(scene.question.answer)
    assert 0.25 < answers.count("yes") / len(answers) < 0.75


def test_when_spans_the_asked_turn():
    for scene in scenes_of_kind(FAMILY, "when"):
        tl = scene.timeline
        turn = per_frame_turn(tl.tracks["obj0"])
        k = next(n for n in range(1, 9) if f" {ordinal(n)} full" in scene.question.text)
        spin_start = int(np.flatnonzero(turn)[0])
        bounds = [spin_start] + completions(turn)
        assert interval_frames(scene.question, tl.fps) == (bounds[k - 1], bounds[k])


def test_end_angle_does_not_reveal_the_count():
    counts, first, last = [], [], []
    for scene in scenes_of_kind(FAMILY, "count", count=120):
        angle = scene.timeline.tracks["obj0"].angle
        counts.append(int(scene.question.answer))
        first.append(np.cos(np.radians(angle[0])))
        last.append(np.cos(np.radians(angle[-1])))
    for seen in (first, last):
        assert abs(np.corrcoef(counts, seen)[0, 1]) < 0.25


def marker_angle(frame, center, radius):
    """Clockwise angle from 12 o'clock of the marker around ``center`` (pixels, y down).

    The marker is a white dot inside the object: the one hole in the object's non-background pixels.
    """
    drawn = np.abs(frame.astype(int) - np.array(BACKGROUND)).max(axis=-1) > 60
    ys, xs = np.mgrid[: frame.shape[0], : frame.shape[1]]
    hole = ndimage.binary_fill_holes(drawn) & ~drawn & (np.hypot(xs - center[0], ys - center[1]) < radius)
    dx, dy = xs[hole].mean() + 0.5 - center[0], ys[hole].mean() + 0.5 - center[1]
    return math.degrees(math.atan2(dx, -dy)), dx, dy


@pytest.mark.parametrize("clockwise", [True, False])
def test_clockwise_means_twelve_towards_three_in_decoded_pixels(clockwise):
    """A 'clockwise' answer means the marker moves from 12 o'clock towards 3 o'clock on screen."""
    big = {"size": (0.3, 0.35)}
    index = next(
        i
        for i in range(500)
        if (s := build_scene(FAMILY, i, params=big)).question.kind == "direction"
        # Shapes whose outline holds the marker and whose centroid is their center, for the position check.
        and s.timeline.objects[0].shape in ("square", "diamond", "pentagon")
        and s.question.answer == ("yes" if clockwise == ("counter-clockwise" not in s.question.text) else "no")
    )
    row, frames = render_and_decode(FAMILY, index, resolution=256, params=big)
    track = {t["object"]: t for t in row["tracks"]}["obj0"]
    size = row["objects"][0]["size"]
    spinning = [e["frame"] for e in row["events"] if e["type"] in ("spin_start", "spin_stop")]
    angles, moves_at_top, previous_dx = [], [], 0.0
    for f in range(spinning[0], spinning[1] + 1):
        angle, dx, dy = marker_angle(frames[f], (track["x"][f], track["y"][f]), 0.5 * size)
        angles.append(angle)
        if dy < -0.1 * size and f > spinning[0]:
            moves_at_top.append(dx - previous_dx)
        previous_dx = dx
        # The marker sits where the exported angle says.
        assert abs((angle - track["angle"][f] + 180) % 360 - 180) < 5, f
    step = (np.diff(angles) + 180) % 360 - 180
    assert np.median(step) > 0 if clockwise else np.median(step) < 0
    # Near 12 o'clock, clockwise moves the marker to the right (towards 3 o'clock), x increasing.
    assert np.median(moves_at_top) > 0 if clockwise else np.median(moves_at_top) < 0
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] - 1], tolerance=POSITION_TOLERANCE * 2, marker=True)
