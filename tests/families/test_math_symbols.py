from __future__ import annotations

import re

import numpy as np
import pytest
from long_term_checks import (
    answer_op,
    assert_pixels_agree,
    check_motion_in_spans,
    check_replay,
    check_state_shown_once,
    chosen_option,
    dark_pixels,
    history,
    render,
    reveal_mask,
    scenes_by_kind,
)

from synrl_hf import longterm
from synrl_hf.families.math_symbols import CARD_Y, LIMIT, MathSymbols, apply
from synrl_hf.palette import COLORS
from synrl_hf.questions import ordinal

KINDS = MathSymbols.KINDS
ORDINALS = {ordinal(i): i for i in range(1, 40)}


@pytest.fixture(scope="module")
def by_kind():
    return scenes_by_kind("math_symbols", KINDS, per_kind=30)


def all_scenes(by_kind):
    return [s for kind in KINDS for s in by_kind[kind]]


def test_apply_acts_on_positions():
    state = [3, -4, 7, 1]
    assert apply(state, "add", {"card": 2, "amount": 5}) == [3, 1, 7, 1]
    assert apply(state, "add", {"card": 1, "amount": -9}) == [-6, -4, 7, 1]
    assert apply(state, "double", {"card": 3}) == [3, -4, 14, 1]
    assert apply(state, "negate", {"card": 2}) == [3, 4, 7, 1]
    assert apply(state, "swap", {"cards": [1, 4]}) == [1, -4, 7, 3]
    assert state == [3, -4, 7, 1]  # pure
    with pytest.raises(ValueError):
        apply([LIMIT, 0], "add", {"card": 1, "amount": 1})
    with pytest.raises(ValueError):
        apply([60, 0], "double", {"card": 1})


def slots(tl):
    """x of each position, read off the printed position numbers."""
    numbers = sorted((o for o in tl.objects if o.id.startswith("position")), key=lambda o: int(o.label))
    return [tl.tracks[o.id].x[0] for o in numbers]


