"""The video reasoning gym: samples generated while training, never repeated, at a difficulty that
follows the policy.

- ``frames``: a scene drawn only at the frames a :class:`~synrl_hf.frame_budget.FrameBudget` samples
  (no MP4 encode/decode), or through the codec for exact parity with a built dataset;
- ``sample``: one online row (a built row's fields, with the frames as its video);
- ``stream``: the endless ``datasets.IterableDataset``: positions, lanes (DataLoader workers), ranks,
  resumable positions, levels fixed by position;
- ``history`` and ``curriculum``: the versions of the levels, and the controller that moves each
  family's level to keep its GRPO groups' pass rate in a band;
- ``grpo``: the glue ``recipes/grpo.py`` uses (``online: true``); ``plot``: the curriculum PNG.

Difficulty levels are declared per family (``ladder``; :mod:`synrl_hf.difficulty`).
"""

from __future__ import annotations

from typing import Any

from ..frame_budget import DEFAULT_BUDGET, FrameBudget
from .curriculum import Curriculum, Outcome
from .frames import RenderedVideo, render_frames, rendered_frames, timeline_at
from .history import LevelHistory
from .sample import online_sample
from .stream import ONLINE_INDEX_OFFSET, ExecutorSource, FixedLevels, GroupSlice, LocalSource, OnlineStream, SampleSource, StreamSpec

__all__ = [
    "ONLINE_INDEX_OFFSET",
    "Curriculum",
    "ExecutorSource",
    "FixedLevels",
    "GroupSlice",
    "LevelHistory",
    "LocalSource",
    "OnlineStream",
    "Outcome",
    "RenderedVideo",
    "SampleSource",
    "StreamSpec",
    "online_dataset",
    "online_sample",
    "render_frames",
    "rendered_frames",
    "timeline_at",
]


def online_dataset(
    configs: str | list[str] = "all",
    *,
    levels: int | dict[str, int] | LevelHistory = 0,
    budget: FrameBudget = DEFAULT_BUDGET,
    start: dict[int, int] | None = None,
    **spec: Any,
):
    """An endless ``datasets.IterableDataset`` of online samples of ``configs`` (``all``, a category,
    family ids).

    ``levels``: one ladder level for every family, a level per family, or a :class:`LevelHistory`
    that a :class:`Curriculum` moves. ``start``: per lane, the block to start at (a saved position).
    ``spec``: the other :class:`StreamSpec` fields (``seed``, ``weights``, ``resolution``,
    ``renderer``, ``codec``, ``block_size``, ``lanes``, ``blocks_per_update``, ``lag``).
    """
    names = [configs] if isinstance(configs, str) else list(configs)
    stream_spec = StreamSpec.from_configs(names, budget=budget, **spec)
    if not isinstance(levels, LevelHistory):
        levels = FixedLevels(dict.fromkeys(stream_spec.families, levels) if isinstance(levels, int) else dict(levels))
    return OnlineStream(stream_spec, levels, dict(start or {})).dataset()
