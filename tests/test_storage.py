"""Builds written through fsspec (synrl_hf.storage): an object store (fsspec's in-memory one) gets the
local build's bytes, resumes the same way, says what it guarantees; file:// URLs are local folders."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest
from datasets import load_dataset

from synrl_hf.build import BuildSpec, build
from synrl_hf.storage import FsspecPath, open_folder, write_guarantee

SPEC = BuildSpec(families=("direction", "card_stack"), per_task=2, resolution=64, splits=("train", "test"), shard_size=1)


@pytest.fixture(scope="module")
def local_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "synrl"
    build(SPEC, out, progress=False)
    return out


@pytest.fixture
def memory_url():
    """A fresh folder in fsspec's in-memory store (shared by every MemoryFileSystem of this process)."""
    url = f"memory://synrl-{uuid.uuid4().hex}"
    yield url
    fsspec.filesystem("memory").rm(url.split("://")[1], recursive=True)


def _store_files(url: str) -> dict[str, bytes]:
    fs, root = fsspec.core.url_to_fs(url)
    return {path[len(root) :].lstrip("/"): fs.cat_file(path) for path in fs.find(root)}


def _local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_in_an_object_store_has_the_local_builds_bytes_and_loads(local_build, memory_url, tmp_path, capsys):
    manifest = build(SPEC, memory_url, progress=False)
    assert _store_files(memory_url) == _local_files(local_build)  # shards, manifest, card, previews
    assert manifest == build(SPEC, local_build, progress=False)
    err = capsys.readouterr().err
    assert "no rename on this store" in err and "the manifest, re-written after each shard, is the commit point" in err
    assert "no folder lock on memory://" in err
    # The store's copy is a complete dataset: load_dataset reads it (here from a local copy of it).
    fs, root = fsspec.core.url_to_fs(memory_url)
    fs.get(root, str(tmp_path / "copy"), recursive=True)
    ds = load_dataset(str(tmp_path / "copy"), "all", cache_dir=str(tmp_path / "cache"))
    assert {split: len(ds[split]) for split in ds} == {"train": 4, "test": 4}
    assert len(set(ds["train"]["id"])) == 4


def test_an_object_store_build_resumes_like_a_local_one(local_build, memory_url):
    build(SPEC, memory_url, progress=False)
    fs, root = fsspec.core.url_to_fs(memory_url)
    shards = sorted(p for p in fs.find(f"{root}/data"))
    removed, torn, kept = shards[0], shards[1], shards[2:]
    fs.rm_file(removed)
    fs.pipe_file(torn, fs.cat_file(torn)[:100])  # what a store without atomic uploads can show after a crash
    stray = f"{root}/data/direction/train-000000-000001-0123456789.parquet"
    fs.pipe_file(stray, b"a shard no manifest lists")
    written = {path: fs.info(path)["created"] for path in kept}
    build(SPEC, memory_url, progress=False)
    assert _store_files(memory_url) == _local_files(local_build)  # both rebuilt, the stray file pruned
    assert {path: fs.info(path)["created"] for path in kept} == written  # the intact shards were not written again


def test_a_file_url_is_a_local_folder(local_build, tmp_path):
    url = f"file://{tmp_path}/synrl"
    assert open_folder(url) == tmp_path / "synrl"
    build(SPEC, url, progress=False)
    assert _local_files(tmp_path / "synrl") == _local_files(local_build)


def test_each_store_kind_says_what_a_killed_writer_can_leave(tmp_path):
    assert write_guarantee(open_folder(tmp_path)) is None  # local: temp name then rename, and the folder lock
    memory = fsspec.filesystem("memory")
    assert "uploaded whole under its final name" in write_guarantee(FsspecPath(memory, "/x", "s3"))
    no_atomic_upload = write_guarantee(FsspecPath(memory, "/x", "sftp"))
    assert "can leave a partial file under its final name" in no_atomic_upload and "run one writer per URL" in no_atomic_upload


@pytest.mark.parametrize(
    "url, message",
    [
        ("nope://bucket/synrl", "unknown storage protocol 'nope'"),
        ("dropbox://synrl", "cannot write to 'dropbox://synrl'"),  # its fsspec implementation is not installed
        ("memory://", "names the root of a store"),
    ],
)
def test_a_url_that_cannot_be_written_is_refused_by_name(url, message):
    with pytest.raises(ValueError, match=message):
        open_folder(url)
