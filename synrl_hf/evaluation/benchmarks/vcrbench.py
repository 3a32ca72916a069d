"""VCR-Bench: video chain-of-thought reasoning (Qi et al., 2025), final-answer accuracy.

Data: Hub ``VLM-Reasoning/VCR-Bench`` (``VCR-Bench.tsv`` or its json/parquet form: index,
video_path, question, answer, dimension) and ``v1/videos/video.zip`` unpacked under the videos root.
Protocol: the raw question with a request to reason step by step and state the final answer.
The official scorer uses GPT-4o to extract and judge the answer and to rate the chain of thought;
we score rule-based: multiple-choice answers by the last stated option letter, others by
normalised exact (or numeric) match. No CoT recall/precision.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..common.converters import (
    find_video,
    read_records,
    write_clip,
    write_csv,
    write_local_folder,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import minerva_choice
from ..common.tasks import Benchmark, mc_scores

INSTRUCTION = "Please think step by step, then give your final answer on the last line as 'The final answer is: <answer>'."


def convert(source, videos_root, out):
    rows = []
    for r in read_records(source):
        video = str(r["video_path"])
        rows.append(
            {
                "id": str(r.get("index", r.get("id"))),
                "videos": [find_video(videos_root, [video, f"videos/{Path(video).name}", Path(video).name])],
                "question": str(r["question"]),
                "answer": str(r["answer"]).strip(),
                "meta": {"dimension": r.get("dimension") or r.get("category") or ""},
            }
        )
    return write_local_folder("vcrbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\n{INSTRUCTION}"


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s.]", " ", text.lower()).split()).rstrip(".")


def final_answer(text: str) -> str:
    found = re.findall(r"(?:final answer|answer)\s*(?:is)?\s*[:：]?\s*(.+)", text or "", flags=re.IGNORECASE)
    return found[-1].strip() if found else (text or "").strip().splitlines()[-1] if (text or "").strip() else ""


def score(spec, text) -> dict:
    gold, dimension = spec["answer"], spec["meta"]["dimension"]
    if re.fullmatch(r"[A-Ea-e]", gold):
        return mc_scores(minerva_choice(final_answer(text) or text), gold.upper(), dimension, key="by_dimension")
    pred, ref = _normal(final_answer(text)), _normal(gold)
    try:
        correct = float(pred == ref or float(pred) == float(ref))
    except ValueError:
        correct = 0.0
    return {"acc": correct, "by_dimension": {"group": str(dimension), "score": correct}}


def oracle(spec) -> str:
    return f"The square moves.\nThe final answer is: {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "vcrbench", root / "vcrbench_videos"
    for i in range(3):
        write_clip(videos / "v1" / "videos" / f"vcr_{i}.mp4", seconds=2, seed=60 + i)
    write_csv(
        src / "VCR-Bench.tsv",
        [
            {
                "index": 0,
                "video_path": "v1/videos/vcr_0.mp4",
                "question": "How many squares are there?",
                "answer": "1",
                "dimension": "Spatiotemporal Counting",
            },
            {
                "index": 1,
                "video_path": "v1/videos/vcr_1.mp4",
                "question": "Which way does the square move?\nA. left\nB. right",
                "answer": "B",
                "dimension": "Fundamental Temporal Reasoning",
            },
            {
                "index": 2,
                "video_path": "v1/videos/vcr_2.mp4",
                "question": "What color is the background?",
                "answer": "dark",
                "dimension": "Video Temporal Grounding",
            },
        ],
        delimiter="\t",
    )
    return src / "VCR-Bench.tsv", videos


BENCHMARK = Benchmark(
    name="vcrbench",
    title="VCR-Bench",
    group="reasoning",
    source="Hub VLM-Reasoning/VCR-Bench (VLMEvalKit `VCR-Bench`)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_dimension": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="GPT-4o judge replaced by rule-based final-answer matching; CoT scores not computed.",
)
