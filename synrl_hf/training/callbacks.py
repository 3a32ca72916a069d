"""Logging for synrl runs: rewards per answer type and task family, and a JSONL log of every step.

TRL's GRPOTrainer already logs the mean/std of each reward function, completion lengths
(``completions/mean_length`` …, ``clipped_ratio``) and, with ``log_completions: true``, writes
sample completions to ``<output_dir>/completions/*.parquet`` (we add the row's ``task``,
``answer_type`` and ``answer`` columns there). What it cannot know is which *kind* of sample a
reward came from: :class:`GroupedReward` adds ``rewards/<func>/<column>/<value>`` metrics, so an
accuracy stuck at 0 on, say, ``interval`` answers or on one task family shows up on its own.
:class:`FrameBudgetCallback` records the frame budget in every saved checkpoint folder.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..frame_budget import FrameBudget

__all__ = ["FrameBudgetCallback", "GroupedReward", "JsonlLogCallback", "group_metrics"]

GROUP_COLUMNS = ("answer_type", "task")


def group_metrics(
    name: str, rewards: Sequence[float | None], columns: dict[str, Sequence[Any]], log_metric: Callable[[str, float], None]
) -> None:
    """Log each reward under ``rewards/<name>/<column>/<value>`` (one call per sample: TRL averages calls)."""
    for column, values in columns.items():
        if values is None:
            continue
        for value, reward in zip(values, rewards):
            if reward is None or (isinstance(reward, float) and math.isnan(reward)) or value is None:
                continue
            log_metric(f"rewards/{name}/{column}/{value}", float(reward))


class GroupedReward:
    """Wrap a TRL reward function so its rewards are also logged per answer type and task family.

    Keeps the wrapped function's ``__name__`` (TRL's metric name) and picklability.
    """

    def __init__(self, func: Callable[..., list], columns: Sequence[str] = GROUP_COLUMNS):
        self.func = func
        self.columns = tuple(columns)
        self.__name__ = getattr(func, "__name__", None) or getattr(getattr(func, "func", None), "__name__", type(func).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> list:
        rewards = self.func(*args, **kwargs)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            group_metrics(self.__name__, rewards, {c: kwargs.get(c) for c in self.columns}, log_metric)
        return rewards

    def __repr__(self) -> str:
        return f"GroupedReward({self.func!r})"


class JsonlLogCallback(TrainerCallback):
    """Append every ``logs`` dict (with ``step``) to ``<output_dir>/synrl_logs.jsonl`` on the main process.

    Works with ``report_to: none`` and on machines without a network; one line per log event.
    """

    def __init__(self, filename: str = "synrl_logs.jsonl"):
        self.filename = filename

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        os.makedirs(args.output_dir, exist_ok=True)
        record = {"step": state.global_step, **{k: _plain(v) for k, v in logs.items()}}
        with open(os.path.join(args.output_dir, self.filename), "a") as handle:
            handle.write(json.dumps(record) + "\n")


class FrameBudgetCallback(TrainerCallback):
    """Write the run's frame budget into every ``checkpoint-<step>`` folder the trainer saves, so an
    intermediate checkpoint is evaluated on the frames it was trained on (the final folder gets it
    from :func:`synrl_hf.training.run.record_run`)."""

    def __init__(self, budget: FrameBudget):
        self.budget = budget

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.budget.save(os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
