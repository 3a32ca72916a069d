"""The smaller faults: file permissions follow the umask, a full disk is a clear message, the CoT
verifier is linear in the reply's length (and survives absurd numbers), overlong replies are never
kept, and the CoT endpoint's timeout is a CLI option."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synrl_hf import build_scene, generate_sample
from synrl_hf.build import BuildSpec, build
from synrl_hf.cli import main
from synrl_hf.cot import template_completion, verify
from synrl_hf.cot.backends import BackendError, OpenAIBackend
from synrl_hf.cot.pipeline import PipelineConfig, load_checkpoint, run_pipeline
from synrl_hf.cot.verify import MAX_REPLY_CHARS
from synrl_hf.files import TEMP_SUFFIX
from synrl_hf.mixtures import mixture_sample
from synrl_hf.sample import scene_row
from tests.cot_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]
SPEC = BuildSpec(families=("direction",), per_task=1, resolution=64, splits=("train",))


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_files_are_written_with_the_umasks_permissions(tmp_path, umask):
    previous = os.umask(umask)
    try:
        out = tmp_path / "synrl"
        build(SPEC, out, progress=False)
    finally:
        os.umask(previous)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".parquet", ".md", ".json", ".png"}  # shards, card, manifest, previews
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_full_disk_is_a_clear_message_and_leaves_no_temp_files(tmp_path):
    """A real small file system (tmpfs in a user namespace): the build runs until the disk is full."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    build_cmd = " ".join(
        [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(disk / "synrl"), "--configs", "direction,speed"]
        + ["--per-task", "4", "--resolution", "128", "--shard-size", "1", "--no-progress"]
    )
    script = f"mount -t tmpfs -o size=160k tmpfs {disk} && {build_cmd}; echo exit=$?; ls -aR {disk}"
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    if "unshare:" in proc.stderr or "mount:" in proc.stderr:
        pytest.skip(f"no user namespaces here: {proc.stderr.strip()}")
    assert "exit=1" in proc.stdout, proc.stdout + proc.stderr
    assert "error: no space left on the device holding" in proc.stderr and "run it again: finished work is kept" in proc.stderr
    assert "Traceback" not in proc.stderr
    listing = proc.stdout.split("exit=1", 1)[1]
    assert ".parquet" in listing and TEMP_SUFFIX not in listing  # some shards were finished; no temp file was left


def _collision_row():
    return generate_sample("collision_count", 0, 0, "train", resolution=64)


def test_the_verifier_is_linear_in_the_reply_length():
    """A 1 MB reply full of cited times took 549 s (every citation was compared with every other one)."""
    row = _collision_row()
    reasoning = "At 1.30 s the square moves on, and at 2.00 s it turns. " * 18_500  # about 1 MB, 37,000 cited times
    text = f"<think>{reasoning}</think><answer>A</answer>"
    assert len(text) > 1_000_000
    started = time.perf_counter()
    assert verify(text, row).failed == ["length"]  # as the pipeline runs it: over the cap, refused at once
    capped = time.perf_counter() - started
    started = time.perf_counter()
    result = verify(text, row, max_chars=len(text))  # and read in full
    full = time.perf_counter() - started
    assert [c.name for c in result.checks] == ["length", "format", "answer", "timestamps", "order", "count"]  # every rule ran
    # Guards against the quadratic coming back, not benchmarks (about 0.00003 s and 1.3 s here).
    assert capped < 1 and full < 10, (capped, full)


def test_absurd_numbers_fail_verification_instead_of_crashing():
    row = _collision_row()
    huge = "9" * 400
    result = verify(f"<think>It bounces at {huge} s, {huge} times.</think><answer>{huge}</answer>", row)
    assert not result.passed and "match no event" in result.check("timestamps").detail


def test_an_overlong_reply_fails_verification_and_is_never_kept(tmp_path):
    row = scene_row(build_scene("motion_count", 0, 0), None, 448)
    good = template_completion(build_scene("motion_count", 0, 0))
    padded = good.replace("<think>", "<think>" + "Let me look again. " * (MAX_REPLY_CHARS // 19 + 1), 1)
    assert len(padded) > MAX_REPLY_CHARS and verify(good, row).passed
    assert verify(padded, row).failed == ["length"]
    with ScriptedServer({row["question"]: ("bad", good, padded)}) as server:
        backend = OpenAIBackend(server.base_url, "m", backoff=0.01)
        result = run_pipeline([row], backend, tmp_path / "c.jsonl", config=PipelineConfig(max_rounds=2, polish=False), verbose=False)
    record = load_checkpoint(tmp_path / "c.jsonl")[row["id"]]
    assert record["status"] == "rejected" and record["cot"] is None and record["failures"] == [["length"], ["length"]]
    assert result.stats["rejected_by_check"] == {"length": 1}
    assert max(len(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()) < 2000  # the reply itself is not stored


def test_the_endpoint_timeout_bounds_each_request(tmp_path):
    row = scene_row(build_scene("speed", 0, 0), None, 448)
    with ScriptedServer({}, delay=3.0) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=0.3, max_retries=0)
        started = time.monotonic()
        with pytest.raises(BackendError, match="ReadTimeout"):
            backend.chat([{"role": "user", "content": row["question"]}])
        assert time.monotonic() - started < 2.5  # the server held the reply for 3 s


def test_the_cot_timeout_is_a_cli_option_that_reaches_the_backend(tmp_path, capsys):
    """A first reply slower than --cot-timeout is abandoned and retried (the default would have waited)."""
    pool = ("speed",)
    family, index = mixture_sample("sft", 0, pool)
    scene = build_scene(family, index, 0, "train")
    out = tmp_path / "synrl"
    args = ["build", "--out", str(out), "--configs", "sft", "--cot", "model", "--cot-model", "m", "--mixture-families", "speed"]
    args += ["--mixture-size", "1", "--cot-frames", "2", "--cot-no-polish", "--resolution", "64", "--no-progress", "--cot-timeout", "1"]
    with ScriptedServer({scene.question.full_text: ("good", template_completion(scene), "")}, delay=4.0, slow_first=1) as server:
        assert main([*args, "--cot-base-url", server.base_url]) == 0
    (stats,) = (out / "cot").glob("*.stats.json")
    assert json.loads(stats.read_text())["http_retries"] == 1
