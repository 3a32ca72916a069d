"""How much does one vision pass per distinct video save in a GRPO step? Tiny Qwen-VL models, CPU.

    python perf/bench_grpo_vision.py                       # both model types, about 3 minutes on 2 cores
    python perf/bench_grpo_vision.py --model-types qwen3_vl --steps 3 --json out.json

For each model type, the same GRPO run (``VideoGRPOTrainer`` on offline tiny models, the recipe's
``beta: 0``, ``num_generations: 8``) is timed with ``vision_dedupe`` on and off, each in a fresh
child process (so peak memory is the step's own). One optimizer step = one generation call over
``prompts × 8`` completions + ``prompts`` loss micro-batches of 8 completions (forward + backward).
Reported per step (the median over the measured steps; the first step is a warm-up):

- seconds per step, and the growth of the process's peak resident memory over the run;
- vision-tower calls and patch rows it processed, split into generation (no grad) and loss
  forwards (grad), and the seconds spent in its forward: patch rows are what its compute scales with
  (backward runs on the same rows).

Not a test: it prints numbers and checks the ≥ 3× target in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GENERATIONS = 8
TARGET = 3.0


def child(settings: dict[str, Any]) -> dict[str, Any]:
    """One run in this process: build data and model, train ``warmup + steps`` steps, measure."""
    import torch
    from transformers import TrainerCallback
    from trl import GRPOConfig

    from synrl_hf.frame_budget import FrameBudget
    from synrl_hf.modeling import build_tiny_model, load_model_and_processor
    from synrl_hf.training.data import load_split
    from synrl_hf.training.grpo_trainer import VideoGRPOTrainer
    from synrl_hf.training.testing import grpo_rows, write_dataset

    torch.set_num_threads(settings["threads"])
    work = Path(settings["workdir"])
    folder = work / "data"
    if not (folder / "README.md").exists():
        write_dataset(folder, {"grpo": grpo_rows(settings["prompts"], ("direction",), resolution=settings["resolution"], seed=7)})
    model_dir = work / settings["model_type"]
    if not (model_dir / "config.json").exists():
        build_tiny_model(model_dir, settings["model_type"], image_size=settings["pixels_side"])
    model, processor = load_model_and_processor(model_dir, processor_kwargs={"padding_side": "left"})
    steps = settings["warmup"] + settings["steps"]
    args = GRPOConfig(
        output_dir=str(work / "out"),
        use_cpu=True,
        bf16=False,
        report_to="none",
        max_steps=steps,
        per_device_train_batch_size=GENERATIONS,
        num_generations=GENERATIONS,
        steps_per_generation=settings["prompts"],
        gradient_accumulation_steps=settings["prompts"],
        max_completion_length=settings["completion_tokens"],
        learning_rate=1e-6,
        beta=0.0,
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    budget = FrameBudget(num_frames=settings["frames"], max_pixels=settings["pixels_side"] ** 2)

    def reward(completions, **kwargs):
        return [float(len(c[0]["content"]) % 3) for c in completions]

    trainer = VideoGRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=load_split(str(folder), "grpo", "train", cache_dir=str(work / "cache")),
        processing_class=processor,
        frame_budget=budget,
        vision_dedupe=settings["dedupe"],
    )
    towers = [m.visual for m in trainer.model.modules() if hasattr(m, "get_video_features") and hasattr(m, "visual")]
    tally = {"calls": 0, "patches_generation": 0, "patches_loss": 0, "seconds": 0.0}
    started: list[float] = []

    def before(module, args, kwargs):
        tally["calls"] += 1
        rows = (args[0] if args else kwargs["hidden_states"]).shape[0]
        tally["patches_loss" if torch.is_grad_enabled() else "patches_generation"] += rows
        started.append(time.perf_counter())

    def after(module, args, output):
        tally["seconds"] += time.perf_counter() - started.pop()

    for tower in towers:
        tower.register_forward_pre_hook(before, with_kwargs=True)
        tower.register_forward_hook(after)

    per_step: list[dict[str, float]] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            tally.update(calls=0, patches_generation=0, patches_loss=0, seconds=0.0)
            self.begin = time.perf_counter()

        def on_step_end(self, *a, **k):
            per_step.append({"step_seconds": time.perf_counter() - self.begin, **tally})

    trainer.add_callback(Clock())
    rss_before = _rss_kib()
    trainer.train()
    measured = per_step[settings["warmup"] :]
    result = {key: statistics.median(step[key] for step in measured) for key in measured[0]}
    result["peak_rss_growth_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    result["patches_per_video"] = _patches_per_video(trainer)
    return result


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _patches_per_video(trainer) -> int:
    from synrl_hf.modeling import video_inputs

    row = trainer.train_dataset[0]
    text = trainer.processing_class.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    frames = trainer.frame_budget.read(row["video"])
    encoded = video_inputs(trainer.processing_class, [frames], text, max_pixels=trainer.frame_budget.max_pixels)
    return int(encoded["pixel_values_videos"].shape[0])


def run_child(settings: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(settings["threads"]), "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(settings)], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({settings['model_type']}, dedupe={settings['dedupe']}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_info() -> dict[str, Any]:
    import torch
    import transformers
    import trl

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores_usable": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-types", default="qwen2_5_vl,qwen3_vl")
    parser.add_argument("--prompts", type=int, default=2, help="prompts per optimizer step (each gets 8 completions)")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip")
    parser.add_argument("--pixels-side", type=int, default=224, help="max pixels per frame = side²")
    parser.add_argument("--resolution", type=int, default=256, help="rendered clip resolution")
    parser.add_argument("--completion-tokens", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="measured steps (after one warm-up step)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return {}

    info = machine_info()
    print(f"machine: {info['cpu']}, {info['cores_usable']} usable cores, load {info['load_average'][0]:.2f}, torch {info['torch']}")
    print(
        f"GRPO step: {args.prompts} prompts x {GENERATIONS} generations, {args.frames} frames <= {args.pixels_side}² px, "
        f"{args.completion_tokens} completion tokens, {args.threads} thread(s), median of {args.steps} steps after 1 warm-up\n"
    )
    results: dict[str, Any] = {"machine": info, "settings": vars(args) | {"num_generations": GENERATIONS}, "runs": {}}
    header = f"{'model':<11} {'dedupe':<6} {'s/step':>7} {'peak RSS +MiB':>13} {'tower calls':>11} {'patches gen':>11} {'patches loss':>12} {'tower fwd s':>11}"
    print(header)
    with tempfile.TemporaryDirectory() as workdir:
        for model_type in args.model_types.split(","):
            runs = {}
            for dedupe in (False, True):
                settings = {
                    "model_type": model_type,
                    "dedupe": dedupe,
                    "workdir": workdir,
                    "prompts": args.prompts,
                    "frames": args.frames,
                    "pixels_side": args.pixels_side,
                    "resolution": args.resolution,
                    "completion_tokens": args.completion_tokens,
                    "warmup": 1,
                    "steps": args.steps,
                    "threads": args.threads,
                }
                run = runs["on" if dedupe else "off"] = run_child(settings)
                print(
                    f"{model_type:<11} {'on' if dedupe else 'off':<6} {run['step_seconds']:>7.2f} {run['peak_rss_growth_mib']:>13.0f} "
                    f"{run['calls']:>11.0f} {run['patches_generation']:>11.0f} {run['patches_loss']:>12.0f} {run['seconds']:>11.3f}"
                )
            off, on = runs["off"], runs["on"]
            patches_off = off["patches_generation"] + off["patches_loss"]
            patches_on = on["patches_generation"] + on["patches_loss"]
            runs["vision_compute_reduction"] = patches_off / patches_on
            runs["step_speedup"] = off["step_seconds"] / on["step_seconds"]
            results["runs"][model_type] = runs
    print()
    for model_type, runs in results["runs"].items():
        reduction = runs["vision_compute_reduction"]
        print(
            f"{model_type}: vision-tower patches per step {reduction:.1f}x fewer "
            f"({'PASS' if reduction >= TARGET else 'FAIL'} >= {TARGET:g}x), step {runs['step_speedup']:.2f}x faster"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
