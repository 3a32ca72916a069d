"""Bad input to every subcommand is refused before any work, with exit code 2 and a message naming
the bad value and what is valid: nothing is created, nothing is deleted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synrl_hf.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = ["--configs", "direction", "--per-task", "1", "--resolution", "64", "--splits", "train", "--no-progress"]


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def refused(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """An empty working folder (the issue's `--out ""` built into the current folder)."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "synrl"
    assert main(["build", "--out", str(out), *TINY]) == 0
    return out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", ""], "argument --out: must not be empty"),
        (["--out", "x", "--shard", ""], "argument --shard: must not be empty"),
        (["--out", "x", "--shard", "1/0"], "0 <= i < N"),
        (["--out", "x", "--per-task", "0"], "argument --per-task: must be >= 1, got 0"),
        (["--out", "x", "--per-task", "1000000001"], "sample indices from 10^9 on belong to the training mixtures' videos"),
        (["--out", "x", "--configs", "all", "--per-task", "1000000000"], "shards, at most 100,000 (every shard is a manifest entry"),
        (["--out", "x", "--shard-size", "20000"], "a shard's rows, videos included, are held in memory"),
        (["--out", "x", "--seed", "-1"], "argument --seed: must be >= 0"),
        (["--out", "x", "--resolution", "100000"], "must be <= 16,384 (libx264's largest frame side)"),
        (["--out", "x", "--resolution", "16384", "--num-proc", "64"], "worker(s) needs about 1"),  # 1.7 TB: more than any machine here
        (["--out", "x", "--configs", ","], "expected a comma-separated list"),
        (["--out", "x", "--splits", ""], "argument --splits: must not be empty"),
        (["--out", "x", "--general-size", "-1"], "argument --general-size: must be >= 0"),
        (["--out", "x", "--configs", "sft", "--mixture-size", "0"], "the size of mixture 'sft' must be a whole number between 1"),
        (
            ["--out", "x", "--configs", "sft", "--mixture-size", "sft=x"],
            "argument --mixture-size: mixture size sft='x' is not a whole number",
        ),
        (["--out", "x", "--configs", "sft", "--cot", "model", "--cot-model", "m", "--cot-base-url", "localhost:8000"], "http(s) URL"),
        (["--out", "x", "--cot-timeout", "0"], "argument --cot-timeout: must be in [1, 3600]"),
        (["--out", "x", "--engine", "spark"], "argument --engine: invalid choice: 'spark' (choose from 'local', 'ray')"),
        (["--out", "x", "--ray-address", "auto"], "--ray-address needs --engine ray"),
        (["--out", "x", "--engine", "ray", "--ray-address", "head:0"], "a Ray address is 'auto' or HOST:PORT with a port in 1..65535"),
        (["--out", "x", "--engine", "ray", "--ray-address", "10.0.0.5"], "got '10.0.0.5'"),
        (["--out", "nope://bucket/x"], "argument --out: unknown storage protocol 'nope'"),
        (["--out", "memory://x", "--shard", "0/2"], "--shard writes a slice that `synrl merge` assembles from local folders"),
    ],
)
def test_bad_build_input_is_refused_before_anything_is_written(cwd, capsys, args, message):
    assert message in refused(["build", *args], capsys)
    assert _listing(cwd) == {}


def test_bad_input_into_an_existing_build_deletes_nothing(built, capsys):
    """`--per-task 0` on an existing build used to exit 0 and delete all its shards."""
    before = _listing(built)
    for args in (["--per-task", "0"], ["--per-task", "-3"], ["--shard", ""], ["--resolution", "65"]):
        refused(["build", "--out", str(built), "--configs", "direction", "--resolution", "64", *args], capsys)
    assert _listing(built) == before


def test_a_read_only_output_folder_is_refused_up_front(tmp_path):
    """As root, permissions do not stop writes: a read-only mount does (in a user namespace when available)."""
    out = tmp_path / "ro"
    out.mkdir()
    command = [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(out), *TINY]
    if os.geteuid() != 0:
        out.chmod(0o555)
        proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    else:
        if not shutil.which("unshare"):
            pytest.skip("root without unshare: cannot make a read-only folder")
        mount = f"mount --bind {out} {out} && mount -o remount,bind,ro {out} && exec " + " ".join(map(str, command))
        proc = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        if "unshare:" in proc.stderr or "mount:" in proc.stderr:
            pytest.skip(f"no user namespaces here: {proc.stderr.strip()}")
    assert proc.returncode == 2, proc.stderr
    assert f"{str(out)!r} is read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert list(out.iterdir()) == []


