"""One online sample: a scene at a difficulty level, drawn at the frame budget's frames, as a row.

The row has the fields of a built row (docs/data-contract.md) with the same values, except two:
``video`` holds the budget's frames themselves (a :class:`~synrl_hf.online.frames.RenderedVideo`)
instead of MP4 bytes, which the trainer reads as it would read decoded frames; and there is no
``tracks`` (every object's centre on every frame: tens of thousands of numbers that GRPO never reads
and that TRL would deep-copy for each of a group's generations; ``build_scene`` with the row's
family, index, seed and preset gives them back).
"""

from __future__ import annotations

from typing import Any

from ..difficulty import preset_name
from ..frame_budget import FrameBudget
from ..sample import build_scene, scene_row
from .frames import RenderedVideo, render_frames


def online_sample(
    family: str,
    index: int,
    seed: int,
    level: int,
    budget: FrameBudget,
    *,
    split: str = "train",
    resolution: int = 448,
    renderer: str = "pillow",
    codec: bool = False,
) -> dict[str, Any]:
    """The row of sample ``index`` of ``family`` at ladder ``level``, its video as the budget's frames."""
    scene = build_scene(family, index, seed, split, preset=preset_name(level))
    frames = render_frames(scene.timeline, budget, resolution, renderer, codec=codec)
    row = {**scene_row(scene, None, resolution, renderer), "video": RenderedVideo(frames)}
    del row["tracks"]
    return row
