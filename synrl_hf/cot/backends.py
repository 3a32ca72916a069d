"""Model backends for the CoT pipeline: any OpenAI-compatible chat-completions server, or a local
transformers Qwen-VL.

A backend answers ``chat(messages, video=None, *, max_tokens, temperature) -> Reply``. ``messages``
are plain chat messages (``{"role", "content": str}``); ``video`` (a
:class:`synrl_hf.video.VideoFrames`) goes with the first user message: as base64 JPEG
``image_url`` parts, each after its timestamp, for HTTP servers (what ``vllm serve``, TGI and hosted
APIs accept); as a Qwen-VL video with its frame timestamps for the transformers backend.

``OpenAIBackend`` reads its base URL, model and key from its arguments or from the environment
(``SYNRL_COT_BASE_URL``, ``SYNRL_COT_MODEL``, ``SYNRL_COT_API_KEY``). The key is sent as a bearer
token and never printed: not in ``repr``, and errors pass through :func:`synrl_hf.redaction.redact`
(a server that echoes the request's headers in its error does not leak it). Each request waits at
most ``timeout`` seconds (default :data:`DEFAULT_TIMEOUT`). Transient failures (connection errors,
timeouts, HTTP 408/409/425/429/5xx) are retried with exponential backoff and jitter, honouring
``Retry-After``; other HTTP errors fail at once.
"""

from __future__ import annotations

import base64
import io
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..redaction import redact

if TYPE_CHECKING:  # pragma: no cover
    from ..video import VideoFrames

__all__ = ["Backend", "BackendError", "OpenAIBackend", "Reply", "TransformersBackend", "frames_to_parts", "make_backend"]

ENV_BASE_URL, ENV_MODEL, ENV_API_KEY = "SYNRL_COT_BASE_URL", "SYNRL_COT_MODEL", "SYNRL_COT_API_KEY"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 120.0  # seconds for one reply: a long reasoning from a large model, not a hung server's half hour


@dataclass
class Reply:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0  # transient failures retried before this reply came


class BackendError(RuntimeError):
    """A request that failed for good (retries exhausted, or a non-retryable HTTP error)."""


class Backend(Protocol):
    name: str

    def chat(
        self, messages: list[dict], video: VideoFrames | None = None, *, max_tokens: int = 1024, temperature: float = 0.7
    ) -> Reply: ...


def frames_to_parts(video: VideoFrames, *, quality: int = 85) -> list[dict]:
    """OpenAI content parts for sampled frames: "Frame at 1.33 s:" then the frame as a JPEG data URL."""
    from PIL import Image

    parts = []
    for frame, t in zip(video.frames, video.timestamps):
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append({"type": "text", "text": f"Frame at {float(t):.2f} s:"})
        parts.append({"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}"}})
    return parts


def _with_video(messages: list[dict], parts: list[dict]) -> list[dict]:
    """The messages with ``parts`` placed before the text of the first user message."""
    out, placed = [], False
    for message in messages:
        if not placed and message["role"] == "user":
            out.append({"role": "user", "content": [*parts, {"type": "text", "text": message["content"]}]})
            placed = True
        else:
            out.append(dict(message))
    return out


