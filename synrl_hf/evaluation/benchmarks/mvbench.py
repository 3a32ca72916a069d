"""MVBench: 20 temporal tasks (Li et al., CVPR 2024), both Hub layouts.

Data: Hub ``OpenGVLab/MVBench``, ``json/<task>.json`` (a list: ``video``, ``question``,
``candidates``, ``answer`` = a candidate's text; ``start``/``end`` seconds on the bounded tasks),
with the videos in either layout:
- the ``main`` branch: zips unpacked inside ``video/`` (``video/star/Charades_v1_480/``,
  ``video/tvqa/frames_fps3_hq/<clip>/00001.jpg`` frame folders at 3 fps, ``video/ssv2_video/*.webm``
  ..., some under ``video/data0613/``); the five bounded tasks are sampled inside ``[start, end]``,
  as the official evaluation does;
- the ``video`` revision (lmms-eval's): pre-cut mp4 folders at the repo root
  (``star/Charades_segment/``, ``tvqa/video_fps3_hq_segment/``, ``ssv2_video_mp4/`` ...), used whole.
``fine_grained_pose`` (NTU RGB+D) was removed from the Hub for licensing: those videos are
reported missing with that reason.
Protocol: lmms-eval ``mvbench_*``: "Question:{q}\\nOption:\\n(A) ...\\nOnly give the best option.\\n",
16 new tokens, its ``mcq_acc`` normalisation; accuracy overall (every task has 200 questions, so
it is also the official mean over tasks), per task and the mean over tasks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synrl_hf.frame_budget import FrameBudget

from ..common.clips import FRAME_FOLDER_FPS
from ..common.converters import as_list, find_video, letter, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import mvbench_choice
from ..common.tasks import Benchmark, mc_scores

# lmms-eval's DATA_LIST: task -> folder of the `video` revision (pre-cut mp4s, at the repo root).
VIDEO_REVISION_FOLDERS = {
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
# The official data_list (main branch): task -> (folder under video/, sampled inside [start, end]).
MAIN_FOLDERS = {
    "action_sequence": ("star/Charades_v1_480", True),
    "action_prediction": ("star/Charades_v1_480", True),
    "action_antonym": ("ssv2_video", False),
    "fine_grained_action": ("Moments_in_Time_Raw/videos", False),
    "unexpected_action": ("FunQA_test/test", False),
    "object_existence": ("clevrer/video_validation", False),
    "object_interaction": ("star/Charades_v1_480", True),
    "object_shuffle": ("perception/videos", False),
    "moving_direction": ("clevrer/video_validation", False),
    "action_localization": ("sta/sta_video", True),
    "scene_transition": ("scene_qa/video", False),
    "action_count": ("perception/videos", False),
    "moving_count": ("clevrer/video_validation", False),
    "moving_attribute": ("clevrer/video_validation", False),
    "state_change": ("perception/videos", False),
    "fine_grained_pose": ("nturgbd", False),
    "character_order": ("perception/videos", False),
    "egocentric_navigation": ("vlnqa", False),
    "episodic_reasoning": ("tvqa/frames_fps3_hq", True),  # folders of JPEG frames at 3 fps
    "counterfactual_inference": ("clevrer/video_validation", False),
}
NTU_REASON = "NTU RGB+D videos, removed from the Hub for licensing (MVBench_videos_ntu.txt): get them from the ROSE Lab"


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for path in sorted((source / "json" if (source / "json").is_dir() else source).glob("*.json")):
        task = path.stem
        main, bounded = MAIN_FOLDERS.get(task, (task, False))
        revision = VIDEO_REVISION_FOLDERS.get(task, task)
        for i, r in enumerate(read_records(path)):
            candidates = [str(c) for c in as_list(r["candidates"])]
            name = str(r["video"])
            video = find_video(videos_root, [f"{revision}/{name}", f"video/{main}/{name}", f"video/data0613/{main}/{name}"])
            meta = {"task": task}
            if video.startswith("video/"):  # main branch: whole source videos, frame folders, bounds
                if "frames" in main:
                    meta["frame_fps"] = FRAME_FOLDER_FPS
                if bounded and r.get("start") is not None and r.get("end") is not None:
                    meta["window"] = [float(r["start"]), float(r["end"])]
            if str(r["answer"]) not in candidates:
                raise ValueError(f"mvbench: answer {r['answer']!r} of {path.name} item {i} is none of its candidates {candidates}")
            rows.append(
                {
                    "id": f"{task}_{i}",
                    "videos": [video],
                    "question": str(r["question"]),
                    "options": candidates,
                    "answer": letter(candidates.index(str(r["answer"]))),
                    "meta": meta,
                }
            )
    reasons = {"nturgbd_convert/": NTU_REASON, "video/nturgbd/": NTU_REASON}
    return write_local_folder("mvbench", rows, out, videos_root, source, missing_reasons=reasons)


def prompt(row) -> str:
    options = "".join(f"({letter(i)}) {c}\n" for i, c in enumerate(row["options"]))
    return f"Question:{row['question']}\nOption:\n{options}Only give the best option.\n"


def score(spec, text) -> dict:
    return mc_scores(mvbench_choice(text), spec["answer"], spec["meta"]["task"], key="by_task")


def oracle(spec) -> str:
    return f"({spec['answer']}) {spec['options'][ord(spec['answer']) - 65]}"


def _frame_folder(folder: Path, count: int, seed: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        frame = np.full((32, 32, 3), rng.integers(0, 255, 3), np.uint8)
        frame[8:24, i % 16 : i % 16 + 8] = 255
        Image.fromarray(frame).save(folder / f"{i + 1:05d}.jpg")


QUESTIONS = {  # task -> [(video, answer index, bound)]
    "action_sequence": [("RPY8D.mp4", 0, (0.0, 2.0)), ("YSKX3.mp4", 1, (1.0, 3.5))],
    "episodic_reasoning": [("castle_s01e01_seg02_clip_00", 0, (0.3, 3.0)), ("castle_s01e02_seg01_clip_04", 2, (1.0, 2.7))],
    "action_antonym": [("10023.webm", 1, None), ("10024.webm", 0, None)],
    "moving_count": [("video_10000.mp4", 0, None), ("video_10001.mp4", 2, None)],
    "fine_grained_pose": [("S001C001P001R001A001_rgb.avi", 0, None)],
}


def _json_fixture(repo: Path) -> None:
    for task, items in QUESTIONS.items():
        candidates = ["Sat down.", "Stood up.", "Ran."]
        records = []
        for i, (video, answer, bound) in enumerate(items):
            record = {
                "video": video,
                "question": f"What happened in {task} clip {i}?",
                "candidates": candidates,
                "answer": candidates[answer],
            }
            if bound:
                record.update(start=bound[0], end=bound[1])
            records.append(record)
        write_json(repo / "json" / f"{task}.json", records)


def write_fixture(root) -> tuple[Path, Path]:
    """The ``main`` branch after unzipping inside ``video/``: Charades clips with start/end bounds,
    TVQA frame folders (``00001.jpg`` ..., 3 fps), ssv2 ``.webm`` files, clevrer clips still under
    ``video/data0613/``, and no NTU RGB+D clips (removed from the Hub)."""
    repo = Path(root) / "MVBench"
    _json_fixture(repo)
    for i, (video, _, _) in enumerate(QUESTIONS["action_sequence"]):
        write_clip(repo / "video" / "star" / "Charades_v1_480" / video, seconds=4, seed=110 + i)
    for i, (video, _, _) in enumerate(QUESTIONS["episodic_reasoning"]):
        _frame_folder(repo / "video" / "tvqa" / "frames_fps3_hq" / video, 12, seed=112 + i)
    for i, (video, _, _) in enumerate(QUESTIONS["action_antonym"]):
        write_clip(repo / "video" / "ssv2_video" / video, seconds=2, seed=114 + i)
    for i, (video, _, _) in enumerate(QUESTIONS["moving_count"]):
        write_clip(repo / "video" / "data0613" / "clevrer" / "video_validation" / video, seconds=2, seed=116 + i)
    return repo, repo


def write_video_revision_fixture(root) -> Path:
    """The ``video`` revision: the same json, pre-cut mp4s in the task folders at the repo root."""
    repo = Path(root) / "MVBench-video"
    _json_fixture(repo)
    for t, (task, items) in enumerate(QUESTIONS.items()):
        for i, (video, _, _) in enumerate(items):
            if task != "fine_grained_pose":
                name = video if video.endswith(".mp4") else f"{Path(video).stem}.mp4"
                write_clip(repo / VIDEO_REVISION_FOLDERS[task] / name, seconds=2, seed=120 + 2 * t + i)
    return repo


BENCHMARK = Benchmark(
    name="mvbench",
    title="MVBench",
    group="general",
    source="lmms-eval `mvbench` (Hub OpenGVLab/MVBench, revision video) and the official data_list (main branch)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task": GroupMean("acc_", with_mean=True)},
    headline=("acc",),
    oracle=oracle,
    generation_size=16,
    deviations="Every question counts (lmms-eval divides by the questions with a non-empty reply). The main branch's bounds and frame "
    "folders follow the official evaluation; the `video` revision's clips are used whole, as lmms-eval does.",
    frame_budget=FrameBudget(num_frames=16, max_pixels=1_605_632),
    budget_note="16 frames (the official VideoChat2 evaluation)",
    fixture_note="OpenGVLab/MVBench json/<task>.json (rcddddddd/MVBench mirror record of action_localization.json) with the main-branch "
    "video/ layout of the official data_list; write_video_revision_fixture: the `video` revision's root folders (lmms-eval DATA_LIST)",
    unverified="the `video` revision's test.json and its updated json files were not read; the main-branch zips' inner paths follow "
    "the official data_list and VLMEvalKit's data0613 move",
)
