"""The answer grammar: how a final answer is written, read and scored, for every answer type.

A completion is ``<think>…</think><answer>…</answer>``; the content of the last ``<answer>`` block
is the final answer. Each answer type (``multiple_choice``, ``number``, ``sequence``, ``interval``,
``yes_no``) has one parser and one scorer here, taking the text of that block and the canonical
answer; the GRPO rewards, the CoT verifier, synrl_bench and the Space all score through them, so a
model is judged the same way in training, data checks, evaluation and the demo.

Whatever the model writes, reading it never raises: every parser is total on ``str`` (and reads
anything else as nothing). Bad *data* (an unknown ``answer_type``, a canonical answer its type
cannot parse) raises ``ValueError``: scoring such rows 0 would hide the bug.
"""

from __future__ import annotations

import math
import numbers
import re
import string
from collections.abc import Sequence

__all__ = [
    "ANSWER_CLOSE",
    "ANSWER_OPEN",
    "ANSWER_TYPES",
    "INTERVAL_PASS_IOU",
    "LETTERS",
    "Span",
    "THINK_CLOSE",
    "THINK_OPEN",
    "check_iou_threshold",
    "extract_answer",
    "is_well_formed",
    "parse_interval",
    "parse_number",
    "score_answer",
    "score_interval",
    "score_multiple_choice",
    "score_number",
    "score_sequence",
    "score_yes_no",
    "span_overlap",
    "temporal_iou",
]

ANSWER_TYPES = ("multiple_choice", "number", "sequence", "interval", "yes_no")

# Option letters, in order: the first option is "A". Questions, prompts and parsers all letter
# options with this alphabet.
LETTERS = string.ascii_uppercase

ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

# Where a yes/no verdict on an interval answer is wanted (synrl_bench, the Space), it is right at
# this temporal IoU or more.
INTERVAL_PASS_IOU = 0.5


# --- the completion's shape -----------------------------------------------------------------


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


_FORMAT = re.compile(
    r"\s*" + THINK_OPEN + r"(.*?)" + THINK_CLOSE + r"\s*" + ANSWER_OPEN + r"(.*?)" + ANSWER_CLOSE + r"\s*",
    re.DOTALL,
)


def is_well_formed(text: str) -> bool:
    """Exactly ``<think>…</think><answer>…</answer>`` (whitespace around), each tag once, a non-empty answer."""
    if not isinstance(text, str):
        return False
    if any(text.count(tag) != 1 for tag in (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)):
        return False
    match = _FORMAT.fullmatch(text)
    return match is not None and match[2].strip() != ""


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
    correct_index = LETTERS.index(correct)
    labelled = _LETTER_WITH_TEXT.fullmatch(_normalize(predicted))
    if labelled is not None:
        # A letter and an option text that disagree is a hedge, not an answer.
        letter_index = LETTERS.index(labelled[1].upper())
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

Span = Sequence[float]  # (start, end) in seconds


def parse_interval(text: str) -> tuple[float, float] | None:
    """``(start, end)`` from ``"[2, 6]"``, ``"2 - 6"``, ``"2s to 6s"``, ``"from 2 to 6 seconds"``.

    Returns the numbers as written, possibly reversed, negative or infinite; ``temporal_iou``
    decides what counts as an interval.
    """
    match = _INTERVAL.fullmatch(_normalize(text))
    if match is None:
        return None
    return float(match[1]), float(match[2])


def _is_valid_interval(interval: Span) -> bool:
    start, end = interval
    return math.isfinite(start) and math.isfinite(end) and 0.0 <= start <= end


def span_overlap(a: Span, b: Span) -> float:
    """Seconds two ``(start, end)`` spans share; 0 when they are disjoint or only touch."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def temporal_iou(predicted: Span, truth: Span) -> float:
    """Intersection over union of two ``(start, end)`` intervals in seconds, in [0, 1].

    A reversed, negative or non-finite interval scores 0. Two identical instants score 1 so that a
    point-like ground truth can still be hit. The union is the span from the earlier start to the
    later end (the intersection is 0 where that hull holds a gap), as NExT-GQA's official tIoU
    computes it; rounding then can never push the ratio past 1.
    """
    if not (_is_valid_interval(predicted) and _is_valid_interval(truth)):
        return 0.0
    hull = max(predicted[1], truth[1]) - min(predicted[0], truth[0])
    # An empty hull means both are the same instant.
    return span_overlap(predicted, truth) / hull if hull > 0.0 else 1.0


def check_iou_threshold(threshold: float | None) -> None:
    """Reject an IoU threshold outside (0, 1]; None means "pay the IoU itself"."""
    # A threshold of 0 would pay 1.0 for every answer, including unparseable ones.
    if threshold is not None and not (isinstance(threshold, numbers.Real) and 0.0 < threshold <= 1.0):
        raise ValueError(f"interval_threshold must be in (0, 1], got {threshold!r}")


def score_interval(predicted: str | None, answer: str, threshold: float | None = None) -> float:
    """Temporal IoU with the answer; with ``threshold``, 1.0 when IoU >= threshold else 0.0."""
    check_iou_threshold(threshold)
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
