"""Both renderer backends draw the same geometry: every object where its track says, within 1 px.

Objects are found by their palette color (the colors are far apart), on a few frames of a scene from
every registered family, at the smallest common and the default resolution.
"""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf import FAMILIES, build_scene, shapes
from synrl_hf.palette import BACKGROUND, COLORS, INK
from synrl_hf.render import get_renderer
from synrl_hf.timeline import SceneObject, StyleChange, Timeline, Track

pytest.importorskip("matplotlib")

BACKENDS = ("pillow", "matplotlib")
RESOLUTIONS = (128, 448)
FRAMES_PER_SCENE = 4
COLOR_TOLERANCE = 32  # max per-channel distance from the palette color for a pixel to count as the object
BLEND_TOLERANCE = 6  # max per-channel distance from a color/background blend for a pixel to count as one


# --- helpers ------------------------------------------------------------------------------
def timeline_slice(timeline: Timeline, frames: list[int]) -> Timeline:
    """The same scene at only ``frames`` (sorted), so a test renders a few frames, not a clip."""
    idx = np.asarray(frames)
    tracks = {}
    for oid, track in timeline.tracks.items():
        # A change at frame f applies to the kept frames at or after f.
        changes = [StyleChange(int(np.searchsorted(idx, c.frame)), c.shape, c.color, c.size) for c in track.style_changes]
        tracks[oid] = Track(track.x[idx], track.y[idx], track.angle[idx], track.visible[idx], changes)
    return Timeline(timeline.fps, len(idx), list(timeline.objects), tracks)


def render(backend: str, timeline: Timeline, resolution: int) -> list[np.ndarray]:
    return list(get_renderer(backend).frames(timeline, resolution))


