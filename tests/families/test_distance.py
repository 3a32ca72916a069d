"""distance: trends, phases and closest pairs re-derived from the drawn centers."""

from __future__ import annotations

import collections
import itertools
import math

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

from synrl_hf import motion

FAMILY = "distance"
TREND_WORDS = {(1,): "keeps growing", (-1,): "keeps shrinking", (1, -1): "grows, then shrinks", (-1, 1): "shrinks, then grows"}


def gap(scene):
    a, b = (scene.timeline.tracks[o.id] for o in scene.timeline.objects[:2])
    return np.hypot(a.x - b.x, a.y - b.y)


def phases(distance):
    """Runs of frames over which the distance keeps growing (+1) or shrinking (-1): (sign, first, last)."""
    change = np.sign(np.round(np.diff(distance), 9))
    runs = []
    for f, c in enumerate(change):
        if c and runs and runs[-1][0] == c and runs[-1][2] == f:
            runs[-1][2] = f + 1
        elif c:
            runs.append([int(c), f, f + 1])
    return [tuple(r) for r in runs]


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_trend_is_the_drawn_change_of_distance(preset):
    seen = collections.Counter()
    for scene in scenes_of_kind(FAMILY, "trend", preset=preset):
        runs = phases(gap(scene))
        assert len(runs) in (1, 2)
        assert chosen_option(scene.question).endswith(TREND_WORDS[tuple(s for s, _, _ in runs)])
        seen[tuple(s for s, _, _ in runs)] += 1
        distance = gap(scene)
        # Each phase changes the distance visibly, and starts and ends on frames well inside the clip.
        for _, first, last in runs:
            assert abs(distance[last] - distance[first]) >= 0.03
            assert 3 <= first and last <= scene.timeline.num_frames - 4
        assert_never_overlap(scene.timeline)
    assert set(seen) == set(TREND_WORDS)


def test_one_frame_hints_at_the_trend_only_weakly():
    """A best guess from the distance in the first, middle or last frame alone stays far below certainty."""
    distances, trends = [], []
    for scene in scenes_of_kind(FAMILY, "trend", count=400, limit=3000):
        d = gap(scene)
        distances.append([d[0], d[len(d) // 2], d[-1]])
        trends.append(tuple(s for s, _, _ in phases(d)))
    distances = np.array(distances)
    half = len(trends) // 2
    for column in range(3):
        edges = np.quantile(distances[:half, column], np.linspace(0, 1, 7)[1:-1])
        bins = np.digitize(distances[:, column], edges)
        guess = {
            b: collections.Counter(t for t, bb in zip(trends[:half], bins[:half]) if bb == b).most_common(1)[0][0] for b in set(bins[:half])
        }
        accuracy = np.mean([guess.get(b) == t for b, t in zip(bins[half:], trends[half:])])
        assert accuracy < 0.42, (column, accuracy)


def test_when_spans_the_asked_phase():
    for scene in scenes_of_kind(FAMILY, "when"):
        asked = 1 if ("grow" in scene.question.text or "farther" in scene.question.text) else -1
        runs = [r for r in phases(gap(scene)) if r[0] == asked]
        assert len(runs) == 1
        _, first, last = runs[0]
        assert interval_frames(scene.question, scene.timeline.fps) == (first, last)
        kinds = {e.type: e.frame for e in scene.timeline.events}
        assert first in (kinds["start"], kinds.get("closest"), kinds.get("farthest"))


def closest_pair(tl, frame):
    at = {o.id: (tl.tracks[o.id].x[frame], tl.tracks[o.id].y[frame]) for o in tl.objects}
    ranked = sorted(itertools.combinations(tl.objects, 2), key=lambda p: math.dist(at[p[0].id], at[p[1].id]))
    margin = math.dist(at[ranked[1][0].id], at[ranked[1][1].id]) - math.dist(at[ranked[0][0].id], at[ranked[0][1].id])
    return frozenset(motion.describe(o) for o in ranked[0]), margin


def test_closest_pair_at_the_stop_is_the_drawn_one():
    same_elsewhere = 0
    scenes = scenes_of_kind(FAMILY, "closest_pair")
    for scene in scenes:
        tl = scene.timeline
        stopper = tl.objects[0]
        track = tl.tracks[stopper.id]
        stop = int(np.flatnonzero(np.hypot(np.diff(track.x), np.diff(track.y)) > 0)[-1]) + 1
        assert [e.frame for e in tl.events] == [stop] and stopper.color in scene.question.text
        pair, margin = closest_pair(tl, stop)
        assert margin >= 0.05
        option = chosen_option(scene.question)
        assert frozenset(option.removeprefix("the ").split(" and the ")) == pair
        assert len(scene.question.options) == 4
        same_elsewhere += sum(closest_pair(tl, f)[0] == pair for f in (0, (tl.num_frames - 1) // 2, tl.num_frames - 1))
        assert_never_overlap(tl)
    # The closest pair in the first, middle or last frame is drawn independently of the answer (1 in 6).
    assert same_elsewhere / (3 * len(scenes)) < 0.35


def test_drawn_where_tracked():
    scene = scenes_of_kind(FAMILY, "trend", count=1)[0]
    row, frames = render_and_decode(FAMILY, scene.index)
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] // 2, row["num_frames"] - 1])
