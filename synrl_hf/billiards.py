"""Billiards: objects gliding in straight lines, bouncing off the frame's walls and off each other.

The families that keep several objects moving for a whole clip (speed, acceleration,
velocity_comparison, distance's closest pair) move them this way, so every change of heading has a
cause a viewer sees: a wall, or another object. Each object keeps its own speed profile through every
bounce: a bounce mirrors the heading of each object moving into the contact about the contact's
normal, so an object covers exactly its planned speed / fps along its path every frame, and a speed
measured over a few frames is the planned one.

Contacts are exact for the objects' convex hulls (nothing rotates here): two objects touch when the
offset between their centers reaches the Minkowski difference of their outlines, a convex polygon
computed once per pair and grown by ``perception.CONTACT_GAP``. The simulation is event-driven inside each
frame, so a contact happens at its exact time and a path never cuts a corner through another object.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .motion import half_extents
from .perception import CONTACT_GAP
from .shapes import outline, radius
from .timeline import SceneObject, Track

START_CLEARANCE = 0.03  # canvas units between any two outlines in the first frame
MAX_CONTACTS_PER_FRAME = 24  # more means an object is pinned (against a wall by another): redraw the start
_EPS = 1e-12


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (monotone chain), counter-clockwise in (x, y), no repeated or collinear points."""
    pts = sorted(set(map(tuple, np.round(points, 12).tolist())))

    def half(seq):
        chain: list[tuple[float, float]] = []
        for p in seq:
            while len(chain) >= 2:
                (ax, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) > _EPS:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1])


def contact_polygon(a: SceneObject, b: SceneObject, grow: float) -> tuple[np.ndarray, np.ndarray]:
    """(normals, offsets) of the convex region of ``center(b) - center(a)`` where the two touch:
    offset p overlaps (or comes within ``grow``) iff ``normals @ p <= offsets`` on every edge."""
    sums = (outline(a.shape, a.size, a.height)[:, None, :] - outline(b.shape, b.size, b.height)[None, :, :]).reshape(-1, 2)
    hull = _hull(sums)
    edges = np.roll(hull, -1, axis=0) - hull
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1) / np.hypot(*edges.T)[:, None]
    middle = (hull + np.roll(hull, -1, axis=0)) / 2 - hull.mean(axis=0)
    normals *= np.where((normals * middle).sum(axis=1) > 0, 1.0, -1.0)[:, None]  # outward
    offsets = normals[:, 0] * hull[:, 0] + normals[:, 1] * hull[:, 1] + grow
    return normals, offsets


class _Overlap(Exception):
    """Two objects overlap: the motion is given up (it cannot happen from a start that is apart)."""


class _Contacts:
    """Every pair's contact polygon, and when a pair first touches on its present headings."""

    def __init__(self, objects: list[SceneObject], grow: float):
        self.pairs = list(itertools.combinations(range(len(objects)), 2))
        self.polygons = [contact_polygon(objects[i], objects[j], grow) for i, j in self.pairs]
        # Beyond this center distance a pair cannot touch: the farthest corner of its contact polygon.
        reach = [radius(o.shape, o.size, o.height) for o in objects]
        self.reach = [reach[i] + reach[j] + grow for i, j in self.pairs]

    def apart(self, pos: np.ndarray, clearance: float, placed: int) -> bool:
        """Whether the first ``placed`` objects are all more than ``clearance`` apart."""
        for (i, j), (normals, offsets) in zip(self.pairs, self.polygons):
            if j < placed:
                dx, dy = float(pos[j, 0] - pos[i, 0]), float(pos[j, 1] - pos[i, 1])
                if np.all(normals[:, 0] * dx + normals[:, 1] * dy <= offsets + clearance):
                    return False
        return True

    def first_touch(self, k: int, dx: float, dy: float, wx: float, wy: float) -> tuple[float, float, float] | None:
        """(time, normal x, normal y) when pair ``k``, offset (dx, dy) and closing at (wx, wy) per
        second, touches; None if it never does on these headings. Raises _Overlap if it overlaps."""
        normals, offsets = self.polygons[k]
        num = offsets - (normals[:, 0] * dx + normals[:, 1] * dy)
        den = normals[:, 0] * wx + normals[:, 1] * wy
        entering, leaving = den < -_EPS, den > _EPS
        if np.any(~entering & ~leaving & (num < 0)) or not entering.any():
            return None  # outside an edge it runs along, or never heading into the polygon
        with np.errstate(divide="ignore", invalid="ignore"):
            t = num / den
        t_enter = np.where(entering, t, -np.inf)
        edge = int(np.argmax(t_enter))
        enter = float(t_enter[edge])
        leave = float(np.where(leaving, t, np.inf).min())
        if enter < -1e-9 and leave > 1e-9:
            raise _Overlap
        start = max(enter, 0.0)
        if leave - start <= _EPS:
            return None
        return start, float(normals[edge, 0]), float(normals[edge, 1])


