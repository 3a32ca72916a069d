"""The default renderer: each object is drawn once per appearance as an anti-aliased RGBA sprite,
then pasted at its position on every frame. Pasting is cheap, so H.264 encoding stays the bottleneck.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..palette import BACKGROUND, COLORS, INK
from ..timeline import Timeline
from . import geometry

SUPERSAMPLE = 4
ANGLE_STEP = 0.5  # degrees; sprites are cached per quantised angle


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(px, 6))


@lru_cache(maxsize=4096)
def sprite(shape: str, rgb: tuple[int, int, int], width: float, height: float | None, angle: float, marker: bool, label: str) -> Image.Image:
    """An RGBA image of one object, its center at the image center."""
    h = height if height is not None else width
    side = int(np.ceil(max(width, h) * 1.5)) + 4  # room for any rotation
    big = side * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    center = np.array([big / 2, big / 2])
    ink = INK + (255,)
    if shape == "text":
        draw.text(tuple(center), label, font=_font(int(h * SUPERSAMPLE)), fill=ink, anchor="mm")
    else:
        points = geometry.outline(shape, width * SUPERSAMPLE, h * SUPERSAMPLE, angle) + center
        fill = (255, 255, 255, 255) if shape == "box" else rgb + (255,)
        outline_color = rgb + (255,) if shape == "box" else ink if shape in ("card", "cup") else None
        draw.polygon([tuple(p) for p in points], fill=fill, outline=outline_color, width=SUPERSAMPLE * 2 if outline_color else 0)
        if marker:
            mx, my = geometry.marker_center(width * SUPERSAMPLE, angle) + center
            r = geometry.MARKER_RADIUS * width * SUPERSAMPLE
            draw.ellipse([mx - r, my - r, mx + r, my + r], fill=(255, 255, 255, 255), outline=ink, width=SUPERSAMPLE)
        if label and shape != "box":
            draw.text(tuple(center), label, font=_font(int(min(width, h) * 0.5 * SUPERSAMPLE)), fill=ink, anchor="mm")
        elif label:
            # A container's name sits inside its top edge, so the box stays free for what it holds.
            top = center[1] - h * SUPERSAMPLE / 2 + 0.12 * h * SUPERSAMPLE
            draw.text((center[0], top), label, font=_font(int(0.16 * h * SUPERSAMPLE)), fill=ink, anchor="mm")
    return image.resize((side, side), Image.Resampling.LANCZOS)


class PillowRenderer:
    name = "pillow"

    def frames(self, timeline: Timeline, resolution: int) -> Iterator[np.ndarray]:
        background = Image.new("RGB", (resolution, resolution), BACKGROUND)
        objects = timeline.drawn_objects()
        for frame in range(timeline.num_frames):
            image = background.copy()
            for obj in objects:
                track = timeline.tracks[obj.id]
                if not track.visible[frame]:
                    continue
                shape, color, size = track.style_at(obj, frame)
                angle = round(float(track.angle[frame]) / ANGLE_STEP) * ANGLE_STEP % 360.0
                height = obj.height * resolution if obj.height is not None else None
                tile = sprite(shape, COLORS[color], round(size * resolution, 1), height and round(height, 1), angle, obj.marker, obj.label)
                x = float(track.x[frame]) * resolution - tile.width / 2
                y = float(track.y[frame]) * resolution - tile.height / 2
                image.paste(tile, (int(round(x)), int(round(y))), tile)
            yield np.asarray(image)
