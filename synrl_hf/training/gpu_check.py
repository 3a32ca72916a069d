"""A prepared check of the full-size models on one GPU with no network (``scripts/gpu_check.sh``).

For each of Qwen2.5-VL-7B, Qwen3-VL-4B and Qwen3-VL-8B it builds a **randomly initialised model of
the real size** from the shipped ``recipes/model_configs/<model>/config.json`` (directly on the GPU,
so host memory stays small; token ids remapped to the offline byte-level tokenizer, which changes no
shape), writes synthetic clips of the recipe's longest family as a dataset folder, and measures:

- ``generate``: the GRPO generate call at the recipe's shapes (``per_device_train_batch_size ×
  steps_per_generation`` sequences, the recipe's frame budget, ``max_completion_length`` new tokens
  forced), with peak memory and tokens/s;
- ``grpo_lora``: one LoRA GRPO step through ``recipes/grpo.py`` (one micro-batch of the recipe's size);
- ``sft_lora``: one LoRA SFT step through ``recipes/sft.py`` (full fine-tuning of these models needs
  the sharded optimizer of several GPUs; one GPU runs the LoRA variant).

Next to every measured peak it writes the prediction of :mod:`synrl_hf.training.memory_plan` for
the same shapes, so a GPU run checks the plan. Results go to ``--out`` (default
``$OUT/gpu_check.json``) after every stage, so a crash keeps what was measured.

``--cpu-smoke`` runs the same code path on CPU with the configs shrunk (2 layers, narrow widths),
64-px clips, 4 frames and fp32, in about a minute per model: the test suite runs it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODELS = ("Qwen2.5-VL-7B-Instruct", "Qwen3-VL-4B-Instruct", "Qwen3-VL-8B-Instruct")
# --cpu-smoke: every width shrunk, the structure (model type, deepstack, M-RoPE, tying) kept.
SMOKE_TEXT = dict(
    hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16, vocab_size=384
)
SMOKE_VISION = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2)
SMOKE_MROPE = {"qwen2_5_vl": [2, 3, 3], "qwen3_vl": [4, 2, 2]}  # sums to head_dim / 2


def random_model(name: str, out: Path, *, resolution: int, smoke: bool, device: str, dtype) -> Path:
    """Save a randomly initialised ``name`` (its shipped config; shrunk with ``smoke``) and an offline processor."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, GenerationConfig

    from ..modeling import build_tiny_processor

    config = AutoConfig.from_pretrained(str(REPO / "recipes" / "model_configs" / name))
    processor = build_tiny_processor(config.model_type, image_size=resolution)
    tok = processor.tokenizer
    for key, token in (
        ("image_token_id", "<|image_pad|>"),
        ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"),
        ("vision_end_token_id", "<|vision_end|>"),
    ):
        setattr(config, key, tok.convert_tokens_to_ids(token))
    text, vision = config.text_config, config.vision_config
    text.bos_token_id, text.eos_token_id, text.pad_token_id = tok.convert_tokens_to_ids("<|endoftext|>"), tok.eos_token_id, tok.pad_token_id
    if smoke:
        if getattr(text, "layer_types", None):  # one entry per layer (Qwen2.5-VL's sliding-window bookkeeping)
            text.layer_types = text.layer_types[: SMOKE_TEXT["num_hidden_layers"]]
        for key, value in SMOKE_TEXT.items():
            setattr(text, key, value)
        for key, value in SMOKE_VISION.items():
            setattr(vision, key, value)
        vision.out_hidden_size = text.hidden_size
        text.rope_parameters = {**text.rope_parameters, "mrope_section": SMOKE_MROPE[config.model_type]}
        if hasattr(vision, "deepstack_visual_indexes"):
            vision.deepstack_visual_indexes = [1]
        if hasattr(vision, "fullatt_block_indexes"):
            vision.fullatt_block_indexes = [1]
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=dtype)
    model.generation_config = GenerationConfig(
        bos_token_id=text.bos_token_id, eos_token_id=[tok.eos_token_id], pad_token_id=tok.pad_token_id
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    del model
    _release(device)
    return out


def _release(device: str) -> None:
    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> dict[str, float]:
    import torch

    if device != "cuda":
        return {}
    return {
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3),
        "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 3),
    }


