"""The ``synrl`` command: build, merge, audit, push datasets; evaluate; push models.

Every argument is validated before any work starts (:mod:`synrl_hf.argtypes`, then the command's
own validation step); bad input exits with code 2 and a message that names the bad value and the
valid choices. Errors, warnings and logs pass through one secret redaction (:mod:`synrl_hf.redaction`).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from .argtypes import (
    choice_list,
    comma_list,
    existing_dir,
    folder_or_hub_id,
    folder_to_write,
    http_url,
    int_range,
    mixture_sizes,
    number_range,
    output_folder,
    positive_int,
    preset,
    shard_slice,
    text_arg,
)
from .build import MAX_INDEX, MAX_SEED, MAX_SHARD_SIZE, WHY_MAX_INDEX, WHY_MAX_SEED, WHY_MAX_SHARD_SIZE
from .cot.backends import DEFAULT_TIMEOUT as COT_TIMEOUT
from .executors import add_engine_arguments
from .mixtures import PAPER_GENERAL_SIZE, PAPER_MIXTURE_SIZES
from .render import MAX_RESOLUTION, MIN_RESOLUTION, RENDERERS
from .seeding import SPLITS


def add_build_parser(subparsers) -> None:
    p = subparsers.add_parser("build", help="render a dataset folder (parquet shards + card) that load_dataset reads")
    p.add_argument(
        "--out",
        required=True,
        type=output_folder,
        help="output folder, or an fsspec URL (s3://bucket/synrl, gs://…, hf://datasets/org/name); created; an existing build there is resumed/updated",
    )
    p.add_argument(
        "--configs",
        type=comma_list,
        default=["short_term"],
        help="comma-separated: all, short_term, long_term, family ids, and the training mixtures sft, grpo, round2 (GRPO data at preset round2)",
    )
    p.add_argument(
        "--per-task", type=int_range(1, MAX_INDEX, WHY_MAX_INDEX), default=20, help="samples per family in each split (at least 1)"
    )
    p.add_argument("--seed", type=int_range(0, MAX_SEED, WHY_MAX_SEED), default=0, help="base seed (per-sample seeds derive from it)")
    p.add_argument(
        "--num-proc",
        type=positive_int,
        default=None,
        help="local engine: worker processes (default 1; as many as the memory holds); ray engine: CPUs of the Ray started here, "
        "or at most this many tasks at once on a cluster (default: all its CPUs)",
    )
    add_engine_arguments(p)
    p.add_argument(
        "--resolution",
        type=int_range(MIN_RESOLUTION, MAX_RESOLUTION, "libx264's largest frame side"),
        default=448,
        help=f"square side in pixels (even, {MIN_RESOLUTION}..{MAX_RESOLUTION}, and what the memory holds)",
    )
    p.add_argument(
        "--preset",
        type=preset,
        default="round1",
        help="difficulty: round1 (the paper's first RL round), round2 (its second), or level<k> (level k of each family's ladder)",
    )
    p.add_argument("--renderer", choices=RENDERERS, default="pillow", help="pillow (fast, default) or matplotlib (the paper's look)")
    p.add_argument("--splits", type=choice_list(SPLITS, "split"), default=list(SPLITS), help="which splits to build")
    p.add_argument("--shard", type=shard_slice, default=None, help="i/N: build only slice i of N (for cluster arrays), then `synrl merge`")
    p.add_argument("--shard-size", type=int_range(1, MAX_SHARD_SIZE, WHY_MAX_SHARD_SIZE), default=None, help="rows per parquet shard")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--audit",
        action="store_true",
        help="audit the build when it is done (synrl audit, same --num-proc): exit 1 if a check fails, and `synrl push` then refuses it",
    )
    m = p.add_argument_group("training mixtures (--configs sft,grpo,round2; train split only)")
    m.add_argument(
        "--mixture-size",
        type=mixture_sizes,
        default=None,
        metavar="CONFIG=ROWS,...",
        help="synthetic rows per mixture config, e.g. sft=6700,grpo=7000,round2=3000 (the paper's, the default); "
        "configs not named keep the paper's size; one number sets every config",
    )
    m.add_argument(
        "--mixture-families",
        type=comma_list,
        default=["all"],
        help="families the mixtures draw from (config names as in --configs; default all)",
    )
    m.add_argument(
        "--cot",
        choices=("template", "model"),
        default="template",
        help="sft CoT source: template (offline, default) or model (the four-stage pipeline)",
    )
    m.add_argument(
        "--general-qa",
        type=folder_or_hub_id,
        default=None,
        metavar="PATH|ID",
        help="general video QA in LLaVA-Video format (folder or Hub dataset id) mixed into sft",
    )
    m.add_argument(
        "--general-size",
        type=int_range(0, MAX_INDEX, WHY_MAX_INDEX),
        default=PAPER_GENERAL_SIZE,
        help=f"general video QA rows added on top of sft's synthetic rows (default {PAPER_GENERAL_SIZE}: the paper's 6.7K + 1K = 7.7K)",
    )
    m.add_argument(
        "--cot-backend",
        choices=("openai", "transformers"),
        default="openai",
        help="model CoT: an OpenAI-compatible server or a local transformers model",
    )
    m.add_argument(
        "--cot-base-url",
        type=http_url,
        default=None,
        help="model CoT: chat-completions base URL, e.g. http://localhost:8000/v1 (env SYNRL_COT_BASE_URL)",
    )
    m.add_argument(
        "--cot-model",
        type=text_arg,
        default=None,
        help="model CoT: model name on the server, or the transformers model folder / Hub id (env SYNRL_COT_MODEL)",
    )
    m.add_argument(
        "--cot-api-key", type=text_arg, default=None, help="model CoT: API key (prefer env SYNRL_COT_API_KEY; never written anywhere)"
    )
    m.add_argument(
        "--cot-concurrency",
        type=int_range(1, 256, "each sample in flight holds a request and its frames"),
        default=8,
        help="model CoT: samples in flight",
    )
    m.add_argument(
        "--cot-frames",
        type=int_range(1, 256, "each frame is an image in every request"),
        default=16,
        help="model CoT: frames sent per video (the sampled-frame interval is the timestamp tolerance)",
    )
    m.add_argument(
        "--cot-max-rounds",
        type=int_range(1, 20),
        default=5,
        help="model CoT: generation + reflection rounds before a sample is filtered out",
    )
    m.add_argument(
        "--cot-timeout",
        type=number_range(1.0, 3600.0),
        default=COT_TIMEOUT,
        help=f"model CoT: seconds to wait for one reply before retrying (default {COT_TIMEOUT:g}; 5 retries)",
    )
    m.add_argument("--cot-judge", action="store_true", help="model CoT: also ask the model to judge each reasoning that passes the rules")
    m.add_argument("--cot-no-polish", action="store_true", help="model CoT: skip the polishing stage")
    p.set_defaults(run=run_build)


def run_build(args) -> int:
    from .build import DEFAULT_SHARD_SIZE, BuildSpec, build, resolve_configs, resolve_mixtures

    mixtures = tuple(resolve_mixtures(args.configs))
    pool = tuple(resolve_configs(args.mixture_families))
    cot_options = {
        "backend": args.cot_backend,
        "model": args.cot_model,
        "base_url": args.cot_base_url,
        "concurrency": args.cot_concurrency,
        "frames": args.cot_frames,
        "max_rounds": args.cot_max_rounds,
        "judge": args.cot_judge,
        "polish": not args.cot_no_polish,
    }
    backend_factory = None
    if "sft" in mixtures and args.cot == "model":
        import os

        from .cot.backends import ENV_BASE_URL, ENV_MODEL, make_backend

        cot_options["model"] = args.cot_model or os.environ.get(ENV_MODEL)
        if not cot_options["model"]:  # fail on missing settings before any work
            raise ValueError(f"--cot model needs --cot-model (or {ENV_MODEL})")
        if args.cot_backend == "openai" and not (args.cot_base_url or os.environ.get(ENV_BASE_URL)):
            raise ValueError(f"--cot model needs --cot-base-url, e.g. http://localhost:8000/v1 (or {ENV_BASE_URL})")

        def backend_factory():  # made only when some sft shard needs CoT (a resumed build may need none)
            if args.cot_backend == "openai":
                return make_backend(
                    "openai", model=args.cot_model, base_url=args.cot_base_url, api_key=args.cot_api_key, timeout=args.cot_timeout
                )
            return make_backend("transformers", model=cot_options["model"])

    spec = BuildSpec(
        mixtures=mixtures,
        mixture_families=pool,
        mixture_sizes=args.mixture_size or dict(PAPER_MIXTURE_SIZES),
        cot=args.cot,
        cot_options={k: v for k, v in cot_options.items() if v is not None} if args.cot == "model" else {},
        general_qa=args.general_qa,
        general_size=args.general_size,
        families=tuple(resolve_configs(args.configs)),
        per_task=args.per_task,
        seed=args.seed,
        resolution=args.resolution,
        preset=args.preset,
        renderer=args.renderer,
        splits=tuple(args.splits),
        shard_size=args.shard_size or DEFAULT_SHARD_SIZE,
    )
    if args.audit and args.shard:
        raise ValueError("--audit audits a whole build: run `synrl merge`, then `synrl audit`, instead of auditing a slice")
    if "sft" in mixtures and not args.general_qa:
        print("sft: no --general-qa given, so the sft mixture is synthetic only (0% general video QA)")
    from .mixtures import CoTBackendError

    try:
        manifest = build(
            spec,
            args.out,
            num_proc=args.num_proc,
            engine=args.engine,
            ray_address=args.ray_address,
            shard=args.shard,
            progress=not args.no_progress,
            cot_backend=backend_factory,
        )
    except CoTBackendError as error:
        from .redaction import redact

        print(f"synrl build: error: {redact(error)}", file=sys.stderr)
        return 1
    for name in mixtures:
        entries = [e for e in manifest["shards"].values() if e["family"] == name]
        general = sum(e.get("general_rows", 0) for e in entries)
        total = sum(e["rows"] for e in entries)
        filtered = sum(e.get("cot_filtered", 0) for e in entries)
        extra = f", {general} general video QA ({general / total:.1%})" if name == "sft" and total else ""
        extra += f", {filtered} filtered out by CoT verification" if filtered else ""
        print(f"{name}: {total} rows{extra}")
        if filtered and total == general:
            print(_all_filtered(entries, args.out), file=sys.stderr)
    rows = sum(e["rows"] for e in manifest["shards"].values())
    where = "slice written; run `synrl merge` when all slices are done" if args.shard else "load it with load_dataset"
    print(f"{args.out}: {rows} rows in {len(manifest['shards'])} shards ({where})")
    if args.audit and not args.shard:
        return _audit_build(args)
    return 0


def _all_filtered(entries: list[dict], out: str) -> str:
    """The warning for a model-CoT build in which no synthetic sample passed verification."""
    failed: dict[str, int] = {}
    for entry in entries:
        for check, count in entry.get("cot_stats", {}).get("rejected_by_check", {}).items():
            failed[check] = failed.get(check, 0) + count
    checks = ", ".join(f"{check} {count}" for check, count in sorted(failed.items())) or "unknown"
    return (
        f"sft: every synthetic sample failed CoT verification (failed checks: {checks}), so the sft shards hold no CoT rows. "
        f"Check the model and the endpoint; the outcomes are kept in {out}/cot/*.jsonl and a re-run does not ask again "
        "(delete those files to retry the samples, e.g. with another model)."
    )


def _audit_build(args) -> int:
    """``build --audit``: the audit of the finished build; 1 (and the failures) if a check fails."""
    from .audit import REPORT_MD, audit

    report = audit(args.out, progress=not args.no_progress, num_proc=args.num_proc, engine=args.engine, ray_address=args.ray_address)
    if report.passed:
        print(f"audit passed; report in {Path(args.out) / REPORT_MD}")
        return 0
    for r in report.failures:
        print(f"FAIL {r.family}/{r.check}: {r.summary}", file=sys.stderr)
    print(f"synrl build: the audit FAILED ({len(report.failures)} check(s)); report in {Path(args.out) / REPORT_MD}", file=sys.stderr)
    return 1


def add_merge_parser(subparsers) -> None:
    p = subparsers.add_parser("merge", help="assemble slices built with --shard i/N into one dataset folder")
    p.add_argument("out", type=folder_to_write, help="the dataset folder to complete")
    p.add_argument("sources", nargs="*", type=existing_dir, help="other folders holding slices (default: slices already in OUT)")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="merge even when slices are missing or unfinished (the card says which); slices of different builds are always refused",
    )
    p.set_defaults(run=run_merge)


def run_merge(args) -> int:
    from .build import merge

    manifest = merge(args.out, args.sources, allow_partial=args.allow_partial)
    print(f"{args.out}: {sum(e['rows'] for e in manifest['shards'].values())} rows in {len(manifest['shards'])} shards")
    if manifest.get("incomplete"):
        print(f"incomplete: {manifest['incomplete']} (merged with --allow-partial)", file=sys.stderr)
    return 0


# Subcommands that live with their feature: (module, function adding the parser).
PLUGINS: list[tuple[str, str]] = [
    ("publish", "add_push_parser"),
    ("eval_cli", "add_eval_parser"),
    ("hub_model", "add_push_model_parser"),
    ("audit", "add_audit_parser"),
    ("training.memory_plan", "add_plan_parser"),
]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synrl", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_build_parser(subparsers)
    add_merge_parser(subparsers)
    for module, function in PLUGINS:
        adder: Callable = getattr(__import__(f"synrl_hf.{module}", fromlist=[function]), function)
        adder(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    return run_command(parser, parser.parse_args(argv))


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run a parsed subcommand. A refusal (bad input, a folder in use, a missing extra) exits 2 with
    one line; a full disk exits 1 with one line; anything else unexpected prints its traceback and
    exits 1. Whatever is printed or logged passes through :func:`synrl_hf.redaction.redact`."""
    from .files import OutOfSpace
    from .folder_lock import FolderBusy
    from .redaction import SECRET_NAME, install_log_redaction, redact, register_secret

    for name, value in vars(args).items():
        if isinstance(value, str) and SECRET_NAME.search(name):  # --cot-api-key and the like
            register_secret(value)
    install_log_redaction()
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, FolderBusy) as error:
        parser.exit(2, f"synrl {args.command}: error: {redact(error)}\n")
    except OutOfSpace as error:
        parser.exit(
            1,
            f"synrl {args.command}: error: {redact(error)}; free some space (or write elsewhere) and run it again: finished work is kept\n",
        )
    except KeyboardInterrupt:
        parser.exit(130, "interrupted; finished shards are kept and a re-run resumes\n")
    except Exception:  # a bug: its traceback for the report, without secrets
        sys.stderr.write(redact(traceback.format_exc()))
        return 1


if __name__ == "__main__":
    sys.exit(main())
