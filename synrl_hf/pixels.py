"""The pixel kit: measuring a decoded clip, for the families' pixel re-derivation (the audit's check 4).

A family that can re-derive its answer from the decoded frames alone implements
``Family.answer_from_pixels(scene)``: ``scene`` is a :class:`PixelScene`, the row plus its decoded
frames. The row tells which objects exist (``objects``: color, shape, size) and what is asked
(``question``, ``options``, ``question_type``, and build parameters such as how many shapes a
trajectory chains); ``events``, ``tracks`` and ``states`` are never read. Objects are found per frame
by their palette color (within ``COLOR_TOLERANCE`` per channel, after H.264 and chroma subsampling),
as a robust centroid (median, then the mean of the pixels near it), a bounding box and a pixel count
(:func:`measure`). Rotation is read from the rotation marker (the white dot in its dark ring, which
the object's color leaves uncovered) relative to the object's own color centroid (:func:`marker_angles`).

What "visible" means is fixed in pixels of the decoded frames: an object is still when it moves less
than :meth:`PixelScene.still_threshold` between frames; the families add their own thresholds
(a wall's reach, a visible change of distance), tuned on correct clips at 448 px (the default) and
checked at 128 px, never loosened to excuse a disagreement. A clip that does not show what the
question needs raises :class:`Unreadable`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .motion import COMPASS
from .palette import COLORS
from .questions import ORDINAL_WORDS, format_interval
from .video import VideoPlanes, in_rgb_box, in_rgb_box_420, luma, yuv_to_rgb

COLOR_TOLERANCE = 60
MASK_CHUNK = 16  # frames whose color masks are computed at once: fewer calls, bounded memory
NEUTRAL_CHROMA = 16  # U and V within this of grey (128): white background, codec noise included, and no more
MARKER_REACH = 0.4  # of the object's size: most of the rotation marker, and inside every shape but a star's valleys
ORDINALS = {word: n for n, word in enumerate(ORDINAL_WORDS, 1)}


class Unreadable(Exception):
    """The video does not show what the question needs (e.g. the asked object is never drawn)."""


class RGBFrames:
    """The RGB frames of decoded planes, converted only where indexed (``frames[f, top:bottom, left:right]``).

    Indexes like the (N, H, W, 3) array :func:`~synrl_hf.video.read_frames` gives, with the same
    pixel values; ``np.asarray`` converts everything (once). Readers that look at windows (objects,
    markers) never pay for the whole frames.
    """

    def __init__(self, planes: VideoPlanes):
        self.planes = planes
        self.shape = (len(planes), planes.height, planes.width, 3)
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if self._all is None:
            self._all = self.planes.rgb(slice(None))
        return self._all if dtype is None else self._all.astype(dtype)

    def __getitem__(self, key) -> np.ndarray:
        if self._all is not None:
            return self._all[key]
        key = key if isinstance(key, tuple) else (key,)
        index, rows, cols = (*key, slice(None), slice(None))[:3]
        if not isinstance(rows, slice) or not isinstance(cols, slice):
            return np.asarray(self)[key]
        return self.planes.rgb(index, rows, cols)


FrameSource = np.ndarray | RGBFrames  # what the measuring functions accept as a clip's frames


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
    """Bool mask over the pixels of ``frames`` (any leading shape, RGB last): within ``tolerance``
    of ``rgb`` in every channel."""
    return (np.abs(np.asarray(frames, np.int16) - np.asarray(rgb, np.int16)) <= tolerance).all(axis=-1)


def in_box(frames: FrameSource, f: int, rows: slice, cols: slice, low: Sequence[int], high: Sequence[int]) -> np.ndarray:
    """Bool mask of frame ``f`` in ``rows`` x ``cols``: pixels whose RGB lies in [low, high] (inclusive)."""
    if isinstance(frames, RGBFrames):
        return frames.planes.within(f, rows, cols, tuple(low), tuple(high))
    window = frames[f, rows, cols]
    return ((window >= np.asarray(low)) & (window <= np.asarray(high))).all(axis=-1)


def near_color(frames: FrameSource, f: int, rows: slice, cols: slice, rgb: Sequence[int], tolerance: int = COLOR_TOLERANCE) -> np.ndarray:
    """:func:`color_mask` of one frame's window, through :func:`in_box`."""
    return in_box(frames, f, rows, cols, [max(c - tolerance, 0) for c in rgb], [min(c + tolerance, 255) for c in rgb])


