"""Frame-exact online frames: the budget's frames drawn directly equal the encoded clip's, up to codec loss.

The bound, measured on every family at levels 0-4 (448 px, 16 frames): each frame's PSNR against the
frame ``FrameBudget.read`` decodes from the MP4 of the same sample is at least 29.9 dB (chip_container,
whose small chip numbers lose most to H.264); around every drawn object the mean absolute difference
is at most 10.6 grey levels; tracked objects' centroids differ by at most 0.8 px. The tests assert
PSNR >= 28 dB, object crops <= 14, centroids <= 1.5 px, and that the same check fails for frames
drawn two frames off (so it would catch a wrong timestamp).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from synrl_hf.families import FAMILIES
from synrl_hf.frame_budget import FrameBudget
from synrl_hf.online import RenderedVideo, online_sample, render_frames, rendered_frames, timeline_at
from synrl_hf.pixels import measure
from synrl_hf.render import get_renderer
from synrl_hf.sample import build_scene, render_mp4
from synrl_hf.timeline import SceneObject, StyleChange, Timeline, Track

RESOLUTION = 448
BUDGET = FrameBudget(num_frames=16)
MIN_PSNR = 28.0
MAX_CROP_DIFFERENCE = 14.0
MAX_CENTROID_SHIFT = 1.5


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mse = ((a.astype(float) - b.astype(float)) ** 2).mean(axis=(1, 2, 3))
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-9))


def object_crop_differences(timeline: Timeline, indices, online: np.ndarray, encoded: np.ndarray) -> list[float]:
    """Mean |online - encoded| around every object drawn on every kept frame (where it should be)."""
    out = []
    difference = np.abs(online.astype(float) - encoded.astype(float))
    for k, frame in enumerate(indices):
        for obj in timeline.objects:
            track = timeline.tracks[obj.id]
            if not track.visible[frame]:
                continue
            _, _, size = track.style_at(obj, frame)
            half = max(size, obj.height or 0.0) * RESOLUTION / 2 + 2
            x, y = track.x[frame] * RESOLUTION, track.y[frame] * RESOLUTION
            rows = slice(max(0, int(y - half)), int(y + half) + 1)
            cols = slice(max(0, int(x - half)), int(x + half) + 1)
            out.append(float(difference[k, rows, cols].mean()))
    return out


def centroid_shifts(timeline: Timeline, indices, online: np.ndarray, encoded: np.ndarray) -> list[float]:
    """How far each object is found apart in the two frame sets (pixels), for the objects that are the
    only ones of their color throughout (the measure finds objects by color)."""
    colors = [o.color for o in timeline.objects]
    colors += [c.color for t in timeline.tracks.values() for c in t.style_changes if c.color]
    shifts = []
    for obj in timeline.objects:
        if colors.count(obj.color) > 1 or timeline.tracks[obj.id].style_changes:
            continue
        a, b = measure(online, obj.rgb, obj.size * RESOLUTION), measure(encoded, obj.rgb, obj.size * RESOLUTION)
        drawn = timeline.tracks[obj.id].visible[indices]  # elsewhere "found" is a few stray pixels
        assert a.found[drawn].all() and b.found[drawn].all(), obj.id
        both = drawn & a.found & b.found
        shifts += np.hypot(a.x[both] - b.x[both], a.y[both] - b.y[both]).tolist()
    return shifts


@pytest.mark.parametrize("number, family", list(enumerate(FAMILIES)))
def test_online_frames_match_the_encoded_clip(number, family):
    preset = f"level{number % 5}"  # every level of the ladders comes up across the families
    scene = build_scene(family, number, seed=21, preset=preset)
    online = render_frames(scene.timeline, BUDGET, RESOLUTION)
    encoded = BUDGET.read(render_mp4(scene.timeline, RESOLUTION))
    assert online.indices.tolist() == encoded.indices.tolist()
    assert np.allclose(online.timestamps, encoded.timestamps)
    assert online.metadata() == encoded.metadata()
    assert psnr(online.frames, encoded.frames).min() >= MIN_PSNR, (family, preset)
    crops = object_crop_differences(scene.timeline, online.indices, online.frames, encoded.frames)
    assert crops and max(crops) <= MAX_CROP_DIFFERENCE, (family, preset, max(crops))
    if scene.timeline.objects and FAMILIES[family].category == "short_term":
        assert max(centroid_shifts(scene.timeline, online.indices, online.frames, encoded.frames), default=0.0) <= MAX_CENTROID_SHIFT


def test_the_check_catches_frames_from_the_wrong_time():
    scene = build_scene("collision_count", 0, seed=21)
    encoded = BUDGET.read(render_mp4(scene.timeline, RESOLUTION))
    late = timeline_at(scene.timeline, np.minimum(encoded.indices + 2, scene.timeline.num_frames - 1))
    shifted = np.stack(list(get_renderer().frames(late, RESOLUTION)))
    with pytest.raises(AssertionError):
        assert max(centroid_shifts(scene.timeline, encoded.indices, shifted, encoded.frames)) <= MAX_CENTROID_SHIFT


@pytest.mark.parametrize("family", ["rotation_count", "chip_container"])
def test_codec_option_gives_exactly_the_decoded_frames(family):
    scene = build_scene(family, 2, seed=5)
    exact = render_frames(scene.timeline, BUDGET, 128, codec=True)
    decoded = BUDGET.read(render_mp4(scene.timeline, 128))
    assert np.array_equal(exact.frames, decoded.frames) and exact.metadata() == decoded.metadata()


def test_a_rate_budget_picks_the_frames_read_frames_would():
    budget = FrameBudget(fps=2.0, max_frames=64)
    scene = build_scene("card_stack", 0, seed=1)
    online = render_frames(scene.timeline, budget, 64)
    assert online.indices.tolist() == budget.indices(scene.timeline.num_frames, 30.0).tolist()
    assert len(online.frames) == len(online.indices) and online.metadata()["fps"] == 30.0


def test_timeline_at_keeps_style_changes_from_the_first_kept_frame_on():
    obj = SceneObject("a", "circle", "red", 0.2)
    track = Track.still(10, 0.5, 0.5)
    track.style_changes = [StyleChange(3, color="blue"), StyleChange(9, color="green")]
    cut = timeline_at(Timeline(30, 10, [obj], {"a": track}), np.array([0, 2, 5, 8]))
    assert [cut.tracks["a"].style_at(obj, k)[1] for k in range(4)] == ["red", "red", "blue", "blue"]
    with pytest.raises(ValueError, match="frame indices must increase within 0..9"):
        timeline_at(Timeline(30, 10, [obj], {"a": track}), np.array([0, 12]))


def test_online_rows_are_built_rows_with_frames_as_their_video():
    from synrl_hf.sample import generate_sample

    row = online_sample("direction", 7, 3, 2, BUDGET, resolution=64)
    built = generate_sample("direction", 7, 3, preset="level2", resolution=64)
    assert row == {**{k: v for k, v in built.items() if k != "tracks"}, "video": row["video"]}
    assert isinstance(row["video"], RenderedVideo) and rendered_frames(built["video"]) is None
    frames = rendered_frames(row["video"])
    assert frames.frames.shape == (16, 64, 64, 3) and not frames.frames.flags.writeable
    # TRL deep-copies a row for every generation of its group: the pixels are shared, not copied.
    assert copy.deepcopy(row)["video"] is row["video"]
