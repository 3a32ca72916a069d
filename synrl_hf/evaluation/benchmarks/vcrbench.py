"""VCR-Bench: video chain-of-thought reasoning (Qi et al., 2025), final-answer accuracy.

Data: the official Hub ``VLM-Reasoning/VCR-Bench`` ``v1/videos/meta_info_video.json`` (a list:
``id`` (int), ``video_path`` relative to ``v1/videos/`` (``video/<source>/<file>.mp4``),
``duration`` (s), ``dimension``, ``question`` (multiple-choice options inside its text),
``multiple-choice``, ``choices`` {A..D}, ``answer`` (a letter, free text, a time interval
``"[90, 150]"`` or a box), ``reasoning`` (steps)), or VLMEvalKit's ``VCR-Bench.tsv`` at the repo
root (``index, video_path, question, answer, dimension, duration ...``). Videos: ``v1/videos/video.zip``
unzipped in ``v1/videos/``; pass the repo root as the videos root.
Protocol: VLMEvalKit's video-model prompt (its system message and the raw question). Official score
(GPT-4o, ``eval_code/eval.py``): an LLM extracts the final answer; intervals match at IoU > 0.7,
boxes at IoU > 0.5, everything else by an LLM consistency check; accuracy overall, per dimension
and per duration (0-60 s, 60-300 s, 300 s+). Rule-based here by default (see ``score``); with
``--judge-*`` the official two-step judge runs too and ``acc_judged`` is reported beside ``acc``.
CoT precision/recall (also GPT-4o) are not computed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from synrl_hf.answers import temporal_iou
from synrl_hf.frame_budget import FrameBudget

from ..common.converters import annotation_files, find_video, read_records, write_clip, write_csv, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import extract_mcq_answer, extract_span
from ..common.tasks import Benchmark

SYSTEM_PROMPT = "You are an AI assistant responsible for answering questions about videos."
DURATIONS = ("0-60s", "60-300s", "300s+")

# eval_code/prompt.py (official), shortened to the instructions and the parts the two calls fill in.
EXTRACTION_PROMPT = (
    "You are an AI assistant who will help me to extract an answer of a question. You are provided with a question and a response, "
    "and you need to find the final answer of the question. \n\nExtract Rule:\n[Multiple choice question]\n1. The answer could be "
    "answering the option letter or the value. You should directly output the choice letter of the answer. \n2. You should output a "
    "single uppercase character in A, B, C, D, E, F, G, H, I (if they are valid options), and Z.\n3. If the meaning of all options are "
    "significantly different from the final answer, output Z. \n[Non Multiple choice question]\n1. Output the final value of the answer. "
    "It could be hidden inside the last step of calculation or inference. Pay attention to what the question is asking for to extract "
    "the value of the answer.\n2. The final answer could also be a short phrase or sentence.\n3. If the answer is about a certain time "
    "period, such as from 1 minute 30 seconds to 2 minutes 30 seconds, it should be given in the format [90, 150].\n4. If the response "
    "doesn't give a final answer, output Z.\n\nOutput Format: \nDirectly output the extracted answer of the response \n"
    "\nQuestion: {question}\nAnswer: {response}\nYour output:\n"
)
SCORING_PROMPT = (
    "You are an AI assistant who will help me to judge whether two answers are consistent. \n\nInput Illustration:\n[Standard Answer] "
    "is the standard answer to the question \n[Model Answer] is the answer extracted from a model's output to this question. \n\n"
    "Task Illustration:\nDetermine whether [Standard Answer] and [Model Answer] are consistent.\nConsistent Criteria:\n"
    "[Multiple-Choice questions]\n1. If the [Model Answer] is the option letter, then it must completely matches the [Standard Answer].\n"
    "2. If the [Model Answer] is not an option letter, then the [Model Answer] must completely match the option content of "
    "[Standard Answer].\n[Nan-Multiple-Choice questions]\n1. The [Model Answer] and [Standard Answer] should exactly match.\n2. If the "
    "meaning is expressed in the same way, it is also considered consistent, for example, 0.5m and 50cm.\n\nOutput Format: \n1. If they "
    "are consistent, output 1; if they are different, output 0.\n2. DIRECTLY output 1 or 0 without any other content.\n"
    "\nQuestion: {question}\n[Model Answer]: {extracted}\n[Standard Answer]: {gold}\nYour output:\n"
)


def _duration_bucket(seconds) -> str:
    seconds = float(seconds or 0)
    return DURATIONS[0] if seconds <= 60 else DURATIONS[1] if seconds <= 300 else DURATIONS[2]


def convert(source, videos_root, out):
    source = Path(source)
    files = annotation_files(source, (".json", ".tsv"))
    # a repo snapshot holds both: the official json first, VLMEvalKit's tsv next, else the file given
    files = [f for name in ("meta_info_video.json", "VCR-Bench.tsv") for f in files if f.name == name] or files
    rows = []
    for r in read_records(files[0]):
        path = str(r["video_path"])
        multiple_choice = r.get("multiple-choice")
        if isinstance(multiple_choice, str):
            multiple_choice = multiple_choice.strip().lower() == "true"
        answer = str(r["answer"]).strip()
        rows.append(
            {
                "id": str(r.get("id", r.get("index"))),
                "videos": [find_video(videos_root, [f"v1/videos/{path}", path])],
                "question": str(r["question"]),
                "answer": answer,
                "meta": {
                    "dimension": str(r.get("dimension") or ""),
                    "duration": _duration_bucket(r.get("duration")),
                    "multiple_choice": bool(multiple_choice) if multiple_choice is not None else bool(re.fullmatch(r"[A-I]", answer)),
                },
            }
        )
    return write_local_folder("vcrbench", rows, out, videos_root, files[0])


def prompt(row) -> str:
    return row["question"]


def _interval(text: str) -> tuple[float, float] | None:
    """``"[90, 150]"`` (the official interval form) -> (90.0, 150.0)."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]), float(value[1])
    return None


