"""direction: answers re-derived from the track (displacement of each leg), drawn positions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from short_term_checks import assert_drawn_where_tracked, chosen_option, interval_frames, render_and_decode, scenes_of_kind

from synrl_hf.motion import COMPASS

FAMILY = "direction"


def moving_legs(track):
    """(start, end) frame runs where the object moves, and the compass heading of each."""
    moving = np.hypot(np.diff(track.x), np.diff(track.y)) > 1e-9
    legs, start = [], None
    headings = []
    for f, m in enumerate(moving):
        dx, dy = track.x[f + 1] - track.x[f], track.y[f + 1] - track.y[f]
        heading = COMPASS[round(math.degrees(math.atan2(dx, -dy)) / 45) % 8] if m else None
        if heading != (headings[-1] if headings else None) or (m and start is None):
            if start is not None:
                legs.append((start, f, headings[-1]))
            start = f if m else None
        headings.append(heading)
    if start is not None:
        legs.append((start, len(moving), headings[-1]))
    return legs


@pytest.mark.parametrize("kind, leg", [("first_leg", 0), ("second_leg", 1)])
def test_direction_is_the_legs_heading(kind, leg):
    for scene in scenes_of_kind(FAMILY, kind, count=30):
        legs = moving_legs(scene.timeline.tracks["obj0"])
        assert len(legs) == 2, (scene.seed, legs)
        assert chosen_option(scene.question) == legs[leg][2], scene.seed


def test_when_is_the_leg_with_the_asked_heading():
    for scene in scenes_of_kind(FAMILY, "when", count=30):
        heading = next(
            d
            for d in sorted(COMPASS, key=len, reverse=True)
            if f"moving {d}?" in scene.question.text or f"head {d}?" in scene.question.text
        )
        legs = {h: (s, e) for s, e, h in moving_legs(scene.timeline.tracks["obj0"])}
        start, end = interval_frames(scene.question, 30)
        assert abs(start - legs[heading][0]) <= 1 and abs(end - legs[heading][1]) <= 1, (scene.seed, legs, start, end)


def test_drawn_where_tracked():
    row, frames = render_and_decode(FAMILY, 2)
    assert_drawn_where_tracked(row, frames, [0, len(frames) // 2, len(frames) - 1])