def measure(frames: FrameSource, rgb: Sequence[int], size_px: float, min_pixels: int = 4) -> PixelTrack:
    """Per frame: the robust centroid and box of the pixels of color ``rgb``.

    The median of the matching pixels locates the object; only pixels within about its size of the
    median count, so a few stray pixels of a similar color elsewhere do not move the centroid.
    Decoded planes (:class:`RGBFrames`) are measured window by window (:func:`_measure_planes`),
    with the same result wherever the object is in view; a frame showing only a few stray pixels
    of the color, too few for the search grid to meet, counts as not showing it.
    """
    if isinstance(frames, RGBFrames):
        return _measure_planes(frames.planes, rgb, size_px, min_pixels)
    track = _empty_track(len(frames))
    for start in range(0, len(frames), MASK_CHUNK):
        for f, mask in enumerate(color_mask(frames[start : start + MASK_CHUNK], rgb), start):
            ys, xs = np.nonzero(mask)
            _centroid(track, f, xs, ys, 0.8 * size_px + 3, min_pixels)
    return track


def _empty_track(n: int) -> PixelTrack:
    return PixelTrack(*(np.full(n, np.nan) for _ in range(7)))


def _centroid(track: PixelTrack, f: int, xs: np.ndarray, ys: np.ndarray, reach: float, min_pixels: int) -> None:
    """Frame ``f`` of ``track`` from the pixel columns ``xs`` and rows ``ys`` of the color."""
    if xs.size < min_pixels:
        track.area[f] = xs.size
        return
    mx, my = np.median(xs), np.median(ys)
    near = (np.abs(xs - mx) <= reach) & (np.abs(ys - my) <= reach)
    xs, ys = xs[near], ys[near]
    if xs.size < min_pixels:
        return
    track.x[f], track.y[f], track.area[f] = xs.mean() + 0.5, ys.mean() + 0.5, xs.size
    track.x0[f], track.x1[f], track.y0[f], track.y1[f] = xs.min(), xs.max(), ys.min(), ys.max()


