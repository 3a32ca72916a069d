"""Named colors and shapes that every family draws from.

The colors are far apart in RGB (and stay apart after yuv420p chroma subsampling), so a question can
name them and the pixel audit can find each object by color alone.
"""

from __future__ import annotations

BACKGROUND = (255, 255, 255)
INK = (25, 25, 25)  # text, outlines, rotation markers

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (20, 160, 50),
    "blue": (30, 70, 230),
    "orange": (255, 140, 0),
    "purple": (140, 40, 200),
    "cyan": (0, 190, 210),
    "magenta": (230, 30, 200),
    "brown": (130, 75, 20),
}

# Shapes whose outline shows their rotation. A circle never rotates visibly, so families that spin
# an object draw it with a marker as well.
SHAPES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "diamond")
ROTATION_SHAPES = ("square", "triangle", "pentagon", "star", "diamond")
