"""Running the tasks through lighteval's ``Pipeline``, offline, and writing the reports.

lighteval 0.13 builds a ``Registry`` that imports every built-in task module, and one of them
downloads a file at import: offline that fails. :class:`OfflineRegistry` loads only the custom
tasks it is given; :class:`VideoPipeline` is the stock ``Pipeline`` using it. Everything else
(task loading through ``datasets``, the model calls and sample cache, metrics, aggregation,
results and details files) is lighteval's own code path.

Outputs under ``output_dir``: lighteval's ``results/<model>/results_<date>.json`` and
``details/<model>/<date>/details_<task>|0_<date>.parquet``, plus ``summary.json`` (per task:
metrics (with ``acc_judged`` when a judge ran), questions evaluated, questions skipped for missing
videos and the first missing files, the paper's numbers, the frame budget used and where it came
from: flag, checkpoint, benchmark or default; the protocol's source, deviations and unverified points), ``results.md`` (the paper's tables with our row, and
every metric), ``results.png`` (the bar chart) and ``samples/<task>.jsonl`` (one line per question:
id, reply, gold answer, per-sample scores, the judged score).
"""

from __future__ import annotations

import json
import logging
import os
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lighteval.tasks.registry import Registry

from .benchmarks import get_benchmark, resolve_tasks
from .common.tasks import MISSING, available_rows, local_folder, task_config
from .paper import markdown_report, paper_numbers, plot_report

logger = logging.getLogger(__name__)


class OfflineRegistry(Registry):
    """A lighteval ``Registry`` holding only the given custom tasks (no built-in task imports)."""

    def __init__(self, tasks=None, load_multilingual: bool = False, custom_tasks=None):
        self.tasks_list = self._get_full_task_list_from_input_string(tasks) if tasks else []
        self._load_multilingual = False
        self._custom_tasks = custom_tasks
        self._task_registry = (
            Registry._extract_configs(Registry.create_custom_tasks_module(custom_tasks)) if custom_tasks is not None else {}
        )
        self.task_to_configs = self._update_task_configs()


def video_pipeline_class():
    """lighteval's ``Pipeline`` with :class:`OfflineRegistry` (imported lazily: lighteval.pipeline is slow to import)."""
    import lighteval.pipeline as lighteval_pipeline

    class VideoPipeline(lighteval_pipeline.Pipeline):
        def _init_tasks_and_requests(self, tasks: str):
            original = lighteval_pipeline.Registry
            lighteval_pipeline.Registry = OfflineRegistry
            try:
                super()._init_tasks_and_requests(tasks)
            finally:
                lighteval_pipeline.Registry = original

    return VideoPipeline


def tasks_module(names: list[str], data_dir, videos_root=None) -> types.ModuleType:
    """A module object with ``TASKS_TABLE`` for ``names`` (what ``--custom-tasks`` would load)."""
    module = types.ModuleType("synrl_eval_tasks")
    module.TASKS_TABLE = [task_config(get_benchmark(n), data_dir, videos_root) for n in names]
    return module


@dataclass
class EvalOutcome:
    summary: dict
    output_dir: Path
    details: dict = field(default_factory=dict)

    def metrics(self, task: str) -> dict[str, float]:
        return self.summary["tasks"][task]["metrics"]


