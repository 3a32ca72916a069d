"""The audit's work: a plan of small items, each a function of (folder, item) run in any process.

A family's audit is cut into items so that every process (or Ray task) stays busy to the end, even
when one family's clips take much longer to read than another's:

- :class:`FamilyChecks` — the metadata checks (balance, blind, single frame) on all the family's
  rows, without videos;
- :class:`ClipBatch` — up to :data:`CLIPS_PER_BATCH` of its clips from one shard, each read and
  decoded once, into memory the process reuses (:class:`~synrl_hf.video.PlaneDecoder`); the pixel
  reader measures the planes, and a row the determinism check picked is generated again and compared
  with the same decoding.

:func:`plan` makes the items from the shards' ``task`` and ``id`` columns alone; :func:`merge` gathers
a family's outcomes into its results, the same however the items were spread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..video import PlaneDecoder
from . import determinism, pixels
from .balance import check_balance
from .blind import check_blind
from .common import ALPHA, CheckResult, load_build, open_build, read_rows, read_videos, row_ids
from .single_frame import check_single_frame

CHECKS = ("balance", "blind", "single_frame", "pixels", "determinism")
METADATA_CHECKS = ("balance", "blind", "single_frame")
CLIPS_PER_BATCH = 16  # small enough to balance two processes, large enough that reading a shard's videos stays rare


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how (the arguments of :func:`synrl_hf.audit.audit`, checked there)."""

    config: str = "all"
    split: str | None = None
    sample_limit: int | None = None
    determinism_subset: int | tuple[str, ...] = 2
    checks: tuple[str, ...] = CHECKS
    families: int = 1  # how many families the whole audit checks: each is tested at ALPHA / families


@dataclass(frozen=True)
class FamilyChecks:
    family: str


@dataclass(frozen=True)
class ClipBatch:
    family: str
    shard: str  # the parquet file (relative to the folder) holding the clips
    numbers: tuple[int, ...]  # their rows in it
    position: int  # where the first of them is in the family's rows (the batches of a family are runs of it)
    regenerate: tuple[str, ...] = ()  # the ids of those the determinism check regenerates
    read_pixels: bool = True

    @property
    def clips(self) -> int:
        return len(self.numbers)


@dataclass
class ClipOutcome:
    seen: list[dict[str, Any]] = field(default_factory=list)  # pixels.audit_row per clip
    regenerated: list[dict[str, Any]] = field(default_factory=list)  # determinism.regenerate per picked clip


WorkItem = FamilyChecks | ClipBatch
_DECODER = PlaneDecoder()  # this process's: its memory serves every batch the process runs


def plan(folder: str | Path, options: AuditOptions) -> tuple[dict[str, int], list[WorkItem]]:
    """(rows per family, the work items), largest batches first and the quick metadata checks last,
    so that the items a process takes up last are short ones. Validates like
    :func:`~synrl_hf.audit.common.load_build` (a bad folder, config, split or limit raises ValueError)."""
    located = row_ids(folder, options.config, options.split, options.sample_limit)
    batches: list[WorkItem] = []
    for family, rows in located.items():
        read_pixels = "pixels" in options.checks and pixels.pixel_audited(family)
        chosen = set()
        if "determinism" in options.checks:
            chosen = {row["id"] for row in determinism.pick_rows([{"id": i} for _, _, i in rows], options.determinism_subset)}
        by_shard: dict[str, list[tuple[int, int, str]]] = {}  # the family's rows are shard after shard
        for position, (shard, number, id_) in enumerate(rows):
            if read_pixels or id_ in chosen:
                by_shard.setdefault(shard, []).append((position, number, id_))
        for shard, members in by_shard.items():
            for start in range(0, len(members), CLIPS_PER_BATCH):
                part = members[start : start + CLIPS_PER_BATCH]
                regenerate = tuple(i for _, _, i in part if i in chosen)
                batches.append(ClipBatch(family, shard, tuple(n for _, n, _ in part), part[0][0], regenerate, read_pixels))
    batches.sort(key=lambda batch: -batch.clips)
    checks = [FamilyChecks(family) for family in located] if any(c in options.checks for c in METADATA_CHECKS) else []
    return {family: len(rows) for family, rows in located.items()}, batches + checks


def run(folder: str | Path, options: AuditOptions, item: WorkItem, on_clip: Callable[[], None] | None = None) -> Any:
    """One item's outcome: the metadata checks' results, or a batch's :class:`ClipOutcome`
    (``on_clip`` is called after each decoded clip: progress)."""
    if isinstance(item, FamilyChecks):
        return metadata_checks(folder, item.family, options)
    build = open_build(folder, options.config, options.split)
    rows = read_rows(build.folder, item.shard, item.numbers)
    videos = read_videos(build, rows)
    outcome = ClipOutcome()
    for row in rows:
        planes = _DECODER.decode(videos[row["id"]])
        if item.read_pixels:
            outcome.seen.append(pixels.audit_row(row, planes))
        if row["id"] in item.regenerate:
            outcome.regenerated.append(determinism.regenerate(build, row, videos[row["id"]], planes))
        if on_clip is not None:
            on_clip()
    return outcome


def metadata_checks(folder: str | Path, family: str, options: AuditOptions) -> list[CheckResult]:
    """Balance, blind and single frame (those of ``options.checks``) on ``family``'s rows."""
    rows = load_build(folder, options.config, options.split, options.sample_limit, family=family).rows
    alpha = ALPHA / options.families
    checks = {
        "balance": lambda: check_balance(family, rows),
        "blind": lambda: check_blind(family, rows, alpha),
        "single_frame": lambda: check_single_frame(family, rows, alpha),
    }
    return [checks[name]() for name in METADATA_CHECKS if name in options.checks]


def merge(family: str, items: Sequence[WorkItem], outcomes: Sequence[Any], options: AuditOptions) -> list[CheckResult]:
    """``family``'s results in :data:`CHECKS` order, from the outcomes of its items (any order);
    rows are listed in the family's order, however they were batched."""
    results: list[CheckResult] = []
    seen, regenerated = [], []
    for item, outcome in sorted(zip(items, outcomes), key=lambda pair: getattr(pair[0], "position", -1)):
        if isinstance(item, FamilyChecks):
            results.extend(outcome)
        else:
            seen.extend(outcome.seen)
            regenerated.extend(outcome.regenerated)
    if "pixels" in options.checks:
        results.append(pixels.summarize(family, seen) if pixels.pixel_audited(family) else pixels.not_audited(family))
    if "determinism" in options.checks:
        results.append(determinism.summarize(family, regenerated))
    return results
