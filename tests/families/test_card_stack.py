"""card_stack: replayed states, what the tracks show, answers re-derived from both, hidden states."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from long_term_checks import assert_pixels_agree, check_motion_in_spans, check_replay, chosen_option, dark_pixels, op_frames, scenes_by_kind

from synrl_hf import build_scene, longterm
from synrl_hf.families.card_stack import CARD, DISCARD_X, STACK_X, CardStack, apply, card_name
from synrl_hf.questions import ordinal

FAMILY = "card_stack"
CHOICE = CardStack.CHOICE


@pytest.fixture(scope="module")
def scenes():
    return scenes_by_kind(FAMILY, CardStack.KINDS, per_kind=40)


def all_scenes(scenes):
    return [s for group in scenes.values() for s in group]


def cards(tl):
    return sorted({o.label for o in tl.objects if o.id.startswith("face_")})


def read_columns(tl, frame):
    """{"stack": [...], "discard": [...]} read off the card tracks at ``frame``, top card first."""
    columns = {"stack": [], "discard": []}
    for card in cards(tl):
        face, back = tl.tracks[f"face_{card}"], tl.tracks[f"back_{card}"]
        if not (face.visible[frame] or back.visible[frame]):
            continue
        x = face.x[frame]
        column = "stack" if abs(x - STACK_X) < 1e-9 else "discard" if abs(x - DISCARD_X) < 1e-9 else None
        assert column, (card, frame, x)
        columns[column].append((face.y[frame], card))
    return {name: [card for _, card in sorted(col)] for name, col in columns.items()}


def test_snapshots_replay_and_are_what_the_tracks_show(scenes):
    for scene in all_scenes(scenes):
        tl = scene.timeline
        replayed = check_replay(apply, tl)
        for snapshot, state in zip(tl.states, replayed):
            assert read_columns(tl, snapshot.frame) == state
        assert read_columns(tl, tl.num_frames - 1) == replayed[-1]


def expected_answer(scene, replayed):
    """The answer as the row writes it: the card's name (ace, jack, queen, king or its number)."""
    label = expected_label(scene, replayed)
    return ", ".join(map(card_name, label.split(", ")))


def expected_label(scene, replayed):
    kind, k = scene.question.kind, scene.plan["k"]
    ops = scene.timeline.operations
    if kind == "top_end":
        return replayed[-1]["stack"][0]
    if kind == "bottom_end":
        return replayed[-1]["stack"][-1]
    if kind == "top_start":
        return replayed[0]["stack"][0]
    if kind == "top_after":
        assert f"operation {k}" in scene.question.text or f"{ordinal(k)} operation" in scene.question.text
        return replayed[k]["stack"][0]
    if kind == "discarded_by":
        assert ops[k - 1].name == "pop"
        return replayed[k]["discard"][0]
    if kind == "order_end":
        return ", ".join(replayed[-1]["stack"])
    return ", ".join(replayed[0]["stack"])


def test_answers_match_the_replay(scenes):
    for kind, group in scenes.items():
        for scene in group:
            q, tl = scene.question, scene.timeline
            replayed = longterm.replay(apply, tl.states[0].state, [(op.name, op.args) for op in tl.operations])
            if kind == "when":
                op = tl.operations[scene.plan["k"] - 1]
                assert json.loads(q.answer) == [round(tl.time(op.start_frame), 2), round(tl.time(op.end_frame), 2)]
                moving = [
                    oid
                    for oid, t in tl.tracks.items()
                    if t.x[op.start_frame + 1] != t.x[op.start_frame] or t.y[op.start_frame + 1] != t.y[op.start_frame]
                ]
                assert moving and all(
                    np.hypot(
                        tl.tracks[o].x[op.end_frame] - tl.tracks[o].x[op.end_frame - 1],
                        tl.tracks[o].y[op.end_frame] - tl.tracks[o].y[op.end_frame - 1],
                    )
                    > 0
                    for o in moving[:1]
                )
                continue
            answer = expected_answer(scene, replayed)
            if kind in CHOICE:
                assert chosen_option(q) == answer, (scene.seed, q.full_text)
                assert len(set(q.options)) == 4 and q.options.count(answer) == 1
                assert set(q.options) <= set(map(card_name, cards(tl)))  # distractors are cards of this video
            else:
                assert q.answer_type == "sequence" and q.answer == answer


