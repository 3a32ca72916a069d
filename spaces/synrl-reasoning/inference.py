"""The model side of the Space: which model, loading it, streaming its reasoning, reading it.

Model loading and video inputs go through :mod:`synrl_hf.modeling` (the one place that knows how
Qwen-VL wants frames); this module only decides *which* model to load, keeps one in memory, runs
``generate`` on a thread with a ``TextIteratorStreamer`` and splits the text into its ``<think>``
and ``<answer>`` parts. The model sees the frames of its own training: the checkpoint's recorded
:class:`~synrl_hf.frame_budget.FrameBudget`, unless the Space sets one (``SYNRL_SPACE_FRAME_BUDGET``).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from synrl_hf.answers import ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, extract_answer
from synrl_hf.frame_budget import DEFAULT_BUDGET, FIELDS, FrameBudget, recorded_budget
from synrl_hf.questions import ANSWER_INSTRUCTIONS, REASONING_INSTRUCTION

log = logging.getLogger("synrl_space")

# The model that always works: built on the spot, offline, random weights (its output is noise).
TINY_MODEL = "tiny-random-qwen2.5-vl"
# Which models a visitor may pick: the Space's own list, never any name typed in (a public Space would
# download whatever Hub model a visitor names, and messages would reveal which server folders exist).
ENV_MODELS = "SYNRL_SPACE_MODELS"  # more models for the list: comma-separated Hub ids or folders
ENV_ALLOW_LOCAL = "SYNRL_SPACE_ALLOW_LOCAL_MODELS"  # "1": a visitor may also type any local model folder

TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)
_TAG_RE = re.compile(r"</?(?:think|answer)>")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


# --- the model's text ------------------------------------------------------------------------------


@dataclass
class Reasoning:
    """A (possibly still streaming) completion, split for display. No raw tags in any field."""

    thinking: str  # everything before the last <answer>, tags removed
    answer: str  # the content of the last <answer> block (unfinished while streaming)
    final: str | None  # the parsed final answer (synrl_hf.answers.extract_answer), None if none


def _strip_partial_tag(text: str) -> str:
    """Drop a tag that is still arriving at the end of the stream (``"… <ans"``)."""
    for k in range(min(len(text), max(map(len, TAGS))), 0, -1):
        tail = text[-k:]
        if tail.startswith("<") and any(tag.startswith(tail) for tag in TAGS):
            return text[:-k]
    return text


def _clean(text: str) -> str:
    return _TAG_RE.sub("", _strip_partial_tag(text)).strip()


def split_reasoning(text: str) -> Reasoning:
    """Split model output into reasoning and answer for display; the final answer as graded.

    The answer box shows the last ``<answer>`` block, closed or not (so it fills in while
    streaming); the final answer is what the reward function would read, so an unclosed or
    malformed block gives ``final=None``.
    """
    text = text or ""
    start = text.rfind(ANSWER_OPEN)
    if start < 0:
        return Reasoning(_clean(text), "", extract_answer(text))
    before, after = text[:start], text[start + len(ANSWER_OPEN) :]
    end = after.find(ANSWER_CLOSE)
    answer = after[:end] if end >= 0 else after
    return Reasoning(_clean(before), _clean(answer), extract_answer(text))


def build_prompt(question: str, answer_type: str | None = None) -> str:
    """The text the model reads after the video: the question, how to answer, how to reason.

    ``answer_type`` is known for synthetic samples (the same instruction the training data used);
    for a user's own question only the reasoning format is asked for.
    """
    question = question.strip()
    parts = [question]
    if answer_type in ANSWER_INSTRUCTIONS:
        parts.append(ANSWER_INSTRUCTIONS[answer_type])
    parts.append(REASONING_INSTRUCTION)
    return "\n".join([parts[0], " ".join(parts[1:])])


# --- which model -----------------------------------------------------------------------------------


def models_from_readme(readme: str | os.PathLike) -> list[str]:
    """The ``models:`` list in the Space README's YAML header (empty if none)."""
    try:
        from huggingface_hub import metadata_load

        meta = metadata_load(Path(readme)) or {}
    except Exception:  # a missing or malformed README must not stop the app
        log.warning("could not read the model list from %s", readme, exc_info=True)
        return []
    models = meta.get("models") or []
    if isinstance(models, str):
        models = [models]
    return [str(m) for m in models]


def default_model_from_readme(readme: str | os.PathLike) -> str | None:
    """The first entry of ``models:`` in the Space README's YAML header, if any."""
    return next(iter(models_from_readme(readme)), None)


