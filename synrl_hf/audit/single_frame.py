"""Check 3, single-frame baseline: the first, middle or last frame alone must not give the answer.

For each of the three frames, the state it shows is read from the row's metadata (never from the
answer): every object's visibility, position, angle and appearance at that frame (appearance
changes come from ``change`` events, "attribute: old -> new"), and for long-term families the
revealed state (``states``: S0 on the first frame when the initial reveal is shown, ST on the last
frame when the final one is; intermediate states are never drawn). The question contributes only
its program (``question_type``), the object it names and its words for yes/no questions.

Candidates are scored as in the blind check (``blind.build_choices``): per option, the features of
what the option names in that frame (an object by color and shape, a card or chip by label, a
compass direction relative to where the asked object is, a count equal to a count in the frame, a
value of the revealed state) plus the frame's overall state in the option's own slot. The best of
the three per-frame models (each picked by inner cross-validation, evaluated held-out) is the
"best single-frame rule". A family fails when it beats the majority rule's held-out accuracy
(floored at chance) by more than 5 points with a one-sided binomial p < alpha (as in ``blind.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from ..motion import COMPASS, COMPASS_VECTORS
from ..palette import COLORS
from .blind import build_choices, evaluate, question_stem, tokens, vocabulary_of
from .common import ALPHA, CheckResult, json_state

FRAMES = ("first", "middle", "last")
MAX_STATE_PATHS = 40


def frame_index(row: dict[str, Any], which: str) -> int:
    return {"first": 0, "middle": (row["num_frames"] - 1) // 2, "last": row["num_frames"] - 1}[which]


def _appearance(row: dict[str, Any], frame: int) -> dict[str, dict[str, Any]]:
    """Object id → {color, shape, size} drawn at ``frame``, from the objects and ``change`` events."""
    look = {o["id"]: {"color": o["color"], "shape": o["shape"], "size": float(o["size"])} for o in row["objects"]}
    for event in row["events"]:
        if event["type"] != "change" or event["frame"] > frame:
            continue
        attribute, _, detail = event["detail"].partition(": ")
        pairs = [part.split(" -> ") for part in detail.split(", ")]
        for oid, pair in zip(event["objects"], pairs):
            if len(pair) == 2 and oid in look and attribute in ("color", "shape", "size"):
                try:
                    look[oid][attribute] = float(pair[1]) * row["width"] if attribute == "size" else pair[1]
                except ValueError:
                    pass
    return look


def frame_view(row: dict[str, Any], frame: int) -> list[dict[str, Any]]:
    """What is drawn at ``frame``: one dict per object (captions included), positions in [0, 1]."""
    tracks = {t["object"]: t for t in row["tracks"]}
    look = _appearance(row, frame)
    out = []
    for obj in row["objects"]:
        t = tracks[obj["id"]]
        out.append(
            {
                "id": obj["id"],
                "label": obj["label"],
                "name_color": obj["color"],
                "name_shape": obj["shape"],
                **look[obj["id"]],
                "visible": bool(t["visible"][frame]),
                "x": t["x"][frame] / row["width"],
                "y": t["y"][frame] / row["height"],
                "angle": math.radians(t["angle"][frame]),
            }
        )
    return out


def revealed_state(row: dict[str, Any], which: str) -> Any:
    """The long-term state a frame shows: S0 on the first frame, ST on the last, if that reveal is the
    shown one (the frame with more labelled, or else more, visible non-caption objects); else None."""
    if not row["states"] or which == "middle":
        return None

    def shown(frame: int) -> tuple[int, int]:
        view = [o for o in frame_view(row, frame) if o["visible"] and not o["id"].startswith("caption")]
        return sum(bool(o["label"]) for o in view), len(view)

    first, last = shown(0), shown(row["num_frames"] - 1)
    if which == "first" and first > last:
        return json_state(row["states"][0]["state"])
    if which == "last" and last > first:
        return json_state(row["states"][-1]["state"])
    return None


def flatten(state: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths of a JSON state, list positions counted from both ends, plus list lengths."""
    out: dict[str, Any] = {}
    if isinstance(state, dict):
        for key, value in state.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(state, list):
        out[f"{prefix}#len"] = len(state)
        out[f"{prefix}#joined"] = ", ".join(str(v) for v in state) if all(not isinstance(v, (dict, list)) for v in state) else None
        for i, value in enumerate(state):
            out.update(flatten(value, f"{prefix}[{i}]"))
            out.update(flatten(value, f"{prefix}[-{len(state) - i}]"))
    else:
        out[prefix or "value"] = state
    return out


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return float(value)
    return None


def _ranks(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0 for _ in values]
    return [sum(v > w for w in values) / (len(values) - 1) for v in values]


