"""attribute_change: changes re-derived frame by frame from what is drawn (shape, color, size)."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from short_term_checks import (
    assert_never_overlap,
    chosen_option,
    color_centroid,
    interval_frames,
    render_and_decode,
    scenes_of_kind,
)

from synrl_hf.palette import COLORS

FAMILY = "attribute_change"
ATTRIBUTES = ("shape", "color", "size")


def drawn_changes(timeline, obj):
    """(frame, attribute) for every frame whose drawn shape, color or size differs from the one before."""
    track = timeline.tracks[obj.id]
    styles = [track.style_at(obj, f) for f in range(timeline.num_frames)]
    found = []
    for f in range(1, timeline.num_frames):
        differs = [a for a, old, new in zip(ATTRIBUTES, styles[f - 1], styles[f]) if old != new]
        assert len(differs) <= 1, "one attribute at a time"
        found += [(f, a) for a in differs]
    return found


def check_changes_are_visible(scene):
    tl = scene.timeline
    obj = tl.objects[0]
    track = tl.tracks[obj.id]
    changes = drawn_changes(tl, obj)
    assert [(e.frame, e.detail.split(":")[0]) for e in tl.events] == changes
    frames = [f for f, _ in changes]
    assert all(b - a >= scene.params.min_gap for a, b in zip(frames, frames[1:]))
    assert all(scene.params.min_gap <= f <= tl.num_frames - scene.params.min_gap for f in frames)
    for f, attribute in changes:
        if attribute == "size":
            old, new = track.style_at(obj, f - 1)[2], track.style_at(obj, f)[2]
            assert max(old, new) / min(old, new) >= 1.35
    return changes


def test_which_is_the_one_drawn_difference():
    answers = collections.Counter()
    for scene in scenes_of_kind(FAMILY, "which", count=60):
        changes = check_changes_are_visible(scene)
        assert len(changes) <= 1
        expected = changes[0][1] if changes else "nothing changes"
        assert chosen_option(scene.question) == expected
        assert set(scene.question.options) == {"color", "size", "shape", "nothing changes"}
        answers[expected] += 1
    assert set(answers) == {"color", "size", "shape", "nothing changes"}


@pytest.mark.parametrize("preset", ["round1", "round2"])
def test_order_is_the_drawn_sequence(preset):
    lengths = set()
    for scene in scenes_of_kind(FAMILY, "order", preset=preset):
        changes = check_changes_are_visible(scene)
        assert scene.question.answer == ", ".join(a for _, a in changes)
        assert all(a != b for (_, a), (_, b) in zip(changes, changes[1:]))
        lengths.add(len(changes))
    assert lengths == set(range(scene.params.changes[0], scene.params.changes[1] + 1))


def test_when_spans_the_asked_changes():
    for scene in scenes_of_kind(FAMILY, "when"):
        changes = check_changes_are_visible(scene)
        first, last = scene.plan["span"]
        assert interval_frames(scene.question, scene.timeline.fps) == (changes[first][0], changes[last][0])


def test_to_color_options_are_all_visible_in_the_last_frame():
    for scene in scenes_of_kind(FAMILY, "to_color"):
        tl = scene.timeline
        last = tl.num_frames - 1
        final = {o.id: tl.tracks[o.id].style_at(o, last)[1] for o in tl.objects}
        assert chosen_option(scene.question) == final["obj0"]
        # Every option is some object's final color and no option is in the first frame, so
        # neither end of the clip alone tells which one belongs to the asked object.
        assert set(scene.question.options) == set(final.values())
        assert not set(final.values()) & {o.color for o in tl.objects}
        assert len({o.shape for o in tl.objects}) == 1
        (event,) = tl.events
        for obj in tl.objects:
            assert [f for f, _ in drawn_changes(tl, obj)] == [event.frame]
        assert_never_overlap(tl)


def test_one_frame_does_not_tell_which_attribute_changes():
    """The size seen in the first or last frame is spread alike whatever changes."""
    sizes = collections.defaultdict(list)
    for scene in scenes_of_kind(FAMILY, "which", count=160):
        obj = scene.timeline.objects[0]
        track = scene.timeline.tracks[obj.id]
        changed = drawn_changes(scene.timeline, obj)
        for f in (0, scene.timeline.num_frames - 1):
            sizes["size" if changed and changed[0][1] == "size" else "other"].append(track.style_at(obj, f)[2])
    assert abs(np.mean(sizes["size"]) - np.mean(sizes["other"])) < 0.015


def test_drawn_color_and_place_follow_the_change():
    scene = scenes_of_kind(FAMILY, "to_color", count=1)[0]
    row, frames = render_and_decode(FAMILY, scene.index)
    change = row["events"][0]["frame"]
    tl = scene.timeline
    for obj in tl.objects:
        track = tl.tracks[obj.id]
        for f in (change - 1, change, row["num_frames"] - 1):
            color = track.style_at(obj, f)[1]
            x, y = color_centroid(frames[f], COLORS[color])
            assert math.hypot(x - track.x[f] * 128, y - track.y[f] * 128) <= 3.0, (obj.id, f)
