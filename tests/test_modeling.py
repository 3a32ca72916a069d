"""synrl_hf.modeling: tiny offline Qwen-VL models, loading, and how frames reach the processor."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from synrl_hf.modeling import (
    MODEL_TYPES,
    build_tiny_model,
    build_tiny_processor,
    chat_inputs,
    load_model_and_processor,
    model_type_of,
    video_inputs,
    video_size,
    vision_pad_token_ids,
)
from synrl_hf.sample import generate_sample
from synrl_hf.video import VideoFrames, read_frames


@pytest.fixture(scope="module")
def row():
    return generate_sample("direction", 0, resolution=64)


@pytest.fixture(scope="module", params=MODEL_TYPES)
def tiny(request, tmp_path_factory):
    folder = build_tiny_model(tmp_path_factory.mktemp(request.param), request.param)
    model, processor = load_model_and_processor(folder)
    return request.param, folder, model, processor


def test_tiny_model_round_trips_offline(tiny):
    family, folder, model, processor = tiny
    assert model_type_of(model) == family and model_type_of(model.config) == family
    assert (folder / "config.json").exists() and (folder / "chat_template.jinja").exists()
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    # Same seed, same weights.
    again = build_tiny_model(folder.parent / f"{family}_again", family)
    a = dict(model.named_parameters())
    b = dict(load_model_and_processor(again)[0].named_parameters())
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_reasoning_tags_are_normal_tokens(tiny):
    _, _, _, processor = tiny
    tok = processor.tokenizer
    text = "<think>two turns</think><answer>B</answer>"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    for tag in ("<think>", "</think>", "<answer>", "</answer>"):
        assert tok.convert_tokens_to_ids(tag) in ids  # one token each
    assert tok.decode(ids, skip_special_tokens=True) == text  # GRPO decodes with skip_special_tokens=True
    assert tok.decode([tok.convert_tokens_to_ids("<|im_end|>")], skip_special_tokens=True) == ""


def test_chat_template_is_trls(tiny):
    from trl.chat_template_utils import qwen2_5_vl_chat_template, qwen3_vl_chat_template

    family, _, _, processor = tiny
    expected = qwen2_5_vl_chat_template if family == "qwen2_5_vl" else qwen3_vl_chat_template
    assert processor.chat_template == expected


def test_video_inputs_carry_metadata_and_budget(tiny, row):
    family, _, model, processor = tiny
    frames = read_frames(row["video"], num_frames=4)
    inputs = chat_inputs(processor, row["prompt"], [frames], max_pixels=56 * 56)
    assert {"pixel_values_videos", "video_grid_thw", "mm_token_type_ids"} <= set(inputs)
    t, h, w = inputs["video_grid_thw"][0].tolist()
    assert t == 2  # 4 frames, temporal patch 2: the processor kept exactly our frames
    patch = 14 if family == "qwen2_5_vl" else 16
    assert h * w * patch * patch <= 56 * 56  # the per-frame budget came from the caller
    video_id = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    ids = inputs["input_ids"][0]
    assert torch.equal(inputs["mm_token_type_ids"][0] == 2, ids == video_id)
    if family == "qwen2_5_vl":
        # seconds per temporal patch = 2 frames / sampled fps; sampled fps from our indices
        sampled_fps = len(frames.indices) / frames.total_frames * frames.native_fps
        assert inputs["second_per_grid_ts"][0] == pytest.approx(2 / sampled_fps)
    else:
        text = processor.tokenizer.decode(ids)
        # Qwen3-VL writes each temporal patch's timestamp: the mean of its two frames' times
        first = (frames.timestamps[0] + frames.timestamps[1]) / 2
        assert f"<{first:.1f} seconds>" in text
    out = model(**inputs)
    assert out.logits.shape[:2] == inputs["input_ids"].shape


def test_bigger_budget_gives_more_tokens(tiny, row):
    _, _, _, processor = tiny
    frames = read_frames(row["video"], num_frames=4)
    small = chat_inputs(processor, row["prompt"], [frames], max_pixels=32 * 32)
    large = chat_inputs(processor, row["prompt"], [frames], max_pixels=64 * 64)
    assert large["pixel_values_videos"].shape[0] > small["pixel_values_videos"].shape[0]


@pytest.mark.parametrize("model_type, patch", [("qwen2_5_vl", 14), ("qwen3_vl", 16)])
def test_video_frames_stay_within_max_pixels(model_type, patch):
    """Per frame, on both model types, whatever the clip length (Qwen3-VL's processor budgets whole clips:
    odd frame counts used to get up to ~1.5x) and whatever else shares the batch."""
    processor = build_tiny_processor(model_type)
    placeholder = "<|vision_start|><|video_pad|><|vision_end|>"

    def clip(frames, height, width):
        return VideoFrames(np.zeros((frames, height, width, 3), np.uint8), np.arange(frames), np.arange(frames) / 30, 30.0, 300)

    for frames, (height, width), max_pixels in itertools.product([2, 3, 5, 8, 9], [(448, 448), (300, 500), (250, 260)], [50_176, 100_352]):
        grid = video_inputs(processor, clip(frames, height, width), placeholder, max_pixels=max_pixels)["video_grid_thw"][0]
        assert grid[1] * grid[2] * patch * patch <= max_pixels, (frames, height, width, max_pixels)
    # A short and a long clip in one call: each frame is sized as if it were alone.
    alone = video_inputs(processor, clip(5, 300, 500), placeholder, max_pixels=100_352)["video_grid_thw"][0]
    together = video_inputs(processor, [clip(5, 300, 500), clip(16, 300, 500)], [placeholder] * 2, max_pixels=100_352)["video_grid_thw"]
    assert together[0].tolist() == alone.tolist() and together[1].tolist()[1:] == alone.tolist()[1:]


def test_video_size_is_the_per_frame_processors_size():
    p25 = build_tiny_processor("qwen2_5_vl")
    assert video_size(p25, max_pixels=1000)["longest_edge"] == 1000
    assert video_size(p25) is None
    with pytest.raises(ValueError):
        video_size(p25, max_pixels=0)


def test_generation_with_suppressed_pads(tiny, row):
    _, _, model, processor = tiny
    frames = read_frames(row["video"], num_frames=4)
    inputs = chat_inputs(processor, [row["prompt"], row["prompt"]], [frames, frames], max_pixels=56 * 56)
    pads = vision_pad_token_ids(processor)
    assert len(pads) == 2
    torch.manual_seed(0)
    out = model.generate(**inputs, max_new_tokens=6, do_sample=True, suppress_tokens=pads)
    new = out[:, inputs["input_ids"].shape[1] :]
    assert not np.isin(new.numpy(), pads).any()


def test_unknown_family_is_refused(tmp_path):
    with pytest.raises(ValueError, match="qwen2_5_vl"):
        build_tiny_model(tmp_path, "llava")


def test_lora_adapter_folder_loads_merged(tmp_path, row):
    from peft import LoraConfig, get_peft_model

    base = build_tiny_model(tmp_path / "base", "qwen2_5_vl")
    model, processor = load_model_and_processor(base)
    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    processor.save_pretrained(tmp_path / "adapter")
    merged, processor2 = load_model_and_processor(tmp_path / "adapter")
    assert not hasattr(merged, "peft_config")
    inputs = chat_inputs(processor2, row["prompt"], [read_frames(row["video"], num_frames=4)], max_pixels=56 * 56)
    with torch.no_grad():
        expected = peft_model(**inputs).logits
        assert torch.allclose(merged(**inputs).logits, expected, atol=1e-4)
        assert not torch.allclose(load_model_and_processor(base)[0](**inputs).logits, expected, atol=1e-4)
