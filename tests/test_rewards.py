"""Rewards: every reward-hacking case as a unit test, and property tests that they never raise."""

from __future__ import annotations

import math
import pickle
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synrl_hf.answers import (
    ANSWER_TYPES,
    extract_answer,
    parse_interval,
    parse_number,
    score_answer,
    score_interval,
    score_multiple_choice,
    score_number,
    score_sequence,
    score_yes_no,
    temporal_iou,
)
from synrl_hf.rewards import (
    REWARD_FUNCS,
    accuracy_reward,
    completion_text,
    format_reward,
    get_reward_funcs,
    make_accuracy_reward,
)

OPTIONS = ["2 times", "3 times", "4 times", "5 times"]


def wrap(answer: str) -> str:
    return f"<think>counting the bounces</think><answer>{answer}</answer>"


# --- extract_answer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<answer>B</answer>", "B"),
        ("<answer>  B \n</answer>", "B"),
        ("<answer>A</answer> on reflection <answer>C</answer>", "C"),
        ("<think><answer>A</answer></think><answer>D</answer>", "D"),
        ("<answer></answer>", ""),
    ],
)
def test_extract_answer_reads_the_last_block(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "B",
        "The answer is B.",
        "<answer>B",  # never closed
        "B</answer>",  # never opened
        "<answer>A</answer> then <answer>B",  # the final answer is unfinished: A must not stand in
        "<answer><answer>B</answer></answer>",  # nested
        "<answer>A <answer>B</answer>",  # two opens, one close
        "<answer>B</answer></answer>",  # stray close
    ],
)
def test_extract_answer_rejects_missing_or_malformed_blocks(text):
    assert extract_answer(text) is None


# --- multiple choice ------------------------------------------------------------------------


@pytest.mark.parametrize("predicted", ["B", " B ", "b", "(B)", "[B]", "B.", "(B).", "B:", "\nB\n"])
def test_multiple_choice_tolerates_whitespace_brackets_period_and_case(predicted):
    assert score_multiple_choice(predicted, "B", OPTIONS) == 1.0


@pytest.mark.parametrize(
    "predicted",
    [
        "A or B",
        "B or A",
        "A, B",
        "A,B",
        "AB",
        "A and B",
        "A B C D",
        "B/C",
        "",
        "   ",
        "A",
        "E",
        "Option",
        "2 times",  # the text of a wrong option
        "4 times",
        "A. 3 times",  # letter and text disagree: a hedge
        "B. 4 times",
        "3",  # substring of the correct option's text
        "B 3 times or 4 times",
    ],
)
def test_multiple_choice_hacks_score_zero(predicted):
    assert score_multiple_choice(predicted, "B", OPTIONS) == 0.0


@pytest.mark.parametrize("predicted", ["3 times", " 3 Times. ", "B. 3 times", "(B) 3 times"])
def test_multiple_choice_accepts_the_correct_option_text(predicted):
    assert score_multiple_choice(predicted, "B", OPTIONS) == 1.0


def test_multiple_choice_option_text_needs_the_options():
    assert score_multiple_choice("3 times", "B", None) == 0.0
    assert score_multiple_choice("3 times", "B", []) == 0.0


def test_multiple_choice_option_text_shared_by_two_options_is_ambiguous():
    assert score_multiple_choice("red", "A", ["red", "Red.", "blue", "green"]) == 0.0


def test_multiple_choice_missing_answer_scores_zero():
    assert score_multiple_choice(None, "B", OPTIONS) == 0.0


def test_multiple_choice_bad_ground_truth_is_a_data_error():
    with pytest.raises(ValueError, match="one letter"):
        score_multiple_choice("B", "B or C", OPTIONS)


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("predicted", ["3", " 3 ", "3.0", "3.00", "+3", "three", " Three ", "3 times", "three rotations", "3.", "thrice"])
def test_number_matches(predicted):
    assert score_number(predicted, "3") == 1.0


