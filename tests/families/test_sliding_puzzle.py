"""sliding_puzzle: replayed moves, tile positions as drawn, answers re-derived from the tracks."""

from __future__ import annotations

import json
import re

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
from synrl_hf.families.sliding_puzzle import BOARD, CENTER_Y, SlidingPuzzle, apply, cell_name
from synrl_hf.palette import COLORS

FAMILY = "sliding_puzzle"
CHOICE = ("start_at", "where_start", "end_at", "moved_tile")


@pytest.fixture(scope="module")
def scenes():
    return scenes_by_kind(FAMILY, SlidingPuzzle.KINDS, per_kind=40)


def all_scenes(scenes):
    return [s for group in scenes.values() for s in group]


def grid_size(tl):
    return int(round(len(tl.states[0].state) ** 0.5))


def layout_from_tracks(tl, frame):
    """The cells row by row (0 = empty) from where each tile is drawn at ``frame``."""
    n = grid_size(tl)
    pitch = BOARD / n
    cells = [0] * (n * n)
    for tile in range(1, n * n):
        track = tl.tracks[f"face{tile}"]
        col = (track.x[frame] - 0.5) / pitch + (n - 1) / 2
        row = (track.y[frame] - CENTER_Y) / pitch + (n - 1) / 2
        assert abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6, (tile, frame)
        cells[int(round(row)) * n + int(round(col))] = tile
    return cells


def tile_moves(tl):
    """The tile whose track moves during each operation."""
    n = grid_size(tl)
    out = []
    for op in tl.operations:
        moving = [
            t
            for t in range(1, n * n)
            if np.ptp(tl.tracks[f"face{t}"].x[op.start_frame : op.end_frame + 1])
            + np.ptp(tl.tracks[f"face{t}"].y[op.start_frame : op.end_frame + 1])
            > 1e-6
        ]
        assert len(moving) == 1
        out.append(moving[0])
    return out


def test_snapshots_replay_and_are_what_the_tracks_show(scenes):
    for scene in all_scenes(scenes):
        tl = scene.timeline
        replayed = check_replay(apply, tl)
        for snapshot, state in zip(tl.states, replayed):
            assert layout_from_tracks(tl, snapshot.frame) == state


def test_answers_match_the_tracks(scenes):
    for kind, group in scenes.items():
        for scene in group:
            q, tl = scene.question, scene.timeline
            n, moved = grid_size(tl), tile_moves(tl)
            first, last = layout_from_tracks(tl, 0), layout_from_tracks(tl, tl.num_frames - 1)
            if kind == "when":
                tile = re.search(r"tile (\d+)", q.text)
                op = tl.operations[moved.index(int(tile.group(1))) if tile else scene.plan["k"] - 1]
                assert json.loads(q.answer) == [round(tl.time(op.start_frame), 2), round(tl.time(op.end_frame), 2)]
                continue
            if kind in ("start_at", "end_at"):
                row, col = (int(v) for v in re.search(r"row (\d+), column (\d+)", q.text).groups())
                expected = str((first if kind == "start_at" else last)[(row - 1) * n + col - 1])
            elif kind == "where_start":
                tile = int(re.search(r"tile (\d+)", q.text).group(1))
                expected = cell_name(first.index(tile), n)
            else:
                k = int(re.search(r"move (\d+)", q.text).group(1)) if "move " in q.text else scene.plan["k"]
                expected = str(moved[k - 1])
            assert chosen_option(q) == expected, (scene.seed, q.full_text)
            assert len(set(q.options)) == 4 and "0" not in q.options
            # the asked-about value differs between S0 and ST whenever the revealed one is not the answer
            if kind == "start_at":
                assert (first[(row - 1) * n + col - 1] == last[(row - 1) * n + col - 1]) == (expected == str(last[(row - 1) * n + col - 1]))


