"""TOMATO: visual temporal reasoning on motion (Shangguan et al., ICLR 2025).

Data: Hub ``lmms-eval/TOMATO`` test (id, question, options, answer index, video_path,
reason_type, demonstration_type); videos in the same repo. The original repo's per-reason
``data/*.json`` (dicts keyed by id, with ``key`` and ``demonstration_type``) also converts.
Protocol: lmms-eval ``tomato``: TOMATO's long prompt (it states 16 frames, the paper's setting),
1024 new tokens, TOMATO's ``pre_parser`` then MMMU's ``parse_multi_choice_response``; accuracy
overall and per reasoning type.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    letter,
    read_records,
    write_clip,
    write_local_folder,
    write_parquet,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import mmmu_choice
from ..common.tasks import Benchmark, mc_scores

NUM_FRAMES = 16


def convert(source, videos_root, out):
    rows = []
    for r in read_records(source):
        video = r.get("video_path") or f"videos/{r['demonstration_type']}/{r['key']}.mp4"
        rows.append(
            {
                "id": str(r.get("id") or r.get("__key__")),
                "videos": [find_video(videos_root, [video, video.removeprefix("videos/")])],
                "question": str(r["question"]),
                "options": [str(o) for o in as_list(r["options"])],
                "answer": letter(int(r["answer"])),
                "meta": {"reason_type": r.get("reason_type", ""), "demonstration_type": r.get("demonstration_type", "")},
            }
        )
    return write_local_folder("tomato", rows, out, videos_root, source)


def prompt(row) -> str:
    index2ans = {letter(i): option for i, option in enumerate(row["options"])}
    return (
        f"You will be provided with {NUM_FRAMES} separate frames uniformly sampled from a video, the frames are provided in "
        "chronological order of the video. Analyze these frames and provide the answer to the question about the video content. "
        "Answer the multiple-choice question about the video content. \n\nYou must use these frames to answer the multiple-choice "
        f"question; do not rely on any externel knowledge or commonsense. \n\n<question> \n{row['question']} \n</question>\n\n"
        f"<options> \n{index2ans} \n</options>\n\nEven if the information in these separate frames is not enough to answer the "
        "question, PLEASE TRY YOUR BEST TO GUESS AN ANSWER WHICH YOU THINK WOULD BE THE MOST POSSIBLE ONE BASED ON THE QUESTION. "
        "\n\nDO NOT GENERATE ANSWER SUCH AS 'NOT POSSIBLE TO DETERMINE.' \n"
    )


def score(spec, text) -> dict:
    return mc_scores(mmmu_choice(text, spec["options"]), spec["answer"], spec["meta"]["reason_type"], key="by_reason")


def oracle(spec) -> str:
    return f"({spec['answer']})"


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "tomato", root / "tomato_videos"
    rows = []
    for i, (reason, demo) in enumerate([("count", "human"), ("direction", "object"), ("direction", "simulated"), ("rotation", "human")]):
        write_clip(videos / "videos" / demo / f"clip{i}.mp4", seconds=2, seed=30 + i)
        rows.append(
            {
                "id": f"{reason}-{i}",
                "question": f"What is the {reason} of the square?",
                "options": ["one", "two", "three", "four", "five"],
                "answer": i % 5,
                "video_path": f"videos/{demo}/clip{i}.mp4",
                "reason_type": reason,
                "demonstration_type": demo,
            }
        )
    write_parquet(src / "data" / "test-00000-of-00001.parquet", rows)
    return src / "data", videos


BENCHMARK = Benchmark(
    name="tomato",
    title="TOMATO",
    group="reasoning",
    source="lmms-eval `tomato` (Hub lmms-eval/TOMATO)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_reason": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="Unparsable answers score 0 (lmms-eval falls back to 'A'). MMMU's bracket-first letter rule, not lmms-eval's bare-letter variant.",
)