class FrameFeatures:
    """Candidate features for one family at one frame position (first, middle or last)."""

    def __init__(self, rows: Sequence[dict[str, Any]], which: str):
        self.which = which
        self.vocabulary = vocabulary_of(rows) - set(COLORS) - {o["shape"] for r in rows for o in r["objects"]}
        counts: dict[str, int] = {}
        for row in rows:
            state = revealed_state(row, which)
            if state is not None:
                for path in flatten(state):
                    counts[path] = counts.get(path, 0) + 1
        self.paths = sorted(counts, key=lambda p: -counts[p])[:MAX_STATE_PATHS]

    # -- the frame's state, shared by the row's candidates ---------------------------------------
    def frame_state(self, row: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, float], dict[str, Any]]:
        frame = frame_index(row, self.which)
        view = frame_view(row, frame)
        drawn = [o for o in view if not o["id"].startswith("caption")]
        named = _named_in_frame(question_stem(row), drawn)
        target = named[0] if named else None
        other = named[1] if len(named) > 1 else None
        f: dict[str, float] = {
            "visible_objects": float(sum(o["visible"] for o in drawn)),
            "visible_labels": float(sum(o["visible"] and bool(o["label"]) for o in drawn)),
        }
        for shape in sorted({o["shape"] for o in drawn}):
            f[f"visible_{shape}"] = float(sum(o["visible"] and o["shape"] == shape for o in drawn))
        if target is not None:
            f.update(
                {
                    "t_visible": float(target["visible"]),
                    "t_x": target["x"],
                    "t_y": target["y"],
                    "t_dx": target["x"] - 0.5,
                    "t_dy": target["y"] - 0.5,
                    "t_edge": min(target["x"], target["y"], 1 - target["x"], 1 - target["y"]),
                    "t_sin": math.sin(target["angle"]),
                    "t_cos": math.cos(target["angle"]),
                    "t_size": target["size"] / row["width"],
                }
            )
        if target is not None and other is not None:
            f.update(
                {
                    "o_x": other["x"],
                    "o_y": other["y"],
                    "to_dx": target["x"] - other["x"],
                    "to_dy": target["y"] - other["y"],
                    "to_dist": math.hypot(target["x"] - other["x"], target["y"] - other["y"]),
                }
            )
        state = revealed_state(row, self.which)
        leaves = flatten(state) if state is not None else {}
        f["state_shown"] = float(state is not None)
        for path in self.paths:
            value = _numeric(leaves.get(path))
            if value is not None:
                f[f"s:{path}"] = value
        return drawn, f, {"leaves": leaves, "target": target}

    # -- candidates ------------------------------------------------------------------------------
    def __call__(self, row: dict[str, Any], texts: list[str]) -> list[dict[str, float]]:
        drawn, frame_f, extra = self.frame_state(row)
        kind = f"kind={row['question_type']}"
        if row["answer_type"] == "yes_no":
            words = {f"w={w}": 1.0 for w in set(tokens(question_stem(row))) & self.vocabulary}
            shared = {kind: 1.0, **frame_f, **words}
            # Interactions of the asked words with the frame (e.g. "left of" and where A is).
            for word in words:
                for name in ("to_dx", "to_dy", "t_dx", "t_dy", "t_sin", "t_cos"):
                    if name in frame_f:
                        shared[f"{word}*{name}"] = frame_f[name]
            return [{"is_yes": 1.0, **{f"yes|{k}": v for k, v in shared.items()}}, {"is_no": 1.0}]
        numbers = {k: v for k, v in frame_f.items() if k.startswith(("visible_", "s:"))}
        if row["answer_type"] == "number":
            out = []
            for text in texts:
                value = float(text)
                f = {f"value={text}": 1.0, kind: 1.0}
                for name, seen in numbers.items():
                    f[f"eq:{name}"] = float(value == seen)
                    f[f"diff:{name}"] = value - seen
                f.update({f"value*{k}": value * v for k, v in frame_f.items() if not k.startswith("s:")})
                out.append(f)
            return out
        return self._options(row, texts, drawn, frame_f, extra, numbers)

    def _options(self, row, texts, drawn, frame_f, extra, numbers):
        target, leaves = extra["target"], extra["leaves"]
        kind = f"kind={row['question_type']}"
        visible = [o for o in drawn if o["visible"]]
        xs, ys = [o["x"] for o in visible], [o["y"] for o in visible]
        pair_distance: list[float | None] = []
        out = []
        for i, text in enumerate(texts):
            lowered = text.lower()
            f: dict[str, float] = {f"pos={i}": 1.0, kind: 1.0}
            # The option's wording as a category (object names removed), with the frame in its slot.
            category = lowered
            for o in row["objects"]:
                category = category.replace(f"{o['color']} {o['shape']}", "<obj>")
            f[f"opt={category}"] = 1.0
            for name in ("t_dx", "t_dy", "t_edge", "to_dist", "to_dx", "to_dy", "t_sin", "t_cos", "visible_objects"):
                if name in frame_f:
                    f[f"opt={category}|{name}"] = frame_f[name]
            # Objects the option names: by color and shape, by drawn color, or by label.
            refs = _named_in_frame(text, drawn)
            if not refs:
                refs = [o for o in visible if o["color"] == lowered or (o["label"] and o["label"] == text)]
            for n, ref in enumerate(refs[:2]):
                rank_x = sum(ref["x"] > x for x in xs) / max(len(xs) - 1, 1) if ref["visible"] else -1.0
                rank_y = sum(ref["y"] > y for y in ys) / max(len(ys) - 1, 1) if ref["visible"] else -1.0
                f.update(
                    {
                        f"r{n}_found": 1.0,
                        f"r{n}_visible": float(ref["visible"]),
                        f"r{n}_x": ref["x"],
                        f"r{n}_y": ref["y"],
                        f"r{n}_rank_x": rank_x,
                        f"r{n}_rank_y": rank_y,
                        f"r{n}_sin": math.sin(ref["angle"]),
                        f"r{n}_cos": math.cos(ref["angle"]),
                        f"r{n}_size": ref["size"] / row["width"],
                        f"r{n}_is_target": float(target is not None and ref["id"] == target["id"]),
                    }
                )
                if target is not None:
                    f[f"r{n}_dist_target"] = math.hypot(ref["x"] - target["x"], ref["y"] - target["y"])
            pair_distance.append(math.hypot(refs[0]["x"] - refs[1]["x"], refs[0]["y"] - refs[1]["y"]) if len(refs) >= 2 else None)
            # A compass direction against where the asked object is.
            if lowered in COMPASS and target is not None:
                dx, dy = COMPASS_VECTORS[lowered]
                f["compass_dot"] = dx * (target["x"] - 0.5) + dy * (target["y"] - 0.5)
                f["compass_room"] = _room(target, dx, dy)
            # A number against the counts the frame shows.
            value = _numeric(text.split()[0]) if text.split() else None
            if value is not None:
                f["value"] = value
                for name, seen in numbers.items():
                    f[f"eq:{name}"] = float(value == seen)
            # The revealed state's values.
            for path in self.paths:
                leaf = leaves.get(path)
                if leaf is not None and str(leaf) == text:
                    f[f"state:{path}"] = 1.0
            out.append(f)
        found = [d for d in pair_distance if d is not None]
        if len(found) == len(texts) and found:
            for f, rank in zip(out, _ranks(found)):
                f["pair_distance_rank"] = rank
        return out


