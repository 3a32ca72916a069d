"""Frame-exact online frames: a scene drawn only at the frames a frame budget samples, no MP4 between.

``FrameBudget.read`` on an encoded clip decodes frames ``i_0 < … < i_{n-1}`` of a clip of ``N`` frames
at 30 fps. Here the timeline is cut to those frames (every object's position, angle, visibility and
style as at frame ``i_k``) and drawn directly by the same renderer: the pixels of the encoded path up
to the codec's loss (H.264, yuv420p, crf 18), at a fraction of the cost, since nothing is drawn,
encoded or decoded that the model does not see. ``codec=True`` takes the encoded path instead (draw
every frame, encode, decode the budget's frames): exactly what ``read_frames`` returns for the clip.

Frames travel in a row's ``video`` as a :class:`RenderedVideo`: immutable, so the copies TRL makes
of a row for each generation of a GRPO group share one array instead of copying megabytes;
:func:`rendered_frames` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..frame_budget import FrameBudget
from ..render import check_resolution, get_renderer
from ..timeline import Timeline, Track
from ..video import VideoFrames, encode_mp4


def timeline_at(timeline: Timeline, indices: np.ndarray) -> Timeline:
    """The timeline reduced to frames ``indices`` (increasing): what a renderer draws there, nothing else.

    A style change at frame f takes effect at the first kept frame at or after f; changes after the
    last kept frame are never seen and are dropped. Events, operations and states are not drawn and
    are left out.
    """
    indices = np.asarray(indices, dtype=int)
    if indices.ndim != 1 or len(indices) == 0 or np.any(np.diff(indices) <= 0) or indices[0] < 0 or indices[-1] >= timeline.num_frames:
        raise ValueError(f"frame indices must increase within 0..{timeline.num_frames - 1}, got {indices.tolist()}")
    tracks = {}
    for oid, track in timeline.tracks.items():
        changes = []
        for change in track.style_changes:
            first = int(np.searchsorted(indices, change.frame))
            if first < len(indices):
                changes.append(replace(change, frame=first))
        tracks[oid] = Track(track.x[indices], track.y[indices], track.angle[indices], track.visible[indices], changes)
    return Timeline(timeline.fps, len(indices), list(timeline.objects), tracks)


def render_frames(
    timeline: Timeline,
    budget: FrameBudget,
    resolution: int = 448,
    renderer: str = "pillow",
    *,
    codec: bool = False,
) -> VideoFrames:
    """The frames ``budget`` samples from the clip of ``timeline``, with their indices and timestamps.

    ``codec=False`` draws only those frames; ``codec=True`` draws, encodes and decodes the whole clip
    (bit-exact with ``budget.read`` on the clip ``generate_sample`` makes).
    """
    check_resolution(resolution)
    draw = get_renderer(renderer)
    if codec:
        return budget.read(encode_mp4(draw.frames(timeline, resolution), timeline.fps, resolution, resolution))
    indices = budget.indices(timeline.num_frames, float(timeline.fps))
    cut = timeline_at(timeline, indices)
    if hasattr(draw, "render_into"):  # the Pillow renderer draws straight into one array
        frames = draw.render_into(cut, resolution, np.empty((len(indices), resolution, resolution, 3), np.uint8))
    else:
        frames = np.stack(list(draw.frames(cut, resolution)))
    return VideoFrames(frames, indices, indices / float(timeline.fps), float(timeline.fps), timeline.num_frames)


@dataclass(frozen=True, eq=False)
class RenderedVideo:
    """A row's video as frames already drawn at the budget, instead of MP4 bytes.

    Immutable (its pixels are read-only), so a deep copy is the object itself: TRL copies each row
    once per generation and per reuse of a GRPO group, and those copies share the pixels.
    """

    frames: VideoFrames

    def __post_init__(self) -> None:
        self.frames.frames.flags.writeable = False

    def __deepcopy__(self, memo: dict) -> RenderedVideo:
        return self

    def metadata(self) -> dict[str, Any]:
        return self.frames.metadata()


def rendered_frames(video: Any) -> VideoFrames | None:
    """The frames of a :class:`RenderedVideo`, or None for an MP4 (``{bytes, path}``, bytes, a path)."""
    return video.frames if isinstance(video, RenderedVideo) else None
