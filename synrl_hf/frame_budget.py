"""The frame budget: which frames of a clip a model sees, and at most how many pixels each.

A model should be evaluated and demoed on the frames it was trained on, so one budget travels with
it: the recipe sets it, the trained checkpoint records it (:data:`BUDGET_FILE` next to the
weights), and ``synrl eval`` and the Space read it back (:func:`recorded_budget`,
:func:`choose_budget`). Precedence: a
flag set by the user, then the checkpoint's recorded budget, then (in evaluation) the benchmark's
usual budget, then :data:`DEFAULT_BUDGET` (the recipes' budget, so a base model without a record is
measured like the models trained from it).

Frames are sampled either at a rate (``fps``; clips whose rate would give more than ``max_frames``
frames get ``max_frames`` spread uniformly instead) or as a count (``num_frames`` spread
uniformly). ``max_pixels``/``min_pixels`` bound each frame after resizing by Qwen-VL's per-frame
rule (:func:`frame_size`), in video mode (:func:`synrl_hf.modeling.video_inputs`) and in the
frames-as-images mode (:meth:`FrameBudget.resize`), for Qwen2.5-VL and Qwen3-VL alike.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .video import VideoFrames, probe, read_frames, sample_indices

__all__ = [
    "BUDGET_FILE",
    "DEFAULT_BUDGET",
    "BudgetChoice",
    "FrameBudget",
    "choose_budget",
    "fit_frames",
    "frame_size",
    "recorded_budget",
    "resized_images",
]

logger = logging.getLogger(__name__)

BUDGET_FILE = "synrl_frame_budget.json"
FIELDS = ("fps", "num_frames", "max_frames", "max_pixels", "min_pixels")
BACKENDS = ("auto", "pyav", "decord")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _check_count(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError(f"{name} must be a positive whole number or None, got {value!r}")


@dataclass(frozen=True)
class FrameBudget:
    """Which frames of a clip the model sees (``fps`` or ``num_frames``), and their pixel bounds.

    ``backend`` says how to decode (every backend returns the same frames): it is not part of the
    budget's identity (equality, :attr:`tag`, :meth:`to_dict`).
    """

    fps: float | None = None
    num_frames: int | None = None
    max_frames: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    backend: str = field(default="auto", compare=False)

    def __post_init__(self) -> None:
        if (self.fps is None) == (self.num_frames is None):
            raise ValueError(f"a frame budget takes fps or num_frames (exactly one), got fps={self.fps!r}, num_frames={self.num_frames!r}")
        if self.fps is not None:
            if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)) or not math.isfinite(self.fps) or self.fps <= 0:
                raise ValueError(f"fps must be a finite number > 0, got {self.fps!r}")
            object.__setattr__(self, "fps", float(self.fps))
        for name in ("num_frames", "max_frames", "max_pixels", "min_pixels"):
            _check_count(name, getattr(self, name))
        if self.num_frames is not None and self.max_frames is not None and self.num_frames > self.max_frames:
            raise ValueError(
                f"num_frames {self.num_frames} is more than max_frames {self.max_frames}; raise max_frames or ask for fewer frames"
            )
        if self.max_pixels is not None and self.min_pixels is not None and self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels {self.min_pixels} is more than max_pixels {self.max_pixels}")
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown decoding backend {self.backend!r}; valid: {', '.join(BACKENDS)}")

    # -- which frames ----------------------------------------------------------------------------
    def sampling(self, total_frames: int, native_fps: float, window: tuple[float, float] | None = None) -> dict[str, Any]:
        """``read_frames`` arguments for a clip of ``total_frames`` at ``native_fps`` (or its ``window``,
        start and end seconds): the rate, or a count when the rate gives too many."""
        if self.num_frames is not None:
            return {"num_frames": self.num_frames}
        if self.max_frames is not None and len(sample_indices(total_frames, native_fps, fps=self.fps, window=window)) > self.max_frames:
            return {"num_frames": self.max_frames}
        return {"fps": self.fps}

    def indices(self, total_frames: int, native_fps: float, window: tuple[float, float] | None = None):
        """The frame indices this budget picks from such a clip (no decoding)."""
        return sample_indices(total_frames, native_fps, window=window, **self.sampling(total_frames, native_fps, window))

    def read(self, video: Any, window: tuple[float, float] | None = None) -> VideoFrames:
        """Decode the chosen frames of ``video`` (path, bytes or ``{bytes, path}``), inside ``window``
        (start, end seconds) when given."""
        if self.num_frames is not None or self.max_frames is None:
            return read_frames(video, num_frames=self.num_frames, fps=self.fps, window=window, backend=self.backend)
        native_fps, total, _, _ = probe(video)
        return read_frames(video, window=window, **self.sampling(total, native_fps, window), backend=self.backend)

    def resize(self, frames: VideoFrames, factor: int = 28) -> list:
        """The frames as PIL images, each resized by :func:`frame_size` (the per-frame rule of Qwen-VL's
        image processor) to this budget's pixel bounds."""
        return resized_images(frames, factor, max_pixels=self.max_pixels, min_pixels=self.min_pixels)

    # -- naming and storing ----------------------------------------------------------------------
    @property
    def tag(self) -> str:
        """A short name for results folders and cache keys, e.g. ``16f-200704px``, ``4fps-max64f-100352px``."""
        if self.num_frames is not None:
            tag = f"{self.num_frames}f"
        else:
            tag = f"{self.fps:g}fps" + (f"-max{self.max_frames}f" if self.max_frames else "")
        tag += f"-{self.max_pixels}px" if self.max_pixels else ""
        return tag + (f"-min{self.min_pixels}px" if self.min_pixels else "")

    def describe(self) -> str:
        """In words, e.g. ``4 fps (at most 64 frames), at most 100,352 pixels per frame``."""
        if self.num_frames is not None:
            text = f"{self.num_frames} frames spread over the clip"
        else:
            text = f"{self.fps:g} fps" + (f" (at most {self.max_frames} frames)" if self.max_frames else "")
        text += f", at most {self.max_pixels:,} pixels per frame" if self.max_pixels else ", the processor's pixel default"
        return text + (f", at least {self.min_pixels:,}" if self.min_pixels else "")

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, backend: str = "auto") -> FrameBudget:
        if not isinstance(data, dict):
            raise ValueError(f"a frame budget is a dict with keys {', '.join(FIELDS)}, got {type(data).__name__}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown frame budget keys {unknown}; valid: {', '.join(FIELDS)}")
        return cls(**data, backend=backend)

    @staticmethod
    def parse_sampling(text: str | int | float) -> dict[str, Any]:
        """``"16"`` → ``{"num_frames": 16}``; ``"2fps"`` / ``"0.5fps"`` → ``{"fps": 2.0}``."""
        value = str(text).strip().lower()
        try:
            sampling = {"fps": float(value[:-3])} if value.endswith("fps") else {"num_frames": int(value)}
            FrameBudget(**sampling)
        except ValueError:
            raise ValueError(f"frames must be a positive frame count (16) or a rate (2fps), got {text!r}") from None
        return sampling

    def override(self, **changes: Any) -> FrameBudget:
        """This budget with the given fields replaced (``None`` keeps a field). A count replaces a
        rate and the other way round; a count drops the rate's ``max_frames`` unless one is given."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown frame budget fields {unknown}; valid: {', '.join(FIELDS)}")
        changes = {name: value for name, value in changes.items() if value is not None}
        if "fps" in changes and "num_frames" in changes:
            raise ValueError("give fps or num_frames, not both")
        if "num_frames" in changes:
            changes = {"fps": None, "max_frames": None, **changes}
        elif "fps" in changes:
            changes = {"num_frames": None, **changes}
        return replace(self, **changes)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write :data:`BUDGET_FILE` into ``folder`` (a checkpoint)."""
        path = Path(folder) / BUDGET_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FrameBudget:
        """Read a :data:`BUDGET_FILE`; a malformed one raises ValueError naming the file."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except ValueError as error:
            raise ValueError(f"{path}: not a valid frame budget ({error})") from None


def frame_size(height: int, width: int, factor: int, *, max_pixels: int | None = None, min_pixels: int | None = None) -> tuple[int, int]:
    """``(height, width)`` of a frame after Qwen-VL's per-frame resize: sides multiples of ``factor``
    (patch × merge: 28 for Qwen2.5-VL, 32 for Qwen3-VL), aspect kept, pixels within
    ``[min_pixels, max_pixels]`` (transformers' own ``smart_resize``; unbounded sides still get one
    patch group). Raises when no such size exists (a ``max_pixels`` below one ``factor`` × ``factor``
    group, or ``min_pixels`` too close to ``max_pixels`` for the factor)."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    new_h, new_w = smart_resize(height, width, factor, min_pixels or factor * factor, max_pixels or math.inf)
    if max_pixels is not None and new_h * new_w > max_pixels:
        raise ValueError(
            f"no frame size fits max_pixels={max_pixels} for a {height}x{width} frame at factor {factor} "
            f"(the nearest is {new_h}x{new_w}): raise max_pixels to at least {factor * factor} or lower min_pixels"
        )
    return new_h, new_w


