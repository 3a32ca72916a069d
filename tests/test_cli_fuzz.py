"""Every ``synrl`` subcommand under random and adversarial values (hypothesis, derandomized so CI runs
the same examples): the exit code is 0 or 2 (1 only where a command reports a result that way: an
audit check that fails, an upload that fails offline), never a traceback; nothing is written,
changed or deleted outside the command's output folder; on exit 2 nothing at all changes.

Each example runs ``synrl_hf.cli.main`` in a fresh copy of a small workspace (a one-clip build, a
complete slice set, a file, a checkpoint-shaped folder, results files) as the working folder, and
compares the listing of the folder above it before and after. Valid values are kept cheap (one
clip at 64 px; an evaluation or a model upload always gets at least one bad value).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synrl_hf.cli import main

# Relative names only: an absolute path would let a valid draw write outside the test's folders (as root, anywhere).
PATH_TEXT = st.text(alphabet="abcxyz019._- ,é🎥", min_size=0, max_size=12)
RANDOM_TEXT = st.one_of(
    st.text(max_size=16).filter(lambda t: not t.startswith(("/", "~"))),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", ",", ",,", "-1", "0", "nan", "inf", "-inf", "1e999", "9" * 400, "\x00", "🎥", "a" * 300, "-h"]),
)
BAD_PATHS = ["", " ", " out", "\x00x", "afile.txt", "afile.txt/sub"]

# Per command: (option, values that are valid and cheap, values that are always refused, draw random text too).
# A positional is named by its metavar in angle brackets.
BUILD = [
    ("--out", ["out", "built", "../sibling"], BAD_PATHS, False),
    ("--configs", ["direction", "card_stack", "sft,grpo"], ["", ",", "bogus", "direction,bogus"], True),
    ("--per-task", ["1"], ["0", "-1", "x", "", "1000000001", "1e3", "nan"], False),
    ("--seed", ["0", "1", "12345678901234567"], ["-1", "x", str(2**63), ""], True),
    ("--num-proc", ["1"], ["0", "-2", "x"], False),
    ("--engine", ["local"], ["spark", ""], True),
    ("--ray-address", [], ["", "auto ", "nohost", "head:0", "head:99999", "a b:1"], True),  # a valid one needs --engine ray and a cluster
    ("--resolution", ["64"], ["63", "65", "0", "100000", "abc", ""], False),
    ("--preset", ["round1", "round2", "level2"], ["round9", "", "level-1", "level99"], True),
    ("--renderer", ["pillow"], ["povray", ""], True),
    ("--splits", ["test", "test,test"], ["", ",", "dev"], True),
    ("--shard", ["0/2", "1/2", "0/1"], ["", "2/2", "-1/2", "1/0", "a/b", "1"], True),
    ("--shard-size", ["1", "200"], ["0", "20000", "x"], False),
    ("--mixture-size", ["1", "2"], ["-1", "x", "sft=-1", "bogus=1", ""], False),
    ("--mixture-families", ["direction"], ["", ",", "bogus"], True),
    ("--general-size", ["0", "5"], ["-1", "nan", "inf", "x", "1e99"], True),
    ("--general-qa", [], ["", "missing-folder", "afile.txt"], False),
    ("--cot", ["template"], ["llm", ""], True),
    ("--cot-base-url", ["http://127.0.0.1:9/v1"], ["localhost:8000", "", "ftp://x"], True),
    ("--cot-timeout", ["30"], ["0", "nan", "inf", "-1", "5000"], True),
    ("--cot-concurrency", ["2"], ["0", "1000"], False),
    ("--cot-frames", ["4"], ["0", "1000"], False),
    ("--cot-max-rounds", ["2"], ["0", "21"], False),
    ("--cot-api-key", ["secret-value-123"], [""], True),
]
MERGE = [
    ("<out>", ["slices", "built", "fresh"], BAD_PATHS, False),
    ("<source>", ["slices"], ["", "missing", "afile.txt"], False),
]
AUDIT = [
    ("<folder>", ["built"], ["", "missing", "afile.txt", "ckpt"], False),
    ("--config", ["all", "direction"], ["", "nope"], True),
    ("--split", ["test"], ["dev", ""], True),
    ("--limit", ["1"], ["0", "-1", "x"], False),
    ("--determinism", ["0", "1"], ["-1", "x"], False),
    ("--checks", ["balance", "determinism,balance"], ["", ",", "vibes"], True),
]
PUSH = [
    ("<folder>", ["built"], ["", "missing", "afile.txt"], False),
    ("--repo-id", ["org/synrl"], ["", "noslash", "a/b/c", "../x", "org/"], True),
    ("--revision", ["main"], [""], True),
]
EVAL = [
    ("--model", ["oracle", "ckpt", "org/model"], ["", "/x/y", "../up/model", "afile.txt", " oracle"], True),
    ("--tasks", ["synrl", "grounding,general"], ["", ",", "nope"], True),
    ("--frames", ["16", "2fps"], ["0", "inffps", "nanfps", "2fpx", "-3", ""], True),
    ("--fps", ["2"], ["0", "nan", "inf", "-1", "x"], True),
    ("--max-frames", ["8"], ["0", "-1", "x"], True),
    ("--max-pixels", ["50176"], ["0", "x"], True),
    ("--output-dir", ["runs"], BAD_PATHS, False),
    ("--batch-size", ["1"], ["0", "5000"], True),
    ("--temperature", ["0", "0.7"], ["nan", "-1", "11"], True),
    ("--dtype", ["auto", "float32"], ["int8"], True),
    ("--device", ["cpu", "cuda:1"], ["gpu", "cuda:x"], True),
    ("--model-name", ["mine@16f"], ["../x", "a/b", ""], True),
    ("--bootstrap-iters", ["0", "100"], ["-1", "x"], True),
    ("--max-samples", ["1"], ["0"], True),
    ("--max-new-tokens", ["8"], ["0"], True),
]
EVAL_CONVERT = [
    ("<benchmark>", ["videomme"], ["nope", ""], True),
    ("--source", ["afile.txt"], ["", "missing/path"], False),
    ("--data-dir", ["converted"], BAD_PATHS, False),
]
PUSH_MODEL = [
    ("<checkpoint>", ["ckpt"], ["", "missing", "afile.txt"], False),
    ("--repo-id", ["org/model"], ["", "noslash", "a/b/c"], True),
    ("--results", ["results.json"], ["", "missing.json", ".", "bad.json"], False),
    ("--revision", ["main"], [""], True),
]

# command: (options, arguments every example starts from, options a valid run must keep, must one value be bad)
COMMANDS = {
    # --mixture-size 1: a valid "--configs sft,grpo" must not build the paper's 6,700 + 7,000 rows.
    "build": (
        BUILD,
        {"--out": "out", "--configs": "direction", "--per-task": "1", "--mixture-size": "1", "--resolution": "64", "--splits": "test"},
        True,
    ),
    "merge": (MERGE, {"<out>": "slices"}, False),
    "audit": (AUDIT, {"<folder>": "built"}, False),
    "push": (PUSH, {"<folder>": "built", "--repo-id": "org/synrl"}, False),
    "eval": (EVAL, {"--model": "oracle", "--output-dir": "runs", "--tasks": "synrl"}, True),
    "eval-convert": (EVAL_CONVERT, {"<benchmark>": "videomme", "--source": "afile.txt"}, True),
    "push-model": (PUSH_MODEL, {"<checkpoint>": "ckpt", "--repo-id": "org/model"}, True),
}
# Which of a command's values is the folder it may write into.
OUTPUT = {"build": "--out", "merge": "<out>", "audit": "<folder>", "push": "<folder>", "eval": "--output-dir", "eval-convert": "--data-dir"}
# Exit 1 is a result for these commands (with these words); for every other command only 0 or 2.
RESULT_FAILURES = {"audit": "audit FAILED", "push": "failed"}
# Commands whose valid runs are too slow or need the network: every example gets at least one always-refused value.
NEEDS_A_BAD_VALUE = {"eval", "eval-convert", "push-model"}


@st.composite
def invocations(draw, command: str):
    options, base, _ = COMMANDS[command]
    values = dict(base)
    chosen = draw(st.lists(st.sampled_from(options), max_size=4, unique_by=lambda o: o[0]))
    forced_bad = draw(st.sampled_from(options)) if command in NEEDS_A_BAD_VALUE else None
    bad = False
    for option in chosen + ([forced_bad] if forced_bad else []):
        name, valid, refused, random_ok = option
        kinds = ["refused"] + (["valid"] if valid else []) + (["random"] if random_ok else [])
        kind = "refused" if option is forced_bad else draw(st.sampled_from(kinds))
        if kind == "valid":
            values[name] = draw(st.sampled_from(valid))
        elif kind == "refused":
            values[name] = draw(st.sampled_from(refused))
            bad = True
        else:
            values[name] = draw(RANDOM_TEXT if name not in ("--out", "<out>", "--output-dir") else PATH_TEXT)
    flags = draw(st.lists(st.sampled_from(_FLAGS[command]), max_size=2, unique=True)) if _FLAGS[command] else []
    argv = [command, *flags]
    for name, value in values.items():
        if not name.startswith("<"):  # --name=-1: a value that starts with a dash is still the option's value
            argv += [f"{name}={value}"] if value.startswith("-") else [name, value]
    positionals = [value for name, value in values.items() if name.startswith("<")]
    return argv + (["--", *positionals] if positionals else []), values, bad  # after "--", a positional "-h" is a name


_FLAGS = {
    "build": ["--no-progress", "--cot-judge", "--cot-no-polish"],
    "merge": ["--allow-partial"],
    "audit": ["--json", "--no-card", "--quiet"],
    "push": ["--private"],
    "eval": ["--fixtures"],
    "eval-convert": [],
    "push-model": ["--private", "--create-pr"],
}


def _listing(root: Path) -> dict[str, tuple]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        out[rel] = ("dir",) if path.is_dir() else (path.stat().st_size, path.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The workspace every example starts from (copied, never changed)."""
    root = tmp_path_factory.mktemp("fuzz-template")
    tiny = ["--configs", "direction", "--per-task", "1", "--resolution", "64", "--splits", "test", "--no-progress"]
    assert main(["build", "--out", str(root / "built"), *tiny]) == 0
    for i in range(2):
        assert main(["build", "--out", str(root / "slices"), *tiny, "--shard", f"{i}/2"]) == 0
    (root / "afile.txt").write_text("a file where a folder is expected\n")
    (root / "ckpt").mkdir()
    for name in ("config.json", "model.safetensors", "processor_config.json", "tokenizer_config.json"):
        (root / "ckpt" / name).write_text("{}")
    (root / "results.json").write_text('{"synrl_bench": {"acc": 1.0}}')
    (root / "bad.json").write_text('{"synrl_bench": ')
    return root


