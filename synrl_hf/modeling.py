"""Qwen-VL models and processors for synrl: build tiny offline ones, load real ones, feed them video.

Everything that touches a model (training recipes, evaluation, the Space) goes through this module,
so the way frames reach a processor is the same everywhere: frames are decoded by
:func:`synrl_hf.video.read_frames` (never by transformers, which would need torchcodec) and handed
to the processor with their metadata (native fps, frame indices) and ``do_sample_frames=False``.
The pixel budget always comes from the caller (a recipe, an eval config): nothing here caps it.

API
---
``build_tiny_model(output_dir, model_type="qwen2_5_vl", *, seed=0, image_size=56, text_config=None, vision_config=None) -> Path``
    Save a randomly initialised 2-layer Qwen2.5-VL (``"qwen2_5_vl"``) or Qwen3-VL (``"qwen3_vl"``)
    and its processor to ``output_dir``; no network. Loads with :func:`load_model` /
    :func:`load_processor` (or ``AutoModelForImageTextToText`` / ``AutoProcessor``).
    ``text_config`` / ``vision_config`` override sizes (e.g. a bigger random model for GPU checks;
    keep ``mrope_section`` summing to ``head_dim / 2`` and vision ``out_hidden_size`` equal to the
    text ``hidden_size``).
``build_tiny_processor(model_type="qwen2_5_vl", *, image_size=56) -> ProcessorMixin``
    Just the processor: byte-level ``Qwen2Tokenizer`` (256 byte tokens, no merges) + the Qwen
    special tokens, ``<think>``/``</think>``/``<answer>``/``</answer>`` as normal tokens (so
    ``skip_special_tokens=True`` keeps them), TRL's shipped chat template for the model type.
``load_model(name_or_path, *, dtype="auto", device_map=None, attn_implementation=None, **kwargs)``
    ``AutoModelForImageTextToText.from_pretrained`` (a folder or a Hub id). ``dtype`` may be a string.
    A local LoRA-adapter folder is loaded onto its base model and merged (``merge_adapter=False``
    keeps the ``PeftModel``).
``load_processor(name_or_path, **kwargs)`` / ``load_model_and_processor(name_or_path, **kwargs)``
    ``AutoProcessor.from_pretrained``; the pair. The processor's tokenizer gets ``padding_side="left"``
    only when asked (``padding_side=...``).
``model_type_of(model_or_config_or_processor) -> "qwen2_5_vl" | "qwen3_vl" | str``
    Which Qwen-VL generation a model/config/processor belongs to (``model_type`` of the config).
``video_size(processor, *, max_pixels=None, min_pixels=None) -> dict | None``
    The ``size`` override of a per-frame video processor (Qwen2.5-VL) for a per-frame pixel budget.
    Qwen3-VL's processor budgets whole clips, so :func:`video_inputs` resizes its frames itself.
``video_inputs(processor, videos, text, *, max_pixels=None, min_pixels=None, return_tensors="pt", **kwargs)``
    Processor inputs (``input_ids``, ``attention_mask``, ``pixel_values_videos``,
    ``video_grid_thw``, plus ``second_per_grid_ts`` / ``mm_token_type_ids`` where the model uses
    them) for rendered prompt text(s) and :class:`~synrl_hf.video.VideoFrames` (one per
    ``<|video_pad|>`` placeholder, in order). ``max_pixels``/``min_pixels`` are per frame.
``chat_inputs(processor, messages, videos, *, add_generation_prompt=True, chat_template=None, **kwargs)``
    Render one conversation or a batch of conversations with the chat template, then
    :func:`video_inputs`.
``vision_pad_token_ids(processor) -> list[int]``
    Ids of ``<|image_pad|>`` and ``<|video_pad|>``: suppress them in generation (a sampled pad token
    crashes the next forward).

Example::

    from synrl_hf.modeling import chat_inputs, load_model_and_processor, vision_pad_token_ids
    from synrl_hf.video import read_frames

    model, processor = load_model_and_processor("Qwen/Qwen3-VL-4B-Instruct", dtype="bfloat16")
    frames = read_frames(row["video"], fps=2.0)
    inputs = chat_inputs(processor, row["prompt"], [frames], max_pixels=448 * 448)
    out = model.generate(**inputs, max_new_tokens=512, suppress_tokens=vision_pad_token_ids(processor))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .video import VideoFrames

__all__ = [
    "MODEL_TYPES",
    "QWEN_SPECIAL_TOKENS",
    "REASONING_TOKENS",
    "build_tiny_model",
    "build_tiny_processor",
    "byte_level_vocab",
    "chat_inputs",
    "load_model",
    "load_model_and_processor",
    "load_processor",
    "model_type_of",
    "video_inputs",
    "video_size",
    "vision_pad_token_ids",
]

MODEL_TYPES = ("qwen2_5_vl", "qwen3_vl")

# Qwen's special tokens, in Qwen's order (their ids follow the byte tokens in the tiny vocab).
QWEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
# Normal (not special) tokens: GRPO decodes completions with skip_special_tokens=True.
REASONING_TOKENS = ("<think>", "</think>", "<answer>", "</answer>")

_TINY_VOCAB_SIZE = 384  # >= 256 bytes + 14 special + 4 reasoning tokens, a multiple of 64


# --- tiny offline models --------------------------------------------------------------------------


def byte_level_vocab() -> dict[str, int]:
    """GPT-2's byte-to-unicode alphabet as a 256-token vocabulary (ids in byte order)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = [], 0
    for byte in range(256):
        if byte in printable:
            codes.append(byte)
        else:
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in enumerate(codes)}