class OpenAIBackend:
    """POST ``{base_url}/chat/completions`` with httpx, retrying transient failures."""

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        extra_body: dict[str, Any] | None = None,
        jpeg_quality: int = 85,
    ):
        import httpx

        self.base_url = (base_url or os.environ.get(ENV_BASE_URL) or "").rstrip("/")
        self.model = model or os.environ.get(ENV_MODEL) or ""
        if not self.base_url:
            raise ValueError(f"no chat-completions endpoint: pass --cot-base-url (e.g. http://localhost:8000/v1) or set {ENV_BASE_URL}")
        if not self.model:
            raise ValueError(f"no model name: pass --cot-model or set {ENV_MODEL}")
        if max_retries < 0 or backoff < 0:
            raise ValueError("max_retries and backoff must be >= 0")
        if not 0 < timeout < float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        self._key = key
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.extra_body = dict(extra_body or {})
        self.jpeg_quality = jpeg_quality
        self.name = f"openai:{self.model}"

    def __repr__(self) -> str:  # never the key
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    def close(self) -> None:
        self._client.close()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return base * (0.5 + random.random() / 2)  # jitter: concurrent workers do not retry in step

    def chat(self, messages: list[dict], video: VideoFrames | None = None, *, max_tokens: int = 1024, temperature: float = 0.7) -> Reply:
        import httpx

        if video is not None:
            messages = _with_video(messages, frames_to_parts(video, quality=self.jpeg_quality))
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature, **self.extra_body}
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                response = self._client.post("/chat/completions", json=body)
            except httpx.TransportError as error:  # connection refused, reset, timeout
                last = f"{type(error).__name__}"
            else:
                if response.status_code == 200:
                    return self._parse(response, attempt)
                last = f"HTTP {response.status_code}: {redact(response.text, self._key)[:300]}"
                if response.status_code not in RETRY_STATUS:
                    raise BackendError(f"{self.base_url}/chat/completions answered {last}")
                retry_after = response.headers.get("retry-after")
            if attempt < self.max_retries:
                time.sleep(self._delay(attempt, retry_after))
        raise BackendError(f"{self.base_url}/chat/completions failed {self.max_retries + 1} times; last: {last}")

    def _parse(self, response, attempt: int) -> Reply:
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise BackendError(
                f"{self.base_url}/chat/completions returned no choices[0].message.content: {redact(response.text, self._key)[:300]}"
            ) from None
        if isinstance(text, list):  # some servers return content parts
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        usage = data.get("usage") or {}
        return Reply(text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0), attempt)


class TransformersBackend:
    """A local Qwen-VL (a folder or Hub id) loaded through :mod:`synrl_hf.modeling`.

    Generation is serialised with a lock (one model, many pipeline threads). ``max_pixels`` bounds
    each frame; ``None`` keeps the processor's default.
    """

    def __init__(
        self, model: str, *, dtype: str = "auto", device_map: Any = None, max_pixels: int | None = None, processor=None, model_obj=None
    ):
        from ..modeling import load_model, load_processor

        self.model_name = str(model)
        self.model = model_obj if model_obj is not None else load_model(model, dtype=dtype, device_map=device_map)
        self.processor = processor if processor is not None else load_processor(model)
        self.max_pixels = max_pixels
        self.name = f"transformers:{os.path.basename(self.model_name.rstrip('/')) or self.model_name}"
        self._lock = threading.Lock()

    def chat(self, messages: list[dict], video: VideoFrames | None = None, *, max_tokens: int = 1024, temperature: float = 0.7) -> Reply:
        import torch

        from ..modeling import chat_inputs, vision_pad_token_ids

        converted, placed = [], False
        for message in messages:
            content: list[dict] = [{"type": "text", "text": message["content"]}]
            if video is not None and not placed and message["role"] == "user":
                content.insert(0, {"type": "video"})
                placed = True
            converted.append({"role": message["role"], "content": content})
        with self._lock:
            inputs = chat_inputs(self.processor, converted, [video] if video is not None else [], max_pixels=self.max_pixels)
            inputs = inputs.to(self.model.device)
            kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "suppress_tokens": vision_pad_token_ids(self.processor)}
            if temperature > 0:
                kwargs.update(do_sample=True, temperature=temperature)
            else:
                kwargs.update(do_sample=False)
            with torch.no_grad():
                out = self.model.generate(**inputs, **kwargs)
        prompt = inputs["input_ids"].shape[1]
        new = out[0, prompt:]
        text = self.processor.tokenizer.decode(new, skip_special_tokens=True)
        return Reply(text, int(prompt), int(new.shape[0]))


def make_backend(kind: str = "openai", **options: Any) -> Backend:
    """``make_backend("openai", base_url=…, model=…, api_key=…)`` or ``make_backend("transformers", model=…)``."""
    if kind == "openai":
        return OpenAIBackend(**options)
    if kind == "transformers":
        if not options.get("model"):
            raise ValueError("the transformers backend needs a model folder or Hub id (--cot-model)")
        model = options.pop("model")
        return TransformersBackend(model, **options)
    raise ValueError(f"unknown CoT backend {kind!r}; valid: openai, transformers")
