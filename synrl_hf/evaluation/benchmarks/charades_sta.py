"""Charades-STA: sentence -> moment grounding (Gao et al., ICCV 2017).

Data: lmms-eval's Hub ``lmms-eval/charades_sta`` ``data/test-00000-of-00001.parquet`` (3720 rows:
``video`` file name, ``caption``, ``timestamp`` = ``[start, end]`` seconds stored as float16), or
the original ``charades_sta_test.txt`` (``VID start end##sentence.`` lines); videos
``Charades_v1_480/<VID>.mp4``.
Protocol: lmms-eval ``temporal_grounding_charades``: ``{pre_prompt}{caption}. {post_prompt}``
(50 new tokens, greedy), its ``extract_time`` cascade, IoU 0 unless exactly one span parses;
R@0.3/0.5/0.7 and mIoU. mIoP (intersection over the predicted span) is our addition.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import as_list, find_video, read_records, write_clip, write_local_folder
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
    """Rows as lmms-eval's parquet holds them; the txt's sentences lose their final period (lmms-eval
    appends ". " after the caption)."""
    if source.suffix != ".txt":
        return read_records(source)
    out = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if "##" in line:
            head, caption = line.split("##", 1)
            vid, start, end = head.split()
            out.append({"video": f"{vid}.mp4", "caption": caption.strip().removesuffix("."), "timestamp": [float(start), float(end)]})
    return out


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for i, r in enumerate(_records(source)):
        video = str(r["video"])
        start, end = (float(t) for t in as_list(r["timestamp"]))
        rows.append(
            {
                "id": f"{Path(video).stem}_{i}",
                "videos": [find_video(videos_root, [f"Charades_v1_480/{video}", video])],
                "question": str(r["caption"]),
                "answer": f"[{start}, {end}]",
                "meta": {"span": [start, end]},
            }
        )
    return write_local_folder("charades_sta", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{PRE_PROMPT}{row['question']}. {POST_PROMPT}"


def score(spec, text) -> dict:
    return grounding_scores(extract_span(text), [spec["meta"]["span"]])


def oracle(spec) -> str:
    start, end = spec["meta"]["span"]
    return f"The event happens in the {start} - {end} seconds."


def write_fixture(root) -> tuple[Path, Path]:
    """lmms-eval's parquet (``data/test-00000-of-00001.parquet``: ``video`` with extension,
    ``caption``, ``timestamp`` as a float16 list, so 6.9 is stored as 6.8984375) and the Charades
    ``Charades_v1_480/`` folder; one row's video is not downloaded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    src, videos = root / "charades_sta", root / "charades_sta_hub"
    for i, vid in enumerate(["AO8RW", "Y6R7T"]):
        write_clip(videos / "Charades_v1_480" / f"{vid}.mp4", seconds=4, seed=10 + i)
    rows = [
        ("AO8RW.mp4", "a person is putting a book on a shelf", [0.0, 6.9]),
        ("AO8RW.mp4", "person opens the door", [1.0, 3.0]),
        ("Y6R7T.mp4", "a person is sitting on a chair", [0.5, 3.5]),
        ("ZZZZZ.mp4", "this video was never downloaded", [0.0, 1.0]),
    ]
    columns = {"video": [r[0] for r in rows], "caption": [r[1] for r in rows], "timestamp": [r[2] for r in rows]}
    table = pa.table(columns, schema=pa.schema([("video", pa.string()), ("caption", pa.string()), ("timestamp", pa.list_(pa.float64()))]))
    table = table.cast(pa.schema([("video", pa.string()), ("caption", pa.string()), ("timestamp", pa.list_(pa.float16()))]))
    (src / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, src / "data" / "test-00000-of-00001.parquet")
    return src / "data" / "test-00000-of-00001.parquet", videos


def write_txt_fixture(path: Path) -> Path:
    """The original ``charades_sta_test.txt`` layout (times with one decimal, sentences ending with '.')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("AO8RW 0.0 6.9##a person is putting a book on a shelf.\nY6R7T 0.5 3.5##a person is sitting on a chair.\n")
    return path


BENCHMARK = Benchmark(
    name="charades_sta",
    title="Charades-STA",
    group="grounding",
    source="lmms-eval `temporal_grounding_charades` (Hub lmms-eval/charades_sta); official Charades-STA txt",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={k: Mean() for k in ("R@0.3", "R@0.5", "R@0.7", "mIoU", "mIoP")},
    headline=("R@0.3", "R@0.5", "R@0.7", "mIoU"),
    oracle=oracle,
    generation_size=50,
    deviations="mIoP added. The txt's sentences lose their final period so the prompt matches the Hub rows (see unverified).",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="lmms-eval's Qwen-VL defaults (the task sets none): 32 frames, 1,605,632 pixels",
    fixture_note="lmms-eval/charades_sta data/test-00000-of-00001.parquet (features video: string, caption: string, timestamp: float16 list)",
    unverified="no Hub row was seen: whether `video` carries '.mp4' and whether captions end with a period are inferred from lmms-eval's loader",
)