def run(template: Path, scratch: Path, command: str, example) -> None:
    argv, values, bad = example
    root = scratch / "root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root / "work")
    before = _listing(root)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(root / "work")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    finally:
        os.chdir(cwd)
    printed = out.getvalue() + err.getvalue()
    assert "Traceback" not in printed, (argv, printed[-3000:])
    allowed = {0, 2} | ({1} if command in RESULT_FAILURES else set())
    assert code in allowed, (argv, code, printed[-2000:])
    if code == 1:
        assert RESULT_FAILURES[command] in printed, (argv, printed[-2000:])
    if bad:
        assert code == 2, (argv, code, printed[-2000:])
    after = _listing(root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    if code == 2:
        assert not changed, (argv, sorted(changed)[:10], printed[-2000:])
        return
    target = values.get(OUTPUT.get(command, ""), None)
    inside = os.path.normpath(os.path.join("work", target)) if target else None
    escaped = [p for p in changed if not inside or not (p == inside or p.startswith(inside.rstrip("/") + "/"))]
    escaped = [p for p in escaped if not (inside and inside.startswith(p + "/"))]  # the output folder's new parents
    assert not escaped, (argv, escaped[:10])
    deleted = [p for p in before if p not in after]
    assert all(inside and p.startswith(inside + "/") for p in deleted), (argv, deleted[:10])


FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(
    "command, examples",
    [("build", 40), ("merge", 15), ("audit", 15), ("push", 12), ("eval", 25), ("eval-convert", 12), ("push-model", 15)],
)
def test_every_subcommand_survives_random_and_adversarial_values(template, tmp_path, command, examples):
    @settings(FUZZ, max_examples=examples)
    @given(example=invocations(command))
    def check(example):
        run(template, tmp_path, command, example)

    check()