def _box(text: str) -> list[int] | None:
    """``"[x1, y1, x2, y2]"`` (integers, the official box form) -> the four numbers."""
    match = re.fullmatch(r"\[\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*\]", text.strip())
    return [int(v) for v in match.groups()] if match else None


def box_iou(a, b) -> float:
    """``calculate_space_iou`` of the official scorer."""
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if x2 < x1 or y2 < y1:
        return 0.0
    inter = (x2 - x1) * (y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _matches(gold: str, candidate: str) -> bool | None:
    """The official non-LLM matches: intervals at IoU > 0.7, boxes at IoU > 0.5; None otherwise."""
    gold_span, span = _interval(gold), _interval(candidate)
    if gold_span is not None and span is not None:
        return temporal_iou(span, gold_span) > 0.7
    gold_box, box = _box(gold), _box(candidate)
    if gold_box is not None and box is not None:
        return box_iou(box, gold_box) > 0.5
    return None


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w.\s]", " ", text.lower()).replace(". ", " ").split()).strip(".")


def score(spec, text) -> dict:
    """Rule-based: multiple choice by lmms-eval's letter extractor; an interval gold against the first
    "[a, b]" in the reply, else the span lmms-eval's ``extract_time`` finds (IoU > 0.7); a box gold against the first box in it (IoU > 0.5); a number by the
    last number in the reply; other text when the gold's words appear in the reply."""
    gold, meta, text = spec["answer"], spec["meta"], text or ""
    if meta["multiple_choice"]:
        correct = extract_mcq_answer(text, "ABCDEFGHI") == gold.upper()
    elif _interval(gold) is not None:
        spans = [s for s in map(_interval, re.findall(r"\[[^\[\]]*\]", text)) if s is not None] or [extract_span(text)]
        correct = spans[0] is not None and bool(_matches(gold, f"[{spans[0][0]}, {spans[0][1]}]"))
    elif _box(gold) is not None:
        boxes = re.findall(r"\[[^\[\]]*\]", text)
        correct = bool(boxes) and bool(_matches(gold, boxes[0]))
    elif re.fullmatch(r"-?\d+(?:\.\d+)?", gold):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
        correct = bool(numbers) and float(numbers[-1]) == float(gold)
    else:
        correct = bool(_words(gold)) and f" {_words(gold)} " in f" {_words(text)} "
    correct = float(correct)
    return {
        "acc": correct,
        "by_dimension": {"group": meta["dimension"], "score": correct},
        "by_duration": {"group": meta["duration"], "score": correct},
    }


def judge(spec, reply, ask) -> float:
    """The official score: the judge extracts the final answer, then intervals and boxes are matched
    by IoU and anything else by the judge's consistency check."""
    extracted = ask(
        [{"role": "user", "content": EXTRACTION_PROMPT.format(question=spec["question"], response=reply)}], max_tokens=256
    ).strip()
    matched = _matches(spec["answer"], extracted)
    if matched is not None:
        return float(matched)
    verdict = ask(
        [{"role": "user", "content": SCORING_PROMPT.format(question=spec["question"], extracted=extracted, gold=spec["answer"])}],
        max_tokens=8,
    )
    return float(verdict.strip().startswith("1"))


