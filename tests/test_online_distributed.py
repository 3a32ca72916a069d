"""Two real processes (torchrun, gloo, CPU): no online sample is repeated across ranks x DataLoader
workers, neither in a plain DataLoader over the stream nor in an online GRPO run through recipes/grpo.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synrl_hf.modeling import build_tiny_model
from synrl_hf.online.grpo import LOG_FILE

REPO = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).parent / "torchrun"
ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

pytestmark = pytest.mark.skipif(shutil.which("torchrun") is None and not TORCHRUN.exists(), reason="no torchrun")


def torchrun(script: Path, *args: str, cwd: Path) -> None:
    from test_training_distributed import free_port

    command = [str(TORCHRUN if TORCHRUN.exists() else "torchrun"), "--nproc_per_node", "2", "--master_port", str(free_port())]
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([*command, str(script), *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_two_ranks_with_two_workers_each_read_disjoint_lanes(tmp_path):
    torchrun(REPO / "tests" / "online_ranks.py", str(tmp_path / "rows.json"), cwd=tmp_path)
    report = json.loads((tmp_path / "rows.json").read_text())
    ranks = report["ranks"]
    ids = [row[0] for rows in ranks for row in rows]
    per_rank = report["block"] * report["blocks"]
    assert [len(rows) for rows in ranks] == [per_rank, per_rank] and len(ids) == len(set(ids))
    lanes = [{row[1] for row in rows} for rows in ranks]
    assert lanes[0].isdisjoint(lanes[1]) and lanes[0] | lanes[1] == set(range(2 * report["workers"]))
    # Together the 2 ranks x 2 workers read exactly the first positions of the stream, each once.
    assert sorted(row[2] for rows in ranks for row in rows) == list(range(2 * per_rank))


def test_online_grpo_on_two_processes_never_repeats_a_sample(tmp_path):
    model = build_tiny_model(tmp_path / "model", "qwen3_vl")
    out = tmp_path / "out"
    torchrun(
        REPO / "recipes" / "grpo.py",
        *("--config", str(REPO / "recipes" / "Qwen3-VL-4B-Instruct" / "grpo" / "config_online.yaml")),
        *("--model_name_or_path", str(model), "--output_dir", str(out), "--use_cpu", "true", "--bf16", "false"),
        *("--dtype", "float32", "--report_to", "none", "--video_fps", "None", "--video_num_frames", "4"),
        *("--video_max_pixels", str(56 * 56), "--max_steps", "4", "--per_device_train_batch_size", "2"),
        *("--gradient_accumulation_steps", "1", "--num_generations", "2", "--max_completion_length", "12"),
        *("--logging_steps", "1", "--save_strategy", "no", "--activation_checkpointing", "false"),
        *("--online_resolution", "64", "--online_configs", "direction,chip_container"),
        *("--online_start_level", "3", "--online_min_groups", "1"),
        cwd=tmp_path,
    )
    records = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["update"] for r in records] == [1, 2, 3, 4]
    # Per generation: 2 ranks x 2 completions = 2 prompts of 2 generations each, gathered from both ranks.
    assert all(sum(r["groups"].values()) == 2 for r in records)
    ids = [sample for r in records for sample, _ in r["samples"]]
    assert len(ids) == len(set(ids)) == 8
    # Each rank rendered its own prompt at the levels of its own controller; they agree with rank 0's
    # history (version u - 1 - lag for generation u), so both ranks made the same level moves.
    versions = [records[0]["levels_before"]] + [r["levels"] for r in records]
    for update, record in enumerate(records, start=1):
        levels = versions[max(0, update - 2)]
        assert all(level == levels[sample.split("-s")[0]] for sample, level in record["samples"]), record
    assert min(level for r in records for _, level in r["samples"]) < 3  # levels did move
    run = json.loads((out / "synrl_run.json").read_text())
    assert run["world_size"] == 2 and run["global_step"] == 4
