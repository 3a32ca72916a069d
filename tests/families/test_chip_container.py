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

from synrl_hf.families.chip_container import BOX_H, CAPACITY, ChipContainer, apply
from synrl_hf.palette import COLORS
from synrl_hf.questions import ordinal

KINDS = ChipContainer.KINDS
ORDINALS = {ordinal(i): i for i in range(1, 40)}


@pytest.fixture(scope="module")
def by_kind():
    return scenes_by_kind("chip_container", KINDS, per_kind=30)


def all_scenes(by_kind):
    return [s for kind in KINDS for s in by_kind[kind]]


def test_apply_moves_adds_and_removes_one_chip():
    state = {"A": [1, 2], "B": [], "C": [3]}
    assert apply(state, "move", {"chip": 2, "src": "A", "dst": "C"}) == {"A": [1], "B": [], "C": [3, 2]}
    assert apply(state, "add", {"chip": 4, "dst": "B"}) == {"A": [1, 2], "B": [4], "C": [3]}
    assert apply(state, "remove", {"chip": 3, "src": "C"}) == {"A": [1, 2], "B": [], "C": []}
    assert state == {"A": [1, 2], "B": [], "C": [3]}  # pure
    for name, args in [
        ("move", {"chip": 3, "src": "A", "dst": "B"}),  # not there
        ("move", {"chip": 1, "src": "A", "dst": "A"}),
        ("add", {"chip": 1, "dst": "B"}),  # exists already
        ("remove", {"chip": 9, "src": "B"}),
    ]:
        with pytest.raises(ValueError):
            apply(state, name, args)
    with pytest.raises(ValueError):
        apply({"A": list(range(1, CAPACITY + 1)), "B": [99]}, "move", {"chip": 99, "src": "B", "dst": "A"})


