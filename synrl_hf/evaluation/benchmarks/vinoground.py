"""Vinoground: counterfactual temporal pairs for short videos (Zhang et al., 2024).

Data: Hub ``HanSolo9682/Vinoground``: ``vinoground_videos/vinoground_textscore.json`` and
``vinoground_videos_concated/vinoground_videoscore.json`` (idx "<n>_<pos|neg>", video_name,
question, GT) with the clips next to them; ``vinoground.csv`` (index, major, minor) optional.
Protocol: lmms-eval ``vinoground``: question + "Please only output one English character.";
the first character against GT; text score (both captions matched for a pair), video score
(both videos matched) and group score (all four), over pairs.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    find_video,
    read_records,
    write_clip,
    write_json,
    write_local_folder,
)
from ..common.metrics import Mean, VinogroundScores
from ..common.parsing import first_char
from ..common.tasks import Benchmark


def convert(source, videos_root, out):
    source = Path(source)
    categories = {}
    if (source / "vinoground.csv").exists():
        categories = {str(r["index"]): r.get("major", "") for r in read_records(source / "vinoground.csv")}
    rows = []
    for kind, name in (("text", "vinoground_textscore.json"), ("video", "vinoground_videoscore.json")):
        path = next(iter(sorted(source.rglob(name))), None)
        if path is None:
            raise FileNotFoundError(f"{name} not found under {source}")
        for r in read_records(path):
            pair, polarity = str(r["idx"]).split("_")[:2]
            rows.append(
                {
                    "id": f"{r['idx']}_{kind}",
                    "videos": [find_video(videos_root, [str(r["video_name"])])],
                    "question": str(r["question"]),
                    "answer": str(r["GT"]).strip().upper(),
                    "meta": {"pair": pair, "kind": kind, "polarity": polarity, "major": categories.get(pair, "")},
                }
            )
    return write_local_folder("vinoground", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\nPlease only output one English character."


def score(spec, text) -> dict:
    correct = float(first_char(text) == spec["answer"])
    meta = spec["meta"]
    return {"acc": correct, "pairs": {"pair": meta["pair"], "kind": meta["kind"], "score": correct}}


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src = root / "vinoground"
    text, video = [], []
    for n in range(3):
        for j, polarity in enumerate(("pos", "neg")):
            write_clip(src / "vinoground_videos" / f"{n}_{polarity}.mp4", seconds=1.5, seed=140 + 2 * n + j)
            write_clip(src / "vinoground_videos_concated" / f"{n}_{polarity}.mp4", seconds=3, seed=150 + 2 * n + j)
            text.append(
                {
                    "idx": f"{n}_{polarity}",
                    "video_name": f"vinoground_videos/{n}_{polarity}.mp4",
                    "question": "Which caption matches the video?\nA. the square moves, then stops\nB. the square stops, then moves",
                    "GT": "AB"[j],
                }
            )
            video.append(
                {
                    "idx": f"{n}_{polarity}",
                    "video_name": f"vinoground_videos_concated/{n}_{polarity}.mp4",
                    "question": "Which video matches the caption 'the square moves, then stops'?\nA. the first\nB. the second",
                    "GT": "AB"[j],
                }
            )
    write_json(src / "vinoground_videos" / "vinoground_textscore.json", text)
    write_json(src / "vinoground_videos_concated" / "vinoground_videoscore.json", video)
    return src, src


BENCHMARK = Benchmark(
    name="vinoground",
    title="Vinoground",
    group="general",
    source="lmms-eval `vinoground` (Hub HanSolo9682/Vinoground)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "pairs": VinogroundScores()},
    headline=("text_score", "video_score", "group_score"),
    oracle=oracle,
    generation_size=16,
    deviations="A pair with a skipped question (missing video) counts as not all-correct.",
)
