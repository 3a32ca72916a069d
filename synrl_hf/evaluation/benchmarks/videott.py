"""Video-TT (Video Thinking Test): multiple-choice split (Zhang et al., ICCV 2025).

Data: Hub ``lmms-eval/video-tt`` split ``test`` (video_id, question, question_prompt, answer,
capability); videos ``Benchmark-AllVideos-LQ/<video_id>.mp4`` in the same repo.
Protocol: lmms-eval ``videott_single_mc``: "Select the best answer ..." + question + options +
"The best answer is:", Video-MME's letter extraction (A-E); accuracy overall and per capability.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    find_video,
    read_records,
    write_clip,
    write_local_folder,
    write_parquet,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import first_letter
from ..common.tasks import Benchmark, mc_scores

PRE_PROMPT = (
    "Select the best answer to the following multiple-choice question based on the video. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)


def convert(source, videos_root, out):
    rows = []
    for i, r in enumerate(read_records(source)):
        vid = str(r["video_id"])
        rows.append(
            {
                "id": str(r.get("qid") or f"{vid}_{i}"),
                "videos": [find_video(videos_root, [f"Benchmark-AllVideos-LQ/{vid}.mp4", f"{vid}.mp4"])],
                "question": f"{r['question']}\n{r.get('question_prompt', '')}".strip(),
                "answer": str(r["answer"]).strip()[:1].upper(),
                "meta": {"capability": r.get("capability", "")},
            }
        )
    return write_local_folder("videott", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{PRE_PROMPT}\n{row['question']}\nThe best answer is:"


def score(spec, text) -> dict:
    return mc_scores(first_letter(text, "ABCDE"), spec["answer"], spec["meta"]["capability"], key="by_capability")


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "videott", root / "videott_videos"
    rows = []
    for i, capability in enumerate(["Element Attributes", "Plot Attribute", "Element Counting"]):
        write_clip(videos / "Benchmark-AllVideos-LQ" / f"vtt{i}.mp4", seconds=2, seed=50 + i)
        rows.append(
            {
                "video_id": f"vtt{i}",
                "question": "Where does the square end up?",
                "question_prompt": "A. left\nB. right\nC. top\nD. bottom",
                "answer": "B",
                "capability": capability,
                "qid": f"q{i}",
            }
        )
    write_parquet(src / "test-00000-of-00001.parquet", rows)
    return src, videos


BENCHMARK = Benchmark(
    name="videott",
    title="Video-TT (MC)",
    group="reasoning",
    source="lmms-eval `videott_single_mc` (Hub lmms-eval/video-tt)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_capability": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
    deviations="Multiple-choice split only (the open-ended split needs an LLM judge).",
)
