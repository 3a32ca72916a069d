"""Kinematics shared by the short-term families: placing paths in frame, piecewise motion, bounces.

Everything is in canvas units (the unit square, y down) and returns one value per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .palette import COLORS, SHAPES
from .shapes import outline, radius
from .timeline import SceneObject

MARGIN = 0.02  # free space between any object and the frame edge, so nothing is ever cut off
MIN_EVENT_GAP = 3  # frames between two timed events of one kind, so each is drawn on its own

COMPASS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")
# Unit vectors on screen (y down): north is up.
COMPASS_VECTORS = {name: (math.sin(math.radians(45 * i)), -math.cos(math.radians(45 * i))) for i, name in enumerate(COMPASS)}


def random_objects(
    rng: np.random.Generator, count: int, size: tuple[float, float], *, shapes=SHAPES, marker: bool = False
) -> list[SceneObject]:
    """``count`` objects with distinct colors (so a question can name each by color)."""
    colors = rng.choice(list(COLORS), size=count, replace=False)
    return [
        SceneObject(
            id=f"obj{i}",
            shape=str(shapes[int(rng.integers(len(shapes)))]),
            color=str(color),
            size=float(rng.uniform(*size)),
            marker=marker,
            z=i,
        )
        for i, color in enumerate(colors)
    ]


def half_extents(obj: SceneObject, angle: float = 0.0) -> tuple[float, float]:
    """Half width and half height of the object's drawn outline, so contacts are exact touches."""
    points = outline(obj.shape, obj.size, obj.height, angle)
    return float(np.abs(points[:, 0]).max()), float(np.abs(points[:, 1]).max())


def reach(obj: SceneObject) -> float:
    """How far the object's outline reaches from its center, at any rotation (canvas units)."""
    return radius(obj.shape, obj.size, obj.height)


def describe(obj: SceneObject) -> str:
    return f"{obj.color} {obj.shape}"


