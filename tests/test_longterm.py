"""The shared long-term machinery: phases, easing, animation, distractors, timeline assembly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synrl_hf import longterm
from synrl_hf.timeline import SceneObject, Track


def rotate_apply(state, name, args):
    """A toy family: a list of letters, rotated left by ``n`` or with two positions swapped."""
    items = list(state)
    if name == "rotate":
        n = args["n"] % len(items)
        return items[n:] + items[:n]
    if name == "swap":
        i, j = args["i"], args["j"]
        if not (0 <= i < len(items) and 0 <= j < len(items)) or i == j:
            raise ValueError("bad swap")
        items[i], items[j] = items[j], items[i]
        return items
    raise ValueError(name)


def toy_moves(state):
    return [("rotate", {"n": n}) for n in (1, 2)] + [
        ("swap", {"i": i, "j": j}) for i in range(len(state)) for j in range(i + 1, len(state))
    ]


def test_schedule_phases_and_spans():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(3, 12))
        sched = longterm.schedule(rng, n)
        reveal = sched.reveal_frames
        assert reveal == 60 and len(sched.spans) == n
        assert sched.spans[0][0] > reveal - 1 and sched.spans[-1][1] < sched.final_start
        for start, end in sched.spans:
            assert 15 <= end - start <= 30  # 0.5–1 s
        for (_, end), (start, _) in zip(sched.spans, sched.spans[1:]):
            assert start - end >= longterm.GAP_FRAMES[0]
        low, high = longterm.duration_bounds((n, n))
        assert low <= sched.num_frames / 30 <= high
        initial, ops, final = (sched.phase(p) for p in ("initial", "operations", "final"))
        assert initial.sum() == final.sum() == reveal
        assert not (initial & ops).any() and not (final & ops).any()
        np.testing.assert_array_equal(sched.reveal("initial"), initial)
        np.testing.assert_array_equal(sched.reveal("final"), final)
    with pytest.raises(ValueError):
        sched.reveal("middle")


def test_draw_shown_is_forced_or_even():
    rng = np.random.default_rng(0)
    assert longterm.draw_shown(rng, "fwd", ("fwd",), ("retro",)) == "initial"
    assert longterm.draw_shown(rng, "retro", ("fwd",), ("retro",)) == "final"
    draws = [longterm.draw_shown(rng, "hist", ("fwd",), ("retro",)) for _ in range(2000)]
    assert 0.45 < draws.count("initial") / len(draws) < 0.55


def test_replay_and_backwards_undo_the_history():
    ops = [("rotate", {"n": 1}), ("swap", {"i": 0, "j": 2}), ("rotate", {"n": 2})]
    states = longterm.replay(rotate_apply, list("abcd"), ops)
    assert states[0] == list("abcd") and states[1] == list("bcda") and states[2] == list("dcba")
    inverse = lambda s, name, a: ("rotate", {"n": -a["n"]}) if name == "rotate" else (name, a)  # noqa: E731
    back_states, undo = longterm.backwards(states, ops, inverse)
    assert back_states == states[::-1]
    assert longterm.replay(rotate_apply, states[-1], undo) == states[::-1]


def test_animator_eases_between_waypoints_and_holds():
    anim = longterm.Animator(40, {"a": (0.2, 0.5), "b": (0.8, 0.5)})
    moved = anim.shift(10, 20, {"a": (0.2, 0.5), "b": (0.8, 0.5)}, {"a": (0.5, 0.5), "b": (0.8, 0.5)})
    assert moved == {"a"} and anim.moved == [{"a"}]
    x = anim.x["a"]
    assert (x[:11] == 0.2).all() and (x[20:] == 0.5).all()
    steps = np.diff(x[10:21])
    assert (steps > 0).all() and steps[0] < steps[4] and steps[-1] < steps[5]  # eased in and out
    assert (anim.x["b"] == 0.8).all()
    # Waypoints are followed by arc length, and a new object appears where its path starts.
    anim.shift(
        25, 35, {"a": (0.5, 0.5)}, {"a": (0.5, 0.5), "c": (0.9, 0.9)}, {"c": longterm.lane_path((0.1, 0.9), (0.9, 0.9), 0.7, axis="y")}
    )
    assert (anim.x["c"][25], anim.y["c"][25]) == (0.1, 0.9) and (anim.x["c"][35], anim.y["c"][35]) == (0.9, 0.9)
    assert np.isclose(anim.y["c"][30], 0.7)  # mid-way along the lane
    # A sub-span: still until 40 % of the operation, done at 60 %.
    anim.shift(25, 35, {"b": (0.8, 0.5)}, {"b": (0.8, 0.2)}, spans={"b": (0.4, 0.6)})
    assert anim.y["b"][29] == 0.5 and anim.y["b"][31] == 0.2
    track = anim.track("a", np.ones(40, bool))
    assert isinstance(track, Track) and len(track.x) == 40 and not track.angle.any()


def test_lane_path():
    assert longterm.lane_path((0, 0), (1, 1), 0.5) == [(0, 0), (0.5, 0), (0.5, 1), (1, 1)]
    assert longterm.lane_path((0, 0), (1, 1), 0.5, axis="y") == [(0, 0), (0, 0.5), (1, 0.5), (1, 1)]


def test_replaced_answers_are_distinct_wrong_and_rng_independent_in_number():
    s0 = list("abcd")
    ops = [("rotate", {"n": 1}), ("swap", {"i": 1, "j": 3}), ("rotate", {"n": 2})]
    states = longterm.replay(rotate_apply, s0, ops)
    first = lambda s, o: s[-1][0]  # noqa: E731
    correct = first(states, ops)
    for seed in range(10):
        found = longterm.replaced_answers(np.random.default_rng(seed), rotate_apply, states, ops, first, toy_moves)
        assert len(found) == 3 and len(set(found)) == 3 and correct not in found
        for answer in found:  # each comes from some one-operation change
            assert any(
                first(longterm.replay(rotate_apply, s0, ops[:k] + [alt] + ops[k + 1 :]), None) == answer
                for k in range(len(ops))
                for alt in toy_moves(states[k])
            )
    # Questions that stop making sense for a candidate (ValueError) drop it; only 1 other letter exists.
    only_b = lambda s, o: s[-1][0] if s[-1][0] in "bd" else (_ for _ in ()).throw(ValueError())  # noqa: E731
    few = longterm.replaced_answers(np.random.default_rng(0), rotate_apply, states, ops, only_b, toy_moves)
    assert len(few) <= 1 and correct not in few


def test_replaced_answers_depth_two_reaches_further():
    s0 = list("abcdef")
    ops = [("swap", {"i": 0, "j": 1}), ("rotate", {"n": 1}), ("swap", {"i": 2, "j": 4})]
    states = longterm.replay(rotate_apply, s0, ops)
    moves = lambda s: [("swap", {"i": 0, "j": 1}), ("rotate", {"n": 1}), ("rotate", {"n": 2})]  # noqa: E731
    answer = lambda s, o: "".join(s[-1][:2])  # noqa: E731
    correct = answer(states, ops)

    def brute(depth):
        histories = [list(ops)]
        for _ in range(depth):
            histories = [h[:k] + [alt] + h[k + 1 :] for h in histories for k in range(len(h)) for alt in moves(None)] + histories
        return {answer(longterm.replay(rotate_apply, s0, h), h) for h in histories} - {correct}

    one = longterm.replaced_answers(np.random.default_rng(0), rotate_apply, states, ops, answer, moves, count=99)
    two = longterm.replaced_answers(np.random.default_rng(0), rotate_apply, states, ops, answer, moves, count=99, depth=2)
    assert set(one) == brute(1) and len(one) == len(set(one))
    assert set(two) == brute(2) and len(two) > len(one)


def test_perturbed_answers_and_naive():
    state = list("abcd")
    found = longterm.perturbed_answers(np.random.default_rng(1), rotate_apply, state, lambda s: s[0], toy_moves)
    assert len(found) == 3 and "a" not in found and set(found) <= set("bcd")
    assert longterm.with_naive(["x", "y", "z"], "n", "a") == ["n", "x", "y"]
    assert longterm.with_naive(["x", "n", "y", "z"], "n", "a") == ["n", "x", "y"]
    assert longterm.with_naive(["x", "y", "z"], "a", "a") == ["x", "y", "z"]
    assert longterm.with_naive(["x", "y", "z"], None, "a") == ["x", "y", "z"]
    rng = np.random.default_rng(0)
    assert 0.22 < np.mean([longterm.draw_naive(rng) for _ in range(4000)]) < 0.28


def test_finish_adds_captions_metadata_and_events():
    rng = np.random.default_rng(3)
    ops = [("rotate", {"n": 1}), ("swap", {"i": 0, "j": 1})]
    states = longterm.replay(rotate_apply, list("abc"), ops)
    sched = longterm.schedule(rng, len(ops))
    anim = longterm.Animator(sched.num_frames, {"dot": (0.3, 0.5)})
    anim.shift(*sched.spans[0], {"dot": (0.3, 0.5)}, {"dot": (0.6, 0.5)})
    anim.shift(*sched.spans[1], {"dot": (0.6, 0.5)}, {"dot": (0.6, 0.5)})
    dot = SceneObject(id="dot", shape="circle", color="red", size=0.1)
    tl = longterm.finish(
        sched, ops, states, [dot], {"dot": anim.track("dot", np.ones(sched.num_frames, bool))}, ["rotate 1", "swap 1 and 2"], anim.moved
    )
    assert [o.id for o in tl.objects] == ["dot", "caption0", "caption1"]
    for k, (start, end) in enumerate(sched.spans):
        visible = tl.tracks[f"caption{k}"].visible
        assert visible[start : end + 1].all() and visible.sum() == end - start + 1
        caption = tl.object(f"caption{k}")
        assert caption.shape == "text" and caption.height == longterm.CAPTION_HEIGHT
        assert tl.operations[k].start_frame == start and tl.operations[k].end_frame == end
    assert [s.frame for s in tl.states] == [0, sched.spans[0][1], sched.spans[1][1]]
    assert [s.state for s in tl.states] == states
    assert [(e.frame, e.type, e.objects, e.detail) for e in tl.events] == [
        (sched.spans[0][0], "rotate", ["dot"], "rotate 1"),
        (sched.spans[1][0], "swap", [], "swap 1 and 2"),
    ]
    rows = tl.rows(448)
    assert json.loads(rows["operations"][1]["args"]) == {"i": 0, "j": 1}
    assert longterm.boxes_in_frame(tl.objects, tl.tracks) and not longterm.boxes_overlap(tl.objects, tl.tracks)
    # when: the k-th operation's span, in seconds.
    q = longterm.when_question(np.random.default_rng(0), tl, 2, "swap 1 and 2")
    assert q.answer_type == "interval"
    assert json.loads(q.answer) == [round(tl.time(sched.spans[1][0]), 2), round(tl.time(sched.spans[1][1]), 2)]


def test_box_checks_use_true_extents():
    wide = SceneObject(id="t", shape="text", color="blue", size=0.6, height=0.05, label="x")
    card = SceneObject(id="c", shape="card", color="red", size=0.1)
    tracks = {"t": Track.still(5, 0.5, 0.05), "c": Track.still(5, 0.5, 0.2)}
    assert longterm.boxes_in_frame([wide, card], tracks)  # a circle the text's width would leave the frame
    assert not longterm.boxes_overlap([wide, card], tracks)
    tracks["c"] = Track.still(5, 0.5, 0.1)
    assert longterm.boxes_overlap([wide, card], tracks) == [("t", "c", 0)]
    tracks["c"].visible[:] = False
    assert not longterm.boxes_overlap([wide, card], tracks)
    tracks["t"] = Track.still(5, 0.1, 0.5)
    assert not longterm.boxes_in_frame([wide], tracks)
