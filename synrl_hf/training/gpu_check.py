"""A short, prepared check of the training stack on one GPU with no network (``scripts/gpu_check.sh``).

For each model family it builds a randomly initialised Qwen-VL (``--size small``: 8 text layers,
hidden 1024; ``tiny``: the 2-layer test model), writes a few synthetic videos at realistic
resolution and frame count as a dataset folder, then runs through the real entry points
(``recipes/sft.py``, ``recipes/grpo.py``, in process) a few bf16 SFT steps and GRPO steps with
video, and records per stage: seconds per step, tokens per second, peak GPU memory, the video
tokens per sample, and any error. Results are written (after every stage, so a crash keeps what
was measured) to ``--out`` (default ``$OUT/gpu_check.json`` or ``./gpu_check.json``).

``--cpu-smoke`` runs the same code path on CPU with the tiny model, 64-px clips, 4 frames and fp32,
in well under a minute per family: the test suite runs it so the GPU script is never untested code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

SMALL = {
    "qwen2_5_vl": (
        dict(
            hidden_size=1024,
            intermediate_size=2816,
            num_hidden_layers=8,
            num_attention_heads=8,
            num_key_value_heads=2,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [16, 24, 24]},
        ),
        dict(depth=4, hidden_size=512, intermediate_size=1024, num_heads=8, window_size=112, fullatt_block_indexes=[3]),
    ),
    "qwen3_vl": (
        dict(
            hidden_size=1024,
            intermediate_size=2816,
            num_hidden_layers=8,
            num_attention_heads=8,
            num_key_value_heads=2,
            head_dim=128,
            rope_parameters={"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": [24, 20, 20], "mrope_interleaved": True},
        ),
        dict(depth=4, hidden_size=512, intermediate_size=1024, num_heads=8, num_position_embeddings=2304, deepstack_visual_indexes=[1, 2]),
    ),
}


def _read_logs(output_dir: Path) -> list[dict[str, Any]]:
    path = output_dir / "synrl_logs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _stage_metrics(stage: str, output_dir: Path, wall: float, steps: int) -> dict[str, Any]:
    logs = _read_logs(output_dir)
    final = next((r for r in reversed(logs) if "train_runtime" in r), {})
    step_logs = [r for r in logs if "loss" in r]
    tokens = max((r.get("num_tokens") or 0 for r in step_logs), default=0)
    runtime = final.get("train_runtime") or wall
    metrics: dict[str, Any] = {"steps": steps, "wall_seconds": round(wall, 3), "train_runtime": runtime, "tokens": tokens}
    metrics["seconds_per_step"] = round(runtime / max(1, steps), 4)
    metrics["tokens_per_second"] = round(tokens / runtime, 2) if runtime else None
    if stage == "grpo":
        times = [r["step_time"] for r in step_logs if r.get("step_time") is not None]
        metrics["grpo_step_times"] = times
        metrics["completion_mean_length"] = [r.get("completions/mean_length") for r in step_logs]
    metrics["last_loss"] = step_logs[-1].get("loss") if step_logs else None
    return metrics


def _video_tokens(model_dir: Path, dataset_dir: Path, budget: dict[str, Any]) -> int:
    from ..frame_budget import FrameBudget
    from ..modeling import chat_inputs, load_processor
    from .data import load_split

    processor = load_processor(model_dir)
    row = load_split(str(dataset_dir), "grpo", "train", cache_dir=str(dataset_dir / ".cache"))[0]
    fb = FrameBudget(**budget)
    inputs = chat_inputs(processor, row["prompt"], [fb.read(row["video"])], max_pixels=fb.max_pixels)
    return int((inputs["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")).sum())


def run_check(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from ..families import families_in
    from ..modeling import build_tiny_model
    from .run import run_recipe
    from .testing import grpo_rows, sft_rows, write_dataset

    cuda = torch.cuda.is_available() and not args.cpu_smoke
    if not cuda and not args.cpu_smoke:
        raise SystemExit("no CUDA device: run with --cpu-smoke for the CPU path")
    out_file = Path(args.out or Path(os.environ.get("OUT", ".")) / "gpu_check.json")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "mode": "gpu" if cuda else "cpu-smoke",
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": {},
    }
    try:
        import transformers
        import trl

        report["versions"].update(trl=trl.__version__, transformers=transformers.__version__)
    except ImportError:  # pragma: no cover
        pass

    def save():
        out_file.write_text(json.dumps(report, indent=2, default=str) + "\n")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="synrl_gpu_check_"))
    budget = {"fps": None, "num_frames": args.frames, "max_pixels": args.max_pixels}
    families = families_in("short_term")[:2]
    t0 = time.perf_counter()
    data = write_dataset(
        work / "data",
        {
            "sft": sft_rows(args.samples, families, resolution=args.resolution, general=1),
            "grpo": grpo_rows(args.samples, families, resolution=args.resolution),
        },
    )
    report["data_seconds"] = round(time.perf_counter() - t0, 3)
    common = [
        "--dataset_name",
        str(data),
        "--dataset_cache_dir",
        str(work / "cache"),
        "--video_fps",
        "None",
        "--video_num_frames",
        str(args.frames),
        "--video_max_pixels",
        str(args.max_pixels),
        "--max_steps",
        str(args.steps),
        "--logging_steps",
        "1",
        "--save_strategy",
        "no",
        "--report_to",
        "none",
        "--bf16",
        "true" if cuda else "false",
        "--dtype",
        "bfloat16" if cuda else "float32",
        "--attn_implementation",
        "sdpa",
    ]
    if not cuda:
        common += ["--use_cpu", "true"]
    for family in args.family:
        result: dict[str, Any] = {}
        report["results"][family] = result
        recipe = {"qwen2_5_vl": "Qwen2.5-VL-7B-Instruct", "qwen3_vl": "Qwen3-VL-4B-Instruct"}[family]
        text, vision = SMALL[family] if args.size == "small" else (None, None)
        model_dir = build_tiny_model(work / f"model_{family}", family, image_size=args.resolution, text_config=text, vision_config=vision)
        try:
            result["video_tokens_per_sample"] = _video_tokens(model_dir, data, budget)
        except Exception as error:  # keep measuring the rest
            result["video_tokens_error"] = repr(error)
        stages = [
            (
                "sft",
                f"recipes/{recipe}/sft/config_synrl.yaml",
                str(model_dir),
                [
                    "--per_device_train_batch_size",
                    str(args.batch),
                    "--gradient_accumulation_steps",
                    "1",
                ],
            ),
            (
                "grpo",
                f"recipes/{recipe}/grpo/config_round1.yaml",
                str(work / f"sft_{family}"),
                [
                    "--per_device_train_batch_size",
                    str(args.batch),
                    "--gradient_accumulation_steps",
                    "1",
                    "--num_generations",
                    str(args.num_generations),
                    "--max_completion_length",
                    str(args.completion_length),
                    "--log_completions",
                    "false",
                ],
            ),
        ]
        for stage, config, init, extra in stages:
            output_dir = work / f"{stage}_{family}"
            argv = ["--config", str(REPO / config), "--model_name_or_path", init, "--output_dir", str(output_dir), *common, *extra]
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            try:
                run_recipe(stage, argv)
                result[stage] = _stage_metrics(stage, output_dir, time.perf_counter() - start, args.steps)
                if cuda:
                    result[stage]["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
                    result[stage]["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / 2**30, 3)
            except Exception as error:
                result[stage] = {"error": repr(error), "traceback": traceback.format_exc()[-4000:]}
                report["failed"] = True
            save()
    report["total_seconds"] = round(time.perf_counter() - t0, 3)
    save()
    print(
        json.dumps(
            {
                f: {
                    s: {k: v for k, v in m.items() if k in ("seconds_per_step", "tokens_per_second", "peak_memory_gib", "error")}
                    for s, m in r.items()
                    if isinstance(m, dict)
                }
                for f, r in report["results"].items()
            },
            indent=1,
        )
    )
    print(f"written: {out_file}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/gpu_check.sh", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny model, tiny clips, CPU, fp32 (what the tests run)")
    parser.add_argument("--out", default=None, help="results JSON (default $OUT/gpu_check.json or ./gpu_check.json)")
    parser.add_argument("--workdir", default=None, help="where models, data and runs go (default: a temp dir)")
    parser.add_argument("--family", nargs="+", default=None, choices=["qwen2_5_vl", "qwen3_vl"])
    parser.add_argument("--size", choices=["tiny", "small"], default=None, help="random model size (default: small on GPU)")
    parser.add_argument("--resolution", type=int, default=None, help="clip side in pixels (default 448; 64 with --cpu-smoke)")
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (default 32; 4 with --cpu-smoke)")
    parser.add_argument("--max-pixels", type=int, default=None, help="per frame (default 448*448; 56*56 with --cpu-smoke)")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps per stage (default 3; 1 with --cpu-smoke)")
    parser.add_argument("--batch", type=int, default=None, help="per-device batch (default 4; 2 with --cpu-smoke)")
    parser.add_argument("--num-generations", type=int, default=None, help="GRPO group size (default 4; 2 with --cpu-smoke)")
    parser.add_argument("--completion-length", type=int, default=None, help="GRPO max new tokens (default 256; 8 with --cpu-smoke)")
    parser.add_argument("--samples", type=int, default=None, help="clips per family per config (default 4; 1 with --cpu-smoke)")
    args = parser.parse_args(argv)
    smoke = args.cpu_smoke
    defaults = {
        "family": ["qwen2_5_vl", "qwen3_vl"],
        "size": "tiny" if smoke else "small",
        "resolution": 64 if smoke else 448,
        "frames": 4 if smoke else 32,
        "max_pixels": 56 * 56 if smoke else 448 * 448,
        "steps": 1 if smoke else 3,
        "batch": 2 if smoke else 4,
        "num_generations": 2 if smoke else 4,
        "completion_length": 8 if smoke else 256,
        "samples": 1 if smoke else 4,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    report = run_check(parse_args(argv))
    return 1 if report.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
