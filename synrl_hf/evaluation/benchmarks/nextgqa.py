"""NExT-GQA: grounded multiple-choice QA on NExT-QA videos (Xiao et al., CVPR 2024).

Data (github.com/doc-doc/NExT-GQA ``datasets/nextgqa/``): ``{test,val}.csv`` with the header
``video_id,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4`` where ``answer`` is
the answer *text* (mapped to the first option equal to it: one test row has two equal options),
``gsub_{split}.json`` (``{video_id: {duration, location: {qid: [[s, e], ...]}, fps}}``, seconds)
and ``map_vid_vidorID.json`` (``video_id -> "<dir>/<video_id>"``). Videos: NExT-QA's
``<dir>/<video_id>.mp4``, or the flat ``NExTVideo/<video_id>.mp4`` of lmms-eval's mirror.
Protocol: the paper's pure grounding (the span asked alone, :mod:`..common.grounded_qa`) and the
answer asked alone; metrics of the official ``eval_ground.py``: max IoU / IoP over the
ground-truth spans, mIoU, mIoP, IoU@0.3/0.5 (R@), IoP@0.3/0.5, Acc@GQA (right answer and IoP >= 0.5),
plus the paper's R@0.7.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common import grounded_qa
from ..common.converters import find_video, letter, read_records, write_clip, write_csv, write_json, write_local_folder
from ..common.metrics import GroundedQA
from ..common.tasks import Benchmark

HEADER = ("video_id", "frame_count", "width", "height", "question", "answer", "qid", "type", "a0", "a1", "a2", "a3", "a4")
IOP_THRESHOLDS = (0.3, 0.5)


def convert(source, videos_root, out, split: str = "test"):
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    questions = read_records(folder / f"{split}.csv")
    gsub = {g["__key__"]: g for g in read_records(folder / f"gsub_{split}.json")}
    map_path = folder / "map_vid_vidorID.json"
    vid_map = {r["__key__"]: r["value"] for r in read_records(map_path)} if map_path.exists() else {}
    rows = []
    for q in questions:
        vid, qid = str(q["video_id"]), str(q["qid"])
        spans = gsub.get(vid, {}).get("location", {}).get(qid)
        if not spans:
            continue  # not a grounded question
        options = [q[f"a{i}"] for i in range(5)]
        if q["answer"] not in options:
            raise ValueError(f"nextgqa: answer {q['answer']!r} of video {vid} question {qid} is none of its options {options}")
        path = vid_map.get(vid, vid)
        video = find_video(videos_root, [f"{path}.mp4", f"NExTVideo/{path}.mp4", f"{vid}.mp4", f"NExTVideo/{vid}.mp4"])
        meta = {"duration": gsub[vid].get("duration"), "type": q.get("type", "")}
        rows += grounded_qa.question_rows(f"{vid}_{qid}", [video], q["question"], options, letter(options.index(q["answer"])), spans, meta)
    return write_local_folder("nextgqa", rows, out, videos_root, source)


def score(spec, text) -> dict:
    return grounded_qa.score(spec, text, IOP_THRESHOLDS)


def write_fixture(root) -> tuple[Path, Path]:
    """``test.csv`` with the official header and two verbatim rows (2574374895 q8, 3083302557 q3), a
    row whose answer equals two options (as 3842638015 q4 does) and one answered by ``a0``;
    ``gsub_test.json`` and ``map_vid_vidorID.json`` in the official shapes (seconds, int durations,
    several spans per question, the verbatim 10109006686 entry). Videos: one under its NExT-QA
    ``<dir>/``, one flat as in lmms-eval's ``NExTVideo/`` mirror."""
    root = Path(root)
    src, videos = root / "nextgqa" / "datasets" / "nextgqa", root / "nextqa_videos"
    write_clip(videos / "NExTVideo" / "0101" / "2574374895.mp4", seconds=3, seed=0)
    write_clip(videos / "NExTVideo" / "3083302557.mp4", seconds=3, seed=1)
    write_clip(videos / "NExTVideo" / "0016" / "3842638015.mp4", seconds=3, seed=2)
    real = [
        "2574374895,719,320,240,what did the baby do after throwing the green cup away while on the floor near the end,lay on floor,8,TN,"
        "clap proudly,the lady sitting down,lay on floor,just picked it up,crawl",
        "3083302557,1420,640,480,what did the lady do while turning back,thumbs up,3,TC,walk away,thumbs up,put down her club,"
        "applying cream on face,caressing for the dog",
    ]
    rows = [dict(zip(HEADER, line.split(","))) for line in real]
    rows.append(
        dict(zip(HEADER, "3842638015,900,640,480,how does the girl feel at the end,happy,4,CW,sad,angry,bored,happy,happy".split(",")))
    )
    rows.append(
        dict(
            zip(
                HEADER,
                "3842638015,900,640,480,why did the girl jump,to catch the ball,1,CW,to catch the ball,to dance,to run,to sit,to sing".split(
                    ","
                ),
            )
        )
    )
    write_csv(src / "test.csv", rows)
    write_json(
        src / "gsub_test.json",
        {
            "10109006686": {"duration": 35, "location": {"0": [[0.5, 12.6]], "2": [[0.5, 12.6]], "6": [[29.1, 34.8]]}, "fps": 29.97},
            "2574374895": {"duration": 24, "location": {"8": [[15.2, 19]]}, "fps": 29.97},
            "3083302557": {"duration": 47.4, "location": {"3": [[1.2, 5.8], [12.1, 17.1]]}, "fps": 29.97},
            "3842638015": {"duration": 30, "location": {"4": [[20.0, 23.5]], "1": [[3.0, 6.5]]}, "fps": 29.97},
        },
    )
    write_json(
        src / "map_vid_vidorID.json", {"2574374895": "0101/2574374895", "3083302557": "0020/3083302557", "3842638015": "0016/3842638015"}
    )
    return src, videos


BENCHMARK = Benchmark(
    name="nextgqa",
    title="NExT-GQA",
    group="grounding",
    source="github.com/doc-doc/NExT-GQA (annotations, eval_ground.py); NExT-QA videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=grounded_qa.prompt,
    score=score,
    aggregations=grounded_qa.aggregations(GroundedQA("acc_gqa", by="iop"), IOP_THRESHOLDS),
    headline=("R@0.3", "R@0.5", "R@0.7", "mIoU"),
    oracle=grounded_qa.oracle,
    generation_size=64,
    deviations=(
        "No reference VLM prompt: the span is asked with ReXTime's moment-retrieval prompt and parsed by lmms-eval's Charades-STA "
        "`extract_time`; the answer is asked separately. R@0.7 is the paper's addition (the official script stops at 0.5). A question "
        "whose answer text equals two options maps to the first."
    ),
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="32 frames (NExT-GQA's official models sample 32 timestamps per video); lmms-eval's Qwen-VL pixel cap",
    fixture_note="doc-doc/NExT-GQA@63772e0 datasets/nextgqa/test.csv (header + 2 verbatim rows), gsub_test.json, map_vid_vidorID.json",
    unverified="the flat NExTVideo/<video_id>.mp4 layout of lmms-eval's mirror is inferred from its loader (zip not inspected)",
)
