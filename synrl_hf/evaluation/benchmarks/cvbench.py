"""CVBench: cross-video reasoning, two to four videos per question (Zhu et al., 2025).

Not lmms-eval's ``cv_bench`` (Cambrian's image CV-Bench, a different benchmark with the same name).
Data: the authors' ``CVBench.json`` (github.com/Hokhim2/CVBench ``Video-R1/src/r1-v/Evaluation/``;
the Hub ``Dongyh35/CVBench`` holds the same questions): a list of ``id`` (int), ``task_type``,
``video_1``..``video_4`` (``null`` when unused), ``question``, ``options`` already lettered
(``"A. White."``) or ``["Yes.", "No."]``, ``answer`` (``A``-``D`` or ``Yes``/``No``). Videos:
``CVBench/<group>/<youtube_id>.mp4`` (the paths in ``video_i`` are relative to ``CVBench/``).
Protocol: the authors' lmms-eval fork task ``mvr``: all videos, then its multiple-choice or yes-no
template, 16 new tokens; its parser (the first ``[ABCD]``/yes/no anywhere, case-insensitive) against
the upper-cased answer; accuracy overall and per task type.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import annotation_files, as_list, find_video, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import cvbench_choice
from ..common.tasks import Benchmark, mc_scores

MC_PROMPT = (
    "Select the best answer to the following multiple-choice based on the listed all videos. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)
MC_POST_PROMPT = "Answer with the option's letter (A, B, C, or D) from the given choices directly."
YES_NO_PROMPT = (
    "Select the best answer to the following yes-no question based on the listed all videos. "
    "Respond with only the word (Yes or No) of the correct option."
)
YES_NO_POST_PROMPT = "Answer with the option's word (YES or NO) from the given choices directly."


def convert(source, videos_root, out):
    files = [f for f in annotation_files(source, (".json", ".jsonl", ".parquet")) if "CVBench" in f.name or f.suffix == ".parquet"]
    rows = []
    for r in (record for path in files for record in read_records(path)):
        videos = [str(r[f"video_{i}"]) for i in range(1, 5) if r.get(f"video_{i}")]
        rows.append(
            {
                "id": str(r["id"]),
                "videos": [find_video(videos_root, [f"CVBench/{v}", v]) for v in videos],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r.get("options"))],
                "answer": str(r["answer"]).strip().upper(),
                "meta": {"task_type": str(r.get("task_type", ""))},
            }
        )
    return write_local_folder("cvbench", rows, out, videos_root, source)


def prompt(row) -> str:
    yes_no = all(option.strip(".").lower() in ("yes", "no") for option in row["options"])
    pre, post = (YES_NO_PROMPT, YES_NO_POST_PROMPT) if yes_no else (MC_PROMPT, MC_POST_PROMPT)
    return f"{pre}\n{row['question']}\n" + "\n".join(row["options"]) + f"\n{post}"


def score(spec, text) -> dict:
    return mc_scores(cvbench_choice(text), spec["answer"], spec["meta"]["task_type"], key="by_task_type")


def oracle(spec) -> str:
    return spec["answer"].capitalize() if spec["answer"] in ("YES", "NO") else spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    """``CVBench.json`` with the authors' records 0 and 1 verbatim (a yes/no question with
    ``["Yes.", "No."]``, lettered options, ``null`` video slots) plus a three- and a four-video
    question; videos under ``CVBench/<group>/<youtube_id>.mp4``."""
    root = Path(root)
    evaluation = root / "CVBench" / "Video-R1" / "src" / "r1-v" / "Evaluation"
    items = [
        {
            "id": 0,
            "task_type": "Cross-video Scene Recognition",
            "video_1": "0/0Hd95ulYOT8.mp4",
            "video_2": "0/XW-lrijc1oQ.mp4",
            "video_3": None,
            "video_4": None,
            "question": "Did both videos feature a team successfully scoring a decisive goal or point during the match's closing moments?",
            "options": ["Yes.", "No."],
            "answer": "No",
        },
        {
            "id": 1,
            "task_type": "Multi-video Attribute Recognition",
            "video_1": "0/0Hd95ulYOT8.mp4",
            "video_2": "0/XW-lrijc1oQ.mp4",
            "video_3": None,
            "video_4": None,
            "question": "What color predominantly features in the attire of winning players across both sporting events?",
            "options": ["A. White.", "B. Red.", "C. Blue.", "D. Green."],
            "answer": "A",
        },
        {
            "id": 2,
            "task_type": "Multi-video Temporal Reasoning",
            "video_1": "1/aaaaaaaaaaa.mp4",
            "video_2": "1/bbbbbbbbbbb.mp4",
            "video_3": "1/ccccccccccc.mp4",
            "video_4": None,
            "question": "In which video does the square move first?",
            "options": ["A. The first.", "B. The second.", "C. The third.", "D. None."],
            "answer": "B",
        },
        {
            "id": 3,
            "task_type": "Cross-video Anomaly Detection",
            "video_1": "1/aaaaaaaaaaa.mp4",
            "video_2": "1/bbbbbbbbbbb.mp4",
            "video_3": "1/ccccccccccc.mp4",
            "video_4": "0/XW-lrijc1oQ.mp4",
            "question": "Does every video show a moving square?",
            "options": ["Yes.", "No."],
            "answer": "Yes",
        },
    ]
    write_json(evaluation / "CVBench.json", items)
    for i, name in enumerate(sorted({item[f"video_{k}"] for item in items for k in range(1, 5) if item[f"video_{k}"]})):
        write_clip(evaluation / "CVBench" / name, seconds=1.5, seed=70 + i)
    return evaluation / "CVBench.json", evaluation


BENCHMARK = Benchmark(
    name="cvbench",
    title="CVBench (cross-video)",
    group="reasoning",
    source="github.com/Hokhim2/CVBench (CVBench.json; lmms-eval fork task `mvr`); Hub Dongyh35/CVBench",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task_type": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=16,
    deviations='The `mvr` parser\'s quirk is kept: a letter a-d inside a word counts as an answer ("they do" -> D).',
    frame_budget=FrameBudget(num_frames=8, max_pixels=1_605_632),
    budget_note="8 frames per video (the authors' Video-R1 evaluation; their lmms-eval fork sets none)",
    fixture_note="Hokhim2/CVBench@f8dc8f7 Video-R1/src/r1-v/Evaluation/CVBench.json (records 0 and 1 verbatim) and its CVBench/<group>/ videos",
    unverified="the Hub Dongyh35/CVBench file layout (and where it hosts the videos) was not found; the authors' CVBench.json is the verified layout",
)
