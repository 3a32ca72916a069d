"""Grounded multiple-choice QA (NExT-GQA, ReXTime) asked the way the SynRL paper scores it: the
grounding alone, and the answer alone, as two prompts about the same question.

The paper reports pure grounding for these benchmarks (R@0.3/0.5/0.7, mIoU), so the span is asked
for without the options (ReXTime's official moment-retrieval prompt, from its demo); the letter is
asked with lmms-eval's usual multiple-choice instruction. Each question becomes two rows, ``<id>/qa``
and ``<id>/ground``; the grounded accuracy pairs them back (:class:`~.metrics.GroundedQA`).
"""

from __future__ import annotations

from .metrics import GroundedQA, Mean, grounding_scores
from .parsing import extract_mcq_answer, extract_span, letters_for
from .tasks import option_lines

# ReXTime demo/inference.py, verbatim ("Quesetion" sic).
GROUND_PROMPT = (
    "Please find a relevant span to answer in seconds to answer the question in the following format: "
    "From <start_time> to <end_time>. Quesetion: {question}"
)
QA_POST_PROMPT = "Answer with the option's letter from the given choices directly."
IOU_THRESHOLDS = (0.3, 0.5, 0.7)


def question_rows(qid: str, videos: list[str], question: str, options: list[str], answer: str, spans, meta: dict) -> list[dict]:
    """The two rows of one grounded question (``spans``: ground-truth ``[start, end]`` seconds)."""
    spans = [[float(s), float(e)] for s, e in spans]
    return [
        {
            "id": f"{qid}/{kind}",
            "videos": videos,
            "question": question,
            "options": options,
            "answer": answer if kind == "qa" else str(spans[0]),
            "meta": {**meta, "kind": kind, "question_id": qid, "spans": spans},
        }
        for kind in ("qa", "ground")
    ]


def _question(text: str) -> str:
    text = text.strip()
    return text if text.endswith("?") else text + "?"


def prompt(row) -> str:
    if row["meta"]["kind"] == "ground":
        return GROUND_PROMPT.format(question=_question(row["question"]))
    return f"{_question(row['question'])}\n{option_lines(row['options'])}\n{QA_POST_PROMPT}"


def score(spec, text, iop_thresholds=()) -> dict:
    meta = spec["meta"]
    if meta["kind"] == "qa":
        correct = float(extract_mcq_answer(text, letters_for(spec["options"])) == spec["answer"])
        return {"acc": correct, "gqa": {"question": meta["question_id"], "kind": "qa", "score": correct}}
    scores = grounding_scores(extract_span(text), meta["spans"], IOU_THRESHOLDS, iop_thresholds)
    scores["gqa"] = {"question": meta["question_id"], "kind": "ground", "iou": scores["mIoU"], "iop": scores["mIoP"]}
    return scores


def oracle(spec) -> str:
    if spec["meta"]["kind"] == "qa":
        return spec["answer"]
    start, end = spec["meta"]["spans"][0]
    return f"From {start} to {end}."


def aggregations(grounded: GroundedQA, iop_thresholds=()) -> dict:
    keys = ["R@0.3", "R@0.5", "R@0.7", "mIoU", "mIoP", *(f"IoP@{t}" for t in iop_thresholds), "acc"]
    return {**{k: Mean() for k in keys}, "gqa": grounded}
