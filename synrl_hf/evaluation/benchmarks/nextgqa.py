"""NExT-GQA: grounded multiple-choice QA on NExT-QA videos (Xiao et al., CVPR 2024).

Data: github.com/doc-doc/NExT-GQA ``datasets/nextgqa/{test,val}.csv`` (video, qid, question,
a0-a4, answer), ``gsub_{test,val}.json`` ({video: {duration, location: {qid: [[s, e], ...]}}}) and
``map_vid_vidorID.json`` (video -> NExT-QA path); videos from NExT-QA (``NExTVideo``).
Protocol: no lmms-eval task exists, so the prompt is ours (answer letter + evidence span in one
reply); metrics follow the official ``eval_ground.py``: max IoU / IoP over the ground-truth spans,
mIoU, mIoP, IoU@0.3/0.5 (R@), IoP@0.3/0.5 and Acc@GQA (correct answer and IoP >= 0.5).
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    find_video,
    letter,
    read_records,
    write_clip,
    write_csv,
    write_json,
    write_local_folder,
)
from ..common.metrics import Mean, grounding_scores
from ..common.parsing import letters_for, qa_and_span
from ..common.tasks import Benchmark, option_lines

INSTRUCTION = (
    "Answer with the option's letter, then give the start and end time in seconds of the video segment "
    "that supports your answer, in the format 'Answer: X. Evidence: start - end seconds.'"
)


def convert(source, videos_root, out, split: str = "test"):
    source = Path(source)
    questions = read_records(source / f"{split}.csv")
    gsub = {g["__key__"]: g for g in read_records(source / f"gsub_{split}.json")}
    vid_map_path = source / "map_vid_vidorID.json"
    vid_map = {r["__key__"]: r["value"] for r in read_records(vid_map_path)} if vid_map_path.exists() else {}
    rows = []
    for q in questions:
        vid, qid = str(q["video"]), str(q["qid"])
        spans = gsub.get(vid, {}).get("location", {}).get(qid)
        if not spans:
            continue  # not a grounded question
        path = vid_map.get(vid, vid)
        rows.append(
            {
                "id": f"{vid}_{qid}",
                "videos": [find_video(videos_root, [f"{path}.mp4", f"NExTVideo/{path}.mp4"])],
                "question": q["question"].strip(),
                "options": [q[f"a{i}"] for i in range(5)],
                "answer": letter(q["answer"]),
                "meta": {"spans": spans, "duration": gsub[vid].get("duration"), "type": q.get("type", "")},
            }
        )
    return write_local_folder("nextgqa", rows, out, videos_root, source)


def prompt(row) -> str:
    question = row["question"] if row["question"].endswith("?") else row["question"] + "?"
    return f"{question}\n{option_lines(row['options'])}\n{INSTRUCTION}"


def score(spec, text) -> dict:
    pred, span = qa_and_span(text, letters_for(spec["options"]))
    scores = grounding_scores(span, spec["meta"]["spans"], iou_thresholds=(0.3, 0.5, 0.7), iop_thresholds=(0.3, 0.5))
    scores["acc"] = float(pred == spec["answer"])
    scores["acc_gqa"] = float(pred == spec["answer"] and scores["IoP@0.5"] == 1.0)
    return scores


def oracle(spec) -> str:
    start, end = spec["meta"]["spans"][0]
    return f"Answer: {spec['answer']}. Evidence: {start} - {end} seconds."


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "nextgqa", root / "nextgqa_videos"
    for i, vid in enumerate(["4010069381", "6033001590"]):
        write_clip(videos / "1017" / f"{vid}.mp4", seconds=3, seed=i)
    options = {f"a{i}": f"option {i}" for i in range(5)}
    write_csv(
        src / "test.csv",
        [
            {
                "video": "4010069381",
                "frame_count": 24,
                "width": 64,
                "height": 64,
                "qid": 0,
                "type": "TC",
                "question": "what does the square do at the start",
                "answer": 1,
                **options,
            },
            {
                "video": "4010069381",
                "frame_count": 24,
                "width": 64,
                "height": 64,
                "qid": 3,
                "type": "CW",
                "question": "why does the square move right",
                "answer": 4,
                **options,
            },
            {
                "video": "6033001590",
                "frame_count": 24,
                "width": 64,
                "height": 64,
                "qid": 1,
                "type": "TN",
                "question": "what happens after the square starts",
                "answer": 0,
                **options,
            },
        ],
    )
    write_json(
        src / "gsub_test.json",
        {
            "4010069381": {"duration": 3.0, "location": {"0": [[0.0, 1.0]], "3": [[1.0, 2.0], [2.0, 3.0]]}, "fps": 8},
            "6033001590": {"duration": 3.0, "location": {"1": [[0.5, 2.5]]}, "fps": 8},
        },
    )
    write_json(src / "map_vid_vidorID.json", {"4010069381": "1017/4010069381", "6033001590": "1017/6033001590"})
    return src, videos


BENCHMARK = Benchmark(
    name="nextgqa",
    title="NExT-GQA",
    group="grounding",
    source="github.com/doc-doc/NExT-GQA (annotations); NExT-QA videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={k: Mean() for k in ("mIoU", "mIoP", "R@0.3", "R@0.5", "R@0.7", "IoP@0.3", "IoP@0.5", "acc", "acc_gqa")},
    headline=("mIoU", "mIoP", "acc_gqa"),
    oracle=oracle,
    generation_size=64,
    deviations="Prompt is ours (no reference prompt for VLMs); one reply carries both answer and span.",
)
