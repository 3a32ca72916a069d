"""Metric math: grounding IoU/IoP and the corpus aggregations of lighteval 0.13 tasks.

Per-sample values are produced by a benchmark's ``score(spec, text)`` function (a dict of floats,
plus small ``{"group": ..., "score": ...}`` records for grouped metrics); corpus aggregations are
the classes below. Everything is importable and has a stable ``repr`` so lighteval can pickle the
metrics and hash the task config deterministically (its sample cache keys on that hash). The
temporal IoU itself is the answer grammar's (:func:`synrl_hf.answers.temporal_iou`).

lighteval conventions used (checked in lighteval 0.13.0 source):
- An aggregation returning a dict is merged into the task's results (no stderr is computed);
  one returning a float gets ``mean_stderr`` when its ``__name__`` contains "mean", else a
  multiprocessing bootstrap - so every float aggregation here is a :class:`Mean`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from lighteval.metrics.metrics_corpus import CorpusLevelComputation

from synrl_hf.answers import Span, span_overlap, temporal_iou

# --- grounding ------------------------------------------------------------------------------


def _finite_span(span: Any) -> bool:
    try:
        start, end = float(span[0]), float(span[-1])
    except (TypeError, ValueError, IndexError):
        return False
    return math.isfinite(start) and math.isfinite(end) and start <= end


def iou_iop(pred: Span | None, gt: Span) -> tuple[float, float]:
    """Temporal IoU and IoP (intersection over the *predicted* span) of ``pred`` against ``gt``.

    Semantics of NExT-GQA's official ``get_tIoU``: a zero-length prediction has IoU 0 and IoP 1 when
    it lies inside the ground truth (else 0). A missing or malformed prediction scores (0, 0).
    """
    if pred is None or not _finite_span(pred) or not _finite_span(gt):
        return 0.0, 0.0
    p, g = (float(pred[0]), float(pred[-1])), (float(gt[0]), float(gt[-1]))
    if p[0] == p[1]:
        return 0.0, float(g[0] <= p[0] <= g[1])
    return temporal_iou(p, g), span_overlap(p, g) / (p[1] - p[0])


def best_iou_iop(pred: Span | None, gts: Iterable[Span]) -> tuple[float, float]:
    """Max IoU and max IoP over several ground-truth spans (NExT-GQA ``eval_ground``; for ReXTime
    the max-IoU window is the one ``rextime_eval.compute_mr_r1`` picks)."""
    best_iou, best_iop = 0.0, 0.0
    for gt in gts:
        iou, iop = iou_iop(pred, gt)
        best_iou, best_iop = max(best_iou, iou), max(best_iop, iop)
    return best_iou, best_iop


def grounding_scores(pred: Span | None, gts: Iterable[Span], iou_thresholds=(0.3, 0.5, 0.7), iop_thresholds=()) -> dict[str, float]:
    """Per-sample values for R@t (IoU >= t), IoP@t, mIoU and mIoP (means of these give the corpus
    numbers; all in [0, 1])."""
    iou, iop = best_iou_iop(pred, gts)
    scores = {f"R@{t}": float(iou >= t) for t in iou_thresholds}
    scores.update({f"IoP@{t}": float(iop >= t) for t in iop_thresholds})
    scores.update({"mIoU": iou, "mIoP": iop})
    return scores


# --- corpus aggregations ----------------------------------------------------------------------


class Mean:
    """Arithmetic mean; named "mean" so lighteval uses its closed-form stderr."""

    __name__ = "mean"

    def __call__(self, values: list[float]) -> float:
        values = [float(v) for v in values]
        return sum(values) / len(values) if values else float("nan")

    def __repr__(self) -> str:
        return "Mean()"


class GroupMean(CorpusLevelComputation):
    """Accuracy per group from ``{"group", "score"}`` records: ``{f"{prefix}{group}": mean}``, plus
    the unweighted mean over groups as ``{prefix}mean`` when ``with_mean`` (MVBench/TVBench style)."""

    def __init__(self, prefix: str, with_mean: bool = False, groups: Sequence[str] = ()):
        self.prefix, self.with_mean, self.groups = prefix, with_mean, tuple(groups)

    def compute_corpus(self, items: list[dict]) -> dict[str, float]:
        buckets: dict[str, list[float]] = defaultdict(list)
        for item in items:
            buckets[str(item["group"])].append(float(item["score"]))
        names = list(self.groups) + sorted(g for g in buckets if g not in self.groups)
        out = {f"{self.prefix}{g}": sum(buckets[g]) / len(buckets[g]) for g in names if buckets.get(g)}
        if self.with_mean and buckets:
            per_group = [sum(v) / len(v) for v in buckets.values()]
            out[f"{self.prefix}mean"] = sum(per_group) / len(per_group)
        return out

    def __repr__(self) -> str:
        return f"GroupMean(prefix={self.prefix!r}, with_mean={self.with_mean}, groups={self.groups})"


class AllCorrectByGroup(CorpusLevelComputation):
    """Share of groups whose every item is correct: TemporalBench's multiple binary accuracy
    (groups = ``video_name``)."""

    def __init__(self, name: str):
        self.name = name

    def compute_corpus(self, items: list[dict]) -> dict[str, float]:
        groups: dict[str, bool] = {}
        for item in items:
            groups[str(item["group"])] = groups.get(str(item["group"]), True) and float(item["score"]) == 1.0
        return {self.name: sum(groups.values()) / len(groups) if groups else float("nan")}

    def __repr__(self) -> str:
        return f"AllCorrectByGroup(name={self.name!r})"


class VinogroundScores(CorpusLevelComputation):
    """Vinoground's text, video and group scores from ``{"pair", "kind", "score"}`` records (plus
    ``major``: the same scores per major category, ``text_score_<major>`` ...).

    A pair's text score needs both text questions (positive and negative video) right, its video
    score both video questions, its group score all four. Pairs count once; a pair with a question
    missing (skipped video) cannot be all-correct.
    """

    def compute_corpus(self, items: list[dict]) -> dict[str, float]:
        pairs: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"text": [], "video": []})
        majors: dict[str, str] = {}
        for item in items:
            pairs[str(item["pair"])][str(item["kind"])].append(float(item["score"]))
            if item.get("major"):
                majors[str(item["pair"])] = str(item["major"])
        if not pairs:
            return {}

        def ok(scores: list[float]) -> bool:
            return len(scores) == 2 and all(s == 1.0 for s in scores)

        def scores(names: list[str], suffix: str = "") -> dict[str, float]:
            text = [ok(pairs[p]["text"]) for p in names]
            video = [ok(pairs[p]["video"]) for p in names]
            n = len(names)
            return {
                f"text_score{suffix}": sum(text) / n,
                f"video_score{suffix}": sum(video) / n,
                f"group_score{suffix}": sum(t and v for t, v in zip(text, video)) / n,
            }

        out = scores(list(pairs))
        for major in sorted(set(majors.values())):
            out.update(scores([p for p, m in majors.items() if m == major], f"_{major}"))
        return out

    def __repr__(self) -> str:
        return "VinogroundScores()"


class GroundedQA(CorpusLevelComputation):
    """Grounded-QA accuracy from the paired records of a question's two prompts: ``{"question",
    "kind": "qa", "score"}`` (the answer) and ``{"question", "kind": "ground", "iou", "iop"}`` (the
    span). A question counts as right when its answer is right and its span's ``by`` (``iop`` for
    NExT-GQA's Acc@GQA, ``iou`` for ReXTime's) reaches ``threshold``; only questions with both
    records count (NExT-GQA's ``eval_ground`` scores the questions that have a prediction)."""

    def __init__(self, name: str, by: str, threshold: float = 0.5):
        self.name, self.by, self.threshold = name, by, threshold

    def compute_corpus(self, items: list[dict]) -> dict[str, float]:
        questions: dict[str, dict[str, dict]] = defaultdict(dict)
        for item in items:
            questions[str(item["question"])][str(item["kind"])] = item
        paired = [q for q in questions.values() if "qa" in q and "ground" in q]
        if not paired:
            return {self.name: float("nan")}
        right = sum(float(q["qa"]["score"]) == 1.0 and float(q["ground"][self.by]) >= self.threshold for q in paired)
        return {self.name: right / len(paired)}

    def __repr__(self) -> str:
        return f"GroundedQA(name={self.name!r}, by={self.by!r}, threshold={self.threshold})"
