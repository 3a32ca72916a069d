"""The paper's numbers (its Qwen3-VL-4B base scores, §3.1) in one place, and the markdown table that sets ours beside them.

SynRL reports the Qwen3-VL-4B *base* model's scores, which must be reproduced (same frame and
pixel budget) before any gain is claimed. Scores are percentages; ours are fractions in [0, 1]
in lighteval's results and are shown ×100 here.
"""

from __future__ import annotations

from .benchmarks import get_benchmark

PAPER_MODEL = "Qwen3-VL-4B (base), SynRL paper"

# benchmark -> {our metric key: the paper's number}
PAPER_NUMBERS: dict[str, dict[str, float]] = {
    "nextgqa": {"mIoU": 23.5},
    "charades_sta": {"mIoU": 41.9},
    "rextime": {"mIoU": 20.9},
    "tomato": {"acc": 32.1},
    "temporalbench": {"binary_acc": 67.4, "mba": 27.1},
    "videott": {"acc": 38.9},
    "vcrbench": {"acc": 30.1},
    "cvbench": {"acc": 54.1},
    "tvbench": {"acc": 51.9},
    "minerva": {"acc": 32.5},
    "videomme": {"acc": 60.9},
    "mvbench": {"acc": 65.4},
    "videommmu": {"acc": 54.1},
    "aotbench": {"acc": 52.7},
    "vinoground": {"text_score": 40.8},  # the paper gives one number; probably the text score (unverified)
}


def paper_numbers(benchmark: str) -> dict[str, float]:
    return dict(PAPER_NUMBERS.get(benchmark, {}))


def _pct(value) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}"


def markdown_report(summary: dict) -> str:
    budget = summary.get("frame_budget")
    lines = [
        f"# Evaluation of `{summary.get('model')}`",
        "",
        (f"Frame budget `{budget['tag']}` (source: {budget['source']}): {budget['text']}. " if budget else "")
        + f"Paper column: {PAPER_MODEL}. Scores in %.",
        "",
        "| Group | Benchmark | Metric | Ours | Paper | Δ | Evaluated | Skipped (missing videos) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, task in summary.get("tasks", {}).items():
        bench = get_benchmark(name)
        keys = list(dict.fromkeys([*bench.headline, *task.get("paper", {})]))
        for key in keys:
            ours = task["metrics"].get(key)
            paper = task.get("paper", {}).get(key)
            delta = "–" if ours is None or paper is None else f"{100 * float(ours) - paper:+.1f}"
            lines.append(
                f"| {bench.group} | {bench.title} | {key} | {_pct(ours)} | {'–' if paper is None else f'{paper:.1f}'} | {delta} "
                f"| {task.get('evaluated', 0)} | {task.get('skipped_missing_videos', 0)} |"
            )
    for name, reason in summary.get("skipped_tasks", {}).items():
        lines.append(f"| {get_benchmark(name).group} | {get_benchmark(name).title} | – | not run: {reason} | – | – | 0 | – |")
    return "\n".join(lines) + "\n"