def _check_model_type(model_type: str) -> str:
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; valid: {', '.join(MODEL_TYPES)}")
    return model_type


def _chat_template(model_type: str) -> str:
    from trl import chat_template_utils

    return {"qwen2_5_vl": chat_template_utils.qwen2_5_vl_chat_template, "qwen3_vl": chat_template_utils.qwen3_vl_chat_template}[model_type]


def build_tiny_processor(model_type: str = "qwen2_5_vl", *, image_size: int = 56):
    """A Qwen-VL processor that needs no download, sized for ``image_size``-pixel frames.

    The image/video processors keep the real patch sizes (14 for Qwen2.5-VL, 16 for Qwen3-VL) with a
    small default pixel budget (``image_size``² per frame), so tiny test videos stay a few tokens.
    """
    from tokenizers import AddedToken
    from transformers import (
        Qwen2_5_VLProcessor,
        Qwen2Tokenizer,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    _check_model_type(model_type)
    tokenizer = Qwen2Tokenizer(
        vocab=byte_level_vocab(),
        merges=[],
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens={},
    )
    tokenizer.add_tokens([AddedToken(token, special=True, normalized=False) for token in QWEN_SPECIAL_TOKENS], special_tokens=True)
    tokenizer.add_tokens([AddedToken(token, special=False, normalized=False) for token in REASONING_TOKENS])
    tokenizer.model_max_length = 32768
    pixels = image_size * image_size
    if model_type == "qwen2_5_vl":
        factor = 28
        image_processor = Qwen2VLImageProcessor(size={"shortest_edge": factor * factor, "longest_edge": pixels})
        video_processor = Qwen2VLVideoProcessor(size={"shortest_edge": factor * factor, "longest_edge": pixels})
        cls = Qwen2_5_VLProcessor
    else:
        factor = 32
        image_processor = Qwen2VLImageProcessor(
            patch_size=16, size={"shortest_edge": factor * factor, "longest_edge": pixels}, image_mean=[0.5] * 3, image_std=[0.5] * 3
        )
        # Qwen3-VL's video budget is per clip (frames x pixels); 64 frames' worth by default.
        video_processor = Qwen3VLVideoProcessor(
            size={"shortest_edge": factor * factor, "longest_edge": 64 * pixels}, image_mean=[0.5] * 3, image_std=[0.5] * 3
        )
        cls = Qwen3VLProcessor
    return cls(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor, chat_template=_chat_template(model_type)
    )


def _tiny_config(model_type: str, processor, text_overrides: dict | None = None, vision_overrides: dict | None = None):
    from transformers import Qwen2_5_VLConfig, Qwen3VLConfig

    tok = processor.tokenizer
    ids = {
        name: tok.convert_tokens_to_ids(token)
        for name, token in (
            ("image_token_id", "<|image_pad|>"),
            ("video_token_id", "<|video_pad|>"),
            ("vision_start_token_id", "<|vision_start|>"),
            ("vision_end_token_id", "<|vision_end|>"),
        )
    }
    special = {
        "bos_token_id": tok.convert_tokens_to_ids("<|endoftext|>"),
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
    }
    hidden, heads, head_dim = 64, 4, 16  # mrope_section sums to head_dim / 2
    text = dict(
        vocab_size=_TINY_VOCAB_SIZE,
        hidden_size=hidden,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [2, 3, 3]},
        **special,
    )
    if model_type == "qwen2_5_vl":
        vision = dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=hidden,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=56,
            fullatt_block_indexes=[1],
        )
        text.update(text_overrides or {})
        vision.update({"out_hidden_size": text["hidden_size"], **(vision_overrides or {})})
        return Qwen2_5_VLConfig(text_config=text, vision_config=vision, **ids, tie_word_embeddings=False)
    text["head_dim"] = head_dim
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": [4, 2, 2], "mrope_interleaved": True}
    vision = dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=hidden,
        patch_size=16,
        spatial_merge_size=2,
        temporal_patch_size=2,
        num_position_embeddings=64,
        deepstack_visual_indexes=[1],
    )
    text.update(text_overrides or {})
    vision.update({"out_hidden_size": text["hidden_size"], **(vision_overrides or {})})
    return Qwen3VLConfig(text_config=text, vision_config=vision, **ids, tie_word_embeddings=False)


