"""TOMATO: visual temporal reasoning on motion (Shangguan et al., ICLR 2025).

Data, three layouts (each row's reasoning type is kept, and ids are made unique per type):
- the official github.com/yale-nlp/TOMATO ``data/<reasoning_type>.json`` (a dict keyed by a per-file
  id that restarts at "0" in every file; ``question, options, answer`` (index), ``key``,
  ``motion_type``, ``demonstration_type`` ...): the reasoning type is the file name;
- the Hub ``yale-nlp/TOMATO`` parquet, one split per reasoning type
  (``data/<type>-00000-of-00001-<hash>.parquet``, no id): the type is the file name;
- lmms-eval's ``lmms-eval/TOMATO`` test (``id, question, options, answer, video_path, reason_type,
  demonstration_type``).
Videos: ``videos/<demonstration_type>/<key>.mp4`` (official), or ``video_path`` (lmms-eval).
Protocol: lmms-eval ``tomato``: TOMATO's prompt without a frame count (lmms-eval since July 2026),
TOMATO's system prompt, 1024 new tokens, lmms-eval's ``parse_multi_choice_response`` ("A" when
nothing parses); accuracy overall, per reasoning type and per demonstration type.
"""

from __future__ import annotations

import re
from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import annotation_files, as_list, find_video, letter, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import tomato_choice
from ..common.tasks import Benchmark, mc_scores

SYSTEM_PROMPT = "You are an expert in understanding dynamics of objects."
PROMPT = (
    "You will be provided with frames uniformly sampled from a video, the frames are provided in chronological order of the video. "
    "Analyze these frames and provide the answer to the question about the video content. Answer the multiple-choice question about "
    "the video content.\n\nYou must use these frames to answer the multiple-choice question; do not rely on any externel knowledge or "
    "commonsense. \n\n<question> \n{question} \n</question>\n\n<options> \n{index2ans} \n</options>\n\nEven if the information in these "
    "separate frames is not enough to answer the question, PLEASE TRY YOUR BEST TO GUESS AN ANSWER WHICH YOU THINK WOULD BE THE MOST "
    "POSSIBLE ONE BASED ON THE QUESTION. \n\nDO NOT GENERATE ANSWER SUCH AS 'NOT POSSIBLE TO DETERMINE.' \n"
)


def reason_type(name: str) -> str:
    """One spelling for a reasoning type across layouts: "shape&trend", "shape_trend" -> "shape_trend"."""
    return re.sub(r"[&\s]+", "_", name.strip().lower())


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for path in annotation_files(source / "data" if (source / "data").is_dir() else source, (".json", ".parquet")):
        from_name = reason_type(path.name.split("-")[0].removesuffix(".json").removesuffix(".parquet"))
        for i, r in enumerate(read_records(path)):
            if r.get("video_path"):  # lmms-eval's test split
                video, reason, local = str(r["video_path"]), reason_type(str(r.get("reason_type", ""))), r.get("id", i)
            else:  # the official json (dict keyed by id) or the Hub's per-type parquet
                video, reason, local = f"videos/{r['demonstration_type']}/{r['key']}.mp4", from_name, r.get("__key__", i)
            rows.append(
                {
                    "id": f"{reason}-{local}",
                    "videos": [find_video(videos_root, [video, video.removeprefix("videos/")])],
                    "question": str(r["question"]),
                    "options": [str(o) for o in as_list(r["options"])],
                    "answer": letter(int(r["answer"])),
                    "meta": {"reason_type": reason, "demonstration_type": str(r.get("demonstration_type", ""))},
                }
            )
    return write_local_folder("tomato", rows, out, videos_root, source)


def prompt(row) -> str:
    index2ans = {letter(i): option for i, option in enumerate(row["options"])}
    return PROMPT.format(question=row["question"], index2ans=index2ans)


def score(spec, text) -> dict:
    scores = mc_scores(tomato_choice(text, spec["options"]), spec["answer"], spec["meta"]["reason_type"], key="by_reason")
    scores["by_demonstration"] = {"group": spec["meta"]["demonstration_type"], "score": scores["acc"]}
    return scores


def oracle(spec) -> str:
    return f"({spec['answer']})"


def write_fixture(root) -> tuple[Path, Path]:
    """The official ``data/*.json``: ``count.json`` with its verbatim record "0", ``direction.json``
    whose ids restart at "0", ``visual_cues.json`` (``motion_type`` spelled "visual cues"); videos in
    ``videos/<demonstration_type>/<key>.mp4``."""
    root = Path(root)
    src, videos = root / "tomato", root / "tomato"

    def item(question, options, answer, key, motion, demo, note=""):
        variation = {"counterfactual": 0, "composite": 0, "zoom": 0, "first_person": 0}
        return {
            "question": question,
            "options": options,
            "answer": answer,
            "key": key,
            "video_source_url": "",
            "motion_type": motion,
            "variation": variation,
            "demonstration_type": demo,
            "note": note,
        }

    count = {
        "0": {
            **item(
                "How many trapezoid(s) does the person draw in the air throughout the entire video?",
                ["2", "1", "3", "4", "5", "0"],
                2,
                "0209-03",
                "count",
                "human",
                "Eason drawing trapezoid",
            ),
            "variation": {"counterfactual": 0, "composite": 0, "zoom": 1, "first_person": 0},
        },
        "1": item("How many times does the ball bounce?", ["1", "2", "3", "4"], 0, "0311-01", "count", "object"),
    }
    direction = {
        "0": item("Which direction does the square move?", ["left", "right", "up", "down"], 0, "0412-05", "direction", "simulated")
    }
    visual_cues = {"0": item("What does the person spell?", ["cat", "dog", "cow"], 1, "0517-02", "visual cues", "human")}
    for name, data in (("count", count), ("direction", direction), ("visual_cues", visual_cues)):
        write_json(src / "data" / f"{name}.json", data)
        for record in data.values():
            write_clip(videos / "videos" / record["demonstration_type"] / f"{record['key']}.mp4", seconds=2, seed=30 + len(record["key"]))
    return src / "data", videos


BENCHMARK = Benchmark(
    name="tomato",
    title="TOMATO",
    group="reasoning",
    source="github.com/yale-nlp/TOMATO data/*.json, Hub yale-nlp/TOMATO or lmms-eval/TOMATO; lmms-eval `tomato` protocol",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_reason": GroupMean("acc_"), "by_demonstration": GroupMean("acc_demo_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="lmms-eval's parser (not TOMATO's GPT-4o-mini fallback with a random letter); TOMATO's system prompt is set, as lmms-eval recommends.",
    frame_budget=FrameBudget(num_frames=16, max_pixels=1_605_632),
    budget_note="16 frames (TOMATO's paper setting, lmms-eval's recommendation)",
    fixture_note="yale-nlp/TOMATO@fe2025f data/count.json (record '0' verbatim), data/direction.json, data/visual_cues.json",
    unverified="lmms-eval/TOMATO rows are known from its loader only (values of `id` and `reason_type` not seen)",
    system_prompt=SYSTEM_PROMPT,
)
