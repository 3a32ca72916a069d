"""MINERVA: complex multi-step video reasoning (Nagrani et al., 2025).

Data: ``minerva.json`` (google-deepmind/neptune README; lmms-eval reads the copy in
``lmms-lab-eval/minerva``): ``key, video_id`` (YouTube id), ``question, answer`` (text),
``answer_choice_0..4, answer_id, reasoning``, ``question type`` (with a space: a comma-separated skill
list; ``question_type`` is read too), ``split`` and ``category``. Videos are YouTube downloads you
make yourself: ``<video_id>.mp4/.webm/.mkv/.mov`` under the videos root (lmms-eval's ``MINERVA_VIDEO_DIR``).
Protocol: lmms-eval ``minerva``: question + "A. ..." lines + "\\nAnswer with the option's letter from
the given choices directly.", 32 new tokens; the last explicit "answer is X", else the last option
letter; gold from ``answer_id`` (else the answer text); accuracy overall, per question type and per
video domain (``split``).
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import find_video, letter, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import minerva_choice
from ..common.tasks import Benchmark, mc_scores

POST_PROMPT = "\nAnswer with the option's letter from the given choices directly."


def _gold(r: dict, options: list[str]) -> str:
    answer_id = r.get("answer_id")
    if isinstance(answer_id, int) or (isinstance(answer_id, str) and answer_id.isdigit()):
        return letter(int(answer_id))
    gold = str(r.get("answer", "")).strip()
    if gold not in options:
        raise ValueError(f"minerva: question {r.get('key')!r} has no answer_id and its answer {gold!r} is none of its choices")
    return letter(options.index(gold))


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for r in read_records(source / "minerva.json" if source.is_dir() else source):
        options = [str(r.get(f"answer_choice_{i}", "")).strip() for i in range(5)]
        rows.append(
            {
                "id": str(r["key"]),
                "videos": [find_video(videos_root, [f"{r['video_id']}.mp4"])],
                "question": str(r["question"]).strip(),
                "options": options,
                "answer": _gold(r, options),
                "meta": {
                    "question_type": str(r.get("question_type") or r.get("question type") or ""),
                    "split": str(r.get("split") or ""),
                    "category": str(r.get("category") or ""),
                },
            }
        )
    return write_local_folder("minerva", rows, out, videos_root, source)


def prompt(row) -> str:
    choices = "\n".join(f"{letter(i)}. {c}" for i, c in enumerate(row["options"]))
    return f"{row['question']}\n{choices}{POST_PROMPT}"


def score(spec, text) -> dict:
    scores = mc_scores(minerva_choice(text), spec["answer"], spec["meta"]["question_type"], key="by_question_type")
    scores["by_split"] = {"group": spec["meta"]["split"], "score": scores["acc"]}
    return scores


def oracle(spec) -> str:
    return f"The answer is {spec['answer']}."


def write_fixture(root) -> tuple[Path, Path]:
    """``minerva.json`` with the README's field list (``question type`` with a space, ``answer``
    text, ``answer_id``, ``reasoning``, ``split``, ``category``); videos as YouTube downloads of
    different containers (``.mp4``, ``.webm``, upper-case ``.MP4``)."""
    root = Path(root)
    src, videos = root / "minerva", root / "minerva_videos"
    rows = []
    for i, ext in enumerate(["mp4", "webm", "MP4"]):
        vid = f"yt{i}abcDEFg"
        write_clip(videos / f"{vid}.{ext}", seconds=2, seed=90 + i)
        choices = [f"choice {j}" for j in range(5)]
        rows.append(
            {
                "key": f"{vid}_{i}",
                "video_id": vid,
                "question": f"What happens in step {i}?",
                "answer": choices[(2 * i) % 5],
                **{f"answer_choice_{j}": c for j, c in enumerate(choices)},
                "answer_id": (2 * i) % 5,
                "reasoning": "The square moves, then stops.",
                "question type": ["Counting", "Temporal Reasoning, Counting", "Counting"][i],
                "split": "Cooking",
                "category": "Baking",
            }
        )
    write_json(src / "minerva.json", rows)
    return src / "minerva.json", videos


BENCHMARK = Benchmark(
    name="minerva",
    title="MINERVA",
    group="reasoning",
    source="lmms-eval `minerva` (minerva.json, google-deepmind/neptune README); YouTube videos",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_question_type": GroupMean("acc_"), "by_split": GroupMean("acc_split_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
    deviations="Unparsable answers score 0 (lmms-eval draws a random letter).",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="lmms-eval's Qwen-VL defaults, 32 frames (the task sets none)",
    fixture_note="google-deepmind/neptune@bdde4b1 README 'MINERVA' field list (minerva.json)",
    unverified="no record of minerva.json was seen: the types of answer_id and the option texts follow lmms-eval's loader",
)
