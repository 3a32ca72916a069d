"""The memory plan of a training run (``synrl plan``): the expected peak GPU memory per device.

For a recipe YAML, an accelerate config and a GPU size, the plan adds up, per device:

- **weights / shards, gradients, optimizer states**: exact byte counts from the parameter count of
  the model built on the meta device from its ``config.json`` (the shipped full-size configs in
  ``recipes/model_configs/``), laid out the way the launcher keeps them (ZeRO stage, FSDP, or a
  plain optimizer on the fp32 master weights that :func:`synrl_hf.training.run.weights_dtype` loads);
- **the GRPO generate call**: ``per_device_train_batch_size × steps_per_generation`` sequences in
  one ``generate``, the full bf16 weights gathered for it under ZeRO-3, the KV cache of prompt
  (text + video tokens of the longest clip of the recipe's dataset config under its frame budget,
  counted by the real processor) plus ``max_completion_length``, and the prefill and vision-tower
  transients;
- **the training micro-step**: activations with or without gradient checkpointing, the chunked
  log-prob head, the ZeRO-3 gathered working set, the autocast copies of fp32 weights, and the
  pixel tensors (those of the whole generation batch stay buffered for its micro-steps).

Byte counts of states, KV cache and pixel tensors are exact for the given shapes (tests compare
them with tensors measured on tiny models); activation and transient terms are estimates with the
per-token factors written below, to be checked against ``scripts/gpu_check.sh`` on a real GPU.
Each video is assumed to go through the vision tower once per forward chunk (the trainer's one
vision pass per unique video); ``--no-vision-dedupe`` plans one pass per sequence instead.

The plan also searches the largest ``steps_per_generation`` (at most ``gradient_accumulation_steps``,
so generation stays on-policy) and the largest frame count per clip that fit the usable memory
(the GPU's memory less ``headroom`` for the CUDA context and allocator fragmentation).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "GIB",
    "Launcher",
    "ModelShape",
    "Plan",
    "RunShape",
    "VideoShape",
    "add_plan_parser",
    "build_plan",
    "largest_num_frames",
    "largest_steps_per_generation",
    "video_shape",
]

GIB = 2**30
REPO = Path(__file__).resolve().parents[2]
MODEL_CONFIGS = REPO / "recipes" / "model_configs"
BF16 = 2  # bytes
FP32 = 4
# AdamW keeps two fp32 moments per trainable parameter; DeepSpeed and FSDP add an fp32 master copy.
ADAM_MOMENTS = 2 * FP32
PROMPT_TEXT_TOKENS = 256  # system + question + options + template tokens of a synrl prompt (an allowance)
SFT_ANSWER_TOKENS = 1024  # the assistant turn of an sft row (template CoT is a few hundred tokens)
GENERAL_CLIP_SECONDS = 30.0  # LLaVA-Video-178K's 0-30 s clips in the sft mixture
LOGPROB_CHUNK = 32768  # TRL's fused log-prob head scores at most this many tokens at once
DATASET_RESOLUTION = 448  # `synrl build`'s default clip side
NATIVE_FPS = 30
FRAME_SEARCH_LIMIT = 256


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelShape:
    """What the plan needs of a model, read from its ``config.json`` and its meta-device build."""

    name: str
    model_type: str
    params: int  # every parameter once (tied weights counted once)
    vision_params: int
    largest_layer_params: int  # a decoder layer (ZeRO-3 gathers one or two at a time)
    embedding_params: int  # input embedding (the LM head has as many when untied)
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    vision_depth: int
    vision_hidden: int
    vision_intermediate: int
    linear_shapes: tuple[tuple[str, int, int], ...] = field(repr=False, default=())  # (name, in, out) of every nn.Linear

    @classmethod
    def from_config(cls, path: str | Path) -> ModelShape:
        """Build the model on the meta device (no memory) from a config folder or ``config.json``."""
        import torch
        from transformers import AutoConfig, AutoModelForImageTextToText

        folder = Path(path)
        folder = folder.parent if folder.name == "config.json" else folder
        if not (folder / "config.json").is_file():
            raise ValueError(f"no config.json in {folder}")
        config = AutoConfig.from_pretrained(str(folder))
        with torch.device("meta"):
            model = AutoModelForImageTextToText.from_config(config)
        text, vision = config.text_config, config.vision_config
        named = dict(model.named_parameters())
        layer0 = next(m for n, m in model.named_modules() if n.endswith("language_model.layers.0"))
        linears = tuple((n, m.in_features, m.out_features) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear))
        heads = text.num_attention_heads
        return cls(
            name=folder.name,
            model_type=config.model_type,
            params=sum(p.numel() for p in named.values()),
            vision_params=sum(p.numel() for n, p in named.items() if ".visual." in f".{n}"),
            largest_layer_params=sum(p.numel() for p in layer0.parameters()),
            embedding_params=model.get_input_embeddings().weight.numel(),
            layers=text.num_hidden_layers,
            hidden=text.hidden_size,
            intermediate=text.intermediate_size,
            heads=heads,
            kv_heads=text.num_key_value_heads,
            head_dim=getattr(text, "head_dim", None) or text.hidden_size // heads,
            vocab=text.vocab_size,
            vision_depth=vision.depth,
            vision_hidden=vision.hidden_size,
            vision_intermediate=vision.intermediate_size,
            linear_shapes=linears,
        )

    def lora_params(self, r: int, targets: list[str] | tuple[str, ...]) -> int:
        """Trainable LoRA parameters: ``r × (in + out)`` for every linear layer whose last name part is a target."""
        wanted = set(targets)
        return sum(r * (fan_in + fan_out) for name, fan_in, fan_out in self.linear_shapes if name.rsplit(".", 1)[-1] in wanted)

    @property
    def kv_bytes_per_token(self) -> int:
        """bf16 K and V of every layer for one token: exactly what the generate call's cache grows by."""
        return 2 * self.layers * self.kv_heads * self.head_dim * BF16

    @property
    def layer_activation_bytes_per_token(self) -> int:
        """Estimate: bf16 tensors one decoder layer keeps for backward per token (norm outputs, q/k/v,
        attention output, residuals, and the SwiGLU MLP's gate, up, activation and product)."""
        attention = self.heads * self.head_dim
        return BF16 * (4 * self.hidden + 2 * attention + 2 * self.kv_heads * self.head_dim + 4 * self.intermediate)

    @property
    def prefill_bytes_per_token(self) -> int:
        """Estimate: the live bf16 tensors of one decoder layer in a no-grad forward (embeddings,
        residual, norm output and the MLP's gate, up and product), per token."""
        return BF16 * (4 * self.hidden + 3 * self.intermediate)

    @property
    def vision_layer_bytes_per_patch(self) -> int:
        """Estimate: what one vision block keeps per patch (as the decoder layer, with the vision widths)."""
        return BF16 * (6 * self.vision_hidden + 4 * self.vision_intermediate)


