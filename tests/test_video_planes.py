"""Decoding to planes for the audit: the same pixels as ``read_frames``, and the same object
measurements as a whole-frame search, at a fraction of the cost."""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf import FAMILIES, families_in, generate_sample, read_frames
from synrl_hf.palette import COLORS
from synrl_hf.pixels import RGBFrames, color_mask, in_box, ink_bounds, ink_pixels, marker_angles, measure
from synrl_hf.video import PlaneDecoder, _rgb_tables, in_rgb_box, in_rgb_box_420, read_planes


@pytest.fixture(scope="module")
def clips():
    """(row, RGB frames, planes) for one clip of every short-term family at 128 px and two at 448."""
    out = []
    for family, resolution in [*((f, 128) for f in families_in("short_term")), ("rotation_count", 448), ("velocity_comparison", 448)]:
        row = generate_sample(family, 1, seed=3, resolution=resolution)
        video = row["video"]["bytes"]
        out.append((row, read_frames(video).frames, read_planes(video)))
    return out


def test_planes_give_read_frames_pixels_exactly(clips):
    for row, frames, planes in clips:
        assert len(planes) == len(frames) == row["num_frames"]
        np.testing.assert_array_equal(planes.rgb(slice(None)), frames)
        np.testing.assert_array_equal(RGBFrames(planes)[3, 10:50:3, 7:40], frames[3, 10:50:3, 7:40])
        for rows, cols in ((slice(11, 47), slice(5, 38)), (slice(10, 48), slice(6, 40)), (slice(0, 1), slice(127, 128))):
            np.testing.assert_array_equal(RGBFrames(planes)[2:9, rows, cols], frames[2:9, rows, cols])  # odd and even corners


def test_a_decoder_reuses_its_memory_and_gives_each_clip_exactly(clips):
    decoder = PlaneDecoder()
    by_size = sorted(clips, key=lambda clip: (clip[0]["width"], -clip[0]["num_frames"]))
    previous = None
    for row, _, planes in by_size:  # longest first at each size: the later, shorter clips fit in its memory
        again = decoder.decode(row["video"]["bytes"])
        for mine, theirs in zip((again.y, again.u, again.v), (planes.y, planes.u, planes.v)):
            np.testing.assert_array_equal(mine, theirs)
        if previous is not None and previous[0] == row["width"]:
            assert np.shares_memory(again.y, previous[1])
        previous = (row["width"], again.y)


def test_box_test_without_converting(clips):
    for _, frames, planes in clips[:4]:
        for rgb in ((220, 30, 30), (30, 70, 230), (130, 75, 20)):
            low, high = [max(c - 60, 0) for c in rgb], [min(c + 60, 255) for c in rgb]
            np.testing.assert_array_equal(in_box(RGBFrames(planes), 5, slice(None), slice(None), low, high), color_mask(frames[5], rgb))
            np.testing.assert_array_equal(in_box(frames, 5, slice(None), slice(None), low, high), color_mask(frames[5], rgb))


def test_the_box_test_is_exact_for_every_yuv_triple():
    """libswscale's RGB never falls as the luma rises at fixed chroma, which makes the box test one
    luma range per chroma; checked on all 2^24 (Y, U, V) for boxes round every palette color."""
    tables = [table.reshape(256, 1 << 16) for table in _rgb_tables()]
    assert all((np.diff(table.astype(np.int16), axis=0) >= 0).all() for table in tables)
    key = np.arange(1 << 24)
    y, u, v = (key >> 16).astype(np.uint8), ((key >> 8) & 255).astype(np.uint8), (key & 255).astype(np.uint8)
    for rgb in [*COLORS.values(), (255, 255, 255)]:
        low, high = tuple(max(c - 60, 0) for c in rgb), tuple(min(c + 60, 255) for c in rgb)
        inside = np.logical_and.reduce([(t.ravel() >= lo) & (t.ravel() <= hi) for t, lo, hi in zip(tables, low, high)])
        np.testing.assert_array_equal(in_rgb_box(y, u, v, low, high), inside)
        # a 4:2:0 window: chroma per 2 x 2 pixels, as decoded
        window = np.random.default_rng(1).integers(0, 256, (2, 3, 16, 16), dtype=np.uint8)
        luma_, chroma_u, chroma_v = window[:, 0], window[:, 1, :8, :8], window[:, 2, :8, :8]
        up_u, up_v = (np.repeat(np.repeat(c, 2, axis=1), 2, axis=2) for c in (chroma_u, chroma_v))
        np.testing.assert_array_equal(in_rgb_box_420(luma_, chroma_u, chroma_v, low, high), in_rgb_box(luma_, up_u, up_v, low, high))


def test_ink_bounds_hold_every_ink_pixel_without_converting(clips):
    shares = []
    for _, frames, planes in clips:
        boxes = ink_bounds(RGBFrames(planes))
        for f, box in enumerate(boxes):
            ys, xs = np.nonzero(ink_pixels(frames[f]))
            if box is None:
                assert not ys.size
                continue
            top, bottom, left, right = box
            assert ys.size and top <= ys.min() and ys.max() <= bottom and left <= xs.min() and xs.max() <= right
            shares.append((bottom - top + 1) * (right - left + 1) / (frames.shape[1] * frames.shape[2]))
    assert min(shares) < 0.1  # boxes round the drawn objects, not whole frames


def test_windowed_measurement_is_the_whole_frame_one(clips):
    """Every object of every clip: centroid, box and area wherever the windows find it; the whole
    frame finds more only stray pixels of the color (blends at other objects' edges), never the object."""
    for row, frames, planes in clips:
        for obj in row["objects"]:
            whole, windowed = measure(frames, obj["rgb"], obj["size"]), measure(RGBFrames(planes), obj["rgb"], obj["size"])
            assert not (windowed.found & ~whole.found).any()
            assert (whole.area[whole.found & ~windowed.found] < 0.25 * obj["size"] ** 2).all(), (row["id"], obj["id"])
            for name in ("x", "y", "area", "x0", "x1", "y0", "y1"):
                np.testing.assert_allclose(getattr(windowed, name)[windowed.found], getattr(whole, name)[windowed.found], err_msg=name)
            if row["task"] == "rotation_count":
                np.testing.assert_allclose(
                    marker_angles(RGBFrames(planes), windowed, obj["size"], obj["rgb"]),
                    marker_angles(frames, whole, obj["size"], obj["rgb"]),
                    equal_nan=True,
                )


def test_read_frames_by_index():
    row = generate_sample("direction", 0, seed=0, resolution=64)
    every = read_frames(row["video"]).frames
    chosen = read_frames(row["video"], indices=[0, 7, len(every) - 1])
    np.testing.assert_array_equal(chosen.frames, every[[0, 7, len(every) - 1]])
    assert chosen.indices.tolist() == [0, 7, len(every) - 1]
    for bad in ([3, 1], [len(every)], []):
        with pytest.raises(ValueError, match="indices must increase"):
            read_frames(row["video"], indices=bad)
    with pytest.raises(ValueError, match="pass indices, or num_frames / fps / window, not both"):
        read_frames(row["video"], indices=[1], num_frames=2)


def test_every_family_has_a_pixel_reader_or_is_named():
    """The families without a reader yet (none once every family has one) are skipped by name."""
    from synrl_hf.audit.pixels import pixel_audited

    assert {f for f in FAMILIES if not pixel_audited(f)} <= {"attribute_change", "event_order"}
