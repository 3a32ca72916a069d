"""Shared pieces of the per-benchmark converters, and of their synthetic fixtures.

A converter reads a benchmark's public annotation files and writes a *local folder* that
``datasets.load_dataset(folder)`` (hence lighteval) reads offline::

    <data-dir>/<benchmark>/
        README.md                 YAML ``configs:`` naming the exact data file
        test-<fingerprint>.jsonl  one row per question: id, videos, question, options, answer, meta
        conversion.json           source, videos_root, counts, missing videos, fingerprint

``videos`` are paths relative to ``videos_root`` (recorded here, overridable at eval time); a path
may name a folder of JPEG frames (MVBench's TVQA frames). The data file name carries a content
fingerprint: ``datasets`` caches local folders by name and file pattern, so a re-conversion must
change the file name to be seen. Missing videos never stop a conversion: they are counted and
named (with the reason when the benchmark knows it, e.g. videos its release does not ship), and
``synrl eval-convert`` exits non-zero until they are found.
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
from synrl_hf.dataset_dir import atomic_write_bytes

logger = logging.getLogger(__name__)

ROW_KEYS = ("id", "videos", "question", "options", "answer", "meta")
VIDEO_EXTENSIONS = (".mp4", ".MP4", ".mkv", ".webm", ".mov", ".avi")
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass
class ConversionReport:
    """What a conversion found: questions written, distinct videos referenced and found, and the
    missing ones (their paths, and why when the benchmark knows)."""

    benchmark: str
    out: str
    rows: int
    missing_videos: int  # questions with at least one missing video
    fingerprint: str
    videos_root: str | None
    source: str
    videos: int = 0  # distinct videos the questions reference
    videos_found: int = 0
    missing_files: list[str] = field(default_factory=list)  # every missing video path
    missing_reasons: dict[str, int] = field(default_factory=dict)  # reason -> missing videos

    def summary(self) -> str:
        text = f"{self.benchmark}: {self.rows} questions converted, {self.videos_found} of {self.videos} videos found -> {self.out}"
        if self.missing_videos:
            text += (
                f"\n  {self.videos - self.videos_found} videos missing under {self.videos_root} "
                f"({self.missing_videos} questions skipped at evaluation), e.g. {', '.join(self.missing_files[:5])}"
            )
            for reason, count in self.missing_reasons.items():
                text += f"\n  {count} of them: {reason}"
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


def video_exists(path: str | os.PathLike) -> bool:
    """A video file, or a folder of frame images (MVBench's TVQA frames)."""
    if os.path.isfile(path):
        return True
    return os.path.isdir(path) and any(name.endswith(FRAME_EXTENSIONS) for name in os.listdir(path))


def find_video(videos_root: str | os.PathLike | None, candidates: Sequence[str]) -> str:
    """The first candidate relative path (tried with common extensions) found under ``videos_root``;
    the first candidate as given when none exists (it is then reported missing)."""
    if videos_root is not None:
        root = Path(videos_root)
        for candidate in candidates:
            base, ext = os.path.splitext(candidate)
            for option in [candidate] + ([base + e for e in VIDEO_EXTENSIONS] if ext in VIDEO_EXTENSIONS or not ext else []):
                if video_exists(root / option):
                    return option
    return candidates[0]


def letter(index: int) -> str:
    return LETTERS[int(index)]


def annotation_files(source: str | os.PathLike, suffixes: tuple[str, ...] = (".json", ".jsonl", ".csv", ".tsv", ".parquet")) -> list[Path]:
    """``source`` itself, or the annotation files under it (recursively, sorted by path)."""
    source = Path(source)
    if source.is_file():
        return [source]
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in suffixes)
    if not files:
        raise FileNotFoundError(f"no annotation files ({', '.join(suffixes)}) under {source}")
    return files


# --- writing the local folder -----------------------------------------------------------------


def write_local_folder(
    benchmark: str,
    rows: Iterable[dict],
    out: str | os.PathLike,
    videos_root: str | os.PathLike | None,
    source: str | os.PathLike,
    missing_reasons: dict[str, str] | None = None,
) -> ConversionReport:
    """Write the converted rows (atomically: temp file then rename) and report what was found.

    ``missing_reasons`` maps a video path prefix to why such videos are not in the release (e.g.
    TVBench's NTU RGB+D clips), so the report can say it next to the missing files.
    """
    out = Path(out)
    lines, missing_rows, ids = [], [], set()
    root = os.path.abspath(videos_root) if videos_root is not None else None
    found: dict[str, bool] = {}
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
        if clean["id"] in ids:
            raise ValueError(f"{benchmark}: two questions have the id {clean['id']!r} in {source}; ids must be unique")
        ids.add(clean["id"])
        for video in clean["videos"]:
            if video not in found:
                found[video] = video_exists(video if os.path.isabs(video) or root is None else os.path.join(root, video))
        if not all(found[v] for v in clean["videos"]):
            missing_rows.append(clean["id"])
        lines.append(json.dumps(clean, sort_keys=True, ensure_ascii=False))
    if not lines:
        raise ValueError(f"{benchmark}: no questions found in {source}")
    missing = sorted(v for v, ok in found.items() if not ok)
    reasons: dict[str, int] = {}
    for prefix, reason in (missing_reasons or {}).items():
        count = sum(v.startswith(prefix) for v in missing)
        if count:
            reasons[reason] = count
    body = "\n".join(lines) + "\n"
    fingerprint = hashlib.sha256(body.encode()).hexdigest()[:16]
    data_file = f"test-{fingerprint}.jsonl"
    atomic_write_bytes(out / data_file, body.encode())
    for old in out.glob("test-*.jsonl"):
        if old.name != data_file:
            old.unlink()
    readme = (
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n"
        f"    path: {data_file}\n  default: true\n---\n\n# {benchmark} (converted by synrl-hf evaluation)\n\n"
        f"Source: `{source}`. Videos root: `{root}`. See synrl_hf/evaluation/README.md.\n"
    )
    atomic_write_bytes(out / "README.md", readme.encode())
    report = ConversionReport(
        benchmark,
        os.fspath(out),
        len(lines),
        len(missing_rows),
        fingerprint,
        root,
        os.fspath(source),
        videos=len(found),
        videos_found=len(found) - len(missing),
        missing_files=missing,
        missing_reasons=reasons,
    )
    atomic_write_bytes(out / "conversion.json", json.dumps({**asdict(report), "data_file": data_file}, indent=2).encode())
    if missing:
        logger.warning("%s: %d of %d videos missing under %s (e.g. %s)", benchmark, len(missing), len(found), root, ", ".join(missing[:3]))
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
