"""acceleration: trends re-derived from the drawn positions, never from the plan."""

from __future__ import annotations

import numpy as np
import pytest
from short_term_checks import (
    assert_drawn_where_tracked,
    assert_never_overlap,
    chosen_option,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
    steps,
)

from synrl_hf import generate_sample
from synrl_hf.answers import LETTERS
from synrl_hf.audit.pixels import audit_row
from synrl_hf.families.acceleration import TRENDS
from synrl_hf.pixels import SPEED_EDGE, PixelScene, speeds
from synrl_hf.video import read_planes

FAMILY = "acceleration"
BINS = 5


def speed_envelope(track, fps):
    """Speed per step with bounces undone: a bounce only shortens a step, so take a running max."""
    moved = steps(track) * fps
    padded = np.pad(moved, 2, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 5).max(axis=1)


def read_trend(speed):
    means = np.array([chunk.mean() for chunk in np.array_split(speed, BINS)])
    if speed.max() / speed.min() < 1.2:
        return "constant"
    if 0 < means.argmax() < BINS - 1:
        return "up then down"
    if 0 < means.argmin() < BINS - 1:
        return "down then up"
    return "speeding up" if means[-1] > means[0] else "slowing down"


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_trend_matches_the_track(preset):
    seen = set()
    for scene in scenes_of_kind(FAMILY, "trend", preset=preset):
        tl = scene.timeline
        speed = speed_envelope(tl.tracks[tl.objects[0].id], tl.fps)
        trend = read_trend(speed)
        assert chosen_option(scene.question) == TRENDS[trend]
        if trend != "constant":
            # Well above what a viewer can notice (the running max blunts a turning point a little).
            assert speed.max() / speed.min() >= scene.params.ratio[0] * 0.9
        assert len(scene.question.options) == 4
        assert_never_overlap(tl)
        seen.add(trend)
    assert seen == set(TRENDS)


def test_check_matches_the_track():
    answers = []
    for scene in scenes_of_kind(FAMILY, "check", count=60):
        tl = scene.timeline
        trend = read_trend(speed_envelope(tl.tracks[tl.objects[0].id], tl.fps))
        assert scene.question.answer == ("yes" if trend == scene.plan["asked"] else "no")
        answers.append(scene.question.answer)
    assert 0.3 < answers.count("yes") / len(answers) < 0.7


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_when_spans_the_ramp(preset):
    for scene in scenes_of_kind(FAMILY, "when", preset=preset):
        tl = scene.timeline
        start, end = interval_frames(scene.question, tl.fps)
        moved = steps(tl.tracks[tl.objects[0].id])
        before, after = moved[:start].max(), moved[end:].max()
        # Steady up to `start`, steady from `end`, and changing on every step of the ramp.
        assert moved[start - 3 : start].max() == pytest.approx(before)
        assert moved[end : end + 3].max() == pytest.approx(after)
        ramp = moved[start:end]
        assert ramp.max() <= max(before, after) + 1e-12 and ramp[1:].max() > min(before, after)
        assert (after > before) == ("speeding up" in scene.question.text)
        assert max(before, after) / min(before, after) >= scene.params.ratio[0] * 0.99


def test_no_single_frame_tells_the_trend():
    """The target's distance from the frame center at the first, middle and last frame is unrelated to the trend."""
    rising, where = [], {0: [], 1: [], 2: []}
    for scene in scenes_of_kind(FAMILY, "trend", count=120):
        trend = scene.plan["trend"]
        if trend not in ("speeding up", "slowing down"):
            continue
        tl = scene.timeline
        track = tl.tracks[tl.objects[0].id]
        rising.append(trend == "speeding up")
        for i, f in enumerate((0, tl.num_frames // 2, tl.num_frames - 1)):
            where[i].append(np.hypot(track.x[f] - 0.5, track.y[f] - 0.5))
    for positions in where.values():
        assert abs(np.corrcoef(rising, positions)[0, 1]) < 0.3


def test_drawn_pixels_follow_the_tracks():
    row, frames = render_and_decode(FAMILY, 2, preset="round2")
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] // 2, row["num_frames"] - 1])


def test_a_bounce_in_the_last_frames_is_no_slowing_down():
    """Regression, a real sample of a 448 px build: the hexagon speeds up across the whole clip and
    bounces off the right wall 4 frames before the end. Over those frames the measured speed dips
    (the displacement windows straddle the bounce and the clip's end leaves nothing to outvote
    them), which the reader took for "speeds up, then slows down"."""
    row = generate_sample(FAMILY, 12, 0, "test", resolution=448)
    frames = read_planes(row["video"]["bytes"])
    s = speeds(PixelScene(row, frames).track(row["objects"][0]))
    assert s[-1] < 0.5 * s[-SPEED_EDGE - 1]  # the dip is there, in the last frames only
    result = audit_row(row, frames)
    assert row["options"][LETTERS.index(row["answer"])] == TRENDS["speeding up"]
    assert result["agree"], result
