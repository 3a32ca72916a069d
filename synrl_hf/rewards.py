"""Rewards for GRPO on synrl data: TRL reward functions over the answer grammar (:mod:`synrl_hf.answers`).

TRL calls each reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns,
trainer_state=..., log_extra=..., log_metric=...)``, where ``columns`` are the dataset's columns as
lists aligned with ``completions``. Both rewards here return one float in [0, 1] per completion.

Whatever the model writes, scoring a completion never raises: the grammar's parsers are total on
``str``, and completions that are not text are read as empty. Bad *data* (an unknown
``answer_type``, a missing or unparseable ground truth, a column of the wrong length) does raise
``ValueError``: silently scoring such rows 0 is how runs end with "accuracy stuck at 0".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .answers import check_iou_threshold, extract_answer, is_well_formed, score_answer

__all__ = [
    "REWARD_FUNCS",
    "accuracy_reward",
    "completion_text",
    "format_reward",
    "get_reward_funcs",
    "make_accuracy_reward",
]


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
    check_iou_threshold(interval_threshold)
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
    check_iou_threshold(interval_threshold)
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


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 for exactly ``<think>…</think><answer>…</answer>`` (whitespace around), a non-empty answer."""
    return [float(is_well_formed(completion_text(c))) for c in completions]


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
