"""The dataset folder's layout (synrl_hf.dataset_dir): config files, atomic writes, fingerprints,
shard integrity, and that it sits below build, card, audit and publish (no import circle)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synrl_hf.dataset_dir import (
    MANIFEST,
    atomic_write_bytes,
    config_files,
    file_sha256,
    manifest_fingerprint,
    read_manifest,
    shard_is_intact,
    shard_path,
    write_manifest,
)

ROOT = Path(__file__).resolve().parents[1]


def _entry(family: str, split: str, sha: str = "0" * 64) -> dict:
    return {"family": family, "split": split, "rows": 1, "bytes": 1, "sha256": sha}


def test_config_files_group_families_and_keep_other_configs_apart():
    manifest = {
        "shards": {
            shard_path("direction", "train", 0, 1, "a" * 64): _entry("direction", "train"),
            shard_path("direction", "test", 0, 1, "b" * 64): _entry("direction", "test"),
            shard_path("card_stack", "train", 0, 1, "c" * 64): _entry("card_stack", "train"),
            shard_path("sft", "train", 0, 1, "d" * 64): _entry("sft", "train"),
            shard_path("grpo", "train", 0, 1, "e" * 64): _entry("grpo", "train"),
        }
    }
    configs = config_files(manifest)
    assert list(configs) == ["all", "short_term", "long_term", "direction", "card_stack", "grpo", "sft"]
    assert configs["all"]["train"] == [shard_path("direction", "train", 0, 1, "a" * 64), shard_path("card_stack", "train", 0, 1, "c" * 64)]
    assert set(configs["short_term"]) == {"train", "test"} and set(configs["long_term"]) == {"train"}
    assert configs["sft"] == {"train": [shard_path("sft", "train", 0, 1, "d" * 64)]}  # a mixture is never part of "all"
    assert shard_path("sft", "train", 0, 200, "0123456789abcdef") == "data/sft/train-000000-000200-0123456789.parquet"


def test_manifest_round_trip_fingerprint_and_shard_integrity(tmp_path):
    assert read_manifest(tmp_path / MANIFEST)["shards"] == {}
    shard = tmp_path / "data" / "x" / "train.parquet"
    atomic_write_bytes(shard, b"rows")
    entry = {**_entry("x", "train", file_sha256(shard)), "bytes": 4}
    manifest = {"generator_version": "1", "shards": {"data/x/train.parquet": entry, "data/y/train.parquet": _entry("y", "train", "f" * 64)}}
    write_manifest(tmp_path / MANIFEST, manifest)
    assert read_manifest(tmp_path / MANIFEST) == manifest
    reordered = {"shards": dict(reversed(list(manifest["shards"].items())))}
    assert manifest_fingerprint(reordered) == manifest_fingerprint(manifest)
    assert shard_is_intact(tmp_path, "data/x/train.parquet", entry)
    shard.write_bytes(b"ROWS")  # same size, other bytes
    assert not shard_is_intact(tmp_path, "data/x/train.parquet", entry)
    assert not shard_is_intact(tmp_path, "data/x/missing.parquet", entry)
    assert manifest_fingerprint({"shards": {"a": {"sha256": "1"}}}) != manifest_fingerprint(manifest)


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "README.md"
    atomic_write_bytes(target, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # fails while writing the temp file
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["README.md"]


def test_the_layout_module_is_below_build_card_audit_and_publish():
    """Importing a module loads only what lies below it: no circle build ↔ card ↔ audit."""
    code = (
        "import json, sys\n"
        "import synrl_hf.dataset_dir, synrl_hf.card\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('synrl_hf.'))))\n"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert not {m for m in loaded if m.split(".")[1] in ("build", "audit", "publish", "mixtures", "cli")}, loaded
