"""Loading synrl configs for training, and turning their videos into what a Qwen-VL sees.

Rows keep their videos undecoded (``{bytes, path}``, ``datasets.Video(decode=False)``): frames are
decoded per batch by :meth:`synrl_hf.frame_budget.FrameBudget.read` (our ``read_frames``), so a
dataset of thousands of clips never sits decoded in memory and no torchcodec is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..online.frames import rendered_frames
from ..video import VideoFrames

__all__ = ["as_messages", "frames_as_images_prompt", "load_split", "video_key"]


def as_messages(value: Any) -> list[dict]:
    """A conversation column value as a list of messages (JSON strings are parsed)."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(m, dict) and "role" in m for m in value):
        raise ValueError(f"expected a list of messages with a 'role', got {type(value).__name__}")
    return value


def video_key(video: Any) -> str:
    """A digest of the video's content (MP4 bytes, the bytes of the file a path names, or drawn frames).

    Equal keys mean equal clips, whatever row, id or file name carries them: GRPO's repeated copies
    of a prompt share a decode and one vision-tower pass, and two rows that reuse an id (another
    dataset, another round) never share frames by mistake.
    """
    digest = hashlib.sha1()
    drawn = rendered_frames(video)
    if drawn is not None:  # an online row: frames drawn at the budget, keyed on their pixels and times
        digest.update(drawn.frames.tobytes())
        digest.update(drawn.indices.tobytes())
        return "sha1:" + digest.hexdigest()
    if isinstance(video, dict):
        video = video.get("bytes") or video.get("path")
    if isinstance(video, (bytes, bytearray, memoryview)):
        digest.update(video)
    elif isinstance(video, (str, os.PathLike)):
        with open(video, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    else:
        raise TypeError(f"a video is MP4 bytes, a path or a {{bytes, path}} dict, got {type(video).__name__}")
    return "sha1:" + digest.hexdigest()


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
