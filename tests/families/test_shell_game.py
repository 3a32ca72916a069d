"""shell_game: replayed swaps, cups and balls as the tracks draw them, answers re-derived from both."""

from __future__ import annotations

import json

import numpy as np
import pytest
from long_term_checks import (
    assert_pixels_agree,
    check_motion_in_spans,
    check_replay,
    chosen_option,
    dark_pixels,
    op_frames,
    render,
    scenes_by_kind,
)

from synrl_hf import build_scene, longterm
from synrl_hf.families.shell_game import BALL, ShellGame, apply, position
from synrl_hf.palette import COLORS

FAMILY = "shell_game"


@pytest.fixture(scope="module")
def scenes():
    return scenes_by_kind(FAMILY, ShellGame.KINDS, per_kind=40)


def all_scenes(scenes):
    return [s for group in scenes.values() for s in group]


def cup_ids(tl):
    return sorted(o.id for o in tl.objects if o.id.startswith("cup"))


def cups_left_to_right(tl, frame):
    return [int(oid[3:]) for oid in sorted(cup_ids(tl), key=lambda oid: tl.tracks[oid].x[frame])]


def ball_cup(tl, ball):
    """The cup a ball rides under, from the tracks alone: the one whose x it shares on every frame."""
    track = tl.tracks[ball]
    (cup,) = [oid for oid in cup_ids(tl) if np.allclose(tl.tracks[oid].x, track.x)]
    return cup


def cup_moves(tl, cup):
    """Indices of the operations during which ``cup`` is drawn moving."""
    track = tl.tracks[cup]
    return [op.index for op in tl.operations if np.ptp(track.x[op.start_frame : op.end_frame + 1]) > 1e-6]


def test_snapshots_replay_and_are_what_the_tracks_show(scenes):
    for scene in all_scenes(scenes):
        tl = scene.timeline
        replayed = check_replay(apply, tl)
        for snapshot, state in zip(tl.states, replayed):
            assert cups_left_to_right(tl, snapshot.frame) == state["cups"]
        for ball in (o for o in tl.objects if o.id.startswith("ball")):
            assert ball_cup(tl, ball.id) == f"cup{replayed[0]['under'][ball.color]}"


def test_answers_match_the_tracks(scenes):
    for kind, group in scenes.items():
        for scene in group:
            q, tl = scene.question, scene.timeline
            ball = next(o for o in tl.objects if o.id == "ball0")
            assert f"{ball.color} ball" in q.text or (kind == "when" and not scene.plan["when_ball"])
            cup = ball_cup(tl, "ball0")
            moves = cup_moves(tl, cup)
            if kind == "swap_count":
                assert int(q.answer) == len(moves)
                continue
            if kind == "when":
                op = tl.operations[moves[0] if scene.plan["when_ball"] else scene.plan["k"] - 1]
                assert json.loads(q.answer) == [round(tl.time(op.start_frame), 2), round(tl.time(op.end_frame), 2)]
                continue
            frame = {"where_end": tl.num_frames - 1, "where_start": 0}.get(kind)
            if frame is None:
                frame = tl.operations[scene.plan["k"] - 1].end_frame
                assert f"{scene.plan['k']}" in q.text or "swap" in q.text
            cell = cups_left_to_right(tl, frame).index(int(cup[3:]))
            assert chosen_option(q) == position(cell), (scene.seed, q.full_text)
            cells = [position(c) for c in range(len(tl.states[0].state["cups"]))]
            assert len(set(q.options)) == 4 and set(q.options) <= set(cells)


def test_swap_counts_are_balanced(scenes):
    counts = [int(s.question.answer) for s in scenes["swap_count"]]
    assert set(counts) == {1, 2, 3, 4}
    assert max(counts.count(c) for c in set(counts)) < 0.5 * len(counts)


def test_balls_are_seen_only_in_one_reveal(scenes):
    for kind, group in scenes.items():
        for scene in group:
            tl, shown = scene.timeline, scene.plan["shown"]
            assert shown == {"where_end": "initial", "where_start": "final"}.get(kind, shown)
            reveal = longterm.Schedule(tl.num_frames, 60, [(o.start_frame, o.end_frame) for o in tl.operations]).reveal(shown)
            for obj in tl.objects:
                visible = tl.tracks[obj.id].visible
                if obj.id.startswith(("ball", "lifted")):
                    np.testing.assert_array_equal(visible, reveal)
                elif obj.id.startswith("cup"):
                    np.testing.assert_array_equal(visible, ~reveal)
            assert not reveal[op_frames(tl)].any()
    historical = [s.plan["shown"] for k in ("where_after", "swap_count", "when") for s in scenes[k]]
    assert 0.3 < historical.count("initial") / len(historical) < 0.7


def test_motion_only_within_operations_and_nothing_overlaps(scenes):
    for scene in all_scenes(scenes)[::3]:
        tl = scene.timeline
        check_motion_in_spans(tl)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)
        for op in tl.operations:  # exactly the two swapped cups move
            assert sum(np.ptp(tl.tracks[c].x[op.start_frame : op.end_frame + 1]) > 0 for c in cup_ids(tl)) == 2
    for index in range(25):
        tl = build_scene(FAMILY, index, seed=3, preset="round2").timeline
        check_replay(apply, tl)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)
        assert len(cup_ids(tl)) == 5 and sum(o.id.startswith("ball") for o in tl.objects) == 3


def test_revealed_frame_alone_gives_chance(scenes):
    hits = []
    for kind in ("where_end", "where_start", "where_after"):
        for scene in scenes[kind]:
            tl = scene.timeline
            frame = 0 if scene.plan["shown"] == "initial" else tl.num_frames - 1
            guess = position(cups_left_to_right(tl, frame).index(int(ball_cup(tl, "ball0")[3:])))
            assert guess in scene.question.options
            hits.append(guess == chosen_option(scene.question))
    assert 0.13 < np.mean(hits) < 0.40  # 0.25 expected; 120 scenes


def test_rendered_balls_and_captions():
    index = next(i for i in range(200) if build_scene(FAMILY, i, seed=1).plan["shown"] == "initial")
    tl = build_scene(FAMILY, index, seed=1).timeline
    op = tl.operations[0]
    mid_op = (op.start_frame + op.end_frame) // 2
    row, frames = render(FAMILY, index, 1, "/tmp/shell_game_448.png", lambda r: [10, mid_op, tl.num_frames - 10])
    for ball in (o for o in tl.objects if o.id.startswith("ball")):
        track = tl.tracks[ball.id]
        x, y = int(track.x[10] * 448), int(track.y[10] * 448)
        assert np.abs(frames[10][y, x].astype(int) - COLORS[ball.color]).max() < 60, ball.color
        # the ball's color appears nowhere while the cups cover the balls
        patch = frames[mid_op].reshape(-1, 3).astype(int)
        assert (np.abs(patch - COLORS[ball.color]).max(axis=1) < 40).sum() < 0.2 * (BALL * 448) ** 2
    caption = tl.tracks["caption0"]
    assert dark_pixels(frames[mid_op], caption.x[mid_op] * 448, caption.y[mid_op] * 448, 100, 10) > 20


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree(FAMILY, ShellGame.KINDS, resolution, preset=preset)