def test_states_replay_and_only_the_shown_reveal_shows_numbers(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        states = check_replay(apply, tl)
        check_motion_in_spans(tl)
        check_state_shown_once(scene, lambda oid: oid.startswith(("face", "value")))
        shown = reveal_mask(scene)
        revealed = states[0] if scene.plan["shown"] == "initial" else states[-1]
        xs = slots(tl)
        for i, value in enumerate(revealed):
            assert tl.object(f"value{i}").label == str(value)
            assert tl.tracks[f"value{i}"].x[0] == pytest.approx(xs[i])
        backs = [o for o in tl.objects if o.id.startswith("back")]
        for back in backs:
            np.testing.assert_array_equal(tl.tracks[back.id].visible, ~shown)
            assert not back.label  # blank backs: no number while face down
        assert not longterm.boxes_overlap(backs, tl.tracks)
        assert longterm.boxes_in_frame(tl.objects, tl.tracks)


def test_backs_show_each_operation(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        xs = slots(tl)
        _, ops = history(tl)
        backs = [o.id for o in tl.objects if o.id.startswith("back")]
        for op, (name, args) in zip(tl.operations, ops):
            start, end = op.start_frame, op.end_frame
            at = {b: xs.index(min(xs, key=lambda x: abs(x - tl.tracks[b].x[start]))) + 1 for b in backs}
            moving = [b for b in backs if np.ptp(tl.tracks[b].y[start : end + 1]) > 0.01]
            if name == "swap":
                p, q = args["cards"]
                assert sorted(at[b] for b in moving) == [p, q]
                for b in moving:  # each ends on the other's slot, one passing above and one below
                    other = q if at[b] == p else p
                    assert tl.tracks[b].x[end] == pytest.approx(xs[other - 1])
                assert {np.sign(tl.tracks[b].y[(start + end) // 2] - CARD_Y) for b in moving} == {-1.0, 1.0}
            else:
                assert [at[b] for b in moving] == [args["card"]]
                assert tl.tracks[moving[0]].y[end] == pytest.approx(CARD_Y)


def test_value_answers(by_kind):
    for kind in ("value_end", "value_end_choice", "value_start", "value_start_choice"):
        naive = 0
        for scene in by_kind[kind]:
            q = scene.question
            states, ops = history(scene.timeline)
            position = int(re.search(r"position (\d)", q.text).group(1))
            at_end = "at the end" in q.text
            assert at_end == kind.startswith("value_end") and scene.plan["shown"] == ("initial" if at_end else "final")
            asked, shown = (states[-1], states[0]) if at_end else (states[0], states[-1])
            given = int(chosen_option(q)) if q.answer_type == "multiple_choice" else int(q.answer)
            assert given == asked[position - 1]
            assert any(position in (a.get("cards") or [a.get("card")]) for _, a in ops)
            if q.answer_type == "multiple_choice":
                assert str(shown[position - 1]) in q.options  # the single-frame guess is offered
                naive += shown[position - 1] == asked[position - 1]
        if kind.endswith("_choice"):
            assert 0.1 <= naive / len(by_kind[kind]) <= 0.45, (kind, naive)


def test_first_above_and_when_answers(by_kind):
    for scene in by_kind["first_above"]:
        q = scene.question
        states = check_replay(apply, scene.timeline)
        position, threshold = (int(v) for v in re.search(r"position (\d) .*(?:than|above) (-?\d+)\?", q.text).groups())
        values = [s[position - 1] for s in states]
        first = next(i for i, v in enumerate(values) if v > threshold)
        assert first >= 1 and chosen_option(q) == f"the {ordinal(first)} operation"
    for scene in by_kind["when"]:
        q, tl = scene.question, scene.timeline
        op = answer_op(q, tl)
        if m := re.search(r"the (\w+) operation", q.text):
            assert ORDINALS[m.group(1)] == op.index + 1
        else:
            caption = re.search(r'"(.*)"', q.text).group(1)
            assert tl.object(f"caption{op.index}").label == caption
            assert [o.label for o in tl.objects if o.id.startswith("caption")].count(caption) == 1


def test_rendered_numbers_are_legible():
    scene = scenes_by_kind("math_symbols", ("value_end",), per_kind=1)["value_end"][0]
    tl = scene.timeline
    op = tl.operations[0]
    middle = (op.start_frame + op.end_frame) // 2
    row, frames = render("math_symbols", scene.index, scene.base_seed, "/tmp/math_symbols_448.png", lambda row: [10, middle])
    scale = 448
    for i, x in enumerate(slots(tl)):
        x = x * scale
        assert dark_pixels(frames[10], x, CARD_Y * scale, 14, 16) >= 25, tl.object(f"value{i}").label
        assert dark_pixels(frames[10], x, tl.tracks[f"position{i}"].y[0] * scale, 8, 10) >= 10
        bx, by = tl.tracks[f"back{i}"].x[middle] * scale, tl.tracks[f"back{i}"].y[middle] * scale
        assert np.abs(frames[middle][int(by), int(bx)].astype(int) - COLORS["blue"]).max() < 60
        assert dark_pixels(frames[middle], bx, by, 14, 16) == 0  # face down: no number
    assert dark_pixels(frames[middle], 224, 0.05 * scale, 200, 12) >= 40


def test_round2_scenes_keep_the_invariants():
    scenes = scenes_by_kind("math_symbols", KINDS, per_kind=5, preset="round2")
    assert max(len(s.timeline.operations) for kind in KINDS for s in scenes[kind]) > 8
    for scene in (s for kind in KINDS for s in scenes[kind]):
        check_replay(apply, scene.timeline)
        check_motion_in_spans(scene.timeline)
        check_state_shown_once(scene, lambda oid: oid.startswith(("face", "value")))


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree("math_symbols", MathSymbols.KINDS, resolution, preset=preset)
