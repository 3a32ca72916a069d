"""The local engine's worker processes: one math-library thread each, unless the user chose a number."""

from __future__ import annotations

import os

from synrl_hf.executors import LocalExecutor

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def thread_settings(_: int) -> tuple[str | None, ...]:
    return tuple(os.environ.get(name) for name in VARIABLES)


def test_workers_start_their_math_libraries_with_one_thread(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # a number the user chose is kept
    with LocalExecutor(2) as executor:
        seen = set(executor.imap(thread_settings, range(4)))
    assert seen == {("1", "1", "3")}
    assert thread_settings(0) == (None, None, "3")  # this process's own settings are as they were
