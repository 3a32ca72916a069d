"""One writer per dataset folder: an advisory lock that ``synrl build``, ``merge``, ``audit`` (when
it writes its report) and ``push`` hold for as long as they work on the folder.

The lock is the file ``<folder>/.synrl.lock``, locked with ``flock`` (exclusive, non-blocking), and
it records who holds it: pid, host, command and start time (JSON). A second writer stops at once,
before any work, with :class:`FolderBusy` naming the holder. The kernel drops a ``flock`` when its
process dies, however it dies (kill -9, out of memory), so a lock left by a dead process is never
in the way: its file is still there but unlocked, and the next writer takes it over and says whose
it was. A writer that finishes removes the file; a writer that locked a file which was removed
meanwhile tries again, so two writers never hold two different files.

The lock is re-entrant within a process (``synrl build`` writing the card, an audit run by a build
taking the lock again), not between threads of one process.

Where it holds: local filesystems, and NFS where the client forwards ``flock`` as a POSIX lock
(Linux does). Object stores reached through fsspec URLs (``s3://``, ``gs://``, ``hf://``) have no
advisory locks: the holder record is store-independent, but taking it there needs a conditional
create that not every store offers, so for such URLs the lock is unavailable and two writers must
not target one URL.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["LOCK_FILE", "FolderBusy", "folder_lock"]

LOCK_FILE = ".synrl.lock"

_held: dict[str, int] = {}  # resolved folder → how many times this process holds it
_guard = threading.Lock()


class FolderBusy(Exception):
    """Another process holds the folder's lock (not a RuntimeError: commands report those as failed work)."""

    def __init__(self, folder: Path, holder: dict[str, Any]):
        self.folder, self.holder = folder, holder
        if holder.get("pid"):
            who = f"`{holder.get('command', 'synrl')}` (pid {holder['pid']} on host {holder.get('host', '?')}, since {holder.get('since', '?')})"
        else:
            who = "another synrl process (it is just starting)"
        super().__init__(f"{folder} is in use by {who}; wait for it to finish or stop it, then run this again")


def _read(fd: int) -> dict[str, Any]:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _acquire(path: Path, command: str) -> tuple[int, dict[str, Any]]:
    """Lock ``path``; returns the descriptor and the record found in it (a dead holder's, or {})."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise FolderBusy(path.parent, holder) from None
        try:
            current = os.stat(path)
            same = (current.st_dev, current.st_ino) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino)
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed this file as it finished: lock the one at the path now
    previous = _read(fd)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    return fd, previous


@contextmanager
def folder_lock(folder: str | os.PathLike, command: str) -> Iterator[None]:
    """Hold ``folder``'s lock (creating the folder) while the block runs; raises :class:`FolderBusy`
    when another process holds it, ValueError when the folder cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = str(folder.resolve())
        with _guard:
            nested = key in _held
            _held[key] = _held.get(key, 0) + 1
        if not nested:
            try:
                fd, previous = _acquire(folder / LOCK_FILE, command)
            except BaseException:
                with _guard:
                    del _held[key]
                raise
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR):
            raise ValueError(f"cannot write into {str(folder)!r}: {error.strerror}") from None
        raise
    if not nested and previous.get("pid"):
        print(
            f"synrl: taking over the lock of {folder} left by `{previous.get('command', 'synrl')}` "
            f"(pid {previous['pid']} on host {previous.get('host', '?')}), which is no longer running",
            file=sys.stderr,
        )
    try:
        yield
    finally:
        with _guard:
            _held[key] -= 1
            last = _held[key] == 0
            if last:
                del _held[key]
        if last:
            (folder / LOCK_FILE).unlink(missing_ok=True)  # while still locked: see _acquire
            os.close(fd)
