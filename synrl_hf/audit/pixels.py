"""Check 4, pixel audit: decode each clip, find the objects by color, and re-derive the answer.

For the ten perceptual families the answer is re-derived from the decoded frames alone. The row
tells which objects exist (``objects``: color, shape, size) and what is asked (``question``,
``options``, ``question_type``, and for trajectory_shape's "when" the build parameter saying how
many shapes a clip chains); ``events``, ``tracks`` and ``states`` are never read. Objects are
found per frame by their palette color (within ``COLOR_TOLERANCE`` per channel, after H.264 and
chroma subsampling), as a robust centroid (median, then the mean of the pixels near it), a
bounding box and a pixel count. Rotation is read from the rotation marker (the dark ring of the
white dot near the object's edge) relative to the object's own color centroid.

Intervals ("when" questions) are derived from the pixel motion and accepted when their IoU with
the row's interval is at least 0.5 or both endpoints are within 2 frames. The target is 100%
agreement; every disagreement is listed with its sample id, the row's answer and the derived one.

What "visible" means is fixed here, once, in pixels of the decoded frames: a wall is touched when the
object's box comes within the family's wall gap plus half a frame's travel plus 2.5 px of the edge;
a distance changes visibly when it changes by more than 1% of the frame; an object is still when it
moves less than 0.35 px between the frames around it. The thresholds are tuned on correct clips at
448 px (the default) and checked at 128 px, never loosened to excuse a disagreement.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..motion import COMPASS
from ..questions import LETTERS, format_interval, ordinal
from .common import FAIL, PASS, SKIP, CheckResult, named_objects

PERCEPTUAL = (
    "direction",
    "collision_count",
    "rotation_count",
    "trajectory_shape",
    "speed",
    "acceleration",
    "velocity_comparison",
    "relative_position",
    "distance",
    "motion_count",
)
COLOR_TOLERANCE = 60
DARK = 100  # max channel below this: the rotation marker's ink ring (every palette color has a channel >= 130)
INTERVAL_IOU = 0.5
INTERVAL_FRAMES = 2
ORDINALS = {ordinal(n): n for n in range(1, 9)}


class Unreadable(Exception):
    """The video does not show what the question needs (e.g. the asked object is never drawn)."""


# -- measuring objects in pixels ---------------------------------------------------------------------
@dataclass
class PixelTrack:
    x: np.ndarray  # centroid, pixels (NaN where not drawn)
    y: np.ndarray
    area: np.ndarray  # matching pixels
    x0: np.ndarray  # bounding box of the matching pixels (inclusive pixel indices)
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def found(self) -> np.ndarray:
        return ~np.isnan(self.x)

    def xy(self) -> np.ndarray:
        return np.stack([self.x, self.y], axis=1)


def color_mask(frames: np.ndarray, rgb: Sequence[int], tolerance: int = COLOR_TOLERANCE) -> np.ndarray:
    """(N, H, W) bool: pixels within ``tolerance`` of ``rgb`` in every channel."""
    out = np.ones(frames.shape[:3], bool)
    for channel in range(3):
        plane = frames[..., channel]
        out &= (plane >= rgb[channel] - tolerance) & (plane <= rgb[channel] + tolerance)
    return out


def measure(frames: np.ndarray, rgb: Sequence[int], size_px: float, min_pixels: int = 4) -> PixelTrack:
    """Per frame: the robust centroid and box of the pixels of color ``rgb``.

    The median of the matching pixels locates the object; only pixels within about its size of the
    median count, so a few stray pixels of a similar color elsewhere do not move the centroid.
    """
    masks = color_mask(frames, rgb)
    n = len(frames)
    cols = {name: np.full(n, np.nan) for name in ("x", "y", "area", "x0", "y0", "x1", "y1")}
    reach = 0.8 * size_px + 3
    for f in range(n):
        ys, xs = np.nonzero(masks[f])
        if xs.size < min_pixels:
            cols["area"][f] = xs.size
            continue
        mx, my = np.median(xs), np.median(ys)
        near = (np.abs(xs - mx) <= reach) & (np.abs(ys - my) <= reach)
        xs, ys = xs[near], ys[near]
        if xs.size < min_pixels:
            continue
        cols["x"][f], cols["y"][f] = xs.mean() + 0.5, ys.mean() + 0.5
        cols["area"][f] = xs.size
        cols["x0"][f], cols["x1"][f], cols["y0"][f], cols["y1"][f] = xs.min(), xs.max(), ys.min(), ys.max()
    return PixelTrack(**cols)


def marker_angles(frames: np.ndarray, track: PixelTrack, size_px: float) -> np.ndarray:
    """Per frame, the direction (degrees clockwise from 12 o'clock) from the object's color centroid to
    its rotation marker (the dark ring pixels within the object's reach). Both points are fixed to
    the object, so the angle is the object's rotation up to a constant offset."""
    n = len(frames)
    out = np.full(n, np.nan)
    reach = 0.6 * size_px + 2
    dark = frames.max(axis=-1) < DARK
    for f in range(n):
        if not track.found[f]:
            continue
        cx, cy = track.x[f], track.y[f]
        x_lo, x_hi = int(max(cx - reach, 0)), int(min(cx + reach + 1, frames.shape[2]))
        y_lo, y_hi = int(max(cy - reach, 0)), int(min(cy + reach + 1, frames.shape[1]))
        ys, xs = np.nonzero(dark[f, y_lo:y_hi, x_lo:x_hi])
        if xs.size < 3:
            continue
        mx, my = xs.mean() + 0.5 + x_lo, ys.mean() + 0.5 + y_lo
        out[f] = math.degrees(math.atan2(mx - cx, -(my - cy)))
    return out


def wrapped(delta: np.ndarray) -> np.ndarray:
    return (delta + 180.0) % 360.0 - 180.0


def speeds(track: PixelTrack, half: int = 3, median: int = 9) -> np.ndarray:
    """Speed at each frame (pixels/frame): the displacement over ``2 * half`` frames around it, then
    a running median over ``median`` frames.

    The renderer places objects on whole pixels, so a slow object moves in one-pixel jumps with
    still frames between them: per-frame steps would read as stops. Over a few frames the jumps
    average out; a bounce shortens the displacement of the few windows around it only, which the
    running median removes."""
    xy = _filled(track)
    n = len(xy)
    if n <= 2 * half:
        return np.hypot(*np.diff(xy, axis=0).T)
    disp = np.hypot(*(xy[2 * half :] - xy[: -2 * half]).T) / (2 * half)
    disp = np.concatenate([np.full(half, disp[0]), disp, np.full(half, disp[-1])])
    pad = median // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(disp, pad, mode="edge"), median)
    return np.median(windows, axis=1)


def _filled(track: PixelTrack) -> np.ndarray:
    """Centroids with frames where the object was not found filled by interpolation."""
    xy = track.xy()
    found = track.found
    if found.sum() < 2:
        raise Unreadable("the object is not drawn in the video")
    frames = np.arange(len(xy))
    for axis in range(2):
        xy[~found, axis] = np.interp(frames[~found], frames[found], xy[found, axis])
    return xy


def moving_runs(active: np.ndarray, min_gap: int = 1) -> list[tuple[int, int]]:
    """(first, last) index of each run of True, merging runs separated by fewer than ``min_gap`` Falses."""
    runs: list[list[int]] = []
    for i in np.flatnonzero(active):
        if runs and i - runs[-1][1] <= min_gap:
            runs[-1][1] = int(i)
        else:
            runs.append([int(i), int(i)])
    return [(a, b) for a, b in runs]


# -- fits ------------------------------------------------------------------------------------------
def step_fit(values: np.ndarray, changes: int, min_length: int = 3) -> tuple[int, ...]:
    """Change points of the best piecewise-constant fit with ``changes`` (1 or 2) change points:
    segment k starts at the returned index k (least squares, exhaustive)."""
    n = len(values)
    c1 = np.concatenate([[0.0], np.cumsum(values)])
    c2 = np.concatenate([[0.0], np.cumsum(values**2)])

    def sse(a, b):  # [a, b)
        m = b - a
        return c2[b] - c2[a] - (c1[b] - c1[a]) ** 2 / np.maximum(m, 1)

    if changes == 1:
        cuts = np.arange(min_length, n - min_length + 1)
        return (int(cuts[np.argmin(sse(0, cuts) + sse(cuts, n))]),)
    a, b = np.meshgrid(np.arange(min_length, n), np.arange(min_length, n), indexing="ij")
    valid = (b - a >= min_length) & (n - b >= min_length)
    cost = np.where(valid, sse(0, a) + sse(a, b) + sse(b, n), np.inf)
    i = np.unravel_index(np.argmin(cost), cost.shape)
    return int(a[i]), int(b[i])


def ramp_fit(values: np.ndarray, step: int = 1) -> tuple[int, int]:
    """(a, b) of the best fit "constant, linear from a to b, constant" (continuous, least squares)."""
    n = len(values)
    t = np.arange(n)
    best, where = np.inf, (0, n - 1)
    starts = np.arange(0, n - 2, step)
    for a in starts:
        ends = np.arange(a + 2, n, step)
        u = np.clip((t[None, :] - a) / (ends[:, None] - a), 0.0, 1.0)
        um = u.mean(axis=1, keepdims=True)
        du = u - um
        var = (du**2).sum(axis=1)
        cov = (du * (values - values.mean())).sum(axis=1)
        sse = ((values - values.mean()) ** 2).sum() - cov**2 / np.maximum(var, 1e-12)
        k = int(np.argmin(sse))
        if sse[k] < best:
            best, where = float(sse[k]), (int(a), int(ends[k]))
    return where


def knot_fit(values: np.ndarray, lo: float = 0.25, hi: float = 0.75) -> tuple[float, float, float]:
    """Values at the start, the knot and the end of the best continuous two-piece linear fit, the
    knot anywhere in [lo, hi] of the length."""
    n = len(values)
    t = np.arange(n, dtype=float)
    best, out = np.inf, (values[0], values[n // 2], values[-1])
    for knot in range(max(1, int(lo * n)), min(n - 1, int(hi * n) + 1)):
        rise, fall = t / knot, (n - 1 - t) / (n - 1 - knot)
        basis = np.stack([np.clip(1 - rise, 0, 1), np.clip(np.minimum(rise, fall), 0, 1), np.clip(1 - fall, 0, 1)], axis=1)
        coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
        sse = float(((basis @ coef - values) ** 2).sum())
        if sse < best:
            best, out = sse, (float(coef[0]), float(coef[1]), float(coef[2]))
    return out


# -- reading the question ---------------------------------------------------------------------------
def stem(row: dict[str, Any]) -> str:
    return row["question"].split("\nA. ")[0] if row["options"] else row["question"]


def asked_objects(row: dict[str, Any]) -> list[dict[str, Any]]:
    found = [row["objects"][i] for i in named_objects(stem(row), row["objects"])]
    if not found:
        raise Unreadable("the question names no object of the row")
    return found


def describe(obj: dict[str, Any]) -> str:
    return f"{obj['color']} {obj['shape']}"


def ordinals_in(text: str) -> list[int]:
    words = re.findall(r"\b(" + "|".join(ORDINALS) + r")\b", text)
    return [ORDINALS[w] for w in words]


def _compass(dx: float, dy: float) -> str:
    angle = math.degrees(math.atan2(dx, -dy)) % 360.0
    return COMPASS[int(round(angle / 45.0)) % 8]


def _interval(start: float, end: float, fps: float) -> str:
    return format_interval(round(start / fps, 3), round(end / fps, 3))


class Scene:
    """A row's decoded frames and lazily measured objects."""

    def __init__(self, row: dict[str, Any], frames: np.ndarray):
        self.row = row
        self.frames = frames
        self.fps = float(row["fps"])
        self.width = frames.shape[2]
        self._tracks: dict[str, PixelTrack] = {}

    def track(self, obj: dict[str, Any]) -> PixelTrack:
        if obj["id"] not in self._tracks:
            track = measure(self.frames, obj["rgb"], obj["size"])
            if track.found.sum() < 0.9 * len(self.frames):
                raise Unreadable(f"the {describe(obj)} is found in only {int(track.found.sum())} of {len(self.frames)} frames")
            self._tracks[obj["id"]] = track
        return self._tracks[obj["id"]]

    def position(self, obj: dict[str, Any]) -> np.ndarray:
        return _filled(self.track(obj))

    def still_threshold(self) -> float:
        return max(0.4, 0.0015 * self.width)


# -- per-family derivations (each returns the answer as the row writes it, options resolved later) ----
def _direction(scene: Scene) -> str:
    row = scene.row
    (target, *_) = asked_objects(row)
    p = scene.position(target)
    start, stop = _motion_bounds(p, scene.still_threshold())
    # The turning point is the point of the path farthest from its two ends together (by the
    # triangle inequality, for two straight legs), which holds for a turn back as well.
    path = p[start : stop + 1]
    turn = start + int(np.argmax(np.hypot(*(path - p[start]).T) + np.hypot(*(path - p[stop]).T)))
    first, second = _compass(*(p[turn] - p[start])), _compass(*(p[stop] - p[turn]))
    kind = row["question_type"]
    if kind == "when":
        text = stem(row)
        asked = max((d for d in COMPASS if re.search(rf"\b{d}\b", text)), key=len)
        span = (start, turn) if asked == first else (turn, stop) if asked == second else None
        if span is None:
            raise Unreadable(f"legs read as {first} then {second}; the question asks about {asked}")
        return _interval(*span, scene.fps)
    return first if kind == "first_leg" else second


MAX_TRACE_BACK = 10  # frames: a motion too slow to trace back further starts where it is first seen


def _motion_bounds(p: np.ndarray, still: float) -> tuple[int, int]:
    """Last frame at the starting rest spot and first frame at the final one (sub-frame moves ignored).

    A frame counts as moved once it is more than ``still`` pixels from the rest spot; the motion is
    traced back from there along its own speed, so slow starts are not reported late."""
    d0 = np.hypot(*(p - p[0]).T)
    d1 = np.hypot(*(p - p[-1]).T)
    moved = np.flatnonzero(d0 > still)
    arrived = np.flatnonzero(d1 > still)
    if not moved.size:
        raise Unreadable("the object never moves")
    first_out, last_out = int(moved[0]), int(arrived[-1])
    speed_in = max(float(np.hypot(*(p[min(first_out + 3, len(p) - 1)] - p[first_out]))) / 3, 1e-6)
    speed_out = max(float(np.hypot(*(p[last_out] - p[max(last_out - 3, 0)]))) / 3, 1e-6)
    start = first_out - min(int(round(d0[first_out] / speed_in)), MAX_TRACE_BACK)
    stop = last_out + min(int(round(d1[last_out] / speed_out)), MAX_TRACE_BACK)
    return max(start, 0), min(stop, len(p) - 1)


def _collision_count(scene: Scene) -> str:
    row = scene.row
    (obj, *_) = asked_objects(row)
    track = scene.track(obj)
    p = scene.position(obj)
    w = scene.width
    step = float(np.nanmax(np.hypot(*np.diff(p, axis=0).T)))
    near = 0.004 * w + step / 2 + 2.5
    contacts: list[float] = []
    walls = (
        (track.x0, p[:, 0], -1),
        (w - 1 - track.x1, p[:, 0], 1),
        (track.y0, p[:, 1], -1),
        (w - 1 - track.y1, p[:, 1], 1),
    )
    n = len(p)
    for gap, coord, sign in walls:
        gap = np.where(np.isnan(gap), np.inf, gap)
        for a, b in moving_runs(gap <= near, min_gap=1):
            if a > 0 and b < n - 1:
                contacts.append((a + b) / 2)  # in and out of reach at the same speed: the touch is midway
                continue
            outward = sign * coord[a : b + 1]
            top = int(np.argmax(outward))
            if outward[top] - outward[0] > 0.3 and outward[top] - outward[-1] > 0.3:
                contacts.append(a + top)
    contacts.sort()
    kind = row["question_type"]
    if kind in ("count", "count_choice"):
        return str(len(contacts))
    first, second = ordinals_in(stem(row))[:2]
    if second > len(contacts):
        raise Unreadable(f"asked about contact {second}, {len(contacts)} seen")
    return _interval(round(contacts[first - 1]), round(contacts[second - 1]), scene.fps)


def _rotation_count(scene: Scene) -> str:
    row = scene.row
    (obj, *_) = asked_objects(row)
    track = scene.track(obj)
    angle = marker_angles(scene.frames, track, obj["size"])
    found = ~np.isnan(angle)
    if found.sum() < 0.9 * len(angle):
        raise Unreadable("the rotation marker is not found")
    frames = np.arange(len(angle))
    angle = np.interp(frames, frames[found], np.unwrap(np.radians(angle[found]))) * 180 / math.pi
    turned = angle - angle[0]
    total = turned[-1]
    kind = row["question_type"]
    if kind in ("count", "count_choice"):
        return str(int(abs(total) // 360))
    if kind == "direction":
        asked_clockwise = "counter-clockwise" not in stem(row)
        return "yes" if (total > 0) == asked_clockwise else "no"
    (k,) = ordinals_in(stem(row))[:1]
    sign = 1.0 if total > 0 else -1.0
    progress = sign * turned
    noise = 3.0
    moving = np.flatnonzero(np.abs(np.diff(angle)) > noise)
    if not moving.size:
        raise Unreadable("the object never turns")
    spin_start = int(moving[0])
    base = progress[spin_start]
    done = [int(np.argmax(progress - base >= 360.0 * j)) for j in range(1, k + 1) if (progress - base >= 360.0 * j).any()]
    if len(done) < k:
        raise Unreadable(f"turn {k} is never completed")
    bounds = [spin_start] + done
    return _interval(bounds[k - 1], bounds[k], scene.fps)


SHAPE_NAMES = {
    "linear": "a straight line",
    "circular": "a circle",
    "zigzag": "a zigzag",
    "spiral": "a spiral",
    "figure_eight": "a figure eight",
}


def classify_path(points: np.ndarray) -> tuple[str, dict[str, float]]:
    """The shape of a traced path: its turning, closure and straightness, resampled by arc length."""
    # Positions are whole pixels: a slow path is a staircase. Average over enough frames to move ~3 px.
    raw_steps = np.hypot(*np.diff(points, axis=0).T)
    width = int(np.clip(2 * round(1.5 / max(float(np.mean(raw_steps)), 1e-3)) + 1, 1, 9))
    if width > 1 and len(points) > width:
        kernel = np.ones(width) / width
        points = np.stack([np.convolve(np.pad(points[:, i], width // 2, mode="edge"), kernel, mode="valid") for i in range(2)], axis=1)
    steps = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    length = arc[-1]
    if length < 3:
        raise Unreadable("the path is too short to read")
    spacing = max(length / 150, 0.75)
    along = np.arange(0, length, spacing)
    resampled = np.stack([np.interp(along, arc, points[:, 0]), np.interp(along, arc, points[:, 1])], axis=1)
    heading = np.arctan2(*np.diff(resampled, axis=0)[:, ::-1].T)
    turning = wrapped(np.degrees(np.diff(heading)))
    total, absolute = float(turning.sum()), float(np.abs(turning).sum())
    extent = float(np.hypot(*np.ptp(points, axis=0)))
    closure = float(np.hypot(*(points[-1] - points[0]))) / max(extent, 1e-9)
    straight = float(np.hypot(*(points[-1] - points[0]))) / length
    stats = {
        "turning": round(total, 1),
        "abs_turning": round(absolute, 1),
        "closure": round(closure, 3),
        "straightness": round(straight, 3),
    }
    if abs(total) > 540:
        return "spiral", stats
    if abs(total) > 200:
        return "circular", stats
    if closure < 0.25:
        return "figure_eight", stats
    if straight > 0.93:
        return "linear", stats
    return "zigzag", stats


def _trajectory_shape(scene: Scene) -> str:
    row = scene.row
    (obj, *_) = asked_objects(row)
    p = scene.position(obj)
    kind = row["question_type"]
    # How many shapes the clip chains is a build parameter ("segments"), not something that happens.
    count = int(json.loads(row["difficulty"]).get("segments", 2)) if kind == "when" else 1
    shapes = [(classify_path(p[a : b + 1])[0], a, b) for a, b in segments(p, count)]
    if not shapes:
        raise Unreadable("the object never moves")
    if kind == "when":
        asked = next(name for name, words in SHAPE_NAMES.items() if words in stem(row))
        matches = [(a, b) for shape, a, b in shapes if shape == asked]
        if len(matches) != 1:
            raise Unreadable(f"paths read as {[s for s, _, _ in shapes]}; asked about {asked}")
        return _interval(*matches[0], scene.fps)
    if len(shapes) != 1:
        raise Unreadable(f"expected one path, read {[s for s, _, _ in shapes]}")
    shape = shapes[0][0]
    if kind == "check":
        asked = next(name for name, words in SHAPE_NAMES.items() if re.search(rf"{words}\?", stem(row)))
        return "yes" if asked == shape else "no"
    return SHAPE_NAMES[shape]


STILL_PX = 0.35  # centered two-step displacement (pixels) below which a frame counts as still


def segments(p: np.ndarray, count: int) -> list[tuple[int, int]]:
    """(start, stop) frames of ``count`` stretches of motion, split at the ``count - 1`` longest pauses.

    Frame f is still when the object is where it was a frame before and will be a frame later: the
    centered displacement |p(f+1) - p(f-1)| stays under STILL_PX. The first and last frames of a
    stretch are its resting ends, as in the simulation's start and stop events. (Objects sit on
    whole pixels, so a path slower than a pixel a frame also holds still for a frame or two between
    one-pixel jumps; the pauses between shapes are longer, so the longest still runs are the pauses.)"""
    d2 = np.full(len(p), 0.0)
    d2[1:-1] = np.hypot(*(p[2:] - p[:-2]).T)
    active = np.flatnonzero(d2 >= STILL_PX)
    if not active.size:
        return []
    first, last = int(active[0]), int(active[-1])
    still = [(a, b) for a, b in moving_runs(d2[first : last + 1] < STILL_PX, min_gap=1)]
    pauses = sorted(sorted(still, key=lambda r: r[0] - r[1])[: count - 1])
    out, start = [], first
    for a, b in pauses:
        out.append((start, first + a - 1))
        start = first + b + 1
    out.append((start, last))
    return out


def _all_speeds(scene: Scene) -> list[float]:
    objects = list(scene.row["objects"])
    return [float(speeds(scene.track(o)).mean()) for o in objects]


def _speed(scene: Scene) -> str:
    row = scene.row
    kind = row["question_type"]
    objects = row["objects"]
    if kind == "extreme":
        mean = _all_speeds(scene)
        fastest = "fastest" in stem(row) or "quickest" in stem(row)
        return describe(objects[int(np.argmax(mean) if fastest else np.argmin(mean))])
    if kind == "compare":
        a, b = asked_objects(row)[:2]
        return "yes" if speeds(scene.track(a)).mean() > speeds(scene.track(b)).mean() else "no"
    (target, *_) = asked_objects(row)
    s = speeds(scene.track(target))
    if kind == "change":
        moving = np.percentile(s, 90)
        still = s < 0.2 * moving
        if any(b - a + 1 >= 8 for a, b in moving_runs(still, min_gap=1)):
            return "It stops for a moment, then moves on"
        (cut,) = step_fit(s, 1)
        ratio = s[cut:].mean() / max(s[:cut].mean(), 1e-9)
        if ratio > 1.4:
            return "It switches from slow to fast"
        if ratio < 1 / 1.4:
            return "It switches from fast to slow"
        return "It keeps the same speed the whole time"
    first, second = step_fit(s, 2)
    return _interval(first, second, scene.fps)


TRENDS = {
    "speeding up": "It speeds up",
    "slowing down": "It slows down",
    "constant": "It keeps a constant speed",
    "up then down": "It speeds up, then slows down",
    "down then up": "It slows down, then speeds up",
}
CHECK_WORDS = {  # the "check" question's wording → the trend it asks about
    "first speed up and then slow down": "up then down",
    "get faster and then slower": "up then down",
    "first slow down and then speed up": "down then up",
    "get slower and then faster": "down then up",
    "speeding up": "speeding up",
    "get faster over time": "speeding up",
    "slowing down": "slowing down",
    "get slower over time": "slowing down",
    "constant speed": "constant",
    "steady throughout": "constant",
}


def read_trend(s: np.ndarray) -> str:
    start, knot, end = knot_fit(s)
    low, high = min(start, knot, end), max(start, knot, end)
    if high < 1.3 * max(low, 1e-9):
        return "constant"
    if knot > 1.15 * max(start, end):
        return "up then down"
    if knot < min(start, end) / 1.15:
        return "down then up"
    return "speeding up" if end > start else "slowing down"


def _acceleration(scene: Scene) -> str:
    row = scene.row
    (target, *_) = asked_objects(row)
    s = speeds(scene.track(target))
    kind = row["question_type"]
    if kind == "when":
        a, b = ramp_fit(s)
        return _interval(a, b, scene.fps)
    trend = read_trend(s)
    if kind == "check":
        text = stem(row)
        asked = next(t for words, t in CHECK_WORDS.items() if words in text)
        return "yes" if asked == trend else "no"
    return TRENDS[trend]


def _velocity_comparison(scene: Scene) -> str:
    row = scene.row
    objects = row["objects"]
    mean = _all_speeds(scene)
    ranked = [objects[i] for i in np.argsort(mean)[::-1]]
    kind = row["question_type"]
    if kind == "rank":
        return ", ".join(o["color"] for o in ranked)
    if kind == "second":
        return describe(ranked[1] if "fastest" in stem(row) else ranked[-2])
    (target, *_) = asked_objects(row)
    return str(ranked.index(target))


PHRASE = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}


def _relative_position(scene: Scene) -> str:
    row = scene.row
    text = stem(row)
    named = asked_objects(row)
    a, b = named[0], named[1]
    if re.search(r"on which side of the .+ is the ", text):
        a, b = b, a
    options_text = " ".join(row["options"])
    axis = 0 if re.search(r"\b(left|right)\b", text + " " + options_text) else 1
    before, after = ("left", "right") if axis == 0 else ("above", "below")
    pa, pb = scene.position(a), scene.position(b)
    diff = pa[:, axis] - pb[:, axis]
    ahead = _hysteresis(diff, 0.5)
    crossings = [int(f) + 1 for f in np.flatnonzero(ahead[1:] != ahead[:-1])]
    kind = row["question_type"]
    n = len(diff)
    if kind == "passed":
        return "yes" if crossings else "no"
    if kind == "count":
        return str(len(crossings))
    if kind == "start_end":
        side = lambda f: after if ahead[f] else before  # noqa: E731
        return f"{PHRASE[side(0)]} it at the start, {PHRASE[side(n - 1)]} it at the end"
    asked = next(s for s in (after, before) if f" {PHRASE[s]} the " in f" {text} ")
    if kind == "side_at_stop":
        stop = _stop_frame(pa, scene.still_threshold())
        side = after if ahead[stop] else before
        return "yes" if side == asked else "no"
    frames = np.flatnonzero(ahead == (asked == after))
    if not frames.size:
        raise Unreadable(f"the {describe(a)} is never {PHRASE[asked]} the {describe(b)}")
    return _interval(int(frames[0]), min(int(frames[-1]) + 1, n - 1), scene.fps)


def _hysteresis(diff: np.ndarray, band: float) -> np.ndarray:
    """diff > 0, with a side switch only once the difference leaves the band around zero."""
    state = bool(diff[0] > 0)
    out = np.empty(len(diff), bool)
    pending = None
    for f, value in enumerate(diff):
        side = value > 0
        if side != state:
            if pending is None:
                pending = f
            if abs(value) > band:
                out[pending:f] = side
                state, pending = side, None
        else:
            pending = None
        out[f] = state
    return out


def _stop_frame(p: np.ndarray, still: float) -> int:
    """First frame from which the object stays where it ends."""
    away = np.flatnonzero(np.hypot(*(p - p[-1]).T) > still)
    if not away.size:
        return 0
    return min(int(away[-1]) + 1, len(p) - 1)


DISTANCE_TRENDS = ("it keeps growing", "it keeps shrinking", "it grows, then shrinks", "it shrinks, then grows")


def _distance(scene: Scene) -> str:
    row = scene.row
    kind = row["question_type"]
    text = stem(row)
    if kind == "closest_pair":
        stopper = asked_objects(row)[0]
        stop = _stop_frame(scene.position(stopper), scene.still_threshold())
        objects = row["objects"]
        at = [scene.position(o)[stop] for o in objects]
        pairs = [(i, j) for i in range(len(objects)) for j in range(i + 1, len(objects))]
        i, j = min(pairs, key=lambda q: float(np.hypot(*(at[q[0]] - at[q[1]]))))
        return f"the {describe(objects[i])} and the {describe(objects[j])}"
    a, b = asked_objects(row)[:2]
    gap = np.hypot(*(scene.position(a) - scene.position(b)).T)
    smooth = np.convolve(np.pad(gap, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    tau = 0.03 * scene.width
    top, bottom = int(np.argmax(smooth)), int(np.argmin(smooth))
    if smooth[top] - smooth[0] > tau and smooth[top] - smooth[-1] > tau:
        trend, turn = DISTANCE_TRENDS[2], top
    elif smooth[0] - smooth[bottom] > tau and smooth[-1] - smooth[bottom] > tau:
        trend, turn = DISTANCE_TRENDS[3], bottom
    else:
        trend, turn = (DISTANCE_TRENDS[0] if smooth[-1] > smooth[0] else DISTANCE_TRENDS[1]), None
    if kind == "trend":
        return trend
    grow = bool(re.search(r"\bgrow\b|farther apart", text))
    visible = 0.01 * scene.width  # a change of distance smaller than 1% of the frame is not seen
    start, _ = _change_bounds(smooth[: turn + 1] if turn is not None else smooth, visible)
    _, stop = _change_bounds(smooth[turn:] if turn is not None else smooth, visible)
    if turn is not None:
        stop += turn
    if turn is None:
        if (trend == DISTANCE_TRENDS[0]) != grow:
            raise Unreadable(f"the distance read as '{trend}', the question asks when it {'grows' if grow else 'shrinks'}")
        return _interval(start, stop, scene.fps)
    rising_first = trend == DISTANCE_TRENDS[2]
    return _interval(start, turn, scene.fps) if rising_first == grow else _interval(turn, stop, scene.fps)


def _change_bounds(values: np.ndarray, visible: float) -> tuple[int, int]:
    """First and last frame of the visible change of a 1-D signal: where it first moves ``visible``
    away from its starting level (and last comes within it of its final level), traced back (forward)
    at the local rate of change to where that change began (ended)."""
    return _motion_bounds(np.stack([values, np.zeros_like(values)], axis=1), visible)


# Two hops are separated by min_rest + 1 = 7 still steps (MotionCount's min_rest is 6); a shorter still
# run is a hop's apex, which at low resolution can round to the same pixel for a few frames.
HOP_REST = 6


def _motion_count(scene: Scene) -> str:
    row = scene.row
    (target, *_) = asked_objects(row)
    p = scene.position(target)
    step = np.hypot(*np.diff(p, axis=0).T)
    hops = moving_runs(step > scene.still_threshold(), min_gap=HOP_REST)
    kind = row["question_type"]
    if kind in ("count", "count_choice"):
        return str(len(hops))
    asked = ordinals_in(stem(row))
    first, last = (asked[0], asked[0]) if len(asked) == 1 else asked[:2]
    if last > len(hops):
        raise Unreadable(f"asked about hop {last}, {len(hops)} seen")
    # A step f → f + 1 moves: frame f + 1 is the first off the spot; the last moving step lands.
    return _interval(hops[first - 1][0] + 1, hops[last - 1][1] + 1, scene.fps)


DERIVE: dict[str, Callable[[Scene], str]] = {
    "direction": _direction,
    "collision_count": _collision_count,
    "rotation_count": _rotation_count,
    "trajectory_shape": _trajectory_shape,
    "speed": _speed,
    "acceleration": _acceleration,
    "velocity_comparison": _velocity_comparison,
    "relative_position": _relative_position,
    "distance": _distance,
    "motion_count": _motion_count,
}


# -- comparing ----------------------------------------------------------------------------------------
def _as_answer(row: dict[str, Any], derived: str) -> str:
    """A derived option text → its letter (multiple choice); other answers are already canonical."""
    if row["answer_type"] != "multiple_choice":
        return derived
    matches = [i for i, option in enumerate(row["options"]) if option == derived]
    if not matches:
        raise Unreadable(f"derived {derived!r}, which is not an option")
    return LETTERS[matches[0]]


def interval_iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else float(a == b)


def agrees(row: dict[str, Any], derived: str) -> bool:
    if row["answer_type"] == "interval":
        mine, theirs = json.loads(derived), json.loads(row["answer"])
        close = all(abs(m - t) * row["fps"] <= INTERVAL_FRAMES + 1e-6 for m, t in zip(mine, theirs))
        return close or interval_iou(mine, theirs) >= INTERVAL_IOU
    if row["answer_type"] == "sequence":
        return [s.strip() for s in derived.split(",")] == [s.strip() for s in row["answer"].split(",")]
    return derived == row["answer"]


def audit_row(row: dict[str, Any], video: bytes) -> dict[str, Any]:
    """{id, kind, answer, derived, agree, reason} for one row."""
    from ..video import read_frames

    out = {"id": row["id"], "kind": row["question_type"], "answer": row["answer"], "derived": None, "agree": False, "reason": ""}
    try:
        frames = read_frames(video).frames
        if len(frames) != row["num_frames"]:
            raise Unreadable(f"decoded {len(frames)} frames, the row says {row['num_frames']}")
        derived = DERIVE[row["task"]](Scene(row, frames))
        out["derived"] = derived if row["answer_type"] != "multiple_choice" else f"{_as_answer(row, derived)} ({derived})"
        out["agree"] = agrees(row, _as_answer(row, derived))
        if not out["agree"]:
            out["reason"] = "the pixels give another answer"
    except Unreadable as error:
        out["reason"] = str(error)
    except Exception as error:  # a broken video or an unexpected layout is a disagreement, not a crash
        out["reason"] = f"{type(error).__name__}: {error}"
    return out


def check_pixels(family: str, rows: Sequence[dict[str, Any]], videos: dict[str, bytes]) -> CheckResult:
    if family not in DERIVE:
        return CheckResult("pixels", family, SKIP, "not a perceptual family", {})
    results = [audit_row(row, videos[row["id"]]) for row in rows]
    agree = sum(r["agree"] for r in results)
    wrong = [r for r in results if not r["agree"]]
    by_kind: dict[str, list[int]] = {}
    for r in results:
        by_kind.setdefault(r["kind"], [0, 0])
        by_kind[r["kind"]][0] += r["agree"]
        by_kind[r["kind"]][1] += 1
    details = {
        "n": len(results),
        "agree": agree,
        "agreement": round(agree / max(len(results), 1), 4),
        "by_kind": {k: f"{a}/{n}" for k, (a, n) in sorted(by_kind.items())},
        "disagreements": wrong,
    }
    summary = f"{agree}/{len(results)} answers re-derived from pixels ({agree / max(len(results), 1):.0%})"
    if wrong:
        summary += "; disagree: " + ", ".join(r["id"] for r in wrong[:5]) + (" …" if len(wrong) > 5 else "")
        return CheckResult("pixels", family, FAIL, summary, details)
    return CheckResult("pixels", family, PASS, summary, details)
