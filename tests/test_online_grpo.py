"""Online GRPO through recipes/grpo.py and each model's config_online.yaml, with the real TRL trainer on
tiny offline models, on CPU: it runs, logs the levels every step, checkpoints the stream position and
the controller, and a run resumed from a checkpoint renders the samples, at the levels, that the
uninterrupted run rendered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synrl_hf.frame_budget import DEFAULT_BUDGET
from synrl_hf.modeling import build_tiny_model
from synrl_hf.online.grpo import LOG_FILE, PLOT_FILE, STATE_FILE, OnlineArguments, OnlineRun
from synrl_hf.training.run import run_recipe

REPO = Path(__file__).resolve().parents[1]
RECIPES = {"Qwen2.5-VL-7B-Instruct": "qwen2_5_vl", "Qwen3-VL-4B-Instruct": "qwen3_vl", "Qwen3-VL-8B-Instruct": "qwen3_vl"}
TINY = [  # what makes the real recipes run in seconds on 2 CPU cores
    *("--use_cpu", "true", "--bf16", "false", "--dtype", "float32", "--report_to", "none"),
    *("--video_fps", "None", "--video_num_frames", "4", "--video_max_pixels", str(56 * 56)),
    *("--logging_steps", "1", "--activation_checkpointing", "false", "--gradient_accumulation_steps", "1", "--steps_per_generation", "1"),
    *("--per_device_train_batch_size", "4", "--num_generations", "2", "--max_completion_length", "12"),
    # Small clips of two families, starting high: the tiny model answers nothing right, so levels come down.
    *("--online_resolution", "64", "--online_configs", "direction,chip_container", "--online_start_level", "3"),
    *("--online_min_groups", "1", "--save_steps", "2"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {kind: build_tiny_model(root / kind, kind) for kind in set(RECIPES.values())}


def run_online(recipe: str, model: Path, out: Path, *extra: str) -> None:
    config = REPO / "recipes" / recipe / "grpo" / "config_online.yaml"
    run_recipe("grpo", ["--config", str(config), "--model_name_or_path", str(model), "--output_dir", str(out), *TINY, *extra])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("recipe", ["Qwen2.5-VL-7B-Instruct", "Qwen3-VL-8B-Instruct"])
def test_online_grpo_runs_logs_levels_and_checkpoints_the_stream(recipe, models, tmp_path):
    out = tmp_path / "out"
    run_online(recipe, models[RECIPES[recipe]], out, "--max_steps", "2")
    records = read_jsonl(out / LOG_FILE)
    assert [r["update"] for r in records] == [1, 2]
    ids = [sample for r in records for sample, _ in r["samples"]]
    assert len(ids) == len(set(ids)) == 4  # 2 generations x 2 prompts, none repeated
    logs = read_jsonl(out / "synrl_logs.jsonl")
    steps = [r for r in logs if "loss" in r]
    assert len(steps) == 2 and all("curriculum/level/direction" in r and "curriculum/level/chip_container" in r for r in steps)
    state = json.loads((out / "checkpoint-2" / STATE_FILE).read_text())
    assert state["next_block"] == 2 and state["curriculum"]["updates"] == 2
    assert (out / PLOT_FILE).stat().st_size > 10_000 and (out / "model.safetensors").exists()


def test_a_resumed_online_run_continues_the_uninterrupted_one(models, tmp_path):
    recipe, model = "Qwen3-VL-4B-Instruct", models["qwen3_vl"]
    whole = tmp_path / "whole"
    run_online(recipe, model, whole, "--max_steps", "4")
    records = read_jsonl(whole / LOG_FILE)
    assert [r["update"] for r in records] == [1, 2, 3, 4]
    levels = [lv for r in records for _, lv in r["samples"]]
    assert levels[0] == 3 and min(levels) < 3  # the controller moved levels during the run
    # Resume from the step-2 checkpoint in a copy of the run folder as it was then.
    resumed = tmp_path / "resumed"
    shutil.copytree(whole / "checkpoint-2", resumed / "checkpoint-2")
    (resumed / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in records[:3]))  # logged past the checkpoint
    run_online(recipe, model, resumed, "--max_steps", "4", "--resume_from_checkpoint", str(resumed / "checkpoint-2"))
    assert read_jsonl(resumed / LOG_FILE) == records
    final, again = (json.loads((folder / STATE_FILE).read_text()) for folder in (whole, resumed))
    assert final == again and final["next_block"] == 4


def test_online_settings_are_checked_before_the_model_loads(models, tmp_path):
    model = models["qwen3_vl"]
    with pytest.raises(ValueError, match="save_steps 3 must end on a generation"):
        run_online("Qwen3-VL-4B-Instruct", model, tmp_path / "a", "--max_steps", "4", "--save_steps", "3", "--steps_per_generation", "2")
    with pytest.raises(ValueError, match="online GRPO has no eval split"):
        run_online("Qwen3-VL-4B-Instruct", model, tmp_path / "e", "--max_steps", "2", "--eval_strategy", "steps", "--eval_steps", "1")
    with pytest.raises(ValueError, match="steers by the 'accuracy' reward"):
        run_online("Qwen3-VL-4B-Instruct", model, tmp_path / "b", "--max_steps", "2", "--reward_funcs", "format")
    with pytest.raises(FileNotFoundError, match="was not saved by an online run"):
        (tmp_path / "c" / "checkpoint-2").mkdir(parents=True)
        run_online(
            "Qwen3-VL-4B-Instruct",
            model,
            tmp_path / "c",
            "--max_steps",
            "4",
            "--resume_from_checkpoint",
            str(tmp_path / "c" / "checkpoint-2"),
        )
    with pytest.raises(ValueError, match="pass-rate band is two numbers"):
        OnlineArguments(online=True, online_band=[0.8, 0.2])
    assert OnlineArguments(online_configs=["direction,card_stack"]).online_configs == ["direction", "card_stack"]


def test_a_checkpoint_of_another_stream_is_refused(tmp_path):
    from trl import GRPOConfig

    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2, use_cpu=True, report_to="none")
    run = OnlineRun(OnlineArguments(online=True, online_configs=["direction"]), DEFAULT_BUDGET, args)
    run.save(tmp_path / "checkpoint-2")
    other = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        num_generations=2,
        use_cpu=True,
        report_to="none",
        resume_from_checkpoint=str(tmp_path / "checkpoint-2"),
    )
    with pytest.raises(ValueError, match="saved by a stream with other settings \\(families\\)"):
        OnlineRun(OnlineArguments(online=True, online_configs=["card_stack"]), DEFAULT_BUDGET, other)
