"""Generate on the fly as a ``datasets.IterableDataset``: no files on disk, same rows as a build."""

from __future__ import annotations

from typing import Any

from .build import resolve_configs
from .seeding import check_split


def _rows(families: tuple[str, ...], starts: list[int], step: int, stop: int | None, seed: int, split: str, options: dict[str, Any]):
    from .sample import iter_samples

    # Shard k generates indices k, k + step, k + 2·step, …; datasets hands each worker its starts.
    for start in starts:
        index = start
        while stop is None or index < stop:
            yield from iter_samples(list(families), 1, seed, split, start=index, **options)
            index += step


def streaming_dataset(
    config: str = "short_term",
    split: str = "train",
    *,
    per_task: int | None = None,
    seed: int = 0,
    num_shards: int = 1,
    **options: Any,
):
    """An ``IterableDataset`` of ``config`` rows, generated as they are read.

    ``per_task=None`` never ends (shuffle buffers and ``take`` work as usual). ``num_shards > 1``
    lets ``DataLoader(num_workers=…)`` or ``split_dataset_by_node`` generate in parallel; the rows
    are the same as ``synrl build`` makes with the same seed, interleaved by index. ``options`` go to
    ``generate_sample`` (``preset``, ``params``, ``resolution``, ``renderer``).
    """
    from datasets import IterableDataset

    from .features import SAMPLE_FEATURES

    families = tuple(resolve_configs([config]))
    check_split(split)
    if per_task is not None and per_task < 0:
        raise ValueError(f"per_task must be >= 0 or None, got {per_task}")
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    return IterableDataset.from_generator(
        _rows,
        features=SAMPLE_FEATURES,
        # A list in gen_kwargs is split across shards (datasets' rule); everything else is a tuple.
        gen_kwargs={
            "families": families,
            "starts": list(range(num_shards)),
            "step": num_shards,
            "stop": per_task,
            "seed": seed,
            "split": split,
            "options": options,
        },
    )
