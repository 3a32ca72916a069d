"""``synrl eval`` and ``synrl eval-convert``: video-VLM evaluation on the paper's benchmarks.

    synrl eval --model runs/qwen3vl4b-grpo --tasks general,grounding --data-dir eval_data --output-dir runs/eval
    synrl eval --model Qwen/Qwen3-VL-4B-Instruct --tasks general --frames 32 --max-pixels 200704 --output-dir runs/base32
    synrl eval-convert videomme --source ~/hf/Video-MME/videomme --videos-root ~/hf/Video-MME --data-dir eval_data
    synrl eval --fixtures --model oracle --tasks all --output-dir /tmp/smoke   # no download needed

The frame budget (:mod:`synrl_hf.frame_budget`) is the checkpoint's recorded one
(``synrl_frame_budget.json``, written by the recipes), else the default; ``--frames`` (a count,
``16``, or a rate, ``2fps``), ``--fps``, ``--max-frames``, ``--max-pixels`` and ``--min-pixels``
override its fields. The budget is part of the model's identity (results folder, sample cache),
and summary.json / results.md say which one was used and where it came from.

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
    b = p.add_argument_group("frame budget (default: the checkpoint's recorded budget, else 4 fps, at most 64 frames, 100352 px)")
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
    c.set_defaults(run=run_convert)


def _model(args):
    from lighteval.models.model_input import GenerationParameters

    from synrl_hf.evaluation.benchmarks import oracle_answer
    from synrl_hf.evaluation.common.model import ScriptedModelConfig, ScriptedVideoModel, VideoVLM, VideoVLMConfig

    oracle = args.model == "oracle"
    choice = choose_budget(
        None if oracle else recorded_budget(args.model),
        **(args.frames or {}),
        fps=args.fps,
        max_frames=args.max_frames,
        max_pixels=args.max_pixels,
        min_pixels=args.min_pixels,
    )
    budget = {"frame_budget": choice.budget, "budget_choice": choice}
    cache_dir = args.cache_dir or os.path.join(args.output_dir, "cache")
    if oracle:
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


def run_eval(args) -> int:
    require("eval", "synrl eval")
    from synrl_hf.evaluation.fixtures import build_fixture_data
    from synrl_hf.evaluation.pipeline import evaluate

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
    )
    print((Path(args.output_dir) / "results.md").read_text())
    for name, reason in outcome.summary["skipped_tasks"].items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    return 0 if outcome.summary["tasks"] else 1


def run_convert(args) -> int:
    require("eval", "synrl eval-convert")
    from synrl_hf.evaluation.benchmarks import NAMES, get_benchmark

    if args.benchmark not in NAMES:
        raise ValueError(f"unknown benchmark {args.benchmark!r}; valid: {', '.join(NAMES)}")
    report = get_benchmark(args.benchmark).convert(args.source, args.videos_root, Path(args.data_dir) / args.benchmark)
    print(report.summary())
    print(json.dumps({"missing_videos": report.missing_videos, "rows": report.rows}))
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
