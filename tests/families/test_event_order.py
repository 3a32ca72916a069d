"""event_order: each action re-derived from what is drawn (visibility, height, angle, color, size)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from short_term_checks import (
    assert_drawn_where_tracked,
    chosen_option,
    color_centroid,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
)

from synrl_hf import motion
from synrl_hf.families.event_order import ACTIONS
from synrl_hf.palette import BACKGROUND, ROTATION_SHAPES
from synrl_hf.questions import ordinal

FAMILY = "event_order"
GROW = 1.5


def drawn_action(timeline, obj):
    """(action, first changed frame, first frame looking as at the start again) of one object."""
    track = timeline.tracks[obj.id]
    rest = (True, track.y[0], 0.0, track.style_at(obj, 0))
    looks = [
        (bool(track.visible[f]), track.y[f], float(track.angle[f] % 360.0), track.style_at(obj, f)) for f in range(timeline.num_frames)
    ]
    changed = np.flatnonzero([look != rest for look in looks])
    assert changed.size and np.all(np.diff(changed) == 1), "one unbroken action"
    start, end = int(changed[0]), int(changed[-1]) + 1
    assert np.ptp(track.x) == 0, "objects never move sideways"
    look = looks[start + (end - start) // 2]
    if not look[0]:
        action = "blink"
    elif look[1] < rest[1]:
        action = "jump"
    elif look[2]:
        action = "spin"
        assert track.angle[-1] == 360.0 and np.all(np.diff(track.angle) >= 0), "one full clockwise turn"
    elif look[3][1] != rest[3][1]:
        action = "recolor"
    else:
        assert look[3][2] > rest[3][2]
        action = "grow"
    return action, start, end


def drawn_order(scene):
    tl = scene.timeline
    acts = sorted((drawn_action(tl, o)[1], drawn_action(tl, o), o) for o in tl.objects)
    spans = [(a[1], a[2]) for _, a, _ in acts]
    assert all(s2 - e1 >= scene.params.min_gap for (_, e1), (s2, _) in zip(spans, spans[1:]))
    assert spans[0][0] >= 3 and spans[-1][1] <= tl.num_frames - 4
    assert len({a[0] for _, a, _ in acts}) == len(acts), "distinct actions"
    events = [(e.frame, e.type, e.objects[0], e.detail) for e in tl.events]
    assert events == sorted([(a[1], a[0], o.id, "start") for _, a, o in acts] + [(a[2], a[0], o.id, "end") for _, a, o in acts])
    for obj in tl.objects:
        assert obj.marker and obj.shape in ROTATION_SHAPES
    return [(motion.describe(o), a) for _, a, o in acts]


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_order_is_the_drawn_order(preset):
    counts = set()
    for scene in scenes_of_kind(FAMILY, "order", preset=preset):
        order = drawn_order(scene)
        assert scene.question.answer == ", ".join(name for name, _ in order)
        tl = scene.timeline
        counts.add(len(order))
        # No overlap even while jumping, turned or grown (one object acts at a time).
        for i, a in enumerate(tl.objects):
            for b in tl.objects[i + 1 :]:
                ta, tb = tl.tracks[a.id], tl.tracks[b.id]
                reach = (GROW * max(a.size, b.size) + min(a.size, b.size)) / 2 * math.sqrt(2)
                assert np.hypot(ta.x - tb.x, ta.y - tb.y).min() >= reach
    assert counts == set(range(scene.params.objects[0], scene.params.objects[1] + 1))


def asked_position(text, count):
    if " last" in text:
        return count
    return next(n for n in range(1, count + 1) if f" {ordinal(n)}" in text)


def test_nth_is_the_object_drawn_acting_in_that_place():
    ranks = set()
    for scene in scenes_of_kind(FAMILY, "nth"):
        order = drawn_order(scene)
        rank = asked_position(scene.question.text, len(order))
        assert chosen_option(scene.question) == order[rank - 1][0]
        ranks.add(rank)
    assert ranks == {1, 2, 3, 4}


def test_next_action_is_the_drawn_next_action():
    answers = set()
    for scene in scenes_of_kind(FAMILY, "next_action"):
        order = drawn_order(scene)
        k = next(i for i, (name, _) in enumerate(order) if f"the {name}" in scene.question.text)
        assert chosen_option(scene.question) == ACTIONS[order[k + 1][1][0]]
        assert ACTIONS[order[k][1][0]] not in scene.question.options
        answers.add(order[k + 1][1][0])
    assert answers == set(ACTIONS)


def test_when_spans_the_drawn_action():
    for scene in scenes_of_kind(FAMILY, "when"):
        order = drawn_order(scene)
        _, (_, start, end) = next((name, a) for name, a in order if f"the {name}" in scene.question.text)
        assert interval_frames(scene.question, scene.timeline.fps) == (start, end)


def test_first_and_last_frames_look_alike():
    for scene in scenes_of_kind(FAMILY, "order", count=20):
        tl = scene.timeline
        for obj in tl.objects:
            track = tl.tracks[obj.id]
            last = tl.num_frames - 1
            assert track.visible[0] and track.visible[last] and track.y[0] == track.y[last]
            assert track.angle[0] % 360 == track.angle[last] % 360
            assert track.style_at(obj, 0) == track.style_at(obj, last)


def test_actions_are_drawn_where_tracked():
    def actions(scene):
        return {drawn_action(scene.timeline, o)[0]: (o, drawn_action(scene.timeline, o)) for o in scene.timeline.objects}

    scene = next(s for s in scenes_of_kind(FAMILY, "order", count=20) if {"blink", "jump"} <= set(actions(s)))
    row, frames = render_and_decode(FAMILY, scene.index)
    assert_drawn_where_tracked(row, frames, [0, row["num_frames"] - 1], marker=True, tolerance=4.0)
    obj, (_, start, end) = actions(scene)["blink"]
    track = scene.timeline.tracks[obj.id]
    x, y = round(track.x[0] * 128), round(track.y[0] * 128)
    patch = frames[(start + end) // 2][y - 3 : y + 4, x - 3 : x + 4].astype(int)
    assert np.abs(patch - np.array(BACKGROUND)).max() < 40, "hidden while blinking"
    obj, (_, start, end) = actions(scene)["jump"]
    track, f = scene.timeline.tracks[obj.id], (start + end) // 2
    x, y = color_centroid(frames[f], obj.rgb, marker=True)
    assert math.hypot(x - track.x[f] * 128, y - track.y[f] * 128) <= 4.0
    assert y < track.y[0] * 128 - 5, "drawn higher in mid-jump"
