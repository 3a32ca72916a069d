"""The simulation result: what is drawn, where, and what happens when. Pure data, no drawing.

Coordinates are resolution-free: the canvas is the unit square, origin top-left, y pointing down
(as on screen). Angles are degrees, positive = clockwise as a viewer sees it. The renderer and the
exported ``tracks`` scale to pixels, so the same seed gives the same motion at any resolution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .palette import COLORS


@dataclass
class SceneObject:
    """Something drawn. ``size`` is in canvas units: for a palette shape the diameter of the circle of
    the same area (every palette shape of one size covers the same area), for a card, box, cup or text
    its width."""

    id: str
    shape: str  # a palette shape, or "card", "cup", "box", "text" for long-term scenes
    color: str  # a COLORS name, used verbatim in questions
    size: float
    height: float | None = None  # for rectangles ("card", "box", "cup"); None = square
    label: str = ""  # text drawn on/as the object
    marker: bool = False  # a dot near the edge, so rotation is visible
    z: int = 0  # draw order, higher on top

    @property
    def rgb(self) -> tuple[int, int, int]:
        return COLORS[self.color]


@dataclass
class StyleChange:
    """From ``frame`` on, the object is drawn with these attributes (a change of color, shape or size)."""

    frame: int
    shape: str | None = None
    color: str | None = None
    size: float | None = None


@dataclass
class Track:
    """One value per frame for one object."""

    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray
    visible: np.ndarray
    style_changes: list[StyleChange] = field(default_factory=list)

    @classmethod
    def still(cls, num_frames: int, x: float, y: float, angle: float = 0.0, visible: bool = True) -> Track:
        return cls(
            x=np.full(num_frames, float(x)),
            y=np.full(num_frames, float(y)),
            angle=np.full(num_frames, float(angle)),
            visible=np.full(num_frames, bool(visible)),
        )

    def style_at(self, obj: SceneObject, frame: int) -> tuple[str, str, float]:
        shape, color, size = obj.shape, obj.color, obj.size
        for change in self.style_changes:
            if change.frame > frame:
                break
            shape = change.shape or shape
            color = change.color or color
            size = change.size or size
        return shape, color, size


@dataclass
class Event:
    frame: int
    type: str
    objects: list[str]
    detail: str = ""


@dataclass
class Operation:
    """A long-term operation, animated between ``start_frame`` and ``end_frame`` (inclusive)."""

    index: int
    name: str
    args: dict[str, Any]
    start_frame: int
    end_frame: int


@dataclass
class StateSnapshot:
    frame: int
    state: Any  # JSON-serialisable


@dataclass
class Timeline:
    fps: int
    num_frames: int
    objects: list[SceneObject]
    tracks: dict[str, Track]
    events: list[Event] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    states: list[StateSnapshot] = field(default_factory=list)

    def __post_init__(self) -> None:
        ids = [o.id for o in self.objects]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate object ids: {ids}")
        if set(ids) != set(self.tracks):
            raise ValueError(f"objects {sorted(ids)} and tracks {sorted(self.tracks)} differ")
        for oid, track in self.tracks.items():
            for name in ("x", "y", "angle", "visible"):
                if len(getattr(track, name)) != self.num_frames:
                    raise ValueError(f"track {oid}.{name} has {len(getattr(track, name))} values, expected {self.num_frames}")
        self.events.sort(key=lambda e: e.frame)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def time(self, frame: int) -> float:
        return round(frame / self.fps, 3)

    def object(self, oid: str) -> SceneObject:
        for obj in self.objects:
            if obj.id == oid:
                return obj
        raise KeyError(oid)

    def drawn_objects(self) -> list[SceneObject]:
        return sorted(self.objects, key=lambda o: o.z)

    # -- export (row fields, docs/data-contract.md) -----------------------------------------------
    def rows(self, resolution: int) -> dict[str, Any]:
        scale = float(resolution)
        return {
            "events": [
                {"frame": e.frame, "time": self.time(e.frame), "type": e.type, "objects": list(e.objects), "detail": e.detail}
                for e in self.events
            ],
            "operations": [
                {
                    "index": op.index,
                    "name": op.name,
                    "args": json.dumps(op.args, sort_keys=True),
                    "start_frame": op.start_frame,
                    "end_frame": op.end_frame,
                    "start_time": self.time(op.start_frame),
                    "end_time": self.time(op.end_frame),
                }
                for op in self.operations
            ],
            "states": [{"frame": s.frame, "time": self.time(s.frame), "state": json.dumps(s.state, sort_keys=True)} for s in self.states],
            "objects": [
                {
                    "id": o.id,
                    "shape": o.shape,
                    "color": o.color,
                    "rgb": list(o.rgb),
                    "size": round(o.size * scale, 2),
                    "label": o.label,
                }
                for o in self.objects
            ],
            "tracks": [
                {
                    "object": o.id,
                    "x": np.round(self.tracks[o.id].x * scale, 2).tolist(),
                    "y": np.round(self.tracks[o.id].y * scale, 2).tolist(),
                    "angle": np.round(self.tracks[o.id].angle, 2).tolist(),
                    "visible": self.tracks[o.id].visible.astype(bool).tolist(),
                }
                for o in self.objects
            ],
        }
