"""The answer grammar where tests/test_rewards.py does not reach it: one letter alphabet for every
reader and writer of options, span overlap, and the interval pass mark that evaluation shares."""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf.answers import (
    INTERVAL_PASS_IOU,
    LETTERS,
    extract_answer,
    is_well_formed,
    score_multiple_choice,
    span_overlap,
    temporal_iou,
)
from synrl_hf.evaluation.benchmarks import get_benchmark
from synrl_hf.evaluation.common.converters import letter
from synrl_hf.evaluation.common.parsing import letters_for
from synrl_hf.evaluation.common.tasks import option_lines
from synrl_hf.questions import multiple_choice

TEN = [f"option {i}" for i in range(10)]


def test_options_are_lettered_and_read_with_one_alphabet():
    question = multiple_choice(
        np.random.default_rng(3), "Which?", "right", [f"wrong {i}" for i in range(9)], primitive="p", kind="k", num_options=10
    )
    shown = question.full_text.splitlines()[1:]
    assert [line.split(".")[0] for line in shown] == list(LETTERS[:10])
    assert option_lines(TEN).splitlines()[9] == "J. option 9"
    assert letter(9) == "J" and letters_for(TEN) == LETTERS[:10]
    # Letters past the eighth score like any other, by letter or by the option's text.
    assert score_multiple_choice("J", "J", TEN) == 1.0
    assert score_multiple_choice("option 9", "J", TEN) == 1.0
    assert score_multiple_choice("J. option 8", "J", TEN) == 0.0


@pytest.mark.parametrize(
    "a, b, overlap",
    [((2, 6), (4, 8), 2.0), ([2.0, 6.0], [4.0, 8.0], 2.0), ((0, 10), (3, 4), 1.0), ((0, 2), (2, 4), 0.0), ((0, 1), (3, 4), 0.0)],
)
def test_span_overlap(a, b, overlap):
    assert span_overlap(a, b) == overlap
    assert span_overlap(b, a) == overlap


def test_temporal_iou_reads_spans_as_lists_too():
    # Ground truth read from JSON arrives as lists; an instant still matches itself.
    assert temporal_iou([2.0, 6.0], (4.0, 8.0)) == pytest.approx(1 / 3)
    assert temporal_iou([3.0, 3.0], (3.0, 3.0)) == 1.0


@pytest.mark.parametrize("completion", [None, 3, ["<think>a</think><answer>B</answer>"]])
def test_readers_take_anything(completion):
    assert extract_answer(completion) is None
    assert is_well_formed(completion) is False


def test_synrl_bench_passes_an_interval_at_the_shared_iou():
    score = get_benchmark("synrl_bench").score
    spec = {"answer": "[2.0, 6.0]", "options": [], "meta": {"answer_type": "interval", "task": "event_order"}}
    # [2, 4] against [2, 6]: IoU 2 / 4, exactly the pass mark; [2, 3.9]: just under it.
    assert INTERVAL_PASS_IOU == 0.5
    assert score(spec, "<think>.</think><answer>[2, 4]</answer>")["acc"] == 1.0
    assert score(spec, "<think>.</think><answer>[2, 3.9]</answer>")["acc"] == 0.0
