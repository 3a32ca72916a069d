"""The four-stage model-CoT pipeline end to end: the real httpx client against a local
OpenAI-compatible server on 127.0.0.1, kill-and-resume through the JSONL checkpoint, and the
transformers backend on a tiny random Qwen2.5-VL built offline."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from synrl_hf import build_scene, generate_sample
from synrl_hf.cot import template_completion
from synrl_hf.cot.backends import BackendError, OpenAIBackend
from synrl_hf.cot.pipeline import PipelineConfig, load_checkpoint, run_pipeline
from synrl_hf.frame_budget import FrameBudget
from synrl_hf.sample import scene_row
from tests.cot_server import ScriptedServer, wrong

REPO = Path(__file__).resolve().parents[1]


def video_rows(families, seed=0):
    return [generate_sample(f, 0, seed, resolution=64) for f in families]


def meta_rows(families, seed=0):
    """Rows without rendering (no video): the pipeline then sends no frames."""
    return [scene_row(build_scene(f, 0, seed), None, 448) for f in families]


def script(row, behavior, seed=0):
    """(key, script) for the scripted server: the sample's question, and its good / wrong reasoning."""
    good = template_completion(build_scene(row["task"], row["index"], seed))
    return row["question"], (behavior, good, wrong(good, row["answer"]))


def test_accept_reject_then_fix_and_reject_five_times(tmp_path):
    rows = video_rows(["collision_count", "card_stack", "direction"])
    behaviors = dict(zip((r["id"] for r in rows), ("good", "fix", "bad")))
    with ScriptedServer(dict(script(r, behaviors[r["id"]]) for r in rows)) as server:
        backend = OpenAIBackend(server.base_url, "scripted-vlm", api_key="sk-unused", backoff=0.01)
        config = PipelineConfig(max_rounds=5, concurrency=3, frame_budget=FrameBudget(num_frames=6))
        result = run_pipeline(rows, backend, tmp_path / "cot.jsonl", config=config, verbose=False)

    good, fixed, bad = (result.records[r["id"]] for r in rows)
    assert good["status"] == "accepted" and good["rounds"] == 1 and good["failures"] == [[]]
    assert fixed["status"] == "accepted" and fixed["rounds"] == 2 and fixed["failures"] == [["answer"], []]
    assert bad["status"] == "rejected" and bad["rounds"] == 5 and bad["cot"] is None and bad["failures"] == [["answer"]] * 5
    for record in (good, fixed):  # polished, and the polished text passed verification again
        assert record["polished"] and "Let me watch this carefully." in record["cot"]
        assert record["cot"].rstrip().endswith(f"<answer>{rows[[good, fixed].index(record)]['answer']}</answer>")

    stats = result.stats
    assert (stats["accepted"], stats["rejected"], stats["errors"]) == (2, 1, 0)
    assert stats["rejected_by_check"] == {"answer": 1}
    assert stats["failed_checks_all_rounds"] == {"answer": 6}
    assert stats["accepted_in_round"] == {"1": 1, "2": 1}
    assert stats["polished"] == 2
    generations = 1 + 2 + 5
    assert stats["tokens"]["prompt"] == 100 * (generations + 2)  # + 2 polish requests
    assert json.loads((tmp_path / "cot.jsonl.stats.json").read_text()) == stats
    assert [row["id"] for row, _ in result.accepted(rows)] == [rows[0]["id"], rows[1]["id"]]

    # What went over the wire: frames as base64 JPEG image_url parts after their timestamps, the
    # question, the answer and the timeline; the verifier's feedback in the reflection round.
    first = server.requests[0]["messages"][1]["content"]
    images = [p for p in first if p["type"] == "image_url"]
    assert len(images) == 6 and [p["text"] for p in first if p["type"] == "text"][0].startswith("Frame at 0.00 s")
    assert base64.b64decode(images[0]["image_url"]["url"].split(",", 1)[1])[:2] == b"\xff\xd8"
    prompt = first[-1]["text"]
    assert "Correct answer:" in prompt and "Events:" in prompt
    reflection = next(b for b in server.requests if any(m["role"] == "assistant" for m in b["messages"]))
    assert "did not pass verification" in reflection["messages"][-1]["content"] and "- answer:" in reflection["messages"][-1]["content"]
    assert server.generations_for(rows[2]["question"]) == 5


def test_transient_errors_are_retried_with_backoff(tmp_path):
    rows = meta_rows(["motion_count"])
    with ScriptedServer(dict([script(rows[0], "good")]), fail_first=2) as server:
        backend = OpenAIBackend(server.base_url, "m", backoff=0.01)
        result = run_pipeline(rows, backend, tmp_path / "c.jsonl", config=PipelineConfig(polish=False), verbose=False)
    assert result.records[rows[0]["id"]]["status"] == "accepted"
    assert result.stats["http_retries"] == 2 and len(server.requests) == 3


