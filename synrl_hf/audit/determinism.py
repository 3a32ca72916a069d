"""Check 5, determinism: rows regenerated from their seeds are the rows in the build.

For a subset of each family (``count`` rows spread over the family, or rows named by id), the row
is generated again with ``generate_sample(task, index, base seed, split, preset=…, params=…,
resolution=…, renderer=…)`` from the shard's recorded build settings, in this process, and
compared field by field (question, options, answer, events, operations, states, objects, tracks,
per-sample seed) and frame by frame (both videos decoded; the MP4 bytes are compared too and
reported, but identical frames are what the check requires). Rows made by another generator
version cannot be expected to match and are skipped with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..seeding import sample_seed
from ..version import GENERATOR_VERSION
from .common import FAIL, PASS, SKIP, Build, CheckResult

FIELDS = (
    "question",
    "options",
    "answer",
    "answer_type",
    "question_type",
    "primitive",
    "category",
    "fps",
    "num_frames",
    "width",
    "height",
    "events",
    "operations",
    "states",
    "objects",
    "difficulty",
    "preset",
    "seed",
)
TRACK_TOLERANCE = 0.01  # pixels / degrees: tracks are stored as float32


def pick_rows(rows: Sequence[dict[str, Any]], subset: int | Sequence[str]) -> list[dict[str, Any]]:
    """``subset`` rows spread evenly over ``rows`` (first and last included), or the rows with those ids."""
    if isinstance(subset, int):
        if subset <= 0:
            return []
        if subset >= len(rows):
            return list(rows)
        return [rows[i] for i in np.unique(np.round(np.linspace(0, len(rows) - 1, subset)).astype(int))]
    wanted = set(subset)
    return [row for row in rows if row["id"] in wanted]


def _normal(value: Any) -> Any:
    """Stored and fresh values in one form (the parquet round trip turns tuples into lists, etc.)."""
    return json.loads(json.dumps(value, sort_keys=True, default=float))


def compare(row: dict[str, Any], fresh: dict[str, Any], video: bytes, base_seed: int | None = None) -> dict[str, Any]:
    from ..video import read_frames

    differs = [name for name in FIELDS if _normal(row[name]) != _normal(fresh[name])]
    stored_tracks = {t["object"]: t for t in row["tracks"]}
    for track in fresh["tracks"]:
        mine = stored_tracks.get(track["object"])
        if (
            mine is None
            or any(
                len(mine[k]) != len(track[k])
                or not np.allclose(np.asarray(mine[k], float), np.asarray(track[k], float), atol=TRACK_TOLERANCE)
                for k in ("x", "y", "angle")
            )
            or list(mine["visible"]) != list(track["visible"])
        ):
            differs.append(f"tracks[{track['object']}]")
    if len(stored_tracks) != len(fresh["tracks"]):
        differs.append("tracks")
    expected_seed = sample_seed(base_seed, row["task"], row["split"], row["index"]) if base_seed is not None else None
    if expected_seed is not None and expected_seed != row["seed"]:
        differs.append("seed (not the seed of its task/index/split)")
    stored, regenerated = read_frames(video).frames, read_frames(fresh["video"]["bytes"]).frames
    frames_equal = stored.shape == regenerated.shape and bool(np.array_equal(stored, regenerated))
    first_diff = None
    if not frames_equal and stored.shape == regenerated.shape:
        first_diff = int(np.flatnonzero((stored != regenerated).reshape(len(stored), -1).any(axis=1))[0])
    return {
        "id": row["id"],
        "fields_differ": differs,
        "frames_equal": frames_equal,
        "bytes_equal": video == fresh["video"]["bytes"],
        "first_differing_frame": first_diff,
        "ok": not differs and frames_equal,
    }


def check_determinism(
    family: str, build: Build, rows: Sequence[dict[str, Any]], subset: int | Sequence[str], videos: dict[str, bytes]
) -> CheckResult:
    from ..sample import generate_sample

    chosen = pick_rows(rows, subset)
    if not chosen:
        return CheckResult("determinism", family, SKIP, "no rows chosen", {})
    results, skipped = [], []
    for row in chosen:
        if row["generator_version"] != GENERATOR_VERSION:
            skipped.append({"id": row["id"], "reason": f"made by generator {row['generator_version']}, this is {GENERATOR_VERSION}"})
            continue
        spec = build.spec_of(row["_file"])
        fresh = generate_sample(
            row["task"],
            row["index"],
            spec["seed"],
            row["split"],
            preset=row["preset"],
            params=build.params_of(row),
            resolution=spec["resolution"],
            renderer=spec["renderer"],
        )
        results.append(compare(row, fresh, videos[row["id"]], spec["seed"]))
    if not results:
        return CheckResult("determinism", family, SKIP, skipped[0]["reason"], {"skipped": skipped})
    bad = [r for r in results if not r["ok"]]
    details = {
        "n": len(results),
        "identical": len(results) - len(bad),
        "bytes_equal": sum(r["bytes_equal"] for r in results),
        "rows": results,
        "skipped": skipped,
    }
    summary = f"{len(results) - len(bad)}/{len(results)} regenerated rows identical (frames and metadata)"
    if bad:
        summary += "; differ: " + ", ".join(f"{r['id']} ({', '.join(r['fields_differ']) or 'frames'})" for r in bad[:3])
        return CheckResult("determinism", family, FAIL, summary, details)
    return CheckResult("determinism", family, PASS, summary, details)
