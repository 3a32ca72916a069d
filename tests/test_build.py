"""synrl build → folder → load_dataset, as a user runs it: round trip, cache trap, resume, slices, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from synrl_hf import generate_sample, read_frames
from synrl_hf.build import BuildSpec, build, merge, parse_shard
from synrl_hf.cli import main
from synrl_hf.dataset_dir import MANIFEST

FAMILIES = ("collision_count", "direction")


def _spec(**kw):
    base = dict(families=FAMILIES, per_task=2, seed=0, resolution=128)
    return BuildSpec(**{**base, **kw})


def _shards(out: Path) -> dict[str, float]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in (out / "data").glob("*/*.parquet")}


def test_cli_build_then_load_dataset_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["build", "--out", "synrl", "--configs", "collision_count,direction", "--per-task", "2", "--resolution", "128", "--no-progress"]
        )
        == 0
    )
    ds = load_dataset("synrl", "collision_count", cache_dir=str(tmp_path / "cache"))
    assert {s: len(ds[s]) for s in ds} == {"train": 2, "validation": 2, "test": 2}
    everything = load_dataset(str(tmp_path / "synrl"), "all", cache_dir=str(tmp_path / "cache"))
    assert sorted(set(everything["train"]["task"])) == sorted(FAMILIES)

    row = ds["train"][0]
    fresh = generate_sample(row["task"], row["index"], 0, "train", resolution=128)
    assert row["question"] == fresh["question"] and row["answer"] == fresh["answer"] and row["events"] == fresh["events"]
    assert row["prompt"] == fresh["prompt"]  # Json column round-trips the message list unchanged
    clip = read_frames(row["video"])
    assert clip.frames.shape == (row["num_frames"], 128, 128, 3)
    np.testing.assert_array_equal(clip.frames, read_frames(fresh["video"]).frames)
    # The object is drawn where its track says, in the decoded pixels of the loaded row.
    track, obj = row["tracks"][0], row["objects"][0]
    frame = clip.frames[10].astype(int)
    mask = np.abs(frame - np.array(obj["rgb"])).sum(axis=2) < 90
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - track["x"][10]) < 2.5 and abs(ys.mean() - track["y"][10]) < 2.5


def test_splits_never_share_a_video(tmp_path):
    build(_spec(per_task=4), tmp_path / "synrl", progress=False)
    ds = load_dataset(str(tmp_path / "synrl"), "all", cache_dir=str(tmp_path / "cache"))
    seeds = {split: set(ds[split]["seed"]) for split in ds}
    assert not (seeds["train"] & seeds["validation"]) and not (seeds["train"] & seeds["test"]) and not (seeds["validation"] & seeds["test"])


def test_rebuild_in_same_folder_never_serves_old_rows(tmp_path, monkeypatch):
    """datasets caches a local folder by name + README patterns; our shard names carry a content hash."""
    monkeypatch.chdir(tmp_path)
    cache = str(tmp_path / "cache")
    build(_spec(seed=0), "synrl", progress=False)
    first = load_dataset("synrl", "short_term", cache_dir=cache)["train"]
    build(_spec(seed=1), "synrl", progress=False)
    second = load_dataset("synrl", "short_term", cache_dir=cache)["train"]
    assert set(first["id"]).isdisjoint(second["id"])
    assert all("-s1-" in i for i in second["id"])
    build(_spec(seed=1, per_task=3), "synrl", progress=False)
    third = load_dataset("synrl", "short_term", cache_dir=cache)["train"]
    assert len(third) == 6 and set(second["id"]) < set(third["id"])


def test_resume_regenerates_only_missing_or_damaged_shards(tmp_path):
    out = tmp_path / "synrl"
    spec = _spec(shard_size=1)
    build(spec, out, progress=False)
    before = _shards(out)
    victims = sorted(before)[:2]
    (out / victims[0]).unlink()
    (out / victims[1]).write_bytes((out / victims[1]).read_bytes()[:100])  # a torn write
    build(spec, out, progress=False)
    after = _shards(out)
    assert set(after) == set(before)  # same content → same content-addressed names
    untouched = [p for p in before if p not in victims]
    assert all(after[p] == before[p] for p in untouched)
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["shards"]) == sorted(after) and sum(e["rows"] for e in manifest["shards"].values()) == 12


def test_interrupted_build_resumes_without_duplicates(tmp_path, monkeypatch):
    import synrl_hf.build as build_module

    out = tmp_path / "synrl"
    spec = _spec(shard_size=1)
    real, calls = build_module._generate_row, {"n": 0}

    def dies_after_five(task):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(build_module, "_generate_row", dies_after_five)
    with pytest.raises(KeyboardInterrupt):
        build(spec, out, progress=False)
    assert len(_shards(out)) == 5 and not list(out.rglob("*.tmp"))
    monkeypatch.setattr(build_module, "_generate_row", real)
    build(spec, out, progress=False)
    ds = load_dataset(str(out), "all", cache_dir=str(tmp_path / "cache"))
    ids = [i for split in ds for i in ds[split]["id"]]
    assert len(ids) == len(set(ids)) == 12


def test_two_processes_and_slices_give_the_same_dataset(tmp_path):
    one = build(_spec(), tmp_path / "one", progress=False)
    two = build(_spec(), tmp_path / "two", num_proc=2, progress=False)
    sliced = tmp_path / "sliced"
    for i in range(3):
        build(_spec(), sliced, shard=(i, 3), progress=False)
    assert not (sliced / "README.md").exists()
    merged = merge(sliced)

    def key(m):
        return sorted((e["family"], e["split"], e["start"], e["rows"]) for e in m["shards"].values())

    assert key(one) == key(two) == key(merged)
    a = load_dataset(str(tmp_path / "one"), "all", cache_dir=str(tmp_path / "c1"))["test"]
    b = load_dataset(str(tmp_path / "two"), "all", cache_dir=str(tmp_path / "c2"))["test"]
    c = load_dataset(str(sliced), "all", cache_dir=str(tmp_path / "c3"))["test"]
    for rows in (b, c):
        assert sorted(rows["id"]) == sorted(a["id"])
    by_id = {r["id"]: r for r in b}
    for row in a:
        np.testing.assert_array_equal(read_frames(row["video"]).frames, read_frames(by_id[row["id"]]["video"]).frames)


def test_card_declares_configs_and_unknown_config_lists_valid_ones(tmp_path):
    build(_spec(), tmp_path / "synrl", progress=False)
    card = (tmp_path / "synrl" / "README.md").read_text()
    for name in ("config_name: all", "config_name: short_term", "config_name: direction", "## Example questions"):
        assert name in card
    from PIL import Image

    for family in FAMILIES:  # a strip per family (tests/test_card_previews.py: what it shows), linked from the card
        assert f"previews/{family}.png" in card
        width, height = Image.open(tmp_path / "synrl" / "previews" / f"{family}.png").size
        assert width % 160 == 0 and 3 * 160 <= width <= 8 * 160 and height == 160 + 22
    assert "## Generator changes" in card and "(this build)" in card
    with pytest.raises(ValueError, match="short_term"):
        load_dataset(str(tmp_path / "synrl"), "nope", cache_dir=str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--configs", "short_term,bogus"], "unknown config 'bogus'; valid configs: all, short_term"),
        (["--resolution", "129"], "odd"),
        (["--resolution", "32"], "must be >= 64"),
        (["--per-task", "-1"], "must be >= 1"),
        (["--shard", "3/2"], "0 <= i < N"),
        (["--preset", "round9"], "unknown preset 'round9'; valid presets: round1, round2, or level<k>"),
        (["--renderer", "povray"], "choose from 'pillow', 'matplotlib'"),
        (["--splits", "train,dev"], "unknown split 'dev'; valid splits: train, validation, test"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "synrl"
    proc = subprocess.run(
        [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(out), "--per-task", "1", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not out.exists()


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "synrl"
    target.write_text("keep me")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--out", str(target), "--configs", "direction", "--per-task", "1"])
    assert exit_info.value.code == 2
    assert target.read_text() == "keep me"


def test_parse_shard():
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "-1/2", "a/b", "1"):
        with pytest.raises(ValueError):
            parse_shard(bad)


TINY = ["--configs", "direction", "--per-task", "2", "--resolution", "64", "--splits", "train", "--shard-size", "1", "--no-progress"]


def test_merge_refuses_incomplete_or_inconsistent_slice_sets(tmp_path, capsys):
    def refused(*args) -> str:
        with pytest.raises(SystemExit) as exit_info:
            main(["merge", *map(str, args)])
        assert exit_info.value.code == 2
        return capsys.readouterr().err

    first = tmp_path / "first"
    assert main(["build", "--out", str(first), *TINY, "--shard", "0/2"]) == 0
    assert "slice(s) 1/2 are missing" in refused(first) and "--allow-partial" in refused(first)
    assert not (first / MANIFEST).exists() and not (first / "README.md").exists()  # nothing merged, nothing written

    other_seed, other_size = tmp_path / "seed1", tmp_path / "res128"
    assert main(["build", "--out", str(other_seed), *TINY, "--seed", "1", "--shard", "1/2"]) == 0
    assert main(["build", "--out", str(other_size), *TINY, "--resolution", "128", "--shard", "1/2"]) == 0
    assert "seed: 0 in slice 0/2 vs 1 in slice 1/2" in refused(first, other_seed)
    assert "resolution: 64 in slice 0/2 vs 128 in slice 1/2" in refused(first, other_size)
    thirds = tmp_path / "thirds"
    assert main(["build", "--out", str(thirds), *TINY, "--shard", "1/3"]) == 0
    assert "different splits of a build" in refused(first, thirds)

    # A slice whose build was killed part-way: its manifest exists but it did not finish.
    longer = [*TINY, "--per-task", "30"]
    done, killed = tmp_path / "done", tmp_path / "killed"
    assert main(["build", "--out", str(done), *longer, "--shard", "0/2"]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "synrl_hf.cli", "build", "--out", str(killed), *longer, "--shard", "1/2"],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    partial = killed / "synrl_manifest.shard-1-of-2.json"
    while proc.poll() is None and not partial.exists():
        time.sleep(0.01)
    proc.kill()
    assert proc.wait() != 0, "the slice finished before it could be killed"
    assert f"slice(s) 1/2 in {killed} did not finish" in refused(done, killed)

    # --allow-partial merges what is there and the card says what is missing.
    assert main(["merge", str(first), "--allow-partial"]) == 0
    card = (first / "README.md").read_text()
    assert "**Incomplete build**" in card and "missing slice(s) 1/2" in card
    assert json.loads((first / MANIFEST).read_text())["incomplete"] == {"missing_slices": ["1/2"], "unfinished_slices": []}

    # The complete, consistent set merges, and the card says nothing about gaps.
    complete = tmp_path / "complete"
    for i in range(2):
        assert main(["build", "--out", str(complete), *TINY, "--shard", f"{i}/2"]) == 0
    assert main(["merge", str(complete)]) == 0
    assert "Incomplete" not in (complete / "README.md").read_text()
    assert load_dataset(str(complete), "direction", cache_dir=str(tmp_path / "cache"))["train"].num_rows == 2
