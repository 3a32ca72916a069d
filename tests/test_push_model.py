"""synrl push-model against an in-process Hub (huggingface_hub's real client, a fake HTTP transport)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub.utils import set_client_factory
from huggingface_hub.utils._http import default_client_factory

from synrl_hf.frame_budget import FrameBudget
from synrl_hf.hub_model import add_push_model_parser, check_checkpoint, push_model, read_results
from synrl_hf.modeling import build_tiny_model, load_model_and_processor, load_processor
from tests.fake_hub import fake_hub
from tests.recipe_args import CPU_RUN

TOKEN = "hf_abcdefghijklmnopqrstuvwxyz123456"


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", TOKEN)


RUN = {
    "stage": "grpo",
    "base_model": "Qwen/Qwen3-VL-4B-Instruct",
    "init_model": "data/Qwen3-VL-4B-SynRL-SFT",
    "dataset": {"name": "synrl-hf/synrl", "config": "grpo", "split": "train"},
    "frame_budget": {"fps": 4.0, "num_frames": None, "max_frames": 64, "max_pixels": 100352, "min_pixels": None},
    "video_mode": "video",
    "training": {
        "learning_rate": 1e-6,
        "num_generations": 8,
        "temperature": 1.0,
        "beta": 0.0,
        "completions_per_step": 512,
        "prompts_per_step": 64,
    },
    "world_size": 8,
    "rewards": ["accuracy"],
    "versions": {"trl": "1.16.0"},
    "stages": [
        {
            "stage": "sft",
            "init_model": "Qwen/Qwen3-VL-4B-Instruct",
            "dataset": {"name": "synrl-hf/synrl", "config": "sft"},
            "global_step": 240,
        },
        {
            "stage": "grpo",
            "init_model": "data/Qwen3-VL-4B-SynRL-SFT",
            "dataset": {"name": "synrl-hf/synrl", "config": "grpo"},
            "global_step": 14,
        },
    ],
}


def finished_run(folder: Path, family: str = "qwen3_vl") -> Path:
    """A folder laid out like recipes/grpo.py leaves it (weights, processor, run record, leftovers)."""
    build_tiny_model(folder, family)
    (folder / "synrl_run.json").write_text(json.dumps(RUN))
    FrameBudget.from_dict(RUN["frame_budget"]).save(folder)
    (folder / "synrl_recipe.yaml").write_text("model_name_or_path: data/Qwen3-VL-4B-SynRL-SFT\nbeta: 0.0\n")
    (folder / "synrl_logs.jsonl").write_text('{"step": 1, "reward": 0.5}\n')
    (folder / "training_args.bin").write_bytes(b"pickle")
    (folder / "checkpoint-10").mkdir()
    (folder / "checkpoint-10" / "optimizer.pt").write_bytes(b"x")
    (folder / "completions").mkdir()
    return folder


def test_push_full_model_round_trips(tmp_path, online):
    ckpt = finished_run(tmp_path / "run")
    with fake_hub() as hub:
        url = push_model(ckpt, "org/Qwen3-VL-4B-SynRL", private=True, results={"TOMATO": {"acc": 0.388}, "MVBench": {"acc": 0.654}})
    assert url.endswith("/commit/" + "0" * 40) and hub.private["org/Qwen3-VL-4B-SynRL"]
    files = hub.repos["org/Qwen3-VL-4B-SynRL"]
    assert {
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "processor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "chat_template.jinja",
        "synrl_run.json",
        "synrl_frame_budget.json",
        "synrl_recipe.yaml",
        "synrl_logs.jsonl",
        "synrl_eval.json",
        "README.md",
    } <= set(files)
    assert not any(p.startswith(("checkpoint-", "completions")) or p == "training_args.bin" for p in files)
    card = files["README.md"].decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["base_model"] == "Qwen/Qwen3-VL-4B-Instruct" and meta["datasets"] == ["synrl-hf/synrl"]
    assert meta["library_name"] == "transformers" and {"synrl", "sft", "grpo"} <= set(meta["tags"])
    assert "| 1 | SFT" in card and "| 2 | GRPO" in card and "| TOMATO | 0.388 |" in card
    # the frame budget is part of the result, and the clone carries it for `synrl eval` and the Space
    assert "4 fps (at most 64 frames), at most 100,352 pixels per frame" in card
    assert json.loads(files["synrl_frame_budget.json"]) == RUN["frame_budget"]
    # A clone of the repo loads and has the same weights.
    model, processor = load_model_and_processor(hub.materialise("org/Qwen3-VL-4B-SynRL", tmp_path / "clone"))
    original = dict(load_model_and_processor(ckpt)[0].named_parameters())
    assert all(torch.equal(p, original[k]) for k, p in model.named_parameters())
    assert processor.tokenizer.convert_tokens_to_ids("<answer>") == load_processor(ckpt).tokenizer.convert_tokens_to_ids("<answer>")


def test_push_lora_adapter(tmp_path, online):
    from peft import LoraConfig, get_peft_model

    base = build_tiny_model(tmp_path / "base", "qwen2_5_vl")
    model, processor = load_model_and_processor(base)
    ckpt = tmp_path / "lora"
    get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(ckpt)
    processor.save_pretrained(ckpt)
    assert check_checkpoint(ckpt)["kind"] == "adapter"
    with fake_hub() as hub:
        push_model(ckpt, "org/tiny-lora")
    files = hub.repos["org/tiny-lora"]
    assert {"adapter_config.json", "adapter_model.safetensors", "processor_config.json", "README.md"} <= set(files)
    assert "model.safetensors" not in files
    card = files["README.md"].decode()
    assert "library_name: peft" in card and "LoRA adapter" in card and "Not evaluated yet." in card


def test_cli_reports_failures_without_the_token(tmp_path, online, capsys):
    ckpt = finished_run(tmp_path / "run")
    parser = argparse.ArgumentParser()
    add_push_model_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["push-model", str(ckpt), "--repo-id", "org/m"])
    with fake_hub(fail_commits=True, fail_message=f"storage is down (token {TOKEN})"):
        assert args.run(args) == 1
    out = capsys.readouterr().out
    assert "failed" in out and TOKEN not in out
    with fake_hub() as hub:
        assert args.run(args) == 0
    assert "README.md" in hub.repos["org/m"]


def test_bad_checkpoints_are_refused_before_any_request(tmp_path, online):
    (tmp_path / "empty").mkdir()
    no_processor = tmp_path / "no_processor"
    build_tiny_model(no_processor, "qwen2_5_vl")
    for name in ("processor_config.json", "tokenizer_config.json"):
        (no_processor / name).unlink()
    with fake_hub() as hub:
        with pytest.raises(ValueError, match="no weights"):
            push_model(tmp_path / "empty", "org/m")
        with pytest.raises(ValueError, match="no processor"):
            push_model(no_processor, "org/m")
        with pytest.raises(ValueError, match="org/name"):
            push_model(finished_run(tmp_path / "ok"), "not a repo id")
    assert hub.requests == []


def test_offline_mode_blocks_the_upload(tmp_path, monkeypatch):
    """With the real transport and HF_HUB_OFFLINE=1 the client refuses at once: no network is tried."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    set_client_factory(default_client_factory)  # other tests' fakes may have left a plain client behind
    with pytest.raises(RuntimeError, match="offline mode"):
        push_model(finished_run(tmp_path / "run"), "org/m")


