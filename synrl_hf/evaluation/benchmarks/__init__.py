"""The benchmarks, one module each, and their groups.

Each module defines ``BENCHMARK`` (:class:`synrl_hf.evaluation.common.tasks.Benchmark`): converter,
fixture writer, prompt, scorer, metric aggregations, headline metrics and an oracle answer.
"""

from __future__ import annotations

from importlib import import_module

from lighteval.tasks.requests import Doc

from ..common.tasks import Benchmark, doc_spec

# The paper's order (its §3.1): grounding, complex reasoning, general; then ours.
NAMES = (
    "nextgqa",
    "charades_sta",
    "rextime",
    "tomato",
    "temporalbench",
    "videott",
    "vcrbench",
    "cvbench",
    "tvbench",
    "minerva",
    "videomme",
    "mvbench",
    "videommmu",
    "aotbench",
    "vinoground",
    "synrl_bench",
)

_CACHE: dict[str, Benchmark] = {}


def get_benchmark(name: str) -> Benchmark:
    if name not in NAMES:
        raise ValueError(f"unknown benchmark {name!r}; valid: {', '.join(NAMES)}")
    if name not in _CACHE:
        _CACHE[name] = import_module(f"{__name__}.{name}").BENCHMARK
    return _CACHE[name]


def oracle_answer(doc: Doc) -> str:
    """What a perfect model would write for ``doc`` (its benchmark's ``oracle``)."""
    spec = doc_spec(doc)
    return get_benchmark(spec["benchmark"]).oracle(spec)


def all_benchmarks() -> list[Benchmark]:
    return [get_benchmark(name) for name in NAMES]


def groups() -> dict[str, list[str]]:
    """Task groups for ``--tasks``: grounding, reasoning, general, synrl, paper (the 15), all (16)."""
    out: dict[str, list[str]] = {}
    for bench in all_benchmarks():
        out.setdefault(bench.group, []).append(bench.name)
    out["paper"] = [n for n in NAMES if n != "synrl_bench"]
    out["all"] = list(NAMES)
    return out


def resolve_tasks(spec: str | list[str]) -> list[str]:
    """Benchmark names from a comma-separated list of names and group names (order kept, no dups)."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    table, names = groups(), []
    for item in items:
        item = item.split("|")[0]
        if item in table:
            names.extend(table[item])
        elif item in NAMES:
            names.append(item)
        else:
            raise ValueError(f"unknown task or group {item!r}; valid: {', '.join([*table, *NAMES])}")
    return list(dict.fromkeys(names))
