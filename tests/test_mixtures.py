"""The training mixtures as a user builds and loads them: ``synrl build --configs sft,grpo``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from synrl_hf import FAMILIES, build_scene
from synrl_hf.answers import extract_answer
from synrl_hf.build import BuildSpec, build, plan_chunks
from synrl_hf.cli import main
from synrl_hf.cot import template_completion, verify
from synrl_hf.cot.backends import OpenAIBackend
from synrl_hf.features import SAMPLE_FEATURES
from synrl_hf.mixtures import PAPER_GENERAL_SIZE, PAPER_MIXTURE_SIZES, GeneralQA, general_range, mixture_sample, parse_mixture_sizes
from tests.cot_server import ScriptedServer, wrong

FIXTURE = Path(__file__).parent / "fixtures" / "llava_video"
POOL = ("collision_count", "card_stack", "direction")


def _spec(**kw):
    base = dict(
        families=(),
        per_task=0,
        mixtures=("sft", "grpo", "round2"),
        mixture_families=POOL,
        mixture_sizes=dict.fromkeys(("sft", "grpo", "round2"), 6),
        resolution=64,
        splits=("train",),
    )
    return BuildSpec(**{**base, **kw})


def _load(folder, config, cache):
    return load_dataset(str(folder), config, cache_dir=str(cache))["train"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """sft (template CoT + 2 general QA rows on top of 6 synthetic, from the fixture), grpo and one family config, together."""
    out = tmp_path_factory.mktemp("mix") / "synrl"
    spec = _spec(families=("collision_count",), per_task=2, general_qa=str(FIXTURE), general_size=2)
    manifest = build(spec, out, progress=False)
    cache = out.parent / "cache"
    return out, manifest, _load(out, "sft", cache), _load(out, "grpo", cache), _load(out, "collision_count", cache)


def test_sft_rows_hold_verified_cot_in_messages(built):
    _, _, sft, _, _ = built
    synthetic = [r for r in sft if r["category"] != "general"]
    assert len(synthetic) == 6 and {r["task"] for r in synthetic} == set(POOL)
    for row in synthetic:
        user, assistant = row["messages"]
        assert user == row["prompt"][0] and [b["type"] for b in user["content"]] == ["video", "text"]
        assert assistant["role"] == "assistant" and assistant["content"] == [{"type": "text", "text": assistant["content"][0]["text"]}]
        completion = assistant["content"][0]["text"]
        assert completion.startswith("<think>") and extract_answer(completion) == row["answer"]
        assert row["cot"] and row["cot"] in completion and "<think>" not in row["cot"] and row["cot_source"] == "template"
        assert verify(completion, row, tolerance=1 / row["fps"]).passed  # the loaded row is all the verifier needs


def test_general_video_qa_share_and_layout(built):
    out, manifest, sft, _, _ = built
    general = [r for r in sft if r["category"] == "general"]
    assert len(general) == 2 and len(general) / len(sft) == 0.25
    for row in general:
        assert row["task"] == "general" and row["task"] not in FAMILIES and row["cot"] == "" and row["cot_source"] == "none"
        assert row["messages"][0]["content"][0] == {"type": "video"} and "<image>" not in json.dumps(row["messages"])
        assert all("<think>" not in m["content"][0]["text"] for m in row["messages"] if m["role"] == "assistant")  # answer only
        assert row["video"]["bytes"][4:8] == b"ftyp" and row["num_frames"] == 24 and row["fps"] == 12
    entry = next(e for e in manifest["shards"].values() if e["family"] == "sft")
    assert (entry["synthetic_rows"], entry["general_rows"]) == (6, 2)
    card = (out / "README.md").read_text()
    assert "config_name: sft" in card and "config_name: grpo" in card and "template CoT" in card
    assert "2 rows on top of the synthetic ones (25.0% of the mixture; requested 2)" in card


def test_grpo_rows_and_disjoint_videos(built):
    _, _, sft, grpo, family = built
    assert grpo.column_names == list(SAMPLE_FEATURES) and len(grpo) == 6
    assert all(r["solution"] == f"<answer>{r['answer']}</answer>" for r in grpo)
    synthetic = [r for r in sft if r["category"] != "general"]

    def videos(rows):
        return {hashlib.sha1(r["video"]["bytes"]).hexdigest() for r in rows}

    for a, b in ((synthetic, grpo), (synthetic, family), (grpo, family)):
        assert not {r["seed"] for r in a} & {r["seed"] for r in b}
        assert not {r["id"] for r in a} & {r["id"] for r in b}
        assert not videos(a) & videos(b)
    # A mixture row regenerates from its own task, index and base seed.
    row = grpo[0]
    family_name, index = mixture_sample("grpo", 0, POOL)
    assert (row["task"], row["index"]) == (family_name, index) and row["id"] == f"{family_name}-s0-train-{index:06d}"


def test_round2_is_harder_grpo_data_on_its_own_videos(built):
    out, _, _, grpo, _ = built
    round2 = _load(out, "round2", out.parent / "cache")
    assert len(round2) == 6 and set(round2["preset"]) == {"round2"} and set(grpo["preset"]) == {"round1"}
    assert not set(round2["seed"]) & set(grpo["seed"])

    def by_task(rows):
        return {t: np.mean([r["duration"] for r in rows if r["task"] == t]) for t in POOL}

    harder, easier = by_task(round2), by_task(grpo)
    assert all(harder[t] > easier[t] for t in POOL), (harder, easier)
    assert "`round2`" in (out / "README.md").read_text()


def test_chat_template_sees_exactly_one_video_per_video(built):
    pytest.importorskip("torch")
    from synrl_hf.modeling import build_tiny_processor, chat_inputs
    from synrl_hf.video import read_frames

    _, _, sft, _, _ = built
    processor = build_tiny_processor("qwen2_5_vl")
    for row in sft:
        text = processor.apply_chat_template(row["messages"], tokenize=False)
        assert text.count("<|vision_start|><|video_pad|><|vision_end|>") == 1 and text.count("<|image_pad|>") == 0
        assert row["messages"][-1]["content"][0]["text"] in text
    for row in (sft[0], next(r for r in sft if r["category"] == "general")):
        inputs = chat_inputs(processor, row["messages"], [read_frames(row["video"], num_frames=4)], add_generation_prompt=False)
        assert inputs["video_grid_thw"].shape[0] == 1


def test_cli_without_general_qa_is_synthetic_only(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        "build",
        "--out",
        "synrl",
        "--configs",
        "sft,grpo",
        "--cot",
        "template",
        "--mixture-size",
        "sft=2,grpo=3",
        "--mixture-families",
        "motion_count,shell_game",
        "--resolution",
        "64",
        "--splits",
        "train",
        "--no-progress",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "no --general-qa given" in printed and "sft: 2 rows" in printed and "grpo: 3 rows" in printed
    sft = _load(tmp_path / "synrl", "sft", tmp_path / "cache")
    assert len(sft) == 2 and all(r["category"] != "general" for r in sft)
    assert "no general video QA was given" in (tmp_path / "synrl" / "README.md").read_text()
    with pytest.raises(SystemExit):
        main(["build", "--out", "x", "--configs", "sft,bogus"])
    err = capsys.readouterr().err
    assert "valid configs: all, short_term" in err and err.rstrip().endswith("sft, grpo, round2")


def test_per_config_sizes_with_general_rows_on_top(tmp_path, capsys):
    """--mixture-size sets each config's synthetic rows; --general-size general rows go on top of sft's."""
    out = tmp_path / "synrl"
    args = ["build", "--out", str(out), "--configs", "sft,grpo,round2", "--mixture-size", "sft=3,grpo=2,round2=1"]
    args += ["--general-qa", str(FIXTURE), "--general-size", "2", "--mixture-families", "direction,card_stack"]
    assert main([*args, "--resolution", "64", "--no-progress"]) == 0
    assert "sft: 5 rows, 2 general video QA (40.0%)" in capsys.readouterr().out
    sft = _load(out, "sft", tmp_path / "cache")
    assert sum(r["category"] == "general" for r in sft) == 2 and sum(r["category"] != "general" for r in sft) == 3
    assert len(_load(out, "grpo", tmp_path / "cache")) == 2 and len(_load(out, "round2", tmp_path / "cache")) == 1


def test_mixture_sizes_default_to_the_papers():
    assert PAPER_MIXTURE_SIZES == {"sft": 6700, "grpo": 7000, "round2": 3000} and PAPER_GENERAL_SIZE == 1000
    assert parse_mixture_sizes("sft=6700,grpo=7000,round2=3000") == PAPER_MIXTURE_SIZES
    assert parse_mixture_sizes("round2=10") == {"sft": 6700, "grpo": 7000, "round2": 10}
    assert parse_mixture_sizes(" sft = 5 , grpo=0") == {"sft": 5, "grpo": 0, "round2": 3000}
    assert parse_mixture_sizes("40") == {"sft": 40, "grpo": 40, "round2": 40}
    # A build that names no sizes plans the paper's rows (chunks only: nothing is generated).
    spec = BuildSpec(families=(), per_task=0, mixtures=("sft", "grpo", "round2"), general_qa=None)
    rows = {name: sum(c.size for c in plan_chunks(spec) if c.family == name) for name in ("sft", "grpo", "round2")}
    assert rows == {"sft": 6700, "grpo": 7000, "round2": 3000} and spec.general_size == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sft=10,dpo=5", "unknown mixture config 'dpo'"),
        ("sft=-3", "sft=-3 is negative"),
        ("grpo=1.5", "not a whole number"),
        ("sft:10", "is malformed"),
        ("sft=", "not a whole number"),
        ("=5", "is malformed"),
        ("sft=1,sft=2", "given twice"),
        ("-7", "is malformed"),
    ],
)
def test_bad_mixture_sizes_exit_2_naming_the_problem(text, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--out", str(tmp_path / "synrl"), "--configs", "sft", "--mixture-size", text])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and not (tmp_path / "synrl").exists()
    assert "sft, grpo, round2" in err or "given twice" in err  # the valid configs, or the repeated one


def test_model_cot_build_filters_and_resumes(tmp_path):
    """--cot model: the four stages against the local server; a sample that never verifies is filtered out."""
    size, pool = 3, ("collision_count", "direction", "card_stack")
    scripts = {}
    for i in range(size):
        family, index = mixture_sample("sft", i, pool)
        scene = build_scene(family, index, 0, "train")
        good = template_completion(scene)
        scripts[scene.question.full_text] = ("bad" if i == 1 else "good", good, wrong(good, scene.question.answer))
    spec = _spec(
        mixtures=("sft",),
        mixture_families=pool,
        mixture_sizes={"sft": size},
        cot="model",
        general_qa=str(FIXTURE),
        general_size=1,
        cot_options={"backend": "openai", "model": "scripted-vlm", "frames": 4, "max_rounds": 3, "concurrency": 2},
    )
    with ScriptedServer(scripts) as server:
        backend = OpenAIBackend(server.base_url, "scripted-vlm", backoff=0.01)
        manifest = build(spec, tmp_path / "synrl", progress=False, cot_backend=backend)
        sent = len(server.requests)
        build(spec, tmp_path / "synrl", progress=False, cot_backend=backend)  # intact shards: nothing redone
        assert len(server.requests) == sent
    entry = next(iter(manifest["shards"].values()))
    assert entry["cot_filtered"] == 1 and entry["synthetic_rows"] == 2 and entry["general_rows"] == 1
    assert entry["cot_stats"]["rejected_by_check"] == {"answer": 1}
    assert "api_key" not in json.dumps(manifest) and "base_url" not in json.dumps(entry["spec"])
    sft = _load(tmp_path / "synrl", "sft", tmp_path / "cache")
    assert sorted(r["cot_source"] for r in sft) == ["model:scripted-vlm", "model:scripted-vlm", "none"]
    assert all("Let me watch this carefully." in r["cot"] for r in sft if r["cot_source"] != "none")  # polished
    card = (tmp_path / "synrl" / "README.md").read_text()
    assert "model CoT (model:scripted-vlm)" in card and "1 filtered" in card
    assert (tmp_path / "synrl" / "cot").is_dir() and len(list((tmp_path / "synrl" / "cot").glob("*.jsonl"))) == 1


def test_general_qa_reader_and_general_rows_on_top():
    general = GeneralQA.open(FIXTURE)
    assert len(general) == 4 and general.skipped["missing_video"] == 1
    assert general.fingerprint == GeneralQA.open(FIXTURE).fingerprint
    assert sorted(general.order(0)) == [0, 1, 2, 3]
    # The paper's 6.7K synthetic + 1K general: chunks reserve disjoint general ranges that add up to exactly 1000.
    ranges = [general_range(a, min(a + 200, 6700), 1000, 6700) for a in range(0, 6700, 200)]
    assert sum(len(r) for r in ranges) == 1000 and ranges[0].start == 0 and ranges[-1].stop == 1000
    assert all(r1.stop == r2.start for r1, r2 in zip(ranges, ranges[1:]))
    assert general_range(0, 10, 0, 10) == range(0) and general_range(0, 0, 5, 0) == range(0)
    with pytest.raises(ValueError, match="neither a folder nor a Hub dataset id"):
        GeneralQA.open("/no/such/folder")
    with pytest.raises(ValueError, match="general_size must be a whole number between 0 and"):
        _spec(general_size=-1)


def test_cli_model_cot_reads_the_endpoint_from_the_environment(tmp_path, monkeypatch, capsys):
    pool = ("rotation_count", "sliding_puzzle")
    scripts = {}
    for i in range(2):
        family, index = mixture_sample("sft", i, pool)
        scene = build_scene(family, index, 0, "train")
        scripts[scene.question.full_text] = ("good", template_completion(scene), "")
    with ScriptedServer(scripts) as server:
        monkeypatch.setenv("SYNRL_COT_BASE_URL", server.base_url)
        monkeypatch.setenv("SYNRL_COT_MODEL", "env-vlm")
        monkeypatch.setenv("SYNRL_COT_API_KEY", "sk-env-secret-7")
        out = tmp_path / "synrl"
        args = [
            "build",
            "--out",
            str(out),
            "--configs",
            "sft",
            "--cot",
            "model",
            "--mixture-families",
            ",".join(pool),
            "--mixture-size",
            "sft=2",
            "--cot-frames",
            "4",
            "--cot-no-polish",
            "--resolution",
            "64",
            "--no-progress",
        ]
        assert main(args) == 0
        assert server.headers[0]["Authorization"] == "Bearer sk-env-secret-7"
    assert "CoT [openai:env-vlm]: 2 accepted" in capsys.readouterr().out
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
            assert "sk-env-secret" not in path.read_text()
    assert "model CoT (model:env-vlm)" in (out / "README.md").read_text()


def test_a_chunk_whose_samples_all_fail_verification_finishes_empty_and_never_blocks_a_resume(tmp_path, capsys):
    """Rejected samples are outcomes: the chunk is written empty with a clear summary, and re-runs
    (even against a server that would now answer well) neither fail nor ask again."""
    pool = ("collision_count", "direction")
    scripts = {}
    for i in range(2):
        family, index = mixture_sample("sft", i, pool)
        scene = build_scene(family, index, 0, "train")
        good = template_completion(scene)
        scripts[scene.question.full_text] = ("bad", good, wrong(good, scene.question.answer))
    out = tmp_path / "synrl"
    args = ["build", "--out", str(out), "--configs", "sft", "--cot", "model", "--cot-model", "scripted-vlm"]
    args += ["--mixture-families", ",".join(pool), "--mixture-size", "2", "--cot-frames", "4", "--cot-max-rounds", "2"]
    args += ["--cot-no-polish", "--resolution", "64", "--no-progress"]
    with ScriptedServer(scripts) as server:
        assert main([*args, "--cot-base-url", server.base_url]) == 0
    err = capsys.readouterr().err
    assert "every synthetic sample failed CoT verification (failed checks: answer 2)" in err and "cot/*.jsonl" in err
    manifest = json.loads((out / "synrl_manifest.json").read_text())
    ((relpath, entry),) = manifest["shards"].items()
    assert entry["rows"] == 0 and entry["cot_filtered"] == 2 and entry["cot_stats"]["rejected_by_check"] == {"answer": 2}
    (stats_file,) = (out / "cot").glob("*.stats.json")
    stats = json.loads(stats_file.read_text())
    assert stats["rejected"] == 2 and stats["accepted"] == 0 and stats["rejected_by_check"] == {"answer": 2}
    assert relpath not in (out / "README.md").read_text()  # the card declares no empty shard (datasets cannot read one)

    scripts = {key: ("good", good, bad) for key, (_, good, bad) in scripts.items()}
    for damage in (lambda: None, lambda: (out / relpath).unlink()):  # intact shard; then the shard rewritten from the checkpoint
        damage()
        with ScriptedServer(scripts) as server:
            assert main([*args, "--cot-base-url", server.base_url]) == 0
            assert server.requests == []
    assert json.loads((out / "synrl_manifest.json").read_text())["shards"][relpath]["rows"] == 0
