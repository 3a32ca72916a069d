"""Shared machinery of the long-term families (S0 → animated operations → ST; docs/data-contract.md).

A long-term family defines only its state (JSON-serialisable), a pure ``apply(state, name, args)``
returning the next state (raising ``ValueError`` when the operation does not apply), a layout
(state → object positions) and its questions. Everything about time lives here:

Phases (``schedule``): an initial reveal of ``REVEAL_SECONDS``, then the operations, each animated
over 0.5–1 s with a few still frames between them, then a final reveal of ``REVEAL_SECONDS``.
``Schedule.spans[k]`` is the (start_frame, end_frame) of operation k, both inclusive: objects are at
their old place on ``start_frame``, at their new one on ``end_frame``, and still outside the spans.
Exactly one reveal shows the state (``plan["shown"]`` in ``SHOWN``, drawn with ``draw_shown``):
``Schedule.reveal(shown)`` is its frame mask; every other frame must keep the state hidden (faces
down, objects under cups, blank tiles …) while the operations stay visible as motion and captions.

Building a timeline::

    states = replay(apply, s0, ops)                      # ops: [(name, args), …]
    sched = schedule(rng, len(ops))
    anim = Animator(sched.num_frames, layout(states[0]))  # {object id: (x, y)}
    for (start, end), before, after in zip(sched.spans, states, states[1:]):
        anim.shift(start, end, layout(before), layout(after), detours={...})
    tracks = {oid: anim.track(oid, visible_mask) for oid in ...}
    return finish(sched, ops, states, objects, tracks, captions=[caption(n, a) for n, a in ops])

``finish`` adds one caption text object per operation (visible only during its span), the
``operations`` and ``states`` metadata (S0 at frame 0, the state after operation k at its
``end_frame``) and one event per operation at its start frame (type = operation name, detail =
caption, objects = the ids whose tracks move during it).

Motion: ``lane_path`` routes an object round the others (out to a free lane, along it, back in);
``Animator.shift`` moves everything else straight, eased, optionally within a sub-part of the span.
Params: long-term clip length follows the number of operations; ``duration_bounds`` gives the
range a family records as its ``duration``.

Questions: ``replaced_answers`` (re-simulate with one or two operations replaced by alternatives)
and ``perturbed_answers`` (apply one alternative operation to the correct state) make plausible
multiple-choice distractors, each distinct from the answer and from each other by re-simulation;
a short list means the question is not unique enough and the family must redraw. ``backwards``
turns the history around for retrodictive distractors. ``draw_naive`` / ``with_naive`` keep the
guess read off the revealed frame at chance (drawn in the plan, realised by rejection in
simulate). ``when_question`` / ``op_interval`` ask for the interval of an operation.
``boxes_overlap`` / ``boxes_in_frame`` check rectangles (cards, captions) by their true extents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import motion
from .perception import LUMA_STEP, MIN_INK_HEIGHT, STILL_NOISE, px, seconds
from .questions import Question, interval, ordinal, pick
from .timeline import Event, Operation, SceneObject, StateSnapshot, Timeline, Track

FPS = 30
REVEAL_SECONDS = 2.0
OP_SECONDS = (0.5, 1.0)
GAP_FRAMES = (4, 8)  # still frames between operations: each operation is seen on its own
SHOWN = ("initial", "final")
CAPTION_Y = 0.05  # captions live in a band at the top; families keep their objects below CONTENT_TOP
CAPTION_HEIGHT = 0.045  # font height in canvas units: 20 px at 448
CONTENT_TOP = 0.11
CAPTION_COLOR = "blue"  # a valid palette name for the metadata; text is always drawn in INK

Op = tuple[str, dict[str, Any]]
Point = tuple[float, float]


# -- phases --------------------------------------------------------------------------------------
@dataclass
class Schedule:
    num_frames: int
    reveal_frames: int
    spans: list[tuple[int, int]]  # per operation (start_frame, end_frame), inclusive

    @property
    def final_start(self) -> int:
        return self.num_frames - self.reveal_frames

    def phase(self, name: str) -> np.ndarray:
        """Frame mask of "initial", "operations" (first start … last end) or "final"."""
        frames = np.arange(self.num_frames)
        if name == "initial":
            return frames < self.reveal_frames
        if name == "final":
            return frames >= self.final_start
        if name == "operations":
            return (frames >= self.spans[0][0]) & (frames <= self.spans[-1][1])
        raise ValueError(f"unknown phase {name!r}")

    def reveal(self, shown: str) -> np.ndarray:
        """Frames on which the state is shown: the initial or the final reveal."""
        if shown not in SHOWN:
            raise ValueError(f"shown must be one of {SHOWN}, got {shown!r}")
        return self.phase(shown)

    def after(self, frame: int) -> np.ndarray:
        """Frames from ``frame`` on (for objects that appear mid-clip)."""
        return np.arange(self.num_frames) >= frame


def schedule(rng: np.random.Generator, num_operations: int, fps: int = FPS) -> Schedule:
    """Reveal, ``num_operations`` spans of 0.5–1 s separated by short still gaps, reveal."""
    reveal = int(round(REVEAL_SECONDS * fps))
    low, high = (int(round(s * fps)) for s in OP_SECONDS)
    frame = reveal + int(rng.integers(GAP_FRAMES[0], GAP_FRAMES[1] + 1))
    spans = []
    for _ in range(num_operations):
        length = int(rng.integers(low, high + 1))
        spans.append((frame, frame + length))
        frame += length + int(rng.integers(GAP_FRAMES[0], GAP_FRAMES[1] + 1))
    return Schedule(num_frames=frame + reveal, reveal_frames=reveal, spans=spans)


def duration_bounds(operations: tuple[int, int], fps: int = FPS) -> tuple[float, float]:
    """Shortest and longest clip (seconds) that ``schedule`` makes for that many operations: the
    value long-term Params record as ``duration`` (the clip length follows from the operations)."""
    reveal = 2 * int(round(REVEAL_SECONDS * fps))
    low, high = (int(round(s * fps)) for s in OP_SECONDS)
    shortest = reveal + GAP_FRAMES[0] + operations[0] * (low + GAP_FRAMES[0])
    longest = reveal + GAP_FRAMES[1] + operations[1] * (high + GAP_FRAMES[1])
    return round(shortest / fps, 2), round(longest / fps, 2)


def draw_shown(rng: np.random.Generator, kind: str, forward: Iterable[str] = (), retrodictive: Iterable[str] = ()) -> str:
    """Which reveal shows the state: forced by forward (initial) / retrodictive (final) kinds, else 50/50."""
    if kind in forward:
        return "initial"
    if kind in retrodictive:
        return "final"
    return SHOWN[int(rng.integers(2))]


def perceptual_rules(*shown: str, operations_move: bool = True) -> dict[str, tuple[str, ...]]:
    """A long-term family's perceptual contract: the phases and captions as a viewer sees them, which
    every long-term family keeps, plus ``shown`` (the family's rules about how the state is drawn).
    ``operations_move``: whether objects move during operations (False where the caption alone shows
    the operation)."""
    reveal, (low, high) = int(round(REVEAL_SECONDS * FPS)), (int(round(s * FPS)) for s in OP_SECONDS)
    changes = f"more than {STILL_NOISE:.2%} of the pixels change by over {LUMA_STEP} luma levels between two frames"
    during = (
        "during every operation the picture below the caption band changes: what it concerns moves"
        if operations_move
        else "the picture below the caption band does not change during operations: the caption alone shows them"
    )
    return {
        "all kinds": (
            f"the state is shown during the first or the last {seconds(reveal)}, still and with no caption",
            f"every operation is shown by its caption at the top, a font of {px(CAPTION_HEIGHT)}, whose ink is at least "
            f"{MIN_INK_HEIGHT:.0%} of that tall at 448 and 128 px; it is visible on exactly the operation's frames, {low + 1} to {high + 1} frames",
            f"operations are separated by at least {GAP_FRAMES[0] - 1} frames without a caption",
            f"outside operations the picture is still (never do {changes}) except once, at the edge of the shown reveal, "
            "where the state is hidden or uncovered",
            during,
            "the family's pixel reader reads every caption and the shown state back from the decoded frames at 448 and 128 px "
            "and gets the answer",
            *shown,
        ),
        "when": ("the interval asked for is the run of frames on which the operation's caption is shown",),
    }


# -- states --------------------------------------------------------------------------------------
def replay(apply: Callable[[Any, str, dict], Any], initial: Any, ops: Sequence[Op]) -> list[Any]:
    """[S0, S1, …, ST]: the state before the first and after every operation."""
    states = [initial]
    for name, args in ops:
        states.append(apply(states[-1], name, args))
    return states


def backwards(states: Sequence[Any], ops: Sequence[Op], inverse: Callable[[Any, str, dict], Op]) -> tuple[list[Any], list[Op]]:
    """The history read from ST back to S0: ([ST, …, S0], undo operations), where
    ``inverse(state_before, name, args)`` is the operation that undoes (name, args). Feeding it to
    ``replaced_answers`` gives retrodictive distractors: the S0 one gets by undoing one step wrongly."""
    undo = [inverse(before, name, args) for before, (name, args) in zip(states, ops)]
    return list(states[::-1]), undo[::-1]


# -- motion --------------------------------------------------------------------------------------
def ease(u: np.ndarray) -> np.ndarray:
    """Smooth start and stop (cosine ease-in-out) on [0, 1]."""
    return (1 - np.cos(np.pi * np.clip(u, 0.0, 1.0))) / 2


def lane_path(start: Point, end: Point, lane: float, axis: str = "x") -> list[Point]:
    """Out sideways to a free lane, along it, back in: with ``axis="x"`` the lane is the vertical line
    x = ``lane`` (for columns of objects), with ``axis="y"`` the horizontal line y = ``lane`` (rows)."""
    (x0, y0), (x1, y1) = start, end
    if axis == "x":
        return [(x0, y0), (lane, y0), (lane, y1), (x1, y1)]
    return [(x0, y0), (x0, lane), (x1, lane), (x1, y1)]


class Animator:
    """Per-frame positions of objects that move between slots, written one operation at a time.

    Each object starts still at its initial position; ``move`` animates it along waypoints within
    an operation (eased by arc length, optionally over a sub-part ``span`` of the operation) and
    holds the destination afterwards. Operations must be written in chronological order.
    """

    def __init__(self, num_frames: int, positions: dict[str, Point]):
        self.num_frames = num_frames
        self.x = {oid: np.full(num_frames, float(p[0])) for oid, p in positions.items()}
        self.y = {oid: np.full(num_frames, float(p[1])) for oid, p in positions.items()}
        self.moved: list[set[str]] = []  # per ``shift`` call (operation), the ids that moved
        self._moving: set[str] = set()

    def place(self, oid: str, position: Point, from_frame: int = 0) -> None:
        """Put a (new) object at ``position`` from ``from_frame`` on."""
        if oid not in self.x:
            self.x[oid] = np.full(self.num_frames, float(position[0]))
            self.y[oid] = np.full(self.num_frames, float(position[1]))
        self.x[oid][from_frame:] = position[0]
        self.y[oid][from_frame:] = position[1]

    def move(self, oid: str, start: int, end: int, waypoints: Sequence[Point], span: tuple[float, float] = (0.0, 1.0)) -> None:
        """Animate ``oid`` along ``waypoints`` over frames start..end (a new object enters here)."""
        if oid not in self.x:
            self.place(oid, waypoints[0])
        points = np.asarray(waypoints, float)
        lengths = np.hypot(*np.diff(points, axis=0).T)
        cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
        u = (np.arange(start, end + 1) - start) / (end - start)
        u = (u - span[0]) / (span[1] - span[0])
        travelled = ease(u) * cumulative[-1]
        self.x[oid][start : end + 1] = np.interp(travelled, cumulative, points[:, 0])
        self.y[oid][start : end + 1] = np.interp(travelled, cumulative, points[:, 1])
        self.x[oid][end + 1 :] = points[-1, 0]
        self.y[oid][end + 1 :] = points[-1, 1]
        self._moving.add(oid)

    def shift(
        self,
        start: int,
        end: int,
        before: dict[str, Point],
        after: dict[str, Point],
        detours: dict[str, Sequence[Point]] | None = None,
        spans: dict[str, tuple[float, float]] | None = None,
    ) -> set[str]:
        """Animate one operation: every object whose position differs between the ``before`` and
        ``after`` layouts moves in a straight line, unless ``detours`` gives it full waypoints.
        Returns (and records) the ids that moved."""
        detours, spans = detours or {}, spans or {}
        self._moving = set()
        for oid, target in after.items():
            if oid in detours:
                self.move(oid, start, end, detours[oid], spans.get(oid, (0.0, 1.0)))
            elif oid in before and _distance(before[oid], target) > 1e-9:
                self.move(oid, start, end, [before[oid], target], spans.get(oid, (0.0, 1.0)))
            elif oid not in before:
                self.place(oid, target, start)
        for oid in before.keys() - after.keys():
            if oid in detours:
                self.move(oid, start, end, detours[oid], spans.get(oid, (0.0, 1.0)))
        moved = set(self._moving)
        self.moved.append(moved)
        return moved

    def track(self, oid: str, visible: np.ndarray) -> Track:
        return Track(x=self.x[oid].copy(), y=self.y[oid].copy(), angle=np.zeros(self.num_frames), visible=np.asarray(visible, bool).copy())


def _distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


# -- timeline ------------------------------------------------------------------------------------
def caption_object(index: int, text: str) -> SceneObject:
    """A one-line text object for operation ``index``; its width is a generous estimate of the text."""
    width = min(0.9, 0.62 * CAPTION_HEIGHT * len(text) + 0.02)
    return SceneObject(id=f"caption{index}", shape="text", color=CAPTION_COLOR, size=width, height=CAPTION_HEIGHT, label=text, z=100)


def finish(
    sched: Schedule,
    ops: Sequence[Op],
    states: Sequence[Any],
    objects: list[SceneObject],
    tracks: dict[str, Track],
    captions: Sequence[str],
    moved: Sequence[Iterable[str]] | None = None,
) -> Timeline:
    """The timeline with one caption per operation, the operations/states metadata and one event per
    operation (at its start frame; ``moved[k]`` are the objects it moves, e.g. ``Animator.moved``)."""
    objects, tracks = list(objects), dict(tracks)
    operations, events = [], []
    for k, ((name, args), (start, end), text) in enumerate(zip(ops, sched.spans, captions)):
        caption = caption_object(k, text)
        objects.append(caption)
        visible = (np.arange(sched.num_frames) >= start) & (np.arange(sched.num_frames) <= end)
        tracks[caption.id] = Track.still(sched.num_frames, 0.5, CAPTION_Y)
        tracks[caption.id].visible = visible
        operations.append(Operation(k, name, dict(args), start, end))
        ids = sorted(moved[k]) if moved is not None else []
        events.append(Event(start, name, ids, text))
    snapshots = [StateSnapshot(0, states[0])] + [StateSnapshot(end, s) for (_, end), s in zip(sched.spans, states[1:])]
    return Timeline(FPS, sched.num_frames, objects, tracks, events, operations, snapshots)


# -- questions -----------------------------------------------------------------------------------
def replaced_answers(
    rng: np.random.Generator,
    apply: Callable[[Any, str, dict], Any],
    states: Sequence[Any],
    ops: Sequence[Op],
    answer_of: Callable[[list[Any], list[Op]], str],
    alternatives: Callable[[Any], Iterable[Op]],
    count: int = 3,
    depth: int = 1,
) -> list[str]:
    """Up to ``count`` distinct wrong answers, each from re-simulating the operations with one of them
    replaced by an alternative (``alternatives(state_before)``), then, with ``depth=2`` and too few
    found, two of them. A candidate is dropped when an operation stops applying or the question
    stops making sense (``apply``/``answer_of`` raise ValueError). Candidates are tried in random
    order but exhaustively, so whether ``count`` exist does not depend on the rng."""
    correct = answer_of(list(states), list(ops))
    found: list[str] = []

    def variants(states, ops, first):
        """Histories with one operation from index ``first`` on replaced: (states, ops, index)."""
        candidates = [(k, alt) for k in range(first, len(ops)) for alt in alternatives(states[k]) if tuple(alt) != tuple(ops[k])]
        for i in rng.permutation(len(candidates)):
            k, alt = candidates[int(i)]
            new_ops = list(ops[:k]) + [alt] + list(ops[k + 1 :])
            try:
                yield list(states[: k + 1]) + replay(apply, states[k], new_ops[k:])[1:], new_ops, k
            except ValueError:
                continue

    def collect(new_states, new_ops):
        try:
            answer = answer_of(new_states, new_ops)
        except ValueError:
            return False
        if answer != correct and answer not in found:
            found.append(answer)
        return len(found) == count

    singles = []
    for variant in variants(states, ops, 0):
        singles.append(variant)
        if collect(*variant[:2]):
            return found
    for new_states, new_ops, k in singles if depth >= 2 else ():
        for variant in variants(new_states, new_ops, k + 1):
            if collect(*variant[:2]):
                return found
    return found


def perturbed_answers(
    rng: np.random.Generator,
    apply: Callable[[Any, str, dict], Any],
    state: Any,
    describe: Callable[[Any], str],
    alternatives: Callable[[Any], Iterable[Op]],
    count: int = 3,
) -> list[str]:
    """Up to ``count`` distinct wrong answers ``describe(apply(state, alt))`` for alternative operations
    applied to the correct ``state`` (tried exhaustively in random order, like ``replaced_answers``)."""
    correct = describe(state)
    candidates = list(alternatives(state))
    found: list[str] = []
    for i in rng.permutation(len(candidates)):
        name, args = candidates[int(i)]
        try:
            answer = describe(apply(state, name, args))
        except ValueError:
            continue
        if answer != correct and answer not in found:
            found.append(answer)
            if len(found) == count:
                break
    return found


def draw_naive(rng: np.random.Generator, num_options: int = 4) -> bool:
    """Whether the answer will equal the guess read off the revealed frame alone (e.g. "the top card
    stays the top card"). Drawn at the chance rate and that guess is always offered (``with_naive``),
    so answering from the single revealed frame scores exactly chance."""
    return bool(rng.random() < 1.0 / num_options)


def with_naive(distractors: Sequence[str], naive: str | None, answer: str, count: int = 3) -> list[str]:
    """``count`` distractors that include the single-frame guess ``naive`` whenever it is wrong
    (``None``: the question has no such guess)."""
    pool = [naive] if naive is not None and naive != answer else []
    pool += [d for d in distractors if d not in pool and d != answer]
    return pool[:count]


def op_interval(text: str, timeline: Timeline, k: int) -> Question:
    """Interval question whose answer is the span of operation ``k`` (0-based)."""
    op = timeline.operations[k]
    return interval(text, timeline.time(op.start_frame), timeline.time(op.end_frame))


def when_question(rng: np.random.Generator, timeline: Timeline, k: int, caption: str | None = None) -> Question:
    """ "When is the k-th operation performed?" (k is 1-based); the caption, if given and unique among
    the operations' captions, may name it instead."""
    texts = [
        f"When is the {ordinal(k)} operation performed?",
        f"During which time span does the {ordinal(k)} operation take place?",
    ]
    captions = [e.detail for e in timeline.events]
    if caption is not None and captions.count(caption) == 1:
        texts.append(f'When is the operation "{caption}" shown?')
    return op_interval(pick(rng, texts), timeline, k - 1)


# -- geometry checks -----------------------------------------------------------------------------
def boxes_in_frame(objects: Sequence[SceneObject], tracks: dict[str, Track]) -> bool:
    """Every visible object's bounding box stays MARGIN inside the frame."""
    for obj in objects:
        track = tracks[obj.id]
        hw, hh = motion.half_extents(obj)
        x, y = track.x[track.visible], track.y[track.visible]
        if x.size and (x.min() - hw < motion.MARGIN - 1e-9 or x.max() + hw > 1 - motion.MARGIN + 1e-9):
            return False
        if y.size and (y.min() - hh < motion.MARGIN - 1e-9 or y.max() + hh > 1 - motion.MARGIN + 1e-9):
            return False
    return True


def boxes_overlap(objects: Sequence[SceneObject], tracks: dict[str, Track], gap: float = 0.005) -> list[tuple[str, str, int]]:
    """(id, id, first frame) for every pair of objects whose boxes (plus ``gap``) meet while both are
    visible."""
    clashes = []
    extents = {o.id: motion.half_extents(o) for o in objects}
    for i, a in enumerate(objects):
        for b in objects[i + 1 :]:
            ta, tb = tracks[a.id], tracks[b.id]
            both = ta.visible & tb.visible
            if not both.any():
                continue
            (aw, ah), (bw, bh) = extents[a.id], extents[b.id]
            hit = both & (np.abs(ta.x - tb.x) < aw + bw + gap) & (np.abs(ta.y - tb.y) < ah + bh + gap)
            if hit.any():
                clashes.append((a.id, b.id, int(np.argmax(hit))))
    return clashes
