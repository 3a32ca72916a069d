"""synrl_bench: our held-out synthetic ``test`` split (docs/data-contract.md), accuracy per task family
and per difficulty level.

Data: a folder written by ``synrl build`` (``data/<family>/test-*.parquet``, MP4 bytes embedded), or
a folder of such builds, one per level (``synrl build --out bench/level3 --splits test --preset
level3``, …; convert ``bench``); the converter writes the clips out as files (videos root:
``<out>/videos`` unless given). The bench stays fixed while online training moves up the ladders.
Protocol: the row's own prompt (question, answer instruction, ``<think>``/``<answer>`` format);
the last ``<answer>`` block is scored by ``synrl_hf.answers.score_answer`` (the answer grammar the
GRPO reward uses), intervals as correct when IoU >= 0.5; accuracy overall, per family
(``acc_<family>``) and per family and level (``acc_<family>_level<k>``: how far up each ladder the
model got). A row's level is its ``level`` field, or the level its ``preset`` names in builds older
than that field.
"""

from __future__ import annotations

import json
from pathlib import Path

from synrl_hf.answers import INTERVAL_PASS_IOU, extract_answer, score_answer
from synrl_hf.difficulty import level_of

from ..common.converters import write_local_folder
from ..common.metrics import GroupMean, Mean
from ..common.tasks import Benchmark

COLUMNS = ["id", "task", "category", "question", "options", "answer", "answer_type", "video", "prompt", "level", "preset"]


def row_level(row) -> int | None:
    """The ladder level of a built row: its `level`, or the level its `preset` names (None: neither)."""
    if row.get("level") is not None:
        return int(row["level"])
    try:
        return level_of(row.get("preset") or "")
    except ValueError:
        return None


def _prompt_text(prompt) -> str | None:
    messages = json.loads(prompt) if isinstance(prompt, str) else prompt
    for message in messages or []:
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "text":
                return block["text"]
    return None


def convert(source, videos_root, out):
    import pyarrow.parquet as pq

    from synrl_hf.questions import ANSWER_INSTRUCTIONS, REASONING_INSTRUCTION

    source, out = Path(source), Path(out)
    files = sorted(source.glob("data/*/test-*.parquet")) or sorted(source.glob("**/test-*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"no test-split shards (data/<family>/test-*.parquet) in {source}; build them with `synrl build --splits test`"
        )
    videos_root = Path(videos_root) if videos_root is not None else out / "videos"
    videos_root.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in files:
        table = pq.read_table(path)
        for r in table.select([c for c in COLUMNS if c in table.column_names]).to_pylist():
            name = f"{r['id']}.mp4"
            if r["video"] and r["video"].get("bytes") and not (videos_root / name).exists():
                (videos_root / name).write_bytes(r["video"]["bytes"])
            text = _prompt_text(r.get("prompt")) or f"{r['question']}\n{ANSWER_INSTRUCTIONS[r['answer_type']]} {REASONING_INSTRUCTION}"
            rows.append(
                {
                    "id": r["id"],
                    "videos": [name],
                    "question": r["question"],
                    "options": list(r["options"] or []),
                    "answer": r["answer"],
                    "meta": {
                        "task": r["task"],
                        "category": r.get("category", ""),
                        "answer_type": r["answer_type"],
                        "prompt_text": text,
                        "level": row_level(r),
                    },
                }
            )
    return write_local_folder("synrl_bench", rows, out, videos_root, source)


def prompt(row) -> str:
    return row["meta"]["prompt_text"]


def score(spec, text) -> dict:
    meta = spec["meta"]
    value = score_answer(
        extract_answer(text),
        spec["answer"],
        meta["answer_type"],
        options=spec["options"],
        interval_threshold=INTERVAL_PASS_IOU if meta["answer_type"] == "interval" else None,
    )
    level = meta.get("level")
    by_level = f"{meta['task']}_level{level}" if level is not None else f"{meta['task']}_level_unknown"
    return {
        "acc": float(value),
        "by_family": {"group": meta["task"], "score": float(value)},
        "by_level": {"group": by_level, "score": float(value)},
    }


def oracle(spec) -> str:
    return f"<think>Reading the clip.</think><answer>{spec['answer']}</answer>"


def write_fixture(root) -> tuple[Path, Path]:
    from synrl_hf.build import BuildSpec, build
    from synrl_hf.families import families_in

    families = tuple(dict.fromkeys(f for c in ("short_term", "long_term") for f in families_in(c)[:1]))
    out = Path(root) / "synrl_test_split"
    build(BuildSpec(families=families, per_task=2, resolution=64, splits=("test",)), out, progress=False)
    return out, None


BENCHMARK = Benchmark(
    name="synrl_bench",
    title="synrl_bench (held-out test)",
    group="synrl",
    source="`synrl build --splits test` output (this repo)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_family": GroupMean("acc_"), "by_level": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=512,
    budget_note="no usual budget: the library default (the recipes' budget), unless the checkpoint records one",
    fixture_note="a `synrl build --splits test` folder (this repo's data contract)",
)
