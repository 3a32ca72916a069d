"""The versions of the difficulty levels: what the stream reads to know each family's level.

Version 0 is the starting levels; version ``u`` the levels after the controller's ``u``-th update.
The stream renders a block at a version fixed by the block's position (never "whatever is current
when a worker gets to it"), so a run is reproducible and a resumed run renders what an uninterrupted
one would have. With a ``path``, every version is also appended to that file as a JSON line, which
is how DataLoader worker processes (which hold a copy made when they started) see later versions.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

WAIT_SECONDS = 600.0  # how long a worker process waits for a version before giving up
POLL_SECONDS = 0.05


class LevelsNotReady(RuntimeError):
    """The stream asked for a version the controller has not made yet."""


class LevelHistory:
    """An append-only list of ``{family: level}`` versions, optionally mirrored to a JSONL file."""

    def __init__(self, initial: dict[str, int], path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else None
        self.versions: list[dict[str, int]] = []
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")
        self.append(initial)

    def __len__(self) -> int:
        return len(self.versions)

    def append(self, levels: dict[str, int]) -> int:
        """Add the next version; returns its number."""
        self.versions.append(dict(levels))
        if self.path is not None:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(levels, sort_keys=True) + "\n")
        return len(self.versions) - 1

    def at(self, version: int, *, wait: bool = False) -> dict[str, int]:
        """The levels of ``version``. A version not made yet is read from the file if there is one
        (waiting for it when ``wait``, as DataLoader workers do); otherwise LevelsNotReady."""
        if version < len(self.versions):
            return self.versions[version]
        deadline = time.monotonic() + (WAIT_SECONDS if wait else 0.0)
        while True:
            if self.path is not None and self.path.exists():
                # Only whole lines: the controller may be writing the next one right now.
                lines = self.path.read_text().split("\n")[:-1]
                self.versions = [json.loads(line) for line in lines] or self.versions
                if version < len(self.versions):
                    return self.versions[version]
            if time.monotonic() >= deadline:
                raise LevelsNotReady(
                    f"difficulty version {version} is not made yet (the controller has made {len(self.versions)}): "
                    "the stream reads further ahead than its lag allows; raise the lag"
                )
            time.sleep(POLL_SECONDS)

    def state_dict(self) -> dict[str, Any]:
        return {"versions": [dict(v) for v in self.versions]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.versions = [dict(v) for v in state["versions"]]
        if self.path is not None:
            self.path.write_text("".join(json.dumps(v, sort_keys=True) + "\n" for v in self.versions))
