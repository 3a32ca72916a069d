"""How long does the audit take next to the build it checks? The target: audit ≤ 0.3 × build.

    python perf/bench_audit.py --out /tmp/synrl-bench --per-task 50 --num-proc 2      # the BENCHMARKS.md run
    python perf/bench_audit.py --out /tmp/synrl-small --per-task 4 --profile 2        # where the audit's time goes

Runs, as a user would and one after the other, ``synrl build --configs all --per-task N
--num-proc P`` into a fresh ``--out`` and ``synrl audit OUT --num-proc P``, times both (wall
clock and CPU time), and prints the ratios, the machine and its load, and per family the pixel agreement and any
disagreement. With ``--profile K`` it then audits K clips per family again in this process under
cProfile and splits the time by what it was spent on. Run it on an otherwise idle machine.

Not a test: it prints numbers (``--json`` writes them) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.3
# What the profile is split by: (label, functions whose cumulative time it is), most specific first.
PARTS = [
    ("decode the MP4 (planes)", ("video.py", "decode")),
    ("read text (OCR)", ("ocr.py", "read_line")),
    ("measure objects by color", ("pixels.py", "measure")),
    ("regenerate rows (determinism)", ("sample.py", "generate_sample")),
    ("RGB tables (once per process)", ("video.py", "_rgb_tables"), ("video.py", "_luma_ranges")),
    (
        "balance, blind, single-frame",
        ("audit/balance.py", "check_balance"),
        ("audit/blind.py", "check_blind"),
        ("audit/single_frame.py", "check_single_frame"),
    ),
    (
        "read shards (metadata, videos)",
        ("audit/common.py", "load_build"),
        ("audit/common.py", "read_rows"),
        ("audit/common.py", "read_videos"),
    ),
]


def run(command: list[str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the command and all its processes)."""
    print("$", " ".join(command), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    subprocess.run(command, check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.time() - started, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def machine() -> dict:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?"
    )
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()}


def profile(out: Path, clips: int) -> dict[str, float]:
    from synrl_hf.audit import audit

    profiler = cProfile.Profile()
    profiler.enable()
    audit(out, sample_limit=clips, write=False)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = next(v[3] for (path, _, name), v in stats.items() if path.endswith("audit/__init__.py") and name == "audit")
    parts = {}
    for label, *functions in PARTS:
        parts[label] = sum(v[3] for (path, _, name), v in stats.items() if any(path.endswith(f) and name == n for f, n in functions))
    parts["everything else"] = total - sum(parts.values())
    parts["total"] = total
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="build folder (deleted first)")
    parser.add_argument("--per-task", type=int, default=50)
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=448)
    parser.add_argument("--profile", type=int, default=0, metavar="K", help="then profile the audit of K clips per family")
    parser.add_argument("--json", default=None, help="write the numbers here")
    args = parser.parse_args()

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    info = {"machine": machine()}
    synrl = [sys.executable, "-m", "synrl_hf.cli"]
    build = [*synrl, "build", "--out", str(out), "--configs", "all", "--per-task", str(args.per_task)]
    build += ["--num-proc", str(args.num_proc), "--resolution", str(args.resolution), "--no-progress"]
    info["build_s"], info["build_cpu_s"] = run(build)
    info["audit_s"], info["audit_cpu_s"] = run([*synrl, "audit", str(out), "--num-proc", str(args.num_proc), "--quiet"])
    info["ratio"] = info["audit_s"] / info["build_s"]
    info["cpu_ratio"] = info["audit_cpu_s"] / info["build_cpu_s"]
    report = json.loads((out / "audit" / "report.json").read_text())
    info["clips"] = sum(report["rows"].values())
    info["passed"] = report["passed"]
    info["pixels"] = {r["family"]: r["summary"] for r in report["results"] if r["check"] == "pixels"}
    print(f"\nmachine: {info['machine']}")
    print(f"{info['clips']} clips at {args.resolution} px, --num-proc {args.num_proc}")
    print(f"build {info['build_s']:.0f} s, audit {info['audit_s']:.0f} s: audit / build = {info['ratio']:.2f} (target <= {TARGET})")
    print(f"CPU time: build {info['build_cpu_s']:.0f} s, audit {info['audit_cpu_s']:.0f} s: audit / build = {info['cpu_ratio']:.2f}")
    print(f"audit {'passed' if info['passed'] else 'FAILED: ' + '; '.join(report['failures'])}")
    for family, summary in info["pixels"].items():
        print(f"  {family:20s} {summary}")
    if args.profile:
        info["profile"] = profile(out, args.profile)
        print(f"\nprofile: the audit of {args.profile} clips per family, one process")
        for label, seconds in info["profile"].items():
            print(f"  {label:32s} {seconds:7.1f} s  {seconds / info['profile']['total']:5.0%}")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
