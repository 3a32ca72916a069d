"""MINERVA: complex multi-step video reasoning (Nagrani et al., 2025).

Data: ``minerva.json`` (key, video_id, question, answer_choice_0..4, answer_id, question_type,
category) as lmms-eval downloads it; videos are YouTube ids you download yourself
(``<video_id>.mp4/.webm/.mkv`` under the videos root, lmms-eval's ``MINERVA_VIDEO_DIR``).
Protocol: lmms-eval ``minerva``: question + "A. ..." lines (+ the letter instruction); the last
explicit "answer is X", else the last option letter; accuracy overall and per question type.
"""

from __future__ import annotations

from pathlib import Path

from ..common.converters import (
    find_video,
    letter,
    read_records,
    write_clip,
    write_json,
    write_local_folder,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import minerva_choice
from ..common.tasks import Benchmark, mc_scores, option_lines

POST_PROMPT = "Answer with the option's letter from the given choices directly."


def convert(source, videos_root, out):
    rows = []
    for r in read_records(source):
        options = [str(r.get(f"answer_choice_{i}", "")).strip() for i in range(5)]
        gold = int(r["answer_id"]) if str(r.get("answer_id", "")).strip().isdigit() else options.index(str(r["answer"]).strip())
        rows.append(
            {
                "id": str(r["key"]),
                "videos": [find_video(videos_root, [f"{r['video_id']}.mp4"])],
                "question": str(r["question"]).strip(),
                "options": options,
                "answer": letter(gold),
                "meta": {"question_type": r.get("question_type") or r.get("question type") or "", "category": r.get("category", "")},
            }
        )
    return write_local_folder("minerva", rows, out, videos_root, source)


def prompt(row) -> str:
    return f"{row['question']}\n{option_lines(row['options'])}\n{POST_PROMPT}"


def score(spec, text) -> dict:
    return mc_scores(minerva_choice(text), spec["answer"], spec["meta"]["question_type"], key="by_question_type")


def oracle(spec) -> str:
    return f"The answer is {spec['answer']}."


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "minerva", root / "minerva_videos"
    rows = []
    for i, ext in enumerate(["mp4", "mp4", "mp4"]):
        vid = f"yt{i}abcDEF"
        write_clip(videos / f"{vid}.{ext}", seconds=2, seed=90 + i)
        rows.append(
            {
                "key": f"k{i}",
                "video_id": vid,
                "question": f"What happens in step {i}?",
                **{f"answer_choice_{j}": f"choice {j}" for j in range(5)},
                "answer_id": (2 * i) % 5,
                "question_type": ["Counting", "Temporal Reasoning", "Counting"][i],
                "category": "Cooking",
            }
        )
    write_json(src / "minerva.json", rows)
    return src / "minerva.json", videos


BENCHMARK = Benchmark(
    name="minerva",
    title="MINERVA",
    group="reasoning",
    source="lmms-eval `minerva` (lmms-lab-eval/minerva minerva.json); YouTube videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_question_type": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=64,
    deviations="Unparsable answers score 0 (lmms-eval draws a random letter).",
)