def _named_in_frame(text: str, drawn: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visible objects a text names by how they look in this frame, in order of mention.

    A single frame shows the current color and shape, not the object's identity: an object named by
    a color it no longer has cannot be found in this frame.
    """
    lowered, hits = text.lower(), []
    for obj in drawn:
        if not obj["visible"]:
            continue
        for phrase in (f"{obj['color']} {obj['shape']}", f"{obj['color']} ball"):
            at = lowered.find(phrase)
            if at >= 0:
                hits.append((at, obj["id"], obj))
                break
    return [obj for _, _, obj in sorted(hits, key=lambda h: h[:2])]


def _room(obj: dict[str, Any], dx: float, dy: float) -> float:
    """How far the object can go in direction (dx, dy) before leaving the frame."""
    limits = []
    for position, step in ((obj["x"], dx), (obj["y"], dy)):
        if step > 1e-9:
            limits.append((1 - position) / step)
        elif step < -1e-9:
            limits.append(position / -step)
    return min(limits) if limits else 1.0


def check_single_frame(family: str, rows: Sequence[dict[str, Any]], alpha: float = ALPHA) -> CheckResult:
    per_frame = {}
    for which in FRAMES:
        features = FrameFeatures(rows, which)
        per_frame[which] = evaluate("single_frame", family, rows, build_choices(rows, features), prior_rule=False, alpha=alpha)
    best = max(FRAMES, key=lambda w: (per_frame[w].status == "fail", per_frame[w].details.get("model", 0.0)))
    result = per_frame[best]
    frames = {w: {k: r.details.get(k) for k in ("model", "majority", "chance", "p_model")} for w, r in per_frame.items()}
    details = {"best_frame": best, **result.details, "frames": frames}
    summary = f"best {best} frame: {result.summary}" if result.status != "skip" else result.summary
    return CheckResult("single_frame", family, result.status, summary, details)
