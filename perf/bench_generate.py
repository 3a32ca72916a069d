"""How fast is generation? Prints clips/s and frames/s per family, on one core, end to end.

    python perf/bench_generate.py                      # every registered family, about a minute
    python perf/bench_generate.py --per-family 20 --families FAMILY[,FAMILY...] --json out.json

Run it on an otherwise idle machine (it prints the load average it started at): other processes
on the same cores show up as slower clips and, above all, as a smaller process speedup.

End to end = build_scene (plan + simulate + ask) + render + H.264 encode + the row's metadata,
which is what a dataset build does per clip. Sections:

1. per family, pinned to ONE core: clips/s, frames/s and the split simulate / render / encode;
2. the Pillow renderer against the matplotlib (paper) renderer on the same timelines: render only
   and end to end;
3. an estimate for the paper-scale dataset (14.7K clips, an even mix of the measured families);
4. process scaling: the same clips with 1 and with N worker processes (``Pool.imap_unordered``
   over (family, index) tasks, as a build does; pool start-up included), and the speedup.

Not a test: it prints numbers and checks them against the targets in BENCHMARKS.md.
"""

from __future__ import annotations

import os

# One thread per process everywhere, set before numpy loads: we measure one core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from synrl_hf import FAMILIES, build_scene, generate_sample  # noqa: E402
from synrl_hf.render import get_renderer  # noqa: E402
from synrl_hf.sample import DEFAULT_RESOLUTION, scene_row  # noqa: E402
from synrl_hf.video import ENCODER_OPTIONS, encode_mp4  # noqa: E402

PAPER_CLIPS = 14_700
TARGETS = {
    "short_term_clips_per_s_5s": 2.0,  # per core, 5 s clip at 448², end to end
    "pillow_vs_matplotlib": 3.0,  # render speed ratio
    "process_speedup_2": 1.7,  # 2 processes vs 1
    "long_term_clips_per_s_12s": 1.0,  # per core, 12 s clip, end to end
}
INDEX_OFFSET = {"single": 0, "pool": 100_000}  # disjoint sample indices per section


# --- timing helpers -------------------------------------------------------------------------
class TimedFrames:
    """Wraps a frame generator and adds up the time spent producing frames (= rendering)."""

    def __init__(self, frames: Iterable[np.ndarray]) -> None:
        self._frames = iter(frames)
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            start = time.perf_counter()
            try:
                frame = next(self._frames)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            self.count += 1
            yield frame


def time_clip(family: str, index: int, resolution: int, preset: str, renderer: str = "pillow", scene=None) -> dict[str, Any]:
    """One clip end to end, split into simulate / render / encode / export seconds."""
    start = time.perf_counter()
    if scene is None:
        scene = build_scene(family, index, preset=preset)
    simulated = time.perf_counter()
    frames = TimedFrames(get_renderer(renderer).frames(scene.timeline, resolution))
    video = encode_mp4(frames, scene.timeline.fps, resolution, resolution)
    encoded = time.perf_counter()
    scene_row(scene, video, resolution, renderer)
    done = time.perf_counter()
    return {
        "family": family,
        "index": index,
        "frames": frames.count,
        "simulate": simulated - start,
        "render": frames.seconds,
        "encode": encoded - simulated - frames.seconds,
        "export": done - encoded,
        "total": done - start,
        "bytes": len(video),
        "scene": scene,
    }


