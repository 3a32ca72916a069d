"""``VideoGRPOTrainer``: TRL's GRPOTrainer with video that reaches both generation and the loss.

Stock ``GRPOTrainer`` (TRL 1.16) has no native video: with a video block in the prompt the loss
forward gets no ``pixel_values_videos`` / ``video_grid_thw`` / ``mm_token_type_ids`` — no error,
wrong log-probs. This subclass:

1. decodes each distinct video of a batch once with the recipe's :class:`FrameBudget`
   (``read_frames``), keyed on the video's content (:func:`~synrl_hf.training.data.video_key`);
2. tokenizes prompts through :func:`synrl_hf.modeling.video_inputs` (frames + metadata,
   ``do_sample_frames=False``, the recipe's pixel bounds), so generation sees the video;
3. carries the per-sample video tensors in the generation batch (through TRL's shuffle and split)
   and feeds them, with ``mm_token_type_ids`` rebuilt from the token ids (and
   ``second_per_grid_ts`` on Qwen2.5-VL), to every log-prob forward: the loss, the old-policy and
   the reference-model passes;
4. with ``vision_dedupe`` (the default), runs the vision tower once per distinct video in each
   forward — generation and every log-prob chunk — and shares the features among the video's
   ``num_generations`` completions (:mod:`synrl_hf.training.vision_dedupe`; gradients still reach
   the tower). The shuffle after generation then keeps a video's completions together, as VeRL's
   actor update does, so a loss chunk of ``per_device_train_batch_size`` completions holds whole
   groups: with ``per_device_train_batch_size`` a multiple of ``num_generations`` each chunk encodes
   ``per_device_train_batch_size / num_generations`` videos instead of ``per_device_train_batch_size``;
5. suppresses ``<|image_pad|>`` and ``<|video_pad|>`` in generation (a sampled pad token would
   desynchronise vision tokens and features in the next forward);
6. refuses settings that would generate without the video (transformers' continuous batching,
   custom rollouts, tools, vLLM in video mode) before any work is done.

``video_mode="images"`` instead passes the frames as an image list with their timestamps as text,
which TRL handles natively, including its vLLM rollouts (``use_vllm``, colocate or server; TRL
1.16 supports vLLM 0.22–0.31). Frames are resized to the recipe's pixel bound first. It costs twice
the vision tokens of video mode: Qwen-VL's temporal patch spans 2 frames, so a video packs two
consecutive frames into one grid of tokens while each image repeats its frame to fill the patch.
With vLLM, ``vllm_max_model_length`` must hold the frames' vision tokens plus the completion.

It overrides private methods of ``trl.GRPOTrainer`` (``_generate_and_score_completions``,
``_tokenize_prompts``, ``_generate_single_turn``, ``_prepare_inputs``,
``_get_per_token_logps_and_entropies``, ``_compute_loss``): it is pinned to ``trl==1.16.0`` and
refuses other versions unless ``SYNRL_ALLOW_UNTESTED_TRL=1``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import torch
import trl
from trl import GRPOTrainer
from trl.trainer.utils import split_tensor_dict

from ..frame_budget import DEFAULT_BUDGET, FrameBudget
from ..modeling import video_inputs, vision_pad_token_ids
from ..online.frames import rendered_frames
from .configs import VIDEO_MODES
from .data import as_messages, count_video_blocks, frames_as_images_prompt, video_key
from .vision_dedupe import VisionDedupe, grouped_permutation, permute_batch, video_model_kwargs

logger = logging.getLogger(__name__)

SUPPORTED_TRL_VERSION = "1.16.0"
VIDEO_KEY = "video_inputs"  # per-sample video tensors in TRL's generation batch
_FORWARD_KEYS = ("video_key", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


def check_trl_version(version: str | None = None) -> None:
    """Raise unless TRL is the version whose private methods this trainer overrides."""
    version = version or trl.__version__
    if version == SUPPORTED_TRL_VERSION:
        return
    message = (
        f"VideoGRPOTrainer overrides private methods of trl=={SUPPORTED_TRL_VERSION}, found trl=={version}. "
        f"Install trl=={SUPPORTED_TRL_VERSION}, or set SYNRL_ALLOW_UNTESTED_TRL=1 to try anyway."
    )
    if os.environ.get("SYNRL_ALLOW_UNTESTED_TRL") == "1":
        logger.warning(message)
        return
    raise RuntimeError(message)


def images_mode_vision_tokens(budget: FrameBudget, factor: int) -> int:
    """The most vision tokens one prompt's frames cost in frames-as-images mode (one grid per frame)."""
    frames = budget.num_frames or budget.max_frames
    if frames is None or budget.max_pixels is None:
        raise ValueError("with use_vllm the prompt length must be bounded: set video_max_frames (or video_num_frames) and video_max_pixels")
    return frames * (budget.max_pixels // (factor * factor))


def check_generation_setup(args, processing_class, video_mode: str, budget: FrameBudget, **extras: Any) -> None:
    """Refuse, before any work, settings under which completions would be generated without their video.

    ``extras`` are ``GRPOTrainer``'s ``rollout_func`` / ``tools`` / ``environment_factory``. Without a
    ``processing_class`` (a recipe checking its arguments before loading the model) the checks that
    need the image processor (images mode's pixel floor and vLLM context) wait for the trainer.
    """
    if video_mode not in VIDEO_MODES:
        raise ValueError(f"video_mode must be one of {VIDEO_MODES}, got {video_mode!r}")
    if args is None:
        return
    if args.use_transformers_continuous_batching or args.use_transformers_paged:
        raise ValueError(
            "use_transformers_continuous_batching (or the deprecated use_transformers_paged) generates from token ids "
            "alone and would drop the video; valid generation backends: transformers generate "
            "(use_transformers_continuous_batching: false) in either video_mode, or use_vllm: true with video_mode: images"
        )
    if video_mode == "video":
        if args.use_vllm:
            raise ValueError(
                "TRL's vLLM rollouts take images, not video: set video_mode='images' with use_vllm, or use_vllm=False for native video"
            )
        given = sorted(name for name, value in extras.items() if value)
        if given:
            raise ValueError(
                f"{', '.join(given)} is not supported with video_mode='video': the trainer tokenizes each prompt with its "
                "video itself, and a custom rollout or tool turns would generate without it; leave it unset"
            )
        return
    if processing_class is None:
        return
    image_processor = processing_class.image_processor
    factor = int(getattr(image_processor, "patch_size", 14)) * int(getattr(image_processor, "merge_size", 2))
    smallest = dict(image_processor.size).get("shortest_edge")
    if budget.max_pixels is not None and smallest and budget.max_pixels < smallest:
        raise ValueError(
            f"video_max_pixels={budget.max_pixels} is below the image processor's minimum of {smallest} pixels: in "
            f"video_mode 'images' it would upscale every frame past the budget; set video_max_pixels >= {smallest} or use video_mode 'video'"
        )
    if args.use_vllm:
        needed = images_mode_vision_tokens(budget, factor) + args.max_completion_length
        if args.vllm_max_model_length is None or args.vllm_max_model_length < needed:
            raise ValueError(
                f"vllm_max_model_length={args.vllm_max_model_length}: with use_vllm in video_mode 'images' set it to at least "
                f"{needed} (the frames' vision tokens, {needed - args.max_completion_length}, plus max_completion_length) "
                "plus the prompt's text; without it vLLM reserves the model's full context"
            )


class VideoGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` for rows with a ``video`` column and a conversational ``prompt`` with one video block.

    Extra arguments: ``frame_budget`` (:class:`FrameBudget`), ``video_mode`` (``"video"`` or
    ``"images"``), ``video_column``, ``vision_dedupe`` (video mode: one vision-tower pass per
    distinct video per forward; ``False`` encodes every completion's copy, for comparison).
    Everything else is ``GRPOTrainer``'s; ``processing_class`` is required (a Qwen-VL processor).
    """

    def __init__(
        self,
        model,
        reward_funcs=None,
        args=None,
        *,
        processing_class=None,
        frame_budget: FrameBudget | None = None,
        video_mode: str = "video",
        video_column: str = "video",
        vision_dedupe: bool = True,
        **kwargs: Any,
    ):
        check_trl_version()
        if processing_class is None:
            raise ValueError("VideoGRPOTrainer needs the model's processor as processing_class")
        self.frame_budget = frame_budget or DEFAULT_BUDGET
        extras = {name: kwargs.get(name) for name in ("rollout_func", "tools", "environment_factory")}
        check_generation_setup(args, processing_class, video_mode, self.frame_budget, **extras)
        if args is not None:
            # The video and answer columns must reach the trainer and the reward functions.
            args.remove_unused_columns = False
            args.generation_kwargs = self._suppress_vision_pads(args, processing_class)
        self.video_mode = video_mode
        self.video_column = video_column
        self.vision_dedupe = vision_dedupe and video_mode == "video"
        self._batch_videos: list | None = None  # VideoFrames per row of the batch being generated
        self._batch_keys: list | None = None
        self._batch_video_inputs: list | None = None  # per-row processor outputs
        self._generation_copies: list[int] | None = None  # copy index of the generation batch's videos
        self._active_video: list | None = None  # per-row video tensors for the forward in progress
        super().__init__(model, reward_funcs, args, processing_class=processing_class, **kwargs)
        self._dedupe = VisionDedupe()
        if self.vision_dedupe:
            for hooked in (self.model, self.ref_model):
                if hooked is not None and not self._dedupe.attach(hooked):
                    raise ValueError(f"vision_dedupe: no Qwen-VL vision tower found in {type(hooked).__name__}; set vision_dedupe=False")
        tokenizer = processing_class.tokenizer
        self._video_token_id = tokenizer.convert_tokens_to_ids("<|video_pad|>")
        self._image_token_id = tokenizer.convert_tokens_to_ids("<|image_pad|>")
        image_processor = processing_class.image_processor
        self._image_factor = int(getattr(image_processor, "patch_size", 14)) * int(getattr(image_processor, "merge_size", 2))

    @staticmethod
    def _suppress_vision_pads(args, processing_class) -> dict:
        kwargs = args.generation_kwargs or {}
        if isinstance(kwargs, str):
            kwargs = json.loads(kwargs)
        kwargs = dict(kwargs)
        if args.use_vllm:
            # vLLM SamplingParams: ban the pad tokens by their text (JSON-safe for server mode too).
            words = list(kwargs.get("bad_words") or [])
            kwargs["bad_words"] = words + [w for w in ("<|image_pad|>", "<|video_pad|>") if w not in words]
        else:
            suppress = set(kwargs.get("suppress_tokens") or [])
            kwargs["suppress_tokens"] = sorted(suppress | set(vision_pad_token_ids(processing_class)))
        return kwargs

    # --- batch preparation ------------------------------------------------------------------------

    def _decode_batch(self, inputs: list[dict]) -> tuple[list, list]:
        cache: dict[str, Any] = {}
        frames, keys = [], []
        for row in inputs:
            video = row.get(self.video_column)
            if video is None:
                frames.append(None)
                keys.append(None)
                continue
            key = video_key(video)
            if key not in cache:
                # Online rows carry frames already drawn at the budget; dataset rows carry an MP4.
                drawn = rendered_frames(video)
                cache[key] = drawn if drawn is not None else self.frame_budget.read(video)
            frames.append(cache[key])
            keys.append(key)
        return frames, keys

    def _generate_and_score_completions(self, inputs):
        inputs = [{**row, "prompt": as_messages(row["prompt"])} for row in inputs]
        for row in inputs:
            n = count_video_blocks(row["prompt"])
            if n != (1 if row.get(self.video_column) is not None else 0):
                raise ValueError(f"row {row.get('id')!r}: {n} video blocks in the prompt for one video column value")
        for column in ("task", "answer_type", "answer"):
            if column in inputs[0]:
                self._log_completion_extra(column, [row.get(column) for row in inputs])
        frames, keys = self._decode_batch(inputs)
        if self.video_mode == "images":
            inputs = [
                {**row, "prompt": frames_as_images_prompt(row["prompt"], f), "images": self.frame_budget.resize(f, self._image_factor)}
                if f is not None
                else row
                for row, f in zip(inputs, frames)
            ]
            return super()._generate_and_score_completions(inputs)

        self._batch_videos, self._batch_keys = frames, keys
        try:
            output = super()._generate_and_score_completions(inputs)
            per_row = self._batch_video_inputs
        finally:
            self._batch_videos = self._batch_keys = self._batch_video_inputs = self._generation_copies = None
            self._active_video = None
        device = self.accelerator.device
        on_device: dict[int, dict] = {}  # copies of a prompt share one entry: move its tensors once
        for entry in per_row:
            if id(entry) not in on_device:
                on_device[id(entry)] = {
                    k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in entry.items() if k in _FORWARD_KEYS
                }
        output[VIDEO_KEY] = [on_device[id(entry)] for entry in per_row]
        return output

    def _tokenize_prompts(self, prompts: list):
        if self._batch_videos is None:  # images mode, or a call from outside a video batch
            return super()._tokenize_prompts(prompts)
        if len(prompts) != len(self._batch_videos):
            raise RuntimeError("prompts and decoded videos are out of step (environments/tools are not supported)")
        cache: dict[tuple, dict] = {}
        per_row = []
        for prompt, frames, key in zip(prompts, self._batch_videos, self._batch_keys):
            text = self.processing_class.apply_chat_template(
                prompt,
                tokenize=False,
                add_generation_prompt=True,
                chat_template=self.chat_template,
                **self.chat_template_kwargs,
            )
            cache_key = (key, text)
            if cache_key not in cache:
                encoded = video_inputs(
                    self.processing_class,
                    [frames] if frames is not None else [],
                    text,
                    max_pixels=self.frame_budget.max_pixels,
                    min_pixels=self.frame_budget.min_pixels,
                    padding=False,
                )
                entry = {"video_key": key, "input_ids": encoded["input_ids"][0].tolist()}
                if "mm_token_type_ids" in encoded:
                    entry["mm_token_type_ids"] = encoded["mm_token_type_ids"][0].tolist()
                for name in ("pixel_values_videos", "video_grid_thw"):
                    if name in encoded:
                        entry[name] = encoded[name]
                if "second_per_grid_ts" in encoded:
                    entry["second_per_grid_ts"] = torch.as_tensor(encoded["second_per_grid_ts"], dtype=torch.float32).reshape(-1)
                cache[cache_key] = entry
            per_row.append(cache[cache_key])
        self._batch_video_inputs = per_row
        # The old-policy / reference log-prob passes inside the parent method run on these rows.
        self._active_video = per_row
        fields: dict[str, Any]
        fields, self._generation_copies = video_model_kwargs(per_row, dedupe=self.vision_dedupe)
        if all("mm_token_type_ids" in row for row in per_row):
            fields["mm_token_type_ids"] = [row["mm_token_type_ids"] for row in per_row]
        return [row["input_ids"] for row in per_row], None, fields

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        # generate() encodes the videos once before prefill; with dedupe, each distinct one.
        with self._dedupe.copies(self._generation_copies):
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations, has_tool_images)

    def _prepare_inputs(self, generation_batch):
        if not (self.vision_dedupe and self.model.training):
            return super()._prepare_inputs(generation_batch)
        # TRL 1.16's training branch, with one change: the shuffle keeps the completions of a video
        # together, so each loss chunk encodes each of its videos once. (TRL's pixel_values split and
        # unsplit around the shuffle concern images only: none in video mode.)
        generate_every = self.args.steps_per_generation * self.num_iterations
        if self._step % generate_every == 0 or self._buffered_inputs is None:
            batch = self._generate_and_score_completions(generation_batch)
            order = grouped_permutation([row.get("video_key") for row in batch[VIDEO_KEY]])
            self._buffered_inputs = split_tensor_dict(permute_batch(batch, order), self.args.steps_per_generation)
        return self._buffered_inputs[self._step % self.args.steps_per_generation]

    # --- forward passes ---------------------------------------------------------------------------

    def _token_types(self, input_ids: torch.Tensor) -> torch.Tensor:
        """``mm_token_type_ids`` over prompt + completion: 2 on video pads, 1 on image pads (pads are
        suppressed in generation, so they only occur in the prompt). Qwen-VL needs them for M-RoPE."""
        mm = torch.zeros_like(input_ids)
        mm[input_ids == self._video_token_id] = 2
        mm[input_ids == self._image_token_id] = 1
        return mm

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **kwargs,
    ):
        rows = self._active_video
        if rows is None:
            return super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy, compute_aux_loss, **kwargs
            )
        if len(rows) != input_ids.size(0):
            raise RuntimeError(f"{len(rows)} rows of video inputs for a batch of {input_ids.size(0)} sequences")
        batch_size = batch_size or input_ids.size(0)
        all_logps, all_entropies, all_aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids, mask = input_ids[start:end], attention_mask[start:end]
            video, copies = video_model_kwargs(rows[start:end], dedupe=self.vision_dedupe)
            model_inputs = {"input_ids": ids, "attention_mask": mask, **video, "mm_token_type_ids": self._token_types(ids)}
            if compute_aux_loss:
                model_inputs["output_router_logits"] = True
            labels = ids.masked_fill(mask == 0, -100)
            labels[:, :-logits_to_keep] = -100
            with self.accelerator.autocast(), self._dedupe.copies(copies):
                outputs = model(**model_inputs, labels=labels, fused_lm_head=True)
            all_logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                all_entropies.append(outputs.entropy[:, -logits_to_keep:])
            if compute_aux_loss:
                all_aux.append(outputs.aux_loss)
        logps = torch.cat(all_logps, dim=0)
        entropies = torch.cat(all_entropies, dim=0) if compute_entropy else None
        aux_loss = torch.stack(all_aux).mean() if compute_aux_loss else None
        return logps, entropies, aux_loss

    def _compute_loss(self, model, inputs):
        self._active_video = inputs.get(VIDEO_KEY)
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._active_video = None
