"""The event timeline of a synthetic sample, three ways: a table, a plot, captions on the video.

Everything here reads the public row fields of a synrl sample (``events``, ``operations``,
``duration``; docs/data-contract.md) and nothing else, so it works for every task family, present and future.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TABLE_HEADERS = ["time (s)", "frame", "event", "objects", "detail"]

# How long an instantaneous event's caption stays on screen (seconds).
CAPTION_SECONDS = 0.8


def event_label(event: dict[str, Any]) -> str:
    """``"wall_contact: left (obj0)"``: what a caption or a plot label says about one event."""
    text = str(event.get("type", "event"))
    detail = str(event.get("detail") or "").strip()
    if detail:
        text += f": {detail}"
    objects = [str(o) for o in event.get("objects") or []]
    if objects:
        text += f" ({', '.join(objects)})"
    return text


def events_table(events: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows for a ``gr.Dataframe`` with :data:`TABLE_HEADERS`, in time order."""
    rows = []
    for event in sorted(events, key=lambda e: (e.get("frame", 0), str(e.get("type")))):
        rows.append(
            [
                round(float(event.get("time", 0.0)), 3),
                int(event.get("frame", 0)),
                str(event.get("type", "")),
                ", ".join(str(o) for o in event.get("objects") or []),
                str(event.get("detail") or ""),
            ]
        )
    return rows


def subtitles(
    events: Sequence[dict[str, Any]],
    operations: Sequence[dict[str, Any]] = (),
    duration: float | None = None,
) -> list[dict[str, Any]]:
    """Captions for ``gr.Video(subtitles=...)``: ``[{"text", "timestamp": [start, end]}]``.

    An event that starts an operation (long-term families) is captioned for the whole operation;
    any other event for :data:`CAPTION_SECONDS`, cut short where the next caption begins so that
    captions never pile up.
    """
    spans = {}
    for op in operations or ():
        spans[int(op.get("start_frame", -1))] = (float(op["start_time"]), float(op["end_time"]))
    items = []
    for event in sorted(events, key=lambda e: e.get("frame", 0)):
        start = float(event.get("time", 0.0))
        span = spans.get(int(event.get("frame", -1)))
        end = span[1] if span and span[1] > start else start + CAPTION_SECONDS
        items.append([start, end, event_label(event)])
    # Several events on the same frame share one caption.
    merged: list[list[Any]] = []
    for start, end, text in items:
        if merged and abs(merged[-1][0] - start) < 1e-6:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] += " · " + text
        else:
            merged.append([start, end, text])
    captions = []
    for i, (start, end, text) in enumerate(merged):
        if i + 1 < len(merged):
            end = min(end, merged[i + 1][0])
        if duration is not None:
            end = min(end, float(duration))
        end = max(end, start + 1 / 30)  # at least one frame on screen
        captions.append({"text": text, "timestamp": [round(start, 3), round(end, 3)]})
    return captions


def events_plot(
    events: Sequence[dict[str, Any]],
    operations: Sequence[dict[str, Any]] = (),
    duration: float = 0.0,
    *,
    truth_interval: tuple[float, float] | None = None,
    predicted_interval: tuple[float, float] | None = None,
):
    """A matplotlib figure: when each event happens along the clip (one row per event type).

    Operations (long-term families) are drawn as bars over their duration. For a *when* question,
    ``truth_interval`` and ``predicted_interval`` are shaded on their own rows.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    types = list(dict.fromkeys(str(e.get("type", "event")) for e in sorted(events, key=lambda e: e.get("frame", 0))))
    extra_rows = [name for name, interval in (("answer (truth)", truth_interval), ("answer (model)", predicted_interval)) if interval]
    rows = types + extra_rows
    height = 1.2 + 0.42 * max(len(rows), 1)
    fig = Figure(figsize=(8.0, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["tab10"]
    row_of = {name: i for i, name in enumerate(rows)}
    spans = {int(op.get("start_frame", -1)): op for op in operations or ()}
    for event in events:
        name = str(event.get("type", "event"))
        y = row_of[name]
        color = cmap(types.index(name) % 10)
        op = spans.get(int(event.get("frame", -1)))
        t = float(event.get("time", 0.0))
        if op is not None and float(op["end_time"]) > t:
            ax.barh(y, float(op["end_time"]) - t, left=t, height=0.5, color=color, alpha=0.55)
        ax.plot([t], [y], marker="o", color=color, markersize=7, zorder=3)
        label = str(event.get("detail") or "")
        if label:
            ax.annotate(label[:28], (t, y), xytext=(0, 7), textcoords="offset points", fontsize=7, ha="center", color="#333333")
    for name, interval, color in (("answer (truth)", truth_interval, "#2ca02c"), ("answer (model)", predicted_interval, "#d62728")):
        if interval:
            start, end = interval
            ax.barh(row_of[name], max(end - start, 0.02), left=start, height=0.5, color=color, alpha=0.6)
    if rows:
        ax.set_yticks(range(len(rows)), rows)
    else:
        ax.set_yticks([])
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(0, max(float(duration or 0.0), 0.1))
    ax.set_xlabel("time in the clip (s)")
    ax.grid(axis="x", alpha=0.3)
    if not events:
        ax.text(0.5, 0.5, "no timed events in this sample", transform=ax.transAxes, ha="center", va="center", color="#666666")
    return fig
