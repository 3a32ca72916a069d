"""How fast is the online path? Online samples against the encode path, and the loader against a GRPO step.

    python perf/bench_online.py                          # all families, about 3 minutes
    python perf/bench_online.py --per-family 2 --steps 3 --json out.json

1. Pinned to ONE core, per family, the same samples two ways at a 16-frame, 448² budget:
   the encode path (``generate_sample`` at 448² = simulate + draw every frame + H.264 encode, then
   ``FrameBudget(num_frames=16).read`` = decode) against ``online_sample`` (simulate + draw the 16
   frames). ms per sample and the speed-up; the mix is all families in equal shares.
2. Pinned to ONE core: the online stream as ``config_online.yaml`` reads it (4 fps, at most 64
   frames, 448², every family, levels 0-4 in turn) through TRL's ``repeat_iterable_dataset``:
   unique samples per second.
3. A real online GRPO run (tiny offline Qwen3-VL on CPU, ``recipes/grpo.py`` with
   ``config_online.yaml``, the recipes' frame budget and 448² frames), timing inside the run how long
   the stream spends making samples: the loader's share of the wall time, and samples/s rendered
   against samples/s the steps consume.

Not a test: it prints numbers and checks them against the targets in BENCHMARKS.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_generate import machine_info  # noqa: E402

from synrl_hf import FAMILIES, generate_sample  # noqa: E402
from synrl_hf.frame_budget import DEFAULT_BUDGET, FrameBudget  # noqa: E402
from synrl_hf.online import online_sample  # noqa: E402

TARGETS = {"online_vs_encode": 20.0, "loader_share_of_step": 0.10}
BUDGET = FrameBudget(num_frames=16)
RESOLUTION = 448
SEED = 7


def per_family(families: list[str], count: int) -> list[dict[str, Any]]:
    rows = []
    for family in families:
        online_sample(family, 0, SEED, 0, BUDGET, resolution=RESOLUTION)  # warm up fonts and caches
        encode, online = [], []
        for index in range(1, count + 1):
            start = time.perf_counter()
            BUDGET.read(generate_sample(family, index, SEED, resolution=RESOLUTION)["video"])
            encode.append(time.perf_counter() - start)
            start = time.perf_counter()
            online_sample(family, index, SEED, 0, BUDGET, resolution=RESOLUTION)
            online.append(time.perf_counter() - start)
        rows.append({"family": family, "encode_ms": 1000 * statistics.mean(encode), "online_ms": 1000 * statistics.mean(online)})
        row = rows[-1]
        row["speedup"] = row["encode_ms"] / row["online_ms"]
        print(f"  {family:22s} encode {row['encode_ms']:7.1f} ms   online {row['online_ms']:6.1f} ms   {row['speedup']:5.1f}x", flush=True)
    return rows


def loader_rate(seconds: float) -> dict[str, float]:
    """Unique samples/s of the recipes' stream through TRL's repeat (as GRPOTrainer reads it)."""
    from trl.trainer.utils import repeat_iterable_dataset

    from synrl_hf.online import FixedLevels, OnlineStream, StreamSpec

    spec = StreamSpec.from_configs(["all"], budget=DEFAULT_BUDGET, resolution=RESOLUTION, block_size=8)
    rates = {}
    for level in range(5):
        stream = OnlineStream(spec, FixedLevels(dict.fromkeys(spec.families, level)))
        rows = iter(repeat_iterable_dataset(stream.dataset(), mini_repeat_count=8, batch_size=8))
        next(rows)  # warm up
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            for _ in range(8):  # one sample = its 8 repeated rows
                row = next(rows)
            count += 1
        rates[f"level{level}"] = count / (time.perf_counter() - start)
        print(
            f"  level {level}: {rates[f'level{level}']:.1f} samples/s (frames per sample: {len(row['video'].frames.indices)})", flush=True
        )
    rates["mean"] = statistics.mean(rates.values())
    return rates


def grpo_step_share(steps: int) -> dict[str, float]:
    """Run online GRPO on a tiny model and time the stream's sample making inside it."""
    import synrl_hf.online.stream as stream_module
    from synrl_hf.modeling import build_tiny_model
    from synrl_hf.online.grpo import LOG_FILE
    from synrl_hf.training.run import run_recipe

    made = {"seconds": 0.0, "samples": 0}
    original = stream_module.online_sample

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            made["seconds"] += time.perf_counter() - start
            made["samples"] += 1

    stream_module.online_sample = timed
    with tempfile.TemporaryDirectory() as folder:
        model = build_tiny_model(Path(folder) / "model", "qwen3_vl")
        out = Path(folder) / "out"
        argv = [
            *("--config", str(REPO / "recipes" / "Qwen3-VL-4B-Instruct" / "grpo" / "config_online.yaml")),
            *("--model_name_or_path", str(model), "--output_dir", str(out), "--use_cpu", "true", "--bf16", "false"),
            *("--dtype", "float32", "--report_to", "none", "--max_steps", str(steps), "--save_strategy", "no"),
            *("--per_device_train_batch_size", "8", "--gradient_accumulation_steps", "1", "--num_generations", "2"),
            *("--max_completion_length", "32", "--activation_checkpointing", "false", "--log_completions", "false"),
        ]
        start = time.perf_counter()
        run_recipe("grpo", argv)
        wall = time.perf_counter() - start
        consumed = sum(sum(r["groups"].values()) for r in map(json.loads, (out / LOG_FILE).read_text().splitlines()))
    stream_module.online_sample = original
    result = {
        "steps": steps,
        "wall_s": wall,
        "samples_consumed": consumed,
        "samples_made": made["samples"],
        "make_s": made["seconds"],
        "consumed_per_s": consumed / wall,
        "made_per_s": made["samples"] / made["seconds"],
        "loader_share": made["seconds"] / wall,
    }
    print(
        f"  {steps} steps in {wall:.1f} s: consumed {consumed} samples ({result['consumed_per_s']:.2f}/s); "
        f"the stream made {made['samples']} in {made['seconds']:.1f} s ({result['made_per_s']:.1f}/s), "
        f"{100 * result['loader_share']:.1f}% of the wall time",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--per-family", type=int, default=4)
    parser.add_argument("--loader-seconds", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    families = args.families.split(",")
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['cores_usable']} usable cores, load average at start {machine['load_average']}")
    all_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(all_cpus)})
    print(f"\n1. one core, {RESOLUTION}², {BUDGET.describe()}: encode path vs online")
    families_rows = per_family(families, args.per_family)
    encode_total = sum(r["encode_ms"] for r in families_rows)
    online_total = sum(r["online_ms"] for r in families_rows)
    mix = encode_total / online_total
    print(
        f"  mix of {len(families)} families: encode {encode_total / len(families):.1f} ms, online {online_total / len(families):.1f} ms per sample: {mix:.1f}x"
    )
    print(f"\n2. one core, the recipes' stream ({DEFAULT_BUDGET.describe()}, {RESOLUTION}², all families) through TRL's repeat")
    loader = loader_rate(args.loader_seconds)
    os.sched_setaffinity(0, all_cpus)
    print("\n3. online GRPO, tiny Qwen3-VL on CPU, recipes' budget: the stream's share of the run")
    step = grpo_step_share(args.steps)
    results = {"machine": machine, "per_family": families_rows, "mix_speedup": mix, "loader": loader, "grpo": step}
    print("\ntargets")
    for name, value, target, better in (
        ("online / encode path, mix of families, per core", mix, TARGETS["online_vs_encode"], value_at_least),
        ("stream's share of the GRPO run's wall time", step["loader_share"], TARGETS["loader_share_of_step"], value_at_most),
    ):
        print(f"  {name:52s} target {target:5}  measured {value:6.2f}  {'PASS' if better(value, target) else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return results


def value_at_least(value: float, target: float) -> bool:
    return value >= target


def value_at_most(value: float, target: float) -> bool:
    return value <= target


if __name__ == "__main__":
    main()
