"""A lighteval model for video VLMs (transformers Qwen2.5-VL / Qwen3-VL), and a scripted test double.

lighteval 0.13's ``Doc`` has no video field and its VLM model is image-only, so the tasks put the
video paths in ``Doc.specific["videos"]`` and :class:`VideoVLM` decodes them with
``synrl_hf.video.read_frames`` (never torchcodec) and hands frames *with their metadata* to the
processor through ``synrl_hf.modeling.video_inputs`` (the only model-loading / video-input code in
the repo). Several videos per question (CVBench) become several ``<video>`` blocks, in order.

The frame budget (:class:`synrl_hf.frame_budget.FrameBudget`) is chosen per question by
:func:`synrl_hf.frame_budget.choose_budget`: the flags (``budget_flags``, fields the user set)
over the checkpoint's recorded budget, else over the benchmark's usual budget (carried in each
``Doc``), else the library default; ``frame_budget`` set as a whole wins over everything. What the
model config holds (flags, record, whole budget) is part of the model's identity, and the
benchmark's usual budget part of the task's, so lighteval's sample cache never serves answers made
with another budget; the default ``model_name`` spells the policy out (``…@16f-200704px`` for a
whole budget, ``…@bench`` when each benchmark's own applies). Decoding is greedy unless
``generation_parameters.temperature > 0``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from lighteval.models.abstract_model import LightevalModel, ModelConfig
from lighteval.models.model_output import ModelResponse
from lighteval.tasks.requests import Doc, SamplingMethod
from lighteval.utils.cache_management import SampleCache, cached
from pydantic import Field, model_validator

from synrl_hf.frame_budget import FIELDS, BudgetChoice, FrameBudget, choose_budget, recorded_budget
from synrl_hf.video import VideoFrames

from .clips import read_clip

logger = logging.getLogger(__name__)


def _flags_tag(flags: dict[str, Any]) -> str:
    """``{"num_frames": 16, "max_pixels": 200704}`` -> ``16f-200704px`` (as :attr:`FrameBudget.tag` spells fields)."""
    spell = {"num_frames": "{}f", "fps": "{:g}fps", "max_frames": "max{}f", "max_pixels": "{}px", "min_pixels": "min{}px"}
    return "-".join(spell[name].format(value) for name, value in flags.items() if value is not None)


class _BudgetConfig(ModelConfig):
    frame_budget: FrameBudget | None = None  # one whole budget for every benchmark (wins over everything)
    budget_flags: dict[str, Any] = Field(default_factory=dict)  # FrameBudget fields the user set
    recorded_budget: FrameBudget | None = None  # the checkpoint's own (filled in from the model path)

    def _settle_budget(self, checkpoint: str | None) -> None:
        unknown = sorted(set(self.budget_flags) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown frame budget flags {unknown}; valid: {', '.join(FIELDS)}")
        self.budget_flags = {k: v for k, v in self.budget_flags.items() if v is not None}
        if self.recorded_budget is None and checkpoint and self.frame_budget is None:
            self.recorded_budget = recorded_budget(checkpoint)

    def budget_choice(self, benchmark: FrameBudget | dict | None = None) -> BudgetChoice:
        """The budget for a question of a benchmark whose usual budget is ``benchmark``, and its source."""
        if self.frame_budget is not None:
            return BudgetChoice(self.frame_budget, "flag", "", ("frame_budget",))
        if isinstance(benchmark, dict):
            benchmark = FrameBudget.from_dict(benchmark)
        return choose_budget(self.recorded_budget, benchmark, **self.budget_flags)

    def uniform_budget(self) -> BudgetChoice | None:
        """The budget every benchmark gets (a whole budget, or the checkpoint's), or None when each
        benchmark's usual budget applies."""
        if self.frame_budget is not None or self.recorded_budget is not None:
            return self.budget_choice()
        return None

    @property
    def budget_tag(self) -> str:
        uniform = self.uniform_budget()
        if uniform is not None:
            return uniform.budget.tag
        return "bench" + (f"+{_flags_tag(self.budget_flags)}" if self.budget_flags else "")

    def read_videos(self, doc: Doc) -> list[VideoFrames]:
        """Every video of ``doc`` decoded with the budget in force for its benchmark."""
        spec = doc.specific
        budget = self.budget_choice(spec.get("benchmark_budget")).budget
        window = tuple(spec["window"]) if spec.get("window") else None
        return [read_clip(budget, path, window, spec.get("frame_fps")) for path in spec["videos"]]


class VideoVLMConfig(_BudgetConfig):
    """``model_path``: a folder or Hub id; ``model_name`` (results folder, cache) defaults to its
    last path part plus the budget's tag, e.g. ``Qwen3-VL-4B-Instruct@16f-200704px``."""

    model_path: str
    max_new_tokens: int | None = None  # caps each task's generation size when set
    batch_size: int = 1
    dtype: str = "auto"
    device: str | None = None  # default: cuda when available, else cpu
    attn_implementation: str | None = None

    @model_validator(mode="after")
    def _default_name(self):
        self._settle_budget(self.model_path)
        if not self.model_name:
            stem = self.model_path.rstrip("/")
            stem = stem if "/" in stem and not os.path.exists(stem) else os.path.basename(stem)
            self.model_name = f"{stem}@{self.budget_tag}"
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        return self


class VideoVLM(LightevalModel):
    """Transformers Qwen-VL generation over decoded video frames (greedy by default, batched)."""

    def __init__(self, config: VideoVLMConfig):
        import torch

        from synrl_hf.modeling import load_model, load_processor, vision_pad_token_ids

        self.config = config
        self._cache = SampleCache(config)
        self.device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.processor = load_processor(config.model_path, padding_side="left")
        on_gpu = self.device.startswith("cuda")
        self.model = load_model(
            config.model_path,
            dtype=config.dtype,
            attn_implementation=config.attn_implementation,
            device_map=self.device if on_gpu else None,
        )
        if not on_gpu:
            self.model.to(self.device)
        self.model.eval()
        self._suppress = vision_pad_token_ids(self.processor)
        self.stats = {"samples": 0, "frames": 0, "seconds": 0.0, "decode_errors": 0}

    @property
    def tokenizer(self):
        return self.processor.tokenizer

    @property
    def add_special_tokens(self) -> bool:
        return False

    @property
    def max_length(self) -> int:
        text = getattr(self.model.config, "text_config", self.model.config)
        return int(getattr(text, "max_position_embeddings", 32768))

    def _messages(self, doc: Doc) -> list[dict]:
        content = [{"type": "video"} for _ in doc.specific["videos"]] + [{"type": "text", "text": doc.query}]
        system = self.config.system_prompt or doc.specific.get("system_prompt") or doc.instruction
        return ([{"role": "system", "content": [{"type": "text", "text": system}]}] if system else []) + [
            {"role": "user", "content": content}
        ]

    def _generation_kwargs(self, docs: list[Doc]) -> dict:
        params = self.config.generation_parameters
        sizes = [d.generation_size for d in docs if d.generation_size]
        max_new = max(sizes) if sizes else (params.max_new_tokens or 256)
        if self.config.max_new_tokens:
            max_new = min(max_new, self.config.max_new_tokens)
        kwargs = {"max_new_tokens": max_new, "suppress_tokens": self._suppress or None}
        if params.temperature and params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature)
            kwargs.update({k: v for k, v in (("top_p", params.top_p), ("top_k", params.top_k)) if v is not None})
        else:
            kwargs["do_sample"] = False
        if params.repetition_penalty:
            kwargs["repetition_penalty"] = params.repetition_penalty
        return kwargs

    @cached(SamplingMethod.GENERATIVE)
    def greedy_until(self, docs: list[Doc]) -> list[ModelResponse]:
        import torch

        from synrl_hf.modeling import video_inputs

        responses: list[ModelResponse | None] = [None] * len(docs)
        # Batches never mix generation lengths or frame budgets, so each protocol keeps its own.
        budgets = [self.config.budget_choice(d.specific.get("benchmark_budget")).budget for d in docs]
        keys = [(d.generation_size or 0, b.tag) for d, b in zip(docs, budgets)]
        order = sorted(range(len(docs)), key=keys.__getitem__)
        batches, size = [], self.config.batch_size
        for i in order:
            if batches and len(batches[-1]) < size and keys[batches[-1][0]] == keys[i]:
                batches[-1].append(i)
            else:
                batches.append([i])
        for batch in batches:
            texts, videos, ok = [], [], []
            begin = time.perf_counter()
            for i in batch:
                try:
                    clips = self.config.read_videos(docs[i])
                except Exception as error:  # corrupt file: an empty answer (scored 0), counted
                    logger.warning("could not decode %s: %s", docs[i].specific["videos"], error)
                    self.stats["decode_errors"] += 1
                    responses[i] = ModelResponse(input=docs[i].query, text=[""])
                    continue
                texts.append(self.processor.apply_chat_template(self._messages(docs[i]), tokenize=False, add_generation_prompt=True))
                videos.extend(clips)
                ok.append(i)
                self.stats["frames"] += sum(len(c.indices) for c in clips)
            if not ok:
                continue
            budget = budgets[ok[0]]
            inputs = video_inputs(self.processor, videos, texts, max_pixels=budget.max_pixels, min_pixels=budget.min_pixels).to(self.device)
            with torch.inference_mode():
                output = self.model.generate(**inputs, **self._generation_kwargs([docs[i] for i in ok]))
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            decoded = self.processor.batch_decode(new_tokens, skip_special_tokens=True)
            for i, text, tokens in zip(ok, decoded, new_tokens.tolist()):
                for stop in docs[i].stop_sequences or ():
                    text = text.split(stop)[0] if stop else text
                responses[i] = ModelResponse(input=docs[i].query, text=[text], output_tokens=[tokens])
            self.stats["samples"] += len(ok)
            self.stats["seconds"] += time.perf_counter() - begin
        return responses

    def loglikelihood(self, docs):
        raise NotImplementedError("video tasks here are generative only")

    def loglikelihood_rolling(self, docs):
        raise NotImplementedError("video tasks here are generative only")


