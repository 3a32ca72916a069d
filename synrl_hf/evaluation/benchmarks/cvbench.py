"""CVBench: cross-video reasoning, several videos per question (Zhu et al., 2025).

Not lmms-eval's ``cv_bench`` (Cambrian's image CV-Bench, a different benchmark with the same name).
Data: Hub ``Dongyh35/CVBench`` test (id, task_type, video_1..video_4, question, options, answer);
the videos are referenced by relative path (get them as the authors' README says).
Protocol: the authors' lmms-eval fork task ``mvr``: all videos, then the question and options and
"Respond with only the letter ..." (or yes/no); the first option letter or yes/no in the reply;
accuracy overall and per task type.
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
from ..common.parsing import letter_or_yes_no
from ..common.tasks import Benchmark, mc_scores, option_lines


def _gold(answer: str) -> str:
    answer = answer.strip()
    return answer.upper() if answer.lower() in ("yes", "no") else answer[:1].upper()


def convert(source, videos_root, out):
    rows = []
    for r in read_records(source):
        videos = [str(r[f"video_{i}"]) for i in range(1, 5) if r.get(f"video_{i}")]
        rows.append(
            {
                "id": str(r["id"]),
                "videos": [find_video(videos_root, [v, Path(v).name]) for v in videos],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r.get("options"))],
                "answer": _gold(str(r["answer"])),
                "meta": {"task_type": r.get("task_type", "")},
            }
        )
    return write_local_folder("cvbench", rows, out, videos_root, source)


def prompt(row) -> str:
    names = "".join(f"Video {i + 1} is given in order. " for i in range(len(row["videos"]))) if len(row["videos"]) > 1 else ""
    if row["answer"] in ("YES", "NO"):
        return f"{names}{row['question']}\nAnswer with yes or no."
    return f"{names}{row['question']}\n{option_lines(row['options'])}\nRespond with only the letter (A, B, C, or D) of the correct option."


def score(spec, text) -> dict:
    return mc_scores(letter_or_yes_no(text), spec["answer"], spec["meta"]["task_type"], key="by_task_type")


def oracle(spec) -> str:
    return spec["answer"].lower() if spec["answer"] in ("YES", "NO") else spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "cvbench", root / "cvbench_videos"
    for i in range(4):
        write_clip(videos / "videos" / f"cv_{i}.mp4", seconds=1.5, seed=70 + i)
    write_parquet(
        src / "test-00000-of-00001.parquet",
        [
            {
                "id": "1",
                "task_type": "Cross-video Anomaly Detection",
                "video_1": "videos/cv_0.mp4",
                "video_2": "videos/cv_1.mp4",
                "video_3": None,
                "video_4": None,
                "question": "Which video shows a faster square?",
                "options": ["Video 1", "Video 2", "Both", "Neither"],
                "answer": "A",
            },
            {
                "id": "2",
                "task_type": "Multi-video Temporal Reasoning",
                "video_1": "videos/cv_1.mp4",
                "video_2": "videos/cv_2.mp4",
                "video_3": "videos/cv_3.mp4",
                "video_4": None,
                "question": "Do all videos show the same motion?",
                "options": [],
                "answer": "Yes",
            },
            {
                "id": "3",
                "task_type": "Cross-video Anomaly Detection",
                "video_1": "videos/cv_3.mp4",
                "video_2": "videos/cv_0.mp4",
                "video_3": None,
                "video_4": None,
                "question": "Which video starts darker?",
                "options": ["Video 1", "Video 2", "Both", "Neither"],
                "answer": "D",
            },
        ],
    )
    return src, videos


BENCHMARK = Benchmark(
    name="cvbench",
    title="CVBench (cross-video)",
    group="reasoning",
    source="Hub Dongyh35/CVBench; prompt/parsing of the authors' lmms-eval fork task `mvr` (Hokhim2/CVBench)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task_type": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
    deviations="Video locations and the exact `mvr` wording are to be verified against the authors' fork.",
)
