"""Check 5, determinism: rows regenerated from their seeds are the rows in the build.

For a subset of each family (``count`` rows spread over the family, or rows named by id), the row
is generated again with ``generate_sample(task, index, base seed, split, preset=…, params=…,
resolution=…, renderer=…)`` from the shard's recorded build settings, in this process, and
compared field by field (question, options, answer, events, operations, states, objects, tracks,
per-sample seed) and frame by frame: identical MP4 bytes decode to identical frames, so only a
video whose bytes differ is decoded (both, unless the stored one's planes are at hand) and
compared frame by frame; identical frames are what the check requires. Rows made by another
generator version cannot be expected to match and are skipped with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..seeding import sample_seed
from ..version import GENERATOR_VERSION
from ..video import VideoPlanes, read_planes
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


def compare(
    row: dict[str, Any], fresh: dict[str, Any], video: bytes, base_seed: int | None = None, planes: VideoPlanes | None = None
) -> dict[str, Any]:
    """How the regenerated ``fresh`` row differs from the stored ``row`` (whose MP4 is ``video``,
    ``planes`` its decoded planes if already at hand). Equal MP4 bytes decode to equal frames;
    only different bytes are decoded and compared frame by frame."""
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
    bytes_equal = video == fresh["video"]["bytes"]
    frames_equal, first_diff = True, None
    if not bytes_equal:
        stored, regenerated = planes if planes is not None else read_planes(video), read_planes(fresh["video"]["bytes"])
        frames_equal = all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(_planes(stored), _planes(regenerated)))
        if not frames_equal and stored.y.shape == regenerated.y.shape:
            different = np.zeros(len(stored), bool)
            for a, b in zip(_planes(stored), _planes(regenerated)):
                different |= (a != b).reshape(len(a), -1).any(axis=1)
            first_diff = int(np.flatnonzero(different)[0])
    return {
        "id": row["id"],
        "fields_differ": differs,
        "frames_equal": frames_equal,
        "bytes_equal": bytes_equal,
        "first_differing_frame": first_diff,
        "ok": not differs and frames_equal,
    }


def _planes(planes: VideoPlanes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return planes.y, planes.u, planes.v


def regenerate(build: Build, row: dict[str, Any], video: bytes, planes: VideoPlanes | None = None) -> dict[str, Any]:
    """``row`` generated again from its shard's build settings and compared (see :func:`compare`);
    ``{"id", "skipped": reason}`` for a row of another generator version."""
    from ..sample import generate_sample

    if row["generator_version"] != GENERATOR_VERSION:
        return {"id": row["id"], "skipped": f"made by generator {row['generator_version']}, this is {GENERATOR_VERSION}"}
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
    return compare(row, fresh, video, spec["seed"], planes)


def check_determinism(
    family: str, build: Build, rows: Sequence[dict[str, Any]], subset: int | Sequence[str], videos: dict[str, bytes]
) -> CheckResult:
    """The determinism check of ``family``: ``subset`` of ``rows`` regenerated and compared."""
    return summarize(family, [regenerate(build, row, videos[row["id"]]) for row in pick_rows(rows, subset)])


def summarize(family: str, outcomes: Sequence[dict[str, Any]]) -> CheckResult:
    """The determinism check's result from each chosen row's :func:`regenerate`."""
    if not outcomes:
        return CheckResult("determinism", family, SKIP, "no rows chosen", {})
    results = [o for o in outcomes if "skipped" not in o]
    skipped = [{"id": o["id"], "reason": o["skipped"]} for o in outcomes if "skipped" in o]
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
