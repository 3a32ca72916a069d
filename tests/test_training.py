"""Training recipes with the real TRL trainers on tiny offline Qwen-VL models, on CPU.

End to end through the real entry points (recipes/sft.py, recipes/grpo.py) and the real recipes,
overridden to a tiny model, tiny clips and CPU: SFT, then GRPO round 1 from the SFT checkpoint,
then round 2 from round 1, each checkpoint reloaded. The GRPO tests prove the video reaches the
*loss* forward (stock TRL drops it silently).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

from synrl_hf.frame_budget import FrameBudget, recorded_budget
from synrl_hf.modeling import build_tiny_model, load_model_and_processor, load_processor, video_inputs
from synrl_hf.training.collator import IGNORE_INDEX, VideoSFTCollator, conversation_segments
from synrl_hf.training.configs import VIDEO_MODES, SynRLScriptArguments
from synrl_hf.training.data import frames_as_images_prompt, load_split, video_key
from synrl_hf.training.grpo_trainer import check_generation_setup, check_trl_version
from synrl_hf.training.run import read_run, run_recipe
from synrl_hf.training.testing import answer_only_completion, grpo_rows, sft_rows, write_dataset
from synrl_hf.video import read_frames
from tests.recipe_args import CPU_RUN
from tests.tiny_grpo import make_trainer

REPO = Path(__file__).resolve().parents[1]
RECIPES = {"qwen2_5_vl": "Qwen2.5-VL-7B-Instruct", "qwen3_vl": "Qwen3-VL-4B-Instruct"}
MODEL_DIRS = sorted(p.parent.parent for p in (REPO / "recipes").glob("*/grpo/config_round1.yaml"))
TINY = [  # what makes the real recipes run in seconds on 2 CPU cores
    *CPU_RUN,
    "--max_steps",
    "2",
    "--logging_steps",
    "1",
    "--save_strategy",
    "no",
    "--activation_checkpointing",
    "false",
    "--gradient_accumulation_steps",
    "1",
    "--dataloader_num_workers",
    "0",
]
# steps_per_generation 1: the recipes' value (4 for the 7B/8B models) is for 8 accumulation steps, not 1.
GRPO_TINY = ["--per_device_train_batch_size", "4", "--num_generations", "2", "--max_completion_length", "12", "--steps_per_generation", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A synrl folder with the three training configs, freshly generated (64 px clips)."""
    folder = tmp_path_factory.mktemp("synrl")
    return write_dataset(
        folder,
        {
            "sft": sft_rows(3, ("direction", "collision_count"), general=1),
            "grpo": grpo_rows(2, ("direction", "collision_count")),
            "round2": grpo_rows(2, ("direction",), preset="round2", seed=3),
        },
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {family: build_tiny_model(root / family, family) for family in RECIPES}


def data_args(dataset, tmp_path):
    return ["--dataset_name", str(dataset), "--dataset_cache_dir", str(tmp_path / "hf_cache")]


# --- recipes ---------------------------------------------------------------------------------------


def parse(config: Path, trainer_config):
    return TrlParser((SynRLScriptArguments, trainer_config, ModelConfig)).parse_args_and_config(
        ["--config", str(config), "--use_cpu", "true", "--bf16", "false"]
    )


def test_recipes_exist_for_the_three_models():
    assert {p.name for p in MODEL_DIRS} == {"Qwen2.5-VL-7B-Instruct", "Qwen3-VL-4B-Instruct", "Qwen3-VL-8B-Instruct"}
    for stage in ("zero3", "fsdp2", "single_gpu", "cpu"):
        assert yaml.safe_load((REPO / "recipes" / "accelerate_configs" / f"{stage}.yaml").read_text())["main_training_function"] == "main"


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda p: p.name)
def test_grpo_recipes_have_the_papers_settings(model_dir):
    for round_ in (1, 2):
        script, args, model = parse(model_dir / "grpo" / f"config_round{round_}.yaml", GRPOConfig)
        assert script.reward_funcs == ["accuracy"]
        assert args.beta == 0.0 and args.entropy_coef == 0.0 and not args.use_adaptive_entropy
        assert args.num_generations == 8 and args.temperature == 1.0 and args.learning_rate == 1e-6
        # 512 completions per optimizer step = 64 prompts x 8 on the paper's 8 GPUs
        completions = args.per_device_train_batch_size * 8 * args.gradient_accumulation_steps
        assert completions == 512 and completions // args.num_generations == 64
        assert script.video_max_pixels and (script.video_fps or script.video_num_frames)  # frame budget in the recipe
        assert model.model_name_or_path.startswith("data/") and not model.use_peft
    _, _, r1 = parse(model_dir / "grpo" / "config_round1.yaml", GRPOConfig)
    s2, _, r2 = parse(model_dir / "grpo" / "config_round2.yaml", GRPOConfig)
    s1, a1, _ = parse(model_dir / "grpo" / "config_round1.yaml", GRPOConfig)
    assert s1.dataset_config == "grpo" and s2.dataset_config == "round2"
    assert r2.model_name_or_path == a1.output_dir  # round 2 starts from the round-1 checkpoint
    sft_script, sft_args, sft_model = parse(model_dir / "sft" / "config_synrl.yaml", SFTConfig)
    assert sft_script.dataset_config == "sft" and r1.model_name_or_path == sft_args.output_dir
    assert sft_model.model_name_or_path.startswith("Qwen/") and sft_args.max_length is None
    assert sft_args.hub_model_id and not sft_args.push_to_hub


