"""The dataset folder's lock, with real processes: a second writer stops at once naming the holder's
pid and host; a lock (and a temp shard) left by a killed writer is taken over (and removed); build,
merge, audit and push all hold it; it is re-entrant within a process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from datasets import load_dataset

from synrl_hf.cli import main
from synrl_hf.files import TEMP_SUFFIX
from synrl_hf.folder_lock import LOCK_FILE, folder_lock

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}

# A writer that takes the lock, starts a shard the way the build writes one, then hangs (to be killed).
HALF_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from synrl_hf.files import temp_file
    from synrl_hf.folder_lock import folder_lock

    with folder_lock(sys.argv[1], "synrl build"):
        with temp_file(Path(sys.argv[1]) / "data" / "direction" / "shard.parquet") as tmp:
            tmp.write_bytes(b"half a shard")
            print("locked", flush=True)
            time.sleep(300)
    """
)


def _holder(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HALF_WRITER, str(folder)], stdout=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def _wait_for_lock(folder: Path, pid: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads((folder / LOCK_FILE).read_text() or "{}").get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the lock of {folder}")


def test_a_second_build_is_refused_while_a_build_runs(tmp_path, capsys):
    """The issue's case: two builds with different configs into one folder; the second stops, the first's dataset loads."""
    out = tmp_path / "synrl"
    first = subprocess.Popen(
        [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(out), "--configs", "direction", "--per-task", "30"]
        + ["--resolution", "64", "--splits", "train", "--shard-size", "10", "--no-progress"],
        env=ENV,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_lock(out, first.pid)
        with pytest.raises(SystemExit) as refused:
            main(["build", "--out", str(out), "--configs", "speed", "--per-task", "1", "--resolution", "64", "--no-progress"])
        assert first.poll() is None, "the first build finished before the second one was tried"
    finally:
        code = first.wait(timeout=300)
    err = capsys.readouterr().err
    assert refused.value.code == 2 and f"`synrl build` (pid {first.pid} on host {socket.gethostname()}" in err, err
    assert code == 0 and not (out / LOCK_FILE).exists()
    assert {e["family"] for e in json.loads((out / "synrl_manifest.json").read_text())["shards"].values()} == {"direction"}
    assert load_dataset(str(out), "direction", cache_dir=str(tmp_path / "cache"))["train"].num_rows == 30


def test_a_lock_and_temp_shard_left_by_a_killed_writer_are_taken_over_and_removed(tmp_path, capsys):
    out = tmp_path / "synrl"
    tiny = ["--configs", "direction", "--per-task", "1", "--resolution", "64", "--splits", "train", "--no-progress"]
    assert main(["build", "--out", str(out), *tiny, "--shard", "0/1"]) == 0  # a slice for merge to find
    holder = _holder(out)
    (temp,) = out.glob(f"data/direction/*{TEMP_SUFFIX}")
    for command in (
        ["build", "--out", str(out), *tiny],
        ["merge", str(out)],
        ["audit", str(out), "--quiet"],
        ["push", str(out), "--repo-id", "org/synrl"],
    ):
        with pytest.raises(SystemExit) as refused:
            main(command)
        err = capsys.readouterr().err
        assert refused.value.code == 2 and f"pid {holder.pid} on host {socket.gethostname()}" in err, (command, err)
    assert temp.exists()  # nobody touched the live writer's files

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert json.loads((out / LOCK_FILE).read_text())["pid"] == holder.pid  # the dead holder's record is still there
    assert main(["build", "--out", str(out), *tiny]) == 0
    err = capsys.readouterr().err
    assert f"taking over the lock of {out} left by `synrl build` (pid {holder.pid}" in err
    assert not temp.exists() and not list(out.rglob(f"*{TEMP_SUFFIX}")) and not (out / LOCK_FILE).exists()


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across_processes(tmp_path):
    folder = tmp_path / "d"
    probe = "import sys\nfrom synrl_hf.folder_lock import folder_lock\nwith folder_lock(sys.argv[1], 'probe'): pass"
    with folder_lock(folder, "outer"):
        with folder_lock(folder, "inner (e.g. an audit run by a build)"):
            pass
        assert json.loads((folder / LOCK_FILE).read_text())["command"] == "outer"  # still held after the inner block
        other = subprocess.run([sys.executable, "-c", probe, str(folder)], env=ENV, capture_output=True, text=True)
        assert other.returncode != 0 and "FolderBusy" in other.stderr and f"pid {os.getpid()}" in other.stderr
    assert not (folder / LOCK_FILE).exists()
    assert subprocess.run([sys.executable, "-c", probe, str(folder)], env=ENV).returncode == 0  # released: another process takes it