def model_config_dir(recipe: str | Path) -> Path:
    """``recipes/model_configs/<Model>`` for ``recipes/<Model>/<stage>/config_*.yaml``."""
    model = Path(recipe).resolve().parent.parent.name
    folder = MODEL_CONFIGS / model
    if not (folder / "config.json").is_file():
        known = sorted(p.name for p in MODEL_CONFIGS.iterdir() if (p / "config.json").is_file())
        raise ValueError(f"no shipped config for model {model!r} (from {recipe}); pass --model-config; shipped: {', '.join(known)}")
    return folder


# --- the launcher --------------------------------------------------------------------------------

DISTRIBUTED_TYPES = ("NO", "MULTI_GPU", "DEEPSPEED", "FSDP")


@dataclass(frozen=True)
class Launcher:
    """How accelerate runs the job: from an accelerate config YAML."""

    name: str
    distributed_type: str
    num_processes: int
    zero_stage: int | None = None
    offload_optimizer: bool = False
    offload_params: bool = False

    @classmethod
    def from_yaml(cls, path: str | Path, num_processes: int | None = None) -> Launcher:
        import yaml

        data = yaml.safe_load(Path(path).read_text()) or {}
        kind = str(data.get("distributed_type", "NO"))
        if kind not in DISTRIBUTED_TYPES:
            raise ValueError(f"{path}: distributed_type {kind!r} is not planned; valid: {', '.join(DISTRIBUTED_TYPES)}")
        ds = data.get("deepspeed_config") or {}
        fsdp = data.get("fsdp_config") or {}
        return cls(
            name=Path(path).name,
            distributed_type=kind,
            num_processes=int(num_processes or data.get("num_processes", 1)),
            zero_stage=int(ds.get("zero_stage", 0)) if kind == "DEEPSPEED" else None,
            offload_optimizer=kind == "DEEPSPEED" and ds.get("offload_optimizer_device", "none") not in ("none", None),
            offload_params=(kind == "DEEPSPEED" and ds.get("offload_param_device", "none") not in ("none", None))
            or bool(fsdp.get("fsdp_offload_params")),
        )

    @property
    def shards_weights(self) -> bool:
        return self.distributed_type == "FSDP" or (self.distributed_type == "DEEPSPEED" and self.zero_stage == 3)