def _measure_planes(planes: VideoPlanes, rgb: Sequence[int], size_px: float, min_pixels: int) -> PixelTrack:
    """:func:`measure` on decoded planes, all frames at once, testing colors only round the object.

    Every ``step``-th pixel of every frame is tested first (``step`` about a quarter of the object's
    size, so the object always has tested pixels in it). Each frame's window is centered on those
    hits and holds all of them and whatever counts as the object round its median; only the
    windows' pixels are tested, all frames' at once. Where the hits lie further apart than the object is
    wide (stray pixels of a similar color elsewhere, e.g. blends at other objects' edges) or the
    pixels found touch the window's edge, the frame's whole box of hits is tested instead, with a
    wider margin. A frame without hits has none of the color (area 0).
    """
    n, height, width = len(planes), planes.height, planes.width
    low = tuple(max(c - COLOR_TOLERANCE, 0) for c in rgb)
    high = tuple(min(c + COLOR_TOLERANCE, 255) for c in rgb)
    reach = 0.8 * size_px + 3
    step = 2 ** int(np.clip(np.log2(max(size_px / 4, 2)), 1, 4))
    coarse = in_rgb_box(
        planes.y[:, ::step, ::step], planes.u[:, :: step // 2, :: step // 2], planes.v[:, :: step // 2, :: step // 2], low, high
    )
    rows_hit, cols_hit = coarse.any(axis=2), coarse.any(axis=1)
    seen = rows_hit.any(axis=1)
    r0, r1 = rows_hit.argmax(axis=1) * step, (rows_hit.shape[1] - 1 - rows_hit[:, ::-1].argmax(axis=1)) * step
    c0, c1 = cols_hit.argmax(axis=1) * step, (cols_hit.shape[1] - 1 - cols_hit[:, ::-1].argmax(axis=1)) * step
    spread = np.maximum(r1 - r0, c1 - c0)
    stray = seen & (spread > 2 * size_px)  # hits further apart than the object is wide
    # The window holds every hit of the widest spread in the clip plus a step each side, and every
    # pixel within ``reach`` of the object (what counts as the object round its median). Even sides
    # and corners: each window's chroma is whole samples.
    widest = max(int(spread[seen & ~stray].max(initial=0)) + 2 * step, 2 * math.ceil(reach) + step)
    side = min(2 * ((widest + 1) // 2 + 1), height - height % 2, width - width % 2)
    track = _empty_track(n)
    track.area[~seen] = 0
    frames = np.flatnonzero(seen & ~stray)
    top = np.clip((r0 + r1)[frames] // 2 - side // 2, 0, height - side) // 2 * 2
    left = np.clip((c0 + c1)[frames] // 2 - side // 2, 0, width - side) // 2 * 2
    again = [int(f) for f in np.flatnonzero(stray)]
    if frames.size:
        again += _measure_windows(planes, track, frames, top, left, side, low, high, reach, min_pixels)
    margin = 2 * step + 2
    for f in sorted(again):
        box = slice(max(r0[f] - margin, 0), r1[f] + margin + 1), slice(max(c0[f] - margin, 0), c1[f] + margin + 1)
        ys, xs = np.nonzero(planes.within(f, *box, low, high))
        _centroid(track, f, xs + box[1].start, ys + box[0].start, reach, min_pixels)
    return track


def _measure_windows(planes, track, frames, top, left, side, low, high, reach, min_pixels) -> list[int]:
    """Fill ``track`` for ``frames`` from their windows (even top-left corners, even ``side``);
    returns the frames whose pixels of the color touch a window edge inside the frame."""
    half = side // 2
    y = np.stack([planes.y[f, t : t + side, c : c + side] for f, t, c in zip(frames, top, left)])
    u, v = (
        np.stack([p[f, t // 2 : t // 2 + half, c // 2 : c // 2 + half] for f, t, c in zip(frames, top, left)]) for p in (planes.u, planes.v)
    )
    mask = in_rgb_box_420(y, u, v, low, high)
    per_row, per_col = mask.sum(axis=2), mask.sum(axis=1)  # (F, side) pixel counts
    edge = ((per_row[:, 0] > 0) & (top > 0)) | ((per_row[:, -1] > 0) & (top + side < planes.height))
    edge |= ((per_col[:, 0] > 0) & (left > 0)) | ((per_col[:, -1] > 0) & (left + side < planes.width))
    again = [int(f) for f in frames[edge]]
    count = per_row.sum(axis=1)
    few = (count < min_pixels) & ~edge
    track.area[frames[few]] = count[few]
    ok = (count >= min_pixels) & ~edge
    frames, mask, per_row, per_col, count, top, left = frames[ok], mask[ok], per_row[ok], per_col[ok], count[ok], top[ok], left[ok]
    offset = np.arange(side)
    xs, ys = left[:, None] + offset, top[:, None] + offset
    mx, my = _median_index(per_col, count) + left, _median_index(per_row, count) + top
    near = mask & (np.abs(ys - my[:, None]) <= reach)[:, :, None] & (np.abs(xs - mx[:, None]) <= reach)[:, None, :]
    per_row, per_col = near.sum(axis=2), near.sum(axis=1)
    count = per_row.sum(axis=1)
    ok = count >= min_pixels
    frames, per_row, per_col, count, xs, ys = frames[ok], per_row[ok], per_col[ok], count[ok], xs[ok], ys[ok]
    track.x[frames] = (per_col * xs).sum(axis=1) / count + 0.5
    track.y[frames] = (per_row * ys).sum(axis=1) / count + 0.5
    track.area[frames] = count
    track.x0[frames], track.x1[frames] = _first(per_col, xs), _first(per_col[:, ::-1], xs[:, ::-1])
    track.y0[frames], track.y1[frames] = _first(per_row, ys), _first(per_row[:, ::-1], ys[:, ::-1])
    return again


def _median_index(counts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per row of ``counts`` (how many pixels at each offset), the median offset of those pixels,
    as ``np.median`` gives it (the mean of the two middle ones for an even number)."""
    cumulative = counts.cumsum(axis=1)
    lower = (cumulative > ((total - 1) // 2)[:, None]).argmax(axis=1)
    upper = (cumulative > (total // 2)[:, None]).argmax(axis=1)
    return (lower + upper) / 2


def _first(counts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Per row, the position of the first nonzero count."""
    return positions[np.arange(len(counts)), (counts > 0).argmax(axis=1)]


def palette_name(rgb: Sequence[float]) -> str:
    """The palette color nearest to ``rgb`` (largest per-channel difference)."""
    return min(COLORS, key=lambda name: max(abs(float(c) - float(v)) for c, v in zip(COLORS[name], rgb)))


def ink_pixels(frame: np.ndarray, strength: int = COLOR_TOLERANCE) -> np.ndarray:
    """(H, W) bool: pixels clearly darker than the white background in some channel (anything drawn)."""
    darkest = np.minimum(np.minimum(frame[..., 0], frame[..., 1]), frame[..., 2])  # much faster than min over a 3-wide axis
    return darkest < 255 - strength


def ink_bounds(frames: FrameSource, strength: int = COLOR_TOLERANCE) -> list[tuple[int, int, int, int] | None]:
    """Per frame, a box (top, bottom, left, right, inclusive) that holds every one of its
    :func:`ink_pixels`, found without converting the frame to RGB; None where it has none.

    On decoded planes it is the box of every pixel but the near-white ones, whose luma is at least
    :func:`_white_luma` and whose chroma is within ``NEUTRAL_CHROMA`` of grey (none of those decodes
    to ink): the ink and at most a pale, codec-tinted fringe round it. It comes from the extremes of
    luma and chroma along each frame's rows and columns, taken only in the region where any frame
    may have ink (:func:`_inked_region`). An RGB array gives whole frames.
    """
    n, height, width = frames.shape[:3]
    if not isinstance(frames, RGBFrames):
        return [(0, height - 1, 0, width - 1)] * n
    planes, white = frames.planes, _white_luma(strength)
    region = _inked_region(planes, white)
    if region is None:
        return [None] * n
    top, bottom, left, right = region
    y = planes.y[:, top : bottom + 1, left : right + 1]
    u, v = (p[:, top // 2 : bottom // 2 + 1, left // 2 : right // 2 + 1] for p in (planes.u, planes.v))
    lowest, highest = np.minimum(u, v), np.maximum(u, v)
    # A chroma sample covers two rows and two columns; the region starts on a sample's first ones.
    rows = (y.min(axis=2) < white) | np.repeat(_tinted(lowest.min(axis=2), highest.max(axis=2)), 2, axis=1)[:, : y.shape[1]]
    cols = (y.min(axis=1) < white) | np.repeat(_tinted(lowest.min(axis=1), highest.max(axis=1)), 2, axis=1)[:, : y.shape[2]]
    boxes = (_box_from(r, c) for r, c in zip(rows, cols))
    return [None if box is None else (box[0] + top, box[1] + top, box[2] + left, box[3] + left) for box in boxes]


def _inked_region(planes: VideoPlanes, white: int) -> tuple[int, int, int, int] | None:
    """The box (top and left even) of the pixels that are not near-white in some frame, from each
    pixel's extremes over all frames: cheap, and small for a slowly drifting object."""
    lowest = np.minimum(planes.u.min(axis=0), planes.v.min(axis=0))
    highest = np.maximum(planes.u.max(axis=0), planes.v.max(axis=0))
    tinted = np.repeat(np.repeat(_tinted(lowest, highest), 2, axis=0), 2, axis=1)[: planes.height, : planes.width]
    region = _box_of((planes.y.min(axis=0) < white) | tinted)
    if region is None:
        return None
    top, bottom, left, right = region
    return top - top % 2, bottom, left - left % 2, right


def _tinted(lowest: np.ndarray, highest: np.ndarray) -> np.ndarray:
    """Whether chroma (U and V) spanning [lowest, highest] leaves the near-grey range."""
    return (lowest < 128 - NEUTRAL_CHROMA) | (highest > 128 + NEUTRAL_CHROMA)


def _box_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the True pixels of a 2-D mask, inclusive; None if there are none."""
    return _box_from(mask.any(axis=1), mask.any(axis=0))


def _box_from(rows: np.ndarray, cols: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box of the pixels in both a marked row and a marked column; None if either has no mark."""
    rows, cols = np.flatnonzero(rows), np.flatnonzero(cols)
    if not rows.size or not cols.size:
        return None
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


@lru_cache(maxsize=4)
def _white_luma(strength: int) -> int:
    """The least luma from which no pixel with chroma within ``NEUTRAL_CHROMA`` of grey decodes to ink."""
    near = np.arange(128 - NEUTRAL_CHROMA, 128 + NEUTRAL_CHROMA + 1)
    y, u, v = (a.astype(np.uint8) for a in np.meshgrid(np.arange(256), near, near, indexing="ij"))
    inked = ink_pixels(yuv_to_rgb(y, u, v), strength).any(axis=(1, 2))  # per luma: some near-grey chroma gives ink
    return int(np.flatnonzero(inked)[-1]) + 1


LUMA = np.array([0.299, 0.587, 0.114])  # BT.601: H.264's yuv420p keeps luma at full resolution, color at half


def coverage(frame: np.ndarray, rgb: Sequence[int], tolerance: int | None = COLOR_TOLERANCE) -> np.ndarray:
    """(H, W) how much of each pixel the color ``rgb`` covers over the white background.

    How much is read from the luma, which H.264's yuv420p keeps at full resolution (it halves color),
    so edges stay sharp. With a ``tolerance``, only pixels whose color is a blend of ``rgb`` and white
    (within it per channel) count: other colors, a marker's or an outline's ink count as nothing.
    Without one, anything drawn counts as that color (for a region where nothing else is drawn).
    """
    toward = 255.0 - np.asarray(rgb, float)
    dark = 255.0 - frame.astype(float)
    alpha = np.clip(dark @ LUMA / float(toward @ LUMA), 0.0, 1.0)
    if tolerance is None:
        return alpha
    inked = alpha > 0.0  # the blend test only where something is drawn: most of a window is background
    blend = dark[inked]
    share = blend @ toward / float(toward @ toward)
    alpha[inked] = np.where(np.abs(blend - share[:, None] * toward).max(axis=-1) <= tolerance, alpha[inked], 0.0)
    return alpha


def canonical(alpha: np.ndarray, side: int = 32, span: float = 2.4) -> np.ndarray | None:
    """The coverage ``alpha`` around its centroid, resampled so that sqrt(area) spans side / span pixels:
    the object's outline at one scale, whatever its size and sub-pixel place (None if nothing is drawn)."""
    from PIL import Image

    area = float(alpha.sum())
    if area < 4:
        return None
    height, width = alpha.shape
    cx = (alpha * np.arange(width)).sum() / area + 0.5  # broadcast positions: no index grids to build
    cy = (alpha * np.arange(height)[:, None]).sum() / area + 0.5
    half = span * math.sqrt(area) / 2
    pad = int(math.ceil(half)) + 1  # the box may reach past the frame's edge: the background is empty
    padded = np.zeros((height + 2 * pad, width + 2 * pad), np.float32)  # several times faster than np.pad
    padded[pad:-pad, pad:-pad] = alpha
    image = Image.fromarray(padded)
    box = (cx - half + pad, cy - half + pad, cx + half + pad, cy + half + pad)
    return np.asarray(image.resize((side, side), Image.Resampling.BILINEAR, box=box))


def marker_angles(frames: FrameSource, track: PixelTrack, size_px: float, rgb: Sequence[int]) -> np.ndarray:
    """Per frame, the direction (degrees clockwise from 12 o'clock) from the object's color centroid to
    its rotation marker: the centroid of what its color leaves uncovered near its middle (the marker's
    white dot and ink ring; the gaps between a star's points cancel out by symmetry). Both points are
    fixed to the object, so the angle is its rotation up to a constant offset. Small objects at low
    resolution keep the dot's hole after H.264 even where its thin ring blurs into the color."""
    out = np.full(len(frames), np.nan)
    reach = MARKER_REACH * size_px
    found = np.flatnonzero(track.found)
    if not found.size:
        return out
    # One window size for every frame, holding the whole disc round the centroid (shifted inside the
    # frame at its edges): all frames' coverage is measured at once, pixels off the disc weigh 0.
    height, width = frames.shape[1], frames.shape[2]
    side = min(int(2 * reach) + 2, height, width)
    cx, cy = track.x[found], track.y[found]
    left = np.clip(np.maximum(cx - reach, 0).astype(int), 0, width - side)
    top = np.clip(np.maximum(cy - reach, 0).astype(int), 0, height - side)
    windows = np.stack([frames[f, t : t + side, c : c + side] for f, t, c in zip(found, top, left)])
    offset = np.arange(side) + 0.5
    xs, ys = (left[:, None] + offset)[:, None, :], (top[:, None] + offset)[:, :, None]
    on_disc = np.hypot(xs - cx[:, None, None], ys - cy[:, None, None]) <= reach
    uncovered = (1.0 - coverage(windows, rgb)) * on_disc
    total = uncovered.sum(axis=(1, 2))
    seen = total >= 1.0
    mx = (uncovered * xs).sum(axis=(1, 2))[seen] / total[seen]
    my = (uncovered * ys).sum(axis=(1, 2))[seen] / total[seen]
    out[found[seen]] = np.degrees(np.arctan2(mx - cx[seen], -(my - cy[seen])))
    return out


def wrapped(delta: np.ndarray) -> np.ndarray:
    return (delta + 180.0) % 360.0 - 180.0


SPEED_HALF, SPEED_MEDIAN = 3, 9  # :func:`speeds`' windows: the displacement over 2 x 3 frames, a running median of 9
# Frames at each end of a clip whose speed comes from windows the clip's ends cut short: a bounce
# there shortens most of the displacements their median sees, which no later frame outvotes.
SPEED_EDGE = SPEED_HALF + SPEED_MEDIAN // 2


def speeds(track: PixelTrack, half: int = SPEED_HALF, median: int = SPEED_MEDIAN) -> np.ndarray:
    """Speed at each frame (pixels/frame): the displacement over ``2 * half`` frames around it, then
    a running median over ``median`` frames.

    The renderer places objects on whole pixels, so a slow object moves in one-pixel jumps with
    still frames between them: per-frame steps would read as stops. Over a few frames the jumps
    average out; a bounce shortens the displacement of the few windows around it only, which the
    running median removes."""
    xy = filled(track)
    n = len(xy)
    if n <= 2 * half:
        return np.hypot(*np.diff(xy, axis=0).T)
    disp = np.hypot(*(xy[2 * half :] - xy[: -2 * half]).T) / (2 * half)
    disp = np.concatenate([np.full(half, disp[0]), disp, np.full(half, disp[-1])])
    pad = median // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(disp, pad, mode="edge"), median)
    return np.median(windows, axis=1)


def filled(track: PixelTrack) -> np.ndarray:
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


def named_objects(text: str, objects: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of the objects a text names ("the red square", or its color alone), in order of mention."""
    hits = []
    lowered = text.lower()
    for i, obj in enumerate(objects):
        if obj["shape"] in ("text",) or obj["id"].startswith("caption"):
            continue
        for phrase in (f"{obj['color']} {obj['shape']}", f"{obj['color']} ball"):
            at = lowered.find(phrase)
            if at >= 0:
                hits.append((at, i))
                break
    return [i for _, i in sorted(hits)]


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


def compass(dx: float, dy: float) -> str:
    angle = math.degrees(math.atan2(dx, -dy)) % 360.0
    return COMPASS[int(round(angle / 45.0)) % 8]


class PixelScene:
    """A row's decoded frames and lazily measured objects.

    ``frames`` are the clip's decoded planes (what the audit gives) or an (N, H, W, 3) RGB array;
    ``scene.frames`` indexes like the RGB array either way, ``scene.luma`` is the luma plane.
    """

    def __init__(self, row: dict[str, Any], frames: VideoPlanes | np.ndarray):
        self.row = row
        self.planes = frames if isinstance(frames, VideoPlanes) else None
        self.frames: FrameSource = RGBFrames(frames) if self.planes is not None else frames
        self.fps = float(row["fps"])
        self.width = self.frames.shape[2]
        self.height = self.frames.shape[1]
        self._tracks: dict[str, PixelTrack] = {}
        self._luma: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def luma(self) -> np.ndarray:
        """(N, H, W) luma of every frame (limited range: white 235, ink about 38)."""
        if self._luma is None:
            self._luma = self.planes.y if self.planes is not None else np.rint(luma(self.frames)).astype(np.uint8)
        return self._luma

    def track(self, obj: dict[str, Any]) -> PixelTrack:
        if obj["id"] not in self._tracks:
            track = measure(self.frames, obj["rgb"], obj["size"])
            if track.found.sum() < 0.9 * len(self.frames):
                raise Unreadable(f"the {describe(obj)} is found in only {int(track.found.sum())} of {len(self.frames)} frames")
            self._tracks[obj["id"]] = track
        return self._tracks[obj["id"]]

    def position(self, obj: dict[str, Any]) -> np.ndarray:
        return filled(self.track(obj))

    def still_threshold(self) -> float:
        """Pixels per frame below which the object counts as still."""
        return max(0.4, 0.0015 * self.width)

    def mean_speeds(self) -> list[float]:
        """Every object's mean speed (pixels per frame), in the row's order."""
        return [float(speeds(self.track(o)).mean()) for o in self.row["objects"]]

    def interval(self, start: int, end: int) -> str:
        """Frames ``start``..``end`` as an interval answer, in seconds."""
        return format_interval(round(start / self.fps, 3), round(end / self.fps, 3))


MAX_TRACE_BACK = 10  # frames: a motion too slow to trace back further starts where it is first seen


def motion_bounds(p: np.ndarray, still: float) -> tuple[int, int]:
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


def stop_frame(p: np.ndarray, still: float) -> int:
    """First frame from which the object stays where it ends (within ``still``, and at least a pixel:
    a neighbour passing close shifts a resting object's centroid by about half a pixel after H.264)."""
    away = np.flatnonzero(np.hypot(*(p - p[-1]).T) > max(still, 1.0))
    if not away.size:
        return 0
    return min(int(away[-1]) + 1, len(p) - 1)
