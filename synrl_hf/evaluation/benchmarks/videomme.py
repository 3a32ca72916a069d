"""Video-MME: general video understanding, short / medium / long (Fu et al., CVPR 2025).

Data: Hub ``lmms-eval/Video-MME`` ``videomme/test-00000-of-00001.parquet`` (2700 rows: ``video_id``
"001".., ``duration`` short/medium/long, ``domain, sub_category, url, videoID`` (YouTube id = file
stem), ``question_id`` "001-1", ``task_type, question``, ``options`` already lettered "A. ...",
``answer`` letter); videos ``data/<videoID>.mp4`` (lmms-eval; ``.MP4``/``.mkv`` too) or VLMEvalKit's
flattened ``video/<videoID>.mp4``.
Protocol: lmms-eval ``videomme`` (no subtitles) with its default kwargs: "Select the best answer
... based on the video and the subtitles ..." + question + options + a blank line + "Answer with the
option's letter from the given choices directly.", 16 new tokens, its shared ``extract_mcq_answer``
(case-insensitive compare); accuracy overall and per duration, domain and task type.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import as_list, find_video, read_records, write_clip, write_local_folder, write_parquet
from ..common.metrics import GroupMean, Mean
from ..common.parsing import extract_mcq_answer
from ..common.tasks import Benchmark, mc_scores

OPTION_PROMPT = (
    "Select the best answer to the following multiple-choice question based on the video and the subtitles. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)
POST_PROMPT = "\nAnswer with the option's letter from the given choices directly."
DURATIONS = ("short", "medium", "long")


def convert(source, videos_root, out):
    source = Path(source)
    path = next(iter(sorted(source.rglob("test-*.parquet"))), source) if source.is_dir() else source
    rows = []
    for r in read_records(path):
        vid = str(r["videoID"])
        rows.append(
            {
                "id": str(r["question_id"]),
                "videos": [find_video(videos_root, [f"data/{vid}.mp4", f"video/{vid}.mp4", f"{vid}.mp4"])],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r["options"])],
                "answer": str(r["answer"]).strip(),
                "meta": {"duration": str(r["duration"]), "domain": str(r.get("domain", "")), "task_type": str(r.get("task_type", ""))},
            }
        )
    return write_local_folder("videomme", rows, out, videos_root, path)


def prompt(row) -> str:
    options = "\n".join(row["options"])
    return f"{OPTION_PROMPT}\n{row['question']}\n{options}\n{POST_PROMPT}"


def score(spec, text) -> dict:
    pred = extract_mcq_answer(text, "ABCD")
    scores = mc_scores(pred, spec["answer"], spec["meta"]["duration"], key="by_duration")
    scores["by_domain"] = {"group": spec["meta"]["domain"], "score": scores["acc"]}
    scores["by_task_type"] = {"group": spec["meta"]["task_type"], "score": scores["acc"]}
    return scores


def oracle(spec) -> str:
    return f"The best answer is {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    """``videomme/test-00000-of-00001.parquet`` with the card's features; question 001-1 is the
    official ``output_test_template.json`` record (lettered options). Videos in ``data/`` (one
    video carries three questions, as every Video-MME video does)."""
    root = Path(root)
    repo = root / "Video-MME"
    questions = [
        (
            "001",
            "short",
            "001-1",
            "Counting Problem",
            "When demonstrating the Germany modern Christmas tree is initially decorated with "
            "apples, candles and berries, which kind of the decoration has the largest number?",
            ["A. Apples.", "B. Candles.", "C. Berries.", "D. The three kinds are of the same number."],
            "C",
        ),
        (
            "001",
            "short",
            "001-2",
            "Information Synopsis",
            "What is the video about?",
            ["A. Trees.", "B. Cars.", "C. Cats.", "D. Boats."],
            "A",
        ),
        ("001", "short", "001-3", "Action Recognition", "What does the man do?", ["A. Runs.", "B. Sits.", "C. Eats.", "D. Sings."], "B"),
        ("301", "medium", "301-1", "Temporal Reasoning", "What happens first?", ["A. Rain.", "B. Sun.", "C. Snow.", "D. Wind."], "D"),
        (
            "601",
            "long",
            "601-1",
            "Object Reasoning",
            "Why does the car stop?",
            ["A. A light.", "B. A dog.", "C. A wall.", "D. A man."],
            "A",
        ),
    ]
    rows = []
    for i, (vid, duration, qid, task_type, question, options, answer) in enumerate(questions):
        youtube = f"yt{vid}XYZab"
        if not (repo / "data" / f"{youtube}.mp4").exists():
            write_clip(repo / "data" / f"{youtube}.mp4", seconds=2 + i, seed=100 + i)
        rows.append(
            {
                "video_id": vid,
                "duration": duration,
                "domain": "Knowledge",
                "sub_category": "Humanity & History",
                "url": f"https://www.youtube.com/watch?v={youtube}",
                "videoID": youtube,
                "question_id": qid,
                "task_type": task_type,
                "question": question,
                "options": options,
                "answer": answer,
            }
        )
    write_parquet(repo / "videomme" / "test-00000-of-00001.parquet", rows)
    return repo / "videomme", repo


BENCHMARK = Benchmark(
    name="videomme",
    title="Video-MME (w/o subs)",
    group="general",
    source="lmms-eval `videomme` (Hub lmms-eval/Video-MME)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={
        "acc": Mean(),
        "by_duration": GroupMean("acc_", groups=DURATIONS),
        "by_domain": GroupMean("acc_domain_"),
        "by_task_type": GroupMean("acc_task_"),
    },
    headline=("acc", "acc_short", "acc_medium", "acc_long"),
    oracle=oracle,
    generation_size=16,
    deviations="No subtitle variant. lmms-eval's default prompt kwargs (its `qwen3_vl` kwargs, picked when the lmms-eval model is qwen3_vl, "
    "use 'Question: ...\\nOptions:\\n...\\nAnswer with the option letter only.').",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="lmms-eval's Qwen-VL defaults, 32 frames (VLMEvalKit offers 8/64)",
    fixture_note="lmms-eval/Video-MME videomme/test-00000-of-00001.parquet (card features); MME-Benchmarks/Video-MME@06c2315 "
    "evaluation/output_test_template.json record 001-1",
)
