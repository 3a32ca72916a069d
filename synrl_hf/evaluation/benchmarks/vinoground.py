"""Vinoground: counterfactual temporal pairs for short videos (Zhang et al., 2024).

Data: Hub ``HanSolo9682/Vinoground`` (gated): ``vinoground_textscore.json`` and
``vinoground_videoscore.json`` (lists of 1000: ``idx`` "<n>_pos"/"<n>_neg", ``video_name`` relative to
the repo root, ``question`` with both choices, ``GT`` letter) at the repo root (the authors' layout) or
inside ``vinoground_videos/`` and ``vinoground_videos_concated/`` (lmms-eval's); categories from
``vinoground.csv`` (header row, then the pair index, the major category and ``;``-separated minor
ones, read by position as the authors' ``get_score_all.py`` does) or lmms-eval's ``lmmseval`` split
(``index`` "<n>_<pos|neg>_<text|video>", ``major``, ``minor``). Videos: the unzipped
``vinoground_videos/`` and ``vinoground_videos_concated/`` folders.
Protocol: lmms-eval ``vinoground``: question + "\\nPlease only output one English character.", 16 new
tokens; ``pred[0].lower() == GT.lower()``; text score (both captions right for a pair), video score
(both videos right) and group score (all four) over pairs, overall and per major category.
"""

from __future__ import annotations

import csv
from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import find_video, read_records, write_clip, write_csv, write_json, write_local_folder
from ..common.metrics import Mean, VinogroundScores
from ..common.parsing import first_char
from ..common.tasks import Benchmark


def _categories(source: Path) -> dict[str, tuple[str, list[str]]]:
    """pair index -> (major, minors), from vinoground.csv or lmms-eval's lmmseval split."""
    out: dict[str, tuple[str, list[str]]] = {}
    csv_path = next(iter(sorted(source.rglob("vinoground.csv"))), None)
    if csv_path is not None:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            for index, row in enumerate(list(csv.reader(handle))[1:]):
                out[str(index)] = (row[1], [m for m in row[2].split(";") if m]) if len(row) > 2 else (row[1], [])
        return out
    for path in sorted(source.rglob("lmmseval*.parquet")):
        for r in read_records(path):
            out[str(r["index"]).split("_")[0]] = (str(r.get("major") or ""), [m for m in str(r.get("minor") or "").split(";") if m])
    return out


def convert(source, videos_root, out):
    source = Path(source)
    categories = _categories(source)
    rows = []
    for kind, name in (("text", "vinoground_textscore.json"), ("video", "vinoground_videoscore.json")):
        path = next(iter(sorted(source.rglob(name), key=lambda p: len(p.parts))), None)
        if path is None:
            raise FileNotFoundError(f"vinoground: {name} not found under {source} (at its root or in the unzipped video folders)")
        for r in read_records(path):
            pair, polarity = str(r["idx"]).split("_")[:2]
            major, minors = categories.get(pair, ("", []))
            rows.append(
                {
                    "id": f"{r['idx']}_{kind}",
                    "videos": [find_video(videos_root, [str(r["video_name"])])],
                    "question": str(r["question"]),
                    "answer": str(r["GT"]).strip(),
                    "meta": {"pair": pair, "kind": kind, "polarity": polarity, "major": major, "minor": minors},
                }
            )
    return write_local_folder("vinoground", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\nPlease only output one English character."


def score(spec, text) -> dict:
    correct = float(first_char(text) == spec["answer"].upper())
    meta = spec["meta"]
    return {"acc": correct, "pairs": {"pair": meta["pair"], "kind": meta["kind"], "major": meta["major"], "score": correct}}


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    """The authors' layout: both JSONs and ``vinoground.csv`` at the repo root, clips in
    ``vinoground_videos/`` (single) and ``vinoground_videos_concated/`` (two clips side by side in time)."""
    repo = Path(root) / "Vinoground"
    text, video = [], []
    for n in range(3):
        for j, polarity in enumerate(("pos", "neg")):
            write_clip(repo / "vinoground_videos" / f"{n}_{polarity}.mp4", seconds=1.5, seed=140 + 2 * n + j)
            write_clip(repo / "vinoground_videos_concated" / f"{n}_{polarity}.mp4", seconds=3, seed=150 + 2 * n + j)
            text.append(
                {
                    "idx": f"{n}_{polarity}",
                    "video_name": f"vinoground_videos/{n}_{polarity}.mp4",
                    "question": "Which caption best describes this video?\nA. the square moves, then stops\nB. the square stops, then moves",
                    "GT": "AB"[j],
                }
            )
            video.append(
                {
                    "idx": f"{n}_{polarity}",
                    "video_name": f"vinoground_videos_concated/{n}_{polarity}.mp4",
                    "question": "Which video segment matches this caption? Note: The video contains two segments separated by a 2-second "
                    "black frame. Caption: the square moves, then stops\nA. First segment (before black frame)\nB. Second segment (after black frame)",
                    "GT": "AB"[j],
                }
            )
    write_json(repo / "vinoground_textscore.json", text)
    write_json(repo / "vinoground_videoscore.json", video)
    write_csv(
        repo / "vinoground.csv",
        [
            {"index": 0, "major": "action", "minor": "contextual;viewpoint", "pos_cap": "the square moves, then stops", "neg_cap": "x"},
            {"index": 1, "major": "object", "minor": "", "pos_cap": "a", "neg_cap": "b"},
            {"index": 2, "major": "action", "minor": "interaction", "pos_cap": "a", "neg_cap": "b"},
        ],
    )
    return repo, repo


BENCHMARK = Benchmark(
    name="vinoground",
    title="Vinoground",
    group="general",
    source="lmms-eval `vinoground` (Hub HanSolo9682/Vinoground); authors' get_score_all.py",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "pairs": VinogroundScores()},
    headline=("text_score", "video_score", "group_score"),
    oracle=oracle,
    generation_size=16,
    deviations="A pair with a skipped question (missing video) counts as not all-correct (lmms-eval would stop).",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="32 frames (the authors' README run; they also allow 4 fps)",
    fixture_note="Vinoground/Vinoground@1543a2a README + get_score_all.py (file names, csv columns by position); lmms-eval vinoground utils",
    unverified="the gated dataset's records were not seen: the `video_name` values, the csv header and its columns after the "
    "categories are assumed",
)