def test_distractors_are_values_of_other_histories(scenes):
    """Every wrong option of a start_at question is that cell's tile in some other plausible start:
    a layout the moves pass through, or one reached by undoing one or two moves differently."""
    for scene in scenes["start_at"][:20]:
        tl, q = scene.timeline, scene.question
        n = grid_size(tl)
        row, col = (int(v) for v in re.search(r"row (\d+), column (\d+)", q.text).groups())
        cell = (row - 1) * n + col - 1
        states = [s.state for s in tl.states]
        seen = {str(s[cell]) for s in states}
        undo = [
            ("slide", {"direction": {"left": "right", "right": "left", "up": "down", "down": "up"}[op.args["direction"]]})
            for op in tl.operations
        ][::-1]
        for j in range(len(undo)):
            for d in ("left", "right", "up", "down"):
                try:
                    seen.add(str(longterm.replay(apply, states[-1], undo[:j] + [("slide", {"direction": d})] + undo[j + 1 :])[-1][cell]))
                except ValueError:
                    pass
        wrong = set(q.options) - {chosen_option(q)}
        if not wrong <= seen:  # two changed moves: check those too
            for j in range(len(undo)):
                for i in range(j + 1, len(undo)):
                    for d1 in ("left", "right", "up", "down"):
                        for d2 in ("left", "right", "up", "down"):
                            alt = list(undo)
                            alt[j], alt[i] = ("slide", {"direction": d1}), ("slide", {"direction": d2})
                            try:
                                seen.add(str(longterm.replay(apply, states[-1], alt)[-1][cell]))
                            except ValueError:
                                pass
        assert wrong <= seen, (wrong, seen)


def test_numbers_are_shown_in_exactly_one_reveal(scenes):
    for kind, group in scenes.items():
        for scene in group:
            tl, shown = scene.timeline, scene.plan["shown"]
            assert shown == {"start_at": "final", "where_start": "final", "end_at": "initial"}.get(kind, shown)
            reveal = longterm.Schedule(tl.num_frames, 60, [(o.start_frame, o.end_frame) for o in tl.operations]).reveal(shown)
            for tile in range(1, grid_size(tl) ** 2):
                np.testing.assert_array_equal(tl.tracks[f"face{tile}"].visible, reveal)
                np.testing.assert_array_equal(tl.tracks[f"back{tile}"].visible, ~reveal)
            assert not reveal[op_frames(tl)].any()
            # the caption names the direction, never a number
            assert not any(re.search(r"\d", o.label) for o in tl.objects if o.shape == "text")
    historical = [s.plan["shown"] for k in ("moved_tile", "when") for s in scenes[k]]
    assert 0.3 < historical.count("initial") / len(historical) < 0.7


def test_motion_only_within_operations_and_nothing_overlaps(scenes):
    for scene in all_scenes(scenes)[::3]:
        tl = scene.timeline
        check_motion_in_spans(tl)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)
    for index in range(20):
        tl = build_scene(FAMILY, index, seed=3, preset="round2").timeline
        check_replay(apply, tl)
        assert grid_size(tl) == 4 and 10 <= len(tl.operations) <= 16
        assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)


def test_revealed_frame_alone_gives_chance(scenes):
    hits = []
    for kind in ("start_at", "where_start", "end_at"):
        for scene in scenes[kind]:
            tl, q = scene.timeline, scene.question
            n = grid_size(tl)
            revealed = layout_from_tracks(tl, 0 if scene.plan["shown"] == "initial" else tl.num_frames - 1)
            if kind == "where_start":
                guess = cell_name(revealed.index(int(re.search(r"tile (\d+)", q.text).group(1))), n)
            else:
                row, col = (int(v) for v in re.search(r"row (\d+), column (\d+)", q.text).groups())
                guess = str(revealed[(row - 1) * n + col - 1])
            assert guess in q.options
            hits.append(guess == chosen_option(q))
    assert 0.13 < np.mean(hits) < 0.40  # 0.25 expected; 120 scenes


def test_rendered_numbers_legible_and_moves_highlighted():
    index = next(i for i in range(200) if build_scene(FAMILY, i, seed=1).plan["shown"] == "final")
    tl = build_scene(FAMILY, index, seed=1).timeline
    op = tl.operations[1]
    mid_op, last = (op.start_frame + op.end_frame) // 2, tl.num_frames - 5
    row, frames = render(FAMILY, index, 1, "/tmp/sliding_puzzle_448.png", lambda r: [10, mid_op, last])
    inner = 0.3 * BOARD / grid_size(tl) * 448
    moving = tile_moves(tl)[1]
    for tile in range(1, grid_size(tl) ** 2):
        face, back = tl.tracks[f"face{tile}"], tl.tracks[f"back{tile}"]
        assert dark_pixels(frames[last], face.x[last] * 448, face.y[last] * 448, inner, inner) > 40, tile
        x, y = back.x[mid_op] * 448, back.y[mid_op] * 448
        assert dark_pixels(frames[mid_op], x, y, inner, inner) == 0, tile
        color = "magenta" if tile == moving else "blue"
        assert np.abs(frames[mid_op][int(y), int(x)].astype(int) - COLORS[color]).max() < 60, (tile, color)


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree(FAMILY, SlidingPuzzle.KINDS, resolution, preset=preset)
