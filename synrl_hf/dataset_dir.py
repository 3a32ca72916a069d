"""The layout of a dataset folder, in one place: what ``synrl build`` writes and everything else reads.

::

    README.md                     dataset card; its YAML lists every config's exact shard files
    synrl_manifest.json           what each shard holds: {"generator_version", "shards": {relpath: entry}}
    data/<config>/<split>-<start>-<stop>-<sha>.parquet
    previews/<family>.png         the card's preview strips
    audit/report.{json,md}        what `synrl audit` found, for the build of the shard hashes it names

A shard entry records its ``family`` (a task family, or a config of its own such as the training
mixtures), ``split``, ``rows``, ``bytes`` and ``sha256``. The build writes the folder
(:mod:`synrl_hf.build`), the card renders its README (:mod:`synrl_hf.card`), the audit reads it
(:mod:`synrl_hf.audit`), ``synrl push`` uploads it (:mod:`synrl_hf.publish`); none of them needs
another to know the layout. Every file is written atomically (temp name, then rename:
:mod:`synrl_hf.files`), so a killed process never leaves a half-written manifest, card or report, and
whoever writes the folder holds its lock (:mod:`synrl_hf.folder_lock`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .families import CATEGORIES, FAMILIES, families_in
from .files import atomic_write_bytes, read_json
from .seeding import SPLITS
from .version import GENERATOR_VERSION

__all__ = [
    "AUDIT_REPORT",
    "MANIFEST",
    "PARTIAL_MANIFEST",
    "atomic_write_bytes",
    "config_files",
    "file_sha256",
    "manifest_fingerprint",
    "read_audit_report",
    "read_manifest",
    "shard_is_intact",
    "shard_path",
    "write_manifest",
]

MANIFEST = "synrl_manifest.json"
PARTIAL_MANIFEST = "synrl_manifest.shard-{index}-of-{count}.json"  # one slice of a build (--shard i/N), before `synrl merge`
AUDIT_REPORT = "audit/report.json"


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at ``path``, or an empty one when there is none yet."""
    if not path.exists():
        return {"generator_version": GENERATOR_VERSION, "shards": {}}
    manifest = read_json(path, "manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), dict):
        raise ValueError(f"manifest {str(path)!r} has no shard table; it was not written by synrl build")
    return manifest


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(manifest, indent=1, sort_keys=True).encode())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_path(config: str, split: str, start: int, stop: int, sha256: str) -> str:
    """Where a shard of rows ``[start, stop)`` goes; its content hash in the name keeps ``load_dataset``'s
    cache of an older build from being served (datasets keys a local folder's cache on file names)."""
    return f"data/{config}/{split}-{start:06d}-{stop:06d}-{sha256[:10]}.parquet"


def shard_is_intact(folder: Path, relpath: str, entry: dict[str, Any]) -> bool:
    """A shard counts only if its bytes are exactly what the manifest recorded."""
    path = folder / relpath
    return path.is_file() and path.stat().st_size == entry["bytes"] and file_sha256(path) == entry["sha256"]


def manifest_fingerprint(manifest: dict[str, Any]) -> str:
    """Identifies a build's content: the sha256 of every shard, sorted (reports name the build they checked)."""
    shas = sorted(entry["sha256"] for entry in manifest["shards"].values())
    return hashlib.sha256("\n".join(shas).encode()).hexdigest()[:16]


def read_audit_report(folder: Path) -> dict[str, Any] | None:
    """The audit report in ``folder`` (its ``fingerprint`` names the build it checked), or None if
    there is none (or it cannot be read)."""
    try:
        report = json.loads((folder / AUDIT_REPORT).read_bytes())  # a Path or a storage.FsspecPath
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "table" in report and "rows" in report else None


def config_files(manifest: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """config name → split → shard paths, for every config that has data (the card's YAML ``data_files``).

    ``all`` and each category gather their task families; each family is a config; any other name
    in the manifest (the training mixtures ``sft``, ``grpo``, ``round2``: a schema of their own) is
    a config on its own, never part of ``all`` or a category.
    """
    by_name: dict[str, dict[str, list[str]]] = {}
    for relpath, entry in sorted(manifest["shards"].items()):
        if not entry["rows"]:  # every sample filtered out (model CoT): nothing to load, and datasets cannot read a 0-row parquet
            continue
        by_name.setdefault(entry["family"], {}).setdefault(entry["split"], []).append(relpath)
    configs: dict[str, dict[str, list[str]]] = {}
    groups = {"all": list(FAMILIES), **{c: families_in(c) for c in CATEGORIES}}
    for name, members in groups.items():
        present = [f for f in members if f in by_name]
        if present:
            configs[name] = {s: [p for f in present for p in by_name[f].get(s, [])] for s in SPLITS}
    for name in [*(f for f in FAMILIES if f in by_name), *sorted(set(by_name) - set(FAMILIES))]:
        configs[name] = {s: by_name[name].get(s, []) for s in SPLITS}
    return {name: {s: paths for s, paths in splits.items() if paths} for name, splits in configs.items()}
