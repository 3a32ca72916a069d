"""The curriculum plot of a run: each family's level and pass rate over training steps (one PNG)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def read_log(path: str | os.PathLike) -> list[dict]:
    """The controller's per-generation records (:data:`synrl_hf.online.grpo.LOG_FILE`)."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_curriculum(log: str | os.PathLike, out: str | os.PathLike, *, band: tuple[float, float] | None = None) -> Path:
    """Draw ``log``'s levels (top) and pass rates (bottom, with the target ``band``) per family; write ``out``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    records = read_log(log)
    if not records:
        raise ValueError(f"{log} has no records: nothing to plot")
    families = sorted({f for r in records for f in r["levels"]})
    figure = Figure(figsize=(10, 7), dpi=100)
    FigureCanvasAgg(figure)
    levels_axes, rates_axes = figure.subplots(2, 1, sharex=True)
    colors = {f: f"C{i % 10}" for i, f in enumerate(families)}
    styles = ("-", "--", ":", "-.")
    for i, family in enumerate(families):
        style = {"color": colors[family], "linestyle": styles[(i // 10) % len(styles)]}
        # Levels from the start (before the first update) to after the last one.
        steps = [0] + [r["update"] for r in records]
        levels = [records[0]["levels_before"][family]] + [r["levels"][family] for r in records]
        levels_axes.step(steps, levels, where="post", label=family, **style)
        scored = [(r["update"], r["pass_rate"][family]) for r in records if family in r["pass_rate"]]
        if scored:
            rates_axes.plot(*zip(*scored), marker=".", markersize=3, linewidth=0.8, **style)
    if band is not None:
        rates_axes.axhspan(band[0], band[1], color="0.85", zorder=0, label="target band")
    levels_axes.set_ylabel("level")
    levels_axes.yaxis.get_major_locator().set_params(integer=True)
    levels_axes.set_title("difficulty per family")
    rates_axes.set_ylabel("pass rate (mean accuracy)")
    rates_axes.set_xlabel("generation step")
    rates_axes.set_ylim(-0.02, 1.02)
    levels_axes.legend(fontsize=7, ncol=3, loc="upper left")
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    return out
