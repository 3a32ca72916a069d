"""Charades-STA: sentence -> moment grounding (Gao et al., ICCV 2017).

Data: the official ``charades_sta_test.txt`` ("VID start end##sentence" lines) or lmms-eval's
``lmms-eval/charades_sta`` rows (video, caption, timestamp); videos ``Charades_v1_480/<VID>.mp4``.
Protocol: lmms-eval ``temporal_grounding_charades`` prompt (50 new tokens, greedy), its
``extract_time`` cascade (first span), IoU with the ground truth; R@0.3/0.5/0.7 and mIoU.
mIoP (intersection over the predicted span) is our addition.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    read_records,
    write_clip,
    write_local_folder,
)
from ..common.metrics import Mean, grounding_scores
from ..common.parsing import extract_span
from ..common.tasks import Benchmark

PRE_PROMPT = (
    "Please find the visual event described by a sentence in the video, determining its starting and ending times. "
    "The format should be: 'The event happens in the start time - end time'. For example, The event 'person turn a light on' "
    "happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
)
POST_PROMPT = "Please return its start time and end time."


def _records(source: Path) -> list[dict]:
    if source.suffix == ".txt":
        out = []
        for line in source.read_text(encoding="utf-8").splitlines():
            if "##" not in line:
                continue
            head, caption = line.split("##", 1)
            vid, start, end = head.split()
            out.append({"video": f"{vid}.mp4", "caption": caption.strip(), "timestamp": [float(start), float(end)]})
        return out
    return read_records(source)


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for i, r in enumerate(_records(source)):
        video = str(r["video"])
        start, end = (float(t) for t in as_list(r["timestamp"]))
        rows.append(
            {
                "id": f"{Path(video).stem}_{i}",
                "videos": [find_video(videos_root, [video, f"Charades_v1_480/{video}"])],
                "question": str(r["caption"]).strip(),
                "answer": f"[{start}, {end}]",
                "meta": {"span": [start, end]},
            }
        )
    return write_local_folder("charades_sta", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{PRE_PROMPT}{row['question'].rstrip('.')}. {POST_PROMPT}"


def score(spec, text) -> dict:
    return grounding_scores(extract_span(text), [spec["meta"]["span"]])


def oracle(spec) -> str:
    start, end = spec["meta"]["span"]
    return f"The event happens in the {start} - {end} seconds."


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "charades_sta", root / "charades_videos" / "Charades_v1_480"
    for i, vid in enumerate(["AO8RW", "Y6R7T"]):
        write_clip(videos / f"{vid}.mp4", seconds=4, seed=10 + i)
    lines = [
        "AO8RW 0.0 2.0##a person is putting a book on a shelf.",
        "AO8RW 1.0 3.0##person opens the door.",
        "Y6R7T 0.5 3.5##a person is sitting on a chair.",
        "ZZZZZ 0.0 1.0##this video was never downloaded.",
    ]
    src.mkdir(parents=True, exist_ok=True)
    (src / "charades_sta_test.txt").write_text("\n".join(lines) + "\n")
    return src / "charades_sta_test.txt", videos.parent


BENCHMARK = Benchmark(
    name="charades_sta",
    title="Charades-STA",
    group="grounding",
    source="lmms-eval `temporal_grounding_charades` (lmms-eval/charades_sta); official Charades-STA txt",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={k: Mean() for k in ("mIoU", "mIoP", "R@0.3", "R@0.5", "R@0.7")},
    headline=("mIoU", "R@0.5"),
    oracle=oracle,
    generation_size=50,
    deviations="No span parsed -> IoU 0 (lmms-eval substitutes [gt_end+10, gt_end+20], also IoU 0). mIoP added.",
)