def build_tiny_model(
    output_dir: str | os.PathLike,
    model_type: str = "qwen2_5_vl",
    *,
    seed: int = 0,
    image_size: int = 56,
    text_config: dict | None = None,
    vision_config: dict | None = None,
) -> Path:
    """Save a randomly initialised tiny ``model_type`` model + processor (+ generation config) to ``output_dir``.

    Same ``seed`` → same weights. Takes a second or two on a CPU; the folder is ~1 MB.
    """
    import torch
    from transformers import AutoModelForImageTextToText, GenerationConfig

    _check_model_type(model_type)
    processor = build_tiny_processor(model_type, image_size=image_size)
    config = _tiny_config(model_type, processor, text_config, vision_config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    tok = processor.tokenizer
    model.generation_config = GenerationConfig(
        bos_token_id=config.text_config.bos_token_id,
        eos_token_id=[tok.eos_token_id, tok.convert_tokens_to_ids("<|endoftext|>")],
        pad_token_id=tok.pad_token_id,
    )
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


# --- loading --------------------------------------------------------------------------------------


def _dtype(dtype: Any):
    import torch

    if dtype is None or dtype == "auto" or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        return getattr(torch, dtype)
    raise ValueError(f"unknown dtype {dtype!r}; use 'auto', 'bfloat16', 'float16' or 'float32'")


def load_model(
    name_or_path: str | os.PathLike,
    *,
    dtype: Any = "auto",
    device_map: Any = None,
    attn_implementation: str | None = None,
    **kwargs: Any,
):
    """A Qwen-VL model (any ``AutoModelForImageTextToText``) from a folder or a Hub id.

    A local LoRA-adapter folder (``adapter_config.json``, no ``config.json``, as a ``use_peft``
    run saves) is loaded onto its base model with peft and, with ``merge_adapter=True`` (default),
    merged: the result is a plain model either way.
    """
    from transformers import AutoModelForImageTextToText

    merge_adapter = kwargs.pop("merge_adapter", True)
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    if device_map is not None:
        kwargs["device_map"] = device_map
    path = os.fspath(name_or_path)
    adapter_config = Path(path) / "adapter_config.json"
    if adapter_config.is_file() and not (Path(path) / "config.json").is_file():
        import json

        from peft import PeftModel

        base = json.loads(adapter_config.read_text())["base_model_name_or_path"]
        # The base may itself be an adapter folder (a LoRA stage started from a LoRA stage): recurse.
        model = load_model(base, dtype=dtype, **kwargs)
        model = PeftModel.from_pretrained(model, path)
        if not merge_adapter:
            return model
        model = model.merge_and_unload()
        # A LoRA trained on top of this model must name this folder as its base, not the first base.
        model.name_or_path = model.config._name_or_path = path
        return model
    return AutoModelForImageTextToText.from_pretrained(path, dtype=_dtype(dtype), **kwargs)


def load_processor(name_or_path: str | os.PathLike, *, padding_side: str | None = None, **kwargs: Any):
    """The processor saved with a model (``AutoProcessor``); a LoRA-adapter folder works if it has one."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(os.fspath(name_or_path), **kwargs)
    if padding_side is not None:
        processor.tokenizer.padding_side = padding_side
    return processor


def load_model_and_processor(name_or_path: str | os.PathLike, *, processor_kwargs: dict | None = None, **model_kwargs: Any):
    """``(load_model(name_or_path, **model_kwargs), load_processor(name_or_path, **processor_kwargs))``."""
    return load_model(name_or_path, **model_kwargs), load_processor(name_or_path, **(processor_kwargs or {}))


def model_type_of(obj: Any) -> str:
    """``model_type`` of a model, config or processor's model: "qwen2_5_vl", "qwen3_vl", ..."""
    config = getattr(obj, "config", obj)
    model_type = getattr(config, "model_type", None)
    if model_type:
        return model_type
    video_processor = getattr(obj, "video_processor", None)
    if video_processor is not None:
        return "qwen3_vl" if _per_clip_budget(video_processor) else "qwen2_5_vl"
    raise TypeError(f"cannot tell the model type of {type(obj).__name__}")


# --- video inputs ---------------------------------------------------------------------------------


def _per_clip_budget(video_processor) -> bool:
    """Qwen3-VL's video processor compares ``longest_edge`` to frames x height x width."""
    return type(video_processor).__name__.startswith(("Qwen3VL", "Qwen3_5"))


def video_size(processor, *, max_pixels: int | None = None, min_pixels: int | None = None) -> dict | None:
    """The ``size`` kwarg of a per-frame video processor (Qwen2.5-VL) for these pixel bounds per frame.

    ``None`` when neither bound is given (the processor's own defaults apply). A bound not given
    keeps the processor's default.
    """
    if max_pixels is None and min_pixels is None:
        return None
    default = dict(processor.video_processor.size)
    size = {"shortest_edge": default.get("shortest_edge"), "longest_edge": default.get("longest_edge")}
    if max_pixels is not None:
        if max_pixels <= 0:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}")
        size["longest_edge"] = int(max_pixels)
    if min_pixels is not None:
        size["shortest_edge"] = int(min_pixels)
    if size["shortest_edge"] and size["longest_edge"] and size["shortest_edge"] > size["longest_edge"]:
        size["shortest_edge"] = size["longest_edge"]
    return size


