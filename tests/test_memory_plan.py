"""`synrl plan`: the memory plan's arithmetic against hand-computed values and tiny models measured on CPU,
the shipped full-size configs against the published parameter counts, and the recipes against 80 GB."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from synrl_hf.cli import main
from synrl_hf.frame_budget import FrameBudget
from synrl_hf.modeling import build_tiny_model, chat_inputs, load_model, load_processor
from synrl_hf.training.memory_plan import (
    GIB,
    Launcher,
    ModelShape,
    RunShape,
    VideoShape,
    build_plan,
    largest_steps_per_generation,
    longest_clip_seconds,
    video_shape,
)
from synrl_hf.training.testing import grpo_rows

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "recipes" / "model_configs"
ACCELERATE = REPO / "recipes" / "accelerate_configs"
RECIPES = sorted((REPO / "recipes").glob("*/*/config_*.yaml"))


@pytest.mark.parametrize(
    ("model", "total", "vision"),
    [
        # OpenExplorer's counts from the tensors of the upstream checkpoints (see each SOURCE.md): 8.292B / 676.6M,
        # 4.438B / 415.3M, 8.767B / 576.4M; the exact values are what the shipped configs build.
        ("Qwen2.5-VL-7B-Instruct", 8_292_166_656, 676_550_144),
        ("Qwen3-VL-4B-Instruct", 4_437_815_808, 415_347_712),
        ("Qwen3-VL-8B-Instruct", 8_767_123_696, 576_388_336),
    ],
)
def test_shipped_configs_build_the_published_parameter_counts(model, total, vision):
    shape = ModelShape.from_config(CONFIGS / model)
    assert (shape.params, shape.vision_params) == (total, vision)
    assert (CONFIGS / model / "SOURCE.md").is_file()


def _toy_model() -> ModelShape:
    return ModelShape(
        name="toy",
        model_type="qwen2_5_vl",
        params=1_000_000,
        vision_params=100_000,
        largest_layer_params=50_000,
        embedding_params=64_000,
        layers=4,
        hidden=64,
        intermediate=256,
        heads=4,
        kv_heads=2,
        head_dim=16,
        vocab=1000,
        vision_depth=2,
        vision_hidden=32,
        vision_intermediate=64,
    )


def _toy_run(**changes) -> RunShape:
    run = RunShape(
        stage="grpo",
        dataset_config="grpo",
        per_device_batch=8,
        gradient_accumulation_steps=8,
        steps_per_generation=4,
        num_generations=8,
        max_completion_length=100,
        fps=4.0,
        num_frames=None,
        max_frames=64,
        max_pixels=100_352,
        gradient_checkpointing=True,
        use_peft=False,
        lora_r=8,
        lora_targets=(),
    )
    return replace(run, **changes)


TOY_VIDEO = VideoShape(seconds=10.0, frames=40, grid=(20, 4, 4), tokens=80, patches=320, pixel_bytes=320 * 1176 * 4)


def test_zero3_arithmetic_by_hand():
    model, run = _toy_model(), _toy_run()
    launcher = Launcher("zero3.yaml", "DEEPSPEED", num_processes=8, zero_stage=3)
    plan = build_plan(model, launcher, run, gpu_gib=1.0, video=TOY_VIDEO)
    generate, train = plan.phases["generate"], plan.phases["train micro-step"]
    # ZeRO-3 over 8 GPUs: bf16 weight and gradient shards, fp32 master + 2 AdamW moments, all / 8.
    assert generate["weights (bf16, ZeRO-3 shard)"] == 2 * 1_000_000 // 8 == 250_000
    assert generate["gradients (bf16, partitioned)"] == 250_000
    assert generate["optimizer (fp32 master + AdamW, partitioned)"] == 12 * 1_000_000 // 8 == 1_500_000
    assert generate["weights gathered for generate (bf16, ZeRO-3/FSDP)"] == 2_000_000
    # One generate call: 8 x 4 = 32 sequences of 4 prompt groups (one video each, deduplicated).
    assert generate["pixel tensors of the generation batch"] == 4 * TOY_VIDEO.pixel_bytes
    prompt = 256 + 80
    kv_per_token = 2 * 4 * 2 * 16 * 2  # K and V x layers x kv heads x head dim x bf16
    assert model.kv_bytes_per_token == kv_per_token == 512
    # The prefill over all 32 prompts is the biggest transient here: the prompt KV plus one layer's tensors.
    prefill = 32 * prompt * kv_per_token + 32 * prompt * 2 * (4 * 64 + 3 * 256)
    decoding = 32 * (prompt + 100) * kv_per_token + 3 * 32 * 1000 * 4
    assert prefill > decoding
    assert generate["KV cache + transients: prefill (one decoder layer over every prompt)"] == prefill
    assert plan.peak("generate") == 250_000 * 2 + 1_500_000 + 2_000_000 + 4 * TOY_VIDEO.pixel_bytes + prefill
    # Training: one micro-batch of 8 sequences, checkpointed layers, one chunk of the log-prob head.
    tokens = 8 * (prompt + 100)
    layer = 2 * (4 * 64 + 2 * 64 + 2 * 32 + 4 * 256)
    assert train["activations, language model (checkpointed)"] == 4 * tokens * 64 * 2 + 2 * tokens * layer
    assert train["log-prob head (chunk of logits + gradient)"] == 2 * 8 * 100 * 1000 * 4
    assert train["ZeRO-3/FSDP gathered layers (bf16)"] == 2 * (64_000 + 2 * 50_000)
    assert plan.settings["completions_per_step"] == 512 and plan.settings["prompts_per_step"] == 64
    assert plan.peak_bytes == max(plan.peak("generate"), plan.peak("train micro-step"))
    assert plan.fits == (plan.peak_bytes <= 0.9 * GIB)


def test_plain_optimizer_lora_and_dedupe_arithmetic():
    model = _toy_model()
    single = Launcher("single_gpu.yaml", "NO", num_processes=1)
    plan = build_plan(model, single, _toy_run(), gpu_gib=80, video=TOY_VIDEO)
    train = plan.phases["train micro-step"]
    # fp32 master weights (full fine-tuning without a sharded optimizer), fp32 gradients, two fp32 moments,
    # and the bf16 copies autocast makes; gradients only exist in the training phase.
    assert train["weights (fp32 master)"] == 4_000_000 and train["gradients (fp32)"] == 4_000_000
    assert train["optimizer (AdamW moments)"] == 8_000_000 and train["autocast bf16 copies of the fp32 weights"] == 2_000_000
    assert "gradients (fp32)" not in plan.phases["generate"]
    lora = build_plan(model, single, _toy_run(use_peft=True), gpu_gib=80, video=TOY_VIDEO)
    assert lora.phases["generate"]["weights (frozen base, bf16)"] == 2_000_000
    # Without the one-vision-pass-per-video trainer every sequence carries its own pixels.
    undeduped = build_plan(model, single, _toy_run(), gpu_gib=80, video=TOY_VIDEO, dedupe=False)
    assert undeduped.phases["generate"]["pixel tensors of the generation batch"] == 32 * TOY_VIDEO.pixel_bytes
    with pytest.raises(ValueError, match="headroom"):
        build_plan(model, single, _toy_run(), gpu_gib=80, video=TOY_VIDEO, headroom=1.5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    return build_tiny_model(folder / "model", "qwen2_5_vl"), folder


def test_states_match_a_measured_optimizer_step(tiny):
    """Weights, gradients and AdamW moments of the plain-optimizer plan equal the tensors of a real step."""
    model_dir, _ = tiny
    model = load_model(model_dir, dtype="float32")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    measured = {
        "weights (fp32 master)": sum(p.nbytes for p in model.parameters()),
        "gradients (fp32)": sum(p.grad.nbytes for p in model.parameters()),
        "optimizer (AdamW moments)": sum(s["exp_avg"].nbytes + s["exp_avg_sq"].nbytes for s in optimizer.state.values()),
    }
    shape = ModelShape.from_config(model_dir)
    plan = build_plan(shape, Launcher("cpu.yaml", "NO", 1), _toy_run(), gpu_gib=80, video=TOY_VIDEO)
    assert {k: plan.phases["train micro-step"][k] for k in measured} == measured


def test_kv_cache_and_video_tokens_match_a_real_generate(tiny):
    """Video tokens, pixel bytes and the KV cache of a bf16 generate call on a real synrl clip, as planned."""
    model_dir, folder = tiny
    row = grpo_rows(1, ("direction",), resolution=64)[0]
    run = _toy_run(fps=None, num_frames=4, max_frames=None, max_pixels=56 * 56)
    budget = FrameBudget(num_frames=4, max_pixels=56 * 56)
    processor = load_processor(model_dir, padding_side="left")
    clip = budget.read(row["video"])
    inputs = chat_inputs(processor, [row["prompt"]] * 3, [clip] * 3, max_pixels=budget.max_pixels)
    planned = video_shape("qwen2_5_vl", run, seconds=row["duration"], resolution=64)
    pad = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert planned.frames == len(clip.indices) == 4
    assert planned.tokens == int((inputs["input_ids"][0] == pad).sum())
    assert 3 * planned.pixel_bytes == inputs["pixel_values_videos"].nbytes
    assert planned.patches * 3 == inputs["pixel_values_videos"].shape[0]
    model = load_model(model_dir, dtype="bfloat16")
    new = 5
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=new, min_new_tokens=new, do_sample=False, return_dict_in_generate=True)
    cache = out.past_key_values
    measured = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    cached_tokens = inputs["input_ids"].shape[1] + new - 1  # the last sampled token is never fed back
    assert measured == 3 * cached_tokens * ModelShape.from_config(model_dir).kv_bytes_per_token


def test_longest_clips_follow_the_presets():
    assert longest_clip_seconds("grpo") == 14.4  # long-term families at round1
    assert longest_clip_seconds("round2") == 24.53  # doubled durations
    assert longest_clip_seconds("sft") == 30.0  # general video QA clips


@pytest.fixture(scope="module")
def zero3():
    return Launcher.from_yaml(ACCELERATE / "zero3.yaml")


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_every_recipe_fits_an_80_gb_gpu_with_512_completions(recipe, zero3):
    model = ModelShape.from_config(CONFIGS / recipe.parent.parent.name)
    run = RunShape.from_recipe(recipe)
    plan = build_plan(model, zero3, run, gpu_gib=80)
    assert plan.fits, plan.to_dict()
    if run.stage == "grpo":
        assert run.completions_per_step(zero3) == 512
        assert run.steps_per_generation <= largest_steps_per_generation(model, zero3, run, 80, video=plan.video)


def test_one_generate_of_64_sequences_does_not_fit_the_8b_model(zero3):
    """Why the 7B/8B recipes generate 32 sequences per call: the paper's 64 in one call exceed 80 GB."""
    recipe = REPO / "recipes" / "Qwen3-VL-8B-Instruct" / "grpo" / "config_round1.yaml"
    run = RunShape.from_recipe(recipe, {"steps_per_generation": 8})
    plan = build_plan(ModelShape.from_config(CONFIGS / "Qwen3-VL-8B-Instruct"), zero3, run, gpu_gib=80)
    assert not plan.fits and plan.peak_phase == "generate" and plan.settings["sequences_per_generate"] == 64


def test_cli_prints_the_plan_and_rejects_bad_input(capsys, tmp_path):
    recipe = REPO / "recipes" / "Qwen3-VL-4B-Instruct" / "grpo" / "config_round1.yaml"
    assert main(["plan", str(recipe), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["fits"] and plan["model"] == "Qwen3-VL-4B-Instruct" and plan["largest_steps_per_generation"] >= 1
    assert set(plan["phases"]) == {"generate", "train micro-step"}
    bad = tmp_path / "tpu.yaml"
    bad.write_text("distributed_type: XLA\nnum_processes: 8\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(recipe), "--accelerate-config", str(bad)])
    assert exit_info.value.code == 2 and "distributed_type 'XLA'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(tmp_path / "missing.yaml")])
    assert exit_info.value.code == 2 and "no recipe file" in capsys.readouterr().err


def test_lora_parameter_count_matches_peft(tiny):
    from peft import LoraConfig, get_peft_model

    model_dir, _ = tiny
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(load_model(model_dir, dtype="float32"), LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert ModelShape.from_config(model_dir).lora_params(4, targets) == trainable
