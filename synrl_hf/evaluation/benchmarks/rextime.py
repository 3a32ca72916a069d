"""ReXTime: reasoning across time with grounding (Chen et al., 2024).

Data: github.com/ReXTime/ReXTime ``data/rextime_val.jsonl`` (qid, query, duration, vid,
relevant_windows, ans: the validation ground truth; the test labels are hidden) plus the options
from the Hub dataset ``ReXTime/ReXTime`` (rows with qid, options, source) in the same folder.
Videos: ActivityNet (request form) and QVHighlights; ``<vid>.mp4`` under the videos root (or its
``videos/`` / ``Anet_videos_15fps_short256/`` folders as in the ReXTime README).
Protocol: the prompt is ours; metrics follow ``evaluation/rextime_eval.py``: the ground-truth
window with the highest IoU, R1@{0.3,0.5,0.7}, mIoU, VQA accuracy and GQA accuracy (correct answer
and IoU >= 0.5). mIoP is our addition.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    read_records,
    write_clip,
    write_json,
    write_jsonl,
    write_local_folder,
)
from ..common.metrics import Mean, grounding_scores
from ..common.parsing import letters_for, qa_and_span
from ..common.tasks import Benchmark, option_lines
from .nextgqa import INSTRUCTION


def convert(source, videos_root, out):
    source = Path(source)
    merged: dict[str, dict] = {}
    for record in read_records(source):
        merged.setdefault(str(record["qid"]), {}).update({k: v for k, v in record.items() if v is not None})
    rows = []
    for qid, r in merged.items():
        if "relevant_windows" not in r or "options" not in r:
            continue  # test-set question (no ground truth here) or options missing
        vid = str(r["vid"])
        rows.append(
            {
                "id": qid,
                "videos": [find_video(videos_root, [f"{vid}.mp4", f"videos/{vid}.mp4", f"Anet_videos_15fps_short256/{vid}.mp4"])],
                "question": str(r.get("query") or r.get("question")).strip(),
                "options": [str(o) for o in as_list(r["options"])],
                "answer": str(r["ans"]).strip().upper(),
                "meta": {"windows": [[float(s), float(e)] for s, e in as_list(r["relevant_windows"])], "duration": r.get("duration")},
            }
        )
    return write_local_folder("rextime", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\n{option_lines(row['options'])}\n{INSTRUCTION}"


def score(spec, text) -> dict:
    pred, span = qa_and_span(text, letters_for(spec["options"]))
    scores = grounding_scores(span, spec["meta"]["windows"])
    scores["acc"] = float(pred == spec["answer"])
    scores["acc_gqa"] = float(pred == spec["answer"] and scores["R@0.5"] == 1.0)
    return scores


def oracle(spec) -> str:
    start, end = spec["meta"]["windows"][0]
    return f"Answer: {spec['answer']}. Evidence: {start} - {end} seconds."


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "rextime", root / "rextime_videos"
    write_clip(videos / "videos" / "2I9-kvemtSU_510.0_660.0.mp4", seconds=4, seed=20)
    write_clip(videos / "Anet_videos_15fps_short256" / "v_ZMTi498qnPc.mp4", seconds=4, seed=21)
    write_jsonl(
        src / "rextime_val.jsonl",
        [
            {
                "qid": "qvh_val241",
                "query": "What were they doing before reaching for water?",
                "duration": 4,
                "vid": "2I9-kvemtSU_510.0_660.0",
                "relevant_windows": [[0, 2]],
                "ans": "A",
            },
            {
                "qid": "anet_val92",
                "query": "What does the woman do before smiling?",
                "duration": 4.0,
                "vid": "v_ZMTi498qnPc",
                "relevant_windows": [[1, 3], [3, 4]],
                "ans": "C",
            },
        ],
    )
    write_json(
        src / "rextime_val.json",
        [
            {"qid": "qvh_val241", "source": "qvhighlights_val", "options": ["talking", "eating", "running", "sleeping"]},
            {"qid": "anet_val92", "source": "anet_val", "options": ["dancing", "cooking", "waving", "reading"]},
        ],
    )
    return src, videos


BENCHMARK = Benchmark(
    name="rextime",
    title="ReXTime (val)",
    group="grounding",
    source="github.com/ReXTime/ReXTime (val GT) + Hub ReXTime/ReXTime (options); ActivityNet + QVHighlights videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={k: Mean() for k in ("mIoU", "mIoP", "R@0.3", "R@0.5", "R@0.7", "acc", "acc_gqa")},
    headline=("mIoU", "acc", "acc_gqa"),
    oracle=oracle,
    generation_size=64,
    deviations="Validation set only (test GT is hidden, scored on eval.ai). Prompt ours. mIoP added.",
)
