"""The Ray engine against the local engine, and the numbers behind docs/distributed.md's cost model.

    python perf/bench_engines.py --json engines.json      # all 18 families, 12 clips each, 3 rounds: about 10 minutes
    python perf/bench_engines.py --per-task 4 --repeat 1  # a quick look

On one machine, the same spec (every family at 448², round1, train split) built four ways:

1. the local engine with ONE process: clips per CPU-second it used, end to end (render + encode +
   shards + card), the rate of an unshared core that the cost model multiplies;
2. the local engine with ``--num-proc 2`` and 3. the Ray engine with 2 workers, each build exactly
   as ``synrl build --num-proc 2`` and ``synrl build --engine ray --num-proc 2`` run it (a fresh
   process pool; a fresh Ray instance with 2 CPUs, started and stopped by the build), in rounds
   ordered local-ray, ray-local, … so that a load from other processes that rises or falls hits
   both alike. The target: the Ray build's throughput, Ray's start and stop included, at least 0.85
   of the local engine's. Starting and stopping Ray (paid once per build, not per clip) is also
   reported on its own;
4. the driver's own work per clip (a 200-row shard's parquet + sha256 + write, from rows in memory):
   what bounds a cluster's throughput however many workers it has.

The machine may be shared: every build records the load average before it, and the share of the
CPUs that the build's processes (this session) and all other processes used while it ran, and its
clips per CPU-second (its clips over the CPU time its processes used), which depends far less than
clips/s on what else ran.

Ray binds the machine's interface address, so the script re-runs itself inside a network namespace
that has only loopback (``unshare -n``, as root) unless it is already in one.
Not a test: it prints numbers and checks them against the targets in BENCHMARKS.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_generate import machine_info  # noqa: E402

from synrl_hf import FAMILIES, executors  # noqa: E402
from synrl_hf.build import BuildSpec, build, plan_chunks, write_shard  # noqa: E402

TARGET_RAY_VS_LOCAL = 0.85
PAPER_CLIPS = 14_700
MILLION = 1_000_000


def only_loopback() -> bool:
    return [name for _, name in socket.if_nameindex()] == ["lo"]


RAY_OVERHEAD: list[dict[str, float]] = []  # per Ray build: seconds starting Ray (and checking its workers), seconds stopping it


def _timed(method, phase: str):
    """Instrumentation: how long each Ray build spends in ``method`` (its start-up or its shut-down)."""

    def timed(self, *args):
        if phase == "startup_s":
            RAY_OVERHEAD.append({})
        started = time.perf_counter()
        try:
            return method(self, *args)
        finally:
            RAY_OVERHEAD[-1][phase] = time.perf_counter() - started

    return timed


executors.RayExecutor.__enter__ = _timed(executors.RayExecutor.__enter__, "startup_s")
executors.RayExecutor.__exit__ = _timed(executors.RayExecutor.__exit__, "shutdown_s")


class CpuSampler(threading.Thread):
    """CPU time used while it runs by the processes of this session (the build, its pool or its Ray
    processes) and by every other process, read from /proc every 0.2 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.session, self.stop, self.first, self.last = os.getsid(0), threading.Event(), {}, {}
        self.since = self._uptime_ticks()

    @staticmethod
    def _uptime_ticks() -> int:
        return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK"))

    def sample(self) -> None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it just ended
            cpu, started = int(fields[11]) + int(fields[12]), int(fields[19])
            key = (pid, started)
            self.first.setdefault(key, cpu if started < self.since else 0)  # a process born meanwhile counts from 0
            self.last[key] = (cpu, int(fields[3]) == self.session)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def shares(self, seconds: float) -> tuple[float, float]:
        """(this session's, everyone else's) CPU time as a share of every CPU over ``seconds``."""
        self.stop.set()
        self.join()
        self.sample()
        ticks, cores = os.sysconf("SC_CLK_TCK"), len(os.sched_getaffinity(0))
        used = {True: 0, False: 0}
        for key, (cpu, ours) in self.last.items():
            used[ours] += cpu - self.first[key]
        return used[True] / ticks / seconds / cores, used[False] / ticks / seconds / cores


