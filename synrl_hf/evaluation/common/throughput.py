"""Throughput of the evaluation model: frames/s and samples/s per frame budget.

    python -m synrl_hf.evaluation.common.throughput --model /models/Qwen3-VL-4B-Instruct --frames 16,32,64 \
        --samples 16 --device cuda --record BENCHMARKS.md

Synthetic clips (``--seconds`` long, ``--resolution`` square, 30 fps) go through exactly what an
evaluation does per question: ``read_frames`` with the budget, the chat template, the processor
with frame metadata and greedy generation (:class:`VideoVLM`, sample cache bypassed). Without
``--model`` a tiny random Qwen-VL is built (pipeline overhead only, no meaningful GPU numbers).
``scripts/gpu_eval_check.sh`` wraps this for a lent GPU (and a CPU smoke mode the tests run).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path


def _docs(clips: list[Path], question: str) -> list:
    from lighteval.tasks.requests import Doc

    return [
        Doc(
            query=question,
            choices=["A"],
            gold_index=0,
            task_name="throughput|0",
            generation_size=None,
            specific={"id": str(i), "videos": [str(clip)]},
            id=str(i),
        )
        for i, clip in enumerate(clips)
    ]


def measure(
    model_path: str,
    budgets: list[str],
    *,
    samples: int,
    seconds: float,
    resolution: int,
    max_pixels: int | None,
    max_new_tokens: int,
    batch_size: int,
    device: str | None,
    dtype: str,
    workdir: Path,
) -> list[dict]:
    import torch

    from synrl_hf.frame_budget import FrameBudget

    from .converters import write_clip
    from .model import VideoVLM, VideoVLMConfig

    clips = [write_clip(workdir / f"clip{i}.mp4", seconds, fps=30, size=resolution, seed=i) for i in range(samples)]
    docs = _docs(clips, "Describe the motion in the video.\nA. left\nB. right\nAnswer with the option's letter.")
    rows, model = [], None
    for budget in budgets:
        config = VideoVLMConfig(
            model_path=model_path,
            frame_budget=FrameBudget(**FrameBudget.parse_sampling(budget), max_pixels=max_pixels),
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            cache_dir=str(workdir / "cache"),
        )
        if model is None:
            model = VideoVLM(config)
        else:  # same weights, new budget
            model.config = config
        generate = VideoVLM.greedy_until.__wrapped__  # bypass lighteval's sample cache
        generate(model, docs[:1])  # warm-up (kernels, allocator)
        model.stats = {"samples": 0, "frames": 0, "seconds": 0.0, "decode_errors": 0}
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        begin = time.perf_counter()
        generate(model, docs)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall = time.perf_counter() - begin
        rows.append(
            {
                "budget": budget,
                "samples": samples,
                "frames": model.stats["frames"],
                "seconds": round(wall, 3),
                "frames_per_s": round(model.stats["frames"] / wall, 2),
                "samples_per_s": round(samples / wall, 3),
                "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None,
            }
        )
    return rows


def markdown(rows: list[dict], header: dict) -> str:
    lines = [
        f"### Eval model throughput ({header['date']}, {header['device']})",
        "",
        f"Model `{header['model']}`; clips {header['seconds']} s at 30 fps, {header['resolution']}²; max_pixels {header['max_pixels']}; "
        f"batch {header['batch_size']}; {header['max_new_tokens']} new tokens (greedy).",
        "",
        "| budget | samples | frames | wall s | frames/s | samples/s | peak GPU GB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['budget']} | {r['samples']} | {r['frames']} | {r['seconds']} | {r['frames_per_s']} | {r['samples_per_s']} | {r['peak_gpu_mem_gb'] or '–'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="local model folder (the GPU machine is offline); default: a tiny random Qwen3-VL")
    parser.add_argument("--family", default="qwen3_vl", help="tiny model family when --model is not given")
    parser.add_argument("--frames", default="16,32,64", help="comma-separated budgets: counts (16) or rates (2fps)")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--resolution", type=int, default=448)
    parser.add_argument("--max-pixels", type=int, default=None)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--record", default=None, help="append the markdown table to this file (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    import torch

    with tempfile.TemporaryDirectory(prefix="synrl-throughput-") as tmp:
        workdir = Path(tmp)
        model_path = args.model
        if model_path is None:
            from synrl_hf.modeling import build_tiny_model

            model_path = str(build_tiny_model(workdir / "tiny-model", args.family))
        rows = measure(
            model_path,
            [b.strip() for b in args.frames.split(",") if b.strip()],
            samples=args.samples,
            seconds=args.seconds,
            resolution=args.resolution,
            max_pixels=args.max_pixels,
            max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
            device=args.device,
            dtype=args.dtype,
            workdir=workdir,
        )
    device = (
        torch.cuda.get_device_name(0)
        if torch.cuda.is_available() and (args.device or "cuda").startswith("cuda")
        else f"CPU ({platform.processor() or platform.machine()})"
    )
    header = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "device": device,
        "model": args.model or f"tiny random {args.family}",
        "seconds": args.seconds,
        "resolution": args.resolution,
        "max_pixels": args.max_pixels,
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
    }
    table = markdown(rows, header)
    print(table)
    if args.record:
        with open(args.record, "a", encoding="utf-8") as handle:
            handle.write("\n" + table)
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
