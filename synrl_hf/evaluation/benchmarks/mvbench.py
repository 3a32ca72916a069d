"""MVBench: 20 temporal tasks (Li et al., CVPR 2024).

Data: Hub ``OpenGVLab/MVBench`` (revision ``video``): ``json/<task>.json`` (video, question,
candidates, answer text) and ``video/<source folder>/...`` clips (some under ``data0613/``).
Protocol: lmms-eval ``mvbench_*``: "Question:...\nOption:\n(A) ...\nOnly give the best option.",
16 new tokens, its ``mcq_acc`` normalisation; accuracy overall, per task and mean over tasks.
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
from ..common.parsing import mvbench_choice
from ..common.tasks import Benchmark, mc_scores

# lmms-eval's DATA_LIST: task -> video folder.
VIDEO_FOLDERS = {
    "object_interaction": "star/Charades_segment",
    "action_sequence": "star/Charades_segment",
    "action_prediction": "star/Charades_segment",
    "action_localization": "sta/sta_video_segment",
    "moving_count": "clevrer/video_validation",
    "fine_grained_pose": "nturgbd_convert",
    "character_order": "perception/videos",
    "object_shuffle": "perception/videos",
    "egocentric_navigation": "vlnqa",
    "moving_direction": "clevrer/video_validation",
    "episodic_reasoning": "tvqa/video_fps3_hq_segment",
    "fine_grained_action": "Moments_in_Time_Raw/videos",
    "scene_transition": "scene_qa/video",
    "state_change": "perception/videos",
    "moving_attribute": "clevrer/video_validation",
    "action_antonym": "ssv2_video_mp4",
    "unexpected_action": "FunQA_test/test",
    "counterfactual_inference": "clevrer/video_validation",
    "object_existence": "clevrer/video_validation",
    "action_count": "perception/videos",
}


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for path in sorted((source / "json" if (source / "json").is_dir() else source).glob("*.json")):
        task = path.stem
        folder = VIDEO_FOLDERS.get(task, task)
        for i, r in enumerate(read_records(path)):
            candidates = [str(c) for c in as_list(r["candidates"])]
            video = str(r["video"])
            rows.append(
                {
                    "id": f"{task}_{i}",
                    "videos": [find_video(videos_root, [f"{p}{folder}/{video}" for p in ("", "video/", "data0613/", "video/data0613/")])],
                    "question": str(r["question"]),
                    "options": candidates,
                    "answer": letter(candidates.index(str(r["answer"]))),
                    "meta": {"task": task},
                }
            )
    return write_local_folder("mvbench", rows, out, videos_root, source)


def prompt(row) -> str:
    options = "".join(f"({letter(i)}) {c}\n" for i, c in enumerate(row["options"]))
    return f"Question:{row['question']}\nOption:\n{options}Only give the best option.\n"


def score(spec, text) -> dict:
    return mc_scores(mvbench_choice(text), spec["answer"], spec["meta"]["task"], key="by_task")


def oracle(spec) -> str:
    return f"({spec['answer']}) {spec['options'][ord(spec['answer']) - 65]}"


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "mvbench", root / "mvbench_videos"
    for t, task in enumerate(["action_sequence", "moving_count", "action_antonym"]):
        rows = []
        for i in range(2):
            name = f"{task}_{i}.mp4"
            prefix = "data0613/" if task == "action_sequence" else ""
            write_clip(videos / "video" / f"{prefix}{VIDEO_FOLDERS[task]}" / name, seconds=2, seed=110 + 2 * t + i)
            rows.append(
                {
                    "video": name,
                    "question": f"What happened in {task} clip {i}?",
                    "candidates": ["Sat down.", "Stood up.", "Ran."],
                    "answer": ["Sat down.", "Ran."][i],
                }
            )
        write_json(src / "json" / f"{task}.json", rows)
    return src, videos


BENCHMARK = Benchmark(
    name="mvbench",
    title="MVBench",
    group="general",
    source="lmms-eval `mvbench` (Hub OpenGVLab/MVBench, revision video)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task": GroupMean("acc_", with_mean=True)},
    headline=("acc",),
    oracle=oracle,
    generation_size=16,
    deviations="Whole clips (no start/end cropping of the STAR/TVQA tasks, as in lmms-eval); frame-folder tasks need mp4s.",
)