def timed_build(spec: BuildSpec, folder: Path, **engine: Any) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    sampler = CpuSampler()
    sampler.sample()
    sampler.start()
    started = time.perf_counter()
    manifest = build(spec, folder, progress=False, **engine)
    seconds = time.perf_counter() - started
    ours, others = sampler.shares(seconds)
    clips = sum(entry["rows"] for entry in manifest["shards"].values())
    return {
        "seconds": seconds,
        "clips": clips,
        "clips_per_s": clips / seconds,
        "shard_bytes_per_clip": sum(entry["bytes"] for entry in manifest["shards"].values()) / clips,
        "load_before": load,
        "own_cpu_share": ours,
        "others_cpu_share": others,
        # Clips per CPU-second the build's processes used: what a core makes when it is not shared.
        "clips_per_cpu_s": clips / (ours * seconds * len(os.sched_getaffinity(0))),
        "shas": sorted(manifest["shards"]),
    }


def _shown(run: dict[str, Any]) -> str:
    return (
        f"{run['clips_per_s']:.2f} clips/s ({run['seconds']:.1f} s, load {run['load_before']:.2f}; "
        f"CPUs used by the build {run['own_cpu_share']:.0%}, by other processes {run['others_cpu_share']:.0%}; "
        f"{run['clips_per_cpu_s']:.2f} clips per CPU-second)"
    )


