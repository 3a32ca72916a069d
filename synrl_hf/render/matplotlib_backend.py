"""The paper's renderer: matplotlib patches on one Agg figure, redrawn for every frame.

It draws the same geometry as the Pillow backend (outlines from ``synrl_hf.shapes``) with matplotlib's
anti-aliasing, so clips look like the paper's. It is several times slower than Pillow; use it to
reproduce the paper's look, not for bulk builds. Needs the ``paper-renderer`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import shapes
from ..palette import BACKGROUND, COLORS, INK
from ..timeline import SceneObject, Timeline

DPI = 100
OUTLINE_PX = 2.0  # outline width of cards, cups and boxes, as in the Pillow backend
MARKER_OUTLINE_PX = 1.0
OUTLINED = ("box", "card", "cup")


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle, Polygon
    except ImportError as error:
        raise ImportError('the matplotlib renderer needs matplotlib: pip install "synrl-hf[paper-renderer]"') from error
    return FigureCanvasAgg, Figure, Circle, Polygon


def _rgb(color: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(c / 255.0 for c in color)


class _Drawn:
    """The artists of one object, made once and updated every frame."""

    def __init__(self, axes, obj: SceneObject, zorder: int, px_to_pt: float, Circle, Polygon) -> None:
        self.obj = obj
        self.px_to_pt = px_to_pt
        self.polygon = Polygon(np.zeros((3, 2)), closed=True, antialiased=True, snap=False, zorder=zorder, joinstyle="miter")
        axes.add_patch(self.polygon)
        self.marker = None
        if obj.marker:
            self.marker = Circle(
                (0, 0),
                1.0,
                facecolor="white",
                edgecolor=_rgb(INK),
                linewidth=MARKER_OUTLINE_PX * px_to_pt,
                antialiased=True,
                zorder=zorder + 1,
            )
            axes.add_patch(self.marker)
        self.label = None
        if obj.label:
            self.label = axes.text(0, 0, obj.label, color=_rgb(INK), ha="center", va="center", zorder=zorder + 2, antialiased=True)
        self.style: tuple[Any, ...] | None = None

    def hide(self) -> None:
        for artist in (self.polygon, self.marker, self.label):
            if artist is not None:
                artist.set_visible(False)

    def update(self, shape: str, color: str, width: float, height: float, angle: float, x: float, y: float) -> None:
        rgb = _rgb(COLORS[color])
        style = (shape, color)
        if style != self.style:
            self.style = style
            if shape == "box":
                self.polygon.set_facecolor("white")
                self.polygon.set_edgecolor(rgb)
                self.polygon.set_linewidth(OUTLINE_PX * self.px_to_pt)
            elif shape in OUTLINED:
                self.polygon.set_facecolor(rgb)
                self.polygon.set_edgecolor(_rgb(INK))
                self.polygon.set_linewidth(OUTLINE_PX * self.px_to_pt)
            else:
                self.polygon.set_facecolor(rgb)
                self.polygon.set_edgecolor("none")
                self.polygon.set_linewidth(0)
        is_text = shape == "text"
        self.polygon.set_visible(not is_text)
        if not is_text:
            # Pillow draws an outline inside the shape; matplotlib strokes centered on the path. Stroking
            # a path inset by half the line width puts the outline's outer edge on the shape's edge.
            inset = OUTLINE_PX if shape in OUTLINED else 0.0
            self.polygon.set_xy(shapes.outline(shape, width - inset, height - inset, angle) + (x, y))
        if self.marker is not None:
            self.marker.set_visible(not is_text)
            mx, my = shapes.marker_center(width, angle) + (x, y)
            self.marker.set_center((mx, my))
            # Its ink outline lies inside the dot, as Pillow draws it: the outer edge is at MARKER_RADIUS.
            self.marker.set_radius(shapes.MARKER_RADIUS * width - MARKER_OUTLINE_PX / 2)
        if self.label is not None:
            self.label.set_visible(True)
            if is_text:
                font_px, position = height, (x, y)
            elif shape == "box":
                # A container's name sits inside its top edge, as in the Pillow backend.
                font_px, position = 0.16 * height, (x, y - height / 2 + 0.12 * height)
            else:
                font_px, position = 0.5 * min(width, height), (x, y)
            self.label.set_position(position)
            self.label.set_fontsize(max(font_px, 1.0) * self.px_to_pt)


class MatplotlibRenderer:
    name = "matplotlib"

    def __init__(self) -> None:
        _matplotlib()  # fail now, with the install hint, rather than at the first frame

    def frames(self, timeline: Timeline, resolution: int) -> Iterator[np.ndarray]:
        FigureCanvasAgg, Figure, Circle, Polygon = _matplotlib()
        figure = Figure(figsize=(resolution / DPI, resolution / DPI), dpi=DPI, facecolor=_rgb(BACKGROUND))
        canvas = FigureCanvasAgg(figure)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, resolution)
        axes.set_ylim(resolution, 0)  # y points down, as in the timeline and on screen
        axes.set_axis_off()
        axes.set_facecolor(_rgb(BACKGROUND))
        px_to_pt = 72.0 / DPI
        drawn = [_Drawn(axes, obj, 3 * rank + 1, px_to_pt, Circle, Polygon) for rank, obj in enumerate(timeline.drawn_objects())]
        for frame in range(timeline.num_frames):
            for item in drawn:
                track = timeline.tracks[item.obj.id]
                if not track.visible[frame]:
                    item.hide()
                    continue
                shape, color, size = track.style_at(item.obj, frame)
                width = size * resolution
                height = item.obj.height * resolution if item.obj.height is not None else width
                item.update(
                    shape,
                    color,
                    width,
                    height,
                    float(track.angle[frame]),
                    float(track.x[frame]) * resolution,
                    float(track.y[frame]) * resolution,
                )
            canvas.draw()
            image = np.asarray(canvas.buffer_rgba())[..., :3]
            if image.shape != (resolution, resolution, 3):
                raise RuntimeError(f"matplotlib drew a {image.shape} frame, expected {resolution}x{resolution}")
            yield image.copy()
