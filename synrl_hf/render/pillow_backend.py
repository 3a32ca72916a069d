"""The default renderer: each object is drawn once per appearance as an anti-aliased sprite, then
blended in at its position on every frame. Blending is cheap, so H.264 encoding stays the bottleneck.

A sprite is drawn SUPERSAMPLE times larger and box-averaged down: exact coverage anti-aliasing,
without the ringing of LANCZOS (which overshoots the palette colors along every edge, and the
color-based pixel audit then misses those pixels). Its colors and its coverage (alpha) are drawn on
two canvases: the color canvas is filled with the color of the object's rim, so averaging never
mixes in a color the object does not have, and no premultiplied-alpha conversion is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .. import shapes
from ..palette import BACKGROUND, COLORS, INK
from ..timeline import Timeline

SUPERSAMPLE = 4
ANGLE_STEP = 0.5  # degrees; sprites are cached per quantised angle
PAD = 2  # pixels around a sprite's drawing, for anti-aliasing


@lru_cache(maxsize=64)  # a few sizes per clip; loading a size parses the font again
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(px, 6))


@dataclass(frozen=True, eq=False)  # compared by identity: the cache hands out one object per look
class Sprite:
    """An object ready to blend: its center is pixel corner (cx, cy) of the arrays."""

    color_alpha: np.ndarray  # (h, w, 3) uint16: color * alpha
    inverse_alpha: np.ndarray  # (h, w, 1) uint16: 255 - alpha
    cx: int
    cy: int


def label_layout(shape: str, width: float, height: float) -> tuple[tuple[float, float], float]:
    """Where an object's label is drawn: (offset of the text's middle from the object's center, font
    size), in output pixels. A text object is its label; a container's name sits inside its top
    edge, so the box stays free for what it holds; other labels are centered."""
    if shape == "text":
        return (0.0, 0.0), height
    if shape == "box":
        return (0.0, -height / 2 + 0.12 * height), 0.16 * height
    return (0.0, 0.0), min(width, height) * 0.5


def drawn_size(size: float, height: float | None, resolution: int) -> tuple[float, float | None]:
    """An object's width and height in output pixels, as the renderer draws them (0.1 px steps)."""
    return round(size * resolution, 1), height and round(height * resolution, 1)


@lru_cache(maxsize=4096)
def sprite(shape: str, rgb: tuple[int, int, int], width: float, height: float | None, angle: float, marker: bool, label: str) -> Sprite:
    """One object drawn around its center, anti-aliased."""
    S = SUPERSAMPLE
    h = height if height is not None else width
    points = shapes.outline(shape, width, h, angle)
    extent = np.abs(points).max(axis=0)  # half width and half height of the outline
    texts = [(*label_layout(shape, width, h), label)] if label or shape == "text" else []
    if marker and shape != "text":
        m = np.abs(shapes.marker_center(width, angle)) + shapes.MARKER_RADIUS * width
        extent = np.maximum(extent, m)
    for (x, y), px, text in texts:
        left, top, right, bottom = _font(int(px * S)).getbbox(text, anchor="mm")
        extent = np.maximum(extent, [abs(x) + max(-left, right) / S, abs(y) + max(-top, bottom) / S])
    cx, cy = (int(math.ceil(e)) + PAD for e in extent)
    size = (2 * cx * S, 2 * cy * S)
    center = np.array([cx * S, cy * S], float)

    ink = INK
    rim = ink if shape in ("text", "card", "cup") else rgb  # the color along the object's edge
    colors = Image.new("RGB", size, rim)
    coverage = Image.new("L", size, 0)
    draw, mask = ImageDraw.Draw(colors), ImageDraw.Draw(coverage)
    if shape != "text":
        big = [tuple(p) for p in points * S + center]
        fill = (255, 255, 255) if shape == "box" else rgb
        outline = rgb if shape == "box" else ink if shape in ("card", "cup") else None
        draw.polygon(big, fill=fill, outline=outline, width=S * 2 if outline else 0)
        mask.polygon(big, fill=255)
        if marker:
            mx, my = shapes.marker_center(width * S, angle) + center
            r = shapes.MARKER_RADIUS * width * S
            draw.ellipse([mx - r, my - r, mx + r, my + r], fill=(255, 255, 255), outline=ink, width=S)
            mask.ellipse([mx - r, my - r, mx + r, my + r], fill=255)
    for (x, y), px, text in texts:
        position = (center[0] + x * S, center[1] + y * S)
        font = _font(int(px * S))
        draw.text(position, text, font=font, fill=ink, anchor="mm")
        mask.text(position, text, font=font, fill=255, anchor="mm")
    color = np.asarray(colors.reduce(S), dtype=np.uint16)
    alpha = np.asarray(coverage.reduce(S), dtype=np.uint16)[..., None]
    return Sprite(color * alpha, 255 - alpha, cx, cy)


