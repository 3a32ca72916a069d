"""motion_count: hops re-derived from the drawn positions (runs of moving frames), never from the plan."""

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

from synrl_hf import build_scene, generate_sample
from synrl_hf.answers import LETTERS
from synrl_hf.audit.pixels import audit_row
from synrl_hf.pixels import PixelScene
from synrl_hf.video import read_planes

FAMILY = "motion_count"


def hops(track):
    """(first frame off the spot, first frame back at rest) of every run of moving frames."""
    moving = steps(track) > 0
    edges = np.diff(np.concatenate([[0], moving.astype(int), [0]]))
    return [(int(a) + 1, int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def check_hops_are_drawn_apart(scene):
    tl = scene.timeline
    for obj in tl.objects:
        runs = hops(tl.tracks[obj.id])
        takeoffs = [e.frame for e in tl.events if e.objects == [obj.id] and e.type == "hop"]
        landings = [e.frame for e in tl.events if e.objects == [obj.id] and e.type == "land"]
        assert [a for a, _ in runs] == takeoffs and [b for _, b in runs] == landings
        for a, b in runs:
            assert scene.params.hop_frames[0] <= b - a + 1 <= scene.params.hop_frames[1]
        # Still frames between hops (the landing frame included): each hop is seen on its own.
        assert all(a2 - b1 >= scene.params.min_rest + 1 for (_, b1), (a2, _) in zip(runs, runs[1:]))
        assert not runs or (runs[0][0] >= 3 and runs[-1][1] <= tl.num_frames - 4)
    assert_never_overlap(tl)


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_count_is_the_number_of_drawn_hops(preset):
    answers = []
    for scene in scenes_of_kind(FAMILY, "count", preset=preset):
        check_hops_are_drawn_apart(scene)
        answers.append(int(scene.question.answer))
        assert int(scene.question.answer) == len(hops(scene.timeline.tracks[scene.timeline.objects[0].id]))
    low, high = scene.params.count
    assert set(answers) == set(range(low, high + 1))


def test_count_choice_option_is_the_drawn_count():
    for scene in scenes_of_kind(FAMILY, "count_choice"):
        check_hops_are_drawn_apart(scene)
        assert chosen_option(scene.question) == str(len(hops(scene.timeline.tracks["obj0"])))


def test_when_spans_the_asked_hops():
    for scene in scenes_of_kind(FAMILY, "when"):
        runs = hops(scene.timeline.tracks["obj0"])
        first, last = scene.plan["hops"]
        assert interval_frames(scene.question, scene.timeline.fps) == (runs[first - 1][0], runs[last - 1][1])


def test_first_and_last_frames_do_not_reveal_the_count():
    counts, moved, end_x, end_y = [], [], [], []
    for scene in scenes_of_kind(FAMILY, "count", count=150):
        track = scene.timeline.tracks["obj0"]
        counts.append(int(scene.question.answer))
        moved.append(np.hypot(track.x[-1] - track.x[0], track.y[-1] - track.y[0]))
        end_x.append(track.x[-1])
        end_y.append(track.y[-1])
    for seen in (moved, end_x, end_y):
        assert abs(np.corrcoef(counts, seen)[0, 1]) < 0.25


def test_drawn_where_tracked_mid_hop():
    row, frames = render_and_decode(FAMILY, 2)
    track = next(t for t in row["tracks"] if t["object"] == "obj0")
    takeoff = next(e["frame"] for e in row["events"] if e["type"] == "hop" and e["objects"] == ["obj0"])
    landing = next(e["frame"] for e in row["events"] if e["type"] == "land" and e["objects"] == ["obj0"])
    middle = (takeoff + landing) // 2
    assert track["y"][middle] != track["y"][takeoff - 1]
    assert_drawn_where_tracked(row, frames, [0, middle, row["num_frames"] - 1])


def test_a_resting_object_that_flickers_makes_no_hop():
    """Regression, a real sample of a 128 px build: the asked square never hops (answer 0), but
    H.264 redraws its edge one pixel column wider from a frame on (a new group of pictures), which
    moves its centroid by half a pixel: above the still threshold, yet no hop a viewer would see."""
    row = generate_sample(FAMILY, 29, 0, "test", resolution=128)
    frames = read_planes(row["video"]["bytes"])
    scene = PixelScene(row, frames)
    square = row["objects"][0]
    assert row["options"][LETTERS.index(row["answer"])] == "0"
    p = scene.position(square)
    steps = np.hypot(*np.diff(p, axis=0).T)
    assert (steps > scene.still_threshold()).any() and np.ptp(p, axis=0).max() <= 1.0
    result = audit_row(row, frames)
    assert result["agree"], result


def test_hops_too_short_to_tell_from_flicker_are_refused():
    with pytest.raises(ValueError, match="0.02"):
        build_scene(FAMILY, 0, 0, params={"hop_length": (0.02, 0.1)})