def evaluate(
    model,
    tasks: str | list[str],
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    videos_root: str | os.PathLike | None = None,
    max_samples: int | None = None,
    bootstrap_iters: int = 1000,
    judge=None,
) -> EvalOutcome:
    """Evaluate ``model`` (a lighteval model) on benchmark names / groups; write the reports.

    ``judge`` (a :class:`synrl_hf.evaluation.judge.Judge`) also scores the benchmarks that declare a
    judge; its ``acc_judged`` goes beside the rule-based ``acc``.
    """
    from lighteval.logging.evaluation_tracker import EvaluationTracker
    from lighteval.pipeline import ParallelismManager, PipelineParameters

    output_dir = Path(output_dir)
    names = resolve_tasks(tasks)
    skipped: dict[str, str] = {}
    counts: dict[str, tuple[int, int, list[str]]] = {}
    runnable = []
    for name in names:
        if not (local_folder(data_dir, name) / "conversion.json").is_file():
            skipped[name] = f"not converted (no {local_folder(data_dir, name)}/conversion.json)"
            continue
        counts[name] = available_rows(get_benchmark(name), data_dir, videos_root)
        if counts[name][0] == 0:
            skipped[name] = f"all {counts[name][1]} questions have missing videos, e.g. {', '.join(counts[name][2][:3])}"
            continue
        runnable.append(name)
    for name, reason in skipped.items():
        logger.warning("skipping %s: %s", name, reason)
    summary: dict[str, Any] = {
        "model": model.config.model_name,
        "model_config": model.config.model_dump(mode="json"),
        "tasks": {},
        "skipped_tasks": skipped,
        "frame_budget": _budget_policy(model.config),
    }
    details: dict = {}
    if runnable:
        for name in runnable:
            MISSING.pop(name, None)
        tracker = EvaluationTracker(output_dir=os.fspath(output_dir), save_details=True)
        params = PipelineParameters(
            launcher_type=ParallelismManager.NONE,
            custom_tasks_directory=tasks_module(runnable, data_dir, videos_root),
            max_samples=max_samples,
            bootstrap_iters=bootstrap_iters,
        )
        begin = time.perf_counter()
        pipeline = video_pipeline_class()(
            tasks=",".join(f"{n}|0" for n in runnable), pipeline_parameters=params, evaluation_tracker=tracker, model=model
        )
        pipeline.evaluate()
        pipeline.save_and_push_results()
        summary["seconds"] = round(time.perf_counter() - begin, 3)
        results = pipeline.get_results()["results"]
        details = {task.split("|")[0]: rows for task, rows in pipeline.get_details().items()}
        for name in runnable:
            bench = get_benchmark(name)
            choice = model.config.budget_choice(bench.frame_budget) if hasattr(model.config, "budget_choice") else None
            summary["tasks"][name] = {
                "metrics": dict(results.get(f"{name}:0", {}).items()),
                "evaluated": len(details.get(name, [])),
                "skipped_missing_videos": max(counts[name][1], len(MISSING.get(name, ()))),
                "missing_videos": counts[name][2],
                "headline": list(bench.headline),
                "paper": paper_numbers(name),
                "frame_budget": {**choice.to_dict(), "text": choice.describe(), "usual": bench.budget_note} if choice else None,
                "protocol": {"source": bench.source, "deviations": bench.deviations, "unverified": bench.unverified},
            }
        judged = _run_judge(judge, runnable, details, summary) if judge is not None else {}
        _write_samples(output_dir / "samples", details, judged)
    stats = getattr(model, "stats", None)
    if stats:
        summary["throughput"] = dict(stats)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (output_dir / "results.md").write_text(markdown_report(summary))
    plot_report(summary, output_dir / "results.png")
    return EvalOutcome(summary, output_dir, details)


def _budget_policy(config) -> dict | None:
    """What decides the frames: one budget for every task (flag or checkpoint), or each benchmark's own."""
    if not hasattr(config, "uniform_budget"):
        return None
    uniform = config.uniform_budget()
    if uniform is not None:
        return {**uniform.to_dict(), "text": uniform.describe()}
    flags = dict(config.budget_flags)
    text = "each benchmark's usual budget (Frame budget column)" + (
        f", with {', '.join(f'{k}={v}' for k, v in flags.items())} set by flags" if flags else ""
    )
    return {"source": "benchmark", "tag": config.budget_tag, "flags": list(flags), "text": text}


def _run_judge(judge, names: list[str], details: dict, summary: dict) -> dict[str, list]:
    from synrl_hf.cot.backends import BackendError

    from .judge import judge_details

    judged = {}
    for name in names:
        bench = get_benchmark(name)
        if bench.judge is None:
            continue
        try:
            metrics, judged[name] = judge_details(bench, details.get(name, []), judge)
        except BackendError as error:  # the rule-based numbers stand; say why the judged ones are missing
            logger.warning("judge failed on %s: %s", name, error)
            summary["tasks"][name]["judge"] = {"model": judge.model, "error": str(error)}
            continue
        summary["tasks"][name]["metrics"].update(acc_judged=metrics["acc_judged"])
        summary["tasks"][name]["judge"] = {"model": judge.model, "llm_judged": int(metrics["llm_judged"])}
    summary["judge"] = {"model": judge.model, "requests": judge.requests, "cache_hits": judge.hits, "cache": os.fspath(judge.cache_path)}
    return judged


def _write_samples(folder: Path, details: dict, judged: dict[str, list]) -> None:
    from .judge import reply_text

    folder.mkdir(parents=True, exist_ok=True)
    for task, rows in details.items():
        with open(folder / f"{task}.jsonl", "w", encoding="utf-8") as handle:
            for i, detail in enumerate(rows):
                doc = detail.doc
                record = {
                    "id": (doc.specific or {}).get("id"),
                    "videos": (doc.specific or {}).get("videos"),
                    "reply": reply_text(detail.model_response),
                    "gold": (doc.specific or {}).get("answer"),
                    "scores": detail.metric,
                }
                if task in judged:
                    record["judged"] = judged[task][i]
                handle.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