def _logs(output_dir: Path) -> list[dict[str, Any]]:
    path = output_dir / "synrl_logs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _step_metrics(output_dir: Path, wall: float) -> dict[str, Any]:
    logs = _logs(output_dir)
    final = next((r for r in reversed(logs) if "train_runtime" in r), {})
    steps = [r for r in logs if "loss" in r]
    runtime = final.get("train_runtime") or wall
    tokens = max((r.get("num_tokens") or 0 for r in steps), default=0)
    return {
        "wall_seconds": round(wall, 3),
        "seconds_per_step": round(runtime, 4),
        "tokens": tokens,
        "tokens_per_second": round(tokens / runtime, 2) if runtime else None,
        "loss": steps[-1].get("loss") if steps else None,
    }


def _longest_family(preset: str = "round1") -> str:
    from ..families import FAMILIES, get_family

    return max(FAMILIES, key=lambda name: get_family(name).params(preset).duration[1])


class Check:
    """One model's three stages, sharing its random checkpoint, dataset and plan."""

    def __init__(self, name: str, args: argparse.Namespace, work: Path, data: Path, device: str):
        import torch

        from .data import load_split
        from .memory_plan import Launcher, ModelShape, RunShape

        self.name, self.args, self.work, self.data, self.device = name, args, work, data, device
        self.rows = load_split(str(data), "grpo", "train", cache_dir=str(work / "cache"))
        self.seconds = max(self.rows["duration"])  # the plan is made for the longest clip measured
        self.dtype = torch.bfloat16 if device == "cuda" else torch.float32
        recipe = REPO / "recipes" / name / "grpo" / "config_round1.yaml"
        overrides: dict[str, Any] = {"max_completion_length": args.completion_length}
        if args.frames:
            overrides.update(video_fps=None, video_num_frames=args.frames, video_max_frames=None)
        if args.max_pixels:
            overrides["video_max_pixels"] = args.max_pixels
        if args.batch:
            overrides.update(per_device_train_batch_size=args.batch, num_generations=args.num_generations)
        if args.steps_per_generation:
            overrides["steps_per_generation"] = args.steps_per_generation
        self.run = RunShape.from_recipe(recipe, overrides)
        self.model_dir = random_model(
            name, work / f"model_{name}", resolution=args.resolution, smoke=args.cpu_smoke, device=device, dtype=self.dtype
        )
        self.shape = ModelShape.from_config(self.model_dir)
        self.single = Launcher("one GPU", "NO", num_processes=1)

    def budget_args(self) -> list[str]:
        run = self.run
        frames = ["--video_fps", "None", "--video_num_frames", str(run.num_frames), "--video_max_frames", "None"] if run.num_frames else []
        return [*frames, "--video_max_pixels", str(run.max_pixels)]

    def planned(self, run, seconds: float) -> Any:
        from .memory_plan import build_plan, video_shape

        video = video_shape(self.shape.model_type, run, seconds, resolution=self.args.resolution)
        return build_plan(self.shape, self.single, run, gpu_gib=self.args.gpu_gib, video=video)

    def generate(self) -> dict[str, Any]:
        """The GRPO generate call at the recipe's shapes: sequences, frame budget, forced completion length."""
        import torch

        from ..modeling import chat_inputs, load_model, load_processor, vision_pad_token_ids
        from .memory_plan import budget_of

        run, rows = self.run, self.rows
        sequences = run.per_device_batch * run.steps_per_generation
        budget = budget_of(run)
        prompts = [rows[(i // run.num_generations) % len(rows)] for i in range(sequences)]
        clips = {row["id"]: budget.read(row["video"]) for row in prompts}
        processor = load_processor(self.model_dir, padding_side="left")
        inputs = chat_inputs(processor, [r["prompt"] for r in prompts], [clips[r["id"]] for r in prompts], max_pixels=budget.max_pixels)
        video_tokens = int((inputs["input_ids"][0] == processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")).sum())
        model = load_model(self.model_dir, dtype=self.dtype, attn_implementation="sdpa").to(self.device).eval()
        inputs = inputs.to(self.device)
        _release(self.device)
        new = run.max_completion_length
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(
                **inputs,
                max_new_tokens=new,
                min_new_tokens=new,
                do_sample=True,
                temperature=1.0,
                suppress_tokens=vision_pad_token_ids(processor),
            )
        if self.device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        generated = int(out.shape[0] * (out.shape[1] - inputs["input_ids"].shape[1]))
        result = {
            "sequences": sequences,
            "prompt_tokens": int(inputs["input_ids"].shape[1]),
            "video_tokens_per_sample": video_tokens,
            "new_tokens": generated,
            "seconds": round(seconds, 3),
            "tokens_per_second": round(generated / seconds, 2),
            **_peak(self.device),
        }
        plan = self.planned(run, self.seconds)
        phase = plan.phases["generate"]
        # On one GPU the whole bf16 model is resident, as the gathered weights of a ZeRO-3 generate call.
        predicted = 2 * self.shape.params + sum(v for k, v in phase.items() if k.startswith(("pixel", "KV")))
        result["planned_gib"] = round(predicted / 2**30, 3)
        del model, out, inputs
        _release(self.device)
        return result

    def grpo_lora(self) -> dict[str, Any]:
        return self.step("grpo")

    def sft_lora(self) -> dict[str, Any]:
        return self.step("sft")

    def step(self, stage: str) -> dict[str, Any]:
        """One LoRA step through recipes/<stage>.py with the recipe's micro-batch."""
        from .run import run_recipe

        run = self.run
        output_dir = self.work / f"{stage}_{self.name}"
        recipe = REPO / "recipes" / self.name / stage / ("config_round1.yaml" if stage == "grpo" else "config_synrl.yaml")
        argv = ["--config", str(recipe), "--model_name_or_path", str(self.model_dir), "--output_dir", str(output_dir)]
        argv += ["--dataset_name", str(self.data), "--dataset_cache_dir", str(self.work / "cache"), *self.budget_args()]
        argv += ["--use_peft", "true", "--max_steps", "1", "--gradient_accumulation_steps", "1", "--logging_steps", "1"]
        argv += ["--save_strategy", "no", "--report_to", "none", "--attn_implementation", "sdpa"]
        argv += (
            ["--bf16", "true", "--dtype", "bfloat16"]
            if self.device == "cuda"
            else ["--bf16", "false", "--dtype", "float32", "--use_cpu", "true"]
        )
        if stage == "grpo":
            argv += ["--per_device_train_batch_size", str(run.per_device_batch), "--num_generations", str(run.num_generations)]
            argv += ["--steps_per_generation", "1", "--max_completion_length", str(run.max_completion_length), "--log_completions", "false"]
            planned_run = replace(run, use_peft=True, gradient_accumulation_steps=1, steps_per_generation=1)
        else:
            planned_run = replace(run, stage="sft", dataset_config="sft", use_peft=True, per_device_batch=1, gradient_accumulation_steps=1)
        _release(self.device)
        start = time.perf_counter()
        run_recipe(stage, argv)
        result = {**_step_metrics(output_dir, time.perf_counter() - start), **_peak(self.device)}
        result["planned_gib"] = round(self.planned(planned_run, self.seconds).peak_bytes / 2**30, 3)
        _release(self.device)
        return result


def run_check(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from .testing import grpo_rows, sft_rows, write_dataset

    cuda = torch.cuda.is_available() and not args.cpu_smoke
    if not cuda and not args.cpu_smoke:
        raise SystemExit("no CUDA device: run with --cpu-smoke for the CPU path")
    device = "cuda" if cuda else "cpu"
    out_file = Path(args.out or Path(os.environ.get("OUT", ".")) / "gpu_check.json")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "mode": "gpu" if cuda else "cpu-smoke",
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 2) if cuda else None,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": {},
    }
    import transformers
    import trl

    report["versions"].update(trl=trl.__version__, transformers=transformers.__version__)

    def save():
        out_file.write_text(json.dumps(report, indent=2, default=str) + "\n")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="synrl_gpu_check_"))
    start = time.perf_counter()
    family = _longest_family()
    data = write_dataset(
        work / "data",
        {
            "sft": sft_rows(args.samples, (family,), resolution=args.resolution),
            "grpo": grpo_rows(args.samples, (family,), resolution=args.resolution),
        },
    )
    report["data_seconds"] = round(time.perf_counter() - start, 3)
    for name in args.models:
        result: dict[str, Any] = {}
        report["results"][name] = result
        try:
            check = Check(name, args, work, data, device)
            result["parameters"] = check.shape.params
        except Exception as error:
            result["error"] = repr(error)
            report["failed"] = True
            save()
            continue
        for stage in ("generate", "grpo_lora", "sft_lora"):
            try:
                result[stage] = getattr(check, stage)()
            except Exception as error:
                result[stage] = {"error": repr(error), "traceback": traceback.format_exc()[-4000:]}
                report["failed"] = True
            save()
        if not args.keep_models:
            import shutil

            shutil.rmtree(check.model_dir, ignore_errors=True)  # a full-size checkpoint is 8-17 GB
    report["total_seconds"] = round(time.perf_counter() - start, 3)
    save()
    summary_keys = ("tokens_per_second", "seconds_per_step", "peak_memory_gib", "planned_gib", "error")
    summary = {
        m: {s: {k: v for k, v in r.items() if k in summary_keys} for s, r in res.items() if isinstance(r, dict)}
        for m, res in report["results"].items()
    }
    print(json.dumps(summary, indent=1))
    print(f"written: {out_file}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/gpu_check.sh", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="configs shrunk, tiny clips, CPU, fp32 (what the tests run)")
    parser.add_argument("--out", default=None, help="results JSON (default $OUT/gpu_check.json or ./gpu_check.json)")
    parser.add_argument("--workdir", default=None, help="where models, data and runs go (default: a temp dir)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, help="default: all three")
    parser.add_argument("--keep-models", action="store_true", help="keep the random checkpoints in the workdir")
    parser.add_argument(
        "--resolution", type=int, default=None, help="clip side in pixels (default 448, the dataset's; 64 with --cpu-smoke)"
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="frames per clip instead of the recipe's rate (default: the recipe's; 4 with --cpu-smoke)"
    )
    parser.add_argument("--max-pixels", type=int, default=None, help="per frame (default: the recipe's; 56*56 with --cpu-smoke)")
    parser.add_argument(
        "--completion-length", type=int, default=None, help="new tokens per sequence (default 1024, the recipe's; 8 with --cpu-smoke)"
    )
    parser.add_argument("--batch", type=int, default=None, help="micro-batch = group size (default: the recipe's 8; 2 with --cpu-smoke)")
    parser.add_argument("--steps-per-generation", type=int, default=None, help="default: the recipe's (1 with --cpu-smoke)")
    parser.add_argument("--samples", type=int, default=None, help="clips per config (default 4; 1 with --cpu-smoke)")
    parser.add_argument("--gpu-gib", type=float, default=80.0, help="GPU memory the plan's fit is judged against (default 80)")
    args = parser.parse_args(argv)
    smoke = {
        "resolution": 64,
        "frames": 4,
        "max_pixels": 56 * 56,
        "completion_length": 8,
        "batch": 2,
        "steps_per_generation": 1,
        "samples": 1,
    }
    full = {
        "resolution": 448,
        "frames": None,
        "max_pixels": None,
        "completion_length": 1024,
        "batch": None,
        "steps_per_generation": None,
        "samples": 4,
    }
    for key, value in (smoke if args.cpu_smoke else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.num_generations = args.batch
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
