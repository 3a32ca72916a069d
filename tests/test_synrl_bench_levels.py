"""synrl_bench scores per family and per difficulty level: a fixed bench built at several ladder levels."""

from __future__ import annotations

from synrl_hf.build import BuildSpec, build
from synrl_hf.evaluation.benchmarks import get_benchmark
from synrl_hf.evaluation.common.converters import read_rows

FAMILIES = ("direction", "card_stack")


def test_the_bench_reports_accuracy_per_family_and_level(tmp_path):
    bench = get_benchmark("synrl_bench")
    for preset in ("round1", "level3"):
        spec = BuildSpec(families=FAMILIES, per_task=1, resolution=64, splits=("test",), preset=preset)
        build(spec, tmp_path / "bench" / preset, progress=False)
    bench.convert(tmp_path / "bench", None, tmp_path / "converted")
    rows = read_rows(tmp_path / "converted")
    assert sorted({(r["meta"]["task"], r["meta"]["level"]) for r in rows}) == sorted((f, lv) for f in FAMILIES for lv in (0, 3))
    # A model that is right on level 0 and wrong above it.
    scores = [bench.score(r, bench.oracle(r) if r["meta"]["level"] == 0 else "<answer>nothing</answer>") for r in rows]
    per_level = bench.aggregations["by_level"].compute_corpus([s["by_level"] for s in scores])
    assert per_level == {f"acc_{f}_level{lv}": float(lv == 0) for f in FAMILIES for lv in (0, 3)}
    per_family = bench.aggregations["by_family"].compute_corpus([s["by_family"] for s in scores])
    assert per_family == {f"acc_{f}": 0.5 for f in FAMILIES}


def test_rows_of_builds_without_a_level_column_take_the_level_their_preset_names():
    bench = get_benchmark("synrl_bench")
    row = {"id": "x", "options": ["a", "b"], "answer": "A", "meta": {"task": "speed", "answer_type": "multiple_choice", "level": None}}
    assert bench.score(row, "<answer>A</answer>")["by_level"] == {"group": "speed_level_unknown", "score": 1.0}
    from synrl_hf.evaluation.benchmarks.synrl_bench import row_level

    assert (row_level({"preset": "round2"}), row_level({"level": 4, "preset": "level4"}), row_level({"preset": ""})) == (1, 4, None)