def test_lora_is_one_flag():
    _, _, model = TrlParser((SynRLScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config(
        ["--config", str(MODEL_DIRS[0] / "grpo" / "config_round1.yaml"), "--use_cpu", "true", "--bf16", "false", "--use_peft", "true"]
    )
    from trl import get_peft_config

    peft = get_peft_config(model)
    assert peft.r == 64 and "q_proj" in peft.target_modules


def test_frame_budget_rejects_both_rate_and_count():
    with pytest.raises(ValueError):
        SynRLScriptArguments(video_fps=2.0, video_num_frames=8)
    with pytest.raises(ValueError):
        FrameBudget(fps=2.0, num_frames=4)


# --- data and collator -------------------------------------------------------------------------------


def test_frame_budget_reads_what_the_recipe_says(dataset, tmp_path):
    row = load_split(str(dataset), "round2", "train", cache_dir=str(tmp_path))[0]
    assert FrameBudget(fps=None, num_frames=6).read(row["video"]).frames.shape[0] == 6
    by_rate = FrameBudget(fps=2.0).read(row["video"])
    assert by_rate.frames.shape[0] == len(by_rate.indices) > 6
    capped = FrameBudget(fps=2.0, max_frames=5).read(row["video"])
    assert len(capped.indices) == 5 and capped.indices[-1] == row["num_frames"] - 1
    images = FrameBudget(fps=None, num_frames=2, max_pixels=32 * 32).resize(capped, factor=16)
    assert all(im.size[0] * im.size[1] <= 32 * 32 and im.size[0] % 16 == 0 for im in images)


@pytest.mark.parametrize("family", list(RECIPES))
def test_collator_labels_only_the_assistant_turn(dataset, models, family, tmp_path):
    processor = load_processor(models[family])
    rows = load_split(str(dataset), "sft", "train", cache_dir=str(tmp_path))
    cot, general = rows[0], rows[len(rows) - 1]
    assert general["category"] == "general"
    batch = VideoSFTCollator(processor, FrameBudget(fps=None, num_frames=4, max_pixels=56 * 56))([cot, general])
    tok = processor.tokenizer
    for i, row in enumerate((cot, general)):
        labels, ids = batch["labels"][i], batch["input_ids"][i]
        trained = tok.decode(ids[labels != IGNORE_INDEX])
        assistant = row["messages"][-1]["content"][0]["text"]
        assert trained.startswith(assistant) and trained.removeprefix(assistant).strip() == "<|im_end|>"
        if i == 0:
            assert trained.startswith("<think>") and "</think><answer>" in trained
        video_id = tok.convert_tokens_to_ids("<|video_pad|>")
        assert (labels[ids == video_id] == IGNORE_INDEX).all()
        assert torch.equal(batch["mm_token_type_ids"][i] == 2, ids == video_id)
    assert batch["video_grid_thw"].shape[0] == 2
    assert (batch["attention_mask"].sum(1) > 0).all()


def test_collator_refuses_to_cut_vision_tokens(dataset, models, tmp_path):
    processor = load_processor(models["qwen2_5_vl"])
    row = load_split(str(dataset), "sft", "train", cache_dir=str(tmp_path))[0]
    with pytest.raises(ValueError, match="max_length"):
        VideoSFTCollator(processor, FrameBudget(fps=None, num_frames=4), max_length=10)([row])
    # A cap above the prompt only shortens the trained tail.
    full = VideoSFTCollator(processor, FrameBudget(fps=None, num_frames=4))([row])["input_ids"].shape[1]
    cut = VideoSFTCollator(processor, FrameBudget(fps=None, num_frames=4), max_length=full - 5)([row])
    assert cut["input_ids"].shape[1] == full - 5


def test_conversation_segments_cover_the_whole_text(models):
    processor = load_processor(models["qwen3_vl"])
    messages = [
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Q1"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}]},
        {"role": "user", "content": [{"type": "text", "text": "Q2"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A2"}]},
    ]
    segments = conversation_segments(processor, messages)
    assert "".join(t for t, _ in segments) == processor.apply_chat_template(messages, tokenize=False)
    assert [t.split("<|im_end|>")[0] for t, trainable in segments if trainable] == ["A1", "A2"]


def test_frames_as_images_prompt_keeps_time():
    row = grpo_rows(1)[0]
    frames = read_frames(row["video"], num_frames=3)
    prompt = frames_as_images_prompt(row["prompt"], frames)
    blocks = prompt[0]["content"]
    assert [b["type"] for b in blocks[:6]] == ["text", "image"] * 3
    assert blocks[0]["text"] == "<0.0 seconds>" and blocks[-1]["type"] == "text"


# --- GRPO trainer ------------------------------------------------------------------------------------


class ForwardLog:
    """Records the keyword arguments of every forward of the language-model backbone (what TRL's fused LM head calls)."""

    def __init__(self, monkeypatch, family):
        from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLModel
        from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLModel

        cls = {"qwen2_5_vl": Qwen2_5_VLModel, "qwen3_vl": Qwen3VLModel}[family]
        original = cls.forward
        self.calls = []

        def forward(module, *args, **kwargs):
            self.calls.append(
                {
                    "keys": {k for k, v in kwargs.items() if v is not None},
                    "grad": torch.is_grad_enabled(),
                    "use_cache": kwargs.get("use_cache"),
                }
            )
            return original(module, *args, **kwargs)

        monkeypatch.setattr(cls, "forward", forward)

    @property
    def loss_calls(self):
        return [c for c in self.calls if c["grad"]]

    @property
    def generation_calls(self):
        return [c for c in self.calls if not c["grad"]]


@pytest.mark.parametrize("family", list(RECIPES))
def test_video_reaches_the_loss_forward_and_the_vision_tower_learns(dataset, models, family, tmp_path, monkeypatch):
    log = ForwardLog(monkeypatch, family)
    trainer = make_trainer(models[family], dataset, tmp_path)
    vision = {k: v.detach().clone() for k, v in trainer.model.named_parameters() if k.startswith("model.visual.")}
    trainer.train()
    assert log.loss_calls, "no loss forward ran"
    expected = {"pixel_values_videos", "video_grid_thw", "mm_token_type_ids"}
    if family == "qwen2_5_vl":
        expected.add("second_per_grid_ts")
    for call in log.loss_calls:
        assert expected <= call["keys"], call["keys"]
    # Generation saw the video too (transformers encodes it once, then passes the encoder outputs).
    first = log.generation_calls[0]["keys"]
    assert "mm_token_type_ids" in first and first & {"pixel_values_videos", "mm_encoder_outputs"}
    # The vision tower gets gradient only through pixel_values_videos in the loss forward.
    after = dict(trainer.model.named_parameters())
    assert any(not torch.equal(vision[k], after[k].detach()) for k in vision)
    # The vision pads were suppressed in generation.
    pads = {trainer.processing_class.tokenizer.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>")}
    assert pads <= set(trainer.generation_config.suppress_tokens)


def test_old_policy_and_reference_logprobs_also_see_the_video(dataset, models, tmp_path, monkeypatch):
    """With several iterations per generation, and with a KL term, TRL computes old-policy and reference
    log-probs inside generation: the video must be there too."""
    log = ForwardLog(monkeypatch, "qwen2_5_vl")
    trainer = make_trainer(models["qwen2_5_vl"], dataset, tmp_path, num_iterations=2, max_steps=2, beta=0.04)
    assert trainer.ref_model is not None
    trainer.train()
    # Log-prob passes run the fused LM head (use_cache=False); generation runs with a cache.
    old_logp_calls = [c for c in log.generation_calls if c["use_cache"] is False]
    assert len(old_logp_calls) >= 2, "no old-policy / reference log-prob pass ran"
    for call in old_logp_calls + log.loss_calls:
        assert {"pixel_values_videos", "video_grid_thw", "mm_token_type_ids", "second_per_grid_ts"} <= call["keys"]


def test_images_mode_uses_trls_image_path(dataset, models, tmp_path, monkeypatch):
    log = ForwardLog(monkeypatch, "qwen3_vl")
    trainer = make_trainer(models["qwen3_vl"], dataset, tmp_path, video_mode="images")
    trainer.train()
    assert log.loss_calls and all({"pixel_values", "image_grid_thw"} <= c["keys"] for c in log.loss_calls)
    assert not any("pixel_values_videos" in c["keys"] for c in log.calls)


def test_vllm_needs_images_mode(models, dataset, tmp_path):
    with pytest.raises(ValueError, match="video_mode='images'"):
        make_trainer(models["qwen2_5_vl"], dataset, tmp_path, use_vllm=True)


@pytest.mark.parametrize("video_mode", VIDEO_MODES)
@pytest.mark.parametrize("setting", ["use_transformers_continuous_batching", "use_transformers_paged"])
def test_generation_that_drops_the_video_is_refused(models, dataset, tmp_path, video_mode, setting):
    with pytest.raises(ValueError, match=f"{setting}.*would drop the video; valid generation backends"):
        make_trainer(models["qwen3_vl"], dataset, tmp_path, video_mode=video_mode, **{setting: True})


def test_the_grpo_recipe_refuses_them_before_loading_the_model(tmp_path):
    config = REPO / "recipes" / RECIPES["qwen3_vl"] / "grpo" / "config_round1.yaml"
    missing = tmp_path / "no-model-here"  # never reached: the refusal comes first
    with pytest.raises(ValueError, match="use_transformers_continuous_batching"):
        run_recipe(
            "grpo", ["--config", str(config), "--model_name_or_path", str(missing), "--use_transformers_continuous_batching", "true", *TINY]
        )
    with pytest.raises(ValueError, match="video_mode='images' with use_vllm"):
        run_recipe("grpo", ["--config", str(config), "--model_name_or_path", str(missing), "--use_vllm", "true", *TINY])


def test_custom_rollouts_and_tools_are_refused_in_video_mode(models, dataset, tmp_path):
    def rollout(prompts, trainer):
        return {}

    with pytest.raises(ValueError, match="rollout_func is not supported with video_mode='video'"):
        make_trainer(models["qwen2_5_vl"], dataset, tmp_path, trainer_kwargs={"rollout_func": rollout})
    with pytest.raises(ValueError, match="tools is not supported"):
        make_trainer(models["qwen2_5_vl"], dataset, tmp_path, trainer_kwargs={"tools": [len]})


def test_vllm_images_mode_needs_a_model_length_that_holds_the_frames(models, dataset, tmp_path):
    # 4 frames x (56² px / 28²) image tokens + 8 completion tokens = 24 at least
    with pytest.raises(ValueError, match="vllm_max_model_length=None.*at least 24"):
        make_trainer(models["qwen2_5_vl"], dataset, tmp_path, video_mode="images", use_vllm=True)
    with pytest.raises(ValueError, match="vllm_max_model_length=23.*at least 24"):
        make_trainer(models["qwen2_5_vl"], dataset, tmp_path, video_mode="images", use_vllm=True, vllm_max_model_length=23)
    processor = load_processor(models["qwen3_vl"])
    check_generation_setup(  # enough: no refusal (TRL would then start vLLM, which this machine lacks)
        GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, use_vllm=True, vllm_max_model_length=4096, max_completion_length=8),
        processor,
        "images",
        FrameBudget(num_frames=4, max_pixels=56 * 56),
    )


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda p: p.name)
def test_recipes_vllm_model_length_holds_their_frame_budget(model_dir, models):
    family = "qwen3_vl" if model_dir.name.startswith("Qwen3") else "qwen2_5_vl"
    for round_ in (1, 2):
        config = model_dir / "grpo" / f"config_round{round_}.yaml"
        script, args, _ = TrlParser((SynRLScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config(
            ["--config", str(config), "--use_cpu", "true", "--bf16", "false", "--use_vllm", "true", "--video_mode", "images"]
        )
        processor = load_processor(models[family])
        check_generation_setup(args, processor, "images", script.frame_budget())
        args.vllm_max_model_length = None
        with pytest.raises(ValueError, match="vllm_max_model_length"):
            check_generation_setup(args, processor, "images", script.frame_budget())


def test_images_mode_refuses_a_budget_the_image_processor_would_upscale(models, dataset, tmp_path):
    processor = load_processor(models["qwen3_vl"])
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="video_max_pixels=500 is below the image processor's minimum of 1024"):
        check_generation_setup(args, processor, "images", FrameBudget(num_frames=4, max_pixels=500))


@pytest.mark.parametrize("family", list(RECIPES))
def test_images_mode_costs_twice_the_vision_tokens_of_video_mode(dataset, models, family, tmp_path):
    """Qwen-VL's temporal patch spans 2 frames: a video packs two frames per grid, an image repeats its one."""
    from trl.data_utils import prepare_multimodal_messages

    processor = load_processor(models[family])
    row = load_split(str(dataset), "grpo", "train", cache_dir=str(tmp_path))[0]
    budget = FrameBudget(num_frames=4, max_pixels=56 * 56)
    frames = budget.read(row["video"])
    text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    video = video_inputs(processor, [frames], text, max_pixels=budget.max_pixels)
    image_processor = processor.image_processor
    images = budget.resize(frames, image_processor.patch_size * image_processor.merge_size)
    assert all(im.size[0] * im.size[1] <= budget.max_pixels for im in images)
    prompt = prepare_multimodal_messages(frames_as_images_prompt(row["prompt"], frames), images=images)
    image_text = processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    assert image_text.count("<|vision_start|>") == 4 and "<0.0 seconds>" in image_text
    as_images = processor(text=[image_text], images=images, return_tensors="pt")
    tok = processor.tokenizer
    video_tokens = int((video["input_ids"] == tok.convert_tokens_to_ids("<|video_pad|>")).sum())
    image_tokens = int((as_images["input_ids"] == tok.convert_tokens_to_ids("<|image_pad|>")).sum())
    assert video_tokens > 0 and image_tokens == 2 * video_tokens


def test_the_video_cache_is_keyed_on_content(models, dataset, tmp_path):
    first, second = (row["video"] for row in grpo_rows(1, ("direction", "collision_count")))
    assert video_key(first) != video_key(second)
    path = tmp_path / "clip.mp4"
    path.write_bytes(first["bytes"])
    assert video_key(str(path)) == video_key({"bytes": None, "path": str(path)}) == video_key(first) == video_key(first["bytes"])
    trainer = make_trainer(models["qwen2_5_vl"], dataset, tmp_path)
    # Two rows that reuse an id (another dataset, another round) never share frames.
    frames, keys = trainer._decode_batch([{"id": "same", "video": first}, {"id": "same", "video": second}, {"id": "other", "video": first}])
    assert keys[0] != keys[1] and not np.array_equal(frames[0].frames, frames[1].frames)
    assert frames[2] is frames[0]  # the same clip under another id is decoded once


def test_trl_version_is_pinned(monkeypatch):
    check_trl_version("1.16.0")
    with pytest.raises(RuntimeError, match="trl==1.16.0"):
        check_trl_version("1.17.0")
    monkeypatch.setenv("SYNRL_ALLOW_UNTESTED_TRL", "1")
    check_trl_version("1.17.0")


# --- end to end through the entry points -------------------------------------------------------------


def read_logs(output_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (output_dir / "synrl_logs.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("family", list(RECIPES))
def test_sft_then_grpo_rounds_through_the_real_recipes(dataset, models, family, tmp_path, monkeypatch):
    recipe = REPO / "recipes" / RECIPES[family]
    sft_out, r1_out, r2_out = tmp_path / "sft", tmp_path / "round1", tmp_path / "round2"
    common = [*data_args(dataset, tmp_path), *TINY]

    run_recipe(
        "sft",
        [
            "--config",
            str(recipe / "sft" / "config_synrl.yaml"),
            "--model_name_or_path",
            str(models[family]),
            "--output_dir",
            str(sft_out),
            "--per_device_train_batch_size",
            "2",
            *common,
            "--save_strategy",
            "steps",
            "--save_steps",
            "2",
        ],
    )
    # The checkpoint records the frames it was trained on, intermediate checkpoints too.
    trained_on = FrameBudget(num_frames=4, max_frames=64, max_pixels=56 * 56)
    assert recorded_budget(sft_out) == trained_on and recorded_budget(sft_out / "checkpoint-2") == trained_on
    sft_logs = [r for r in read_logs(sft_out) if "loss" in r]
    assert len(sft_logs) == 2 and all(math.isfinite(r["loss"]) for r in sft_logs)
    assert (sft_out / "synrl_recipe.yaml").read_text() == (recipe / "sft" / "config_synrl.yaml").read_text()

    log = ForwardLog(monkeypatch, family)
    run_recipe(
        "grpo",
        [
            "--config",
            str(recipe / "grpo" / "config_round1.yaml"),
            "--model_name_or_path",
            str(sft_out),
            "--output_dir",
            str(r1_out),
            *GRPO_TINY,
            *common,
        ],
    )
    assert log.loss_calls and all({"pixel_values_videos", "video_grid_thw", "mm_token_type_ids"} <= c["keys"] for c in log.loss_calls)
    steps = [r for r in read_logs(r1_out) if "loss" in r]
    assert len(steps) == 2
    for key in ("rewards/accuracy_reward/mean", "completions/mean_length", "completions/clipped_ratio"):
        assert key in steps[0], key
    # rewards per answer type and per task family, for the types and families in the batch
    for prefix in ("rewards/accuracy_reward/answer_type/", "rewards/accuracy_reward/task/"):
        assert any(k.startswith(prefix) for k in steps[0]), prefix
    completions = sorted((r1_out / "completions").glob("*.parquet"))
    assert completions  # sample completions, with the row's task and answer type
    import pandas as pd

    table = pd.read_parquet(completions[0])
    assert {"completion", "accuracy_reward", "task", "answer_type", "answer"} <= set(table.columns)

    if family == "qwen2_5_vl":  # round 2 from round 1 on the round2 config
        run_recipe(
            "grpo",
            [
                "--config",
                str(recipe / "grpo" / "config_round2.yaml"),
                "--model_name_or_path",
                str(r1_out),
                "--output_dir",
                str(r2_out),
                *GRPO_TINY,
                *common,
            ],
        )
        final = r2_out
    else:
        final = r1_out
    run = read_run(final)
    assert [s["stage"] for s in run["stages"]] == ["sft", "grpo"] + (["grpo"] if final == r2_out else [])
    assert run["base_model"] == str(models[family]) and run["frame_budget"]["num_frames"] == 4
    assert run["stages"][-1]["dataset"]["config"] == ("round2" if final == r2_out else "grpo")

    # The checkpoint reloads and runs.
    model, processor = load_model_and_processor(final)
    trained = dict(model.named_parameters())
    base = dict(load_model_and_processor(models[family])[0].named_parameters())
    assert any(not torch.equal(trained[k], base[k]) for k in base)
    row = load_split(str(dataset), "grpo", "train", cache_dir=str(tmp_path / "c"))[0]
    from synrl_hf.modeling import chat_inputs

    out = model(**chat_inputs(processor, row["prompt"], [read_frames(row["video"], num_frames=4)], max_pixels=56 * 56))
    assert torch.isfinite(out.logits).all()


def test_lora_sft_then_lora_grpo(dataset, models, tmp_path):
    """LoRA is one flag; a LoRA stage starts from the previous LoRA stage's adapter folder."""
    recipe = REPO / "recipes" / RECIPES["qwen3_vl"]
    lora = ["--use_peft", "true", "--lora_r", "4", "--lora_alpha", "8", "--learning_rate", "1e-2"]
    sft, grpo = tmp_path / "sft_lora", tmp_path / "grpo_lora"
    run_recipe(
        "sft",
        [
            "--config",
            str(recipe / "sft" / "config_synrl.yaml"),
            "--model_name_or_path",
            str(models["qwen3_vl"]),
            "--output_dir",
            str(sft),
            "--per_device_train_batch_size",
            "2",
            *lora,
            *data_args(dataset, tmp_path),
            *TINY,
        ],
    )
    run_recipe(
        "grpo",
        [
            "--config",
            str(recipe / "grpo" / "config_round1.yaml"),
            "--model_name_or_path",
            str(sft),
            "--output_dir",
            str(grpo),
            *lora,
            *GRPO_TINY,
            *data_args(dataset, tmp_path),
            *TINY,
        ],
    )
    for out in (sft, grpo):
        assert (out / "adapter_config.json").exists() and (out / "adapter_model.safetensors").exists()
        assert not (out / "model.safetensors").exists() and (out / "processor_config.json").exists()
        assert read_run(out)["peft"]["lora_r"] == 4
    # The GRPO adapter was trained on the SFT-merged weights and says so.
    assert json.loads((grpo / "adapter_config.json").read_text())["base_model_name_or_path"] == str(sft)
    assert [s["stage"] for s in read_run(grpo)["stages"]] == ["sft", "grpo"]
    # Loading the final adapter rebuilds base + SFT LoRA + GRPO LoRA, merged into a plain model.
    from synrl_hf.training.run import load_policy

    _, _, model_args = TrlParser((SynRLScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config(
        ["--model_name_or_path", str(grpo), "--dtype", "float32", "--use_cpu", "true", "--bf16", "false"]
    )
    model, processor = load_policy(model_args)
    assert not hasattr(model, "peft_config") and processor.tokenizer.convert_tokens_to_ids("<answer>") > 0
    merged = dict(model.named_parameters())
    base = dict(load_model_and_processor(models["qwen3_vl"])[0].named_parameters())
    sft_only = dict(load_model_and_processor(sft)[0].named_parameters())
    changed_by_sft = [k for k in base if not torch.equal(base[k], sft_only[k])]
    assert changed_by_sft and all(not torch.equal(merged[k], base[k]) for k in changed_by_sft)  # SFT delta kept


# --- GRPO that visibly learns --------------------------------------------------------------------------
# A random tiny model never writes an <answer> block: reward 0 everywhere, zero advantages, zero gradient,
# GRPO weights identical to its start, and the end-to-end tests above would still pass. Here a short SFT
# first teaches the answer format on multiple-choice rows (the answer block only, the shortest completion
# the accuracy reward pays), so the letters it samples at temperature 1 are sometimes right.

LEARNING_GRPO = [
    "--per_device_train_batch_size",
    "16",
    "--num_generations",
    "4",
    "--max_completion_length",
    "8",
    "--steps_per_generation",
    "1",
]


@pytest.fixture(scope="module")
def answer_dataset(tmp_path_factory):
    """Multiple-choice rows: ``sft`` with the answer block as the assistant turn, ``grpo`` the same prompts."""
    multiple_choice = [r for r in grpo_rows(12, ("direction",), seed=1) if r["answer_type"] == "multiple_choice"]
    sft = [r for r in sft_rows(12, ("direction",), completion=answer_only_completion) if r["answer_type"] == "multiple_choice"]
    assert len(sft) == len(multiple_choice) >= 8
    return write_dataset(tmp_path_factory.mktemp("answers"), {"sft": sft, "grpo": multiple_choice})


@pytest.fixture(scope="module")
def answer_sft(answer_dataset, models, tmp_path_factory):
    """The tiny model of a type after 20 SFT steps on the answer blocks (through recipes/sft.py), made once per type."""
    done = {}

    def checkpoint(family):
        if family not in done:
            out = tmp_path_factory.mktemp(f"answer_sft_{family}")
            run_recipe(
                "sft",
                [
                    "--config",
                    str(REPO / "recipes" / RECIPES[family] / "sft" / "config_synrl.yaml"),
                    "--model_name_or_path",
                    str(models[family]),
                    "--output_dir",
                    str(out),
                    "--per_device_train_batch_size",
                    "4",
                    *data_args(answer_dataset, out),
                    *TINY,
                    "--max_steps",
                    "20",
                    "--learning_rate",
                    "5e-3",
                    "--lr_scheduler_type",
                    "constant",
                    "--warmup_steps",
                    "0",
                ],
            )
            done[family] = out
        return done[family]

    return checkpoint


def check_grpo_learned(output_dir: Path, generations: int = 4) -> dict:
    """Rewards varied inside some prompt group, the steps with such groups had gradient: the figures."""
    import pandas as pd

    steps = [r for r in read_logs(output_dir) if "loss" in r]
    assert len(steps) == 2
    table = pd.concat(pd.read_parquet(f) for f in sorted((output_dir / "completions").glob("*.parquet")))
    groups = [table.iloc[i : i + generations] for i in range(0, len(table), generations)]
    assert all(g["prompt"].map(str).nunique() == 1 for g in groups)  # the logged table is in generation order
    group_std = [float(g["accuracy_reward"].std(ddof=0)) for g in groups]
    assert max(group_std) > 0, "the accuracy reward never varied inside a group: no learning signal"
    learning = [r for r in steps if r["frac_reward_zero_std"] < 1]
    assert learning and all(r["grad_norm"] > 0 and r["reward_std"] > 0 for r in learning)
    return {"max_group_std": max(group_std), "grad_norms": [r["grad_norm"] for r in steps]}


def run_learning_grpo(family: str, start: Path, out: Path, dataset: Path, tmp_path: Path, *extra: str) -> None:
    """Two GRPO steps of round 1's recipe from ``start``: 4 prompts x 4 completions each."""
    recipe = REPO / "recipes" / RECIPES[family] / "grpo" / "config_round1.yaml"
    args = ["--config", str(recipe), "--model_name_or_path", str(start), "--output_dir", str(out), *extra, *LEARNING_GRPO]
    run_recipe("grpo", [*args, *data_args(dataset, tmp_path), *TINY])


def test_grpo_learns_visibly_from_an_answer_sft(answer_dataset, answer_sft, tmp_path):
    start, out = answer_sft("qwen2_5_vl"), tmp_path / "grpo"
    run_learning_grpo("qwen2_5_vl", start, out, answer_dataset, tmp_path)
    check_grpo_learned(out)
    before = dict(load_model_and_processor(start)[0].named_parameters())
    after = dict(load_model_and_processor(out)[0].named_parameters())
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(".visual." in k for k in changed) and any(".language_model." in k for k in changed)


def test_lora_grpo_learns_visibly_in_the_vision_tower_too(answer_dataset, answer_sft, tmp_path):
    out = tmp_path / "grpo_lora"
    lora = ("--use_peft", "true", "--lora_r", "4", "--lora_alpha", "8")
    run_learning_grpo("qwen3_vl", answer_sft("qwen3_vl"), out, answer_dataset, tmp_path, *lora)
    check_grpo_learned(out)
    from safetensors.torch import load_file

    adapter = load_file(out / "adapter_model.safetensors")
    trained = [k for k, v in adapter.items() if "lora_B" in k and v.abs().max() > 0]  # lora_B starts at zero
    assert any(".visual.blocks." in k and ".mlp.linear_fc" in k for k in trained), sorted(adapter)[:10]
    assert any(".language_model." in k for k in trained)


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda p: p.name)
def test_lora_targets_reach_the_vision_mlp(model_dir, models):
    from peft import get_peft_model
    from trl import get_peft_config

    _, _, model_args = parse(model_dir / "grpo" / "config_round1.yaml", GRPOConfig)
    model_args.use_peft = True
    family = "qwen3_vl" if model_dir.name.startswith("Qwen3") else "qwen2_5_vl"
    model = get_peft_model(load_model_and_processor(models[family])[0], get_peft_config(model_args))
    adapted = {name.rsplit(".lora_A", 1)[0] for name, _ in model.named_modules() if name.endswith(".lora_A")}
    mlp = {"qwen2_5_vl": ("gate_proj", "up_proj", "down_proj"), "qwen3_vl": ("linear_fc1", "linear_fc2")}[family]
    for block in (0, 1):
        for layer in mlp:
            assert any(name.endswith(f"visual.blocks.{block}.mlp.{layer}") for name in adapted), (family, block, layer)
    assert any(".language_model." in name for name in adapted)
