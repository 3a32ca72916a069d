"""Offline fixtures for training tests and the GPU check: tiny synrl datasets in the Hub layout.

``write_dataset(folder, {"sft": rows, "grpo": rows})`` writes the rows as a dataset folder exactly
as ``synrl build`` lays one out (:mod:`synrl_hf.dataset_dir`: parquet shards with the MP4 bytes
embedded, a manifest, a card whose YAML lists each config), so ``load_dataset(folder, "sft")`` works
like it does on a built or downloaded synrl folder. Rows come from
:func:`synrl_hf.sample.generate_sample`; SFT rows get their columns from
:func:`synrl_hf.mixtures.sft_row`, as the ``sft`` config does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..build import Chunk, spec_hash, write_shard
from ..card import write_card
from ..dataset_dir import MANIFEST, read_manifest, write_manifest
from ..mixtures import sft_features, sft_row

__all__ = ["answer_only_completion", "general_row", "grpo_rows", "sft_rows", "write_dataset"]

TINY_RESOLUTION = 64
FIXTURE_SOURCE = "fixture"  # the cot_source of fixture rows


def fixture_completion(row: dict[str, Any]) -> str:
    """A short CoT completion ending in the row's answer (fixtures need the format, not real reasoning)."""
    return f"<think>I watch the video from start to end and track what changes over time. The answer is {row['answer']}.</think><answer>{row['answer']}</answer>"


def answer_only_completion(row: dict[str, Any]) -> str:
    """Just the answer block: the shortest completion the accuracy reward pays. A tiny random model
    learns to emit it in a few dozen SFT steps, so GRPO after that SFT gets rewards that vary."""
    return f"<answer>{row['answer']}</answer>"


def general_row(row: dict[str, Any], question: str = "What is shown in the video?", answer: str = "Shapes moving.") -> dict[str, Any]:
    """A stand-in for a general-video QA row: same layout, answer-only assistant turn, no CoT."""
    user = {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": question}]}
    assistant = {"role": "assistant", "content": [{"type": "text", "text": answer}]}
    return {**row, "category": "general", "task": "general", "cot": "", "cot_source": "none", "messages": [user, assistant]}


def _rows(families: Iterable[str] | None, count: int, seed: int, split: str, resolution: int, preset: str) -> list[dict]:
    from ..families import families_in
    from ..sample import iter_samples

    chosen = list(families) if families is not None else families_in("short_term")[:1]  # any family will do
    return list(iter_samples(chosen, count, seed, split, preset=preset, resolution=resolution))


def sft_rows(
    count: int = 2,
    families: Iterable[str] | None = None,
    *,
    seed: int = 1,
    resolution: int = TINY_RESOLUTION,
    general: int = 0,
    completion: Callable[[dict[str, Any]], str] = fixture_completion,
) -> list[dict]:
    rows = [sft_row(r, completion(r), FIXTURE_SOURCE) for r in _rows(families, count, seed, "train", resolution, "round1")]
    rows += [general_row(r) for r in _rows(families, general, seed + 1000, "train", resolution, "round1")]
    return rows


def grpo_rows(
    count: int = 2, families: Iterable[str] | None = None, *, seed: int = 2, resolution: int = TINY_RESOLUTION, preset: str = "round1"
) -> list[dict]:
    return _rows(families, count, seed, "train", resolution, preset)


def write_dataset(folder: str | os.PathLike, configs: dict[str, list[dict] | dict[str, list[dict]]]) -> Path:
    """Write ``{config: rows}`` (or ``{config: {split: rows}}``) as a dataset folder in the build's layout.

    Rows with ``messages`` get the ``sft`` schema. Shard names carry a content hash, so
    ``load_dataset``'s cache never serves an older fixture.
    """
    out = Path(folder)
    manifest = read_manifest(out / MANIFEST)
    for name, splits in configs.items():
        spec = {"config": name, "fixture": True}
        for split, rows in ({"train": splits} if isinstance(splits, list) else splits).items():
            features = sft_features() if any("messages" in r for r in rows) else None
            relpath, entry = write_shard(out, Chunk(name, split, 0, len(rows), spec_hash(spec)), rows, features)
            manifest["shards"][relpath] = {**entry, "spec": spec}
    write_manifest(out / MANIFEST, manifest)
    write_card(out, manifest)
    return out
