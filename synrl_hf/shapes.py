"""Outlines of the drawable shapes, shared by the simulations (extents, contacts) and every renderer backend.

All functions work in pixels around a center, y down, angle in degrees clockwise on screen.

The palette shapes (circle, square, triangle, ...) are normalised to EQUAL AREA: at one ``size`` every
one of them covers the area of the circle of diameter ``size``, so changing an object's shape never
changes how big it looks (a square is narrower than its size, a triangle or a star reaches further).
Each is centered on its centroid, so it turns about its middle and its color centroid is its center.
Cards, boxes, captions and cups are sized by their box instead (width and height).
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


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula)."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _equal_area(points: np.ndarray) -> np.ndarray:
    return points * math.sqrt(polygon_area(_CIRCLE) / polygon_area(points))


_CIRCLE = _regular(CIRCLE_SEGMENTS)
# Unit outlines: a palette shape of size 1 has the circle's area; box-sized ones fit the 1x1 box.
_UNIT = {
    "circle": _CIRCLE,
    "square": _equal_area(np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])),
    "triangle": _equal_area(_regular(3)),
    "pentagon": _equal_area(_regular(5)),
    "hexagon": _equal_area(_regular(6, start_deg=0.0)),
    "star": _equal_area(_star()),
    "diamond": _equal_area(np.array([[0.0, -0.5], [0.5, 0.0], [0.0, 0.5], [-0.5, 0.0]])),
    # A cup seen from the side: wide rim at the bottom, so it reads as covering what is under it.
    "cup": np.array([[-0.3, -0.5], [0.3, -0.5], [0.5, 0.5], [-0.5, 0.5]]),
}
_BOX = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
RECTANGLES = ("card", "box", "text")
SHAPES = tuple(_UNIT) + RECTANGLES
EQUAL_AREA = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "diamond")


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
        unit = _BOX
    else:
        try:
            unit = _UNIT[shape]
        except KeyError:
            raise ValueError(f"unknown shape {shape!r}; valid shapes: {', '.join(SHAPES)}") from None
    scale = np.array([width, height if height is not None else width])
    return rotate(unit * scale, angle)


def radius(shape: str, width: float, height: float | None = None) -> float:
    """How far the outline reaches from its center in any direction, at any rotation."""
    return float(np.hypot(*outline(shape, width, height).T).max())


RADIUS = {shape: radius(shape, 1.0) for shape in EQUAL_AREA}  # per unit size
MAX_RADIUS = max(RADIUS.values())  # of any palette shape, per unit size: room for an object that may change shape


def marker_center(size: float, angle: float) -> np.ndarray:
    """Where the rotation marker sits: straight up at angle 0, turning clockwise with the object."""
    return rotate(np.array([[0.0, -MARKER_OFFSET * size]]), angle)[0]