def test_hard_failures_are_not_checkpointed_and_the_next_run_redoes_them(tmp_path, monkeypatch):
    rows = meta_rows(["rotation_count", "speed"])
    scripts = dict(script(r, "good") for r in rows)
    monkeypatch.setenv("SYNRL_COT_API_KEY", "sk-do-not-leak-42")
    with ScriptedServer(scripts, fail_first=1, status=400) as server:
        backend = OpenAIBackend(server.base_url, "m", backoff=0.01)
        assert "sk-do-not-leak" not in repr(backend)
        result = run_pipeline(rows, backend, tmp_path / "c.jsonl", config=PipelineConfig(concurrency=1, polish=False), verbose=False)
        assert server.headers[0]["Authorization"] == "Bearer sk-do-not-leak-42"
    assert len(result.errors) == 1 and result.stats["errors"] == 1
    assert all("sk-do-not-leak" not in message for message in result.errors.values())
    assert len(load_checkpoint(tmp_path / "c.jsonl")) == 1
    with ScriptedServer(scripts) as server:
        again = run_pipeline(
            rows, OpenAIBackend(server.base_url, "m"), tmp_path / "c.jsonl", config=PipelineConfig(polish=False), verbose=False
        )
        assert len(server.requests) == 1  # only the failed sample is redone
    assert again.stats["accepted"] == 2 and again.stats["resumed_from_checkpoint"] == 1
    for path in tmp_path.iterdir():
        assert "sk-do-not-leak" not in path.read_text()


def test_environment_configures_the_backend(monkeypatch):
    monkeypatch.delenv("SYNRL_COT_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="SYNRL_COT_BASE_URL"):
        OpenAIBackend(model="m")
    monkeypatch.setenv("SYNRL_COT_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("SYNRL_COT_MODEL", "qwen3-vl")
    backend = OpenAIBackend(max_retries=0)
    assert (backend.base_url, backend.model, backend.name) == ("http://127.0.0.1:9/v1", "qwen3-vl", "openai:qwen3-vl")
    with pytest.raises(BackendError, match="failed 1 times"):
        backend.chat([{"role": "user", "content": "hi"}])


def test_llm_judge_feedback_drives_a_reflection(tmp_path):
    rows = meta_rows(["event_order"])
    with ScriptedServer(dict([script(rows[0], "good")])) as server:
        server.judge_verdicts = ["FAIL: the reasoning never says which object acted second."]
        config = PipelineConfig(judge=True, polish=False)
        result = run_pipeline(rows, OpenAIBackend(server.base_url, "m"), tmp_path / "c.jsonl", config=config, verbose=False)
    record = result.records[rows[0]["id"]]
    assert record["status"] == "accepted" and record["failures"] == [["judge"], []]
    reflection = [b for b in server.requests if any(m["role"] == "assistant" for m in b["messages"])][0]
    assert "acted second" in reflection["messages"][-1]["content"]


CHILD = textwrap.dedent(
    """
    import sys
    from synrl_hf import build_scene
    from synrl_hf.sample import scene_row
    from synrl_hf.cot.backends import OpenAIBackend
    from synrl_hf.cot.pipeline import PipelineConfig, run_pipeline
    families = sys.argv[3].split(",")
    rows = [scene_row(build_scene(f, 0, 0), None, 448) for f in families]
    run_pipeline(rows, OpenAIBackend(sys.argv[1], "m"), sys.argv[2], config=PipelineConfig(concurrency=2), verbose=False)
    """
)


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path):
    families = ["collision_count", "direction", "speed", "motion_count", "card_stack", "chip_container", "shell_game", "math_symbols"]
    rows = meta_rows(families)
    checkpoint = tmp_path / "cot.jsonl"
    with ScriptedServer(dict(script(r, "good") for r in rows), delay=0.25) as server:
        child = subprocess.Popen([sys.executable, "-c", CHILD, server.base_url, str(checkpoint), ",".join(families)], cwd=REPO)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not checkpoint.exists() or checkpoint.read_text().count("\n") < 2):
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        before = load_checkpoint(checkpoint)
        assert 2 <= len(before) < len(rows), "the run should have been killed midway"
        with open(checkpoint, "a") as handle:  # a line torn by the kill
            handle.write('{"id": "' + rows[-1]["id"] + '", "status": "acc')
        sent = len(server.requests)
        result = run_pipeline(rows, OpenAIBackend(server.base_url, "m"), checkpoint, config=PipelineConfig(concurrency=4), verbose=False)
        resumed_prompts = [json.dumps(b) for b in server.requests[sent:]]

    lines = [json.loads(line) for line in checkpoint.read_text().splitlines()]
    ids = [line["id"] for line in lines]
    assert sorted(ids) == sorted(r["id"] for r in rows)  # every sample exactly once
    assert all(result.records[i] == record for i, record in before.items())  # finished ones kept as they were
    for row in rows:  # and never sent again
        if row["id"] in before:
            assert not any(row["question"] in prompt for prompt in resumed_prompts)
    assert result.stats["resumed_from_checkpoint"] == len(before) and result.stats["accepted"] == len(rows)


def test_transformers_backend_on_a_tiny_model(tmp_path):
    pytest.importorskip("torch")
    from synrl_hf.cot.backends import TransformersBackend
    from synrl_hf.modeling import build_tiny_model

    path = build_tiny_model(tmp_path / "tiny", "qwen2_5_vl")
    backend = TransformersBackend(str(path))
    rows = video_rows(["collision_count"])
    config = PipelineConfig(max_rounds=2, frame_budget=FrameBudget(num_frames=4), max_tokens=8, concurrency=1)
    result = run_pipeline(rows, backend, tmp_path / "c.jsonl", config=config, verbose=False)
    record = result.records[rows[0]["id"]]
    # A random model writes gibberish: rejected after the allowed rounds, and counted.
    assert record["status"] == "rejected" and record["rounds"] == 2 and record["backend"].startswith("transformers:")
    assert result.stats["rejected"] == 1 and "format" in result.stats["rejected_by_check"]
    assert record["prompt_tokens"] > 0 and 0 < record["completion_tokens"] <= 16