def test_results_accept_lighteval_json(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"results": {"custom|tomato|0": {"acc": 0.4, "acc_stderr": 0.01}, "all": {"acc": 0.4}}, "config": {}}))
    assert read_results(path) == {"custom|tomato|0": {"acc": 0.4, "acc_stderr": 0.01}, "all": {"acc": 0.4}}
    with pytest.raises(ValueError):
        read_results({"tomato": 0.4})


def test_recipe_push_to_hub_uploads_the_run(tmp_path, online):
    """`push_to_hub: true` + `hub_model_id` in a recipe: Trainer.push_to_hub sends the run, record included."""
    from synrl_hf.training.run import run_recipe
    from synrl_hf.training.testing import sft_rows, write_dataset

    model = build_tiny_model(tmp_path / "model", "qwen2_5_vl")
    data = write_dataset(tmp_path / "synrl", {"sft": sft_rows(2)})
    recipe = Path(__file__).resolve().parents[1] / "recipes" / "Qwen2.5-VL-7B-Instruct" / "sft" / "config_synrl.yaml"
    with fake_hub() as hub:
        run_recipe(
            "sft",
            [
                "--config",
                str(recipe),
                "--model_name_or_path",
                str(model),
                "--output_dir",
                str(tmp_path / "out"),
                "--dataset_name",
                str(data),
                "--dataset_cache_dir",
                str(tmp_path / "cache"),
                *CPU_RUN,
                "--max_steps",
                "1",
                "--per_device_train_batch_size",
                "2",
                "--save_strategy",
                "no",
                "--activation_checkpointing",
                "false",
                "--push_to_hub",
                "true",
                "--hub_model_id",
                "org/tiny-sft",
            ],
        )
    files = hub.repos["org/tiny-sft"]
    assert {"model.safetensors", "processor_config.json", "synrl_run.json", "synrl_recipe.yaml"} <= set(files)
    assert json.loads(files["synrl_run.json"])["stage"] == "sft"
    assert json.loads(files["synrl_frame_budget.json"])["num_frames"] == 4  # what the run trained on