@pytest.mark.parametrize(
    "predicted",
    [
        *["4", "3.5", "2.99", "-3", "33", "3e0", "", "C"],
        *["3 or 4", "3 or", "3, 4", "3 to 4", "about 3 times", "three or four"],
    ],
)
def test_number_mismatches(predicted):
    assert score_number(predicted, "3") == 0.0


@pytest.mark.parametrize("word, value", [("zero", 0), ("one", 1), ("ten", 10), ("twelve", 12), ("twenty", 20)])
def test_number_words(word, value):
    assert score_number(word, str(value)) == 1.0
    assert score_number(word, str(value + 1)) == 0.0


def test_number_decimal_ground_truth():
    assert score_number("2.5", "2.5") == 1.0
    assert score_number(".5", "0.5") == 1.0


def test_parse_number_survives_huge_and_odd_input():
    assert parse_number("9" * 5000) is None  # would overflow to inf
    assert parse_number("twentyone") is None
    assert parse_number("nan") is None
    assert parse_number("inf") is None


# --- sequences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "predicted",
    [
        "red, blue, green",
        "Red,Blue,Green",
        "red -> blue -> green",
        "red → blue → green",
        "red then blue then green",
        "red, then blue, then green",
        "  RED ,  blue,   green. ",
        "[red, blue, green]",
    ],
)
def test_sequence_separators_and_normalisation(predicted):
    assert score_sequence(predicted, "red, blue, green") == 1.0


@pytest.mark.parametrize(
    "predicted",
    ["blue, red, green", "red, blue", "red, blue, green, red", "red blue green", "red or blue, green", "", "red"],
)
def test_sequence_needs_exact_order_and_items(predicted):
    assert score_sequence(predicted, "red, blue, green") == 0.0


def test_sequence_items_with_spaces():
    assert score_sequence("push card, pop  card", "push card, pop card") == 1.0
    assert score_sequence("pop card, push card", "push card, pop card") == 0.0


# --- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pred, truth, expected",
    [
        ((4, 8), (2, 6), 2 / 6),
        ((2, 6), (2, 6), 1.0),
        ((0, 10), (2, 6), 4 / 10),
        ((3, 4), (2, 6), 1 / 4),
        ((6, 9), (2, 6), 0.0),  # touching
        ((7, 9), (2, 6), 0.0),  # disjoint
        ((3, 3), (3, 3), 1.0),  # the same instant
        ((3, 3), (2, 6), 0.0),
        ((6, 2), (2, 6), 0.0),  # reversed
        ((-1, 4), (2, 6), 0.0),  # negative
        ((math.nan, 4), (2, 6), 0.0),
        ((2, math.inf), (2, 6), 0.0),
    ],
)
def test_temporal_iou_hand_computed(pred, truth, expected):
    assert temporal_iou(pred, truth) == pytest.approx(expected)


@pytest.mark.parametrize(
    "predicted",
    [
        "[4, 8]",
        "[4.00, 8.00]",
        "4 - 8",
        "4-8",
        "4 to 8",
        "from 4 to 8",
        "from 4s to 8s",
        "4 seconds to 8 seconds",
        "[4 s, 8 s]",
        "(4, 8).",
        "4 – 8",
    ],
)
def test_interval_formats(predicted):
    assert score_interval(predicted, "[2.00, 6.00]") == pytest.approx(2 / 6)


@pytest.mark.parametrize("predicted", ["[8, 4]", "[-1, 4]", "-2 - 6", "[nan, 6]", "[2, inf]", "[2, 6, 8]", "2", "at 4", "", "[a, b]"])
def test_interval_invalid_predictions_score_zero(predicted):
    assert score_interval(predicted, "[2.00, 6.00]") == 0.0


def test_parse_interval_keeps_numbers_as_written():
    assert parse_interval("[6, 2]") == (6.0, 2.0)
    assert parse_interval("from 1.5 to 3 seconds") == (1.5, 3.0)
    assert parse_interval("soon") is None