def place_path(rng: np.random.Generator, rel_x: np.ndarray, rel_y: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Translate a relative path to a uniformly drawn spot where an object reaching ``reach`` from its
    center stays in frame."""
    half = reach + MARGIN
    lo_x, hi_x = half - rel_x.min(), 1 - half - rel_x.max()
    lo_y, hi_y = half - rel_y.min(), 1 - half - rel_y.max()
    if lo_x > hi_x or lo_y > hi_y:
        return None
    return rel_x + rng.uniform(lo_x, hi_x), rel_y + rng.uniform(lo_y, hi_y)


def in_frame(x: np.ndarray, y: np.ndarray, reach: float) -> bool:
    half = reach + MARGIN - 1e-9
    return bool(x.min() >= half and x.max() <= 1 - half and y.min() >= half and y.max() <= 1 - half)


@dataclass
class Contact:
    frame: int
    time: float  # exact simulated time of the contact, seconds
    wall: str  # "left", "right", "top", "bottom"


def bounce_axis(p0: float, v: float, lo: float, hi: float, t: np.ndarray) -> np.ndarray:
    """Position along one axis of a point bouncing elastically between ``lo`` and ``hi``."""
    span = hi - lo
    unfolded = np.mod(p0 - lo + v * t, 2 * span)
    return lo + np.where(unfolded <= span, unfolded, 2 * span - unfolded)


def bounce_contacts(p0: float, v: float, lo: float, hi: float, duration: float, walls: tuple[str, str], fps: int) -> list[Contact]:
    """Every time the point reaches ``lo`` (walls[0]) or ``hi`` (walls[1]) within ``duration``."""
    if v == 0:
        return []
    span = hi - lo
    u0 = p0 - lo
    contacts = []
    j = math.floor(u0 / span) + 1 if v > 0 else math.ceil(u0 / span) - 1
    while True:
        t = (j * span - u0) / v
        if t > duration:
            break
        if t > 0:
            wall = walls[1] if j % 2 else walls[0]
            contacts.append(Contact(int(round(t * fps)), t, wall))
        j += 1 if v > 0 else -1
    return contacts


def piecewise_path(
    waypoints: list[tuple[float, float]], frames_per_leg: list[int], start_hold: int = 0, end_hold: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Constant-speed legs between waypoints, with optional still frames before and after."""
    xs, ys = [np.full(start_hold, waypoints[0][0])], [np.full(start_hold, waypoints[0][1])]
    for (x0, y0), (x1, y1), n in zip(waypoints, waypoints[1:], frames_per_leg):
        s = np.arange(n) / n
        xs.append(x0 + (x1 - x0) * s)
        ys.append(y0 + (y1 - y0) * s)
    last = waypoints[-1]
    xs.append(np.full(end_hold + 1, last[0]))
    ys.append(np.full(end_hold + 1, last[1]))
    return np.concatenate(xs), np.concatenate(ys)


def separated(objects: list[SceneObject], tracks: dict, gap: float = MARGIN) -> bool:
    """True when no two visible objects ever come within ``gap`` of each other (bounding circles)."""
    for i, a in enumerate(objects):
        for b in objects[i + 1 :]:
            ta, tb = tracks[a.id], tracks[b.id]
            both = ta.visible & tb.visible
            dist = np.hypot(ta.x - tb.x, ta.y - tb.y)[both]
            limit = reach(a) + reach(b) + gap
            if dist.size and dist.min() < limit:
                return False
    return True


def split_points(rng: np.random.Generator, num_frames: int, count: int, min_gap: int, edge: int) -> list[int]:
    """``count`` increasing frames in [edge, num_frames - 1 - edge], at least ``min_gap`` apart."""
    room = num_frames - 1 - 2 * edge - (count - 1) * min_gap
    if room < 0:
        raise ValueError(f"{count} points {min_gap} frames apart do not fit in {num_frames} frames")
    offsets = np.sort(rng.integers(0, room + 1, size=count))
    return [int(edge + o + i * min_gap) for i, o in enumerate(offsets)]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in canvas units


def grid_cells(rng: np.random.Generator, count: int) -> list[Box]:
    """One disjoint region per object (whole frame, halves or quadrants, in random order).

    An object that stays inside its own region (see ``center_bounds``) can never overlap another, so
    several objects can be placed, spin or trace their paths without checking them against each other.
    Nothing turns back at a region's edge: no viewer could see why (objects that bounce use
    :mod:`synrl_hf.billiards`, off the frame's walls and each other).
    """
    if count == 1:
        return [(0.0, 0.0, 1.0, 1.0)]
    if count == 2:
        cells = [(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)] if rng.integers(2) else [(0.0, 0.0, 1.0, 0.5), (0.0, 0.5, 1.0, 1.0)]
    elif count <= 4:
        cells = [(x, y, x + 0.5, y + 0.5) for y in (0.0, 0.5) for x in (0.0, 0.5)]
    else:
        raise ValueError(f"grid_cells handles 1 to 4 objects, got {count}")
    return [cells[i] for i in rng.permutation(len(cells))[:count]]


def center_bounds(box: Box, obj: SceneObject) -> Box:
    """Where the object's center may go so that, at any rotation, it keeps MARGIN inside ``box``."""
    pad = reach(obj) + MARGIN
    x0, y0, x1, y1 = box
    return x0 + pad, y0 + pad, x1 - pad, y1 - pad


def place_in_box(
    rng: np.random.Generator, rel_x: np.ndarray, rel_y: np.ndarray, box: Box, obj: SceneObject
) -> tuple[np.ndarray, np.ndarray] | None:
    """Translate a relative path to a uniformly drawn spot inside ``box`` (None if it cannot fit)."""
    lo_x, lo_y, hi_x, hi_y = center_bounds(box, obj)
    lo_x, hi_x = lo_x - rel_x.min(), hi_x - rel_x.max()
    lo_y, hi_y = lo_y - rel_y.min(), hi_y - rel_y.max()
    if lo_x > hi_x or lo_y > hi_y:
        return None
    return rel_x + rng.uniform(lo_x, hi_x), rel_y + rng.uniform(lo_y, hi_y)


def speed_ladder(rng: np.random.Generator, count: int, slowest: tuple[float, float], ratio: tuple[float, float]) -> np.ndarray:
    """``count`` ascending speeds, each ``ratio`` (drawn per step) times the one before."""
    steps = rng.uniform(*ratio, size=count - 1)
    return rng.uniform(*slowest) * np.concatenate([[1.0], np.cumprod(steps)])


def track_speed(x: np.ndarray, y: np.ndarray, fps: int) -> np.ndarray:
    """Speed from each frame to the next (canvas units/s), read off the drawn positions.

    A bounce between two frames shortens that one step; a 5-frame running median removes the dip.
    """
    step = np.hypot(np.diff(x), np.diff(y)) * fps
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(step, 2, mode="reflect"), 5)
    return np.median(windows, axis=1)