class ScriptedModelConfig(_BudgetConfig):
    model_name: str = "scripted"
    script: str = ""  # a label for the answers (part of the cache identity)

    @model_validator(mode="after")
    def _budget(self):
        self._settle_budget(None)  # no checkpoint: the default budget unless one is given
        return self


class ScriptedVideoModel(LightevalModel):
    """A test double standing in for model weights: decodes every video with the configured budget
    (``read_frames``, so paths and budgets are exercised for real) and answers from ``answer(doc)``.

    ``frames_seen`` maps ``(task, row id)`` to the timestamps (seconds) of the frames decoded, one
    list per video.
    """

    def __init__(self, config: ScriptedModelConfig, answer: Callable[[Doc], str]):
        self.config = config
        self._cache = SampleCache(config)
        self._answer = answer
        self.frames_seen: dict[tuple[str, str], list[list[float]]] = {}

    tokenizer = None

    @property
    def add_special_tokens(self) -> bool:
        return False

    @property
    def max_length(self) -> int:
        return 32768

    def greedy_until(self, docs: list[Doc]) -> list[ModelResponse]:
        out = []
        for doc in docs:
            clips = self.config.read_videos(doc)
            self.frames_seen[(doc.task_name.split("|")[0], doc.specific["id"])] = [c.timestamps.tolist() for c in clips]
            out.append(ModelResponse(input=doc.query, text=[self._answer(doc)]))
        return out

    def loglikelihood(self, docs):
        raise NotImplementedError

    def loglikelihood_rolling(self, docs):
        raise NotImplementedError
