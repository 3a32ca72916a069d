"""Real 2-process runs on CPU (gloo) through the recipe entry points: torchrun, and the documented DeepSpeed ZeRO-3 launch."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synrl_hf.modeling import build_tiny_model
from synrl_hf.training.testing import grpo_rows, sft_rows, write_dataset
from tests.recipe_args import CPU_RUN

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(), reason="no torchrun")
def test_grpo_two_processes_with_torchrun(tmp_path):
    model = build_tiny_model(tmp_path / "model", "qwen3_vl")
    data = write_dataset(tmp_path / "synrl", {"grpo": grpo_rows(2, ("direction", "collision_count"))})
    out = tmp_path / "out"
    torchrun = Path(sys.executable).parent / "torchrun"
    command = [
        str(torchrun if torchrun.exists() else "torchrun"),
        "--nproc_per_node",
        "2",
        "--master_port",
        str(free_port()),
        str(REPO / "recipes" / "grpo.py"),
        "--config",
        str(REPO / "recipes" / "Qwen3-VL-4B-Instruct" / "grpo" / "config_round1.yaml"),
        "--model_name_or_path",
        str(model),
        "--output_dir",
        str(out),
        "--dataset_name",
        str(data),
        "--dataset_cache_dir",
        str(tmp_path / "cache"),
        *CPU_RUN,
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "2",
        "--gradient_accumulation_steps",
        "1",
        "--num_generations",
        "2",
        "--max_completion_length",
        "12",
        "--logging_steps",
        "1",
        "--save_strategy",
        "no",
        "--activation_checkpointing",
        "false",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    run = json.loads((out / "synrl_run.json").read_text())
    assert run["world_size"] == 2 and run["global_step"] == 2
    assert run["training"]["completions_per_step"] == 4 and run["training"]["prompts_per_step"] == 2
    logs = [json.loads(line) for line in (out / "synrl_logs.jsonl").read_text().splitlines()]
    assert len([r for r in logs if "loss" in r]) == 2  # only rank 0 writes the log
    # Completions of both ranks are gathered into the table: 2 prompts x 2 generations per step.
    table = pd.read_parquet(sorted((out / "completions").glob("*.parquet"))[0])
    assert len(table) == 4 and set(table["task"]) <= {"direction", "collision_count"}
    assert (out / "model.safetensors").exists()


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is None, reason="deepspeed is not installed (the train extra pins it)")
def test_documented_zero3_launch_runs_sft_then_grpo_on_the_deepspeed_cpu_accelerator(tmp_path):
    """`accelerate launch --config_file recipes/accelerate_configs/zero3.yaml recipes/{sft,grpo}.py --config ...`
    as the README documents it, on CPU: two gloo processes, DeepSpeed's CPU accelerator, ZeRO-3, one step each.
    Only what a CPU needs is overridden: 2 processes, no bf16, and the gloo backend."""
    model = build_tiny_model(tmp_path / "model", "qwen3_vl")
    data = write_dataset(tmp_path / "synrl", {"sft": sft_rows(2, ("direction",)), "grpo": grpo_rows(2, ("direction", "collision_count"))})
    accelerate = Path(sys.executable).parent / "accelerate"
    cpu = ["--bf16", "false", "--dtype", "float32", "--ddp_backend", "gloo", "--report_to", "none", "--save_strategy", "no"]
    tiny = ["--video_fps", "None", "--video_num_frames", "4", "--video_max_pixels", str(56 * 56), "--max_steps", "1"]
    tiny += ["--dataset_name", str(data), "--dataset_cache_dir", str(tmp_path / "cache"), "--activation_checkpointing", "false"]
    grpo = ["--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--steps_per_generation", "1"]
    grpo += ["--num_generations", "2", "--max_completion_length", "8", "--log_completions", "false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = str(model)
    for stage, extra in (("sft", []), ("grpo", grpo)):
        recipe = REPO / "recipes" / "Qwen3-VL-4B-Instruct" / stage / ("config_synrl.yaml" if stage == "sft" else "config_round1.yaml")
        out = tmp_path / stage
        command = [str(accelerate), "launch", "--config_file", str(REPO / "recipes" / "accelerate_configs" / "zero3.yaml")]
        command += ["--num_processes", "2", "--mixed_precision", "no", "--main_process_port", str(free_port())]
        command += [str(REPO / "recipes" / f"{stage}.py"), "--config", str(recipe), "--model_name_or_path", start, "--output_dir", str(out)]
        result = subprocess.run([*command, *cpu, *tiny, *extra], capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        run = json.loads((out / "synrl_run.json").read_text())
        assert run["launcher"] == {"distributed_type": "DEEPSPEED", "zero_stage": 3} and run["world_size"] == 2
        assert run["global_step"] == 1 and (out / "model.safetensors").exists()
        start = str(out)  # GRPO starts from the ZeRO-3 SFT checkpoint, as in the README
