"""What ``pip install`` puts into site-packages: the wheel, built offline from this checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from synrl_hf.evaluation.benchmarks import get_benchmark

ROOT = Path(__file__).resolve().parent.parent

# Build outputs and local state at the checkout's root: not sources, and large or racy to copy.
_NOT_SOURCES = {".git", ".venv", "build", "dist", ".pytest_cache", ".hypothesis", ".ruff_cache", "synrl", "artifacts", "eval_data", "runs"}


def _root_only_ignore(folder: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder).resolve() == ROOT:
        ignored |= _NOT_SOURCES & set(names)
    return ignored


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the checkout (building in place would write build/ into the tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_root_only_ignore)
    out = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("synrl_hf-*.whl")
    return path


def test_the_wheel_installs_only_synrl_hf(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    # Anything else (a top-level `evaluation` package, a stray module) would collide with other distributions.
    assert top_level == {"synrl_hf"}
    assert "synrl_hf/evaluation/tasks.py" in names
    assert "synrl_hf/answers.py" in names


def test_the_installed_custom_tasks_file_loads_in_lighteval(wheel, tmp_path):
    """``lighteval --custom-tasks <site-packages>/synrl_hf/evaluation/tasks.py``, from the unpacked wheel."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    bench = get_benchmark("aotbench")
    source, videos = bench.write_fixture(tmp_path / "raw")
    bench.convert(source, videos, tmp_path / "data" / "aotbench")
    script = f"""
import importlib.util, json, sys
from lighteval.tasks.registry import Registry
module = Registry.create_custom_tasks_module({str(site / "synrl_hf" / "evaluation" / "tasks.py")!r})
import synrl_hf
print(json.dumps({{
    "tasks": [c.name for c in module.TASKS_TABLE],
    "synrl_hf": synrl_hf.__file__,
    "evaluation_importable": importlib.util.find_spec("evaluation") is not None,
}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"SYNRL_EVAL_DATA": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tasks"] == ["aotbench"]
    # The tasks file made the unpacked package importable, and only as synrl_hf.
    assert Path(result["synrl_hf"]).resolve().is_relative_to(site.resolve())
    assert result["evaluation_importable"] is False