def billiards(
    rng: np.random.Generator, objects: list[SceneObject], speeds: list[np.ndarray], fps: int, attempts: int = 100
) -> dict[str, Track]:
    """A track per object (by id), gliding at ``speeds[i][f]`` (canvas units/s from frame f to f + 1)
    and bouncing off the walls and each other.

    Start spots (apart from each other) and headings are drawn at random, independently of the
    speeds, so no single frame tells a fast object from a slow one. An object at speed 0 stays put,
    and whatever runs into it bounces off.
    """
    lo, hi = wall_bounds(objects)
    contacts = _Contacts(objects, CONTACT_GAP)
    for _ in range(attempts):
        pos = np.empty((len(objects), 2))
        for k in range(len(objects)):
            for _ in range(1000):
                pos[k] = rng.uniform(lo[k], hi[k])
                if contacts.apart(pos, START_CLEARANCE, k + 1):
                    break
            else:
                raise RuntimeError(f"no room to place {len(objects)} objects apart")
        angle = rng.uniform(0, 2 * math.pi, size=len(objects))
        tracks = glide(objects, pos, np.stack([np.cos(angle), np.sin(angle)], axis=1), speeds, fps, contacts)
        if tracks is not None:
            return tracks
    raise RuntimeError(f"could not move {len(objects)} objects without pinning one in {attempts} attempts")


def wall_bounds(objects: list[SceneObject]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) lowest and highest center coordinates at which each object's outline touches a wall."""
    extents = np.array([half_extents(o) for o in objects])
    return extents + CONTACT_GAP, 1.0 - extents - CONTACT_GAP


def glide(
    objects: list[SceneObject],
    start: np.ndarray,
    headings: np.ndarray,
    speeds: list[np.ndarray],
    fps: int,
    contacts: _Contacts | None = None,
) -> dict[str, Track] | None:
    """The tracks from ``start`` spots (n, 2) in ``headings`` (n, 2 unit vectors); None if an object
    gets pinned (between a wall and another, say) or two overlap."""
    lo, hi = wall_bounds(objects)
    speed = np.stack([np.asarray(s, float) for s in speeds], axis=1)  # (steps, n)
    path = _run(np.array(start, float), np.array(headings, float), speed, lo, hi, contacts or _Contacts(objects, CONTACT_GAP), fps)
    if path is None:
        return None
    frames = len(path)
    return {o.id: Track(path[:, k, 0], path[:, k, 1], np.zeros(frames), np.ones(frames, bool)) for k, o in enumerate(objects)}


def _run(pos, heading, speed, lo, hi, contacts, fps):
    """Positions (frames, n, 2), event-driven within each frame; None if an object gets pinned."""
    steps, n = speed.shape
    x, y = pos[:, 0].tolist(), pos[:, 1].tolist()
    hx, hy = heading[:, 0].tolist(), heading[:, 1].tolist()
    lo_x, lo_y, hi_x, hi_y = lo[:, 0].tolist(), lo[:, 1].tolist(), hi[:, 0].tolist(), hi[:, 1].tolist()
    path = np.empty((steps + 1, n, 2))
    path[0] = pos
    for f in range(steps):
        pace = speed[f].tolist()
        left = 1.0 / fps
        for _ in range(MAX_CONTACTS_PER_FRAME):
            vx = [hx[i] * pace[i] for i in range(n)]
            vy = [hy[i] * pace[i] for i in range(n)]
            events = []  # (time, what): what is ("x" | "y", i) for a wall, (k, nx, ny) for a pair
            for i in range(n):
                for axis, p, v, low, high in (("x", x[i], vx[i], lo_x[i], hi_x[i]), ("y", y[i], vy[i], lo_y[i], hi_y[i])):
                    if v > _EPS:
                        events.append((max((high - p) / v, 0.0), (axis, i)))
                    elif v < -_EPS:
                        events.append((max((low - p) / v, 0.0), (axis, i)))
            for k, (i, j) in enumerate(contacts.pairs):
                dx, dy, wx, wy = x[j] - x[i], y[j] - y[i], vx[j] - vx[i], vy[j] - vy[i]
                if math.hypot(dx, dy) - math.hypot(wx, wy) * left > contacts.reach[k]:
                    continue  # too far apart to touch within this frame
                try:
                    touch = contacts.first_touch(k, dx, dy, wx, wy)
                except _Overlap:
                    return None
                if touch is not None:
                    events.append((touch[0], (k, touch[1], touch[2])))
            first = min([left] + [t for t, _ in events])
            for i in range(n):
                x[i] = min(max(x[i] + vx[i] * first, lo_x[i]), hi_x[i])
                y[i] = min(max(y[i] + vy[i] * first, lo_y[i]), hi_y[i])
            left -= first
            if left <= 0.0:
                break
            for t, what in events:
                if t > first + _EPS:
                    continue
                if len(what) == 2:  # a wall: the heading's component across it turns around
                    axis, i = what
                    if axis == "x":
                        hx[i] = -hx[i]
                    else:
                        hy[i] = -hy[i]
                    continue
                k, nx, ny = what
                i, j = contacts.pairs[k]
                # Each one moving into the contact is mirrored about its normal (from i towards j).
                along = hx[i] * nx + hy[i] * ny
                if along * pace[i] > 0:
                    hx[i], hy[i] = hx[i] - 2 * along * nx, hy[i] - 2 * along * ny
                along = hx[j] * nx + hy[j] * ny
                if along * pace[j] < 0:
                    hx[j], hy[j] = hx[j] - 2 * along * nx, hy[j] - 2 * along * ny
        else:
            return None
        path[f + 1, :, 0] = x
        path[f + 1, :, 1] = y
    return path