# --- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunShape:
    """The recipe settings that decide memory."""

    stage: str  # "sft" or "grpo"
    dataset_config: str
    per_device_batch: int
    gradient_accumulation_steps: int
    steps_per_generation: int
    num_generations: int
    max_completion_length: int
    fps: float | None
    num_frames: int | None
    max_frames: int | None
    max_pixels: int | None
    gradient_checkpointing: bool
    use_peft: bool
    lora_r: int
    lora_targets: tuple[str, ...]

    @classmethod
    def from_recipe(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> RunShape:
        import yaml

        data = {**(yaml.safe_load(Path(path).read_text()) or {}), **(overrides or {})}
        stage = "grpo" if "num_generations" in data or "reward_funcs" in data else "sft"
        ga = int(data.get("gradient_accumulation_steps", 1))
        checkpointing = bool(data.get("activation_checkpointing", data.get("gradient_checkpointing", False)))
        return cls(
            stage=stage,
            dataset_config=str(data.get("dataset_config", stage)),
            per_device_batch=int(data.get("per_device_train_batch_size", 8)),
            gradient_accumulation_steps=ga,
            steps_per_generation=int(data.get("steps_per_generation") or ga),
            num_generations=int(data.get("num_generations", 8)),
            max_completion_length=int(data.get("max_completion_length", 256)),
            fps=data.get("video_fps", 4.0),
            num_frames=data.get("video_num_frames"),
            max_frames=data.get("video_max_frames", 64),
            max_pixels=data.get("video_max_pixels", 100_352),
            gradient_checkpointing=checkpointing,
            use_peft=bool(data.get("use_peft", False)),
            lora_r=int(data.get("lora_r", 16)),
            lora_targets=tuple(data.get("lora_target_modules") or ()),
        )

    def completions_per_step(self, launcher: Launcher) -> int:
        return self.per_device_batch * self.gradient_accumulation_steps * launcher.num_processes


# --- the video -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoShape:
    """The longest clip of a dataset config under a frame budget, as the model's processor sees it."""

    seconds: float
    frames: int
    grid: tuple[int, int, int]  # (t, h, w) patches
    tokens: int  # <|video_pad|> tokens in the prompt
    patches: int  # vision-tower sequence length (t × h × w)
    pixel_bytes: int  # pixel_values_videos (float32) of the clip


def longest_clip_seconds(dataset_config: str) -> float:
    """The longest clip a synrl mixture config can hold: its families' duration bounds at its preset
    (``round2``: the second round's), and for ``sft`` also the general video QA clips."""
    from ..families import FAMILIES, get_family
    from ..mixtures import MIXTURE_PRESET

    preset = MIXTURE_PRESET.get(dataset_config, "round1")
    longest = max(get_family(name).params(preset).duration[1] for name in FAMILIES)
    return max(longest, GENERAL_CLIP_SECONDS) if dataset_config == "sft" else longest


def budget_of(run: RunShape):
    from ..frame_budget import FrameBudget

    if run.max_pixels is None:
        raise ValueError("the plan needs video_max_pixels in the recipe (the processor's own default is model-specific)")
    return FrameBudget(
        fps=run.fps if run.num_frames is None else None, num_frames=run.num_frames, max_frames=run.max_frames, max_pixels=run.max_pixels
    )


def video_shape(model_type: str, run: RunShape, seconds: float, resolution: int = DATASET_RESOLUTION) -> VideoShape:
    """Frames the budget picks from a ``seconds``-long clip, and the grid the model's processor makes of them."""
    import numpy as np

    from ..modeling import build_tiny_processor, video_inputs
    from ..video import VideoFrames

    budget = budget_of(run)
    total = max(1, round(seconds * NATIVE_FPS))
    indices = budget.indices(total, NATIVE_FPS)
    frames = VideoFrames(
        frames=np.zeros((len(indices), resolution, resolution, 3), dtype=np.uint8),
        indices=np.asarray(indices),
        timestamps=np.asarray(indices) / NATIVE_FPS,
        native_fps=float(NATIVE_FPS),
        total_frames=total,
    )
    processor = build_tiny_processor(model_type, image_size=resolution)
    text = "<|vision_start|><|video_pad|><|vision_end|>"
    inputs = video_inputs(processor, [frames], text, max_pixels=budget.max_pixels)
    grid = tuple(int(v) for v in inputs["video_grid_thw"][0])
    pad = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    return VideoShape(
        seconds=seconds,
        frames=len(indices),
        grid=grid,
        tokens=int((inputs["input_ids"] == pad).sum()),
        patches=math.prod(grid),
        pixel_bytes=int(inputs["pixel_values_videos"].numel()) * FP32,
    )


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Per-device bytes by phase and component; ``fits`` against the usable memory."""

    model: str
    launcher: str
    stage: str
    gpu_gib: float
    usable_gib: float
    video: VideoShape
    settings: dict[str, Any]
    phases: dict[str, dict[str, int]]  # phase -> component -> bytes

    def peak(self, phase: str) -> int:
        return sum(self.phases[phase].values())

    @property
    def peak_bytes(self) -> int:
        return max(self.peak(phase) for phase in self.phases)

    @property
    def peak_phase(self) -> str:
        return max(self.phases, key=self.peak)

    @property
    def fits(self) -> bool:
        return self.peak_bytes <= self.usable_gib * GIB

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "launcher": self.launcher,
            "stage": self.stage,
            "gpu_gib": self.gpu_gib,
            "usable_gib": self.usable_gib,
            "video": asdict(self.video),
            "settings": self.settings,
            "phases": {p: {**c, "total": self.peak(p)} for p, c in self.phases.items()},
            "peak_gib": round(self.peak_bytes / GIB, 2),
            "peak_phase": self.peak_phase,
            "fits": self.fits,
        }


def _state_bytes(model: ModelShape, launcher: Launcher, run: RunShape) -> dict[str, int]:
    """Weights, gradients and optimizer states per device, as the launcher keeps them."""
    n = launcher.num_processes
    p = model.params
    if run.use_peft:
        trainable = model.lora_params(run.lora_r, run.lora_targets)
        base = BF16 * p // (n if launcher.shards_weights else 1)
        # Adapters: fp32 (PEFT) or bf16 + DeepSpeed's fp32 master; either way ~16 bytes per trainable parameter.
        shard = n if launcher.distributed_type in ("DEEPSPEED", "FSDP") else 1
        return {
            "weights (frozen base, bf16)": 0 if launcher.offload_params else base,
            "LoRA weights + grads": 2 * FP32 * trainable // shard,
            "optimizer (LoRA AdamW moments)": 0 if launcher.offload_optimizer else ADAM_MOMENTS * trainable // shard,
        }
    if launcher.distributed_type == "DEEPSPEED":
        stage = launcher.zero_stage or 0
        return {
            "weights (bf16" + (", ZeRO-3 shard)" if stage == 3 else ")"): 0
            if launcher.offload_params
            else BF16 * p // (n if stage == 3 else 1),
            "gradients (bf16" + (", partitioned)" if stage >= 2 else ")"): BF16 * p // (n if stage >= 2 else 1),
            "optimizer (fp32 master + AdamW, partitioned)": 0
            if launcher.offload_optimizer
            else (FP32 + ADAM_MOMENTS) * p // (n if stage >= 1 else 1),
        }
    if launcher.distributed_type == "FSDP":  # accelerate upcasts trainable weights to fp32 before sharding
        return {
            "weights (fp32 shard)": 0 if launcher.offload_params else FP32 * p // n,
            "gradients (fp32 shard)": FP32 * p // n,
            "optimizer (AdamW moments, shard)": ADAM_MOMENTS * p // n,
        }
    # One GPU / DDP: fp32 master weights (run.weights_dtype), compute in bf16 under autocast.
    return {"weights (fp32 master)": FP32 * p, "gradients (fp32)": FP32 * p, "optimizer (AdamW moments)": ADAM_MOMENTS * p}


def _videos(sequences: int, run: RunShape, dedupe: bool) -> int:
    """Distinct videos among ``sequences`` consecutive GRPO sequences (a prompt's generations are adjacent)."""
    if not dedupe or run.stage == "sft":
        return sequences
    return max(1, math.ceil(sequences / run.num_generations))


def build_plan(
    model: ModelShape,
    launcher: Launcher,
    run: RunShape,
    gpu_gib: float,
    *,
    headroom: float = 0.1,
    video: VideoShape | None = None,
    dedupe: bool = True,
) -> Plan:
    """The per-device memory plan of ``run`` on ``launcher`` with ``model`` (see the module docstring)."""
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom must be in [0, 1), got {headroom}")
    if gpu_gib <= 0:
        raise ValueError(f"GPU memory must be positive, got {gpu_gib} GiB")
    video = video or video_shape(model.model_type, run, longest_clip_seconds(run.dataset_config))
    states = _state_bytes(model, launcher, run)
    persistent = {k: v for k, v in states.items() if not k.startswith("gradients") or launcher.distributed_type == "DEEPSPEED"}
    grads_when_training = {k: v for k, v in states.items() if k not in persistent}
    prompt = PROMPT_TEXT_TOKENS + video.tokens
    answer = run.max_completion_length if run.stage == "grpo" else SFT_ANSWER_TOKENS
    sequence = prompt + answer
    micro = run.per_device_batch
    phases: dict[str, dict[str, int]] = {}

    if run.stage == "grpo":
        seqs = micro * run.steps_per_generation
        gen_videos = _videos(seqs, run, dedupe)
        gathered = BF16 * model.params if launcher.shards_weights else 0
        kv_prompt = seqs * prompt * model.kv_bytes_per_token
        kv_full = seqs * sequence * model.kv_bytes_per_token
        transients = {
            "vision tower (one block, all videos of the call)": gen_videos * video.patches * model.vision_layer_bytes_per_patch,
            "prefill (one decoder layer over every prompt)": kv_prompt + seqs * prompt * model.prefill_bytes_per_token,
            "decoding (full KV cache + sampling logits)": kv_full + 3 * seqs * model.vocab * FP32,
        }
        worst = max(transients, key=transients.get)
        phases["generate"] = {
            **persistent,
            **({"weights gathered for generate (bf16, ZeRO-3/FSDP)": gathered} if gathered else {}),
            "pixel tensors of the generation batch": gen_videos * video.pixel_bytes,
            f"KV cache + transients: {worst}": transients[worst],
        }

    tokens = micro * sequence
    layer = model.layer_activation_bytes_per_token
    if run.gradient_checkpointing:
        lm_activations = model.layers * tokens * model.hidden * BF16 + 2 * tokens * layer
        vision_per_patch = model.vision_depth * model.vision_hidden * BF16
        vision_transient = 2 * model.vision_layer_bytes_per_patch
    else:
        lm_activations = model.layers * tokens * layer
        vision_per_patch = model.vision_depth * model.vision_layer_bytes_per_patch
        vision_transient = 0
    micro_videos = _videos(micro, run, dedupe)
    vision_activations = micro_videos * video.patches * (vision_per_patch + vision_transient)
    if run.stage == "grpo":
        head = 2 * min(micro * answer, LOGPROB_CHUNK) * model.vocab * FP32  # one chunk of logits and its gradient
        buffered = _videos(micro * run.steps_per_generation, run, dedupe) * video.pixel_bytes
    else:
        head = tokens * model.vocab * (BF16 + 2 * FP32)  # bf16 logits, their fp32 upcast and its gradient
        buffered = micro_videos * video.pixel_bytes
    working_set = BF16 * (model.embedding_params + 2 * model.largest_layer_params) if launcher.shards_weights else 0
    autocast = BF16 * model.params if launcher.distributed_type in ("NO", "MULTI_GPU") and not run.use_peft else 0
    phases["train micro-step"] = {
        **persistent,
        **grads_when_training,
        **({"ZeRO-3/FSDP gathered layers (bf16)": working_set} if working_set else {}),
        **({"autocast bf16 copies of the fp32 weights": autocast} if autocast else {}),
        "activations, language model" + (" (checkpointed)" if run.gradient_checkpointing else ""): lm_activations,
        "activations, vision tower" + (" (checkpointed)" if run.gradient_checkpointing else ""): vision_activations,
        "log-prob head (chunk of logits + gradient)" if run.stage == "grpo" else "logits + loss": head,
        "pixel tensors buffered for the micro-steps": buffered,
    }
    settings = {
        "per_device_train_batch_size": micro,
        "gradient_accumulation_steps": run.gradient_accumulation_steps,
        "num_processes": launcher.num_processes,
        "frame_budget": budget_of(run).tag,
        "prompt_tokens": prompt,
        "sequence_tokens": sequence,
        "gradient_checkpointing": run.gradient_checkpointing,
        "use_peft": run.use_peft,
        "vision_dedupe": dedupe,
    }
    if run.stage == "grpo":
        settings.update(
            steps_per_generation=run.steps_per_generation,
            sequences_per_generate=micro * run.steps_per_generation,
            completions_per_step=run.completions_per_step(launcher),
            prompts_per_step=run.completions_per_step(launcher) // run.num_generations,
        )
    else:
        settings["samples_per_step"] = run.completions_per_step(launcher)
    return Plan(model.name, launcher.name, run.stage, gpu_gib, round(gpu_gib * (1 - headroom), 2), video, settings, phases)


def largest_steps_per_generation(model: ModelShape, launcher: Launcher, run: RunShape, gpu_gib: float, **kwargs: Any) -> int | None:
    """The largest ``steps_per_generation`` (≤ gradient accumulation: on-policy) whose plan fits; None if even 1 does not."""
    video = kwargs.pop("video", None) or video_shape(model.model_type, run, longest_clip_seconds(run.dataset_config))
    best = None
    for steps in range(1, run.gradient_accumulation_steps + 1):
        if build_plan(model, launcher, replace(run, steps_per_generation=steps), gpu_gib, video=video, **kwargs).fits:
            best = steps
    return best


def largest_num_frames(
    model: ModelShape, launcher: Launcher, run: RunShape, gpu_gib: float, *, limit: int = FRAME_SEARCH_LIMIT, **kwargs: Any
) -> int | None:
    """The largest even frame count per clip (``video_num_frames``, ≤ ``limit``) whose plan fits at
    the recipe's pixels per frame, or None if 2 frames do not. Plans grow with the frame count, so a
    binary search finds it."""
    seconds = longest_clip_seconds(run.dataset_config)

    def fits(frames: int) -> bool:
        counted = replace(run, num_frames=frames, fps=None, max_frames=None)
        return build_plan(model, launcher, counted, gpu_gib, video=video_shape(model.model_type, counted, seconds), **kwargs).fits

    if not fits(2):
        return None
    low, high = 1, limit // 2  # fits(2 * low) holds; the answer is at most 2 * high
    while low < high:  # binary search on the frame count in steps of two (the temporal patch)
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(2 * middle) else (low, middle - 1)
    return 2 * low


# --- rendering and the command -------------------------------------------------------------------


def render(plan: Plan, *, steps_per_generation: int | None = None, num_frames: int | None = None) -> str:
    gib = lambda b: f"{b / GIB:7.2f}"  # noqa: E731
    v = plan.video
    s = plan.settings
    lines = [
        f"{plan.model} · {plan.stage} · {plan.launcher} ({s['num_processes']} processes) · {plan.gpu_gib:g} GiB GPU "
        f"({plan.usable_gib:g} GiB usable)",
        f"longest clip {v.seconds:g} s → {v.frames} frames ({s['frame_budget']}), grid {v.grid[0]}×{v.grid[1]}×{v.grid[2]} → "
        f"{v.tokens} video tokens; prompt {s['prompt_tokens']} tokens, sequence {s['sequence_tokens']}",
    ]
    if plan.stage == "grpo":
        lines.append(
            f"{s['completions_per_step']} completions/step = {s['prompts_per_step']} prompts × {s['completions_per_step'] // s['prompts_per_step']}; "
            f"micro-batch {s['per_device_train_batch_size']}, accumulation {s['gradient_accumulation_steps']}, "
            f"steps_per_generation {s['steps_per_generation']} → {s['sequences_per_generate']} sequences per generate"
        )
    else:
        lines.append(f"{s['samples_per_step']} samples/step; micro-batch {s['per_device_train_batch_size']}")
    for phase, components in plan.phases.items():
        lines.append(f"  {phase}:")
        lines += [f"    {gib(b)} GiB  {name}" for name, b in components.items()]
        lines.append(f"    {gib(plan.peak(phase))} GiB  = {phase} peak")
    verdict = "fits" if plan.fits else "DOES NOT FIT"
    lines.append(f"  expected peak {plan.peak_bytes / GIB:.2f} GiB ({plan.peak_phase}): {verdict} in {plan.usable_gib:g} GiB")
    if steps_per_generation is not None or plan.stage == "grpo":
        lines.append(f"  largest safe steps_per_generation: {steps_per_generation if steps_per_generation is not None else 'none fits'}")
    frames_text = f"{num_frames} frames per clip" if num_frames is not None else "none fits"
    if num_frames == FRAME_SEARCH_LIMIT:
        frames_text = f"{FRAME_SEARCH_LIMIT} frames per clip or more (the search limit)"
    lines.append(f"  largest safe frame budget (video_num_frames) at {budget_pixels(plan)} per frame: {frames_text}")
    return "\n".join(lines)


def budget_pixels(plan: Plan) -> str:
    return plan.settings["frame_budget"].rsplit("-", 1)[-1]


def _override(text: str) -> tuple[str, Any]:
    import yaml

    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (a recipe key), got {text!r}")
    return key.strip(), yaml.safe_load(value)


def add_plan_parser(subparsers) -> None:
    p = subparsers.add_parser("plan", help="expected peak GPU memory per device of a recipe, before renting GPUs")
    p.add_argument("recipe", help="a recipe YAML, e.g. recipes/Qwen3-VL-8B-Instruct/grpo/config_round1.yaml")
    p.add_argument("--accelerate-config", default=str(REPO / "recipes" / "accelerate_configs" / "zero3.yaml"), help="default: zero3.yaml")
    p.add_argument("--gpu-gib", type=float, default=80.0, help="memory of one GPU in GiB (default 80)")
    p.add_argument("--num-processes", type=int, default=None, help="GPUs (default: the accelerate config's num_processes)")
    p.add_argument("--model-config", default=None, help="config.json folder (default: recipes/model_configs/<the recipe's model>)")
    p.add_argument("--headroom", type=float, default=0.1, help="share of GPU memory kept free for the CUDA context and fragmentation")
    p.add_argument(
        "--set", dest="overrides", type=_override, action="append", default=[], metavar="KEY=VALUE", help="override a recipe key"
    )
    p.add_argument("--no-vision-dedupe", action="store_true", help="plan one vision pass per sequence instead of per unique video")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(run=run_plan)


def run_plan(args) -> int:
    recipe = Path(args.recipe)
    if not recipe.is_file():
        raise FileNotFoundError(f"no recipe file {recipe}")
    model = ModelShape.from_config(args.model_config or model_config_dir(recipe))
    launcher = Launcher.from_yaml(args.accelerate_config, args.num_processes)
    run = RunShape.from_recipe(recipe, dict(args.overrides))
    options = dict(headroom=args.headroom, dedupe=not args.no_vision_dedupe)
    plan = build_plan(model, launcher, run, args.gpu_gib, **options)
    steps = largest_steps_per_generation(model, launcher, run, args.gpu_gib, video=plan.video, **options) if run.stage == "grpo" else None
    frames = largest_num_frames(model, launcher, run, args.gpu_gib, **options)
    if args.json:
        print(json.dumps({**plan.to_dict(), "largest_steps_per_generation": steps, "largest_num_frames": frames}, indent=2))
    else:
        print(render(plan, steps_per_generation=steps, num_frames=frames))
    return 0 if plan.fits else 1