def rgb_to_yuv_ms(resolution: int, frames: int = 60) -> float:
    """ms per frame of the RGB → yuv420p conversion that encoding does before x264 sees a frame."""
    import av

    rng = np.random.default_rng(0)
    image = np.full((resolution, resolution, 3), 255, np.uint8)
    image[: resolution // 3, : resolution // 3] = rng.integers(0, 256, 3, dtype=np.uint8)
    start = time.perf_counter()
    for _ in range(frames):
        av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    return 1000 * (time.perf_counter() - start) / frames


def _pool_task(task: tuple[str, int, int, str]) -> int:
    family, index, resolution, preset = task
    row = generate_sample(family, index, resolution=resolution, preset=preset)
    return len(row["video"]["bytes"])


def time_pool(tasks: list[tuple[str, int, int, str]], processes: int, progress: tqdm) -> float:
    start = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        for _ in pool.imap_unordered(_pool_task, tasks, chunksize=1):
            progress.update(1)
    return time.perf_counter() - start


# --- machine --------------------------------------------------------------------------------
def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    import av

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = encode_mp4([np.zeros((64, 64, 3), np.uint8)] * 2, 30, 64, 64)
    x264 = re.search(rb"x264 - core \d+( r\d+ [0-9a-f]+)?", probe)
    return {
        "cpu": cpu,
        "cores_usable": len(os.sched_getaffinity(0)),
        "cores_total": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "av": av.__version__,
        "numpy": np.__version__,
        "pillow": _version("PIL"),
        "matplotlib": _version("matplotlib"),
        "x264": x264.group(0).decode() if x264 else "unknown",
        "encoder_options": ENCODER_OPTIONS,
    }


# --- report -----------------------------------------------------------------------------------
def summarise(clips: list[dict[str, Any]]) -> dict[str, float]:
    frames = sum(c["frames"] for c in clips)
    total = sum(c["total"] for c in clips)
    out = {
        "clips": len(clips),
        "frames": frames,
        "mean_frames": frames / len(clips),
        "clips_per_s": len(clips) / total,
        "frames_per_s": frames / total,
        "render_frames_per_s": frames / sum(c["render"] for c in clips),
    }
    for part in ("simulate", "render", "encode", "export"):
        out[f"{part}_share"] = sum(c[part] for c in clips) / total
        out[f"{part}_ms_per_clip"] = 1000 * sum(c[part] for c in clips) / len(clips)
    return out


def fmt_row(cells: list[Any], widths: list[int]) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if value >= target else "FAIL"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-family", type=int, default=4, help="clips per family, one core (default 4)")
    parser.add_argument(
        "--matplotlib-per-family", type=int, default=1, help="of those, how many are also drawn with matplotlib (default 1; 0 = skip)"
    )
    parser.add_argument("--pool-per-family", type=int, default=2, help="clips per family in the process-scaling run (default 2)")
    parser.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION)
    parser.add_argument("--families", default="", help="comma-separated family names (default: all registered)")
    parser.add_argument("--preset", default="round1")
    parser.add_argument("--workers", type=int, default=2, help="processes for the scaling run (default 2)")
    parser.add_argument("--json", type=Path, default=None, help="save the results here")
    args = parser.parse_args(argv)

    families = [f for f in args.families.split(",") if f] or list(FAMILIES)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown}; registered: {', '.join(FAMILIES)}")
    per_family = args.per_family
    mpl_per_family = min(args.matplotlib_per_family, per_family)
    if mpl_per_family:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("matplotlib is not installed: skipping the renderer comparison", file=sys.stderr)
            mpl_per_family = 0

    all_cpus = os.sched_getaffinity(0)
    machine = machine_info()
    one_core = min(all_cpus)
    os.sched_setaffinity(0, {one_core})

    pool_tasks = [(f, INDEX_OFFSET["pool"] + i, args.resolution, args.preset) for i in range(args.pool_per_family) for f in families]
    workers = max(1, args.workers)
    total_units = 1 + len(families) * (per_family + mpl_per_family) + len(pool_tasks) * (2 if workers > 1 else 1)
    progress = tqdm(total=total_units, desc="bench", unit="clip", file=sys.stderr, dynamic_ncols=True)

    # Warm-up: imports, the default font, matplotlib's font cache. Not timed.
    progress.set_postfix_str("warm-up")
    time_clip(families[0], 999_999, args.resolution, args.preset)
    if mpl_per_family:
        time_clip(families[0], 999_999, args.resolution, args.preset, renderer="matplotlib")
    progress.update(1)
    conversion = rgb_to_yuv_ms(args.resolution)

    # 1. one core, Pillow, end to end.
    clips: dict[str, list[dict[str, Any]]] = {}
    for family in families:
        progress.set_postfix_str(family)
        clips[family] = []
        for i in range(per_family):
            clips[family].append(time_clip(family, INDEX_OFFSET["single"] + i, args.resolution, args.preset))
            progress.update(1)

    # 2. the matplotlib renderer on the same timelines (the scenes are reused: simulate is shared).
    mpl: dict[str, list[dict[str, Any]]] = {}
    for family in families:
        progress.set_postfix_str(f"{family} (matplotlib)")
        mpl[family] = []
        for clip in clips[family][:mpl_per_family]:
            result = time_clip(family, clip["index"], args.resolution, args.preset, "matplotlib", scene=clip["scene"])
            result["simulate"] = clip["simulate"]  # same scene: charge the same simulate time
            result["total"] += clip["simulate"]
            mpl[family].append(result)
            progress.update(1)

    # 4. process scaling, on every usable core.
    os.sched_setaffinity(0, all_cpus)
    progress.set_postfix_str("1 process")
    pool_1 = time_pool(pool_tasks, 1, progress)
    pool_n = None
    if workers > 1:
        progress.set_postfix_str(f"{workers} processes")
        pool_n = time_pool(pool_tasks, workers, progress)
    progress.close()

    # --- numbers ----------------------------------------------------------------------------
    per_fam = {}
    for family in families:
        stats = summarise(clips[family])
        stats["category"] = FAMILIES[family].category
        stats["clips_per_s_5s"] = stats["frames_per_s"] / 150  # normalised to a 5 s, 30 fps clip
        stats["clips_per_s_12s"] = stats["frames_per_s"] / 360
        if mpl[family]:
            pillow_same = clips[family][: len(mpl[family])]
            m = summarise(mpl[family])
            p = summarise(pillow_same)
            stats["matplotlib"] = {
                "clips": m["clips"],
                "render_frames_per_s": m["render_frames_per_s"],
                "clips_per_s": m["clips_per_s"],
                "frames_per_s": m["frames_per_s"],
                "pillow_render_frames_per_s": p["render_frames_per_s"],
                "render_ratio": p["render_frames_per_s"] / m["render_frames_per_s"],
                "end_to_end_ratio": p["frames_per_s"] / m["frames_per_s"],
            }
        per_fam[family] = stats

    seconds_per_clip = statistics.fmean(1 / per_fam[f]["clips_per_s"] for f in families)  # an even mix
    speedup = pool_1 / pool_n if pool_n else None
    paper = {
        "clips": PAPER_CLIPS,
        "mix": f"an even mix of {len(families)} families",
        "seconds_1_core": PAPER_CLIPS * seconds_per_clip,
        # A build uses the worker count that is faster: more processes only if they measured faster.
        "seconds_this_machine": PAPER_CLIPS * seconds_per_clip / max(speedup or 1.0, 1.0),
        "cores_this_machine": workers if pool_n and speedup > 1.0 else 1,
    }
    short = [f for f in families if per_fam[f]["category"] == "short_term"]
    long = [f for f in families if per_fam[f]["category"] == "long_term"]
    ratios = [per_fam[f]["matplotlib"]["render_ratio"] for f in families if "matplotlib" in per_fam[f]]
    e2e_ratios = [per_fam[f]["matplotlib"]["end_to_end_ratio"] for f in families if "matplotlib" in per_fam[f]]
    measured = {
        "short_term_clips_per_s_5s": min((per_fam[f]["clips_per_s_5s"] for f in short), default=None),
        "pillow_vs_matplotlib": min(ratios, default=None),
        "process_speedup_2": speedup if workers == 2 else None,
        "long_term_clips_per_s_12s": min((per_fam[f]["clips_per_s_12s"] for f in long), default=None),
    }

    # --- print --------------------------------------------------------------------------------
    print(
        f"\nmachine: {machine['cpu']}, {machine['cores_usable']} usable cores, Python {machine['python']}, "
        f"av {machine['av']}, {machine['x264']}, Pillow {machine['pillow']}, matplotlib {machine['matplotlib']}, "
        f"load average at start {machine['load_average'][0]:.2f}"
    )
    print(f"resolution {args.resolution}, preset {args.preset}, {per_family} clips per family, section 1-2 pinned to CPU {one_core}\n")
    widths = [22, 10, 6, 7, 8, 13, 10, 10, 6, 8, 8]
    print("1. one core, Pillow, end to end (build_scene + render + encode + row)")
    print(
        fmt_row(
            [
                "family",
                "category",
                "frames",
                "clips/s",
                "frames/s",
                "clips/s@5s|12s",
                "render ms/f",
                "encode ms/f",
                "sim %",
                "render %",
                "encode %",
            ],
            widths,
        )
    )
    for family, s in per_fam.items():
        normalised = s["clips_per_s_5s"] if s["category"] == "short_term" else s["clips_per_s_12s"]
        print(
            fmt_row(
                [
                    family,
                    s["category"],
                    f"{s['mean_frames']:.0f}",
                    f"{s['clips_per_s']:.2f}",
                    f"{s['frames_per_s']:.0f}",
                    f"{normalised:.2f}",
                    f"{s['render_ms_per_clip'] / s['mean_frames']:.2f}",
                    f"{s['encode_ms_per_clip'] / s['mean_frames']:.2f}",
                    f"{100 * s['simulate_share']:.1f}",
                    f"{100 * s['render_share']:.1f}",
                    f"{100 * s['encode_share']:.1f}",
                ],
                widths,
            )
        )
    print(
        f"(of encode, the RGB -> yuv420p conversion alone takes {conversion:.2f} ms/frame; clips/s@5s|12s is end to end "
        "frames/s over 150 frames for short-term families, 360 for long-term ones)"
    )
    if ratios:
        print("\n2. Pillow vs matplotlib on the same timelines (frames/s)")
        w2 = [22, 14, 14, 8, 14, 14, 8]
        print(fmt_row(["family", "pillow render", "mpl render", "ratio", "pillow e2e", "mpl e2e", "ratio"], w2))
        for family, s in per_fam.items():
            if "matplotlib" in s:
                m = s["matplotlib"]
                print(
                    fmt_row(
                        [
                            family,
                            f"{m['pillow_render_frames_per_s']:.0f}",
                            f"{m['render_frames_per_s']:.0f}",
                            f"{m['render_ratio']:.1f}x",
                            f"{s['frames_per_s']:.0f}",
                            f"{m['frames_per_s']:.0f}",
                            f"{m['end_to_end_ratio']:.2f}x",
                        ],
                        w2,
                    )
                )
    print(
        f"\n3. paper scale: {PAPER_CLIPS} clips ({paper['mix']}): {paper['seconds_1_core'] / 60:.1f} min on 1 core, "
        f"{paper['seconds_this_machine'] / 60:.1f} min on this machine ({paper['cores_this_machine']} processes)"
    )
    print(
        f"\n4. process scaling, {len(pool_tasks)} clips: 1 process {pool_1:.1f} s"
        + (f", {workers} processes {pool_n:.1f} s, speedup {speedup:.2f}x" if pool_n else "")
    )
    print("\ntargets")
    labels = {
        "short_term_clips_per_s_5s": "short-term clips/s per core (5 s, 448²), slowest family",
        "pillow_vs_matplotlib": "Pillow render speed / matplotlib, slowest family",
        "process_speedup_2": "2 processes / 1 process",
        "long_term_clips_per_s_12s": "long-term clips/s per core (12 s), slowest family",
    }
    for key, target in TARGETS.items():
        value = measured[key]
        shown = "no family measured" if value is None else f"{value:.2f}"
        print(f"  {labels[key]:<58} >= {target:<4}  measured {shown:<20} {verdict(value, target)}")
    if e2e_ratios:
        print(f"  (end to end, Pillow is {min(e2e_ratios):.2f}x to {max(e2e_ratios):.2f}x matplotlib: encoding is shared)")

    results = {
        "machine": machine,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "families": per_fam,
        "paper_scale": paper,
        "process_scaling": {"clips": len(pool_tasks), "seconds_1": pool_1, "workers": workers, "seconds_n": pool_n, "speedup": speedup},
        "targets": {k: {"target": t, "measured": measured[k], "verdict": verdict(measured[k], t)} for k, t in TARGETS.items()},
        "rgb_to_yuv420p_ms_per_frame": conversion,
        "clips": [{k: v for k, v in c.items() if k != "scene"} for fam in clips.values() for c in fam],
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=float))
        print(f"\nsaved {args.json}")
    return results


if __name__ == "__main__":
    main()
