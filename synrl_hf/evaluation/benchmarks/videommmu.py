"""VideoMMMU: knowledge acquisition from lecture videos (Hu et al., 2025), 3 tracks.

Data: Hub ``lmms-eval/VideoMMMU`` configs Perception / Comprehension / Adaptation (id, question,
options, answer, question_type); videos per track (``<Track>/<id>.mp4``).
Protocol: lmms-eval ``video_mmmu_*``: Perception/Comprehension: question + options + "Please
ignore the Quiz question in last frame of the video."; Adaptation: "You should watch and learn
the video content. Then apply what you learned to answer the following multi-choice question.
The image for this question is at the end of the video." + question + options; 1024 new
tokens; MMMU's multiple-choice parser, and for open questions a normalised exact / numeric match.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..common.converters import (
    as_list,
    find_video,
    read_records,
    write_clip,
    write_local_folder,
    write_parquet,
)
from ..common.metrics import GroupMean, Mean
from ..common.parsing import mmmu_choice
from ..common.tasks import Benchmark, mc_scores, option_lines

TRACKS = ("Perception", "Comprehension", "Adaptation")
PRE_PROMPT = "You should watch and learn the video content. Then apply what you learned to "
MCQ_PROMPT = "answer the following multi-choice question. The image for this question is at the end of the video.\n"
OPEN_PROMPT = "answer the following open-ended question. The image for this question is at the end of the video.\n"
PC_PROMPT = "\nPlease ignore the Quiz question in last frame of the video."


def convert(source, videos_root, out):
    source = Path(source)
    files = sorted(p for p in (source.rglob("*") if source.is_dir() else [source]) if p.suffix in (".parquet", ".json", ".jsonl"))
    rows = []
    for path in files:
        track = next((t for t in TRACKS if t.lower() in str(path).lower()), None)
        for r in read_records(path):
            t = str(r.get("track") or track or "Perception").capitalize()
            options = [str(o) for o in as_list(r.get("options"))]
            rows.append(
                {
                    "id": str(r["id"]),
                    "videos": [find_video(videos_root, [f"{t}/{r['id']}.mp4", f"{r['id']}.mp4"])],
                    "question": str(r["question"]),
                    "options": options,
                    "answer": str(r["answer"]).strip(),
                    "meta": {"track": t, "question_type": r.get("question_type") or ("multiple-choice" if options else "open")},
                }
            )
    return write_local_folder("videommmu", rows, out, videos_root, source)


def prompt(row) -> str:
    body = f"{row['question']}\n{option_lines(row['options'])}" if row["options"] else row["question"]
    if row["meta"]["track"] == "Adaptation":
        return PRE_PROMPT + (MCQ_PROMPT if row["options"] else OPEN_PROMPT) + body
    return body + PC_PROMPT


def _number(text: str):
    found = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return float(found[-1]) if found else None


def score(spec, text) -> dict:
    track = spec["meta"]["track"]
    if spec["options"]:
        return mc_scores(mmmu_choice(text, spec["options"]), spec["answer"], track, key="by_track")
    gold, norm = spec["answer"], lambda s: " ".join(s.lower().strip().rstrip(".").split())
    gold_number = _number(gold)
    correct = float(norm(text) == norm(gold) or (gold_number is not None and _number(text) == gold_number))
    return {"acc": correct, "by_track": {"group": track, "score": correct}}


def oracle(spec) -> str:
    return f"({spec['answer']})" if spec["options"] else f"The answer is {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    root = Path(root)
    src, videos = root / "videommmu", root / "videommmu_videos"
    for t, track in enumerate(TRACKS):
        rows = []
        for i in range(2):
            qid = f"validation_{track}_{i}"
            write_clip(videos / track / f"{qid}.mp4", seconds=2, seed=120 + 2 * t + i)
            if track == "Adaptation" and i == 1:
                rows.append({"id": qid, "question": "What is 6 times 7?", "options": [], "answer": "42", "question_type": "open"})
            else:
                rows.append(
                    {
                        "id": qid,
                        "question": f"{track} question {i}",
                        "options": ["alpha", "beta", "gamma", "delta"],
                        "answer": "ABCD"[i + t],
                        "question_type": "multiple-choice",
                    }
                )
        write_parquet(src / track / "test-00000-of-00001.parquet", rows)
    return src, videos


BENCHMARK = Benchmark(
    name="videommmu",
    title="VideoMMMU",
    group="general",
    source="lmms-eval `video_mmmu` (Hub lmms-eval/VideoMMMU)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_track": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="Open questions: exact/numeric match instead of MMMU's open-answer heuristics; unparsable MC answers score 0 (MMMU: random).",
)
