"""Helpers that turn a family's answer into a question row: options, letters, answer strings.

Balance is built in here, once: the correct option's letter is drawn uniformly, numeric options are
placed so that the correct value is equally often the smallest, a middle or the largest, and every
option list is checked to hold exactly one correct, distinct entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .answers import ANSWER_TYPES, LETTERS


@dataclass
class Question:
    text: str  # without the option lines
    answer: str
    answer_type: str
    primitive: str
    kind: str  # which question program asked it, e.g. "count", "when", "forward"
    options: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.answer_type not in ANSWER_TYPES:
            raise ValueError(f"unknown answer_type {self.answer_type!r}; valid: {', '.join(ANSWER_TYPES)}")

    @property
    def full_text(self) -> str:
        """The question as the model reads it, options included."""
        if not self.options:
            return self.text
        lines = [f"{LETTERS[i]}. {opt}" for i, opt in enumerate(self.options)]
        return self.text + "\n" + "\n".join(lines)


def pick(rng: np.random.Generator, items: Sequence):
    return items[int(rng.integers(len(items)))]


def multiple_choice(
    rng: np.random.Generator,
    text: str,
    correct: str,
    distractors: Sequence[str],
    *,
    primitive: str,
    kind: str,
    num_options: int = 4,
) -> Question:
    """Shuffle ``correct`` among ``num_options - 1`` distractors; the correct letter is uniform."""
    pool = list(dict.fromkeys(d for d in distractors if d != correct))
    if len(pool) < num_options - 1:
        raise ValueError(f"need {num_options - 1} distinct distractors for {correct!r}, got {pool}")
    chosen = [pool[i] for i in rng.choice(len(pool), size=num_options - 1, replace=False)]
    rng.shuffle(chosen)
    position = int(rng.integers(num_options))
    options = chosen[:position] + [correct] + chosen[position:]
    return Question(text, LETTERS[position], "multiple_choice", primitive, kind, options)


def draw_numeric_layout(rng: np.random.Generator, lowest: tuple[int, int], num_options: int = 4) -> tuple[int, int]:
    """Answer-first layout for a numeric multiple choice: (correct value, its rank among the options).

    The lowest option is drawn uniformly from ``lowest`` and the rank uniformly, and only then the
    correct value = lowest option + rank. Seeing the options therefore says nothing about which
    one is correct (drawing the value first and placing options around it leaks the rank at the
    ends of the range).
    """
    first = int(rng.integers(lowest[0], lowest[1] + 1))
    rank = int(rng.integers(num_options))
    return first + rank, rank


def numeric_choice(
    text: str,
    correct: int,
    rank: int,
    *,
    primitive: str,
    kind: str,
    num_options: int = 4,
    unit: str = "",
) -> Question:
    """Consecutive integers in increasing order with ``correct`` at ``rank`` (see draw_numeric_layout)."""
    values = [correct - rank + i for i in range(num_options)]
    if values[0] < 0:
        raise ValueError(f"options {values} go below zero; draw the layout with draw_numeric_layout")
    options = [f"{v}{unit}" for v in values]
    return Question(text, LETTERS[rank], "multiple_choice", primitive, kind, options)


def number(text: str, value: int, *, primitive: str, kind: str) -> Question:
    return Question(text, str(int(value)), "number", primitive, kind)


def sequence(text: str, items: Sequence[str], *, primitive: str, kind: str) -> Question:
    return Question(text, ", ".join(items), "sequence", primitive, kind)


def yes_no(text: str, value: bool, *, primitive: str, kind: str) -> Question:
    return Question(text, "yes" if value else "no", "yes_no", primitive, kind)


def interval(text: str, start: float, end: float, *, kind: str = "when") -> Question:
    """A grounding question: the answer is ``[start, end]`` in seconds."""
    if end < start:
        raise ValueError(f"interval end {end} is before start {start}")
    return Question(text, format_interval(start, end), "interval", "grounding", kind)


def format_interval(start: float, end: float) -> str:
    return f"[{start:.2f}, {end:.2f}]"


ANSWER_INSTRUCTIONS = {
    "multiple_choice": "Answer with the option's letter.",
    "number": "Answer with a single integer.",
    "sequence": "Answer with the items in order, separated by commas.",
    "interval": "Answer with the start and end time in seconds as [start, end].",
    "yes_no": "Answer yes or no.",
}

REASONING_INSTRUCTION = (
    "Think about the video step by step inside <think> </think> tags, then give the final answer inside <answer> </answer> tags."
)


def prompt_text(question: Question) -> str:
    return f"{question.full_text}\n{ANSWER_INSTRUCTIONS[question.answer_type]} {REASONING_INSTRUCTION}"


ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth")


def ordinal(n: int) -> str:
    """1 -> "first" ... 12 -> "twelfth"; beyond, "13th", "21st", "22nd"."""
    if 1 <= n <= len(ORDINAL_WORDS):
        return ORDINAL_WORDS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