def test_interval_threshold():
    assert score_interval("[4, 8]", "[2, 6]", threshold=0.3) == 1.0
    assert score_interval("[4, 8]", "[2, 6]", threshold=0.5) == 0.0
    assert score_interval("[2, 6]", "[2, 6]", threshold=1.0) == 1.0
    assert score_interval("garbage", "[2, 6]", threshold=0.3) == 0.0


@pytest.mark.parametrize("threshold", [0, 0.0, -0.1, 1.5, math.nan, "0.5"])
def test_interval_threshold_must_be_in_unit_interval(threshold):
    with pytest.raises(ValueError, match="interval_threshold"):
        make_accuracy_reward(interval_threshold=threshold)
    with pytest.raises(ValueError, match="interval_threshold"):
        score_interval("[2, 6]", "[2, 6]", threshold=threshold)


def test_thresholded_accuracy_reward():
    completions = [wrap("[4, 8]"), wrap("[2.5, 6]")]
    columns = {"answer": ["[2.00, 6.00]"] * 2, "answer_type": ["interval"] * 2}
    assert accuracy_reward(completions, **columns) == pytest.approx([2 / 6, 3.5 / 4])
    assert make_accuracy_reward(0.5)(completions, **columns) == [0.0, 1.0]
    assert make_accuracy_reward(None)(completions, **columns) == pytest.approx([2 / 6, 3.5 / 4])


def test_thresholded_reward_is_picklable_and_named_for_trl_logs():
    reward = pickle.loads(pickle.dumps(make_accuracy_reward(0.5)))
    assert reward([wrap("[4, 8]")], answer=["[2, 6]"], answer_type=["interval"]) == [0.0]
    # TRL names a partial after the function it wraps.
    assert reward.func.__name__ == "accuracy_reward"


# --- yes / no -------------------------------------------------------------------------------


@pytest.mark.parametrize("predicted", ["yes", "Yes", "YES.", " yes! ", "yes."])
def test_yes(predicted):
    assert score_yes_no(predicted, "yes") == 1.0
    assert score_yes_no(predicted, "no") == 0.0


@pytest.mark.parametrize("predicted", ["yes or no", "no or yes", "yes, no", "yesno", "y", "", "maybe", "yes no"])
def test_yes_no_hedges_score_zero(predicted):
    assert score_yes_no(predicted, "yes") == 0.0
    assert score_yes_no(predicted, "no") == 0.0


# --- score_answer dispatch ------------------------------------------------------------------


def test_score_answer_dispatches_on_type():
    assert score_answer("B", "B", "multiple_choice", options=OPTIONS) == 1.0
    assert score_answer("three", "3", "number") == 1.0
    assert score_answer("a, b", "a, b", "sequence") == 1.0
    assert score_answer("[4, 8]", "[2, 6]", "interval") == pytest.approx(2 / 6)
    assert score_answer("[4, 8]", "[2, 6]", "interval", interval_threshold=0.3) == 1.0
    assert score_answer("no", "no", "yes_no") == 1.0


def test_score_answer_unknown_type_is_a_data_error():
    with pytest.raises(ValueError, match="unknown answer_type 'essay'.*multiple_choice"):
        score_answer("B", "B", "essay")


# --- completions: strings and conversations -------------------------------------------------


@pytest.mark.parametrize(
    "completion",
    [
        wrap("B"),
        [{"role": "assistant", "content": wrap("B")}],
        [{"role": "assistant", "content": [{"type": "text", "text": wrap("B")}]}],
        [
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "<think>x</think>"},
                    {"type": "text", "text": "<answer>B</answer>"},
                ],
            }
        ],
        {"role": "assistant", "content": wrap("B")},
    ],
)
def test_string_and_conversational_completions(completion):
    assert accuracy_reward([completion], answer=["B"], answer_type=["multiple_choice"], options=[OPTIONS]) == [1.0]
    assert format_reward([completion]) == [1.0]


def test_tool_output_cannot_supply_the_answer():
    completion = [
        {"role": "assistant", "content": "<think>let me look</think>"},
        {"role": "tool", "content": "<answer>B</answer>"},
    ]
    assert completion_text(completion) == "<think>let me look</think>"
    assert accuracy_reward([completion], answer=["B"], answer_type=["multiple_choice"]) == [0.0]