def video_inputs(
    processor,
    videos: Sequence[VideoFrames] | VideoFrames,
    text: str | Sequence[str],
    *,
    max_pixels: int | None = None,
    min_pixels: int | None = None,
    return_tensors: str | None = "pt",
    **kwargs: Any,
):
    """Processor inputs for rendered prompt ``text`` and the decoded ``videos`` it refers to.

    ``videos`` are :class:`~synrl_hf.video.VideoFrames` from ``read_frames`` (one per video
    placeholder across the batch, in order). Frames go in as ``(T, H, W, 3)`` uint8 arrays with
    ``video_metadata`` and ``do_sample_frames=False``: the processor keeps exactly those frames and
    knows their timestamps. ``max_pixels``/``min_pixels`` bound each frame of each video, on both model
    types (:func:`synrl_hf.frame_budget.frame_size`).
    Other ``kwargs`` go to the processor (``padding=True`` is the default for batches).
    """
    from .frame_budget import fit_frames
    from .video import VideoFrames

    if isinstance(videos, VideoFrames):
        videos = [videos]
    videos = list(videos)
    texts = [text] if isinstance(text, str) else list(text)
    if not videos:
        return processor(text=texts, return_tensors=return_tensors, padding=kwargs.pop("padding", True), **kwargs)
    video_processor = processor.video_processor
    videos_kwargs: dict[str, Any] = {"do_sample_frames": False, "video_metadata": [v.metadata() for v in videos]}
    if _per_clip_budget(video_processor) and (max_pixels is not None or min_pixels is not None):
        # Qwen3-VL's processor budgets a whole clip: it tests (frames rounded to the temporal patch) x
        # pixels against the budget but scales by the unrounded count, so a frame of an odd-length clip
        # could exceed its share by up to ~50%, and the clips of one batch would share the longest
        # clip's budget. Resize each frame by the per-frame rule here; the processor keeps those sizes.
        factor = int(video_processor.patch_size) * int(video_processor.merge_size)
        videos = [fit_frames(v, factor, max_pixels=max_pixels, min_pixels=min_pixels) for v in videos]
        videos_kwargs["do_resize"] = False
    elif (size := video_size(processor, max_pixels=max_pixels, min_pixels=min_pixels)) is not None:
        videos_kwargs["size"] = size
    valid = getattr(getattr(processor.video_processor, "valid_kwargs", None), "__annotations__", {})
    if "cap_pixels_per_frame" in valid:
        # The budget is explicit and per frame: no extra duration-dependent cap (and no warning).
        videos_kwargs["cap_pixels_per_frame"] = False
    videos_kwargs.update(kwargs.pop("videos_kwargs", {}))
    return processor(
        text=texts,
        videos=[v.frames for v in videos],
        return_tensors=return_tensors,
        padding=kwargs.pop("padding", True),
        videos_kwargs=videos_kwargs,
        **kwargs,
    )


def chat_inputs(
    processor,
    messages: list,
    videos: Sequence[VideoFrames] | VideoFrames,
    *,
    add_generation_prompt: bool = True,
    chat_template: str | None = None,
    **kwargs: Any,
):
    """Render ``messages`` (one conversation, or a list of them) and call :func:`video_inputs`."""
    batch = messages if messages and isinstance(messages[0], list) else [messages]
    texts = [
        processor.apply_chat_template(m, tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=chat_template)
        for m in batch
    ]
    return video_inputs(processor, videos, texts, **kwargs)


def vision_pad_token_ids(processor) -> list[int]:
    """Token ids of ``<|image_pad|>`` and ``<|video_pad|>`` (those the tokenizer knows)."""
    tokenizer = getattr(processor, "tokenizer", processor)
    ids = []
    for token in ("<|image_pad|>", "<|video_pad|>"):
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != tokenizer.unk_token_id:
            ids.append(int(token_id))
    return ids