def resized_images(frames: VideoFrames, factor: int, *, max_pixels: int | None = None, min_pixels: int | None = None) -> list:
    """``frames`` as PIL images, each resized (bicubic) to :func:`frame_size`."""
    from PIL import Image

    images = []
    for frame in frames.frames:
        height, width = frame.shape[:2]
        new_h, new_w = frame_size(height, width, factor, max_pixels=max_pixels, min_pixels=min_pixels)
        image = Image.fromarray(frame)
        if (new_h, new_w) != (height, width):
            image = image.resize((new_w, new_h), Image.BICUBIC)
        images.append(image)
    return images


def fit_frames(frames: VideoFrames, factor: int, *, max_pixels: int | None = None, min_pixels: int | None = None) -> VideoFrames:
    """``frames`` with every frame resized to :func:`frame_size` (same indices and timestamps)."""
    import numpy as np

    images = resized_images(frames, factor, max_pixels=max_pixels, min_pixels=min_pixels)
    return replace(frames, frames=np.stack([np.asarray(image) for image in images]))


# The recipes' budget (the paper publishes none): 4 fps, at most 64 frames, 128 × 28 × 28 pixels.
DEFAULT_BUDGET = FrameBudget(fps=4.0, max_frames=64, max_pixels=100_352)


def recorded_budget(model: str | os.PathLike, *, local_files_only: bool = False) -> FrameBudget | None:
    """The budget a checkpoint (a folder or a Hub id) was trained with, or None when it records none."""
    path = Path(model).expanduser()
    if path.is_dir():
        return FrameBudget.load(path / BUDGET_FILE) if (path / BUDGET_FILE).is_file() else None
    if not _HUB_ID.match(str(model)):
        return None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, HFValidationError

    try:
        file = hf_hub_download(str(model), BUDGET_FILE, local_files_only=local_files_only)
    except (EntryNotFoundError, HfHubHTTPError, HFValidationError, ConnectionError, TimeoutError) as error:
        logger.info("no recorded frame budget for %s (%s: %s)", model, type(error).__name__, error)
        return None
    return FrameBudget.load(file)