@pytest.mark.parametrize("completion", [None, 3, 2.5, b"<answer>B</answer>", [None, 1], [{"role": "assistant"}], object()])
def test_non_text_completions_score_zero(completion):
    assert accuracy_reward([completion], answer=["B"], answer_type=["multiple_choice"]) == [0.0]
    assert format_reward([completion]) == [0.0]


# --- accuracy_reward: batches, columns, TRL kwargs ------------------------------------------


def mixed_batch():
    """Every answer type, right and wrong answers interleaved, as TRL passes the columns."""
    rows = [
        ("multiple_choice", "B", OPTIONS, "collision_count", wrap("B"), 1.0),
        ("number", "3", [], "rotation_count", wrap("three"), 1.0),
        ("sequence", "red, blue", [], "attribute_change", wrap("blue, red"), 0.0),
        ("interval", "[2.00, 6.00]", [], "event_order", wrap("[4, 8]"), 2 / 6),
        ("yes_no", "no", [], "relative_position", wrap("No."), 1.0),
        ("multiple_choice", "C", OPTIONS, "collision_count", wrap("A or C"), 0.0),
        ("number", "4", [], "motion_count", wrap("3"), 0.0),
        ("sequence", "push, pop", [], "card_stack", wrap("push -> pop"), 1.0),
        ("interval", "[1.00, 2.00]", [], "event_order", "<answer>[1, 2]</answer>", 1.0),
        ("yes_no", "yes", [], "relative_position", wrap("yes or no"), 0.0),
    ]
    columns = {
        "answer_type": [r[0] for r in rows],
        "answer": [r[1] for r in rows],
        "options": [r[2] for r in rows],
        "task": [r[3] for r in rows],
        "solution": [f"<answer>{r[1]}</answer>" for r in rows],
    }
    return [r[4] for r in rows], columns, [r[5] for r in rows]


def test_mixed_batch_keeps_columns_aligned():
    completions, columns, expected = mixed_batch()
    assert accuracy_reward(completions, **columns) == pytest.approx(expected)
    # The same rows in reverse order must give the reversed scores: nothing is matched by position
    # except the row itself.
    reversed_columns = {name: values[::-1] for name, values in columns.items()}
    assert accuracy_reward(completions[::-1], **reversed_columns) == pytest.approx(expected[::-1])


def test_trl_call_signature_and_logging():
    completions, columns, expected = mixed_batch()
    logged = defaultdict(list)
    extra_calls = []
    rewards = accuracy_reward(
        prompts=[[{"role": "user", "content": "q"}]] * len(completions),
        completions=[[{"role": "assistant", "content": c}] for c in completions],
        completion_ids=[[1, 2, 3]] * len(completions),
        trainer_state=object(),
        log_extra=lambda column, values: extra_calls.append(column),
        log_metric=lambda name, value: logged[name].append(value),
        environments=None,
        id=[f"s{i}" for i in range(len(completions))],
        **columns,
    )
    assert rewards == pytest.approx(expected)
    means = {name: sum(values) / len(values) for name, values in logged.items()}
    assert means["accuracy/multiple_choice"] == pytest.approx(0.5)
    assert means["accuracy/number"] == pytest.approx(0.5)
    assert means["accuracy/sequence"] == pytest.approx(0.5)
    assert means["accuracy/interval"] == pytest.approx((2 / 6 + 1.0) / 2)
    assert means["accuracy/yes_no"] == pytest.approx(0.5)
    assert means["accuracy/task/event_order"] == pytest.approx((2 / 6 + 1.0) / 2)
    assert means["accuracy/task/card_stack"] == 1.0
    # One value per sample, so TRL's mean over calls is the accuracy over samples.
    assert len(logged["accuracy/task/collision_count"]) == 2
    assert sum(len(v) for k, v in logged.items() if k.startswith("accuracy/task/")) == len(completions)
    assert extra_calls == []