def allow_local_models() -> bool:
    return os.environ.get(ENV_ALLOW_LOCAL, "").strip().lower() in ("1", "true", "yes", "on")


def model_choices(default: str, readme: str | os.PathLike) -> list[str]:
    """The models a visitor may pick: the Space's default, its README's, ``$SYNRL_SPACE_MODELS`` and the tiny model."""
    extra = [m.strip() for m in os.environ.get(ENV_MODELS, "").split(",") if m.strip()]
    return list(dict.fromkeys([default, *models_from_readme(readme), *extra, TINY_MODEL]))


def check_model_choice(name: str | None, choices: list[str], *, allow_local: bool = False) -> str:
    """``name`` if a visitor may use it: one of ``choices``, or (``allow_local``) a local folder.

    The refusal is the same whatever the name is, and no file is looked at unless local folders are allowed.
    """
    name = (name or "").strip()
    if name in choices or (allow_local and Path(name).expanduser().is_dir()):
        return name
    shown = name if len(name) <= 60 else name[:57] + "..."
    raise ModelUnavailable(f"{shown!r} is not one of this Space's models; pick one from the list")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP check of the Hub endpoint (transformers otherwise retries for minutes)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class LoadedModel:
    name: str  # what was asked for
    source: str  # what was loaded (a folder or a Hub id)
    model: Any
    processor: Any
    note: str = ""  # shown in the page, e.g. why the fallback is in use
    budget: FrameBudget | None = None  # the frame budget the checkpoint records, if any
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_tiny(self) -> bool:
        return self.source == TINY_MODEL or self.name == TINY_MODEL


class ModelUnavailable(RuntimeError):
    """The model asked for cannot be loaded; the message is meant for the page."""


class ModelRegistry:
    """Loads models by name and keeps the most recent one in memory (one at a time)."""

    def __init__(self, work_dir: str | os.PathLike, *, device: str | None = None):
        self.work_dir = Path(work_dir)
        self.device = device
        self._lock = threading.Lock()
        self._current: LoadedModel | None = None

    def peek(self, name: str) -> LoadedModel | None:
        current = self._current
        return current if current is not None and current.name == name else None

    def get(self, name: str | None, *, default: str = TINY_MODEL) -> LoadedModel:
        """The model called ``name`` (a local folder, a Hub id or :data:`TINY_MODEL`), loading it if needed.

        An empty ``name`` means ``default``. The default model falls back to the tiny offline model
        when it cannot be loaded, with a note saying why; any other name raises
        :class:`ModelUnavailable` with a readable reason.
        """
        name = (name or "").strip() or default
        with self._lock:
            if self._current is not None and self._current.name == name:
                return self._current
            self._current = None  # free the previous model before loading the next
            try:
                loaded = self._load(name)
            except ModelUnavailable as error:
                if name != default or name == TINY_MODEL:
                    raise
                log.warning("default model %s unavailable (%s); using %s", name, error, TINY_MODEL)
                loaded = self._load(TINY_MODEL)
                loaded.name = name
                loaded.note = f"{name} could not be loaded ({error}); using the tiny random offline model instead (its output is noise)."
            self._current = loaded
            return loaded

    def _load(self, name: str) -> LoadedModel:
        from synrl_hf.modeling import build_tiny_model, load_model_and_processor

        if name == TINY_MODEL:
            folder = self.work_dir / "tiny-qwen2_5_vl"
            try:
                if not (folder / "config.json").is_file():
                    build_tiny_model(folder, "qwen2_5_vl", seed=0)
                model, processor = load_model_and_processor(folder, dtype="float32")
            except Exception as error:  # noqa: BLE001 - e.g. a missing optional dependency
                log.exception("building the tiny model failed")
                raise ModelUnavailable(f"the tiny offline model could not be built ({type(error).__name__}: {error})") from error
            return self._finish(LoadedModel(name, TINY_MODEL, model, processor, note="Tiny random offline model: its output is noise."))
        path = Path(name).expanduser()
        if path.is_dir():
            return self._finish(self._from_pretrained(name, str(path)))
        if path.exists() or not _HUB_ID_RE.match(name):
            raise ModelUnavailable(f"{name!r} is neither a model folder nor a Hub id like 'org/model'")
        try:  # already in the local Hub cache: no network needed
            return self._finish(self._from_pretrained(name, name, local_files_only=True))
        except ModelUnavailable:
            pass
        if _offline():
            raise ModelUnavailable("not in the local cache and HF_HUB_OFFLINE is set")
        if not _hub_reachable():
            raise ModelUnavailable("the Hugging Face Hub is unreachable")
        return self._finish(self._from_pretrained(name, name))

    def _from_pretrained(self, name: str, source: str, **kwargs: Any) -> LoadedModel:
        from synrl_hf.modeling import load_model, load_processor

        try:
            processor = load_processor(source, **kwargs)
            model = load_model(source, dtype="auto", **kwargs)
            budget = recorded_budget(source, **kwargs)
        except Exception as error:  # noqa: BLE001 - every loading failure becomes a page message
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ModelUnavailable(first_line[:300]) from error
        return LoadedModel(name, source, model, processor, budget=budget)

    def _finish(self, loaded: LoadedModel) -> LoadedModel:
        device = self.device or _default_device()
        if device != "cpu":
            loaded.model.to(device)
        loaded.model.eval()
        return loaded


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# --- generation ------------------------------------------------------------------------------------