def test_distractors_come_from_alternative_operations(scenes):
    """Each wrong option of a forward/historical question is the answer of the history with one
    operation replaced (or the guess read off the revealed state)."""
    for kind in ("top_end", "bottom_end", "top_after"):
        for scene in scenes[kind][:15]:
            tl = scene.timeline
            states = [s.state for s in tl.states]
            ops = [(op.name, op.args) for op in tl.operations]
            reachable = set()
            for j in range(len(ops)):
                for name in ("pop", "top_to_bottom", "bottom_to_top", "swap_top", "flip_top3"):
                    try:
                        alt = longterm.replay(apply, states[0], ops[:j] + [(name, {})] + ops[j + 1 :])
                    except ValueError:
                        continue
                    index = {"top_end": -1, "bottom_end": -1, "top_after": scene.plan["k"]}[kind]
                    reachable.add(alt[index]["stack"][-1 if kind == "bottom_end" else 0])
            revealed = states[0] if scene.plan["shown"] == "initial" else states[-1]
            reachable.add(revealed["stack"][-1 if kind == "bottom_end" else 0])
            assert set(scene.question.options) - {chosen_option(scene.question)} <= set(map(card_name, reachable))


def test_state_is_shown_in_exactly_one_reveal(scenes):
    for kind, group in scenes.items():
        for scene in group:
            tl, shown = scene.timeline, scene.plan["shown"]
            if kind in CardStack.FORWARD:
                assert shown == "initial"
            if kind in CardStack.RETRODICTIVE:
                assert shown == "final"
            reveal = longterm.Schedule(tl.num_frames, 60, [(o.start_frame, o.end_frame) for o in tl.operations]).reveal(shown)
            faces = np.array([tl.tracks[f"face_{c}"].visible for c in cards(tl)])
            backs = np.array([tl.tracks[f"back_{c}"].visible for c in cards(tl)])
            assert not faces[:, ~reveal].any()  # numbers only in the shown reveal ...
            assert not (faces & backs).any()
            exists = faces | backs
            np.testing.assert_array_equal(faces[:, reveal], exists[:, reveal])  # ... where every card is face up
            assert not faces[:, op_frames(tl)].any()
            # cards exist from the start or from the operation that pushes them, and never vanish
            assert all(np.all(np.diff(row.astype(int)) >= 0) for row in exists)
    historical = [s.plan["shown"] for k in ("top_after", "discarded_by", "when") for s in scenes[k]]
    assert 0.3 < historical.count("initial") / len(historical) < 0.7


def test_motion_only_within_operations_and_nothing_overlaps(scenes):
    for scene in all_scenes(scenes)[::3]:
        tl = scene.timeline
        check_motion_in_spans(tl)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks)
        assert not longterm.boxes_overlap(tl.objects, tl.tracks)
    for index in range(25):
        tl = build_scene(FAMILY, index, seed=3, preset="round2").timeline
        check_replay(apply, tl)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)
        assert 10 <= len(tl.operations) <= 16


def test_revealed_frame_alone_gives_chance(scenes):
    """The card read off the revealed state is the answer about a quarter of the time, and always offered."""
    hits = []
    for kind in CHOICE:
        for scene in scenes[kind]:
            states = [s.state for s in scene.timeline.states]
            revealed = states[0] if scene.plan["shown"] == "initial" else states[-1]
            guess = (
                revealed["discard"][0]
                if kind == "discarded_by" and scene.plan["shown"] == "final"
                else revealed["stack"][-1 if kind == "bottom_end" else 0]
            )
            assert card_name(guess) in scene.question.options
            hits.append(card_name(guess) == chosen_option(scene.question))
    assert 0.15 < np.mean(hits) < 0.35  # 0.25 expected; 200 scenes


def test_cards_are_named_by_their_face():
    assert [card_name(c) for c in ("A", "7", "J", "Q", "K")] == ["ace", "7", "jack", "queen", "king"]


def test_rendered_labels_are_legible_and_hidden_during_operations():
    from long_term_checks import render

    index = next(i for i in range(200) if build_scene(FAMILY, i, seed=1).plan["shown"] == "final")
    scene = build_scene(FAMILY, index, seed=1)
    tl = scene.timeline
    last, mid_op = tl.num_frames - 5, (tl.operations[0].start_frame + tl.operations[0].end_frame) // 2
    start = time.perf_counter()
    row, frames = render(FAMILY, index, 1, "/tmp/card_stack_448.png", lambda r: [10, mid_op, last])
    print(f"card_stack: {time.perf_counter() - start:.2f} s for {row['num_frames']} frames at 448")
    inner = 0.3 * CARD * 448  # inside the card's outline
    for card in cards(tl):
        face = tl.tracks[f"face_{card}"]
        if face.visible[last]:
            assert dark_pixels(frames[last], face.x[last] * 448, face.y[last] * 448, inner, inner) > 20, card
        back = tl.tracks[f"back_{card}"]
        if back.visible[mid_op]:
            assert dark_pixels(frames[mid_op], back.x[mid_op] * 448, back.y[mid_op] * 448, inner, inner) == 0, card
    caption = tl.tracks["caption0"]
    assert dark_pixels(frames[mid_op], caption.x[mid_op] * 448, caption.y[mid_op] * 448, 100, 10) > 20


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree(FAMILY, CardStack.KINDS, resolution, preset=preset)
