"""The renderer interface: a timeline in, RGB frames out. Backends differ only in how they draw."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np

from ..timeline import Timeline

MIN_RESOLUTION = 64
MAX_RESOLUTION = 16384  # libx264 refuses frames wider or taller than this


def check_resolution(resolution: int) -> int:
    if not isinstance(resolution, int) or isinstance(resolution, bool):
        raise ValueError(f"resolution must be an integer, got {resolution!r}")
    if resolution < MIN_RESOLUTION:
        raise ValueError(f"resolution {resolution} is too small; the minimum is {MIN_RESOLUTION}")
    if resolution > MAX_RESOLUTION:
        raise ValueError(f"resolution {resolution} is too large; the maximum is {MAX_RESOLUTION} (libx264's largest frame side)")
    if resolution % 2:
        raise ValueError(f"resolution {resolution} is odd; H.264 yuv420p needs an even size (e.g. {resolution + 1})")
    return resolution


class Renderer(Protocol):
    name: str

    def frames(self, timeline: Timeline, resolution: int) -> Iterator[np.ndarray]:
        """Yield one (resolution, resolution, 3) uint8 RGB frame per timeline frame."""
