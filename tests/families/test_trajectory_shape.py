"""trajectory_shape: path shapes re-derived from the drawn positions, never from the plan."""

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

from synrl_hf.families.trajectory_shape import SHAPE_NAMES

FAMILY = "trajectory_shape"


def classify(x, y):
    """The shape of a traced path, from how its heading turns."""
    heading = np.arctan2(np.diff(y), np.diff(x))
    turn = (np.diff(heading) + np.pi) % (2 * np.pi) - np.pi
    net, total = abs(turn.sum()) / np.pi, np.abs(turn).sum() / np.pi  # in half turns
    if total < 1e-6:
        return "linear"
    if np.mean(np.abs(turn) < 1e-6) > 0.4:
        return "zigzag"  # straight legs joined by sharp corners
    if net > 3.5:
        return "spiral"  # two turns around, at a changing radius
    if net > 1.8:
        radius = np.hypot(x - x.mean(), y - y.mean())
        assert radius.std() < 0.05 * radius.mean(), "a circle keeps its radius"
        return "circular"
    assert net < 0.5 and total > 2.5, (net, total)
    return "figure_eight"  # turns one way, then the other, as much


def traced_segments(timeline, oid):
    """(start, stop, shape) of each stretch the object moves, read off its positions."""
    moving = steps(timeline.tracks[oid]) > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], moving.astype(int), [0]])))
    track = timeline.tracks[oid]
    return [(int(a), int(b), classify(track.x[a : b + 1], track.y[a : b + 1])) for a, b in zip(edges[::2], edges[1::2])]


def assert_events_match(timeline, oid, segments):
    own = [(e.frame, e.type, e.detail) for e in timeline.events if e.objects == [oid]]
    expected = []
    for start, stop, shape in segments:
        expected += [(start, "start", shape), (stop, "stop", "")]
    assert own == expected


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_shape_is_the_traced_shape(preset):
    seen = set()
    for scene in scenes_of_kind(FAMILY, "shape", count=50, preset=preset):
        tl = scene.timeline
        for obj in tl.objects:
            segments = traced_segments(tl, obj.id)
            assert_events_match(tl, obj.id, segments)
        ((_, _, shape),) = traced_segments(tl, tl.objects[0].id)
        assert chosen_option(scene.question) == SHAPE_NAMES[shape]
        assert_never_overlap(tl)
        seen.add(shape)
    assert seen == set(SHAPE_NAMES)


def test_check_is_the_traced_shape():
    answers = []
    for scene in scenes_of_kind(FAMILY, "check"):
        ((_, _, shape),) = traced_segments(scene.timeline, "obj0")
        assert scene.question.answer == ("yes" if SHAPE_NAMES[shape] in scene.question.text else "no")
        answers.append(scene.question.answer)
    assert 0.25 < answers.count("yes") / len(answers) < 0.75


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_when_spans_the_asked_shape(preset):
    for scene in scenes_of_kind(FAMILY, "when", preset=preset):
        tl = scene.timeline
        segments = traced_segments(tl, "obj0")
        assert len(segments) == scene.params.segments
        assert len({shape for _, _, shape in segments}) == len(segments)
        assert all(b[0] - a[1] >= 3 for a, b in zip(segments, segments[1:])), "a visible pause between shapes"
        assert_events_match(tl, "obj0", segments)
        ((start, stop, _),) = [s for s in segments if SHAPE_NAMES[s[2]] in scene.question.text]
        assert interval_frames(scene.question, tl.fps) == (start, stop)


def test_no_single_frame_tells_the_shape():
    """The first, middle and last positions are spread alike whatever the shape."""
    where = {shape: [] for shape in SHAPE_NAMES}
    for scene in scenes_of_kind(FAMILY, "shape", count=150):
        tl = scene.timeline
        track = tl.tracks["obj0"]
        ((_, _, shape),) = traced_segments(tl, "obj0")
        where[shape] += [np.hypot(track.x[f] - 0.5, track.y[f] - 0.5) for f in (0, tl.num_frames // 2, tl.num_frames - 1)]
    means = [np.mean(v) for v in where.values()]
    assert max(means) - min(means) < 0.1


def test_drawn_pixels_follow_the_tracks():
    row, frames = render_and_decode(FAMILY, 4, preset="round2")
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] // 2, row["num_frames"] - 1])
