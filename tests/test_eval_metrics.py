"""Answer parsers and metric math of evaluation/, against hand-computed values (no pipeline)."""

import math

import pytest

from synrl_hf.evaluation.common import parsing as P
from synrl_hf.evaluation.common.metrics import (
    AllCorrectByGroup,
    GroundedQA,
    GroupMean,
    Mean,
    VinogroundScores,
    best_iou_iop,
    grounding_scores,
    iou_iop,
)

# --- grounding --------------------------------------------------------------------------------


def test_iou_iop_hand_values():
    # pred [2, 6] vs gt [4, 8]: intersection 2, union 6, predicted length 4
    iou, iop = iou_iop((2, 6), (4, 8))
    assert iou == pytest.approx(1 / 3) and iop == pytest.approx(0.5)
    # prediction inside the ground truth: IoP 1, IoU = 2 / 10
    assert iou_iop((3, 5), (0, 10)) == pytest.approx((0.2, 1.0))
    # disjoint
    assert iou_iop((0, 1), (2, 3)) == (0.0, 0.0)
    # NExT-GQA: a zero-length prediction has IoU 0 and IoP 1 iff inside the ground truth
    assert iou_iop((2, 2), (0.5, 2.5)) == (0.0, 1.0)
    assert iou_iop((3, 3), (0.5, 2.5)) == (0.0, 0.0)
    # nothing parsed / malformed
    assert iou_iop(None, (0, 1)) == (0.0, 0.0)
    assert iou_iop((5, 1), (0, 10)) == (0.0, 0.0)
    assert iou_iop((float("nan"), 1), (0, 10)) == (0.0, 0.0)


def test_best_over_several_ground_truth_spans():
    # vs [1, 2]: IoU .5/2, IoP .5/1.5; vs [2, 3]: IoU 1/1.5, IoP 1/1.5 -> max of each separately
    assert best_iou_iop((1.5, 3.0), [(1, 2), (2, 3)]) == pytest.approx((2 / 3, 2 / 3))


def test_grounding_scores_thresholds():
    scores = grounding_scores((0, 1), [(0, 2)], iou_thresholds=(0.3, 0.5, 0.7), iop_thresholds=(0.5,))
    assert scores == {"R@0.3": 1.0, "R@0.5": 1.0, "R@0.7": 0.0, "IoP@0.5": 1.0, "mIoU": 0.5, "mIoP": 1.0}


# --- grouped aggregations ---------------------------------------------------------------------


def test_mean_is_named_for_closed_form_stderr():
    assert Mean().__name__ == "mean" and Mean()([1, 0, 1, 1]) == 0.75 and math.isnan(Mean()([]))


def test_group_mean_with_mean_over_groups():
    items = [{"group": "a", "score": 1}, {"group": "a", "score": 0}, {"group": "b", "score": 1}]
    assert GroupMean("acc_", with_mean=True).compute_corpus(items) == {"acc_a": 0.5, "acc_b": 1.0, "acc_mean": 0.75}
    ordered = GroupMean("acc_", groups=("short", "medium", "long")).compute_corpus(
        [{"group": "long", "score": 1}, {"group": "short", "score": 0}]
    )
    assert list(ordered) == ["acc_short", "acc_long"]


def test_multiple_binary_accuracy_groups_by_video():
    items = [
        {"group": "v0", "score": 1},
        {"group": "v0", "score": 1},
        {"group": "v1", "score": 1},
        {"group": "v1", "score": 0},
        {"group": "v2", "score": 0},
    ]
    assert AllCorrectByGroup("mba").compute_corpus(items) == {"mba": pytest.approx(1 / 3)}


def test_vinoground_text_video_group_scores():
    def rec(pair, kind, score):
        return {"pair": pair, "kind": kind, "score": score}

    items = [rec("0", k, 1) for k in ("text", "text", "video", "video")]  # all right
    items += [rec("1", "text", 1), rec("1", "text", 1), rec("1", "video", 1), rec("1", "video", 0)]  # text only
    items += [rec("2", "text", 0), rec("2", "text", 1), rec("2", "video", 1), rec("2", "video", 1)]  # video only
    items += [rec("3", "text", 1), rec("3", "video", 1), rec("3", "video", 1)]  # a text question skipped
    scores = VinogroundScores().compute_corpus(items)
    assert scores == {"text_score": 0.5, "video_score": 0.75, "group_score": 0.25}
    for item in items:  # per major category too
        item["major"] = "action" if item["pair"] in ("0", "1") else "object"
    scores = VinogroundScores().compute_corpus(items)
    assert (scores["text_score_action"], scores["video_score_action"], scores["group_score_object"]) == (1.0, 0.5, 0.0)


def test_grounded_qa_pairs_the_answer_and_the_span():
    def qa(q, score):
        return {"question": q, "kind": "qa", "score": score}

    def ground(q, iou, iop):
        return {"question": q, "kind": "ground", "iou": iou, "iop": iop}

    # q0 right and IoP .6; q1 right but IoP .4; q2 wrong with a perfect span; q3 has no span (not counted)
    items = [qa("q0", 1), ground("q0", 0.2, 0.6), qa("q1", 1), ground("q1", 0.9, 0.4), qa("q2", 0), ground("q2", 1, 1), qa("q3", 1)]
    assert GroundedQA("acc_gqa", by="iop").compute_corpus(items) == {"acc_gqa": pytest.approx(1 / 3)}
    assert GroundedQA("acc_gqa", by="iou").compute_corpus(items) == {"acc_gqa": pytest.approx(1 / 3)}  # q1 by IoU .9


