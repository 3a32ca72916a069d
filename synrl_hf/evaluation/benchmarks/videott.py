"""Video-TT (Video Thinking Test): multiple-choice split (Zhang et al., ICCV 2025).

Data: Hub ``lmms-eval/video-tt`` ``data/test-00000-of-00001.parquet`` (split ``test``; columns
``video_id, duration, question, question_prompt, capability, answer``; no question id, so rows are
numbered per video); videos ``Benchmark-AllVideos-LQ/<video_id>.mp4`` (``.MP4``/``.mkv`` too) from
the ``Benchmark-AllVideos-LQ*.zip`` files, or VLMEvalKit's flattened ``video/<video_id>.mp4``.
Protocol: lmms-eval ``videott_single_mc`` with its default kwargs: exactly
``"\\n" + question + "\\n" + question_prompt + "\\n"`` (no instruction), 16 new tokens, its
``extract_characters_regex`` (first A-E), exact match with ``answer``; accuracy overall and per
capability.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import find_video, read_records, write_clip, write_local_folder, write_parquet
from ..common.metrics import GroupMean, Mean
from ..common.parsing import first_letter
from ..common.tasks import Benchmark, mc_scores


def convert(source, videos_root, out):
    source = Path(source)
    path = source / "data" / "test-00000-of-00001.parquet" if source.is_dir() else source
    seen: Counter = Counter()
    rows = []
    for r in read_records(path):
        vid = str(r["video_id"])
        seen[vid] += 1
        rows.append(
            {
                "id": f"{vid}_{seen[vid]}",
                "videos": [find_video(videos_root, [f"Benchmark-AllVideos-LQ/{vid}.mp4", f"video/{vid}.mp4", f"{vid}.mp4"])],
                "question": f"{r['question']}\n{r['question_prompt']}",
                "answer": str(r["answer"]).strip(),
                "meta": {"capability": str(r.get("capability", "")), "duration": r.get("duration")},
            }
        )
    return write_local_folder("videott", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"\n{row['question']}\n"


def score(spec, text) -> dict:
    return mc_scores(first_letter(text, "ABCDE"), spec["answer"], spec["meta"]["capability"], key="by_capability")


def oracle(spec) -> str:
    return spec["answer"]


def write_fixture(root) -> tuple[Path, Path]:
    """lmms-eval/video-tt ``data/test-00000-of-00001.parquet`` with the columns lmms-eval and
    VLMEvalKit read (two questions on one video), clips in ``Benchmark-AllVideos-LQ/``."""
    root = Path(root)
    src = root / "video-tt"
    rows = []
    for i, (vid, capability, answer) in enumerate(
        [("vtt0", "Element Attributes", "B"), ("vtt1", "Plot Attribute", "A"), ("vtt1", "Element Counting", "C")]
    ):
        if not (src / "Benchmark-AllVideos-LQ" / f"{vid}.mp4").exists():
            write_clip(src / "Benchmark-AllVideos-LQ" / f"{vid}.mp4", seconds=2, seed=50 + i)
        rows.append(
            {
                "video_id": vid,
                "duration": 12.5,
                "question": "Where does the square end up?",
                "question_prompt": "A. left\nB. right\nC. top\nD. bottom",
                "capability": capability,
                "answer": answer,
            }
        )
    write_parquet(src / "data" / "test-00000-of-00001.parquet", rows)
    return src, src


BENCHMARK = Benchmark(
    name="videott",
    title="Video-TT (MC)",
    group="reasoning",
    source="lmms-eval `videott_single_mc` (Hub lmms-eval/video-tt)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_capability": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=16,
    deviations="Multiple-choice split only: the open-ended `test_all` split (an LLM judge, Qwen2.5-72B by default) is not converted.",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="lmms-eval's Qwen-VL defaults, 32 frames (VLMEvalKit offers 16/32/64)",
    fixture_note="lmms-eval/video-tt data/test-00000-of-00001.parquet (columns as read by lmms-eval videott and VLMEvalKit videott.py)",
    unverified="no dataset card or row was seen: the option format inside `question_prompt` and the type of `duration` are assumed",
)
