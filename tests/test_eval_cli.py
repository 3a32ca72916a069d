"""``synrl eval`` / ``synrl eval-convert`` (through ``synrl_hf.eval_cli.main``), the tiny Qwen-VL
model end to end, lighteval's ``--custom-tasks`` entry point and the GPU check's CPU smoke mode."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synrl_hf.eval_cli import main
from synrl_hf.evaluation.benchmarks import NAMES, get_benchmark
from synrl_hf.frame_budget import DEFAULT_BUDGET, FrameBudget

ROOT = Path(__file__).resolve().parent.parent


def test_eval_fixtures_all_16_tasks_with_the_oracle(tmp_path, capsys):
    """`synrl eval --fixtures --model oracle --tasks all`: every protocol agrees with itself."""
    assert (
        main(
            [
                "eval",
                "--fixtures",
                "--model",
                "oracle",
                "--tasks",
                "all",
                "--frames",
                "4",
                "--output-dir",
                str(tmp_path),
                "--bootstrap-iters",
                "0",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["tasks"]) == set(NAMES)
    for name, task in summary["tasks"].items():
        for key in get_benchmark(name).headline:
            assert task["metrics"][key] == 1.0, (name, key)
    out = capsys.readouterr()
    assert "| general | Video-MME (w/o subs) | acc | 100.0 | 60.9 | 62.0 | +39.1 |" in out.out
    assert "| oracle (ours) | 100.0 | 100.0 | 100.0 | 100.0 |" in out.out  # the paper's Table 3 layout, our row
    assert "3 of 3 videos found" in out.out  # each conversion says what it found
    # what could not be checked against a real release is said, per benchmark
    assert "unverified: aotbench:" in out.err and "unverified: videomme" not in out.err
    assert "warning: tvbench: 1 questions skipped" in out.err and "S001C001P001R001A001_rgb.avi" in out.err


def test_eval_convert(tmp_path, capsys):
    source, videos = get_benchmark("videomme").write_fixture(tmp_path / "raw")
    assert (
        main(["eval-convert", "videomme", "--source", str(source), "--videos-root", str(videos), "--data-dir", str(tmp_path / "data")]) == 0
    )
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1]) == {"rows": 5, "videos": 3, "videos_found": 3, "missing_videos": 0}
    assert "videomme: 5 questions converted, 3 of 3 videos found" in out
    assert (tmp_path / "data" / "videomme" / "conversion.json").is_file()
    for argv, message in (
        (["eval-convert", "video_mme", "--source", str(source)], "unknown benchmark 'video_mme'; valid: nextgqa"),
        (["eval-convert", "videomme", "--source", str(tmp_path / "absent")], "no such file or folder"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_eval_convert_exits_1_naming_the_missing_videos(tmp_path, capsys):
    """Missing videos are never a silent 'not run': the conversion names them and fails until they are found."""
    source, videos = get_benchmark("tvbench").write_fixture(tmp_path / "raw")
    argv = ["eval-convert", "tvbench", "--source", str(source), "--videos-root", str(videos), "--data-dir", str(tmp_path / "data")]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "4 of 5 videos found" in captured.out and "ROSE Lab" in captured.out  # why NTU clips are missing
    assert "video/action_antonym/S001C001P001R001A001_rgb.avi" in captured.err and "--allow-missing-videos" in captured.err
    assert "unverified:" in captured.err
    conversion = json.loads((tmp_path / "data" / "tvbench" / "conversion.json").read_text())
    assert conversion["missing_files"] == ["video/action_antonym/S001C001P001R001A001_rgb.avi"]
    assert main([*argv, "--allow-missing-videos"]) == 0
    # a wrong videos root: every video missing, named
    assert main([*argv[:-4], "--videos-root", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data2")]) == 1
    assert "0 of 5 videos found" in capsys.readouterr().out


def test_eval_exits_1_when_a_requested_benchmark_cannot_run(tmp_path, capsys):
    bench = get_benchmark("minerva")
    source, _ = bench.write_fixture(tmp_path / "raw")
    bench.convert(source, tmp_path / "nowhere", tmp_path / "data" / "minerva")
    argv = ["eval", "--model", "oracle", "--tasks", "minerva", "--data-dir", str(tmp_path / "data"), "--bootstrap-iters", "0"]
    assert main([*argv, "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "not run: minerva: all 3 questions have missing videos" in err and "yt0abcDEFg.mp4" in err
    assert main([*argv, "--output-dir", str(tmp_path / "out2"), "--videos-root", str(tmp_path / "raw" / "minerva_videos")]) == 0


def test_bad_arguments_exit_2(tmp_path):
    for argv in (["--frames", "0"], ["--frames", "2fpx"], ["--fps", "nan"], ["--frames", "8", "--fps", "2"], ["--tasks", "cv_bench"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["eval", "--model", "oracle", "--output-dir", str(tmp_path), *argv])
        assert exit_info.value.code == 2


def test_frame_budget_is_part_of_the_model_identity():
    from lighteval.utils.cache_management import SampleCache

    from synrl_hf.evaluation.common.model import VideoVLMConfig

    configs = [
        VideoVLMConfig(model_path="Qwen/Qwen3-VL-4B-Instruct", frame_budget=FrameBudget(num_frames=f, fps=r, max_pixels=p))
        for f, r, p in ((16, None, None), (32, None, None), (None, 2.0, None), (16, None, 200704))
    ]
    # no whole budget and no record: each benchmark's own, with the flags over it
    configs += [VideoVLMConfig(model_path="Qwen/Qwen3-VL-4B-Instruct", budget_flags=flags) for flags in ({}, {"max_pixels": 200704})]
    assert [c.model_name for c in configs] == [
        "Qwen/Qwen3-VL-4B-Instruct@16f",
        "Qwen/Qwen3-VL-4B-Instruct@32f",
        "Qwen/Qwen3-VL-4B-Instruct@2fps",
        "Qwen/Qwen3-VL-4B-Instruct@16f-200704px",
        "Qwen/Qwen3-VL-4B-Instruct@bench",
        "Qwen/Qwen3-VL-4B-Instruct@bench+200704px",
    ]
    hashes = {SampleCache.get_model_hash(None, c) for c in configs}
    assert len(hashes) == 6
    usual = get_benchmark("tomato").frame_budget
    assert configs[5].budget_choice(usual).budget == FrameBudget(num_frames=16, max_pixels=200704)
    assert configs[0].budget_choice(usual).budget == FrameBudget(num_frames=16)  # a whole budget wins


def test_eval_uses_the_checkpoints_recorded_budget_and_a_flag_overrides_it(tmp_path):
    """A trained checkpoint carries its frame budget: `synrl eval` uses it, reports it, and a flag wins."""
    from synrl_hf.modeling import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny", "qwen2_5_vl")
    trained = FrameBudget(fps=2.0, max_frames=3, max_pixels=3136)  # the fixture clips: 2 s at 8 fps
    trained.save(model_dir)

    def run(out: Path, *flags: str) -> dict:
        argv = ["eval", "--fixtures", "--model", str(model_dir), "--tasks", "tvbench", "--max-new-tokens", "4", "--device", "cpu"]
        assert main([*argv, "--output-dir", str(out), "--bootstrap-iters", "0", *flags]) == 0
        return json.loads((out / "summary.json").read_text())

    summary = run(tmp_path / "recorded")
    budget, evaluated = summary["frame_budget"], summary["tasks"]["tvbench"]["evaluated"]
    assert budget["source"] == "checkpoint" and FrameBudget.from_dict({k: budget[k] for k in trained.to_dict()}) == trained
    assert summary["model"] == "tiny@2fps-max3f-3136px" and summary["throughput"]["frames"] == 3 * evaluated
    assert "Frame budget `2fps-max3f-3136px` (source: checkpoint)" in (tmp_path / "recorded" / "results.md").read_text()

    summary = run(tmp_path / "flag", "--frames", "2")
    budget = summary["frame_budget"]
    assert (budget["source"], budget["base"], budget["flags"]) == ("flag", "checkpoint", ["num_frames"])
    assert (budget["num_frames"], budget["fps"], budget["max_pixels"]) == (2, None, 3136)  # pixels still the checkpoint's
    assert summary["model"] == "tiny@2f-3136px" and summary["throughput"]["frames"] == 2 * evaluated
    assert "(source: flag)" in (tmp_path / "flag" / "results.md").read_text()


def test_eval_without_a_record_or_flags_uses_each_benchmarks_budget(tmp_path):
    argv = ["eval", "--fixtures", "--model", "oracle", "--tasks", "aotbench,synrl_bench", "--output-dir", str(tmp_path)]
    assert main([*argv, "--bootstrap-iters", "0"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frame_budget"]["source"] == "benchmark" and summary["model"] == "oracle"
    aot, ours = summary["tasks"]["aotbench"]["frame_budget"], summary["tasks"]["synrl_bench"]["frame_budget"]
    assert (aot["source"], aot["tag"], aot["num_frames"]) == ("benchmark", "16f-1605632px", 16)  # the authors' 16 frames
    assert (ours["source"], ours["tag"]) == ("default", DEFAULT_BUDGET.tag)  # no usual budget: the library default
    assert "`16f-1605632px` (benchmark)" in (tmp_path / "results.md").read_text()
    with pytest.raises(SystemExit) as exit_info:  # a count above a cap the user also set: refused before any work
        main(["eval", "--model", "oracle", "--output-dir", str(tmp_path / "bad"), "--frames", "16", "--max-frames", "8"])
    assert exit_info.value.code == 2 and not (tmp_path / "bad").exists()
    with pytest.raises(SystemExit) as exit_info:  # a cap below a benchmark's own count: refused, naming the numbers
        main(["eval", "--model", "oracle", "--tasks", "vcrbench", "--output-dir", str(tmp_path / "bad"), "--max-frames", "8"])
    assert exit_info.value.code == 2 and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("family, task", [("qwen2_5_vl", "tvbench"), ("qwen3_vl", "cvbench")])
def test_tiny_qwen_model_end_to_end(tmp_path, family, task):
    """A real (tiny, random) Qwen-VL through the whole path: decode, processor with metadata, generate."""
    from synrl_hf.modeling import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny", family)
    out = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "--fixtures",
                "--model",
                str(model_dir),
                "--tasks",
                task,
                "--frames",
                "4",
                "--max-pixels",
                "3136",
                "--max-new-tokens",
                "6",
                "--batch-size",
                "2",
                "--device",
                "cpu",
                "--output-dir",
                str(out),
                "--bootstrap-iters",
                "0",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "tiny@bench+4f-3136px"  # flags over each benchmark's own budget
    evaluated = summary["tasks"][task]["evaluated"]
    assert evaluated >= 3 and summary["throughput"]["samples"] == evaluated and summary["throughput"]["decode_errors"] == 0
    assert 0.0 <= summary["tasks"][task]["metrics"]["acc"] <= 1.0
    replies = [json.loads(line)["reply"] for line in (out / "samples" / f"{task}.jsonl").read_text().splitlines()]
    assert len(replies) == evaluated and all(isinstance(r, str) for r in replies)


def test_lighteval_custom_tasks_file(tmp_path, monkeypatch):
    """`--custom-tasks synrl_hf/evaluation/tasks.py`: TASKS_TABLE lists the converted benchmarks."""
    from lighteval.tasks.registry import Registry

    bench = get_benchmark("aotbench")
    source, videos = bench.write_fixture(tmp_path / "raw")
    bench.convert(source, videos, tmp_path / "data" / "aotbench")
    monkeypatch.setenv("SYNRL_EVAL_DATA", str(tmp_path / "data"))
    module = Registry.create_custom_tasks_module(str(ROOT / "synrl_hf" / "evaluation" / "tasks.py"))
    assert [c.name for c in module.TASKS_TABLE] == ["aotbench"]


def test_gpu_eval_check_cpu_smoke():
    """scripts/gpu_eval_check.sh --cpu-smoke (the GPU mode itself needs a lent GPU)."""
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_eval_check.sh"), "--cpu-smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| budget | samples | frames |" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 4 |") or line.startswith("| 8 |")]
    assert len(rows) == 2


def test_video_model_batches_by_generation_length_and_survives_a_corrupt_clip(tmp_path):
    from lighteval.tasks.requests import Doc

    from synrl_hf.evaluation.common.converters import write_clip
    from synrl_hf.evaluation.common.model import VideoVLM, VideoVLMConfig
    from synrl_hf.modeling import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny", "qwen2_5_vl")
    good = write_clip(tmp_path / "good.mp4", seconds=1, seed=1)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    docs = [
        Doc(
            query=f"q{i}",
            choices=["A"],
            gold_index=0,
            generation_size=size,
            task_name="t|0",
            specific={"id": str(i), "videos": [str(path)]},
        )
        for i, (size, path) in enumerate([(3, good), (5, good), (3, bad), (3, good)])
    ]
    config = VideoVLMConfig(
        model_path=str(model_dir), frame_budget={"num_frames": 2}, batch_size=4, device="cpu", cache_dir=str(tmp_path / "cache")
    )
    model = VideoVLM(config)
    responses = VideoVLM.greedy_until.__wrapped__(model, docs)
    # a batch's rows share one output length, so a size-3 doc batched with the size-5 one would get 5
    lengths = [len(r.output_tokens[0]) if r.output_tokens else None for r in responses]
    assert lengths[2] is None and all(n <= size for n, size in zip(lengths, (3, 5, 3, 3)) if n is not None)
    assert responses[2].text == [""] and model.stats["decode_errors"] == 1 and model.stats["samples"] == 3
