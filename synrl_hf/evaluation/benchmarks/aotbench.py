"""AoTBench: arrow-of-time understanding (Xue et al., 2025, arXiv 2506.03340).

Data: Hub ``sherryxzh/AoTBench`` (structure not inspected here; three parts: sequence direction,
directional caption matching, AoT-sensitive VQA). The converter takes json/jsonl/parquet rows
with ``id``, ``video`` (relative path), ``question``, ``options`` (list) and ``answer`` (letter
or option index), plus ``part``/``subset`` when present.
Protocol: question + "A. ..." lines + "Answer with the option's letter from the given choices
directly."; the stated/first option letter; accuracy overall and per part. Verify against the
authors' code (vision.cs.utexas.edu/projects/SeeAoT) before comparing with published numbers.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    letter,
    read_records,
    write_clip,
    write_jsonl,
    write_local_folder,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import letters_for, stated_letter
from ..common.tasks import Benchmark, mc_scores, option_lines

POST_PROMPT = "Answer with the option's letter from the given choices directly."


def convert(source, videos_root, out):
    rows = []
    for i, r in enumerate(read_records(source)):
        answer = str(r["answer"]).strip()
        video = str(r.get("video") or r.get("video_path"))
        rows.append(
            {
                "id": str(r.get("id", i)),
                "videos": [find_video(videos_root, [video, f"videos/{video}"])],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r["options"])],
                "answer": letter(int(answer)) if answer.isdigit() else answer[:1].upper(),
                "meta": {"part": r.get("part") or r.get("subset") or ""},
            }
        )
    return write_local_folder("aotbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\n{option_lines(row['options'])}\n{POST_PROMPT}"


def score(spec, text) -> dict:
    return mc_scores(stated_letter(text, letters_for(spec["options"])), spec["answer"], spec["meta"]["part"], key="by_part")


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "aotbench", root / "aotbench_videos"
    rows = []
    for i, part in enumerate(["sequence_direction", "caption_matching", "aot_vqa"]):
        write_clip(videos / "videos" / f"aot_{i}.mp4", seconds=2, seed=130 + i)
        rows.append(
            {
                "id": f"aot-{i}",
                "video": f"aot_{i}.mp4",
                "question": "Is the video played forward or backward?",
                "options": ["forward", "backward"],
                "answer": i % 2,
                "part": part,
            }
        )
    write_jsonl(src / "aotbench.jsonl", rows)
    return src / "aotbench.jsonl", videos


BENCHMARK = Benchmark(
    name="aotbench",
    title="AoTBench",
    group="general",
    source="Hub sherryxzh/AoTBench (format to verify); prompt ours",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_part": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
    deviations="No reference implementation in lmms-eval or VLMEvalKit: input format and prompt are ours.",
)
