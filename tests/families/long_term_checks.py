"""Checks shared by the long-term family tests: replaying the operations, what each phase shows,
that motion happens only within operations, and that text drawn in the video is legible."""

from __future__ import annotations

import collections
import json

import numpy as np
from PIL import Image

from synrl_hf import build_scene, generate_sample, longterm, read_frames
from synrl_hf.questions import LETTERS

DARK = 90  # every channel below this: ink (text, outlines), after H.264


def scenes_by_kind(family, kinds, per_kind=30, seed=0, preset="round1", limit=3000):
    """{kind: the first ``per_kind`` scenes asking it}."""
    found = collections.defaultdict(list)
    for index in range(limit):
        scene = build_scene(family, index, seed=seed, preset=preset)
        if len(found[scene.question.kind]) < per_kind:
            found[scene.question.kind].append(scene)
        if all(len(found[k]) == per_kind for k in kinds):
            return found
    raise AssertionError(f"too few scenes per kind: { {k: len(v) for k, v in found.items()} }")


def chosen_option(question):
    return question.options[LETTERS.index(question.answer)]


def history(timeline):
    """(states, ops) as recorded in the timeline."""
    return [s.state for s in timeline.states], [(op.name, dict(op.args)) for op in timeline.operations]


def check_replay(apply, timeline):
    """Every recorded snapshot is what replaying the operations from S0 gives, taken at the right
    frame (S0 at 0, then each operation's end frame); returns the replayed states."""
    states, ops = history(timeline)
    replayed = longterm.replay(apply, states[0], ops)
    assert json.dumps(replayed, sort_keys=True) == json.dumps(states, sort_keys=True)
    assert [s.frame for s in timeline.states] == [0] + [op.end_frame for op in timeline.operations]
    return replayed


def op_frames(timeline):
    """Boolean mask of frames inside some operation span."""
    mask = np.zeros(timeline.num_frames, bool)
    for op in timeline.operations:
        mask[op.start_frame : op.end_frame + 1] = True
    return mask


def reveal_mask(scene):
    """Frames of the reveal that shows the state (the plan says which): the clip's first or last 2 s."""
    tl = scene.timeline
    frames, reveal = np.arange(tl.num_frames), int(round(longterm.REVEAL_SECONDS * tl.fps))
    return frames < reveal if scene.plan["shown"] == "initial" else frames >= tl.num_frames - reveal


def check_state_shown_once(scene, is_state_object):
    """Objects that show the state are visible on every frame of the shown reveal and on no other."""
    tl = scene.timeline
    shown = reveal_mask(scene)
    state_ids = [o.id for o in tl.objects if is_state_object(o.id)]
    assert state_ids, "no object shows the state"
    for oid in state_ids:
        np.testing.assert_array_equal(tl.tracks[oid].visible, shown, err_msg=oid)
    assert not op_frames(tl)[shown].any()


def check_motion_in_spans(timeline):
    """Objects move only within operations, and every operation moves the objects its event names;
    each caption is visible exactly during its operation."""
    inside = op_frames(timeline)
    for oid, track in timeline.tracks.items():
        moving = np.hypot(np.diff(track.x), np.diff(track.y)) > 1e-12
        assert (inside[:-1] & inside[1:])[moving].all(), oid
    events = {e.frame: e for e in timeline.events}
    for op in timeline.operations:
        event = events[op.start_frame]
        assert event.type == op.name
        caption = timeline.tracks[f"caption{op.index}"].visible
        assert caption[op.start_frame : op.end_frame + 1].all() and caption.sum() == op.end_frame - op.start_frame + 1
        for oid in event.objects:
            track = timeline.tracks[oid]
            span = slice(op.start_frame, op.end_frame + 1)
            assert np.hypot(np.diff(track.x[span]), np.diff(track.y[span])).sum() > 0.01, (op, oid)


def answer_op(question, timeline):
    """The operation whose span is the interval answer (there must be exactly one)."""
    start, end = json.loads(question.answer)
    fps = timeline.fps
    matches = [op for op in timeline.operations if (op.start_frame, op.end_frame) == (round(start * fps), round(end * fps))]
    assert len(matches) == 1, question.answer
    assert end > start
    return matches[0]


def dark_pixels(frame, x, y, half_w, half_h):
    """How many ink-dark pixels lie in the box around (x, y) given in pixels."""
    x0, x1 = int(max(x - half_w, 0)), int(min(x + half_w, frame.shape[1]))
    y0, y1 = int(max(y - half_h, 0)), int(min(y + half_h, frame.shape[0]))
    return int((frame[y0:y1, x0:x1] < DARK).all(axis=-1).sum())


def render(family, index, seed, png, frames_to_save):
    """Generate sample ``index`` at 448, decode it, save the chosen frames side by side as ``png``."""
    row = generate_sample(family, index, seed, resolution=448)
    frames = read_frames(row["video"]["bytes"]).frames
    Image.fromarray(np.concatenate([frames[f] for f in frames_to_save(row)], axis=1)).save(png)
    return row, frames


def assert_pixels_agree(family, kinds, resolution, per_kind=1, preset="round1", seed=5):
    """The family's pixel reader gives every row's answer, from the encoded clip alone, for
    ``per_kind`` rows of each question kind (disagreements listed by id)."""
    from synrl_hf.audit.pixels import audit_row

    wrong = []
    for scenes in scenes_by_kind(family, kinds, per_kind=per_kind, seed=seed, preset=preset).values():
        for scene in scenes:
            row = generate_sample(family, scene.index, seed, scene.split, preset=preset, resolution=resolution)
            result = audit_row(row, row["video"]["bytes"])
            if not result["agree"]:
                wrong.append(result)
    assert not wrong, json.dumps(wrong, indent=1)
