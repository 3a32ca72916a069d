"""Shared pieces of the per-benchmark converters, and of their synthetic fixtures.

A converter reads a benchmark's public annotation files and writes a *local folder* that
``datasets.load_dataset(folder)`` (hence lighteval) reads offline::

    <data-dir>/<benchmark>/
        README.md                 YAML ``configs:`` naming the exact data file
        test-<fingerprint>.jsonl  one row per question: id, videos, question, options, answer, meta
        conversion.json           source, videos_root, counts, missing videos, fingerprint

``videos`` are paths relative to ``videos_root`` (recorded here, overridable at eval time).
The data file name carries a content fingerprint: ``datasets`` caches local folders by name and
file pattern, so a re-conversion must change the file name to be seen.
Missing videos never stop a conversion: they are counted, listed (first 20) and skipped at eval.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synrl_hf.answers import LETTERS

logger = logging.getLogger(__name__)

ROW_KEYS = ("id", "videos", "question", "options", "answer", "meta")
VIDEO_EXTENSIONS = (".mp4", ".MP4", ".mkv", ".webm", ".mov", ".avi")


@dataclass
class ConversionReport:
    benchmark: str
    out: str
    rows: int
    missing_videos: int
    fingerprint: str
    videos_root: str | None
    source: str
    missing_examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.benchmark}: {self.rows} questions -> {self.out}"
        if self.missing_videos:
            text += f" ({self.missing_videos} with missing videos, skipped at evaluation; e.g. {self.missing_examples[:3]})"
        return text


# --- reading public annotation files ----------------------------------------------------------


def read_records(path: str | os.PathLike, pattern: str = "*") -> list[dict]:
    """Rows of a .json (a list, or a dict of dicts keyed by id), .jsonl, .csv, .tsv or .parquet
    file, or of every such file matching ``pattern`` in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob(pattern) if p.suffix in (".json", ".jsonl", ".csv", ".tsv", ".parquet"))
        if not files:
            raise FileNotFoundError(f"no annotation files matching {pattern!r} in {path}")
        return [row for f in files for row in read_records(f)]
    if not path.is_file():
        raise FileNotFoundError(f"no annotation file at {path}")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return [
                {"__key__": key, **value} if isinstance(value, dict) else {"__key__": key, "value": value} for key, value in data.items()
            ]
        return list(data)
    if path.suffix in (".csv", ".tsv"):
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle, delimiter="\t" if path.suffix == ".tsv" else ","))
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    raise ValueError(f"unsupported annotation file {path} (json, jsonl, csv, tsv or parquet)")


def as_list(value: Any) -> list:
    """Options stored as a list, a JSON/Python-literal string, or numpy array -> a list."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return list(json.loads(text))
            except json.JSONDecodeError:
                import ast

                return list(ast.literal_eval(text))
        return [value]
    return list(value)


def find_video(videos_root: str | os.PathLike | None, candidates: Sequence[str]) -> str:
    """The first candidate relative path (tried with common extensions) found under ``videos_root``;
    the first candidate as given when none exists (it is then reported missing)."""
    if videos_root is not None:
        root = Path(videos_root)
        for candidate in candidates:
            base, ext = os.path.splitext(candidate)
            for option in [candidate] + ([base + e for e in VIDEO_EXTENSIONS] if ext in VIDEO_EXTENSIONS or not ext else []):
                if (root / option).is_file():
                    return option
    return candidates[0]


def letter(index: int) -> str:
    return LETTERS[int(index)]


# --- writing the local folder -----------------------------------------------------------------


def write_local_folder(
    benchmark: str,
    rows: Iterable[dict],
    out: str | os.PathLike,
    videos_root: str | os.PathLike | None,
    source: str | os.PathLike,
) -> ConversionReport:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines, missing = [], []
    root = os.path.abspath(videos_root) if videos_root is not None else None
    for row in rows:
        unknown = set(row) - set(ROW_KEYS)
        if unknown or "id" not in row or not row.get("videos"):
            raise ValueError(f"{benchmark}: bad converted row {row!r}")
        clean = {
            "id": str(row["id"]),
            "videos": [str(v) for v in row["videos"]],
            "question": str(row.get("question", "")),
            "options": [str(o) for o in row.get("options") or []],
            "answer": str(row.get("answer", "")),
            "meta": json.dumps(row.get("meta") or {}, sort_keys=True, default=_json_default),
        }
        if not all(os.path.isfile(v if os.path.isabs(v) or root is None else os.path.join(root, v)) for v in clean["videos"]):
            missing.append(clean["id"])
        lines.append(json.dumps(clean, sort_keys=True, ensure_ascii=False))
    if not lines:
        raise ValueError(f"{benchmark}: no questions found in {source}")
    body = "\n".join(lines) + "\n"
    fingerprint = hashlib.sha256(body.encode()).hexdigest()[:16]
    for old in out.glob("test-*.jsonl"):
        old.unlink()
    data_file = f"test-{fingerprint}.jsonl"
    (out / data_file).write_text(body, encoding="utf-8")
    (out / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n"
        f"    path: {data_file}\n  default: true\n---\n\n# {benchmark} (converted by synrl-hf evaluation)\n\n"
        f"Source: `{source}`. Videos root: `{root}`. See synrl_hf/evaluation/README.md.\n",
        encoding="utf-8",
    )
    report = ConversionReport(benchmark, os.fspath(out), len(lines), len(missing), fingerprint, root, os.fspath(source), missing[:20])
    (out / "conversion.json").write_text(json.dumps({**asdict(report), "data_file": data_file}, indent=2))
    if missing:
        logger.warning(
            "%s: %d of %d questions have missing videos under %s (skipped at evaluation)", benchmark, len(missing), len(lines), root
        )
    return report


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def read_rows(folder: str | os.PathLike) -> list[dict]:
    folder = Path(folder)
    conversion = json.loads((folder / "conversion.json").read_text())
    rows = read_records(folder / conversion["data_file"])
    for row in rows:
        row["meta"] = json.loads(row["meta"]) if isinstance(row.get("meta"), str) else row.get("meta", {})
    return rows


# --- synthetic clips for fixtures ---------------------------------------------------------------


def write_clip(path: str | os.PathLike, seconds: float = 2.0, *, fps: int = 8, size: int = 64, seed: int = 0) -> Path:
    """A small H.264 clip of a square moving across a tinted background (``seconds`` long)."""
    from synrl_hf.video import encode_mp4

    rng = np.random.default_rng(seed)
    background = rng.integers(0, 96, size=3, dtype=np.uint8)
    color = rng.integers(160, 256, size=3, dtype=np.uint8)
    count = max(2, int(round(seconds * fps)))
    frames = []
    for i in range(count):
        frame = np.empty((size, size, 3), np.uint8)
        frame[:] = background
        x = int((size - 16) * i / max(count - 1, 1))
        frame[24:40, x : x + 16] = color
        frames.append(frame)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_mp4(frames, fps, size, size))
    return path


def write_json(path: str | os.PathLike, data: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_parquet(path: str | os.PathLike, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_csv(path: str | os.PathLike, rows: list[dict], delimiter: str = ",") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path
