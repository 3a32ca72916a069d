"""``synrl audit``: checks that a built dataset keeps the rules that make it worth training on.

Per family, five checks (the rules every sample keeps, docs/data-contract.md):

1. ``balance`` — answer letters, option texts, numbers and yes/no are near-uniform (``balance.py``);
2. ``blind`` — a model that does not watch (question, options, duration, frame count) does no
   better than the majority answer (``blind.py``);
3. ``single_frame`` — the first, middle or last frame's state alone does not give the answer
   (``single_frame.py``);
4. ``pixels`` — for the families that implement ``answer_from_pixels``, the answer re-derived from
   the decoded MP4 (objects found by color) equals the row's answer (``pixels.py``);
5. ``determinism`` — rows regenerated from their seeds equal the stored rows, frames included
   (``determinism.py``).

``audit(folder)`` writes ``audit/report.md`` and ``audit/report.json`` into the dataset folder
(atomically) and re-writes the dataset card, which then carries the summary table; while it does, it
holds the folder's lock (:mod:`synrl_hf.folder_lock`). The CLI exits with 1 when a check fails and
2 on bad input (an empty or unknown check list included).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..argtypes import choice_list, existing_dir, non_negative_int, positive_int, text_arg
from ..card import write_card
from ..dataset_dir import AUDIT_REPORT, atomic_write_bytes, manifest_fingerprint
from ..executors import Executor, add_engine_arguments, open_executor
from ..folder_lock import folder_lock
from ..seeding import SPLITS
from ..version import GENERATOR_VERSION, __version__
from .common import FAIL, SKIP, Build, CheckResult, open_build
from .family import CHECKS, AuditOptions, ClipBatch, WorkItem, merge, plan, run

REPORT_JSON = AUDIT_REPORT
REPORT_MD = AUDIT_REPORT.removesuffix(".json") + ".md"
DEFAULT_DETERMINISM_SUBSET = 2

__all__ = ["AuditReport", "CHECKS", "add_audit_parser", "audit", "run_audit"]


@dataclass
class AuditReport:
    folder: str
    config: str
    splits: list[str]
    fingerprint: str  # the build's shard hashes; a card shows the report only for this build
    rows: dict[str, int]  # per family
    results: list[CheckResult]
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def passed(self) -> bool:
        return not self.failures

    def result(self, family: str, check: str) -> CheckResult | None:
        return next((r for r in self.results if r.family == family and r.check == check), None)

    # -- rendering ---------------------------------------------------------------------------
    def table(self) -> dict[str, Any]:
        """The summary table (one row per family, one column per check) as cell strings."""
        columns = ["family", "rows", *CHECKS]
        rows = []
        for family, count in self.rows.items():
            cells = [f"`{family}`", str(count)]
            for check in CHECKS:
                result = self.result(family, check)
                cells.append(_cell(result))
            rows.append(cells)
        return {"columns": columns, "rows": rows}

    def to_dict(self) -> dict[str, Any]:
        return {
            "synrl_hf_version": __version__,
            "generator_version": GENERATOR_VERSION,
            "folder": self.folder,
            "config": self.config,
            "splits": self.splits,
            "fingerprint": self.fingerprint,
            "passed": self.passed,
            "failures": [f"{r.family}/{r.check}: {r.summary}" for r in self.failures],
            "rows": self.rows,
            "settings": self.settings,
            "seconds": round(self.seconds, 1),
            "table": self.table(),
            "results": [r.to_dict() for r in self.results],
        }

    def markdown(self) -> str:
        verdict = (
            "**PASSED**: every check holds for every family."
            if self.passed
            else (f"**FAILED**: {len(self.failures)} check(s) fail — see below.")
        )
        lines = [
            "# SynRL dataset audit",
            "",
            f"Config `{self.config}`, split(s) {', '.join(self.splits)}, {sum(self.rows.values())} rows, "
            f"build `{self.fingerprint}`, synrl-hf {__version__} (generator {GENERATOR_VERSION}).",
            "",
            verdict,
            "",
            render_table(self.table()),
            "",
        ]
        if self.failures:
            lines += ["## Failures", ""]
            for r in self.failures:
                lines.append(f"- **{r.family} / {r.check}**: {r.summary}")
                for d in r.details.get("disagreements", [])[:20]:
                    lines.append(f"  - `{d['id']}` ({d['kind']}): row says `{d['answer']}`, pixels give `{d['derived']}` — {d['reason']}")
                for d in r.details.get("rows", []):
                    if not d.get("ok", True):
                        what = ", ".join(d["fields_differ"]) or "frames"
                        lines.append(f"  - `{d['id']}`: differs in {what}; frames equal: {d['frames_equal']}")
            lines.append("")
        lines += ["## How to read this", "", *_METHOD, ""]
        return "\n".join(lines)


_METHOD = [
    "- **balance**: largest share of a correct letter and the Monte Carlo p-value of Pearson's chi-square "
    "against a uniform pick among each row's options (also per question program for option texts and "
    "numbers, and for yes/no); fails at p < 0.001.",
    "- **blind**: held-out (5-fold) accuracy of a candidate scorer on what a model sees without watching "
    "(question, options, their positions and lengths, duration, frame count), vs the majority answer's "
    "held-out accuracy (floored at chance); fails when it is more than 5 points higher with a one-sided "
    "binomial p < 0.01 / (families audited), or when the majority rule itself beats chance that way.",
    "- **single_frame**: the same, from the state of the first, middle or last frame alone (objects' "
    "positions, angles, visibility, appearance; the revealed long-term state), best of the three frames.",
    "- **pixels**: answers re-derived from the decoded MP4 (objects found by color; events, tracks and "
    "states never read); intervals agree at IoU >= 0.5 or endpoints within 2 frames; target 100%.",
    "- **determinism**: rows regenerated from (task, index, split, base seed, preset, resolution, renderer) "
    "equal the stored ones: metadata and every decoded frame.",
    "- Sequence and interval answers are not scored by the blind and single-frame baselines (no finite "
    "answer space a baseline could pick from); the pixel audit re-derives them.",
]


def _cell(result: CheckResult | None) -> str:
    if result is None:
        return "–"
    d = result.details
    mark = {"pass": "pass", "fail": "**FAIL**", "skip": "skip"}[result.status]
    if result.status == SKIP:
        return "–" if result.check == "pixels" else "skip"
    if result.check == "balance":
        letter = d.get("tests", {}).get("letter")
        worst = min(d.get("tests", {}).values(), key=lambda t: t["p"], default=None)
        text = f"max letter {letter['largest_share']:.0%}" if letter else "no letters"
        return f"{mark} ({text}, min p {worst['p']:.3f})" if worst else mark
    if result.check in ("blind", "single_frame"):
        return f"{mark} ({d['model']:.0%} vs {d['reference']:.0%})"
    if result.check == "pixels":
        return f"{mark} ({d['agree']}/{d['n']})"
    if result.check == "determinism":
        return f"{mark} ({d['identical']}/{d['n']})"
    return mark


def render_table(table: dict[str, Any]) -> str:
    head = "| " + " | ".join(table["columns"]) + " |"
    rule = "|" + "---|" * len(table["columns"])
    return "\n".join([head, rule, *("| " + " | ".join(row) + " |" for row in table["rows"])])


# -- the audit ---------------------------------------------------------------------------------------
def _locked_when_writing(run: Callable[..., AuditReport]) -> Callable[..., AuditReport]:
    """An audit that writes holds the folder's lock from its first read to its last write, so no build
    changes the shards it checks or the card it re-writes."""

    @functools.wraps(run)
    def locked(folder: str | Path, *args: Any, write: bool = True, **kwargs: Any) -> AuditReport:
        if not write or not Path(folder).is_dir():  # a missing folder: the audit's own error says so
            return run(folder, *args, write=write, **kwargs)
        with folder_lock(folder, "synrl audit"):
            return run(folder, *args, write=write, **kwargs)

    return locked


@_locked_when_writing
def audit(
    folder: str | Path,
    *,
    config: str = "all",
    split: str | None = None,
    sample_limit: int | None = None,
    determinism_subset: int | Sequence[str] = DEFAULT_DETERMINISM_SUBSET,
    checks: Sequence[str] = CHECKS,
    write: bool = True,
    update_card: bool = True,
    progress: bool = False,
    num_proc: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> AuditReport:
    """Audit the build in ``folder`` and (``write``) store the report in ``folder/audit/``.

    ``split`` None audits every split of ``config``; ``sample_limit`` caps the rows per family;
    ``determinism_subset`` is how many rows per family to regenerate (or their ids). With
    ``update_card`` the dataset card is re-written so that it shows the summary table. The work, cut
    into small items (a family's metadata checks; batches of its clips, :mod:`.family`), runs
    ``num_proc`` items at a time, in worker processes (``engine`` "local", default 1) or as Ray tasks
    (``engine`` "ray", on the cluster at ``ray_address``, by default every CPU of it: its nodes must see
    ``folder``), with the same results; ``progress`` shows a bar of decoded clips.
    """
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; valid checks: {', '.join(CHECKS)}")
    if not checks:  # an audit that checks nothing must not pass
        raise ValueError(f"no checks to run; valid checks: {', '.join(CHECKS)}")
    if isinstance(determinism_subset, bool) or (isinstance(determinism_subset, int) and determinism_subset < 0):
        raise ValueError(f"determinism_subset must be a non-negative integer or a list of ids, got {determinism_subset!r}")
    executor = open_executor(engine, num_proc=num_proc, address=ray_address)  # checks the engine settings first
    started = time.time()
    subset = determinism_subset if isinstance(determinism_subset, int) else tuple(determinism_subset)
    options = AuditOptions(config, split, sample_limit, subset, tuple(checks))
    counts, items = plan(folder, options)
    options = dataclasses.replace(options, families=len(counts))
    results = _run_items(Path(folder), counts, items, options, executor, progress)
    build = open_build(folder, config, split)
    report = AuditReport(
        folder=str(build.folder),
        config=build.config,
        splits=build.splits,
        fingerprint=manifest_fingerprint(build.manifest),
        rows=counts,
        results=[r for family in counts for r in results[family]],
        settings={
            "sample_limit": sample_limit,
            "determinism_subset": determinism_subset if isinstance(determinism_subset, int) else list(determinism_subset),
            "checks": list(checks),
            "num_proc": num_proc,
        },
        seconds=time.time() - started,
    )
    if write:
        write_report(build, report)
        if update_card:
            write_card(build.folder, build.manifest)
    return report


def _run_items(
    folder: Path, counts: dict[str, int], items: list[WorkItem], options: AuditOptions, executor: Executor, progress: bool
) -> dict[str, list[CheckResult]]:
    """Each family's results, its work items spread over ``executor``; a bar counts the decoded clips
    (clip by clip in this process, a batch's clips at once when it comes back from a worker)."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=sum(item.clips for item in items if isinstance(item, ClipBatch)), unit="clip", desc="synrl audit", disable=not progress
    )
    on_clip = (lambda: bar.update(1)) if executor.in_process else None
    outcomes: dict[str, list[tuple[WorkItem, Any]]] = {family: [] for family in counts}
    with executor:
        if progress and not executor.in_process:  # described once started (a Ray cluster's size)
            bar.write(f"synrl audit: checking {len(counts)} families on {executor.description}", file=sys.stderr)
        for item, outcome in zip(items, executor.imap(functools.partial(_run_one, folder, options, on_clip), items)):
            if isinstance(item, ClipBatch) and not executor.in_process:
                bar.update(item.clips)
            outcomes[item.family].append((item, outcome))
    bar.close()
    results = {}
    for family, done in outcomes.items():
        results[family] = merge(family, [item for item, _ in done], [outcome for _, outcome in done], options)
        for r in results[family]:
            if r.status == FAIL:
                bar.write(f"synrl audit: {family}/{r.check} FAILS: {r.summary}", file=sys.stderr)
    return results


def _run_one(folder: Path, options: AuditOptions, on_clip: Callable[[], None] | None, item: WorkItem) -> Any:
    """:func:`~synrl_hf.audit.family.run` with the item last: what an executor maps over."""
    return run(folder, options, item, on_clip)


def write_report(build: Build, report: AuditReport) -> None:
    atomic_write_bytes(build.folder / REPORT_JSON, json.dumps(report.to_dict(), indent=1, default=_json_default).encode())
    atomic_write_bytes(build.folder / REPORT_MD, report.markdown().encode())


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# -- CLI ---------------------------------------------------------------------------------------------
def add_audit_parser(subparsers) -> None:
    p = subparsers.add_parser("audit", help="check a built dataset (balance, blind and single-frame baselines, pixels, determinism)")
    p.add_argument("folder", type=existing_dir, help="a dataset folder made by `synrl build`")
    p.add_argument("--config", type=text_arg, default="all", help="which config to audit (default: all)")
    p.add_argument("--split", choices=SPLITS, default=None, help="which split (default: every split of the config)")
    p.add_argument("--limit", type=positive_int, default=None, help="at most this many rows per family")
    p.add_argument(
        "--determinism", type=non_negative_int, default=DEFAULT_DETERMINISM_SUBSET, help="rows per family to regenerate and compare"
    )
    p.add_argument(
        "--checks", type=choice_list(CHECKS, "check"), default=list(CHECKS), help=f"comma-separated subset of: {', '.join(CHECKS)}"
    )
    p.add_argument("--json", action="store_true", help="print the full JSON report instead of the summary")
    p.add_argument("--no-card", action="store_true", help="do not re-write the dataset card")
    p.add_argument(
        "--num-proc",
        type=positive_int,
        default=None,
        help="work items (batches of clips, a family's metadata checks) run at once: local worker processes (default 1), "
        "or Ray tasks (default: every CPU of the cluster)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_engine_arguments(p)
    p.set_defaults(run=run_audit)


def run_audit(args) -> int:
    report = audit(
        args.folder,
        config=args.config,
        split=args.split,
        sample_limit=args.limit,
        determinism_subset=args.determinism,
        checks=args.checks,
        update_card=not args.no_card,
        progress=not args.quiet and not args.json,
        num_proc=args.num_proc,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=1, default=_json_default))
    else:
        print(render_table(report.table()))
        print()
        if report.passed:
            print(f"audit passed; report in {Path(report.folder) / REPORT_MD}")
        else:
            for r in report.failures:
                print(f"FAIL {r.family}/{r.check}: {r.summary}")
            print(f"audit FAILED; report in {Path(report.folder) / REPORT_MD}")
    return 0 if report.passed else 1
