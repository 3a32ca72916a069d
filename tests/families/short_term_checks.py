"""Checks shared by the short-term family tests: scenes per question kind, answers as frames, and
where an object is actually drawn in the decoded video."""

from __future__ import annotations

import json
import math

import numpy as np
from scipy import ndimage

from synrl_hf import build_scene, generate_sample, read_frames, shapes
from synrl_hf.palette import INK
from synrl_hf.questions import LETTERS
from synrl_hf.sample import plan_scene

COLOR_TOLERANCE = 60  # per channel, after H.264 and chroma subsampling
POSITION_TOLERANCE = 3.0  # pixels at 128 x 128


def scenes_of_kind(family, kind, count=40, preset="round1", seed=0, limit=2000):
    """The first ``count`` scenes of ``family`` whose question is of ``kind`` (only those are simulated)."""
    found = []
    for index in range(limit):
        if plan_scene(family, index, seed=seed, preset=preset)["kind"] != kind:
            continue
        scene = build_scene(family, index, seed=seed, preset=preset)
        if scene.question.kind == kind:
            found.append(scene)
            if len(found) == count:
                return found
    raise AssertionError(f"only {len(found)} {kind!r} scenes of {family} in {limit} indices")


def chosen_option(question):
    return question.options[LETTERS.index(question.answer)]


def interval_frames(question, fps):
    start, end = json.loads(question.answer)
    return round(start * fps), round(end * fps)


def steps(track):
    """Distance moved from each frame to the next (canvas units)."""
    return np.hypot(np.diff(track.x), np.diff(track.y))


def constant_speed(track):
    """Speed of a constant-speed object: a bounce only shortens the one step it falls in."""
    return steps(track).max()


def assert_position_unrelated_to_speed(scenes):
    """Where an object is in the first, middle or last frame (distance from the frame center) does
    not correlate with its speed: a single frame cannot tell a fast object from a slow one."""
    speed, where = [], {0: [], 1: [], 2: []}
    for scene in scenes:
        tl = scene.timeline
        for obj in tl.objects:
            track = tl.tracks[obj.id]
            speed.append(np.log(constant_speed(track)))
            for i, f in enumerate((0, tl.num_frames // 2, tl.num_frames - 1)):
                where[i].append(np.hypot(track.x[f] - 0.5, track.y[f] - 0.5))
    for positions in where.values():
        assert abs(np.corrcoef(speed, positions)[0, 1]) < 0.2


def _segments_cross(p, q):
    """Whether any edge of closed polygon ``p`` properly crosses any edge of ``q``."""
    a, b = p, np.roll(p, -1, axis=0)
    c, d = q, np.roll(q, -1, axis=0)

    def side(o, u, v):  # sign of the cross product (u - o) x (v - o), broadcast edges of p against q
        return np.sign((u[..., 0] - o[..., 0]) * (v[..., 1] - o[..., 1]) - (u[..., 1] - o[..., 1]) * (v[..., 0] - o[..., 0]))

    a, b, c, d = a[:, None], b[:, None], c[None], d[None]
    return bool(np.any((side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)))


def _inside(point, polygon):
    """Even-odd rule: whether ``point`` lies inside ``polygon``."""
    x, y = point
    xs, ys = polygon[:, 0], polygon[:, 1]
    xe, ye = np.roll(xs, -1), np.roll(ys, -1)
    crosses = (ys > y) != (ye > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = xs + (y - ys) * (xe - xs) / (ye - ys)
    return bool(np.count_nonzero(crosses & (x < at)) % 2)


def outlines_overlap(p, q):
    return _segments_cross(p, q) or _inside(p[0], q) or _inside(q[0], p)


def drawn_outline(obj, track, frame):
    shape, _, size = track.style_at(obj, frame)
    return shapes.outline(shape, size, obj.height, float(track.angle[frame])) + [track.x[frame], track.y[frame]]


def assert_never_overlap(timeline):
    """No two objects' drawn outlines ever overlap (they may touch, when one bounces off the other)."""
    objects = timeline.objects
    for i, a in enumerate(objects):
        for b in objects[i + 1 :]:
            ta, tb = timeline.tracks[a.id], timeline.tracks[b.id]
            near = np.hypot(ta.x - tb.x, ta.y - tb.y) < (a.size + b.size) * shapes.MAX_RADIUS * 1.6  # generous: sizes may change
            for f in np.flatnonzero(near & ta.visible & tb.visible):
                assert not outlines_overlap(drawn_outline(a, ta, f), drawn_outline(b, tb, f)), (a.id, b.id, int(f))


def color_centroid(frame, rgb, marker=False):
    """Center of the largest blob of ``rgb`` (stray pixels of a similar color elsewhere are ignored).

    With ``marker``, the rotation marker (an ink ring around a white dot) counts as part of the object.
    """
    mask = np.abs(frame.astype(int) - np.array(rgb)).max(axis=-1) <= COLOR_TOLERANCE
    if marker:
        mask = ndimage.binary_fill_holes(mask | (np.abs(frame.astype(int) - np.array(INK)).max(axis=-1) <= COLOR_TOLERANCE))
    labels, count = ndimage.label(mask)
    if count > 1:
        mask = labels == 1 + np.argmax(np.bincount(labels.ravel())[1:])
    ys, xs = np.nonzero(mask)
    assert xs.size, f"no pixel of color {rgb}"
    # Pixel (i, j) covers [j, j + 1) x [i, i + 1): its center is half a pixel in.
    return xs.mean() + 0.5, ys.mean() + 0.5


def render_and_decode(family, index, seed=0, resolution=128, **kwargs):
    row = generate_sample(family, index, seed, resolution=resolution, **kwargs)
    return row, read_frames(row["video"]).frames


def assert_drawn_where_tracked(row, frames, frame_indices, tolerance=POSITION_TOLERANCE, marker=False):
    """Every object's color centroid in the decoded frames sits at its exported track position."""
    assert len(frames) == row["num_frames"]
    tracks = {t["object"]: t for t in row["tracks"]}
    for obj in row["objects"]:
        track = tracks[obj["id"]]
        for f in frame_indices:
            x, y = color_centroid(frames[f], obj["rgb"], marker)
            assert math.hypot(x - track["x"][f], y - track["y"][f]) <= tolerance, (obj["id"], f, (x, y), (track["x"][f], track["y"][f]))
