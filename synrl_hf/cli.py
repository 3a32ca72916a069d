"""The ``synrl`` command: build, merge, audit, push datasets; evaluate; push models.

Every argument is validated before any work starts; bad input exits with code 2 and a message
that names the bad value and the valid choices.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .seeding import SPLITS


def _csv(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_build_parser(subparsers) -> None:
    p = subparsers.add_parser("build", help="render a dataset folder (parquet shards + card) that load_dataset reads")
    p.add_argument("--out", required=True, help="output folder (created; an existing build there is resumed/updated)")
    p.add_argument("--configs", type=_csv, default=["short_term"], help="comma-separated: all, short_term, long_term, or family ids")
    p.add_argument("--per-task", type=_non_negative, default=20, help="samples per family in each split")
    p.add_argument("--seed", type=int, default=0, help="base seed (per-sample seeds derive from it)")
    p.add_argument("--num-proc", type=_positive, default=1, help="worker processes")
    p.add_argument("--resolution", type=int, default=448, help="square side in pixels (even, >= 64)")
    p.add_argument("--preset", default="round1", help="difficulty preset: round1 (paper's first RL round) or round2")
    p.add_argument("--renderer", default="pillow", help="pillow (fast, default) or matplotlib (the paper's look)")
    p.add_argument("--splits", type=_csv, default=list(SPLITS), help="which splits to build")
    p.add_argument("--shard", default=None, help="i/N: build only slice i of N (for cluster arrays), then `synrl merge`")
    p.add_argument("--shard-size", type=_positive, default=None, help="rows per parquet shard")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_build)


def run_build(args) -> int:
    from .build import DEFAULT_SHARD_SIZE, BuildSpec, build, parse_shard, resolve_configs

    spec = BuildSpec(
        families=tuple(resolve_configs(args.configs)),
        per_task=args.per_task,
        seed=args.seed,
        resolution=args.resolution,
        preset=args.preset,
        renderer=args.renderer,
        splits=tuple(args.splits),
        shard_size=args.shard_size or DEFAULT_SHARD_SIZE,
    )
    shard = parse_shard(args.shard) if args.shard else None
    manifest = build(spec, args.out, num_proc=args.num_proc, shard=shard, progress=not args.no_progress)
    rows = sum(e["rows"] for e in manifest["shards"].values())
    where = "slice written; run `synrl merge` when all slices are done" if shard else "load it with load_dataset"
    print(f"{args.out}: {rows} rows in {len(manifest['shards'])} shards ({where})")
    return 0


def add_merge_parser(subparsers) -> None:
    p = subparsers.add_parser("merge", help="assemble slices built with --shard i/N into one dataset folder")
    p.add_argument("out", help="the dataset folder to complete")
    p.add_argument("sources", nargs="*", help="other folders holding slices (default: slices already in OUT)")
    p.set_defaults(run=run_merge)


def run_merge(args) -> int:
    from .build import merge

    manifest = merge(args.out, args.sources)
    print(f"{args.out}: {sum(e['rows'] for e in manifest['shards'].values())} rows in {len(manifest['shards'])} shards")
    return 0


# Subcommands that live with their feature: (module, function adding the parser).
PLUGINS: list[tuple[str, str]] = [
    ("publish", "add_push_parser"),
    ("eval_cli", "add_eval_parser"),
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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"synrl {args.command}: error: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted; finished shards are kept and a re-run resumes\n")


if __name__ == "__main__":
    sys.exit(main())
