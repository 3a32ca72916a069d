"""AoTBench: arrow-of-time understanding (Xue et al., 2025, arXiv 2506.03340).

Data: the authors' files (github.com/zihuixue/seeAoT README: download Hub ``sherryxzh/AoTBench`` into
``data/``): ``data/data_files/input/{ReverseFilm,UCF101,Rtime_t2v,Rtime_v2t,AoTBench_QA}.json``,
each a list of ``qa_idx``, ``video_name`` (one video, relative to ``data/``), ``question`` (the
complete prompt, options included) and ``ans`` (a letter). The subset is the file name (sequence
direction: ReverseFilm, UCF101; directional caption matching: Rtime_t2v, Rtime_v2t; AoT-sensitive
VQA: AoTBench_QA); ids are ``<subset>/<qa_idx>``.
Protocol: the authors' ``eval/run_qwen25.py`` and ``read_qa.py``: the raw question, 16 frames,
greedy, 1024 new tokens; correct iff the reply's first character equals ``ans`` (case-sensitive);
accuracy per subset (the paper's per-element numbers) and over all questions.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import find_video, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import first_char
from ..common.tasks import Benchmark

SUBSETS = ("ReverseFilm", "UCF101", "Rtime_t2v", "Rtime_v2t", "AoTBench_QA")


def convert(source, videos_root, out):
    source = Path(source)
    folder = next((p for p in (source / "data" / "data_files" / "input", source / "data_files" / "input") if p.is_dir()), source)
    files = [folder / f"{subset}.json" for subset in SUBSETS if (folder / f"{subset}.json").is_file()]
    if not files:
        raise FileNotFoundError(f"aotbench: none of {', '.join(s + '.json' for s in SUBSETS)} under {folder}")
    rows = []
    for path in files:
        for r in read_records(path):
            rows.append(
                {
                    "id": f"{path.stem}/{r['qa_idx']}",
                    "videos": [find_video(videos_root, [str(r["video_name"])])],
                    "question": str(r["question"]),
                    "answer": str(r["ans"]).strip(),
                    "meta": {"subset": path.stem},
                }
            )
    return write_local_folder("aotbench", rows, out, videos_root, source)


def prompt(row) -> str:
    return row["question"]


def score(spec, text) -> dict:
    correct = float(first_char(text, case_sensitive=True) == spec["answer"])
    return {"acc": correct, "by_subset": {"group": spec["meta"]["subset"], "score": correct}}


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    """The authors' ``data/data_files/input/<subset>.json`` (list of qa_idx, video_name, question
    with its options inside, ans) for all five subsets, videos under ``data/``."""
    data = Path(root) / "seeAoT" / "data"
    golds = {"ReverseFilm": "AB", "UCF101": "B", "Rtime_t2v": "A", "Rtime_v2t": "C", "AoTBench_QA": "AD"}
    seed = 130
    for subset, answers in golds.items():
        items = []
        for i, ans in enumerate(answers):
            video = f"videos/{subset}/{i:04d}.mp4"
            write_clip(data / video, seconds=2, seed=seed)
            seed += 1
            question = "Is the video played forward or backward?\nA. forward\nB. backward\nC. both\nD. neither\nAnswer with the option letter only."
            items.append({"qa_idx": i, "video_name": video, "question": question, "ans": ans})
        write_json(data / "data_files" / "input" / f"{subset}.json", items)
    return data / "data_files" / "input", data


BENCHMARK = Benchmark(
    name="aotbench",
    title="AoTBench",
    group="general",
    source="github.com/zihuixue/seeAoT (eval/run_qwen25.py, read_qa.py); Hub sherryxzh/AoTBench",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_subset": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="The overall accuracy (all five subsets pooled) is ours: the authors' script reports each subset; the paper's single "
    "AoTBench number is compared with it.",
    frame_budget=FrameBudget(num_frames=16, max_pixels=1_605_632),
    budget_note="16 frames (the authors' default evaluation setting)",
    fixture_note="zihuixue/seeAoT@366b5b4 scripts/eval.sh + eval/run_qwen25.py, read_qa.py (the fields they read from data/data_files/input/*.json)",
    unverified="no record of sherryxzh/AoTBench was seen: the option format inside `question`, the `video_name` folders and whether "
    "'which clip is reversed' items are one composed video are not confirmed; field names and scoring are from the authors' code",
)
