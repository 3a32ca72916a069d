"""ReXTime: reasoning across time with grounding (Chen et al., 2024), validation split.

Data: the Hub dataset ``ReXTime/ReXTime`` (json list: ``qid, source, vid, question, options`` (4),
``answer`` (a template sentence), ``span`` ``[start, end]`` seconds, ``ans`` (letter), ``category``)
converts alone; github.com/ReXTime/ReXTime ``data/rextime_val.jsonl`` (``qid, query, duration, vid,
relevant_windows, ans``: ground truth without options) converts alone too (grounding only) or
merged with the Hub file by ``qid``. Test-split rows (no ground truth; scored on the leaderboard)
are skipped. Videos: QVHighlights ``videos/<vid>.mp4``, ActivityNet
``Anet_videos_15fps_short256/<vid>.mp4`` (ReXTime README).
Protocol: the paper's pure grounding with ReXTime's own moment-retrieval prompt (from its demo),
the answer asked separately (:mod:`..common.grounded_qa`); metrics of ``evaluation/rextime_eval.py``:
the ground-truth window with the highest IoU, R1@{0.3,0.5,0.7}, mIoU, VQA accuracy and GQA
accuracy (right answer and IoU >= 0.5). mIoP is our addition.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common import grounded_qa
from ..common.converters import annotation_files, as_list, find_video, read_records, write_clip, write_json, write_jsonl, write_local_folder
from ..common.metrics import GroundedQA
from ..common.tasks import Benchmark


def _windows(record: dict) -> list[list[float]] | None:
    if record.get("relevant_windows"):
        return [[float(s), float(e)] for s, e in as_list(record["relevant_windows"])]
    if record.get("span") is not None:
        start, end = (float(t) for t in as_list(record["span"]))
        return [[start, end]]
    return None


def convert(source, videos_root, out):
    merged: dict[str, dict] = {}
    files = annotation_files(source, (".json", ".jsonl"))
    for path in [f for f in files if "val" in f.name] if len(files) > 1 else files:  # a snapshot also holds train/test files
        for record in read_records(path):
            merged.setdefault(str(record["qid"]), {}).update({k: v for k, v in record.items() if v is not None})
    rows = []
    for qid, r in merged.items():
        windows = _windows(r)
        if windows is None or not r.get("ans"):
            continue  # test split: no ground truth here
        vid = str(r["vid"])
        bare = vid.removeprefix("v_")
        candidates = [f"videos/{vid}.mp4", f"Anet_videos_15fps_short256/{vid}.mp4", f"{vid}.mp4", f"Anet_videos_15fps_short256/{bare}.mp4"]
        videos = [find_video(videos_root, candidates)]
        options = [str(o) for o in as_list(r.get("options"))]
        question = str(r.get("question") or r.get("query"))
        meta = {"duration": r.get("duration"), "category": r.get("category", ""), "source": r.get("source", "")}
        pair = grounded_qa.question_rows(qid, videos, question, options, str(r["ans"]).strip().upper(), windows, meta)
        rows += pair if options else pair[1:]  # without the Hub's options only the span can be asked
    return write_local_folder("rextime", rows, out, videos_root, source)


def write_fixture(root) -> tuple[Path, Path]:
    """``data/rextime_val.jsonl`` with the two verbatim lines of the official repo, and the Hub
    ``rextime_val.json`` in the field layout its loaders read (qid, source, vid, question, options,
    answer template, span, ans, category), with one question only the Hub file has."""
    root = Path(root)
    src, videos = root / "rextime", root / "rextime_videos"
    write_clip(videos / "videos" / "2I9-kvemtSU_510.0_660.0.mp4", seconds=4, seed=20)
    write_clip(videos / "Anet_videos_15fps_short256" / "v_ZMTi498qnPc.mp4", seconds=4, seed=21)
    write_clip(videos / "videos" / "9c_w8HU3hqc_210.0_360.0.mp4", seconds=4, seed=22)
    write_jsonl(
        src / "data" / "rextime_val.jsonl",
        [
            {
                "qid": "qvh_val241",
                "query": "What were the woman and man doing before they showed reactions like verbal exclamations and reaching for water?",
                "duration": 150,
                "vid": "2I9-kvemtSU_510.0_660.0",
                "relevant_windows": [[0, 28]],
                "ans": "A",
            },
            {
                "qid": "anet_val92",
                "query": "What does the woman do before smiling at the camera and being watched by the little girl?",
                "duration": 100.5,
                "vid": "v_ZMTi498qnPc",
                "relevant_windows": [[5, 8]],
                "ans": "A",
            },
        ],
    )
    hub = [
        (
            "qvh_val241",
            "qvhighlights_val",
            "2I9-kvemtSU_510.0_660.0",
            [0, 28],
            "A",
            ["eating spicy food", "singing", "running", "sleeping"],
        ),
        ("anet_val92", "anet_val", "v_ZMTi498qnPc", [5, 8], "A", ["waves to the camera", "cooks", "dances", "reads"]),
        ("qvh_val7", "qvhighlights_val", "9c_w8HU3hqc_210.0_360.0", [30, 46], "C", ["walks away", "sits", "opens the fridge", "sings"]),
    ]
    write_json(
        src / "rextime_val.json",
        [
            {
                "qid": qid,
                "source": origin,
                "vid": vid,
                "question": f"What happens in clip {vid}?",
                "options": options,
                "answer": "From <s0> to <e0>, <option>.",
                "span": span,
                "ans": ans,
                "category": "sequential",
            }
            for qid, origin, vid, span, ans, options in hub
        ],
    )
    return src, videos


BENCHMARK = Benchmark(
    name="rextime",
    title="ReXTime (val)",
    group="grounding",
    source="Hub ReXTime/ReXTime and github.com/ReXTime/ReXTime (val GT, rextime_eval.py); ActivityNet + QVHighlights videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=grounded_qa.prompt,
    score=grounded_qa.score,
    aggregations=grounded_qa.aggregations(GroundedQA("acc_gqa", by="iou")),
    headline=("R@0.3", "R@0.5", "R@0.7", "mIoU"),
    oracle=grounded_qa.oracle,
    generation_size=64,
    deviations=(
        "Validation set only (test GT hidden). The official R1 thresholds 0.35-0.95 and GQA@0.3/0.7 are not reported; mIoP added. "
        "The span is parsed by lmms-eval's Charades-STA `extract_time`."
    ),
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="no normative budget (demos use 8 or 50 frames): lmms-eval's Qwen-VL defaults, 32 frames",
    fixture_note="ReXTime/ReXTime@cb9f484 data/rextime_val.jsonl (2 verbatim lines); Hub ReXTime/ReXTime val json (fields as its loaders read them)",
    unverified="no Hub record was seen: its file names and the `answer` template text are taken from two loaders (ReXTime demo, VideoMind)",
)
