"""What a viewer must be able to see: the thresholds of the families' perceptual contracts.

A label is only worth training on if a careful person watching the clip would give it too. Each
family states, in a module constant ``PERCEPTUAL_CONTRACT`` (question kind → what must be visible),
the rules its clips keep, written with the thresholds here (the long-term families share the rules
of :func:`synrl_hf.longterm.perceptual_rules`); tests/test_perceptual_contract.py checks every rule
on decoded frames (render → H.264 → decode → measure with :mod:`synrl_hf.pixels`) for both presets
at the default resolution and at 128 px.

Distances are fractions of the frame side (the canvas is the unit square); :func:`px` states one in
pixels at the default resolution, at 128 px and at the smallest resolution a build allows. Times are
frames at 30 FPS.
"""

from __future__ import annotations

from .render.base import MIN_RESOLUTION

DEFAULT_RESOLUTION = 448
RESOLUTIONS = (DEFAULT_RESOLUTION, 128, MIN_RESOLUTION)  # where a contract states its pixel thresholds

CONTACT_GAP = 0.004  # of the frame side between two outlines, or an outline and the wall, at a contact: a touch
MIN_COUNT_GAP = 10  # frames (1/3 s) between two counted events of one object: wall contacts, hops, passes
MIN_STOP_PATH = 0.05  # of the frame side: how far an object travels before any stop a question names
SHAPE_AREA_TOLERANCE = 0.25  # a shape change keeps the drawn area within this share
MIN_SIZE_AREA_RATIO = 1.4  # a size change alters the drawn area at least this much (either way)
COLOR_AREA_TOLERANCE = 0.1  # a color change keeps the drawn area within this share (H.264 edges blur)
MIN_TURN_RADIUS = 1.0  # of the object's size: the tightest bend of a curved path, so its inner turns stay open
LUMA_STEP = 40  # a pixel whose luma changes more than this between two frames has visibly changed
STILL_NOISE = 0.0005  # share of a still picture's pixels H.264 may change by LUMA_STEP between two frames
MIN_INK_HEIGHT = 0.65  # of the font size: how tall a caption's ink is at least (lower case, at 128 px, after H.264)


def px(fraction: float) -> str:
    """A length given as a fraction of the frame side, in pixels at each of :data:`RESOLUTIONS`."""
    return ", ".join(f"{fraction * r:.3g} px at {r}" for r in RESOLUTIONS)


def seconds(frames: int) -> str:
    return f"{frames} frames ({frames / 30:.2f} s)"