def blend(frame: np.ndarray, tile: Sprite, left: int, top: int) -> None:
    """Blend ``tile`` into ``frame`` in place, its top-left corner at pixel (left, top)."""
    height, width = tile.inverse_alpha.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + width, frame.shape[1]), min(top + height, frame.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    source = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    region = frame[y0:y1, x0:x1]
    mixed = region * tile.inverse_alpha[source]
    mixed += tile.color_alpha[source]  # at most 255 * 255
    # round(mixed / 255) without a division: exact for 0 <= mixed <= 255 * 255, and 2x faster.
    mixed += 128
    mixed += mixed >> 8
    mixed >>= 8
    region[...] = mixed


def placements(objects: list, timeline: Timeline, frame: int, resolution: int) -> list[tuple[Sprite, int, int]]:
    """The sprites ``objects`` (bottom to top) show at ``frame``, each with its top-left pixel."""
    draws = []
    for obj in objects:
        track = timeline.tracks[obj.id]
        if not track.visible[frame]:
            continue
        shape, color, size = track.style_at(obj, frame)
        angle = round(float(track.angle[frame]) / ANGLE_STEP) * ANGLE_STEP % 360.0
        tile = sprite(shape, COLORS[color], *drawn_size(size, obj.height, resolution), angle, obj.marker, obj.label)
        # The sprite's center lands on the pixel corner nearest the track position.
        left = int(round(float(track.x[frame]) * resolution)) - tile.cx
        top = int(round(float(track.y[frame]) * resolution)) - tile.cy
        draws.append((tile, left, top))
    return draws


@lru_cache(maxsize=8)
def _background(resolution: int) -> np.ndarray:
    frame = np.empty((resolution, resolution, 3), np.uint8)
    frame[...] = BACKGROUND
    frame.flags.writeable = False
    return frame


def compose(draws: list[tuple[Sprite, int, int]], canvas: np.ndarray) -> np.ndarray:
    """Paint ``canvas`` with the background, then blend ``draws`` in order; returns ``canvas``."""
    # A copy of a ready background frame: broadcasting the RGB triple is ~10x slower.
    np.copyto(canvas, _background(canvas.shape[0]))
    for tile, left, top in draws:
        blend(canvas, tile, left, top)
    return canvas


class PillowRenderer:
    name = "pillow"

    def frames(self, timeline: Timeline, resolution: int) -> Iterator[np.ndarray]:
        objects = timeline.drawn_objects()
        previous_draws, previous = None, None
        for frame in range(timeline.num_frames):
            draws = placements(objects, timeline, frame, resolution)
            if draws != previous_draws:  # else nothing moved or changed: long-term scenes hold still often
                previous_draws = draws
                previous = compose(draws, np.empty((resolution, resolution, 3), np.uint8))
            yield previous.copy()  # the caller may keep or change its frame: ours stays intact

    def render_into(self, timeline: Timeline, resolution: int, out: np.ndarray) -> np.ndarray:
        """Draw every frame into ``out`` ((num_frames, resolution, resolution, 3) uint8) in place, with
        no per-frame allocation or copy: the online path, which keeps every frame it draws."""
        if out.shape != (timeline.num_frames, resolution, resolution, 3) or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 of shape {(timeline.num_frames, resolution, resolution, 3)}, got {out.dtype} {out.shape}")
        objects = timeline.drawn_objects()
        previous_draws = None
        for frame in range(timeline.num_frames):
            draws = placements(objects, timeline, frame, resolution)
            if draws == previous_draws:  # nothing moved or changed since the frame before
                out[frame] = out[frame - 1]
            else:
                compose(draws, out[frame])
            previous_draws = draws
        return out
