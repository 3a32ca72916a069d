"""The SynRL paper's numbers (Qwen3-VL-4B base and Qwen3-VL-4B + SynRL, Tables 1-3) in one place,
and the reports that set ours beside them: markdown tables in the paper's layout, a per-metric
table, and a bar chart.

The base model's scores must be reproduced (same frame and pixel budget) before any gain is
claimed. Scores are percentages; ours are fractions in [0, 1] in lighteval's results and are shown
×100 here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .benchmarks import get_benchmark

BASE, SYNRL = "Qwen3-VL-4B (paper)", "Qwen3-VL-4B + SynRL (paper)"

# benchmark -> {our metric key: (the paper's base score, its SynRL score)}
PAPER_NUMBERS: dict[str, dict[str, tuple[float, float]]] = {
    # Table 3: temporal grounding
    "nextgqa": {"R@0.3": (32.9, 38.8), "R@0.5": (20.0, 21.8), "R@0.7": (9.8, 10.2), "mIoU": (23.5, 28.1)},
    "rextime": {"R@0.3": (26.2, 38.8), "R@0.5": (20.1, 26.2), "R@0.7": (12.9, 16.3), "mIoU": (20.9, 28.9)},
    "charades_sta": {"R@0.3": (65.1, 73.7), "R@0.5": (41.6, 50.1), "R@0.7": (20.5, 23.0), "mIoU": (41.9, 47.0)},
    # Table 1: complex reasoning and comprehensive video understanding
    "tomato": {"acc": (32.1, 36.7)},
    "videott": {"acc": (38.9, 40.7)},
    "mvbench": {"acc": (65.4, 67.1)},
    "videomme": {"acc": (60.9, 62.0)},
    "temporalbench": {"binary_acc": (67.4, 68.2), "mba": (27.1, 27.9)},
    # Table 2: general video QA and complex reasoning
    "aotbench": {"acc": (52.7, 54.4)},
    "vinoground": {"text_score": (40.8, 43.2)},  # the paper gives one number; taken as the text score (unverified)
    "videommmu": {"acc": (54.1, 54.5)},
    "vcrbench": {"acc": (30.1, 31.5)},
    "cvbench": {"acc": (54.1, 54.9)},
    "tvbench": {"acc": (51.9, 53.6)},
    "minerva": {"acc": (32.5, 32.8)},
}

# The paper's three tables: (title, [(benchmark, [metric, ...]), ...]).
PAPER_TABLES = (
    ("Temporal grounding (paper Table 3)", [(n, ["R@0.3", "R@0.5", "R@0.7", "mIoU"]) for n in ("nextgqa", "rextime", "charades_sta")]),
    (
        "Complex reasoning and comprehensive video understanding (paper Table 1)",
        [("tomato", ["acc"]), ("videott", ["acc"]), ("mvbench", ["acc"]), ("videomme", ["acc"]), ("temporalbench", ["binary_acc", "mba"])],
    ),
    (
        "General video QA and complex reasoning (paper Table 2)",
        [(n, [next(iter(PAPER_NUMBERS[n]))]) for n in ("aotbench", "vinoground", "videommmu", "vcrbench", "cvbench", "tvbench", "minerva")],
    ),
)


def paper_numbers(benchmark: str) -> dict[str, dict[str, float]]:
    """``{metric: {"base": x, "synrl": y}}`` for one benchmark (empty for ours)."""
    return {key: {"base": base, "synrl": synrl} for key, (base, synrl) in PAPER_NUMBERS.get(benchmark, {}).items()}


def _pct(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * float(value):.1f}"


def _ours(summary: dict, name: str, key: str):
    return summary.get("tasks", {}).get(name, {}).get("metrics", {}).get(key)


def paper_tables(summary: dict) -> list[str]:
    """The paper's three tables with our model as a third row (``–`` where a benchmark was not run)."""
    ours = f"{summary.get('model')} (ours)"
    lines = []
    for title, columns in PAPER_TABLES:
        header = [f"{get_benchmark(name).title} {key}" for name, keys in columns for key in keys]
        lines += [f"### {title}", "", "| Model | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
        for label, index in ((BASE, 0), (SYNRL, 1)):
            cells = [f"{PAPER_NUMBERS[name][key][index]:.1f}" for name, keys in columns for key in keys]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append(f"| {ours} | " + " | ".join(_pct(_ours(summary, name, key)) for name, keys in columns for key in keys) + " |")
        judged = [_ours(summary, name, "acc_judged") if key == "acc" else None for name, keys in columns for key in keys]
        if any(v is not None for v in judged):
            lines.append(f"| {ours}, LLM-judged | " + " | ".join(_pct(v) for v in judged) + " |")
        lines.append("")
    return lines


def _budget_text(budget: dict | None) -> str:
    return f"`{budget['tag']}` ({budget['source']})" if budget else "–"


def markdown_report(summary: dict) -> str:
    budget = summary.get("frame_budget") or {}
    lines = [f"# Evaluation of `{summary.get('model')}`", ""]
    if budget.get("source") == "benchmark":
        lines.append(f"Frame budgets: {budget['text']}. Scores in %.")
    elif budget:
        lines.append(f"Frame budget `{budget['tag']}` (source: {budget['source']}): {budget['text']}. Scores in %.")
    lines += ["", *paper_tables(summary), "### Every metric", ""]
    lines += [
        "| Group | Benchmark | Metric | Ours | Paper base | Paper SynRL | Δ base | Evaluated | Skipped (missing videos) | Frame budget |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, task in summary.get("tasks", {}).items():
        bench = get_benchmark(name)
        paper = task.get("paper", {})
        keys = list(dict.fromkeys([*bench.headline, *paper, *(["acc_judged"] if "acc_judged" in task["metrics"] else [])]))
        for key in keys:
            ours = task["metrics"].get(key)
            base, synrl = paper.get(key, {}).get("base"), paper.get(key, {}).get("synrl")
            delta = "–" if ours is None or base is None else f"{100 * float(ours) - base:+.1f}"
            lines.append(
                f"| {bench.group} | {bench.title} | {key} | {_pct(ours)} | {'–' if base is None else f'{base:.1f}'} "
                f"| {'–' if synrl is None else f'{synrl:.1f}'} | {delta} | {task.get('evaluated', 0)} "
                f"| {task.get('skipped_missing_videos', 0)} | {_budget_text(task.get('frame_budget'))} |"
            )
    for name, reason in summary.get("skipped_tasks", {}).items():
        bench = get_benchmark(name)
        lines.append(f"| {bench.group} | {bench.title} | – | not run: {reason} | – | – | – | 0 | – | – |")
    notes = {name: get_benchmark(name).unverified for name in [*summary.get("tasks", {}), *summary.get("skipped_tasks", {})]}
    notes = {name: note for name, note in notes.items() if note}
    if notes:
        lines += ["", "### Not verified against a real release", ""]
        lines += [f"- {get_benchmark(name).title}: {note}." for name, note in notes.items()]
    return "\n".join(lines) + "\n"


def plot_report(summary: dict, path: str | os.PathLike) -> Path:
    """A bar chart of every number in the paper's tables: the paper's base and SynRL bars beside ours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [(name, key) for _, table in PAPER_TABLES for name, keys in table for key in keys]
    labels = [f"{get_benchmark(n).title.split(' (')[0]}\n{k}" for n, k in columns]
    series = [
        (BASE, [PAPER_NUMBERS[n][k][0] for n, k in columns], "#9ecae1"),
        (SYNRL, [PAPER_NUMBERS[n][k][1] for n, k in columns], "#3182bd"),
        (
            f"{summary.get('model')} (ours)",
            [100 * float(v) if (v := _ours(summary, n, k)) is not None else 0.0 for n, k in columns],
            "#e6550d",
        ),
    ]
    figure, axes = plt.subplots(figsize=(max(10, 0.75 * len(columns)), 5))
    width = 0.27
    for i, (label, values, color) in enumerate(series):
        axes.bar([x + (i - 1) * width for x in range(len(columns))], values, width, label=label, color=color)
    missing = [x for x, (n, k) in enumerate(columns) if _ours(summary, n, k) is None]
    for x in missing:
        axes.text(x + width, 1, "not run", rotation=90, ha="center", va="bottom", fontsize=7)
    axes.set_xticks(range(len(columns)))
    axes.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("score (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_title(f"{summary.get('model')} beside the SynRL paper's Qwen3-VL-4B rows")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(tmp, dpi=120)
    plt.close(figure)
    os.replace(tmp, path)
    return path
