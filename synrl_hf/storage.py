"""Where a dataset folder lives: a local folder, or any store an fsspec URL reaches (``s3://``, ``gs://``,
``hf://datasets/org/name``, ``memory://``, …).

:func:`open_folder` gives a :class:`pathlib.Path` for a local folder (``file://`` URLs included) and an
:class:`FsspecPath` otherwise. An ``FsspecPath`` has the few ``Path`` methods the dataset folder's
readers and writers use (``/``, ``exists``, ``is_file``, ``stat().st_size``, ``open``, ``read_bytes``,
``glob``, ``unlink``, ``relative_to``), so :mod:`synrl_hf.dataset_dir`, :mod:`synrl_hf.card` and
:mod:`synrl_hf.build` write either kind of folder with the same code.

What a killed writer can leave, per store (:func:`write_guarantee` says it to the user):

- local folders (and NFS): every file is written under a temporary name and renamed into place
  (:mod:`synrl_hf.files`), and the folder's lock keeps a second writer out (:mod:`synrl_hf.folder_lock`);
- object stores (S3, GCS, Azure, the Hub, memory): there is no rename (fsspec's ``mv`` there is a
  copy then a delete), so every file is uploaded whole in one put under its final name; these stores
  publish an object only once its upload completed, so a reader never sees half a file. There is no
  lock either: one writer per URL;
- other fsspec stores (SFTP, FTP, WebDAV, …) may show a file while it is being written. Every store:
  the manifest, re-written after each shard, is the commit point. A shard it does not list (or whose
  sha256 differs) is never used: a re-run rebuilds it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any, BinaryIO

__all__ = ["ATOMIC_PUT", "FsspecPath", "is_url", "open_folder", "write_guarantee"]

_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_LOCAL = ("file", "local")
# Stores whose put makes a whole object visible at once (and never a partial one).
ATOMIC_PUT = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "hf", "memory", "oci", "oss")


def is_url(text: str | os.PathLike) -> bool:
    """``scheme://…`` (a local path never is one)."""
    return isinstance(text, str) and _URL.match(text) is not None


class FsspecPath:
    """A path inside an fsspec file system, with the subset of :class:`pathlib.Path` a dataset folder needs.

    Deliberately not ``os.PathLike``: code that would hand it to ``open()`` or ``os.replace`` fails
    loudly instead of writing a local file named like the URL.
    """

    def __init__(self, fs: Any, path: str, protocol: str):
        self.fs, self.path, self.protocol = fs, path.rstrip("/") or "/", protocol

    # -- names ---------------------------------------------------------------------------------
    def __truediv__(self, other: str | os.PathLike) -> FsspecPath:
        return FsspecPath(self.fs, f"{self.path}/{os.fspath(other)}".replace("//", "/"), self.protocol)

    def __str__(self) -> str:
        return self.fs.unstrip_protocol(self.path)

    def __repr__(self) -> str:
        return f"FsspecPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FsspecPath) and (self.protocol, self.path) == (other.protocol, other.path)

    def __hash__(self) -> int:
        return hash((self.protocol, self.path))

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def parent(self) -> FsspecPath:
        return FsspecPath(self.fs, str(PurePosixPath(self.path).parent), self.protocol)

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix

    def relative_to(self, other: FsspecPath) -> PurePosixPath:
        return PurePosixPath(self.path).relative_to(other.path)

    def resolve(self) -> FsspecPath:
        return self

    # -- reading ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.fs.exists(self.path)

    def is_file(self) -> bool:
        return self.fs.isfile(self.path)

    def is_dir(self) -> bool:
        return self.fs.isdir(self.path)

    def stat(self) -> SimpleNamespace:
        return SimpleNamespace(st_size=self.fs.size(self.path))

    def open(self, mode: str = "rb") -> BinaryIO:
        if mode != "rb":
            raise ValueError(f"{self} is opened for reading only (writes go through write_bytes: one whole put), got mode {mode!r}")
        return self.fs.open(self.path, "rb")

    def read_bytes(self) -> bytes:
        return self.fs.cat_file(self.path)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def glob(self, pattern: str) -> Iterator[FsspecPath]:
        """Files and folders matching ``pattern`` (``*`` within one name, as pathlib's)."""
        found = self.fs.glob(f"{self.path}/{pattern}")
        for path in sorted(found):
            relative = PurePosixPath("/" + path.lstrip("/")).relative_to("/" + self.path.lstrip("/"))
            if fnmatch.fnmatchcase(relative.as_posix(), pattern):
                yield self / relative.as_posix()

    # -- writing ---------------------------------------------------------------------------------
    def write_bytes(self, data: bytes | memoryview) -> None:
        """The whole file in one put (no temporary name: see the module's notes)."""
        self.fs.pipe_file(self.path, bytes(data))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        self.fs.makedirs(self.path, exist_ok=True)  # object stores have no folders: a no-op there

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.rm_file(self.path)
        except FileNotFoundError:
            if not missing_ok:
                raise


def open_folder(where: str | os.PathLike) -> Path | FsspecPath:
    """The dataset folder ``where`` names: a ``Path`` for a local folder or ``file://`` URL, an
    :class:`FsspecPath` for any other fsspec URL. Raises ValueError for an unknown protocol, or one
    whose fsspec implementation is not installed (naming the package), before anything is written."""
    if not is_url(where):
        return Path(where)
    protocol = _URL.match(where)[1].lower()
    if protocol in _LOCAL:
        return Path(where.split("://", 1)[1])
    import fsspec
    from fsspec.registry import known_implementations

    if protocol not in known_implementations and protocol not in fsspec.registry:
        raise ValueError(
            f"unknown storage protocol {protocol!r} in {where!r}; use a local folder or an fsspec URL "
            f"(s3://, gs://, az://, hf://datasets/org/name, memory://, …; fsspec knows {', '.join(sorted(known_implementations)[:40])}, …)"
        )
    try:
        fs, path = fsspec.core.url_to_fs(where)
    except ImportError as error:
        raise ValueError(f"cannot write to {where!r}: {error}") from None
    if not path.strip("/"):
        raise ValueError(f"{where!r} names the root of a store; name a folder in it, e.g. {protocol}://bucket/synrl")
    return FsspecPath(fs, path, protocol)


def write_guarantee(folder: Path | FsspecPath) -> str | None:
    """What a killed writer can leave in ``folder``, for stores that differ from a local folder (None there)."""
    if isinstance(folder, Path):
        return None
    common = (
        "the manifest, re-written after each shard, is the commit point (a re-run rebuilds any shard it does not list); "
        f"there is no folder lock on {folder.protocol}://, so run one writer per URL"
    )
    if folder.protocol in ATOMIC_PUT:
        return f"writing to {folder}: no rename on this store (it would be a copy and a delete), so each file is uploaded whole under its final name; {common}"
    return (
        f"writing to {folder}: this store has neither an atomic rename nor an atomic upload, so a killed build can leave a partial "
        f"file under its final name; {common}; for a crash-safe build write to a local folder or an object store and copy it"
    )
