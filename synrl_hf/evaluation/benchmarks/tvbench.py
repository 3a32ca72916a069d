"""TVBench: temporal video-language benchmark (Cores et al., 2024), 10 tasks.

Data: Hub ``FunAILab/TVBench``: ``json/<task>.json`` (video, question, candidates, answer text)
and ``video/<task>/...`` clips.
Protocol: lmms-eval ``tvbench``: question + "A. ..." lines + "Answer with the option letter
only.", 32 new tokens; first standalone option letter, else a unique option-text match;
accuracy overall, per task and the mean over tasks.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    letter,
    read_records,
    write_clip,
    write_json,
    write_local_folder,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import tvbench_choice
from ..common.tasks import Benchmark, mc_scores, option_lines


def convert(source, videos_root, out):
    source = Path(source)
    files = sorted((source / "json" if (source / "json").is_dir() else source).glob("*.json"))
    rows = []
    for path in files:
        task = path.stem
        for i, r in enumerate(read_records(path)):
            candidates = [str(c) for c in as_list(r["candidates"])]
            video = str(r["video"])
            rows.append(
                {
                    "id": f"{task}_{i}",
                    "videos": [find_video(videos_root, [f"video/{task}/{video}", f"{task}/{video}", video])],
                    "question": str(r["question"]),
                    "options": candidates,
                    "answer": letter(candidates.index(str(r["answer"]))),
                    "meta": {"task": task},
                }
            )
    return write_local_folder("tvbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\n{option_lines(row['options'])}\nAnswer with the option letter only."


def score(spec, text) -> dict:
    return mc_scores(tvbench_choice(text, spec["options"]), spec["answer"], spec["meta"]["task"], key="by_task")


def oracle(spec) -> str:
    return f"{spec['answer']}."


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "tvbench", root / "tvbench_videos"
    for t, task in enumerate(["action_count", "moving_direction"]):
        rows = []
        for i in range(2):
            write_clip(videos / "video" / task / f"{task}_{i}.mp4", seconds=2, seed=80 + 2 * t + i)
            rows.append(
                {
                    "video": f"{task}_{i}.mp4",
                    "question": f"Question {i} about {task}?",
                    "candidates": ["left", "right", "up"],
                    "answer": ["left", "right", "up"][i],
                }
            )
        write_json(src / "json" / f"{task}.json", rows)
    return src, videos


BENCHMARK = Benchmark(
    name="tvbench",
    title="TVBench",
    group="reasoning",
    source="lmms-eval `tvbench` (Hub FunAILab/TVBench)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task": GroupMean("acc_", with_mean=True)},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
)
