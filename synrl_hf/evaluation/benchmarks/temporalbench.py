"""TemporalBench: fine-grained temporal understanding (Cai et al., 2024), short QA.

Data: Hub ``microsoft/TemporalBench`` ``temporalbench_short_qa.json`` (a list: ``idx`` string
``"<video_name>_<n>"``, ``video_name`` relative path, ``question`` holding the A/B options and the
instruction, ``GT`` letter, ``category``, and the source dataset as ``source_dataset`` (README,
dataset card) or ``dataset`` (the official scorer, lmms-eval)); the clips (``short_video.zip``)
unzip to ``<root>/<video_name>``.
Protocol: lmms-eval ``temporalbench_short_qa`` = the official ``get_qa_acc.py``: the raw question,
16 new tokens, ``GT.lower() == response[0].lower()``; binary accuracy (BA) and multiple binary
accuracy (MBA: every question about a ``video_name`` right), BA per source dataset and category.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import find_video, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import AllCorrectByGroup, GroupMean, Mean
from ..common.parsing import first_char
from ..common.tasks import Benchmark


def convert(source, videos_root, out):
    source = Path(source)
    path = source / "temporalbench_short_qa.json" if source.is_dir() else source
    rows = [
        {
            "id": str(r["idx"]),
            "videos": [find_video(videos_root, [str(r["video_name"])])],
            "question": str(r["question"]),
            "answer": str(r["GT"]).strip().upper(),
            "meta": {
                "video_name": str(r["video_name"]),
                "dataset": str(r.get("source_dataset") or r.get("dataset") or ""),
                "category": str(r.get("category") or ""),
            },
        }
        for r in read_records(path)
    ]
    return write_local_folder("temporalbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return row["question"]


def score(spec, text) -> dict:
    correct = float(first_char(text) == spec["answer"])
    meta = spec["meta"]
    return {
        "binary_acc": correct,
        "by_video": {"group": meta["video_name"], "score": correct},
        "by_dataset": {"group": meta["dataset"], "score": correct},
        "by_category": {"group": meta["category"], "score": correct},
    }


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    """``temporalbench_short_qa.json`` as the dataset card's "Data Instances" record (string
    ``idx`` = ``<video_name>_<n>``, ``source_dataset``, the options and instruction inside the
    question) with clips at their ``video_name`` paths under the repo root."""
    root = Path(root)
    src = root / "TemporalBench"
    rows = []
    for v, name in enumerate(["short_video/Charades/EEVD3_start_11.4_end_16.9.mp4", "short_video/COIN/aB3_start_2.0_end_9.5.mp4"]):
        write_clip(src / name, seconds=2, seed=40 + v)
        for q in range(3):
            question = (
                f"Which caption best describes this video?\nA. A person closes the door of the fridge with his left hand, {q}. \n"
                f"B. A person closes the door of the fridge with his right hand, {q}.\n"
                "Answer with the option's letter from the given choices directly."
            )
            rows.append(
                {
                    "idx": f"{name}_{q}",
                    "video_name": name,
                    "category": "Action Effector",
                    "source_dataset": name.split("/")[1],
                    "question": question,
                    "GT": "AB"[(v + q) % 2],
                }
            )
    write_json(src / "temporalbench_short_qa.json", rows)
    return src, src


BENCHMARK = Benchmark(
    name="temporalbench",
    title="TemporalBench (short QA)",
    group="reasoning",
    source="lmms-eval `temporalbench_short_qa` = official get_qa_acc.py (Hub microsoft/TemporalBench)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={
        "binary_acc": Mean(),
        "by_video": AllCorrectByGroup("mba"),
        "by_dataset": GroupMean("binary_acc_"),
        "by_category": GroupMean("binary_acc_category_"),
    },
    headline=("binary_acc", "mba"),
    oracle=oracle,
    generation_size=16,
    deviations="Greedy decoding (lmms-eval leaves sampling to the model wrapper). Short-QA split only (no long QA, no captioning).",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="lmms-eval's Qwen-VL defaults, 32 frames (the official script's default of 1 frame is a placeholder)",
    fixture_note="microsoft/TemporalBench dataset card 'Data Instances' (temporalbench_short_qa.json record)",
    unverified="the json's source-dataset key: `source_dataset` in the card, `dataset` in the official scorer; both are read",
)
