"""H.264 encoding and exact frame decoding, with PyAV (decord when installed). Never torchcodec.

``read_frames`` is the one decoder every consumer uses (tests, audit, recipes, evaluation, Space):
it returns the frames a model should see, with their indices and timestamps, plus the metadata that
Qwen-VL processors need (``video_metadata``) so the model's time axis is right.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

VideoSource = str | os.PathLike | bytes | dict

# No macroblock-tree / rate-control lookahead: with it, single-threaded x264 gave different
# bitstreams for identical input from one process (and one run) to the next; without it the same
# seed gives byte-identical MP4s. It also encodes faster; crf 18 keeps frame text legible.
ENCODER_OPTIONS = {"preset": "veryfast", "crf": "18", "threads": "1", "x264-params": "mbtree=0:rc-lookahead=0"}


def encode_mp4(frames: Iterable[np.ndarray], fps: int, width: int, height: int) -> bytes:
    """Encode RGB uint8 frames to H.264 MP4 bytes, yuv420p, exactly ``fps`` frames per second.

    One thread per clip: the build parallelises across clips, and with ENCODER_OPTIONS the output
    is byte-identical across runs, processes and machines with the same libx264.
    """
    import av

    if width % 2 or height % 2:
        raise ValueError(f"H.264 yuv420p needs even width and height, got {width}x{height}")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options=dict(ENCODER_OPTIONS))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index, frame in enumerate(frames):
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            video_frame.pts = index
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@dataclass
class VideoFrames:
    frames: np.ndarray  # (N, H, W, 3) uint8 RGB
    indices: np.ndarray  # frame index of each returned frame in the source video
    timestamps: np.ndarray  # seconds
    native_fps: float
    total_frames: int

    @property
    def duration(self) -> float:
        return self.total_frames / self.native_fps

    def metadata(self) -> dict[str, Any]:
        """The ``video_metadata`` entry Qwen-VL processors expect with ``do_sample_frames=False``."""
        return {
            "total_num_frames": self.total_frames,
            "fps": self.native_fps,
            "frames_indices": self.indices.tolist(),
            "duration": self.duration,
        }


def _as_file(video: VideoSource):
    """A path or a file object for PyAV, from a path, raw bytes or a ``datasets.Video`` dict."""
    if isinstance(video, dict):
        if video.get("bytes"):
            return io.BytesIO(video["bytes"])
        if video.get("path"):
            return os.fspath(video["path"])
        raise ValueError("video dict has neither 'bytes' nor 'path'")
    if isinstance(video, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(video))
    if isinstance(video, (str, os.PathLike)):
        path = os.fspath(video)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no video file at {path!r}")
        return path
    raise TypeError(f"cannot read a video from {type(video).__name__}; pass a path, bytes or a {{bytes, path}} dict")


def probe(video: VideoSource) -> tuple[float, int, int, int]:
    """(fps, total frames, width, height) without decoding every frame when the container knows."""
    import av

    with av.open(_as_file(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.base_rate or 30)
        total = stream.frames or sum(1 for _ in container.decode(stream))
        return fps, int(total), stream.codec_context.width, stream.codec_context.height


def sample_indices(
    total_frames: int,
    native_fps: float,
    *,
    num_frames: int | None = None,
    fps: float | None = None,
    window: tuple[float, float] | None = None,
) -> np.ndarray:
    """Which frames to keep: ``num_frames`` spread uniformly, or ``fps`` frames per second, or all.

    ``window`` (start, end) in seconds restricts the choice to the frames from ``round(start * fps)``
    to ``round(end * fps)`` (clamped to the clip): benchmarks that ask about one segment of a longer
    clip (MVBench's and TVBench's start/end bounds) sample only inside it.
    """
    if num_frames is not None and fps is not None:
        raise ValueError("pass num_frames or fps, not both")
    if total_frames <= 0:
        raise ValueError("the video has no frames")
    if window is not None:
        first, last = _window_frames(window, total_frames, native_fps)
        return first + sample_indices(last - first + 1, native_fps, num_frames=num_frames, fps=fps)
    if num_frames is not None:
        if num_frames <= 0:
            raise ValueError(f"num_frames must be positive, got {num_frames}")
        if num_frames >= total_frames:
            return np.arange(total_frames)
        return np.unique(np.round(np.linspace(0, total_frames - 1, num_frames)).astype(int))
    if fps is not None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        step = native_fps / fps
        return np.unique(np.minimum(np.floor(np.arange(0, total_frames, step)).astype(int), total_frames - 1))
    return np.arange(total_frames)


def _window_frames(window: tuple[float, float], total_frames: int, native_fps: float) -> tuple[int, int]:
    """First and last frame index of a (start, end) window in seconds, clamped to the clip."""
    start, end = (float(t) for t in window)
    if not (np.isfinite(start) and np.isfinite(end)) or end < start:
        raise ValueError(f"a frame window is (start, end) seconds with start <= end, got {window!r}")
    first = min(max(0, int(round(start * native_fps))), total_frames - 1)
    last = min(max(first, int(round(end * native_fps))), total_frames - 1)
    return first, last


def read_frames(
    video: VideoSource,
    *,
    num_frames: int | None = None,
    fps: float | None = None,
    window: tuple[float, float] | None = None,
    indices: Sequence[int] | None = None,
    backend: str = "auto",
) -> VideoFrames:
    """Decode exactly the chosen frames of ``video`` (a path, mp4 bytes or a ``datasets.Video`` dict).

    ``num_frames`` picks that many frames spread over the clip, ``fps`` samples at that rate, neither
    returns every frame; ``window`` (start, end seconds) samples inside that segment only; ``indices``
    names the frames instead (increasing). ``backend`` is "pyav", "decord" or "auto" (decord when
    importable).
    """
    if backend not in ("auto", "pyav", "decord"):
        raise ValueError(f"unknown backend {backend!r}; valid: auto, pyav, decord")
    if indices is not None and (num_frames is not None or fps is not None or window is not None):
        raise ValueError("pass indices, or num_frames / fps / window, not both")

    def choose(total: int, native_fps: float) -> np.ndarray:
        if indices is None:
            return sample_indices(total, native_fps, num_frames=num_frames, fps=fps, window=window)
        chosen = np.asarray(indices, int)
        if chosen.size == 0 or (np.diff(chosen) <= 0).any() or chosen[0] < 0 or chosen[-1] >= total:
            raise ValueError(f"indices must increase within 0..{total - 1}, got {list(indices)}")
        return chosen

    source = _as_file(video)
    if backend == "decord" or (backend == "auto" and _decord_available()):
        return _read_decord(source, choose)
    return _read_pyav(source, choose)


def _decord_available() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


def _read_pyav(source, choose) -> VideoFrames:
    import av

    with av.open(source) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        native_fps = float(stream.average_rate or stream.base_rate or 30)
        total = stream.frames
        if not total:  # the container does not say: decode everything once
            decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
            indices = choose(len(decoded), native_fps)
            return VideoFrames(np.stack([decoded[i] for i in indices]), indices, indices / native_fps, native_fps, len(decoded))
        indices = choose(total, native_fps)
        wanted, kept = set(indices.tolist()), {}
        # Sequential decoding keeps only the chosen frames in memory, and stops after the last one.
        for position, frame in enumerate(container.decode(stream)):
            if position in wanted:
                kept[position] = frame.to_ndarray(format="rgb24")
                if len(kept) == len(wanted):
                    break
    missing = sorted(wanted - set(kept))
    if missing:
        raise ValueError(f"the video ended before frame {missing[0]} (container said {total} frames)")
    return VideoFrames(np.stack([kept[i] for i in indices]), indices, indices / native_fps, native_fps, total)


def _read_decord(source, choose) -> VideoFrames:
    import decord

    reader = decord.VideoReader(source, ctx=decord.cpu(0))
    native_fps = float(reader.get_avg_fps())
    total = len(reader)
    indices = choose(total, native_fps)
    frames = reader.get_batch(indices.tolist()).asnumpy()
    return VideoFrames(frames, indices, indices / native_fps, native_fps, total)


# -- decoding to planes ---------------------------------------------------------------------------
@dataclass
class VideoPlanes:
    """Every frame of a clip as the decoder gives it, before any color conversion (yuv420p).

    Copying the planes out costs little next to decoding, while converting whole frames to RGB
    costs more than decoding them: checks that look at most pixels through the luma (text, ink) or
    at a few windows in color (objects) read the planes and convert only what they look at.
    ``rgb`` returns exactly the pixels :func:`read_frames` (PyAV) gives there.
    """

    y: np.ndarray  # (N, H, W) uint8 luma, limited range (16 = black, 235 = white)
    u: np.ndarray  # (N, H / 2, W / 2) uint8 chroma, one sample per 2 x 2 pixels
    v: np.ndarray
    native_fps: float

    def __len__(self) -> int:
        return len(self.y)

    @property
    def height(self) -> int:
        return self.y.shape[1]

    @property
    def width(self) -> int:
        return self.y.shape[2]

    def rgb(self, index: int | slice | np.ndarray, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        """RGB pixels of frame(s) ``index`` in ``rows`` and ``cols`` (slices, steps allowed)."""
        return yuv_to_rgb(*self._window(index, rows, cols))

    def within(self, index: int | slice, rows: slice, cols: slice, low: tuple[int, int, int], high: tuple[int, int, int]) -> np.ndarray:
        """Bool mask: the pixels of ``rgb(index, rows, cols)`` inside the RGB box [low, high] (inclusive)."""
        return in_rgb_box(*self._window(index, rows, cols), low, high)

    def _window(self, index: int | slice | np.ndarray, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Luma and chroma (upsampled to one sample per pixel) of frame(s) ``index`` in ``rows`` and ``cols``."""
        top, bottom, row_step = rows.indices(self.height)
        left, right, col_step = cols.indices(self.width)
        if row_step == 1 and col_step == 1 and bottom > top and right > left:  # a plain window: sliced, not gathered
            y = self.y[index][..., top:bottom, left:right]
            u, v = (_upsampled(plane[index], top, bottom, left, right) for plane in (self.u, self.v))
            return y, u, v
        rows_at, cols_at = np.arange(top, bottom, row_step), np.arange(left, right, col_step)
        y = self.y[index][..., rows_at, :][..., cols_at]
        u = self.u[index][..., rows_at // 2, :][..., cols_at // 2]
        v = self.v[index][..., rows_at // 2, :][..., cols_at // 2]
        return y, u, v


def _upsampled(chroma: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """The chroma of pixel rows ``top:bottom`` and columns ``left:right``, one sample per pixel."""
    block = chroma[..., top // 2 : (bottom + 1) // 2, left // 2 : (right + 1) // 2]
    pixels = np.repeat(np.repeat(block, 2, axis=-2), 2, axis=-1)
    return pixels[..., top % 2 : top % 2 + bottom - top, left % 2 : left % 2 + right - left]


def read_planes(video: VideoSource) -> VideoPlanes:
    """Decode every frame of ``video`` (PyAV) into its Y, U and V planes."""
    return PlaneDecoder().decode(video)


class PlaneDecoder:
    """Decodes clip after clip into the same memory: :meth:`decode`'s planes are valid until its next call.

    A 448 px clip's planes take tens of megabytes; fresh arrays for each clip cost the kernel's page
    faults on every page (as much time again as copying the frames in), reused ones do not. For a
    loop that is done with one clip before it decodes the next (the audit's).
    """

    def __init__(self) -> None:
        self._buffers: list[np.ndarray] = []

    def decode(self, video: VideoSource) -> VideoPlanes:
        import av

        count = 0
        with av.open(_as_file(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # one thread: the audit runs clips in parallel processes
            native_fps = float(stream.average_rate or stream.base_rate or 30)
            for frame in container.decode(stream):
                if frame.format.name != "yuv420p":
                    frame = frame.reformat(format="yuv420p")
                views = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes]
                if not count:  # room for as many frames as the container says
                    self._make_room(max(stream.frames, 1), [view.shape for view in views])
                elif count == len(self._buffers[0]):  # more frames than the container said
                    self._buffers = [np.concatenate([b, np.empty_like(b)]) for b in self._buffers]
                for buffer, view in zip(self._buffers, views):
                    buffer[count] = view
                count += 1
        if not count:
            raise ValueError("the video has no frames")
        y, u, v = (b[:count] for b in self._buffers)
        return VideoPlanes(y, u, v, native_fps)

    def _make_room(self, frames: int, shapes: list[tuple[int, int]]) -> None:
        if not self._buffers or [b.shape[1:] for b in self._buffers] != shapes or len(self._buffers[0]) < frames:
            self._buffers = [np.empty((frames, *shape), np.uint8) for shape in shapes]


def yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RGB of pixels given as luma and (already upsampled) chroma, as libswscale converts them."""
    key = (y.astype(np.int32) << 16) | (u.astype(np.int32) << 8) | v
    return np.stack([np.take(channel, key) for channel in _rgb_tables()], axis=-1)


def in_rgb_box(y: np.ndarray, u: np.ndarray, v: np.ndarray, low: tuple[int, int, int], high: tuple[int, int, int]) -> np.ndarray:
    """Whether ``yuv_to_rgb(y, u, v)`` lies in the box [low, high] (inclusive), without converting:
    one lookup per pixel of its chroma's luma range (:func:`_luma_ranges`)."""
    lowest, highest = _luma_ranges(tuple(low), tuple(high))
    key = (u.astype(np.uint16) << 8) | v
    return (y >= lowest[key]) & (y <= highest[key])


def in_rgb_box_420(y: np.ndarray, u: np.ndarray, v: np.ndarray, low: tuple[int, int, int], high: tuple[int, int, int]) -> np.ndarray:
    """:func:`in_rgb_box` of a 4:2:0 window as decoded: ``y`` (..., 2h, 2w) and its chroma ``u``, ``v``
    (..., h, w), one sample per 2 x 2 pixels; the chroma is looked up once per sample, not upsampled."""
    lowest, highest = _luma_ranges(tuple(low), tuple(high))
    key = (u.astype(np.uint16) << 8) | v
    *lead, h, w = key.shape
    quads = y.reshape(*lead, h, 2, w, 2)
    at = (..., slice(None), None, slice(None), None)
    return ((quads >= lowest[key][at]) & (quads <= highest[key][at])).reshape(y.shape)


@lru_cache(maxsize=64)
def _luma_ranges(low: tuple[int, int, int], high: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per chroma (U << 8 | V): the lowest and the highest luma whose RGB lies in [low, high].

    libswscale's red, green and blue never decrease as the luma rises at fixed chroma (checked on its
    whole table by tests/test_video_planes.py), so each channel is inside its bounds on one interval
    of lumas, and the box on their intersection. An empty one is stored as (255, 0): no luma fits.
    """
    lowest = np.zeros(1 << 16, np.int16)
    highest = np.full(1 << 16, 255, np.int16)
    for table, floor, ceiling in zip(_rgb_tables(), low, high):
        by_luma = table.reshape(256, 1 << 16)
        lowest = np.maximum(lowest, (by_luma < floor).sum(axis=0, dtype=np.int16))  # the lumas below the floor come first
        highest = np.minimum(highest, 255 - (by_luma > ceiling).sum(axis=0, dtype=np.int16))  # those above the ceiling last
    empty = lowest > highest
    lowest[empty], highest[empty] = 255, 0
    return lowest.astype(np.uint8), highest.astype(np.uint8)


@lru_cache(maxsize=1)
def _rgb_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Red, green and blue (2^24 uint8 each, indexed by Y << 16 | U << 8 | V): what libswscale gives
    for each (Y, U, V), read off one converted frame.

    Its integer arithmetic is not a formula worth re-deriving (it differs from the float BT.601
    one by up to 3 levels on a few percent of pixels): converting one frame that holds every
    (Y, U, V) once gives the exact table. Chroma is not interpolated (each sample covers its 2 x 2
    pixels), which is what makes a per-pixel table exact.
    """
    import av

    side = 4096  # 4096 x 4096 pixels: 2^22 chroma blocks, each (U, V) pair with 64 groups of 4 lumas
    block = np.arange((side // 2) ** 2).reshape(side // 2, side // 2)
    u, v, group = (block >> 8) & 255, block & 255, block >> 16
    y = np.empty((side, side), np.uint8)
    for dy in range(2):
        for dx in range(2):
            y[dy::2, dx::2] = 4 * group + 2 * dy + dx
    frame = av.VideoFrame(side, side, "yuv420p")
    for plane, values in zip(frame.planes, (y, u.astype(np.uint8), v.astype(np.uint8))):
        np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width] = values
    rgb = frame.to_ndarray(format="rgb24")
    key = (y.astype(np.int32) << 16) | (np.repeat(np.repeat(u, 2, 0), 2, 1) << 8) | np.repeat(np.repeat(v, 2, 0), 2, 1)
    tables = tuple(np.empty(1 << 24, np.uint8) for _ in range(3))
    for channel, table in enumerate(tables):
        table[key.ravel()] = rgb[..., channel].ravel()  # every key occurs once
    return tables


def luma(rgb: tuple[int, int, int] | np.ndarray) -> float | np.ndarray:
    """The luma (limited range, BT.601) the encoder writes for a color: what a plain area of it decodes to."""
    r, g, b = np.moveaxis(np.asarray(rgb, float), -1, 0)
    return 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
