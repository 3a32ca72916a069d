"""Full fine-tuning without a sharded optimizer keeps fp32 master weights (the "fp32-master test").

An AdamW step on bf16 weights rounds every update smaller than bf16's resolution away: at the GRPO
recipes' lr 1e-6 almost no weight changes. DeepSpeed and FSDP keep fp32 master copies themselves; a
plain run (one GPU, CPU, DDP) loads fp32 weights and computes in bf16 under autocast instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from trl import ModelConfig, SFTConfig

from synrl_hf.modeling import build_tiny_model
from synrl_hf.training.run import optimizer_keeps_master_weights, run_recipe, weights_dtype
from synrl_hf.training.testing import sft_rows, write_dataset

REPO = Path(__file__).resolve().parents[1]


def changed_fraction(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> float:
    """Share of weight elements that differ, compared in the saved dtype."""
    changed = sum(int((before[name].to(after[name].dtype) != after[name]).sum()) for name in before)
    return changed / sum(t.numel() for t in before.values())


def test_an_adamw_step_on_bf16_weights_loses_small_updates():
    """Why: the same step at lr 1e-6 changes (almost) no bf16 element and every fp32 one."""
    torch.manual_seed(0)
    start = torch.randn(4096) * 0.02
    grad = torch.randn(4096)
    changed = {}
    for dtype in (torch.bfloat16, torch.float32):
        weight = torch.nn.Parameter(start.to(dtype).clone())
        weight.grad = grad.to(dtype)
        optimizer = torch.optim.AdamW([weight], lr=1e-6, weight_decay=0.0)
        for _ in range(3):
            optimizer.step()
        changed[dtype] = (weight.detach() != start.to(dtype)).float().mean().item()
    assert changed[torch.bfloat16] < 0.05 and changed[torch.float32] > 0.99


def test_bf16_full_finetuning_updates_survive_at_lr_1e_6(tmp_path):
    """The SFT recipe with dtype bfloat16 on the CPU launcher (no sharded optimizer), 3 steps at lr 1e-6."""
    model = build_tiny_model(tmp_path / "model", "qwen2_5_vl")
    data = write_dataset(tmp_path / "synrl", {"sft": sft_rows(2, ("direction", "collision_count"))})
    out = tmp_path / "out"
    argv = ["--config", str(REPO / "recipes" / "Qwen2.5-VL-7B-Instruct" / "sft" / "config_synrl.yaml")]
    argv += ["--model_name_or_path", str(model), "--output_dir", str(out), "--dataset_name", str(data)]
    argv += ["--dataset_cache_dir", str(tmp_path / "cache"), "--use_cpu", "true", "--bf16", "true", "--dtype", "bfloat16"]
    argv += ["--learning_rate", "1e-6", "--lr_scheduler_type", "constant", "--warmup_steps", "0", "--max_steps", "3"]
    argv += ["--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--activation_checkpointing", "false"]
    argv += ["--video_fps", "None", "--video_num_frames", "4", "--video_max_pixels", str(56 * 56)]
    argv += ["--save_strategy", "no", "--report_to", "none", "--logging_steps", "1"]
    run_recipe("sft", argv)
    run = json.loads((out / "synrl_run.json").read_text())
    assert run["weights_dtype"] == "float32" and run["training"]["bf16"] is True and run["launcher"]["distributed_type"] == "NO"
    after = load_file(out / "model.safetensors")
    assert {t.dtype for t in after.values()} == {torch.float32}
    # With bf16 weights this run changed about 2% of the elements; with fp32 masters nearly 90%.
    assert changed_fraction(load_file(model / "model.safetensors"), after) > 0.5


def _args(tmp_path, **kwargs) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **kwargs)


@pytest.mark.parametrize(
    ("model_kwargs", "train_kwargs", "expected"),
    [
        ({"dtype": "bfloat16"}, {"bf16": True}, "float32"),  # full fine-tuning, plain optimizer: fp32 masters
        ({"dtype": "auto"}, {}, "float32"),  # "auto" would load the checkpoint's bf16
        ({"dtype": "bfloat16", "use_peft": True}, {"bf16": True}, "bfloat16"),  # frozen base, fp32 adapters
        ({"dtype": "float32"}, {}, "float32"),
    ],
)
def test_weights_dtype_choice(tmp_path, model_kwargs, train_kwargs, expected):
    training_args = _args(tmp_path, **train_kwargs)
    assert not optimizer_keeps_master_weights(training_args)
    assert weights_dtype(ModelConfig(model_name_or_path="m", **model_kwargs), training_args) == expected


def test_sharded_optimizers_keep_the_recipes_dtype(tmp_path):
    training_args = _args(tmp_path, fsdp="full_shard")
    assert optimizer_keeps_master_weights(training_args)
    assert weights_dtype(ModelConfig(model_name_or_path="m", dtype="bfloat16"), training_args) == "bfloat16"
