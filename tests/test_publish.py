"""synrl push against an in-process Hub: upload, load the captured files back, compare rows."""

from __future__ import annotations

import pytest
from datasets import load_dataset

from synrl_hf.build import BuildSpec, build
from synrl_hf.cli import main
from synrl_hf.publish import push_dataset
from tests.fake_hub import fake_hub

TOKEN = "hf_abcdefghijklmnopqrstuvwxyz123456"


@pytest.fixture
def built(tmp_path):
    out = tmp_path / "synrl"
    build(BuildSpec(families=("direction", "collision_count"), per_task=2, resolution=128), out, progress=False)
    return out


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", TOKEN)


def test_push_round_trip_loads_the_same_rows(built, tmp_path, online):
    with fake_hub() as hub:
        url = push_dataset(built, "org/synrl", private=True)
    assert "org/synrl" in url and hub.private["org/synrl"] is True
    files = hub.repos["org/synrl"]
    assert "README.md" in files and "synrl_manifest.json" in files and sum(p.endswith(".parquet") for p in files) == 6
    clone = hub.materialise("org/synrl", tmp_path / "clone")
    local = load_dataset(str(built), "all", cache_dir=str(tmp_path / "c1"))
    remote = load_dataset(str(clone), "all", cache_dir=str(tmp_path / "c2"))
    for split in local:
        assert local[split]["id"] == remote[split]["id"]
        assert [v["bytes"] for v in local[split]["video"]] == [v["bytes"] for v in remote[split]["video"]]


def test_repush_of_a_rebuild_removes_stale_shards(built, online):
    with fake_hub() as hub:
        push_dataset(built, "org/synrl")
        old = {p for p in hub.repos["org/synrl"] if p.endswith(".parquet")}
        build(BuildSpec(families=("direction", "collision_count"), per_task=2, seed=9, resolution=128), built, progress=False)
        push_dataset(built, "org/synrl")
        new = {p for p in hub.repos["org/synrl"] if p.endswith(".parquet")}
    assert len(new) == 6 and not (old & new)


def test_failed_upload_leaves_folder_untouched_and_hides_token(built, online, capsys):
    before = {p: p.read_bytes() for p in built.rglob("*") if p.is_file()}
    with fake_hub(fail_commits=True):
        code = main(["push", str(built), "--repo-id", "org/synrl"])
    out = capsys.readouterr()
    assert code == 1 and "failed" in out.out and TOKEN not in out.out + out.err
    assert {p: p.read_bytes() for p in built.rglob("*") if p.is_file()} == before


def test_push_refuses_a_damaged_build_before_uploading(built, online):
    shard = next(built.glob("data/*/*.parquet"))
    shard.write_bytes(b"broken")
    with fake_hub() as hub, pytest.raises(ValueError, match="damaged"):
        push_dataset(built, "org/synrl")
    assert not hub.requests


def test_push_needs_a_build(tmp_path, online):
    with pytest.raises(ValueError, match="not a finished synrl build"):
        push_dataset(tmp_path, "org/synrl")