def parse_budget_flags(text: str | None) -> dict[str, Any]:
    """``SYNRL_SPACE_FRAME_BUDGET``, e.g. ``"fps=2,max_frames=8,max_pixels=50176"`` or ``"num_frames=16"``:
    the frame budget fields the Space sets over the checkpoint's (checked here, at start-up)."""
    flags: dict[str, Any] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or key not in FIELDS:
            raise ValueError(f"frame budget setting {item.strip()!r}: expected key=value with a key among {', '.join(FIELDS)}")
        try:
            flags[key] = float(value) if key == "fps" else int(value)
        except ValueError:
            raise ValueError(f"frame budget setting {item.strip()!r}: {value!r} is not a number") from None
    DEFAULT_BUDGET.override(**flags)  # a bad value fails now, not at the first question
    return flags


@dataclass
class GenerationSettings:
    """One generation's settings; plain values only (on ZeroGPU they cross to a GPU worker)."""

    max_new_tokens: int = 512
    temperature: float = 0.0  # 0: greedy
    frame_budget: dict[str, Any] = field(default_factory=DEFAULT_BUDGET.to_dict)  # FrameBudget.to_dict()

    def __post_init__(self) -> None:
        self.max_new_tokens = int(self.max_new_tokens)
        self.temperature = float(self.temperature)
        FrameBudget.from_dict(self.frame_budget)
        if self.max_new_tokens < 1 or self.temperature < 0:
            raise ValueError(f"invalid generation settings: {self}")


class _StopOnEvent:
    """A stopping criterion that ends generation when the page goes away."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def stream_generate(
    loaded: LoadedModel,
    video_path: str,
    prompt: str,
    settings: GenerationSettings,
    *,
    timeout: float = 300.0,
) -> Iterator[str]:
    """Yield the model's completion so far, growing, until generation ends.

    ``generate`` runs on a thread and feeds a ``TextIteratorStreamer``; closing this generator
    (the user left, the queue cancelled the job) stops the thread at its next token.
    """
    import torch
    from transformers import StoppingCriteriaList, TextIteratorStreamer

    from synrl_hf.modeling import chat_inputs, vision_pad_token_ids

    budget = FrameBudget.from_dict(settings.frame_budget, backend="pyav")
    frames = budget.read(video_path)
    processor, model = loaded.processor, loaded.model
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": prompt}]}]
    inputs = chat_inputs(processor, messages, [frames], max_pixels=budget.max_pixels, min_pixels=budget.min_pixels).to(model.device)
    streamer = TextIteratorStreamer(processor.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=timeout)
    stop = threading.Event()
    kwargs: dict[str, Any] = dict(
        **inputs,
        streamer=streamer,
        max_new_tokens=settings.max_new_tokens,
        suppress_tokens=vision_pad_token_ids(processor),
        stopping_criteria=StoppingCriteriaList([_StopOnEvent(stop)]),
    )
    if settings.temperature > 0:
        kwargs.update(do_sample=True, temperature=settings.temperature)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(**kwargs)
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            failure.append(error)
            streamer.text_queue.put(streamer.stop_signal)

    thread = threading.Thread(target=run, name="synrl-space-generate", daemon=True)
    with loaded.lock:  # one generation per loaded model at a time
        thread.start()
        text = ""
        try:
            for piece in streamer:
                if piece:
                    text += piece
                    yield text
        finally:
            stop.set()
            thread.join(timeout=timeout)
    if failure:
        raise failure[0]
    yield text


StreamFn = Callable[[str, str, str, GenerationSettings], Iterator[str]]
