"""The dataset card (README.md): YAML that declares every config's exact shards, then the prose.

The YAML is what makes ``load_dataset(folder_or_repo, config)`` work; the prose says what the data
is and how it was made, from the manifest and the shards themselves. The folder is a local ``Path``
or a folder behind an fsspec URL (:mod:`synrl_hf.storage`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .dataset_dir import atomic_write_bytes, config_files, manifest_fingerprint, read_audit_report
from .families import FAMILIES
from .version import GENERATOR_CHANGES, GENERATOR_VERSION, __version__

FIELDS = [
    ("id", "unique, stable id: family, base seed, split, index"),
    ("task", "family id"),
    ("category", "short_term / long_term"),
    ("primitive", "direction, speed, counting, state_tracking, retrodiction, grounding, …"),
    ("question_type", "which question program asked it (e.g. count, when, forward)"),
    ("video", "H.264 MP4 (yuv420p, 30 FPS) bytes, stored undecoded: decode with synrl_hf.read_frames"),
    ("fps, num_frames, duration, width, height", "as encoded"),
    ("question", "question text, options included"),
    ("options", "multiple-choice options (empty otherwise)"),
    ("answer", "a letter, an integer, a comma-separated sequence, [start, end] seconds, or yes/no"),
    ("answer_type", "multiple_choice, number, sequence, interval, yes_no"),
    ("prompt", "TRL conversational prompt (video placeholder + text)"),
    ("solution", "<answer>…</answer>, what rewards compare against"),
    ("events", "every timed event: frame, time, type, objects, detail"),
    ("operations", "long-term operations with start/end frame and time; args as JSON"),
    ("states", "state snapshots (JSON) after each operation"),
    ("objects", "what is drawn: id, shape, color name, rgb, size (px), label"),
    ("tracks", "per object and frame: center x, y (px, origin top-left, y down), angle (deg, clockwise), visible"),
    ("difficulty, preset, level", "the family's parameters (JSON), the preset they came from and its difficulty level"),
    ("split, index, seed, generator_version, renderer", "provenance: the per-sample seed regenerates the row"),
]
MIXTURE_FIELDS = [
    ("messages", "`sft`: the conversation (JSON): the prompt's user turn (video + text), then the assistant turn"),
    ("cot", "`sft`: the reasoning inside `<think>` (empty for general video QA)"),
    ("cot_source", "`sft`: `template`, `model:<name>`, or `none` (general video QA, answer only)"),
]


def _yaml_configs(configs: dict[str, dict[str, list[str]]]) -> str:
    lines = ["configs:"]
    for name, splits in configs.items():
        lines.append(f"- config_name: {name}")
        if name == "all":
            lines.append("  default: true")
        lines.append("  data_files:")
        for split, paths in splits.items():
            lines.append(f"  - split: {split}")
            lines.append("    path:")
            lines += [f"    - {path}" for path in paths]
    return "\n".join(lines)


def _provenance(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per family: the build settings and row counts per split, from the manifest."""
    out: dict[str, dict[str, Any]] = {}
    for entry in manifest["shards"].values():
        info = out.setdefault(entry["family"], {"rows": {}})
        info["rows"][entry["split"]] = info["rows"].get(entry["split"], 0) + entry["rows"]
    return out


