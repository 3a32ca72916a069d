"""``synrl eval`` and ``synrl eval-convert``: video-VLM evaluation on the paper's benchmarks.

    synrl eval --model runs/qwen3vl4b-grpo --tasks general,grounding --data-dir eval_data --output-dir runs/eval
    synrl eval --model Qwen/Qwen3-VL-4B-Instruct --tasks general --frames 32 --max-pixels 200704 --output-dir runs/base32
    synrl eval-convert videomme --source ~/hf/Video-MME/videomme --videos-root ~/hf/Video-MME --data-dir eval_data
    synrl eval --fixtures --model oracle --tasks all --output-dir /tmp/smoke   # no download needed

The frame budget (:mod:`synrl_hf.frame_budget`) is the checkpoint's recorded one
(``synrl_frame_budget.json``, written by the recipes), else each benchmark's usual budget (else the
library default); ``--frames`` (a count, ``16``, or a rate, ``2fps``), ``--fps``, ``--max-frames``,
``--max-pixels`` and ``--min-pixels`` override its fields. The budget is part of the model's and
the task's identity (results folder, sample cache), and summary.json / results.md say which one
each benchmark used and where it came from. ``--judge-base-url``/``--judge-model`` add an LLM
judge's score beside the rule-based one where a benchmark's official score uses a judge.

``--model oracle`` answers every question with its gold answer in the benchmark's expected format:
a check that conversion, parsing and metrics agree (every score should be 100). The lighteval tasks, converters and
protocols live in ``synrl_hf/evaluation/`` (see synrl_hf/evaluation/README.md).

Wired into the ``synrl`` CLI through :func:`add_eval_parser`; runnable alone as
``python -m synrl_hf.eval_cli eval ...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .argtypes import (
    existing_path,
    folder_to_write,
    http_url,
    int_range,
    model_ref,
    name_part,
    number_range,
    path_arg,
    positive_int,
    text_arg,
    torch_device,
)
from .extras import EXTRAS, missing_modules, require
from .frame_budget import FrameBudget, choose_budget, recorded_budget


def _frames(text: str) -> dict:
    try:
        return FrameBudget.parse_sampling(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fps(text: str) -> float:
    try:
        return FrameBudget(fps=float(text)).fps
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _tasks(text: str) -> str:
    text = text_arg(text)
    if missing_modules(EXTRAS["eval"]):  # the names live with lighteval's tasks: run_eval says what to install
        return text
    from synrl_hf.evaluation.benchmarks import resolve_tasks

    try:
        names = resolve_tasks(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not names:
        raise argparse.ArgumentTypeError(
            f"no benchmark named in {text!r}; give benchmarks or groups (grounding, reasoning, general, synrl, all)"
        )
    return text


def add_eval_parser(subparsers) -> None:
    """Add ``eval`` and ``eval-convert`` to a ``synrl`` subparsers object."""
    p = subparsers.add_parser("eval", help="evaluate a video VLM on the paper's benchmarks (lighteval)")
    p.add_argument(
        "--model",
        required=True,
        type=model_ref,
        help="an existing model folder or a Hub id (org/name); 'oracle' answers with the gold answers (pipeline check)",
    )
    p.add_argument(
        "--tasks", type=_tasks, default="all", help="comma-separated benchmarks or groups: grounding, reasoning, general, synrl, paper, all"
    )
    b = p.add_argument_group(
        "frame budget (default: the checkpoint's recorded budget, else each benchmark's usual one, see synrl_hf/evaluation/README.md)"
    )
    sampling = b.add_mutually_exclusive_group()
    sampling.add_argument("--frames", type=_frames, default=None, help="frames per video (16) or a sampling rate (2fps)")
    sampling.add_argument("--fps", type=_fps, default=None, help="sampling rate in frames per second")
    b.add_argument("--max-frames", type=positive_int, default=None, help="with a rate: at most this many frames (spread uniformly)")
    b.add_argument("--max-pixels", type=positive_int, default=None, help="pixels per frame at most")
    b.add_argument("--min-pixels", type=positive_int, default=None, help="pixels per frame at least")
    p.add_argument("--output-dir", required=True, type=folder_to_write, help="where results, details, summary.json and results.md go")
    p.add_argument("--data-dir", type=path_arg, default="eval_data", help="converted benchmarks (one folder each, see eval-convert)")
    p.add_argument("--videos-root", type=path_arg, default=None, help="override the videos root recorded at conversion")
    p.add_argument(
        "--fixtures",
        action="store_true",
        help="evaluate on the synthetic fixtures (written and converted under <output-dir>/fixtures) instead of --data-dir",
    )
    p.add_argument("--max-samples", type=positive_int, default=None, help="at most this many questions per task (partial numbers!)")
    p.add_argument("--batch-size", type=int_range(1, 4096), default=1)
    p.add_argument("--max-new-tokens", type=int_range(1, 1_000_000), default=None, help="cap every task's generation length")
    p.add_argument("--temperature", type=number_range(0.0, 10.0), default=0.0, help="0 (default) decodes greedily")
    p.add_argument("--system-prompt", type=text_arg, default=None)
    p.add_argument("--dtype", choices=("auto", "bfloat16", "float16", "float32"), default="auto", help="auto, bfloat16, float16 or float32")
    p.add_argument("--device", type=torch_device, default=None, help="cuda, cpu, cuda:1 ... (default: cuda when available)")
    p.add_argument("--model-name", type=name_part, default=None, help="name for the results folder (default: model + budget)")
    p.add_argument("--cache-dir", type=path_arg, default=None, help="lighteval sample cache (default: <output-dir>/cache)")
    p.add_argument(
        "--bootstrap-iters", type=int_range(0, 100_000), default=1000, help="stderr bootstrap iterations (means use a closed form)"
    )
    j = p.add_argument_group("LLM judge for open answers (optional; the key is read from $SYNRL_JUDGE_API_KEY)")
    j.add_argument(
        "--judge-base-url",
        type=http_url,
        default=None,
        help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 ($SYNRL_JUDGE_BASE_URL)",
    )
    j.add_argument("--judge-model", type=text_arg, default=None, help="the judge's model name ($SYNRL_JUDGE_MODEL)")
    p.set_defaults(run=run_eval)

    c = subparsers.add_parser("eval-convert", help="convert a benchmark's public annotation files into a local folder for `synrl eval`")
    c.add_argument("benchmark", type=text_arg, help="benchmark name (see synrl_hf/evaluation/README.md)")
    c.add_argument(
        "--source", required=True, type=existing_path, help="annotation file or folder, as published (see synrl_hf/evaluation/README.md)"
    )
    c.add_argument("--videos-root", type=path_arg, default=None, help="folder the videos are under (recorded; can be overridden at eval)")
    c.add_argument(
        "--data-dir", type=folder_to_write, default="eval_data", help="converted benchmarks root (writes <data-dir>/<benchmark>)"
    )
    c.add_argument(
        "--allow-missing-videos", action="store_true", help="exit 0 even when videos are missing (they are skipped at evaluation)"
    )
    c.set_defaults(run=run_convert)


def _budget_flags(args) -> dict:
    return {
        **(args.frames or {}),
        "fps": args.fps,
        "max_frames": args.max_frames,
        "max_pixels": args.max_pixels,
        "min_pixels": args.min_pixels,
    }


def _check_budget_flags(args) -> None:
    """Refuse flags that make no valid budget with the checkpoint's or a requested benchmark's own (before any work)."""
    from synrl_hf.evaluation.benchmarks import get_benchmark, resolve_tasks

    recorded = None if args.model == "oracle" else recorded_budget(args.model)
    for name in resolve_tasks(args.tasks):
        choose_budget(recorded, get_benchmark(name).frame_budget, **_budget_flags(args))


def _model(args):
    from lighteval.models.model_input import GenerationParameters

    from synrl_hf.evaluation.benchmarks import oracle_answer
    from synrl_hf.evaluation.common.model import ScriptedModelConfig, ScriptedVideoModel, VideoVLM, VideoVLMConfig

    budget = {"budget_flags": {k: v for k, v in _budget_flags(args).items() if v is not None}}
    cache_dir = args.cache_dir or os.path.join(args.output_dir, "cache")
    if args.model == "oracle":
        config = ScriptedModelConfig(model_name=args.model_name or "oracle", script="oracle", cache_dir=cache_dir, **budget)
        return ScriptedVideoModel(config, oracle_answer)
    config = VideoVLMConfig(
        model_path=args.model,
        **({"model_name": args.model_name} if args.model_name else {}),
        **budget,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        dtype=args.dtype,
        device=args.device,
        system_prompt=args.system_prompt,
        generation_parameters=GenerationParameters(temperature=args.temperature),
        cache_dir=cache_dir,
    )
    return VideoVLM(config)


def _judge(args):
    if not (args.judge_base_url or args.judge_model or os.environ.get("SYNRL_JUDGE_BASE_URL")):
        return None
    from synrl_hf.evaluation.judge import Judge

    return Judge.connect(args.judge_base_url, args.judge_model, args.cache_dir or os.path.join(args.output_dir, "cache"))


def run_eval(args) -> int:
    require("eval", "synrl eval")
    from synrl_hf.evaluation.benchmarks import get_benchmark
    from synrl_hf.evaluation.fixtures import build_fixture_data
    from synrl_hf.evaluation.pipeline import evaluate

    _check_budget_flags(args)
    judge = _judge(args)
    data_dir = args.data_dir
    if args.fixtures:
        data_dir, reports = build_fixture_data(Path(args.output_dir) / "fixtures", args.tasks)
        for report in reports.values():
            print(report.summary())
    outcome = evaluate(
        _model(args),
        args.tasks,
        data_dir,
        args.output_dir,
        videos_root=args.videos_root,
        max_samples=args.max_samples,
        bootstrap_iters=args.bootstrap_iters,
        judge=judge,
    )
    print((Path(args.output_dir) / "results.md").read_text())
    print(
        f"results: {Path(args.output_dir) / 'results.md'}, {Path(args.output_dir) / 'results.png'}, {Path(args.output_dir) / 'summary.json'}"
    )
    for name, task in outcome.summary["tasks"].items():
        if task["skipped_missing_videos"]:
            print(
                f"warning: {name}: {task['skipped_missing_videos']} questions skipped, videos missing, e.g. {', '.join(task['missing_videos'][:3])}",
                file=sys.stderr,
            )
    for name in [*outcome.summary["tasks"], *outcome.summary["skipped_tasks"]]:
        if get_benchmark(name).unverified:
            print(f"unverified: {name}: {get_benchmark(name).unverified}", file=sys.stderr)
    for name, reason in outcome.summary["skipped_tasks"].items():
        print(f"not run: {name}: {reason}", file=sys.stderr)
    return 1 if outcome.summary["skipped_tasks"] or not outcome.summary["tasks"] else 0


def run_convert(args) -> int:
    require("eval", "synrl eval-convert")
    from synrl_hf.evaluation.benchmarks import NAMES, get_benchmark

    if args.benchmark not in NAMES:
        raise ValueError(f"unknown benchmark {args.benchmark!r}; valid: {', '.join(NAMES)}")
    bench = get_benchmark(args.benchmark)
    report = bench.convert(args.source, args.videos_root, Path(args.data_dir) / args.benchmark)
    print(report.summary())
    if bench.unverified:
        print(f"unverified: {bench.unverified}", file=sys.stderr)
    print(
        json.dumps(
            {"rows": report.rows, "videos": report.videos, "videos_found": report.videos_found, "missing_videos": report.missing_videos}
        )
    )
    if report.missing_videos and not args.allow_missing_videos:
        missing = report.videos - report.videos_found
        print(
            f"error: {missing} videos missing under {report.videos_root}, e.g. {', '.join(report.missing_files[:5])} "
            f"(all in {Path(args.data_dir) / args.benchmark / 'conversion.json'}); fix --videos-root or pass --allow-missing-videos",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="synrl", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_eval_parser(subparsers)
    from .cli import run_command

    return run_command(parser, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