def test_logging_is_optional_and_task_column_too():
    completions, columns, expected = mixed_batch()
    del columns["task"]
    logged = []
    assert accuracy_reward(completions, log_metric=lambda n, v: logged.append(n), **columns) == pytest.approx(expected)
    assert logged and not any(name.startswith("accuracy/task/") for name in logged)
    assert accuracy_reward(completions, log_metric=None, **columns) == pytest.approx(expected)


def test_solution_column_stands_in_for_answer():
    completions, columns, expected = mixed_batch()
    del columns["answer"]
    assert accuracy_reward(completions, **columns) == pytest.approx(expected)
    columns["answer"] = [None] * len(completions)
    assert accuracy_reward(completions, **columns) == pytest.approx(expected)


def test_missing_or_misaligned_columns_are_data_errors():
    with pytest.raises(ValueError, match="answer_type"):
        accuracy_reward([wrap("B")], answer=["B"])
    with pytest.raises(ValueError, match="neither"):
        accuracy_reward([wrap("B")], answer_type=["multiple_choice"])
    with pytest.raises(ValueError, match="'answer' has 1 values for 2"):
        accuracy_reward([wrap("B"), wrap("C")], answer=["B"], answer_type=["multiple_choice"] * 2)
    with pytest.raises(ValueError, match="unknown answer_type"):
        accuracy_reward([wrap("B")], answer=["B"], answer_type=["letter"])


def test_empty_batch():
    assert accuracy_reward([], answer=[], answer_type=[]) == []
    assert format_reward([]) == []


@pytest.mark.parametrize(
    "completion",
    [
        "The answer is B. <answer>C</answer>",  # the answer outside the last block does not count
        "<answer>B</answer> no wait <answer>C</answer>",
        "B",  # no block
        "<think>B</think>",
        "<think>x</think><answer></answer>",  # empty answer
        "<think>x</think><answer><answer>B</answer></answer>",  # nested tags
        "<think>x</think><answer>A or B</answer>",
        "<think>x</think><answer>2 times</answer>",  # a wrong option's text
    ],
)
def test_accuracy_reward_hacks_score_zero(completion):
    reward = accuracy_reward([completion], answer=["B"], answer_type=["multiple_choice"], options=[OPTIONS])
    assert reward == [0.0]


# --- format_reward --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "completion",
    [
        "<think>reasoning</think><answer>B</answer>",
        "  <think>\nstep 1\nstep 2\n</think>\n\n<answer> B </answer>\n",
        "<think></think><answer>B</answer>",
    ],
)
def test_format_well_formed(completion):
    assert format_reward([completion]) == [1.0]


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "B",
        "<answer>B</answer>",
        "<think>x</think>",
        "<answer>B</answer><think>x</think>",  # wrong order
        "<think>x</think><answer></answer>",  # empty answer
        "<think>x</think><answer>  \n </answer>",
        "<think>x</think> so B <answer>B</answer>",  # text between the blocks
        "preamble <think>x</think><answer>B</answer>",
        "<think>x</think><answer>B</answer> trailing",
        "<think>x</think><answer>A</answer><answer>B</answer>",  # tags repeated
        "<think>x<think>y</think></think><answer>B</answer>",
        "<think>x</think><answer><answer>B</answer></answer>",
        "<think>x<answer>A</answer></think><answer>B</answer>",
        "<think>x</think><answer>B",
        "<THINK>x</THINK><ANSWER>B</ANSWER>",
    ],
)
def test_format_malformed(completion):
    assert format_reward([completion]) == [0.0]


# --- registry -------------------------------------------------------------------------------


def test_get_reward_funcs():
    assert get_reward_funcs(["accuracy", "format"]) == [accuracy_reward, format_reward]
    assert get_reward_funcs("accuracy, format") == [accuracy_reward, format_reward]
    assert get_reward_funcs([]) == []
    assert REWARD_FUNCS["accuracy"] is accuracy_reward


def test_get_reward_funcs_names_the_bad_one_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"'acuracy'.*accuracy, format"):
        get_reward_funcs(["acuracy"])


