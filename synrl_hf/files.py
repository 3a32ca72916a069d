"""Reading and writing files so that failures are clear and nothing is left half-written.

- :func:`read_json`: a JSON file whose read or parse error names the file.
- :func:`temp_file` / :func:`atomic_write_bytes`: write under a temporary sibling name, then rename.
  The temporary file is created by an ordinary ``open`` (or by the library writing it), so the
  finished file gets the permissions the umask gives (``mkstemp`` would make it 0600: unreadable
  by the rest of a cluster group). A full disk or quota raises :class:`OutOfSpace`, naming the file.
- :func:`remove_temp_files`: temporary files a killed writer left behind. Only call it where no
  other writer can be at work (under the folder lock, :mod:`synrl_hf.folder_lock`).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["TEMP_SUFFIX", "OutOfSpace", "atomic_write_bytes", "check_writable_folder", "read_json", "remove_temp_files", "temp_file"]

TEMP_SUFFIX = ".synrl-tmp"
# Before temporary names had one suffix, shards were written as ``.shard.<random>.parquet.tmp``.
_LEGACY_TEMP = ".shard.*.parquet.tmp"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class OutOfSpace(RuntimeError):
    """The disk (or the quota) holding a file being written is full."""


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """The parsed content of ``path`` (a local path, or a file behind a URL: :mod:`synrl_hf.storage`); any
    failure raises ValueError naming the file and the reason."""
    path = Path(path) if isinstance(path, (str, os.PathLike)) else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{what} {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{what} {str(path)!r} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{what} {str(path)!r} is not UTF-8 text") from None
    except OSError as error:
        raise ValueError(f"{what} {str(path)!r} cannot be read: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} {str(path)!r} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise ValueError(f"{what} {str(path)!r} is nested too deeply to read") from None


def _writable(folder: str) -> bool:
    """Writable by this process: permissions (which root passes) and a file system mounted read-write."""
    return os.access(folder, os.W_OK | os.X_OK) and not os.statvfs(folder).f_flag & os.ST_RDONLY


def check_writable_folder(path: str | os.PathLike) -> Path:
    """``path`` if it is a writable folder or can be created as one; a ValueError saying why not otherwise."""
    text = os.fspath(path)
    if not text.strip():
        raise ValueError(f"an output folder must be named, got {text!r}")
    if os.path.exists(text):
        if not os.path.isdir(text):
            raise ValueError(f"{text!r} exists and is not a folder")
        if not _writable(text):
            raise ValueError(f"{text!r} is read-only; choose a folder you can write to")
        return Path(text)
    parent = os.path.dirname(os.path.abspath(text))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not _writable(parent):
        raise ValueError(f"cannot create {text!r}: {parent!r} is not a writable folder")
    return Path(text)


def _is_out_of_space(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in _NO_SPACE:
        return True
    # pyarrow reports the C library's error in its message, without an errno.
    return isinstance(error, OSError) and any(os.strerror(code) in str(error) for code in _NO_SPACE)


@contextmanager
def temp_file(target: Path) -> Iterator[Path]:
    """A fresh temporary path next to ``target`` for the caller to create, fill and rename.

    Whatever is left at that path when the block ends (a failure, or the caller kept it) is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    try:
        yield tmp
    except OSError as error:
        if _is_out_of_space(error):
            raise OutOfSpace(f"no space left on the device holding {target.parent} while writing {target.name}") from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``.

    A file behind a URL (:class:`synrl_hf.storage.FsspecPath`, not ``os.PathLike``) is written in one
    whole put instead: object stores have no rename (see :mod:`synrl_hf.storage`)."""
    if not isinstance(path, (str, os.PathLike)):
        path.write_bytes(data)
        return
    path = Path(path)
    with temp_file(path) as tmp:
        with open(tmp, "xb") as handle:
            handle.write(data)
        os.replace(tmp, path)


def remove_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary files writers left in ``folder`` (at any depth); returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for pattern in (f"**/.*{TEMP_SUFFIX}", f"**/{_LEGACY_TEMP}") for p in folder.glob(pattern) if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
