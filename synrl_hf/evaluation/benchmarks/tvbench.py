"""TVBench: temporal video-language benchmark (Cores et al., 2024), 10 tasks.

Data: Hub ``FunAILab/TVBench``: ``json/<task>.json`` (a list: ``video``, ``question``,
``candidates``, ``answer`` = a candidate's text; ``start``/``end`` seconds on ``action_sequence``
and ``action_localization``) and ``video/<task>.zip`` unzipped to ``video/<task>/<video>``. There
is no ``action_antonym`` zip: those clips are NTU RGB+D's (ROSE Lab), reported missing with that
reason until you add them under ``video/action_antonym/``.
Protocol: lmms-eval ``tvbench`` (question + "A. ..." lines + "Answer with the option letter only.",
32 new tokens, its letter extraction) with the official eval's frame sampling: 16 frames, and on
``action_sequence`` / ``action_localization`` only inside ``[start, end]`` (lmms-eval samples the
whole clip). Accuracy over all questions (the official total), per task, and the mean over tasks
(lmms-eval's group score).
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import as_list, find_video, letter, read_records, write_clip, write_json, write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.parsing import tvbench_choice
from ..common.tasks import Benchmark, mc_scores

BOUNDED_TASKS = ("action_sequence", "action_localization")
NTU_REASON = "NTU RGB+D clips, not on the Hub: request them from the ROSE Lab (FunAILab/TVBench discussion #3)"


def gold_letter(answer, candidates: list[str], where: str) -> str:
    """lmms-eval's ``tvbench_doc_to_target``: the candidate text, else an index (0- or 1-based), else a letter."""
    text = str(answer).strip()
    if text in candidates:
        return letter(candidates.index(text))
    if text.isdigit() and int(text) < len(candidates):
        return letter(int(text))
    if len(text) == 1 and text.upper() in "ABCDEFGH"[: len(candidates)]:
        return text.upper()
    raise ValueError(f"tvbench: answer {answer!r} of {where} is none of its candidates {candidates}")


def convert(source, videos_root, out):
    source = Path(source)
    rows = []
    for path in sorted((source / "json" if (source / "json").is_dir() else source).glob("*.json")):
        task = path.stem
        for i, r in enumerate(read_records(path)):
            candidates = [str(c) for c in as_list(r["candidates"])]
            video = str(r["video"])
            meta = {"task": task}
            if task in BOUNDED_TASKS and r.get("start") is not None and r.get("end") is not None:
                meta["window"] = [float(r["start"]), float(r["end"])]
            rows.append(
                {
                    "id": f"{task}_{i}",
                    "videos": [find_video(videos_root, [f"video/{task}/{video}", f"{task}/{video}", video])],
                    "question": str(r["question"]),
                    "options": candidates,
                    "answer": gold_letter(r["answer"], candidates, f"{path.name} item {i}"),
                    "meta": meta,
                }
            )
    return write_local_folder("tvbench", rows, out, videos_root, source, missing_reasons={"video/action_antonym/": NTU_REASON})


def prompt(row) -> str:
    lines = [row["question"].strip(), *(f"{letter(i)}. {c}" for i, c in enumerate(row["options"])), "Answer with the option letter only."]
    return "\n".join(lines)


def score(spec, text) -> dict:
    return mc_scores(tvbench_choice(text, spec["options"]), spec["answer"], spec["meta"]["task"], key="by_task")


def oracle(spec) -> str:
    return f"{spec['answer']}."


def write_fixture(root) -> tuple[Path, Path]:
    """``json/<task>.json`` (MVBench's format: video, question, candidates, answer text; start/end
    on the two bounded tasks) and ``video/<task>/`` clips; ``action_antonym``'s NTU clip is absent,
    as in the Hub release."""
    root = Path(root)
    repo = root / "TVBench"
    tasks = {
        "action_sequence": [
            ("seq_0.mp4", ["sat down", "stood up"], "sat down", (0.5, 2.5)),
            ("seq_1.mp4", ["sat down", "stood up"], "stood up", (1.0, 3.0)),
        ],
        "moving_direction": [("dir_0.mp4", ["left", "right", "up"], "left", None), ("dir_1.mp4", ["left", "right", "up"], "right", None)],
        "action_antonym": [("S001C001P001R001A001_rgb.avi", ["drinking", "not drinking"], "drinking", None)],
    }
    for t, (task, items) in enumerate(tasks.items()):
        records = []
        for i, (video, candidates, answer, bound) in enumerate(items):
            if task != "action_antonym":
                write_clip(repo / "video" / task / video, seconds=4, seed=80 + 2 * t + i)
            record = {"video": video, "question": f"What happens in {task} clip {i}?", "candidates": candidates, "answer": answer}
            if bound:
                record.update(start=bound[0], end=bound[1])
            records.append(record)
        write_json(repo / "json" / f"{task}.json", records)
    return repo, repo


BENCHMARK = Benchmark(
    name="tvbench",
    title="TVBench",
    group="reasoning",
    source="Hub FunAILab/TVBench; lmms-eval `tvbench` prompt/parser, official infer.ipynb frame sampling",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_task": GroupMean("acc_", with_mean=True)},
    headline=("acc",),
    oracle=oracle,
    generation_size=32,
    deviations="Frames inside [start, end] on the two bounded tasks (the official eval; lmms-eval ignores the bounds).",
    frame_budget=FrameBudget(num_frames=16, max_pixels=1_605_632),
    budget_note="16 frames (the official VideoChat2 evaluation)",
    fixture_note="FunAILab/TVBench json/<task>.json + video/<task>/ (fields of the official vqa_dataset.py / infer.ipynb)",
    unverified="no json record was seen: field names come from the official loader; the zips' inner folder names are assumed",
)