def test_the_matplotlib_renderer_without_matplotlib_names_the_extra(cwd, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # how Python marks a module that cannot be imported
    err = refused(["build", "--out", "out", *TINY, "--renderer", "matplotlib"], capsys)
    assert "the 'matplotlib' renderer needs the [paper-renderer] extra" in err and 'pip install "synrl-hf[paper-renderer]"' in err
    assert _listing(cwd) == {}


def test_eval_without_the_eval_extra_names_it(cwd, capsys, monkeypatch):
    """The README's offline smoke test in the quickstart (gen) install: say which extra to install."""
    monkeypatch.setitem(sys.modules, "lighteval", None)
    err = refused(["eval", "--fixtures", "--model", "oracle", "--tasks", "all", "--output-dir", "smoke"], capsys)
    assert "synrl eval needs the [eval] extra" in err and "missing: lighteval" in err
    assert _listing(cwd) == {}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--frames", "inffps"], "positive frame count (16) or a rate (2fps), got 'inffps'"),
        (["--frames", "nanfps"], "got 'nanfps'"),
        (["--fps", "inf"], "finite"),
        (["--tasks", ""], "argument --tasks: must not be empty"),
        (["--tasks", ","], "no benchmark named in ','"),
        (["--model-name", "../../escape"], "must be a plain name"),
        (["--temperature", "nan"], "finite"),
        (["--device", "gpu"], "expected cpu, cuda, cuda:N or mps"),
        (["--output-dir", ""], "argument --output-dir: must not be empty"),
    ],
)
def test_bad_eval_input_is_refused(cwd, capsys, args, message):
    assert message in refused(["eval", "--model", "oracle", "--output-dir", "runs", *args], capsys)
    assert _listing(cwd) == {}


def test_a_model_path_that_does_not_exist_is_refused_and_nothing_is_created_outside_the_output_dir(cwd, capsys):
    missing = cwd / "x" / "y"
    err = refused(["eval", "--model", str(missing), "--tasks", "synrl", "--output-dir", "runs"], capsys)
    assert f"{str(missing)!r} is neither an existing model folder nor a Hub id" in err
    assert _listing(cwd) == {} and not missing.parent.exists()


def test_push_model_results_errors_name_the_file(tmp_path, capsys):
    from synrl_hf.hub_model import read_results

    checkpoint = tmp_path / "run"
    checkpoint.mkdir()
    for name in ("config.json", "model.safetensors", "processor_config.json", "tokenizer_config.json"):
        (checkpoint / name).write_text("{}")
    err = refused(["push-model", str(checkpoint), "--repo-id", "org/model", "--results", str(tmp_path)], capsys)
    assert f"{str(tmp_path)!r} is a folder, not a file" in err
    for content, words in (
        ("{not json", "is not valid JSON: Expecting property name"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"a": 3}', "'a' must map"),
    ):
        bad = tmp_path / "results.json"
        bad.write_text(content)
        with pytest.raises(ValueError, match=words) as error:
            read_results(bad)
        assert str(bad) in str(error.value)
        assert str(bad) in refused(["push-model", str(checkpoint), "--repo-id", "org/model", "--results", str(bad)], capsys)
    (checkpoint / "synrl_run.json").write_text("{truncated")
    assert f"run record {str(checkpoint / 'synrl_run.json')!r} is not valid JSON" in refused(
        ["push-model", str(checkpoint), "--repo-id", "org/model"], capsys
    )


def test_a_manifest_that_is_not_json_is_named(built, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(built, broken)
    (broken / "synrl_manifest.json").write_text('{"shards": ')
    for argv in (["build", "--out", str(broken), *TINY], ["push", str(broken), "--repo-id", "org/x"], ["audit", str(broken), "--quiet"]):
        err = refused(argv, capsys)
        assert f"manifest {str(broken / 'synrl_manifest.json')!r} is not valid JSON" in err, argv
    assert json.loads((built / "synrl_manifest.json").read_text())["shards"]
