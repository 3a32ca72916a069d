"""Video-MME: general video understanding, short / medium / long (Fu et al., CVPR 2025).

Data: Hub ``lmms-eval/Video-MME`` test (videoID, question_id, duration, domain, sub_category,
task_type, question, options ["A. ...", ...], answer letter); videos ``data/<videoID>.mp4``.
Protocol: lmms-eval ``videomme`` (no subtitles): "Select the best answer ..." + question +
options + "Answer with the option's letter from the given choices directly."; its
``extract_characters_regex``; accuracy overall and per duration bucket.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    read_records,
    write_clip,
    write_local_folder,
    write_parquet,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import first_letter
from ..common.tasks import Benchmark, mc_scores, option_lines

OPTION_PROMPT = (
    "Select the best answer to the following multiple-choice question based on the video and the subtitles. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)
POST_PROMPT = "Answer with the option's letter from the given choices directly."
DURATIONS = ("short", "medium", "long")


def convert(source, videos_root, out):
    rows = []
    for r in read_records(source):
        vid = str(r["videoID"])
        rows.append(
            {
                "id": str(r["question_id"]),
                "videos": [find_video(videos_root, [f"data/{vid}.mp4", f"{vid}.mp4"])],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r["options"])],
                "answer": str(r["answer"]).strip().upper(),
                "meta": {"duration": r["duration"], "domain": r.get("domain", ""), "task_type": r.get("task_type", "")},
            }
        )
    return write_local_folder("videomme", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{OPTION_PROMPT}\n{row['question']}\n{option_lines(row['options'])}\n{POST_PROMPT}"


def score(spec, text) -> dict:
    return mc_scores(first_letter(text, "ABCD"), spec["answer"], spec["meta"]["duration"], key="by_duration")


def oracle(spec) -> str:
    return f"The best answer is {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "videomme", root / "videomme_videos"
    rows = []
    for i, duration in enumerate(["short", "short", "medium", "long", "long"]):
        vid = f"{i:03d}"
        if i < 4:  # videos 003 and 004 are the same clip: two questions on one long video
            write_clip(videos / "data" / f"{vid}.mp4", seconds=2 + i, seed=100 + i)
        rows.append(
            {
                "video_id": vid,
                "duration": duration,
                "domain": "Knowledge",
                "sub_category": "Astronomy",
                "url": "",
                "videoID": f"{min(i, 3):03d}",
                "question_id": f"{vid}-1",
                "task_type": "Counting Problem",
                "question": f"How many squares appear in video {i}?",
                "options": ["A. 1.", "B. 2.", "C. 3.", "D. 4."],
                "answer": "ABCDA"[i],
            }
        )
    write_parquet(src / "videomme" / "test-00000-of-00001.parquet", rows)
    return src / "videomme", videos


BENCHMARK = Benchmark(
    name="videomme",
    title="Video-MME (w/o subs)",
    group="general",
    source="lmms-eval `videomme` (Hub lmms-eval/Video-MME)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_duration": GroupMean("acc_", groups=DURATIONS)},
    headline=("acc", "acc_short", "acc_medium", "acc_long"),
    oracle=oracle,
    generation_size=32,
)
