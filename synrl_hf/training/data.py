"""Loading synrl configs for training, and turning their videos into what a Qwen-VL sees.

Rows keep their videos undecoded (``{bytes, path}``, ``datasets.Video(decode=False)``): frames are
decoded per batch by :meth:`FrameBudget.read` (our ``read_frames``), so a dataset of thousands of
clips never sits decoded in memory and no torchcodec is needed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from ..video import VideoFrames, probe, read_frames, sample_indices

__all__ = ["FrameBudget", "as_messages", "frames_as_images_prompt", "load_split", "video_key"]


@dataclass(frozen=True)
class FrameBudget:
    """Which frames of a clip the model sees, and at most how many pixels each.

    ``fps`` samples at a rate (capped to ``max_frames`` frames spread uniformly), ``num_frames``
    samples a count; neither keeps every frame. ``max_pixels``/``min_pixels`` bound each frame
    after resizing (applied by the processor in video mode, by :meth:`resize` in images mode).
    """

    fps: float | None = 2.0
    num_frames: int | None = None
    max_frames: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    backend: str = "auto"

    def __post_init__(self):
        if self.fps is not None and self.num_frames is not None:
            raise ValueError("FrameBudget takes fps or num_frames, not both")
        for name in ("fps", "num_frames", "max_frames", "max_pixels", "min_pixels"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")

    def read(self, video: Any) -> VideoFrames:
        """Decode the chosen frames of ``video`` (path, bytes or ``{bytes, path}``)."""
        if self.num_frames is not None:
            return read_frames(video, num_frames=self.num_frames, backend=self.backend)
        if self.fps is not None and self.max_frames is not None:
            native_fps, total, _, _ = probe(video)
            if len(sample_indices(total, native_fps, fps=self.fps)) > self.max_frames:
                return read_frames(video, num_frames=self.max_frames, backend=self.backend)
        return read_frames(video, fps=self.fps, backend=self.backend)

    def resize(self, frames: VideoFrames, factor: int = 28) -> list:
        """The frames as PIL images, each resized to fit ``[min_pixels, max_pixels]`` in multiples of ``factor``."""
        from PIL import Image

        images = []
        for frame in frames.frames:
            height, width = frame.shape[:2]
            new_h, new_w = _fit(height, width, factor, self.min_pixels, self.max_pixels)
            image = Image.fromarray(frame)
            if (new_h, new_w) != (height, width):
                image = image.resize((new_w, new_h), Image.BICUBIC)
            images.append(image)
        return images


def _fit(height: int, width: int, factor: int, min_pixels: int | None, max_pixels: int | None) -> tuple[int, int]:
    """Qwen's smart_resize: multiples of ``factor``, aspect kept, pixels within the bounds."""
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if max_pixels is not None and h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif min_pixels is not None and h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w


def as_messages(value: Any) -> list[dict]:
    """A conversation column value as a list of messages (JSON strings are parsed)."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(m, dict) and "role" in m for m in value):
        raise ValueError(f"expected a list of messages with a 'role', got {type(value).__name__}")
    return value


def video_key(row: dict, column: str = "video") -> str:
    """A key that is the same for the repeated copies of a row (GRPO repeats each prompt G times)."""
    if row.get("id") is not None:
        return f"id:{row['id']}"
    video = row.get(column)
    if isinstance(video, dict) and video.get("bytes"):
        return "sha1:" + hashlib.sha1(video["bytes"]).hexdigest()
    if isinstance(video, dict):
        return f"path:{video.get('path')}"
    if isinstance(video, (bytes, bytearray)):
        return "sha1:" + hashlib.sha1(video).hexdigest()
    return f"path:{video}"


def count_video_blocks(messages: list[dict]) -> int:
    return sum(
        1
        for m in messages
        if isinstance(m.get("content"), list)
        for block in m["content"]
        if isinstance(block, dict) and block.get("type") == "video"
    )


def frames_as_images_prompt(messages: list[dict], frames: VideoFrames) -> list[dict]:
    """Replace the one video block by the frames as image placeholders, each after its timestamp.

    The result works with TRL's image path (``prepare_multimodal_messages`` fills the placeholders
    from the row's ``images``) and with its vLLM rollouts, which take images but no video.
    """
    if count_video_blocks(messages) != 1:
        raise ValueError("frames-as-images mode needs exactly one video block in the prompt")
    out = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            out.append(message)
            continue
        blocks = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "video":
                for t in frames.timestamps:
                    blocks.append({"type": "text", "text": f"<{float(t):.1f} seconds>"})
                    blocks.append({"type": "image"})
            else:
                blocks.append(block)
        out.append({**message, "content": blocks})
    return out


def load_split(
    dataset_name: str,
    dataset_config: str | None,
    split: str,
    *,
    cache_dir: str | None = None,
    max_samples: int | None = None,
    video_column: str = "video",
    streaming: bool = False,
):
    """``load_dataset(dataset_name, dataset_config, split=split)`` with the video column left undecoded."""
    from datasets import Video, load_dataset

    dataset = load_dataset(dataset_name, dataset_config, split=split, cache_dir=cache_dir, streaming=streaming)
    features = getattr(dataset, "features", None)
    if features is not None and video_column in features:
        feature = features[video_column]
        if isinstance(feature, Video) and feature.decode:
            dataset = dataset.cast_column(video_column, Video(decode=False))
    if max_samples is not None:
        dataset = dataset.take(max_samples) if streaming else dataset.select(range(min(max_samples, len(dataset))))
    return dataset


def load_train_eval(script_args, *, do_eval: bool = False):
    """The train split (and the test split when ``do_eval``) named by the script arguments."""
    if not script_args.dataset_name:
        raise ValueError("the recipe must set dataset_name (a folder in the Hub layout or a Hub id)")
    common = dict(
        cache_dir=script_args.dataset_cache_dir,
        video_column=script_args.video_column,
        streaming=script_args.dataset_streaming,
    )
    train = load_split(
        script_args.dataset_name,
        script_args.dataset_config,
        script_args.dataset_train_split,
        max_samples=script_args.max_train_samples,
        **common,
    )
    evaluation = None
    if do_eval:
        evaluation = load_split(
            script_args.dataset_name,
            script_args.dataset_config,
            script_args.dataset_test_split,
            max_samples=script_args.max_eval_samples,
            **common,
        )
    return train, evaluation
