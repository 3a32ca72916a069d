"""TemporalBench: fine-grained temporal understanding (Cai et al., 2024), short QA.

Data: Hub ``microsoft/TemporalBench`` split ``test_short_qa`` (idx, video_name, question, GT,
dataset, category); videos in the same repo (``video_name`` is a relative path).
Protocol: lmms-eval ``temporalbench_short_qa``: the raw question (it holds the A/B options),
16 new tokens, the first character of the reply against GT; binary accuracy (BA) and multiple
binary accuracy (MBA: every question about a ``video_name`` right).
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    find_video,
    read_records,
    write_clip,
    write_json,
    write_local_folder,
)
from ..common.metrics import AllCorrectByGroup, Mean
from ..common.parsing import first_char
from ..common.tasks import Benchmark


def convert(source, videos_root, out):
    rows = [
        {
            "id": str(r["idx"]),
            "videos": [find_video(videos_root, [str(r["video_name"])])],
            "question": str(r["question"]),
            "answer": str(r["GT"]).strip().upper(),
            "meta": {"video_name": str(r["video_name"]), "dataset": r.get("dataset", ""), "category": r.get("category", "")},
        }
        for r in read_records(source)
    ]
    return write_local_folder("temporalbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return row["question"]


def score(spec, text) -> dict:
    correct = float(first_char(text) == spec["answer"])
    return {"binary_acc": correct, "by_video": {"group": spec["meta"]["video_name"], "score": correct}}


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "temporalbench", root / "temporalbench_videos"
    rows = []
    for v in range(2):
        name = f"short_video/ego4d/clip_{v}.mp4"
        write_clip(videos / name, seconds=2, seed=40 + v)
        for q in range(3):
            question = (
                f"Which caption best describes this video?\nA. The square moves right, {q}.\n"
                f"B. The square moves left, {q}.\nAnswer with the option's letter from the given choices directly."
            )
            rows.append(
                {
                    "idx": v * 3 + q,
                    "video_name": name,
                    "question": question,
                    "GT": "AB"[(v + q) % 2],
                    "dataset": "ego4d",
                    "category": "Action Order",
                }
            )
    write_json(src / "temporalbench_short_qa.json", rows)
    return src / "temporalbench_short_qa.json", videos


BENCHMARK = Benchmark(
    name="temporalbench",
    title="TemporalBench (short QA)",
    group="reasoning",
    source="lmms-eval `temporalbench_short_qa` (Hub microsoft/TemporalBench)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"binary_acc": Mean(), "by_video": AllCorrectByGroup("mba")},
    headline=("binary_acc", "mba"),
    oracle=oracle,
    generation_size=16,
    deviations="Greedy decoding (lmms-eval leaves sampling settings to the model wrapper).",
)
