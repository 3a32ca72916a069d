"""One family's audit: a function of (folder, family) and the audit's options, run in any process.

The metadata checks (balance, blind, single frame) read the family's rows without videos; then each
clip the pixel and determinism checks need is read and decoded once, and both use that decoding:
the pixel reader measures the planes, and a regenerated row whose MP4 bytes differ from the stored
ones is compared with them frame by frame. ``on_clip`` is called after each decoded clip (progress).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..video import read_planes
from . import determinism, pixels
from .balance import check_balance
from .blind import check_blind
from .common import ALPHA, CheckResult, load_build, read_videos
from .single_frame import check_single_frame

CHECKS = ("balance", "blind", "single_frame", "pixels", "determinism")


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how (the arguments of :func:`synrl_hf.audit.audit`, checked there)."""

    config: str = "all"
    split: str | None = None
    sample_limit: int | None = None
    determinism_subset: int | tuple[str, ...] = 2
    checks: tuple[str, ...] = CHECKS
    families: int = 1  # how many families the whole audit checks: each is tested at ALPHA / families


def clips_to_decode(family: str, rows: int, options: AuditOptions) -> int:
    """How many clips :func:`audit_family` decodes for ``rows`` rows (the progress total)."""
    if "pixels" in options.checks and pixels.pixel_audited(family):
        return rows
    if "determinism" not in options.checks:
        return 0
    subset = options.determinism_subset
    return min(subset, rows) if isinstance(subset, int) else len(subset)


def audit_family(folder: str | Path, family: str, options: AuditOptions, on_clip: Callable[[], None] | None = None) -> list[CheckResult]:
    """Every check of ``options.checks`` on ``family``'s rows of the build in ``folder``."""
    build = load_build(folder, options.config, options.split, options.sample_limit, family=family)
    rows = build.rows
    checks = options.checks
    results = []
    if "balance" in checks:
        results.append(check_balance(family, rows))
    alpha = ALPHA / options.families
    if "blind" in checks:
        results.append(check_blind(family, rows, alpha))
    if "single_frame" in checks:
        results.append(check_single_frame(family, rows, alpha))
    read_pixels = "pixels" in checks and pixels.pixel_audited(family)
    chosen = {row["id"] for row in determinism.pick_rows(rows, options.determinism_subset)} if "determinism" in checks else set()
    seen, regenerated = [], []
    for shard_rows in _by_shard([row for row in rows if read_pixels or row["id"] in chosen]):
        videos = read_videos(build, shard_rows)
        for row in shard_rows:
            planes = read_planes(videos[row["id"]])
            if read_pixels:
                seen.append(pixels.audit_row(row, planes))
            if row["id"] in chosen:
                regenerated.append(determinism.regenerate(build, row, videos[row["id"]], planes))
            if on_clip is not None:
                on_clip()
    if "pixels" in checks:
        results.append(pixels.summarize(family, seen) if read_pixels else pixels.not_audited(family))
    if "determinism" in checks:
        results.append(determinism.summarize(family, regenerated))
    return results


def _by_shard(rows: Sequence[dict]) -> list[list[dict]]:
    """``rows`` grouped by the shard holding their videos (each shard's video column is read once)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["_file"], []).append(row)
    return list(groups.values())