def oracle(spec) -> str:
    return f"The answer is {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    """``v1/videos/meta_info_video.json`` with the official fields (as ``eval_code/input.json``,
    whose records 0 and 3 are copied: an open answer and a multiple-choice one with the options in
    the question), plus a time-interval answer; clips at ``v1/videos/video/<source>/<file>.mp4``."""
    root = Path(root)
    repo = root / "VCR-Bench"
    base = {"choices": {"A": "", "B": "", "C": "", "D": ""}, "multiple-choice": False}
    items = [
        {
            **base,
            "id": 0,
            "video_path": "video/videoEspresso/Kill.Bill.Vol.1.2003__#0-05-55_0-08-54_label_B1-0-0.mp4",
            "duration": 179,
            "dimension": "Temporal Spatial Reasoning",
            "question": "In which room does the second fight in the video take place?",
            "answer": "Kitchen",
            "reasoning": ["1. 0:07-0:55, two women engage in a physical altercation.", "2. 0:55-1:02, two women entered the kitchen."],
        },
        {
            "id": 3,
            "video_path": "video/videoEspresso/Law.Abiding.Citizen.2009__#01-14-42_01-15-38_label_G-0-0.mp4",
            "duration": 56,
            "dimension": "Video Plot Analysis",
            "question": "Why didn't the Black man go to rescue the trapped woman after the explosion?A. He and the woman are in a hostile "
            "relationship.\nB. He prioritized rescuing another woman.\nC. Another man rescued the woman.\nD. An explosion occurred again at "
            "the scene.\n",
            "multiple-choice": True,
            "choices": {
                "A": "He and the woman are in a hostile relationship.",
                "B": "He prioritized rescuing another woman.",
                "C": "Another man rescued the woman.",
                "D": "An explosion occurred again at the scene.",
            },
            "answer": "D",
            "reasoning": ["1. 0:08-0:30, an explosion happens."],
        },
        {
            "id": 12,
            "video_path": "video/videoEspresso/Heat.1995__#0-10-00_0-11-00_label_A-0-0.mp4",
            "duration": 60,
            "dimension": "Video Plot Analysis",
            "question": "What does the man do after the phone rings?A. He answers it.\nB. He leaves.\nC. He sleeps.\nD. He cooks.\n",
            "multiple-choice": True,
            "choices": {"A": "He answers it.", "B": "He leaves.", "C": "He sleeps.", "D": "He cooks."},
            "answer": "A",
            "reasoning": ["1. 0:10-0:12, the phone rings and the man picks it up."],
        },
        {
            **base,
            "id": 7,
            "video_path": "video/charades/AO8RW.mp4",
            "duration": 320,
            "dimension": "Video Temporal Grounding",
            "question": "Please specify the start and end time of the event 'a person puts a book on a shelf.'",
            "answer": "[1, 3]",
            "reasoning": ["1. 0:01-0:03, a person puts a book on a shelf."],
        },
    ]
    write_json(repo / "v1" / "videos" / "meta_info_video.json", items)
    for i, item in enumerate(items):
        write_clip(repo / "v1" / "videos" / item["video_path"], seconds=2, seed=60 + i)
    return repo / "v1" / "videos" / "meta_info_video.json", repo


def write_tsv_fixture(repo: Path) -> Path:
    """VLMEvalKit's ``VCR-Bench.tsv`` at the repo root (columns its loader and scorer read)."""
    return write_csv(
        repo / "VCR-Bench.tsv",
        [
            {
                "index": 3,
                "video": "Law.Abiding.Citizen.2009__#01-14-42_01-15-38_label_G-0-0",
                "video_path": "v1/videos/video/videoEspresso/Law.Abiding.Citizen.2009__#01-14-42_01-15-38_label_G-0-0.mp4",
                "question": "Why didn't the Black man go to rescue the trapped woman?A. hostile\nB. another woman\nC. another man\nD. explosion\n",
                "answer": "D",
                "reasoning": "['1. 0:08-0:30, an explosion happens.']",
                "dimension": "Video Plot Analysis",
                "duration": 56,
            }
        ],
        delimiter="\t",
    )


BENCHMARK = Benchmark(
    name="vcrbench",
    title="VCR-Bench",
    group="reasoning",
    source="Hub VLM-Reasoning/VCR-Bench (official meta_info_video.json, eval_code/eval.py; VLMEvalKit `VCR-Bench`)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_dimension": GroupMean("acc_"), "by_duration": GroupMean("acc_", groups=DURATIONS)},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations=(
        "The official GPT-4o extraction and consistency judge is optional (`--judge-*`, reported as acc_judged); the default `acc` is "
        "rule-based. CoT precision/recall are not computed."
    ),
    frame_budget=FrameBudget(num_frames=64, max_pixels=1_605_632),
    budget_note="64 frames (the authors' 64-frame release; VLMEvalKit offers 8/16/32/64)",
    fixture_note="zhishuifeiqian/VCR-Bench@4e564b7 eval_code/input.json (records 0 and 3, the official schema) -> v1/videos/meta_info_video.json",
    unverified="the columns of VLMEvalKit's VCR-Bench.tsv are inferred from its loader (the file was not seen)",
    judge=judge,
    system_prompt=SYSTEM_PROMPT,
)