def driver_seconds_per_clip(spec: BuildSpec, folder: Path) -> float:
    """Write a full default-size shard (200 rows) from rows in memory, as the build's driver does."""
    from synrl_hf.build import DEFAULT_SHARD_SIZE, _chunk_tasks, _generate_row

    chunk = plan_chunks(spec)[0]
    rows = [_generate_row(task) for task in _chunk_tasks(chunk, spec)]
    rows = (rows * DEFAULT_SHARD_SIZE)[:DEFAULT_SHARD_SIZE]  # the same clips again: the cost is per row and per shard, not per content
    write_shard(folder, chunk, rows[:1])  # the first call imports datasets
    started, rounds = time.perf_counter(), 3
    for _ in range(rounds):
        write_shard(folder, chunk, rows)
    return (time.perf_counter() - started) / (rounds * len(rows))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-task", type=int, default=12, help="clips per family")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds of local --num-proc 2 and ray with 2 workers")
    parser.add_argument("--resolution", type=int, default=448)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if not only_loopback():
        command = " ".join([sys.executable, str(Path(__file__).resolve()), *(argv if argv is not None else sys.argv[1:])])
        os.execvp("unshare", ["unshare", "-n", "bash", "-c", f"ip link set lo up && exec {command}"])
    import ray

    spec = BuildSpec(families=tuple(FAMILIES), per_task=args.per_task, resolution=args.resolution, splits=("train",))
    machine = machine_info()
    print(
        f"machine: {machine['cpu']}, {machine['cores_usable']} usable cores, Python {machine['python']}, ray {ray.__version__}, "
        f"load average at start {machine['load_average'][0]:.2f}"
    )
    print(
        f"spec: {len(spec.families)} families x {spec.per_task} clips = {len(spec.families) * spec.per_task} clips, {spec.resolution}², round1"
    )
    work = Path(tempfile.mkdtemp(prefix="synrl-bench-engines-"))
    try:
        single = timed_build(spec, work / "single", num_proc=1)
        print(f"1. local engine, 1 process: {_shown(single)}")
        rounds = []
        for number in range(args.repeat):
            # ABBA: odd rounds run Ray first, so a load that rises or falls over the run hits both engines alike.
            order = ("local", "ray") if number % 2 == 0 else ("ray", "local")
            runs = {}
            for engine in order:
                runs[engine] = timed_build(spec, work / engine, engine=engine, num_proc=2)
                if engine == "ray":
                    runs[engine].update(RAY_OVERHEAD[-1])
            local, on_ray = runs["local"], runs["ray"]
            assert on_ray["shas"] == local["shas"] == single["shas"], "the engines wrote different shards"
            rounds.append({"order": order, "local": local, "ray": on_ray, "ratio": on_ray["clips_per_s"] / local["clips_per_s"]})
            print(f"round {number + 1} ({' then '.join(order)}): local --num-proc 2 {_shown(local)}")
            print(
                f"         ray, 2 workers   {_shown(on_ray)}, of which starting Ray {on_ray['startup_s']:.1f} s, stopping it {on_ray['shutdown_s']:.1f} s"
            )
            print(f"         ray/local {rounds[-1]['ratio']:.3f}")
        driver = driver_seconds_per_clip(spec, work / "driver")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = statistics.median(r["ratio"] for r in rounds)
    overhead = statistics.median(r["ray"]["startup_s"] + r["ray"]["shutdown_s"] for r in rounds)
    without_overhead = statistics.median(
        r["ray"]["clips"] / (r["ray"]["seconds"] - r["ray"]["startup_s"] - r["ray"]["shutdown_s"]) / r["local"]["clips_per_s"]
        for r in rounds
    )
    cpu_ratio = statistics.median(r["ray"]["clips_per_cpu_s"] / r["local"]["clips_per_cpu_s"] for r in rounds)
    clips = rounds[0]["ray"]["clips"]
    per_core = single["clips_per_cpu_s"]  # one process, per CPU-second it got: an unshared core's rate
    driver_limit = 1 / driver
    print(f"Ray's start-up + shut-down (once per build): {overhead:.1f} s; ray/local without them: {without_overhead:.3f}")
    print(f"clips per CPU-second, ray/local (Ray's own processes and start-up included): {cpu_ratio:.3f}")
    megabytes = single["shard_bytes_per_clip"] / 1e6
    print(
        f"driver: {driver * 1000:.2f} ms per clip (200-row shard parquet + sha256 + write), so at most {driver_limit:.0f} clips/s for one driver; "
        f"a clip is {megabytes:.2f} MB in its shard, so that rate also needs {driver_limit * megabytes:.0f} MB/s into the driver and out to the store"
    )
    verdict = "PASS" if ratio >= TARGET_RAY_VS_LOCAL else "FAIL"
    print(f"ray/local throughput (median of {len(rounds)}): {ratio:.3f}, target >= {TARGET_RAY_VS_LOCAL}: {verdict}")
    # The estimate: every core as fast as one here (one process per core, nothing else on it), capped by one driver.
    print(
        f"cost model: {per_core:.2f} clips/s per core (one process, per CPU-second) x cores, at most {driver_limit:.0f} clips/s for one driver"
    )
    estimates = {}
    for name, total in (("paper_14.7K", PAPER_CLIPS), ("1M", MILLION)):
        core_hours = total / per_core / 3600
        hours = {cores: total / min(cores * per_core, driver_limit) / 3600 for cores in (2, 64, 512, 4096)}
        estimates[name] = {"core_hours": core_hours, "hours_on": hours}
        shown = ", ".join(f"{cores} cores {h:.2f} h" for cores, h in hours.items())
        print(f"  {name}: {core_hours:.1f} core-hours; wall time {shown}")
    result = {
        "machine": machine,
        "spec": {"families": len(spec.families), "per_task": spec.per_task, "resolution": spec.resolution, "clips": clips},
        "single_process": single,
        "rounds": rounds,
        "ray_startup_and_shutdown_s": overhead,
        "ray_vs_local": ratio,
        "ray_vs_local_without_startup_and_shutdown": without_overhead,
        "ray_vs_local_clips_per_cpu_s": cpu_ratio,
        "clips_per_s_per_core": per_core,
        "driver_s_per_clip": driver,
        "estimates": estimates,
        "target": {"ray_vs_local": TARGET_RAY_VS_LOCAL, "verdict": verdict},
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return result


if __name__ == "__main__":
    main()