# --- properties: nothing a model writes can raise or leave [0, 1] ---------------------------

TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
fragments = st.one_of(
    st.text(max_size=20),
    st.sampled_from(TAGS),
    st.sampled_from(["A", "b", "(C)", "D.", " or ", ", ", "->", " then ", "yes", "no", "three", "3", "-", "[", "]"]),
    st.from_regex(r"[-+]?\d{1,400}(\.\d{0,5})?", fullmatch=True),
)
completion_texts = st.lists(fragments, max_size=12).map("".join)

GROUND_TRUTH = {
    "multiple_choice": st.sampled_from(list("ABCD")),
    "number": st.integers(0, 30).map(str),
    "sequence": st.lists(st.sampled_from(["red", "blue", "push", "pop card"]), min_size=1, max_size=5).map(", ".join),
    "interval": st.tuples(st.floats(0, 60), st.floats(0, 30)).map(lambda t: f"[{t[0]:.2f}, {t[0] + t[1]:.2f}]"),
    "yes_no": st.sampled_from(["yes", "no"]),
}


@st.composite
def samples(draw):
    answer_type = draw(st.sampled_from(ANSWER_TYPES))
    return answer_type, draw(GROUND_TRUTH[answer_type])


completion_shapes = st.one_of(
    completion_texts,
    completion_texts.map(lambda t: [{"role": "assistant", "content": t}]),
    completion_texts.map(lambda t: [{"role": "assistant", "content": [{"type": "text", "text": t}]}]),
    st.none(),
    st.integers(),
    st.lists(st.one_of(st.none(), st.integers(), st.dictionaries(st.text(max_size=5), st.text(max_size=5)))),
)


def in_unit_interval(values):
    return all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in values)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(completion_shapes, samples()), max_size=8), st.sampled_from([None, 0.3, 0.5, 1.0]))
def test_rewards_never_raise_and_stay_in_unit_interval(batch, threshold):
    completions = [c for c, _ in batch]
    answer_types = [s[0] for _, s in batch]
    answers = [s[1] for _, s in batch]
    columns = {"answer_type": answer_types, "answer": answers, "options": [OPTIONS] * len(batch)}
    logged = []
    rewards = make_accuracy_reward(threshold)(completions, log_metric=lambda n, v: logged.append(v), **columns)
    assert len(rewards) == len(batch) and in_unit_interval(rewards)
    assert in_unit_interval(logged)
    formats = format_reward(completions)
    assert len(formats) == len(batch) and all(v in (0.0, 1.0) for v in formats)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), completion_texts), samples())
def test_scorers_are_total_on_any_predicted_text(predicted, sample):
    answer_type, answer = sample
    assert 0.0 <= score_answer(predicted, answer, answer_type, options=OPTIONS) <= 1.0
    assert 0.0 <= score_answer(predicted, answer, answer_type, interval_threshold=0.5) <= 1.0
    extract_answer(predicted)
    parse_number(predicted)
    parse_interval(predicted)


@given(st.text())
def test_junk_before_the_final_block_does_not_change_its_score(junk):
    # Junk before a well-formed final block cannot change its score (junk without "<" cannot form a tag).
    completion = junk.replace("<", "") + wrap("B")
    assert accuracy_reward([completion], answer=["B"], answer_type=["multiple_choice"]) == [1.0]


finite_times = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(finite_times, finite_times, finite_times, finite_times)
def test_temporal_iou_is_symmetric_and_bounded(a, b, c, d):
    x, y = (min(a, b), max(a, b)), (min(c, d), max(c, d))
    iou = temporal_iou(x, y)
    assert 0.0 <= iou <= 1.0
    assert iou == pytest.approx(temporal_iou(y, x))
    assert temporal_iou(x, x) == 1.0


@given(st.tuples(st.floats(), st.floats()), st.tuples(st.floats(), st.floats()))
def test_temporal_iou_total_on_any_floats(x, y):
    assert 0.0 <= temporal_iou(x, y) <= 1.0
