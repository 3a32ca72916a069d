"""`synrl build --engine ray` on a real two-node Ray cluster (loopback only: tests/ray_cluster.py):
the same bytes as the local engine, a worker node killed mid-build, a driver killed mid-build, and
`synrl audit --engine ray` giving the local audit's results, the online stream drawing its samples from
Ray tasks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synrl_hf.audit import REPORT_JSON, _json_default, audit
from synrl_hf.build import BuildSpec, build
from synrl_hf.dataset_dir import MANIFEST
from synrl_hf.online import LocalSource
from tests.ray_cluster import REPO, LoopbackCluster, loopback_namespaces_unavailable
from tests.row_content import stream_digests

pytestmark = pytest.mark.skipif(
    bool(loopback_namespaces_unavailable()), reason=f"the Ray tests run in a loopback-only namespace: {loopback_namespaces_unavailable()}"
)

# 24 clips in 12 shards: long enough on two 1-CPU nodes to kill something half-way.
SPEC = BuildSpec(families=("direction", "speed"), per_task=12, seed=3, resolution=128, splits=("train",), shard_size=2)
ARGS = ["--configs", "direction,speed", "--per-task", "12", "--seed", "3", "--resolution", "128", "--splits", "train", "--shard-size", "2"]


@pytest.fixture(scope="module")
def cluster():
    """A head node and one worker node, 1 CPU each, shared by the module's tests."""
    ray_cluster = LoopbackCluster(head_cpus=1)
    try:
        ray_cluster.add_worker(cpus=1)
        ray_cluster.wait_for_nodes(2)
        yield ray_cluster
    finally:
        ray_cluster.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The local engine's build of SPEC (one process)."""
    out = tmp_path_factory.mktemp("local") / "synrl"
    build(SPEC, out, progress=False)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_same_folder(folder: Path, reference: Path) -> None:
    """Every file (shards, manifest, card, previews) byte for byte."""
    got, want = _files(folder), _files(reference)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


def _build_command(out: Path, cluster: LoopbackCluster, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "synrl_hf.cli",
        "build",
        "--out",
        str(out),
        *ARGS,
        "--engine",
        "ray",
        "--ray-address",
        cluster.address,
        *extra,
    ]


def _listed_shards(out: Path) -> dict:
    try:
        return json.loads((out / MANIFEST).read_text())["shards"]
    except (FileNotFoundError, ValueError):  # not written yet
        return {}


def _wait_for_shards(out: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while len(_listed_shards(out)) < count:
        assert process.poll() is None, f"the build ended before {count} shard(s) were written: {process.communicate()}"
        assert time.time() < deadline, "no progress"
        time.sleep(0.05)


def test_the_ray_engine_writes_the_local_engines_bytes(cluster, reference, tmp_path):
    out = tmp_path / "synrl"
    done = cluster.run(_build_command(out, cluster), timeout=300)
    assert done.returncode == 0, done.stderr
    # Both nodes, and the workers run this checkout's synrl_hf (what the identical bytes rely on).
    assert "2 node(s), 2 CPU(s)" in done.stderr and f"from {REPO}/synrl_hf/__init__.py" in done.stderr, done.stderr
    _assert_same_folder(out, reference)


def test_without_an_address_the_build_starts_a_ray_of_its_own(reference, tmp_path):
    """The laptop case: a new Ray with --num-proc CPUs, even where RAY_ADDRESS names another (here: nothing)."""
    out = tmp_path / "synrl"
    build_here = [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(out), *ARGS, "--engine", "ray", "--num-proc", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_ADDRESS": "127.0.0.1:9", "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
    in_loopback_namespace = ["unshare", "-n", "bash", "-c", 'ip link set lo up && exec "$@"', "_"]
    done = subprocess.run([*in_loopback_namespace, *build_here], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 node(s), 2 CPU(s)" in done.stderr, done.stderr
    _assert_same_folder(out, reference)


def test_a_killed_driver_resumes_from_the_shards_already_written(cluster, reference, tmp_path):
    out = tmp_path / "synrl"
    driver = cluster.popen(_build_command(out, cluster, "--no-progress"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_shards(out, 3, driver)
    finally:
        driver.kill()
        driver.communicate()
    written = {rel: os.stat(out / rel) for rel in _listed_shards(out)}
    assert 3 <= len(written) < len(_listed_shards(reference))
    again = cluster.run(_build_command(out, cluster), timeout=300)
    assert again.returncode == 0, again.stderr
    assert "taking over the lock" in again.stderr  # the killed driver's lock, released by its death
    remaining = sum(e["rows"] for e in json.loads((reference / MANIFEST).read_text())["shards"].values()) - 2 * len(written)
    assert f"{remaining} clip(s) to render" in again.stderr  # only what was missing
    for rel, before in written.items():  # the finished shards were kept, not rewritten
        after = os.stat(out / rel)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), rel
    _assert_same_folder(out, reference)


def test_a_worker_node_killed_mid_build_loses_nothing(cluster, reference, tmp_path):
    doomed = cluster.add_worker(cpus=1)
    cluster.wait_for_nodes(3)
    out = tmp_path / "synrl"
    driver = cluster.popen(_build_command(out, cluster), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_shards(out, 1, driver)
        cluster.kill(doomed)
        _, stderr = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.communicate()
    assert driver.returncode == 0, stderr
    assert "3 node(s)" in stderr and "ray: lost a batch" in stderr, stderr  # its tasks were lost with it, and sent again
    _assert_same_folder(out, reference)  # nothing lost, nothing twice


def test_the_ray_audit_gives_the_local_audits_results(cluster, reference, tmp_path):
    folder = tmp_path / "synrl"
    shutil.copytree(reference, folder)
    local = audit(folder, write=False).to_dict()
    done = cluster.run(
        [sys.executable, "-m", "synrl_hf.cli", "audit", str(folder), "--no-card", "--engine", "ray", "--ray-address", cluster.address],
        timeout=300,
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr  # 1: a check fails (the same one locally)
    assert "checking 2 families on Ray at" in done.stderr, done.stderr
    remote = json.loads((folder / REPORT_JSON).read_text())
    for report in (local, remote):
        del report["seconds"]
    assert len(remote["results"]) == 2 * 5  # every check of both families
    assert remote == json.loads(json.dumps(local, default=_json_default))


_STREAM_ON_RAY = """
import sys
from synrl_hf.executors import open_executor
from synrl_hf.online import ExecutorSource
from tests.row_content import stream_digests
with open_executor("ray", address=sys.argv[1]) as executor:
    print(executor.description, file=sys.stderr)
    print(*stream_digests(ExecutorSource(executor)))
"""


def test_the_online_stream_draws_the_same_rows_from_ray_tasks(cluster):
    done = cluster.run([sys.executable, "-c", _STREAM_ON_RAY, cluster.address], timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2 node(s), 2 CPU(s)" in done.stderr, done.stderr
    assert done.stdout.split() == stream_digests(LocalSource())