def test_states_replay_and_only_the_shown_reveal_shows_chips(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        states = check_replay(apply, tl)
        check_motion_in_spans(tl)
        check_state_shown_once(scene, lambda oid: oid.startswith("chip"))
        shown = reveal_mask(scene)
        revealed = states[0] if scene.plan["shown"] == "initial" else states[-1]
        boxes = {o.label: (tl.tracks[o.id], o) for o in tl.objects if o.id.startswith("box")}
        for name, (track, box) in boxes.items():
            # Open while the state is shown, closed by the lid on every other frame.
            np.testing.assert_array_equal(tl.tracks[f"lid{name}"].visible, ~shown)
            np.testing.assert_array_equal(track.visible, shown)
            for chip in revealed[name]:
                chip_track = tl.tracks[f"chip{chip}"]
                assert abs(chip_track.x[0] - track.x[0]) < box.size / 2 and abs(chip_track.y[0] - track.y[0]) < BOX_H / 2
        assert sum(map(len, revealed.values())) == sum(o.id.startswith("chip") for o in tl.objects)


def test_each_operation_is_its_chip_travelling_between_its_containers(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        box_x = {o.label: tl.tracks[o.id].x[0] for o in tl.objects if o.id.startswith("box")}
        _, ops = history(tl)
        for op, (name, args) in zip(tl.operations, ops):
            mover = tl.tracks[f"mover{op.index}"]
            assert tl.object(f"mover{op.index}").label == str(args["chip"])
            assert np.flatnonzero(mover.visible).tolist() == list(range(op.start_frame, op.end_frame + 1))
            start, end = op.start_frame, op.end_frame
            if name != "add":
                assert mover.x[start] == pytest.approx(box_x[args["src"]])
            if name != "remove":
                assert mover.x[end] == pytest.approx(box_x[args["dst"]])
            if name == "remove":
                assert mover.y[end] < mover.y[start]  # out of the top of the container


def test_count_answers(by_kind):
    for kind in ("count_end", "count_end_choice", "count_start", "count_start_choice"):
        naive = 0
        for scene in by_kind[kind]:
            q = scene.question
            states = check_replay(apply, scene.timeline)
            name = re.search(r"container ([A-D])", q.text).group(1)
            at_end = "at the end" in q.text
            assert at_end == (kind.startswith("count_end")) and scene.plan["shown"] == ("initial" if at_end else "final")
            count = len((states[-1] if at_end else states[0])[name])
            given = int(chosen_option(q)) if q.answer_type == "multiple_choice" else int(q.answer)
            assert given == count, (q.full_text, states)
            naive += len((states[0] if at_end else states[-1])[name]) == count
            _, ops = history(scene.timeline)
            assert any(name in (a.get("src"), a.get("dst")) for _, a in ops)  # the operations matter
        assert 0.1 <= naive / len(by_kind[kind]) <= 0.45, (kind, naive)


def test_historical_answers(by_kind):
    for scene in by_kind["moved_by"]:
        q = scene.question
        chip = int(re.search(r"[Cc]hip (\d+)", q.text).group(1))
        _, ops = history(scene.timeline)
        moving = [i for i, (_, a) in enumerate(ops) if a["chip"] == chip]
        assert len(moving) == 1 and ops[moving[0]][0] == "move"
        assert chosen_option(q) == f"the {ordinal(moving[0] + 1)} operation"
    for scene in by_kind["most_after"]:
        q = scene.question
        k = ORDINALS[re.search(r"the (\w+) operation", q.text).group(1)]
        states = check_replay(apply, scene.timeline)
        counts = sorted(((len(c), n) for n, c in states[k].items()), reverse=True)
        assert counts[0][0] > counts[1][0] and chosen_option(q) == f"container {counts[0][1]}"
        assert len(q.options) == 4 and 1 <= k < len(states) - 1
    for scene in by_kind["when"]:
        q = scene.question
        chip = int(re.search(r"chip (\d+)", q.text).group(1))
        op = answer_op(q, scene.timeline)
        assert op.args["chip"] == chip and sum(o.args["chip"] == chip for o in scene.timeline.operations) == 1
        assert f"mover{op.index}" in next(e.objects for e in scene.timeline.events if e.frame == op.start_frame)


def test_rendered_chips_captions_and_lids_are_legible():
    scene = next(s for s in scenes_by_kind("chip_container", ("count_start",), per_kind=1)["count_start"])
    tl = scene.timeline
    op = tl.operations[1]
    middle = (op.start_frame + op.end_frame) // 2
    row, frames = render(
        "chip_container",
        scene.index,
        scene.base_seed,
        "/tmp/chip_container_448.png",
        lambda row: [middle, row["num_frames"] - 5],
    )
    scale = 448
    final = frames[-5]
    chips = [o for o in tl.objects if o.id.startswith("chip")]
    assert chips
    for chip in chips:
        x, y = tl.tracks[chip.id].x[0] * scale, tl.tracks[chip.id].y[0] * scale
        # The number: ink inside the chip, with the chip's orange around it.
        assert dark_pixels(final, x, y, 7, 7) >= 8, chip.label
        ring = final[int(y) - 13, int(x)].astype(int)
        assert np.abs(ring - COLORS[chip.color]).max() < 60
    # The caption band holds the operation's text while it runs, and nothing once it is over.
    assert dark_pixels(frames[middle], 224, 0.05 * scale, 200, 12) >= 60
    assert dark_pixels(final, 224, 0.05 * scale, 200, 12) == 0
    # Lids (solid, lettered) close the containers during the operations.
    for box in (o for o in tl.objects if o.id.startswith("lid")):
        x, y = tl.tracks[box.id].x[0] * scale, tl.tracks[box.id].y[0] * scale
        assert dark_pixels(frames[middle], x, y, 15, 15) >= 40  # the big letter
        below = frames[middle][int(y + 60), int(x)].astype(int)
        assert np.abs(below - COLORS[box.color]).max() < 60


def test_round2_scenes_keep_the_invariants():
    scenes = scenes_by_kind("chip_container", KINDS, per_kind=5, preset="round2")
    assert max(len(s.timeline.operations) for kind in KINDS for s in scenes[kind]) > 8
    for scene in (s for kind in KINDS for s in scenes[kind]):
        check_replay(apply, scene.timeline)
        check_motion_in_spans(scene.timeline)
        check_state_shown_once(scene, lambda oid: oid.startswith("chip"))


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree("chip_container", ChipContainer.KINDS, resolution, preset=preset)
