"""One vision-tower pass per distinct video: GRPO's copies of a prompt share one encoding.

GRPO repeats each prompt ``num_generations`` (G) times, so a batch of B sequences shows only B / G
distinct videos, and a Qwen-VL forward would encode each of them G times: in generation and in
every log-prob forward (loss, old policy, reference). Here a forward carries the pixels of each
distinct video once, with a *copy index* (for each video placeholder, in order, which distinct
video it shows). ``video_grid_thw`` and ``second_per_grid_ts`` keep one row per placeholder,
because M-RoPE positions are computed per sequence. Hooks on the vision tower run it on the
distinct videos only and index its outputs (the merged features, and Qwen3-VL's deepstack
features) out to every copy. The indexing is differentiable: backward sums the copies' gradients
into the one encoding, which is the gradient the per-copy path computes.

Hooks, rather than handing the model precomputed ``mm_encoder_outputs``: the tower still runs
inside the model's own forward (and inside ``generate``'s encoder call), so whatever wraps a forward
(DeepSpeed ZeRO-3 parameter gathering, FSDP, DDP, PEFT, activation checkpointing) sees nothing
unusual. The copy index only says which videos repeat; the caller keys videos by content
(:func:`synrl_hf.training.data.video_key`).

Copies only help if they meet in one forward chunk: :func:`grouped_permutation` shuffles a batch
while keeping the rows that share a video next to each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

import torch

__all__ = ["VisionDedupe", "grouped_permutation", "permute_batch", "video_model_kwargs"]


def video_model_kwargs(rows: Sequence[dict[str, Any]], *, dedupe: bool) -> tuple[dict[str, torch.Tensor], list[int] | None]:
    """The video kwargs of one forward over ``rows`` (per-sequence video entries), and its copy index.

    Each row is a dict with ``video_key`` and, when it has a video, ``pixel_values_videos``,
    ``video_grid_thw`` (one row) and optionally ``second_per_grid_ts``. ``pixel_values_videos``
    holds each distinct video once when ``dedupe`` (the copy index says which one each placeholder
    shows), else once per row (copy index ``None``).
    """
    with_video = [row for row in rows if row.get("pixel_values_videos") is not None]
    if not with_video:
        return {}, None
    kwargs = {"video_grid_thw": torch.cat([row["video_grid_thw"] for row in with_video])}
    if all(row.get("second_per_grid_ts") is not None for row in with_video):
        kwargs["second_per_grid_ts"] = torch.cat([row["second_per_grid_ts"] for row in with_video])
    if not dedupe:
        kwargs["pixel_values_videos"] = torch.cat([row["pixel_values_videos"] for row in with_video])
        return kwargs, None
    distinct: dict[str, int] = {}
    firsts: list[dict[str, Any]] = []
    copies = []
    for row in with_video:
        if row["video_key"] not in distinct:
            distinct[row["video_key"]] = len(firsts)
            firsts.append(row)
        copies.append(distinct[row["video_key"]])
    kwargs["pixel_values_videos"] = torch.cat([row["pixel_values_videos"] for row in firsts])
    return kwargs, copies


class VisionDedupe:
    """Hooks that make Qwen-VL vision towers encode each distinct video of a forward once.

    :meth:`attach` a model (and the reference model), then run each forward inside
    :meth:`copies` with the copy index from :func:`video_model_kwargs`. Outside :meth:`copies`
    (or with ``None``) the towers behave exactly as without the hooks.
    """

    def __init__(self) -> None:
        self.towers: list[torch.nn.Module] = []
        self._copies: list[int] | None = None
        self._rows: torch.Tensor | None = None  # merged-feature rows of each copy, for the output hook

    def attach(self, model: torch.nn.Module) -> int:
        """Hook every vision tower in ``model`` (a module with ``get_video_features`` and a ``visual`` tower); returns how many."""
        found = 0
        for module in model.modules():
            tower = getattr(module, "visual", None)
            if not hasattr(module, "get_video_features") or not isinstance(tower, torch.nn.Module):
                continue
            found += 1
            if any(tower is known for known in self.towers):
                continue
            self.towers.append(tower)
            tower.register_forward_pre_hook(self._before, with_kwargs=True)
            tower.register_forward_hook(self._after, with_kwargs=True)
        return found

    @contextmanager
    def copies(self, index: list[int] | None) -> Iterator[None]:
        """Forwards inside see distinct videos, placeholder ``i`` showing distinct video ``index[i]``."""
        previous, self._copies = self._copies, index
        try:
            yield
        finally:
            self._copies, self._rows = previous, None

    def _before(self, tower, args, kwargs):
        if self._copies is None:
            return None
        grid = kwargs["grid_thw"] if "grid_thw" in kwargs else args[1]
        pixels = args[0] if args else kwargs["hidden_states"]
        if grid.shape[0] != len(self._copies):
            raise RuntimeError(f"{grid.shape[0]} video grids for a copy index of {len(self._copies)} placeholders")
        firsts = [self._copies.index(u) for u in range(max(self._copies) + 1)]
        distinct = grid[firsts]
        if int(distinct.prod(-1).sum()) != pixels.shape[0]:
            raise RuntimeError(f"{pixels.shape[0]} patch rows for distinct videos of {int(distinct.prod(-1).sum())} patches")
        merged = (distinct.prod(-1) // tower.spatial_merge_size**2).tolist()
        starts = [0, *accumulate(merged)]
        self._rows = torch.cat([torch.arange(starts[u], starts[u] + merged[u]) for u in self._copies]).to(pixels.device)
        if "grid_thw" in kwargs:
            return args, {**kwargs, "grid_thw": distinct}
        return (args[0], distinct, *args[2:]), kwargs

    def _after(self, tower, args, kwargs, output):
        if self._rows is None:
            return None
        rows, self._rows = self._rows, None
        output.pooler_output = output.pooler_output.index_select(0, rows)
        if getattr(output, "deepstack_features", None) is not None:  # Qwen3-VL: features of intermediate layers
            output.deepstack_features = [feature.index_select(0, rows) for feature in output.deepstack_features]
        # last_hidden_state (pre-merge patch states, which no forward reads) stays per distinct video.
        return output


def grouped_permutation(keys: Sequence[Any]) -> torch.Tensor:
    """A random order of ``range(len(keys))`` in which equal keys stay next to each other.

    Groups (rows with the same key; ``None`` keys are each their own group) are shuffled with
    ``torch.randperm``; rows keep their order inside a group.
    """
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key if key is not None else ("row", i), []).append(i)
    members = list(groups.values())
    return torch.tensor([i for g in torch.randperm(len(members)).tolist() for i in members[g]], dtype=torch.long)


def permute_batch(batch: dict[str, Any], order: torch.Tensor) -> dict[str, Any]:
    """Every per-row value of ``batch`` (tensors with a batch dimension, lists) in ``order``; scalars as they are."""

    def permute(value):
        if value is None or (isinstance(value, torch.Tensor) and value.ndim == 0):
            return value
        if isinstance(value, torch.Tensor):
            return value[order.to(value.device)]
        return [value[i] for i in order.tolist()]

    return {key: permute(value) for key, value in batch.items()}
