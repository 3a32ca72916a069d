"""Check 4, pixel audit: decode each clip and re-derive its answer from the pixels alone.

Every family implements ``answer_from_pixels`` (see :class:`synrl_hf.families.base.Family`); it
reads the decoded planes with the measuring kit in :mod:`synrl_hf.pixels` (objects found by color,
tracks, speeds, rotation markers) and, for the long-term families, :mod:`synrl_hf.longterm_pixels`
(captions and shown states read back with :mod:`synrl_hf.ocr`), never the row's ``events``,
``tracks``, ``states``, ``operations`` or the objects' labels. This module compares and reports;
the audit decodes each clip once (:mod:`synrl_hf.audit.family`).

Intervals ("when" questions) are accepted when their IoU with the row's interval is at least 0.5 or
both endpoints are within 2 frames. The target is 100% agreement; every disagreement is listed with
its sample id, the row's answer and the derived one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..answers import LETTERS, temporal_iou
from ..families import FAMILIES, Family
from ..pixels import PixelScene, Unreadable
from ..video import VideoPlanes, read_planes
from .common import FAIL, PASS, SKIP, CheckResult

INTERVAL_IOU = 0.5
INTERVAL_FRAMES = 2


def pixel_audited(family: str) -> bool:
    """Whether ``family`` can re-derive its answers from pixels (it implements ``answer_from_pixels``)."""
    return FAMILIES[family].answer_from_pixels is not Family.answer_from_pixels


# -- comparing ----------------------------------------------------------------------------------------
def _as_answer(row: dict[str, Any], derived: str) -> str:
    """A derived option text → its letter (multiple choice); other answers are already canonical."""
    if row["answer_type"] != "multiple_choice":
        return derived
    matches = [i for i, option in enumerate(row["options"]) if option == derived]
    if not matches:
        raise Unreadable(f"derived {derived!r}, which is not an option")
    return LETTERS[matches[0]]


def agrees(row: dict[str, Any], derived: str) -> bool:
    if row["answer_type"] == "interval":
        mine, theirs = json.loads(derived), json.loads(row["answer"])
        close = all(abs(m - t) * row["fps"] <= INTERVAL_FRAMES + 1e-6 for m, t in zip(mine, theirs))
        return close or temporal_iou(mine, theirs) >= INTERVAL_IOU
    if row["answer_type"] == "sequence":
        return [s.strip() for s in derived.split(",")] == [s.strip() for s in row["answer"].split(",")]
    return derived == row["answer"]


def audit_row(row: dict[str, Any], video: bytes | VideoPlanes) -> dict[str, Any]:
    """{id, kind, answer, derived, agree, reason} for one row, from its MP4 or its decoded planes."""
    out = {"id": row["id"], "kind": row["question_type"], "answer": row["answer"], "derived": None, "agree": False, "reason": ""}
    try:
        frames = video if isinstance(video, VideoPlanes) else read_planes(video)
        if len(frames) != row["num_frames"]:
            raise Unreadable(f"decoded {len(frames)} frames, the row says {row['num_frames']}")
        derived = FAMILIES[row["task"]]().answer_from_pixels(PixelScene(row, frames))
        out["derived"] = derived if row["answer_type"] != "multiple_choice" else f"{_as_answer(row, derived)} ({derived})"
        out["agree"] = agrees(row, _as_answer(row, derived))
        if not out["agree"]:
            out["reason"] = "the pixels give another answer"
    except Unreadable as error:
        out["reason"] = str(error)
    except Exception as error:  # a broken video or an unexpected layout is a disagreement, not a crash
        out["reason"] = f"{type(error).__name__}: {error}"
    return out


def check_pixels(family: str, rows: Sequence[dict[str, Any]], videos: dict[str, bytes | VideoPlanes]) -> CheckResult:
    """The pixel check of ``family`` over ``rows`` (their MP4s or decoded planes by id)."""
    if not pixel_audited(family):
        return not_audited(family)
    return summarize(family, [audit_row(row, videos[row["id"]]) for row in rows])


def not_audited(family: str) -> CheckResult:
    return CheckResult("pixels", family, SKIP, "no pixel reader", {})


def summarize(family: str, results: Sequence[dict[str, Any]]) -> CheckResult:
    """The pixel check's result from each row's :func:`audit_row`."""
    agree = sum(r["agree"] for r in results)
    wrong = [r for r in results if not r["agree"]]
    by_kind: dict[str, list[int]] = {}
    for r in results:
        by_kind.setdefault(r["kind"], [0, 0])
        by_kind[r["kind"]][0] += r["agree"]
        by_kind[r["kind"]][1] += 1
    details = {
        "n": len(results),
        "agree": agree,
        "agreement": round(agree / max(len(results), 1), 4),
        "by_kind": {k: f"{a}/{n}" for k, (a, n) in sorted(by_kind.items())},
        "disagreements": wrong,
    }
    summary = f"{agree}/{len(results)} answers re-derived from pixels ({agree / max(len(results), 1):.0%})"
    if wrong:
        summary += "; disagree: " + ", ".join(r["id"] for r in wrong[:5]) + (" …" if len(wrong) > 5 else "")
        return CheckResult("pixels", family, FAIL, summary, details)
    return CheckResult("pixels", family, PASS, summary, details)
