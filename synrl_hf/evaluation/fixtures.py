"""Fixtures for every benchmark: a few tiny synthetic clips + annotations in the benchmark's real
release layout (each module's ``write_fixture`` names the official file it copies), converted with
its real converter. Used by the tests and by ``synrl eval --fixtures`` (a smoke run that needs no
download)."""

from __future__ import annotations

from pathlib import Path

from .benchmarks import get_benchmark, resolve_tasks


def build_fixture_data(root, tasks="all") -> tuple[Path, dict]:
    """Write raw fixtures under ``root/raw`` and convert them into ``root/data``.

    Returns ``(data_dir, {benchmark: ConversionReport})``.
    """
    root = Path(root)
    reports = {}
    for name in resolve_tasks(tasks):
        bench = get_benchmark(name)
        source, videos_root = bench.write_fixture(root / "raw")
        reports[name] = bench.convert(source, videos_root, root / "data" / name)
    return root / "data", reports