@dataclass(frozen=True)
class BudgetChoice:
    """The budget a run uses and where it came from: ``source`` is ``checkpoint``, ``benchmark``,
    ``default`` or ``flag``; with flags, ``base`` says where the fields no flag set came from ("" when
    the flags gave the whole budget)."""

    budget: FrameBudget
    source: str
    base: str
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self.budget.to_dict(), "tag": self.budget.tag, "source": self.source, "base": self.base, "flags": list(self.flags)}

    def describe(self) -> str:
        where = {
            "checkpoint": "the checkpoint's recorded budget",
            "benchmark": "the benchmark's usual budget",
            "default": "the default budget",
        }
        if self.source == "flag":
            rest = f"; the rest from {where[self.base]}" if self.base else ""
            return f"{self.budget.describe()} (set by {', '.join(self.flags)}{rest})"
        return f"{self.budget.describe()} ({where[self.source]})"


def choose_budget(recorded: FrameBudget | None, benchmark: FrameBudget | None = None, **flags: Any) -> BudgetChoice:
    """The budget to run with, in this order: ``flags`` (FrameBudget fields, ``None`` = not given)
    over the checkpoint's ``recorded`` budget (:func:`recorded_budget`), else over the ``benchmark``'s
    usual budget (evaluation), else over :data:`DEFAULT_BUDGET`."""
    if recorded is not None:
        base, source = recorded, "checkpoint"
    elif benchmark is not None:
        base, source = benchmark, "benchmark"
    else:
        base, source = DEFAULT_BUDGET, "default"
    given = {name: value for name, value in flags.items() if value is not None}
    if not given:
        return BudgetChoice(base, source, source)
    return BudgetChoice(base.override(**given), "flag", source, tuple(given))
