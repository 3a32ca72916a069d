"""Offline fixtures for training tests and the GPU check: tiny synrl datasets in the Hub layout.

``write_dataset(folder, {"sft": rows, "grpo": rows})`` writes parquet shards (MP4 bytes embedded)
and a README whose YAML lists each config, so ``load_dataset(folder, "sft")`` works like it does on
a built or downloaded synrl folder. Rows come from :func:`synrl_hf.sample.generate_sample`;
:func:`sft_row` adds the SFT columns (``messages``, ``cot``) the way the ``sft`` config does.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["general_row", "grpo_rows", "sft_row", "sft_rows", "write_dataset"]

TINY_RESOLUTION = 64


def sft_row(row: dict[str, Any], cot: str | None = None) -> dict[str, Any]:
    """A base row plus ``cot`` and ``messages``: the user turn of ``prompt`` and a CoT assistant turn."""
    if cot is None:
        cot = f"I watch the video from start to end and track what changes over time. The answer is {row['answer']}."
    assistant = f"<think>{cot}</think><answer>{row['answer']}</answer>"
    user = [m for m in row["prompt"] if m["role"] == "user"][:1]
    messages = [*user, {"role": "assistant", "content": [{"type": "text", "text": assistant}]}]
    return {**row, "cot": cot, "messages": messages}


def general_row(row: dict[str, Any], question: str = "What is shown in the video?", answer: str = "Shapes moving.") -> dict[str, Any]:
    """A stand-in for a general-video QA row: same layout, answer-only assistant turn, no CoT."""
    user = {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": question}]}
    assistant = {"role": "assistant", "content": [{"type": "text", "text": answer}]}
    return {**row, "category": "general", "task": "general", "cot": "", "messages": [user, assistant]}


def _rows(families: Iterable[str] | None, count: int, seed: int, split: str, resolution: int, preset: str) -> list[dict]:
    from ..families import families_in
    from ..sample import iter_samples

    chosen = list(families) if families is not None else families_in("short_term")[:1]  # any family will do
    return list(iter_samples(chosen, count, seed, split, preset=preset, resolution=resolution))


def sft_rows(
    count: int = 2, families: Iterable[str] | None = None, *, seed: int = 1, resolution: int = TINY_RESOLUTION, general: int = 0
) -> list[dict]:
    rows = [sft_row(r) for r in _rows(families, count, seed, "train", resolution, "round1")]
    rows += [general_row(r) for r in _rows(families, general, seed + 1000, "train", resolution, "round1")]
    return rows


def grpo_rows(
    count: int = 2, families: Iterable[str] | None = None, *, seed: int = 2, resolution: int = TINY_RESOLUTION, preset: str = "round1"
) -> list[dict]:
    return _rows(families, count, seed, "train", resolution, preset)


def _features(rows: list[dict]):
    from datasets import Json, Value

    from ..features import SAMPLE_FEATURES

    features = SAMPLE_FEATURES.copy()
    if any("messages" in r for r in rows):
        features["messages"] = Json()
        features["cot"] = Value("string")
    return features


def write_dataset(folder: str | os.PathLike, configs: dict[str, list[dict] | dict[str, list[dict]]]) -> Path:
    """Write ``{config: rows}`` (or ``{config: {split: rows}}``) as a dataset folder in the Hub layout.

    Shard names carry a content hash so ``load_dataset``'s cache never serves an older build.
    """
    import pyarrow.parquet as pq
    from datasets import Dataset
    from datasets.table import embed_table_storage

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    card_configs = []
    for name, splits in configs.items():
        if isinstance(splits, list):
            splits = {"train": splits}
        data_files = []
        for split, rows in splits.items():
            table = embed_table_storage(Dataset.from_list(rows, features=_features(rows)).data.table)
            (out / name).mkdir(exist_ok=True)
            tmp = out / name / f".{split}.parquet.tmp"
            pq.write_table(table, tmp)
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:10]
            relpath = f"{name}/{split}-{digest}.parquet"
            os.replace(tmp, out / relpath)
            data_files.append({"split": split, "path": relpath})
        card_configs.append({"config_name": name, "data_files": data_files})
    yaml_lines = ["---", "configs:"]
    for config in card_configs:
        yaml_lines.append(f"- config_name: {config['config_name']}")
        yaml_lines.append("  data_files:")
        for entry in config["data_files"]:
            yaml_lines.append(f"  - split: {entry['split']}")
            yaml_lines.append(f"    path: {json.dumps(entry['path'])}")
    yaml_lines += ["---", "", "Tiny synrl fixture for tests.", ""]
    (out / "README.md").write_text("\n".join(yaml_lines))
    return out
