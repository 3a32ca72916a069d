"""Outlines of the drawable shapes, shared by the simulations (extents, contacts) and every renderer backend.

All functions work in pixels around a center, y down, angle in degrees clockwise on screen.
"""

from __future__ import annotations

import math

import numpy as np

CIRCLE_SEGMENTS = 48
MARKER_RADIUS = 0.16  # of the object's size
MARKER_OFFSET = 0.30  # marker center distance from the object center, of the object's size


def _regular(n: int, start_deg: float = -90.0) -> np.ndarray:
    angles = np.deg2rad(start_deg + 360.0 * np.arange(n) / n)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) * 0.5


def _star(points: int = 5, inner: float = 0.45) -> np.ndarray:
    angles = np.deg2rad(-90.0 + 180.0 * np.arange(2 * points) / points)
    radii = np.where(np.arange(2 * points) % 2 == 0, 0.5, 0.5 * inner)
    return np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)


# Unit outlines (fit in a 1x1 box centered on the origin).
_UNIT = {
    "circle": _regular(CIRCLE_SEGMENTS),
    "square": np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]),
    "triangle": _regular(3) * np.array([1.0, 1.0]) + np.array([0.0, 0.08]),
    "pentagon": _regular(5),
    "hexagon": _regular(6, start_deg=0.0),
    "star": _star(),
    "diamond": np.array([[0.0, -0.5], [0.5, 0.0], [0.0, 0.5], [-0.5, 0.0]]),
    # A cup seen from the side: wide rim at the bottom, so it reads as covering what is under it.
    "cup": np.array([[-0.3, -0.5], [0.3, -0.5], [0.5, 0.5], [-0.5, 0.5]]),
}
RECTANGLES = ("card", "box", "text")
SHAPES = tuple(_UNIT) + RECTANGLES


def rotate(points: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate clockwise on screen (y down): the standard rotation matrix in image coordinates."""
    if not angle_deg:
        return points
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return points @ np.array([[c, s], [-s, c]])


def outline(shape: str, width: float, height: float | None = None, angle: float = 0.0) -> np.ndarray:
    """(N, 2) polygon in pixels relative to the center."""
    if shape in RECTANGLES:
        unit = _UNIT["square"]
    else:
        try:
            unit = _UNIT[shape]
        except KeyError:
            raise ValueError(f"unknown shape {shape!r}; valid shapes: {', '.join(SHAPES)}") from None
    scale = np.array([width, height if height is not None else width])
    return rotate(unit * scale, angle)


def marker_center(size: float, angle: float) -> np.ndarray:
    """Where the rotation marker sits: straight up at angle 0, turning clockwise with the object."""
    return rotate(np.array([[0.0, -MARKER_OFFSET * size]]), angle)[0]