def _examples(folder: Path, configs: dict[str, dict[str, list[str]]]) -> list[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    examples = []
    for family in FAMILIES:
        for paths in configs.get(family, {}).values():
            with (folder / paths[0]).open("rb") as handle:
                table = pq.read_table(handle, columns=["question", "answer", "answer_type", "seed", "preset", "difficulty"])
            if table.num_rows:
                examples.append((family, table.slice(0, 1).to_pylist()[0]))
                break
    return examples


PREVIEW_TILES = 8  # at most this many frames per strip
PREVIEW_SIDE = 160
PREVIEW_CAPTION = 22  # pixels under each frame for its time


def preview_frames(row: dict[str, Any], limit: int = PREVIEW_TILES) -> list[int]:
    """The frames a preview strip shows: the first and the last, and between them the moments that
    tell the story: each operation halfway through (long-term; its caption is up) or each event
    (short-term: bounces, turns, changes …), spread evenly when there are more than ``limit``."""
    last = int(row["num_frames"]) - 1
    if row["operations"]:
        moments = [(op["start_frame"] + op["end_frame"]) // 2 for op in row["operations"]]
    else:
        moments = [e["frame"] for e in row["events"]]
    moments = sorted({min(max(int(f), 1), last - 1) for f in moments} - {0, last})
    if len(moments) > limit - 2:
        moments = [moments[int(i)] for i in np.linspace(0, len(moments) - 1, limit - 2).round()]
    return [0, *dict.fromkeys(moments), last]


def write_previews(folder: Path, configs: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """A strip of each family's first clip at the frames of :func:`preview_frames`, each with its
    time under it: ``previews/<family>.png``."""
    import io

    import pyarrow.parquet as pq
    from PIL import Image, ImageDraw

    from .render.pillow_backend import _font
    from .video import read_frames

    written = {}
    for family in FAMILIES:
        paths = [p for split_paths in configs.get(family, {}).values() for p in split_paths]
        if not paths:
            continue
        with (folder / paths[0]).open("rb") as handle:
            table = pq.read_table(handle, columns=["video", "num_frames", "fps", "events", "operations"])
        if not table.num_rows:
            continue
        row = table.slice(0, 1).to_pylist()[0]
        frames = preview_frames(row)
        clip = read_frames(row["video"], indices=frames).frames
        strip = Image.new("RGB", (PREVIEW_SIDE * len(frames), PREVIEW_SIDE + PREVIEW_CAPTION), (255, 255, 255))
        draw = ImageDraw.Draw(strip)
        for i, f in enumerate(frames):
            strip.paste(Image.fromarray(clip[i]).resize((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS), (i * PREVIEW_SIDE, 0))
            # The clips' background is the page's white: a thin frame shows where one moment ends.
            draw.rectangle([i * PREVIEW_SIDE, 0, (i + 1) * PREVIEW_SIDE - 1, PREVIEW_SIDE - 1], outline=(200, 200, 200))
            where = ((i + 0.5) * PREVIEW_SIDE, PREVIEW_SIDE + PREVIEW_CAPTION / 2)
            draw.text(where, f"{f / row['fps']:.2f} s", font=_font(14), fill=(25, 25, 25), anchor="mm")
        buffer = io.BytesIO()
        strip.save(buffer, format="PNG", optimize=True)
        relpath = f"previews/{family}.png"
        atomic_write_bytes(folder / relpath, buffer.getvalue())
        written[family] = relpath
    return written


def write_card(folder: Path, manifest: dict[str, Any]) -> None:
    """Render the card of the build in ``folder`` and write it as its README.md."""
    atomic_write_bytes(folder / "README.md", render_card(folder, manifest).encode())


def render_card(folder: Path, manifest: dict[str, Any]) -> str:
    configs = config_files(manifest)
    provenance = _provenance(manifest)
    examples = _examples(folder, configs)
    previews = write_previews(folder, configs)
    total = sum(e["rows"] for e in manifest["shards"].values())

    parts = [
        "---",
        "license: apache-2.0",
        "task_categories:\n- video-text-to-text",
        "tags:\n- synthetic\n- video\n- temporal-reasoning\n- synrl",
        "size_categories:\n- " + ("n<1K" if total < 1000 else "1K<n<10K" if total < 10000 else "10K<n<100K"),
        _yaml_configs(configs),
        "---",
        "",
        "# SynRL synthetic temporal-reasoning videos",
        "",
        "Programmatically generated videos (moving shapes; state-transition puzzles) whose answers are "
        "computed from the simulation log, so every label is correct by construction. Made with "
        f"[synrl-hf](https://github.com/synrl-hf/synrl-hf) {__version__}, generator version {GENERATOR_VERSION}, "
        "implementing the data of *Learning Transferable Temporal Primitives for Video Reasoning via Synthetic Videos* (SynRL).",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("<this repo or folder>", "short_term")',
        "from synrl_hf import read_frames",
        'clip = read_frames(ds["train"][0]["video"], num_frames=16)  # frames, indices, timestamps',
        "```",
        "",
        "## Configs",
        "",
        "| config | " + " | ".join(["train", "validation", "test"]) + " |",
        "|---|---|---|---|",
    ]
    for name, splits in configs.items():
        counts = []
        for split in ("train", "validation", "test"):
            families = {manifest["shards"][p]["family"] for p in splits.get(split, [])}
            counts.append(str(sum(provenance[f]["rows"].get(split, 0) for f in families)))
        parts.append(f"| `{name}` | " + " | ".join(counts) + " |")
    parts += _incomplete_note(manifest)
    parts += [
        "",
        "Splits come from disjoint seed ranges (the split id is in the top bits of every per-sample seed), "
        "so no video appears in two splits. Each row records its seed, preset and parameters; "
        "`synrl_hf.generate_sample(task, index, seed, split, preset=…)` regenerates it exactly.",
        "",
        "## How it was generated",
        "",
        "seeded plan (the answer is drawn first, so answers are balanced) → simulation (per-frame object "
        "states and timed events, pure Python) → question programs over the timeline → renderer → "
        "H.264 encoder (libx264, yuv420p, 30 FPS) → row. Build settings per family:",
        "",
        "| family | preset | base seed | difficulty |",
        "|---|---|---|---|",
    ]
    for family, row in examples:
        parts.append(f"| `{family}` | {row['preset']} | {_base_seed(manifest, family)} | `{row['difficulty']}` |")
    parts += ["", "## Example questions", ""]
    for family, row in examples:
        question = row["question"].replace("\n", " · ")
        parts.append(f"- **{family}** ({row['answer_type']}): {question} → `{row['answer']}`")
        if family in previews:
            parts.append(f"\n  ![{family}]({previews[family]})\n")
    parts += _mixture_section(manifest)
    parts += ["", *_changes_section(manifest)]
    parts += ["", *render_audit_summary(folder, manifest)]
    parts += ["## Fields", "", "| field | meaning |", "|---|---|"]
    parts += [f"| `{name}` | {meaning} |" for name, meaning in FIELDS]
    if any(e["family"] == "sft" for e in manifest["shards"].values()):
        parts += [f"| `{name}` | {meaning} |" for name, meaning in MIXTURE_FIELDS]
    parts += [
        "",
        "## License and citation",
        "",
        "Apache-2.0. If you use this data, cite the SynRL paper:",
        "",
        "```bibtex",
        "@article{synrl,",
        "  title  = {Learning Transferable Temporal Primitives for Video Reasoning via Synthetic Videos},",
        "  year   = {2026},",
        "}",
        "```",
        "",
    ]
    return "\n".join(parts)


def _incomplete_note(manifest: dict[str, Any]) -> list[str]:
    """A warning for a folder merged from an incomplete slice set (``synrl merge --allow-partial``)."""
    incomplete = manifest.get("incomplete")
    if not incomplete:
        return []
    gaps = [f"missing slice(s) {', '.join(incomplete['missing_slices'])}"] if incomplete["missing_slices"] else []
    gaps += [f"unfinished slice(s) {', '.join(incomplete['unfinished_slices'])}"] if incomplete["unfinished_slices"] else []
    return ["", f"**Incomplete build**: merged with `--allow-partial` ({'; '.join(gaps)}); the counts above are all it holds."]


def _mixture_section(manifest: dict[str, Any]) -> list[str]:
    """What the training mixtures hold and how their CoT was made (from the mixture shards' entries)."""
    entries = {name: [e for e in manifest["shards"].values() if e["family"] == name] for name in ("sft", "grpo", "round2")}
    if not any(entries.values()):
        return []
    parts = ["", "## Training mixtures", ""]
    sft = entries["sft"]
    if sft:
        synthetic = sum(e.get("synthetic_rows", e["rows"]) for e in sft)
        general = sum(e.get("general_rows", 0) for e in sft)
        filtered = sum(e.get("cot_filtered", 0) for e in sft)
        spec = sft[0]["spec"]
        sources = sorted({e.get("cot_source", "template") for e in sft})
        if spec.get("cot") == "model":
            how = (
                f"model CoT ({', '.join(sources)}) from the four-stage pipeline: generation with the video frames, question, "
                "answer and event timeline; rule-based verification (answer, cited times within one sampled-frame interval "
                "of a real event, event order, counts); reflection on failure (at most "
                f"{spec.get('cot_options', {}).get('max_rounds', 5)} rounds, then filtered out: {filtered} filtered); polishing, verified again"
            )
        else:
            how = "template CoT: reasoning written from the metadata (timestamps of real events, state tracking), checked by the same rule-based verifier as model CoT"
        share = general / (synthetic + general) if synthetic + general else 0.0
        source = next((e.get("general_source") for e in sft if e.get("general_source")), None)
        general_text = (
            f"{general} rows on top of the synthetic ones ({share:.1%} of the mixture; requested {spec.get('general_size', 0)}) of general video QA from `{source}` "
            "in LLaVA-Video format, answer only (no CoT), `category: general`"
            if source
            else "no general video QA was given (`--general-qa`): synthetic only"
        )
        parts += [
            f"- `sft`: {synthetic} synthetic rows with full CoT (`<think>…</think><answer>…</answer>` in `messages`); CoT source: {how}.",
            f"- `sft` general video QA: {general_text}.",
        ]
    if entries["grpo"]:
        parts.append(
            f"- `grpo`: {sum(e['rows'] for e in entries['grpo'])} rows (prompt, solution and the reward columns `answer`, `answer_type`, `options`, `task`)."
        )
    if entries["round2"]:
        parts.append(
            f"- `round2`: {sum(e['rows'] for e in entries['round2'])} GRPO rows for the paper's second RL round, at preset `round2` "
            "(doubled duration, more state transitions)."
        )
    parts.append(
        "- Videos are disjoint between `sft`, `grpo`, `round2` and the family configs: mixture rows use their own sample-index "
        "ranges (`sft` from 10^9, `grpo` from 2·10^9, `round2` from 3·10^9), and each row's `task`, `index`, `seed` and `preset` regenerate it."
    )
    return parts


def _changes_section(manifest: dict[str, Any]) -> list[str]:
    """What changed in the generator, version by version, newest first; the versions this build's
    shards were made with are named (rows of different versions differ for the same seed)."""
    used = sorted({str(e["spec"].get("generator_version", GENERATOR_VERSION)) for e in manifest["shards"].values()})
    parts = [
        "## Generator changes",
        "",
        f"This build was made by generator version{'s' if len(used) > 1 else ''} {', '.join(used)}. "
        "The same seed gives the same sample within a version; what changed between versions:",
        "",
    ]
    for version in reversed(list(GENERATOR_CHANGES)):  # written oldest first
        parts += [f"- **{version}**" + (" (this build)" if version in used else "") + ":"]
        parts += [f"  - {change}" for change in GENERATOR_CHANGES[version]]
    return [*parts, ""]


def render_audit_summary(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The "Audit" section: the summary table of ``audit/report.json`` (written by ``synrl audit``),
    if that report was made for this very build (same shard hashes); nothing if there is none."""
    report = read_audit_report(folder)
    if report is None:
        return []
    table, rows = report["table"], report["rows"]
    if report.get("fingerprint") != manifest_fingerprint(manifest):
        return ["## Audit", "", "An audit report exists for an earlier build of this folder; run `synrl audit` again.", ""]
    verdict = (
        "Every check passes." if report["passed"] else f"**{len(report['failures'])} check(s) fail:** " + "; ".join(report["failures"])
    )
    return [
        "## Audit",
        "",
        f"`synrl audit` on config `{report['config']}` ({', '.join(report['splits'])}, {sum(rows.values())} rows): "
        "answer balance, a blind (no-video) baseline, a single-frame baseline, answers re-derived from the decoded "
        f"pixels, and regeneration from seeds. {verdict} Method and every disagreement: "
        "[audit/report.md](audit/report.md); all numbers: [audit/report.json](audit/report.json).",
        "",
        "| " + " | ".join(table["columns"]) + " |",
        "|" + "---|" * len(table["columns"]),
        *("| " + " | ".join(row) + " |" for row in table["rows"]),
        "",
    ]


def _base_seed(manifest: dict[str, Any], family: str) -> str:
    seeds = sorted({str(e["spec"]["seed"]) for e in manifest["shards"].values() if e["family"] == family})
    return ", ".join(seeds)
