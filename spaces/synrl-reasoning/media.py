"""Files the Space handles: checking an uploaded video, writing generated ones, pruning old ones."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

# Containers a browser's <video> can play (given a common codec); anything else is refused.
VIDEO_FORMATS = ("mov", "mp4", "m4a", "3gp", "matroska", "webm", "ogg")
MAX_FPS = 240  # frames per second of the fastest footage accepted; more frames than this per second is a bogus stream


class BadVideo(ValueError):
    """An upload the app refuses; ``str(error)`` is the message shown in the page."""


@dataclass
class VideoInfo:
    duration: float  # seconds
    width: int
    height: int
    size_bytes: int


def _mb(num_bytes: float) -> str:
    return f"{num_bytes / 1e6:.1f} MB"


def check_video(path: str | os.PathLike, *, max_bytes: int, max_seconds: float) -> VideoInfo:
    """Make sure ``path`` is a short, small, decodable video; raise :class:`BadVideo` otherwise.

    The length is measured by decoding the stream (the last frame's time, and the frame count at the
    stream's rate), never read from the container's header, which the file itself states and can
    understate; decoding stops as soon as the clip is known to be too long.
    """
    import av

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise BadVideo("No file was received. Please upload the video again.")
    size = path.stat().st_size
    if size == 0:
        raise BadVideo(f"'{name}' is empty.")
    if size > max_bytes:
        raise BadVideo(f"'{name}' is {_mb(size)}; the limit is {_mb(max_bytes)}. Please upload a shorter or smaller clip.")
    not_a_video = f"'{name}' is not a video this app can read. Please upload an MP4, WebM or MOV clip."
    too_long = f"'{name}' is longer than {max_seconds:g} s; the limit is {max_seconds:g} s. Please trim it."
    try:
        with av.open(str(path)) as container:
            formats = set((container.format.name or "").split(","))
            if not container.streams.video or not formats & set(VIDEO_FORMATS):
                raise BadVideo(not_a_video)
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 0) or None
            decoded, end = 0, 0.0
            for frame in container.decode(stream):
                decoded += 1
                shown_at = float(frame.time) if frame.time is not None else (decoded - 1) / (rate or MAX_FPS)
                end = max(end, shown_at + 1 / (rate or MAX_FPS), decoded / (rate or MAX_FPS))
                if end > max_seconds or decoded > max_seconds * MAX_FPS:
                    raise BadVideo(too_long)
            width, height = stream.codec_context.width, stream.codec_context.height
    except BadVideo:
        raise
    except Exception as error:  # noqa: BLE001 - any demuxer/decoder error means "not a video"
        raise BadVideo(not_a_video) from error
    if decoded < 2:
        raise BadVideo(f"'{name}' has fewer than 2 frames; a question about time needs a moving clip.")
    return VideoInfo(duration=end, width=int(width), height=int(height), size_bytes=size)


def write_video(data: bytes, folder: str | os.PathLike, name: str) -> Path:
    """Write mp4 ``data`` as ``folder/name`` (created if needed); returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def prune(folder: str | os.PathLike, max_age_s: float) -> int:
    """Delete files in ``folder`` older than ``max_age_s`` seconds; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff, removed = time.time() - max_age_s, 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass
    return removed
