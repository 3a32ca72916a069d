"""Reading one benchmark video the way its protocol asks: a file or a folder of frames, whole or
only inside a start/end window, with the frame budget in force.

MVBench's main-branch release stores TVQA clips as folders of JPEG frames extracted at 3 fps
(``00001.jpg`` ...); MVBench and TVBench sample some tasks only inside a ``[start, end]`` bound.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synrl_hf.frame_budget import FrameBudget
from synrl_hf.video import VideoFrames

from .converters import FRAME_EXTENSIONS

FRAME_FOLDER_FPS = 3.0  # MVBench's frames_fps3_hq


def frame_files(folder: str | os.PathLike) -> list[Path]:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in FRAME_EXTENSIONS)
    if not files:
        raise FileNotFoundError(f"no frame images ({', '.join(FRAME_EXTENSIONS)}) in {folder}")
    return files


def read_clip(
    budget: FrameBudget, path: str | os.PathLike, window: tuple[float, float] | None = None, frame_fps: float | None = None
) -> VideoFrames:
    """The frames ``budget`` picks from the video at ``path`` (inside ``window`` seconds if given).
    A folder is a video of its sorted frame images at ``frame_fps`` (default 3 fps)."""
    if not os.path.isdir(path):
        return budget.read(path, window=window)
    from PIL import Image

    files = frame_files(path)
    fps = float(frame_fps or FRAME_FOLDER_FPS)
    indices = budget.indices(len(files), fps, window)
    frames = np.stack([np.asarray(Image.open(files[i]).convert("RGB")) for i in indices])
    return VideoFrames(frames, indices, indices / fps, fps, len(files))