def color_mask(frame: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.abs(frame.astype(np.int16) - np.array(rgb, np.int16)).max(axis=-1) <= COLOR_TOLERANCE


def coverage(frame: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """How much of each pixel the color covers, from anti-aliased blends of it with the background.

    Pixels that are not such a blend (other objects, ink, mixes with other colors) count as 0, so
    edges weigh in by their coverage and the centroid is not quantised to whole pixels.
    """
    background = np.array(BACKGROUND, float)
    towards = background - np.array(rgb, float)
    away = background - frame.astype(float)
    alpha = away @ towards / (towards @ towards)
    residual = np.abs(away - alpha[..., None] * towards).max(axis=-1)
    return np.where((residual <= BLEND_TOLERANCE) & (alpha >= 0.1), np.clip(alpha, 0.0, 1.0), 0.0)


def centroid(weights: np.ndarray) -> np.ndarray | None:
    total = weights.sum()
    if total < 1.0:
        return None
    ys, xs = np.indices(weights.shape)
    # Pixel i covers [i, i+1): its center is i + 0.5.
    return np.array([(weights * xs).sum() / total + 0.5, (weights * ys).sum() / total + 0.5])


def drawn_geometry(obj: SceneObject, track: Track, frame: int, resolution: int):
    shape, color, size = track.style_at(obj, frame)
    width = size * resolution
    height = obj.height * resolution if obj.height is not None else width
    center = np.array([track.x[frame], track.y[frame]]) * resolution
    points = shapes.outline(shape, width, height, float(track.angle[frame])) + center
    return shape, color, width, center, points


def footprint(frame: np.ndarray) -> np.ndarray:
    """How much of each pixel anything covers (color or ink): every palette color has a dark channel."""
    darkest = (np.array(BACKGROUND, float) - frame.astype(float)).max(axis=-1)
    return np.clip(darkest / (255.0 - INK[0]), 0.0, 1.0)


def measure(obj: SceneObject, shape: str) -> str:
    """How an object is found: by its color, by its footprint (color + ink inside it), or as ink text.

    Labels are drawn with each backend's own font, so an object with one inside is found by its
    footprint (labels and ink outlines lie inside the outline); a box is found by its colored frame.
    """
    if shape == "text":
        return "text"
    if shape != "box" and not obj.marker and (obj.label or shape in ("card", "cup")):
        return "footprint"
    return "color"


def expected_centroid(obj: SceneObject, track: Track, frame: int, resolution: int, step: float = 0.125) -> np.ndarray:
    """Where the object's measured pixels should be centered: its outline's area, less the marker dot."""
    from matplotlib.path import Path

    shape, _, width, center, points = drawn_geometry(obj, track, frame, resolution)
    if shape in ("box", "text"):  # a colored frame around a white inside; a centered word
        return center
    lo, hi = points.min(axis=0), points.max(axis=0)
    xs, ys = np.meshgrid(np.arange(lo[0], hi[0], step) + step / 2, np.arange(lo[1], hi[1], step) + step / 2)
    samples = np.stack([xs.ravel(), ys.ravel()], axis=1)
    inside = Path(points).contains_points(samples)
    if obj.marker:
        marker = shapes.marker_center(width, float(track.angle[frame])) + center
        # The dot's ink outline blends into the color over about half a pixel: that is not the color either.
        inside &= np.hypot(*(samples - marker).T) > shapes.MARKER_RADIUS * width + 0.5
    return samples[inside].mean(axis=0)


def extent(obj: SceneObject, track: Track, frame: int, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box of what the object draws; a word's width depends on the font, so it is padded."""
    shape, _, _, _, points = drawn_geometry(obj, track, frame, resolution)
    lo, hi = points.min(axis=0), points.max(axis=0)
    if shape == "text":
        pad = np.array([0.5, 0.25]) * (hi[1] - lo[1])
        lo, hi = lo - pad, hi + pad
    return lo, hi


def inside_box(other: SceneObject, track: Track, frame: int, resolution: int, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether [lo, hi] lies in the empty inside of a box (within its frame, below its name)."""
    shape, _, _, _, points = drawn_geometry(other, track, frame, resolution)
    if shape != "box" or float(track.angle[frame]) % 90:
        return False
    b_lo, b_hi = points.min(axis=0) + 3, points.max(axis=0) - 3
    b_lo[1] += 0.25 * (points[:, 1].max() - points[:, 1].min())  # the box's name sits inside its top edge
    return bool((lo >= b_lo).all() and (hi <= b_hi).all())


def window(timeline: Timeline, obj: SceneObject, frame: int, resolution: int, margin: int = 2) -> tuple[slice, slice] | None:
    """Pixels around ``obj`` where what is measured is its own, or None: then it cannot be told apart.

    The object must be drawn in full. Within ``margin`` pixels of it no object may be drawn on top; for
    a color measure none of the same color may show, for the others nothing else may show. An object
    wholly under it (a box under its lid) is fine, and so is a box around it.
    """
    order = {o.id: rank for rank, o in enumerate(timeline.drawn_objects())}
    track = timeline.tracks[obj.id]
    shape, color, _, _, points = drawn_geometry(obj, track, frame, resolution)
    kind = measure(obj, shape)
    lo, hi = extent(obj, track, frame, resolution)
    lo, hi = np.floor(lo) - margin, np.ceil(hi) + margin
    if (lo < 0).any() or (hi > resolution).any():
        return None
    axis_aligned_fill = shape in ("square", "card") and float(track.angle[frame]) % 90 == 0
    for other in timeline.objects:
        other_track = timeline.tracks[other.id]
        if other is obj or not other_track.visible[frame]:
            continue
        o_lo, o_hi = extent(other, other_track, frame, resolution)
        if not ((lo < o_hi) & (o_lo < hi)).all() or inside_box(other, other_track, frame, resolution, lo, hi):
            continue
        above = order[other.id] > order[obj.id]
        covered = not above and axis_aligned_fill and (o_lo >= points.min(axis=0) - 0.5).all() and (o_hi <= points.max(axis=0) + 0.5).all()
        if above or (not covered and (kind != "color" or other_track.style_at(other, frame)[1] == color)):
            return None
    return slice(int(lo[1]), int(hi[1])), slice(int(lo[0]), int(hi[0]))


def measured_centroid(frame: np.ndarray, obj: SceneObject, track: Track, k: int, region: tuple[slice, slice]) -> np.ndarray | None:
    shape, color, _ = track.style_at(obj, k)
    patch = frame[region]
    weights = coverage(patch, COLORS[color]) if measure(obj, shape) == "color" else footprint(patch)
    found = centroid(weights)
    return None if found is None else found + np.array([region[1].start, region[0].start])


def tolerance(obj: SceneObject, track: Track, k: int, resolution: int) -> float:
    """1 px; for a word, half its height: the backends' fonts differ, and a word's ink is not centered."""
    shape, _, _ = track.style_at(obj, k)
    if shape != "text":
        return 1.0
    _, _, width, _, _ = drawn_geometry(obj, track, k, resolution)
    height = obj.height * resolution if obj.height is not None else width
    return max(1.0, 0.5 * height)


def scene_frames(family: str) -> tuple[Timeline, list[int]]:
    timeline = build_scene(family, 0, seed=0).timeline
    frames = np.unique(np.linspace(0, timeline.num_frames - 1, FRAMES_PER_SCENE).round().astype(int)).tolist()
    return timeline, frames


# --- backend agreement --------------------------------------------------------------------
@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_backends_draw_the_same_geometry(family: str, resolution: int) -> None:
    full, frames = scene_frames(family)
    timeline = timeline_slice(full, frames)
    drawn = {backend: render(backend, timeline, resolution) for backend in BACKENDS}
    checked = 0
    for k in range(timeline.num_frames):
        where = f"{family} {resolution}px frame {frames[k]}"
        for backend in BACKENDS:
            frame = drawn[backend][k]
            assert frame.shape == (resolution, resolution, 3) and frame.dtype == np.uint8, backend
        visible = [o for o in timeline.objects if timeline.tracks[o.id].visible[k]]
        # Per color, over the whole frame: catches a missing or misplaced object where objects overlap or
        # share a color (both backends draw in the same z order). Looser than 1 px: where a color meets ink
        # or another color there is no blend with the background to weigh, so those edges are whole pixels.
        # Not where a label, drawn in each backend's own font, covers part of the color.
        labelled = {timeline.tracks[o.id].style_at(o, k)[1] for o in visible if o.label}
        for color in {timeline.tracks[o.id].style_at(o, k)[1] for o in visible} - labelled:
            a, b = (centroid(coverage(drawn[backend][k], COLORS[color])) for backend in BACKENDS)
            if a is None and b is None:  # e.g. a colored object wholly hidden under another
                continue
            assert a is not None and b is not None, f"{where}: {color} drawn by one backend only"
            assert np.abs(a - b).max() <= 2.0, f"{where} {color}: pillow {a} vs matplotlib {b}"
        # Per object, against the track and across backends, where the object can be told apart.
        for obj in visible:
            track = timeline.tracks[obj.id]
            region = window(timeline, obj, k, resolution)
            if region is None:
                continue
            want = expected_centroid(obj, track, k, resolution)
            limit = tolerance(obj, track, k, resolution)
            got = {backend: measured_centroid(drawn[backend][k], obj, track, k, region) for backend in BACKENDS}
            for backend, found in got.items():
                assert found is not None, f"{where} {backend}: {obj.id} not drawn"
                assert np.abs(found - want).max() <= limit, f"{where} {backend}: {obj.id} centroid {found}, track says {want}"
            assert np.abs(got["pillow"] - got["matplotlib"]).max() <= limit, f"{where} {obj.id}: {got}"
            checked += 1
    assert checked, f"{family}: no object could be checked against its track"


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("shape", [s for s in shapes.SHAPES if s != "text"])
def test_every_shape_same_geometry(shape: str, resolution: int) -> None:
    """Each outline, turned, with a marker or a label where the shape takes one, moving sub-pixel."""
    height = 0.3 if shape in ("card", "box", "cup") else None
    label = "7" if shape in ("card", "box") else ""
    obj = SceneObject("a", shape, "purple", 0.2, height=height, label=label, marker=shape not in ("box", "card"))
    track = Track(
        x=np.array([0.5, 0.4137, 0.61]),
        y=np.array([0.5, 0.5871, 0.393]),
        angle=np.array([0.0, 37.3, 250.0]),
        visible=np.ones(3, bool),
    )
    timeline = single(obj, track)
    drawn = {backend: render(backend, timeline, resolution) for backend in BACKENDS}
    for k in range(3):
        want = expected_centroid(obj, track, k, resolution)
        region = window(timeline, obj, k, resolution)
        for backend in BACKENDS:
            got = measured_centroid(drawn[backend][k], obj, track, k, region)
            assert np.abs(got - want).max() <= 1.0, f"{backend} {shape} frame {k}: centroid {got}, track says {want}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_is_drawn_in_ink_at_its_position(backend: str) -> None:
    obj = SceneObject("a", "text", "red", 0.1, label="Hello")
    (frame,) = render(backend, single(obj, Track.still(1, 0.4, 0.6)), 448)
    ink = np.abs(frame.astype(np.int16) - np.array(INK, np.int16)).max(axis=-1) <= 80
    assert not color_mask(frame, COLORS["red"]).any()
    xs = np.nonzero(ink.any(axis=0))[0]
    # The whole word is drawn (not clipped) and centered on the track position; fonts differ by backend.
    assert xs.max() - xs.min() > 2 * obj.size * 448
    assert np.abs(centroid(ink.astype(float)) - np.array([0.4, 0.6]) * 448).max() <= 0.2 * obj.size * 448


def single(obj: SceneObject, track: Track) -> Timeline:
    return Timeline(30, len(track.x), [obj], {obj.id: track})


# --- visibility and rotation --------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_invisible_object_draws_nothing(backend: str) -> None:
    objects = [
        SceneObject("a", "square", "red", 0.2, marker=True),
        SceneObject("b", "card", "blue", 0.15, height=0.25, label="7"),
        SceneObject("c", "box", "green", 0.3, height=0.3, label="A"),
        SceneObject("d", "text", "red", 0.1, label="Hi"),
    ]
    tracks = {o.id: Track.still(1, 0.3 + 0.1 * i, 0.5, visible=False) for i, o in enumerate(objects)}
    (frame,) = render(backend, Timeline(30, 1, objects, tracks), 128)
    assert (frame == np.array(BACKGROUND, np.uint8)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_visibility_follows_the_track(backend: str) -> None:
    track = Track.still(2, 0.5, 0.5)
    track.visible[1] = False
    shown, hidden = render(backend, single(SceneObject("a", "circle", "blue", 0.2, marker=True), track), 128)
    assert color_mask(shown, COLORS["blue"]).sum() > 100
    assert (hidden == np.array(BACKGROUND, np.uint8)).all()


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_is_clockwise_on_screen(backend: str, resolution: int) -> None:
    """angle 90: the marker, straight up at angle 0, is to the RIGHT of the center."""
    obj = SceneObject("a", "square", "red", 0.3, marker=True)
    (frame,) = render(backend, single(obj, Track.still(1, 0.5, 0.5, angle=90.0)), resolution)
    center = np.array([0.5, 0.5]) * resolution
    # The marker is the only dark ink on the frame (its outline).
    ink = np.abs(frame.astype(np.int16) - np.array(INK, np.int16)).max(axis=-1) <= 80
    marker = centroid(ink.astype(float))
    assert marker is not None
    dx, dy = marker - center
    assert dx > 0.2 * obj.size * resolution and abs(dy) <= 1.0, (dx, dy)
    assert np.abs(marker - (center + shapes.marker_center(obj.size * resolution, 90.0))).max() <= 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_are_independent_arrays(backend: str) -> None:
    """A frame that repeats the previous one is still a fresh array: changing one changes no other."""
    obj = SceneObject("a", "card", "blue", 0.2, height=0.3, label="7")
    frames = get_renderer(backend).frames(single(obj, Track.still(3, 0.5, 0.5)), 128)
    first = next(frames)
    expected = first.copy()
    first[...] = 0
    second, third = frames
    assert np.array_equal(second, expected) and np.array_equal(third, expected)
    second[...] = 0
    assert np.array_equal(third, expected)


def test_style_changes_are_drawn() -> None:
    obj = SceneObject("a", "square", "red", 0.2)
    track = Track.still(2, 0.5, 0.5)
    track.style_changes = [StyleChange(1, shape="circle", color="green", size=0.3)]
    for backend in BACKENDS:
        before, after = render(backend, single(obj, track), 128)
        assert color_mask(before, COLORS["red"]).any() and not color_mask(before, COLORS["green"]).any()
        assert color_mask(after, COLORS["green"]).sum() > color_mask(before, COLORS["red"]).sum()
        assert not color_mask(after, COLORS["red"]).any()


def test_matplotlib_renderer_name() -> None:
    assert get_renderer("matplotlib").name == "matplotlib"


def test_missing_matplotlib_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes ``import matplotlib`` fail
    with pytest.raises(ImportError, match=r'pip install "synrl-hf\[paper-renderer\]"'):
        get_renderer("matplotlib")
