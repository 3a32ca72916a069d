"""Rewards for GRPO on synrl data, with TRL's reward-function signature.

TRL calls each reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns,
trainer_state=..., log_extra=..., log_metric=...)``, where ``columns`` are the dataset's columns as
lists aligned with ``completions``. Both rewards here return one float in [0, 1] per completion.

Whatever the model writes, scoring a completion never raises: every parser below is total on
``str``, and completions that are not text are read as empty. Bad *data* (an unknown
``answer_type``, a missing or unparseable ground truth, a column of the wrong length) does raise
``ValueError``: silently scoring such rows 0 is how runs end with "accuracy stuck at 0".

The per-answer-type scorers (``score_multiple_choice``, ``score_number``, ...) take the text of the
final ``<answer>`` block and the canonical answer, so the CoT verifier and evaluation share them.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from synrl_hf.questions import ANSWER_TYPES

__all__ = [
    "REWARD_FUNCS",
    "accuracy_reward",
    "completion_text",
    "extract_answer",
    "format_reward",
    "get_reward_funcs",
    "make_accuracy_reward",
    "parse_interval",
    "parse_number",
    "score_answer",
    "score_interval",
    "score_multiple_choice",
    "score_number",
    "score_sequence",
    "score_yes_no",
    "temporal_iou",
]

ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


# --- reading a completion -------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The text the model generated, from a plain or a conversational completion.

    Only assistant turns count: a tool's output could otherwise smuggle an ``<answer>`` block in.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, (list, tuple)):
        return ""
    turns = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
    return "\n".join(_content_text(m.get("content")) for m in turns)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, (list, tuple)):
        return ""
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type", "text") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def extract_answer(text: str) -> str | None:
    """The stripped content of the last ``<answer>…</answer>`` block, or None.

    None when there is no closed block, when an ``<answer>`` is opened after the last close (the
    final answer was left unfinished, so an earlier one must not stand in for it), or when the last
    block is nested or has a stray tag: malformed output must not be read charitably.
    """
    if not isinstance(text, str):
        return None
    close = text.rfind(ANSWER_CLOSE)
    if close < 0 or ANSWER_OPEN in text[close:]:
        return None
    previous_close = text.rfind(ANSWER_CLOSE, 0, close)
    segment = text[previous_close + len(ANSWER_CLOSE) if previous_close >= 0 else 0 : close]
    if segment.count(ANSWER_OPEN) != 1:
        return None
    return segment.split(ANSWER_OPEN, 1)[1].strip()


def _normalize(text: str) -> str:
    """Lower case, single spaces, no trailing period: the differences no grader should care about."""
    text = " ".join(text.lower().split())
    return text[:-1].rstrip() if text.endswith(".") else text


_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def _unbracket(text: str) -> str:
    if len(text) >= 2 and _BRACKETS.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


# --- multiple choice ------------------------------------------------------------------------

# "B. 3 times", "(B) 3 times", "B: 3 times": a letter followed by an option's text.
_LETTER_WITH_TEXT = re.compile(r"\(?([a-z])[.):]\s+(.+)", re.DOTALL)


# One letter, optionally bracketed and followed by a period or colon: ``(B)``, ``[b]``, ``B.``, ``B:``.
_LETTER = re.compile(r"[(\[{]?\s*([a-z])\s*[)\]}]?\s*[.:]?")


def _choice_letter(text: str) -> str | None:
    """The upper-case letter in a one-letter answer; None for anything holding more than one letter."""
    match = _LETTER.fullmatch(_normalize(text))
    return match[1].upper() if match else None


def score_multiple_choice(predicted: str | None, answer: str, options: Sequence[str] | None = None) -> float:
    """1.0 for exactly the correct letter, or for the correct option's text (with or without its letter).

    "A or B", "A, B", "AB", an empty answer or a wrong option's text score 0: there is no
    substring matching, so hedging over several options can never be rewarded.
    """
    correct = _choice_letter(answer)
    if correct is None:
        raise ValueError(f"multiple_choice answer must be one letter, got {answer!r}")
    if predicted is None:
        return 0.0
    letter = _choice_letter(predicted)
    if letter is not None:
        return float(letter == correct)
    if not options:
        return 0.0
    correct_index = ord(correct) - ord("A")
    labelled = _LETTER_WITH_TEXT.fullmatch(_normalize(predicted))
    if labelled is not None:
        # A letter and an option text that disagree is a hedge, not an answer.
        letter_index = ord(labelled[1]) - ord("a")
        return float(letter_index == correct_index and _option_indices(labelled[2], options) == [correct_index])
    return float(_option_indices(predicted, options) == [correct_index])


def _option_indices(text: str, options: Sequence[str]) -> list[int]:
    text = _normalize(text)
    return [i for i, option in enumerate(options) if isinstance(option, str) and _normalize(option) == text]


# --- numbers --------------------------------------------------------------------------------

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"once": 1, "twice": 2, "thrice": 3}

# A number, optionally followed by one unit word ("3 times", "two rotations").
_NUMBER = re.compile(r"([-+]?(?:\d+(?:\.\d+)?|\.\d+)|[a-z]+)(?:\s+([a-z]+))?")

# Words that would turn "3 or 4" into an accepted "3 or", were they read as units.
_NOT_UNITS = frozenset({"or", "and", "to", "nor", "not", "plus", "minus"})


def parse_number(text: str) -> float | None:
    """The number in ``"3"``, ``"3.0"``, ``" three "``, ``"3 times"``; None for anything else."""
    match = _NUMBER.fullmatch(_normalize(text))
    if match is None or match[2] in _NOT_UNITS:
        return None
    token = match[1]
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    if token[-1].isdigit():
        # float(), not int(): int() of a few thousand digits raises ValueError; float() gives inf.
        value = float(token)
        return value if math.isfinite(value) else None
    return None


def score_number(predicted: str | None, answer: str) -> float:
    expected = parse_number(answer)
    if expected is None:
        raise ValueError(f"number answer must be a number, got {answer!r}")
    if predicted is None:
        return 0.0
    value = parse_number(predicted)
    return float(value is not None and math.isclose(value, expected, rel_tol=0.0, abs_tol=1e-9))


# --- sequences ------------------------------------------------------------------------------

_SEQUENCE_SEPARATOR = re.compile(r"\s*(?:,|->|=>|→|⟶|\bthen\b)\s*")


def _sequence_items(text: str) -> list[str]:
    # Empty pieces come from combined separators such as "a, then b".
    pieces = _SEQUENCE_SEPARATOR.split(_unbracket(_normalize(text)))
    return [piece for piece in pieces if piece]


def score_sequence(predicted: str | None, answer: str) -> float:
    """1.0 for the same items in the same order (comma, arrow or "then" separated; case-insensitive)."""
    expected = _sequence_items(answer)
    if not expected:
        raise ValueError(f"sequence answer is empty: {answer!r}")
    if predicted is None:
        return 0.0
    return float(_sequence_items(predicted) == expected)


# --- intervals ------------------------------------------------------------------------------

_SECONDS = r"(?:\s*(?:s|sec|secs|second|seconds))?"
_TIME = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+))" + _SECONDS
_INTERVAL = re.compile(r"(?:from\s+)?[\[(]?\s*" + _TIME + r"\s*(?:,|-|–|—|to|until)\s*" + _TIME + r"\s*[\])]?")


def parse_interval(text: str) -> tuple[float, float] | None:
    """``(start, end)`` from ``"[2, 6]"``, ``"2 - 6"``, ``"2s to 6s"``, ``"from 2 to 6 seconds"``.

    Returns the numbers as written, possibly reversed, negative or infinite; ``temporal_iou``
    decides what counts as an interval.
    """
    match = _INTERVAL.fullmatch(_normalize(text))
    if match is None:
        return None
    return float(match[1]), float(match[2])


def _is_valid_interval(interval: tuple[float, float]) -> bool:
    start, end = interval
    return math.isfinite(start) and math.isfinite(end) and 0.0 <= start <= end


def temporal_iou(predicted: tuple[float, float], truth: tuple[float, float]) -> float:
    """Intersection over union of two ``(start, end)`` intervals in seconds, in [0, 1].

    A reversed, negative or non-finite interval scores 0. Two identical instants score 1 so that a
    point-like ground truth can still be hit.
    """
    if not (_is_valid_interval(predicted) and _is_valid_interval(truth)):
        return 0.0
    if predicted == truth:
        return 1.0
    intersection = max(0.0, min(predicted[1], truth[1]) - max(predicted[0], truth[0]))
    union = (predicted[1] - predicted[0]) + (truth[1] - truth[0]) - intersection
    if union <= 0.0:
        return 0.0
    # Rounding can push the ratio a hair past 1.
    return min(1.0, intersection / union)


def score_interval(predicted: str | None, answer: str, threshold: float | None = None) -> float:
    """Temporal IoU with the answer; with ``threshold``, 1.0 when IoU >= threshold else 0.0."""
    _check_threshold(threshold)
    truth = parse_interval(answer)
    if truth is None or not _is_valid_interval(truth):
        raise ValueError(f"interval answer must be [start, end] seconds, got {answer!r}")
    if predicted is None:
        return 0.0
    interval = parse_interval(predicted)
    iou = 0.0 if interval is None else temporal_iou(interval, truth)
    if threshold is None:
        return iou
    return float(iou >= threshold)


def _check_threshold(threshold: float | None) -> None:
    # A threshold of 0 would pay 1.0 for every answer, including unparseable ones.
    if threshold is not None and not (isinstance(threshold, numbers.Real) and 0.0 < threshold <= 1.0):
        raise ValueError(f"interval_threshold must be in (0, 1], got {threshold!r}")


# --- yes / no -------------------------------------------------------------------------------


def _yes_no(text: str) -> str | None:
    text = _normalize(text).rstrip("!").rstrip()
    return text if text in ("yes", "no") else None


def score_yes_no(predicted: str | None, answer: str) -> float:
    expected = _yes_no(answer)
    if expected is None:
        raise ValueError(f"yes_no answer must be 'yes' or 'no', got {answer!r}")
    if predicted is None:
        return 0.0
    return float(_yes_no(predicted) == expected)


# --- dispatch -------------------------------------------------------------------------------


def score_answer(
    predicted: str | None,
    answer: str,
    answer_type: str,
    *,
    options: Sequence[str] | None = None,
    interval_threshold: float | None = None,
) -> float:
    """Score the text of a final answer block against the canonical answer of its ``answer_type``."""
    if answer_type == "multiple_choice":
        return score_multiple_choice(predicted, answer, options)
    if answer_type == "number":
        return score_number(predicted, answer)
    if answer_type == "sequence":
        return score_sequence(predicted, answer)
    if answer_type == "interval":
        return score_interval(predicted, answer, interval_threshold)
    if answer_type == "yes_no":
        return score_yes_no(predicted, answer)
    raise ValueError(f"unknown answer_type {answer_type!r}; valid: {', '.join(ANSWER_TYPES)}")


# --- TRL reward functions -------------------------------------------------------------------


def accuracy_reward(
    completions: Sequence[Any],
    *,
    interval_threshold: float | None = None,
    **kwargs: Any,
) -> list[float]:
    """Per-sample accuracy of the last ``<answer>`` block, dispatched on the ``answer_type`` column.

    Reads the columns ``answer_type``, ``answer`` (or ``solution`` where ``answer`` is missing),
    ``options`` and, for logging only, ``task``. When TRL passes ``log_metric`` (GRPOTrainer does),
    each sample's score is logged under ``accuracy/<answer_type>`` and ``accuracy/task/<task>``:
    one call per sample, because TRL averages the logged values over all calls on all processes,
    so the logged number is the accuracy over samples rather than a mean of per-batch means.
    """
    _check_threshold(interval_threshold)
    if "answer_type" not in kwargs:
        raise ValueError("accuracy_reward needs an 'answer_type' column")
    n = len(completions)
    answer_types = _column(kwargs, "answer_type", n)
    answers, solutions = _column(kwargs, "answer", n), _column(kwargs, "solution", n)
    options, tasks = _column(kwargs, "options", n), _column(kwargs, "task", n)

    scores = []
    for i, completion in enumerate(completions):
        truth = _ground_truth(answers[i], solutions[i], i)
        predicted = extract_answer(completion_text(completion))
        sample_options = list(options[i]) if options[i] is not None else None
        scores.append(score_answer(predicted, truth, answer_types[i], options=sample_options, interval_threshold=interval_threshold))
    _log_accuracy(kwargs.get("log_metric"), scores, answer_types, tasks)
    return scores


def make_accuracy_reward(interval_threshold: float | None = None) -> Callable[..., list[float]]:
    """``accuracy_reward`` with interval answers paid 1.0 at IoU >= ``interval_threshold``, else 0.0.

    A ``functools.partial`` keeps it picklable and named ``accuracy_reward`` in TRL's logs.
    """
    _check_threshold(interval_threshold)
    return functools.partial(accuracy_reward, interval_threshold=interval_threshold)


def _column(columns: dict[str, Any], name: str, n: int) -> list[Any]:
    values = columns.get(name)
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        # A misaligned column would score completions against another sample's answer.
        raise ValueError(f"column {name!r} has {len(values)} values for {n} completions")
    return values


def _ground_truth(answer: Any, solution: Any, index: int) -> str:
    if answer is not None:
        return str(answer)
    truth = extract_answer(solution) if isinstance(solution, str) else None
    if truth is None:
        raise ValueError(f"sample {index} has neither an 'answer' nor a '<answer>…</answer>' 'solution'")
    return truth


def _log_accuracy(
    log_metric: Callable[[str, float], None] | None,
    scores: Sequence[float],
    answer_types: Sequence[str],
    tasks: Sequence[Any],
) -> None:
    if not callable(log_metric):
        return
    for score, answer_type, task in zip(scores, answer_types, tasks):
        log_metric(f"accuracy/{answer_type}", score)
        if task is not None:
            log_metric(f"accuracy/task/{task}", score)


_FORMAT = re.compile(
    r"\s*" + THINK_OPEN + r"(.*?)" + THINK_CLOSE + r"\s*" + ANSWER_OPEN + r"(.*?)" + ANSWER_CLOSE + r"\s*",
    re.DOTALL,
)


def _is_well_formed(text: str) -> bool:
    if any(text.count(tag) != 1 for tag in (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)):
        return False
    match = _FORMAT.fullmatch(text)
    return match is not None and match[2].strip() != ""


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 for exactly ``<think>…</think><answer>…</answer>`` (whitespace around), a non-empty answer."""
    return [float(_is_well_formed(completion_text(c))) for c in completions]


# --- registry -------------------------------------------------------------------------------

REWARD_FUNCS: dict[str, Callable[..., list[float]]] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
}


def get_reward_funcs(names: str | Iterable[str]) -> list[Callable[..., list[float]]]:
    """Reward functions by name; a string is read as comma-separated names (``"accuracy,format"``)."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    funcs = []
    for name in names:
        if name not in REWARD_FUNCS:
            raise ValueError(f"unknown reward function {name!r}; valid: {', '.join(REWARD_FUNCS)}")
        funcs.append(REWARD_FUNCS[name])
    return funcs