# --- parsers: each follows its benchmark's reference code, quirks included ---------------------


@pytest.mark.parametrize(
    "text, span",
    [
        ("The event happens in the 1.0 - 3.0 seconds.", (1.0, 3.0)),
        ("from 4 to 2.5 seconds", (2.5, 4.0)),  # "to" becomes "-", then swapped
        ("From 1.5 to 3.0.", (1.5, 3.0)),  # ReXTime's answer format
        ("Start: 1 seconds.\nEnd: 3 seconds.", (1.0, 3.0)),  # the first number of each start/end sentence
        ("It starts at 00:01:05 - 00:01:10", (65.0, 70.0)),  # clock range
        ("Two spans: 1 - 2 and 3 - 4", (1.0, 2.0)),  # only the first span is kept
        ("I don't know.", None),
        ("", None),
    ],
)
def test_extract_span_is_lmms_evals_extract_time(text, span):
    assert P.extract_span(text) == span


def test_tomato_choice_is_lmms_evals_parser():
    options = ["one", "two", "three", "four", "five"]
    assert P.tomato_choice("(C)", options) == "C"
    assert P.tomato_choice("The answer is B", options) == "B"
    assert P.tomato_choice("(A) is wrong, the answer is (D)", options) == "D"  # the last "(X)" wins
    assert P.tomato_choice("I think the answer is three rotations", options) == "C"  # option text, > 5 words
    assert P.tomato_choice("A square moves right", options) == "A"  # a bare capital letter anywhere counts
    assert P.tomato_choice("Because B is wrong, the answer is C", options) == "B"  # no "(X)": the first candidate
    assert P.tomato_choice("c", options) == "A"  # lower case is not seen; nothing parsed -> "A"
    assert P.tomato_choice("no idea", options) == "A"


def test_extract_mcq_answer_priorities():
    assert P.extract_mcq_answer("The correct answer is (B).", "ABCD") == "B"
    assert P.extract_mcq_answer("A", "ABCD") == "A"  # a lone letter
    assert P.extract_mcq_answer("I think it's C. Actually D", "ABCD") == "D"  # a trailing letter beats "C."
    assert P.extract_mcq_answer("(G) 4, 5", "ABCDEFGHIJ") == "G"
    assert P.extract_mcq_answer("", "ABCD") is None and P.extract_mcq_answer("no letter here", "ABCD") is None


def test_video_tt_letter():
    assert P.first_letter("The best answer is B.", "ABCD") == "B"
    assert P.first_letter("(C) three", "ABCD") == "C"
    assert P.first_letter("it is impossible to say how many squares appear in this particular clip") is None
    assert P.first_letter("E", "ABCDE") == "E" and P.first_letter("E", "ABCD") is None


def test_minerva_is_deterministic_without_an_answer():
    assert P.minerva_choice("I'd say B, but final answer: C") == "C"
    assert P.minerva_choice("Between A and D ... D") == "D"
    assert all(P.minerva_choice("unsure") is None for _ in range(5))


def test_mvbench_normalisation():
    assert P.mvbench_choice("(A) Sat down.") == "A"
    assert P.mvbench_choice("B. Stood up.") == "B"
    assert P.mvbench_choice("Best option: (C)") == "C"
    assert P.mvbench_choice("Sat down.") == "sat down"  # text never equals a letter


def test_cvbench_parser_is_case_insensitive_like_mvr():
    assert P.cvbench_choice("b") == "B" and P.cvbench_choice("Yes, they do.") == "YES" and P.cvbench_choice("No") == "NO"
    assert P.cvbench_choice("a dog runs") == "A"  # the reference's quirk: the first a-d anywhere
    assert P.cvbench_choice("Video 2 is darker, so B.") == "D"  # ... even inside a word ("Video")
    assert P.cvbench_choice("") is None


def test_tvbench_and_first_character_parsers():
    assert P.tvbench_choice("right", ["left", "right", "up"]) == "B"
    assert P.tvbench_choice("left or right", ["left", "right", "up"]) is None
    assert P.first_char("b) second") == "B" and P.first_char(" b") == " " and P.first_char("") is None  # response[0], unstripped
    assert P.first_char("a", case_sensitive=True) == "a"  # AoTBench compares as is


@pytest.mark.parametrize(
    "reply, gold, correct",
    [
        ("The result is 42.", "42", True),
        ("The answer is Paris.", "paris", True),
        ("So the mass is 12.970 g", "12.97", True),  # numbers rounded to 2 places
        ("It is about twelve grams", "12.97", False),
        ("", "12.97", None),  # empty: left out of the score, as lmms-eval does
    ],
)
def test_mmmu_open_answers(reply, gold, correct):
    assert P.mmmu_open_correct(reply, gold) is correct
