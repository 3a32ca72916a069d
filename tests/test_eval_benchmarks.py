"""Every benchmark end to end: fixture in its own annotation format -> converter -> lighteval task
-> real ``Pipeline`` -> metrics, with a scripted model (the only test double: it stands in for
model weights, but still decodes every video with ``read_frames``). Expected values are
hand-computed in the comments next to each script.
"""

import ast
import json
import pickle
import sys
from pathlib import Path

import pytest
from lighteval.models.model_output import ModelResponse

from synrl_hf.evaluation.benchmarks import NAMES, get_benchmark, groups, oracle_answer, resolve_tasks
from synrl_hf.evaluation.common.converters import read_rows
from synrl_hf.evaluation.common.model import ScriptedModelConfig, ScriptedVideoModel
from synrl_hf.evaluation.common.tasks import doc_spec, task_config
from synrl_hf.evaluation.fixtures import build_fixture_data
from synrl_hf.evaluation.pipeline import evaluate

SCRIPT = {
    # NExT-GQA. q0 gold B span [0,1]: pred [.5,1.5] IoU 1/3 IoP .5; q3 gold E spans [1,2],[2,3]: pred [1.5,3]
    # max IoU 2/3, max IoP 2/3; q1 gold A: wrong letter, point 2.0 inside [.5,2.5]: IoU 0, IoP 1.
    ("nextgqa", "4010069381_0"): "Answer: B. Evidence: 0.5 - 1.5 seconds.",
    ("nextgqa", "4010069381_3"): "Answer: E. Evidence: 1.5 - 3.0 seconds.",
    ("nextgqa", "6033001590_1"): "Answer: C. Evidence: 2.0 - 2.0 seconds",
    # Charades-STA. [0,2] vs [1,3]: IoU 1/3, IoP .5; [1,3] exact; no span -> 0. ZZZZZ has no video.
    ("charades_sta", "AO8RW_0"): "The event happens in the 1.0 - 3.0 seconds.",
    ("charades_sta", "AO8RW_1"): "Start: 1 seconds.\nEnd: 3 seconds.",
    ("charades_sta", "Y6R7T_2"): "I don't know.",
    # ReXTime. [0,1] vs [0,2]: IoU .5, right letter -> GQA; second: IoU 1 with window [3,4], wrong letter.
    ("rextime", "qvh_val241"): "Answer: A. Evidence: 0 - 1 seconds.",
    ("rextime", "anet_val92"): "Answer: B. Evidence: 3 - 4 seconds.",
    # TOMATO golds A, B, C, D. Unparsable (lmms-eval would say "A", right) -> 0; "three" -> C, gold D.
    ("tomato", "count-0"): "no idea",
    ("tomato", "direction-1"): "(B)",
    ("tomato", "direction-2"): "The answer is C",
    ("tomato", "rotation-3"): "I think the answer is three rotations",
    # TemporalBench. video 0: GT A, B, A all right; video 1: GT B, A, B, the middle one wrong.
    ("temporalbench", "0"): "A",
    ("temporalbench", "1"): "B.",
    ("temporalbench", "2"): "A) the square",
    ("temporalbench", "3"): "B",
    ("temporalbench", "4"): "B",
    ("temporalbench", "5"): "b",
    # Video-TT, gold B.
    ("videott", "q0"): "B",
    ("videott", "q1"): "The best answer is B.",
    ("videott", "q2"): "Hmm, A or B",
    # VCR-Bench: number, MC letter, text.
    ("vcrbench", "0"): "Let me count.\nThe final answer is: 1",
    ("vcrbench", "1"): "It moves right.\nThe final answer is: (B) right",
    ("vcrbench", "2"): "The final answer is: bright",
    # CVBench: A, YES, D.
    ("cvbench", "1"): "A",
    ("cvbench", "2"): "Yes, they do.",
    ("cvbench", "3"): "Video 2 is darker, so B.",
    # TVBench: golds A, B, A, B.
    ("tvbench", "action_count_0"): "A",
    ("tvbench", "action_count_1"): "right",
    ("tvbench", "moving_direction_0"): "B",
    ("tvbench", "moving_direction_1"): "C",
    # MINERVA: golds A, C, E.
    ("minerva", "k0"): "The answer is A.",
    ("minerva", "k1"): "I'd say B, but final answer: C",
    ("minerva", "k2"): "unsure",
    # Video-MME: short A, short B, medium C, long D, long A.
    ("videomme", "000-1"): "A",
    ("videomme", "001-1"): "C",
    ("videomme", "002-1"): "The best answer is C",
    ("videomme", "003-1"): "D. 4.",
    ("videomme", "004-1"): "it is impossible to say how many squares appear in this particular clip",
    # MVBench: golds A, C per task.
    ("mvbench", "action_sequence_0"): "(A) Sat down.",
    ("mvbench", "action_sequence_1"): "C",
    ("mvbench", "moving_count_0"): "B. Stood up.",
    ("mvbench", "moving_count_1"): "(C)",
    ("mvbench", "action_antonym_0"): "Sat down.",
    ("mvbench", "action_antonym_1"): "Best option: (C)",
    # VideoMMMU: Perception A, B; Comprehension B, C; Adaptation C and open "42".
    ("videommmu", "validation_Perception_0"): "(A)",
    ("videommmu", "validation_Perception_1"): "(C)",
    ("videommmu", "validation_Comprehension_0"): "B",
    ("videommmu", "validation_Comprehension_1"): "(C)",
    ("videommmu", "validation_Adaptation_0"): "(D)",
    ("videommmu", "validation_Adaptation_1"): "The result is 42.",
    # AoTBench: A, B, A.
    ("aotbench", "aot-0"): "A",
    ("aotbench", "aot-1"): "Answer: B",
    ("aotbench", "aot-2"): "backward",
}
# Vinoground: pos -> A, neg -> B. Pair 0 all right; pair 1 video/neg wrong; pair 2 text/pos wrong.
for _pair in range(3):
    for _kind in ("text", "video"):
        for _pol, _gold in (("pos", "A"), ("neg", "B")):
            _wrong = (_pair, _kind, _pol) in {(1, "video", "neg"), (2, "text", "pos")}
            SCRIPT[("vinoground", f"{_pair}_{_pol}_{_kind}")] = ("B" if _gold == "A" else "A") if _wrong else _gold


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    return build_fixture_data(tmp_path_factory.mktemp("eval_fixtures"))


@pytest.fixture(scope="module")
def run(fixture_data, tmp_path_factory):
    data_dir, _ = fixture_data
    out = tmp_path_factory.mktemp("eval_out")
    synrl_rows = read_rows(data_dir / "synrl_bench")
    short_term = {r["id"] for r in synrl_rows if r["meta"]["category"] == "short_term"}

    def answer(doc):
        spec = doc_spec(doc)
        task = doc.task_name.split("|")[0]
        if task == "synrl_bench":  # short-term rows right, long-term rows without an <answer> block
            return oracle_answer(doc) if spec["id"] in short_term else "I think it is A"
        return SCRIPT[(task, spec["id"])]

    model = ScriptedVideoModel(
        ScriptedModelConfig(model_name="scripted", script="hand", frame_budget={"num_frames": 4}, cache_dir=str(out / "cache")), answer
    )
    outcome = evaluate(model, "all", data_dir, out, bootstrap_iters=0)
    return outcome, model, synrl_rows


def _m(run, task):
    return run[0].metrics(task)


def test_fixture_conversion_reports(fixture_data):
    _, reports = fixture_data
    assert set(reports) == set(NAMES) and len(NAMES) == 16
    assert reports["charades_sta"].missing_videos == 1 and reports["charades_sta"].rows == 4
    assert all(r.missing_videos == 0 for n, r in reports.items() if n != "charades_sta")


def test_all_tasks_ran_and_reports_are_written(run):
    outcome = run[0]
    # offline registry: none of lighteval's built-in task modules (one downloads at import) was loaded
    assert not [m for m in sys.modules if m.startswith("lighteval.tasks.tasks.")]
    assert set(outcome.summary["tasks"]) == set(NAMES) and outcome.summary["skipped_tasks"] == {}
    out = outcome.output_dir
    assert list((out / "results" / "scripted").glob("results_*.json"))
    assert len(list((out / "details" / "scripted").glob("*/details_*.parquet"))) == 16
    assert json.loads((out / "summary.json").read_text())["tasks"]["tomato"]["paper"] == {"acc": 32.1}
    table = (out / "results.md").read_text()
    assert "| grounding | NExT-GQA | mIoU | 33.3 | 23.5 | +9.8 |" in table
    sample = json.loads((out / "samples" / "cvbench.jsonl").read_text().splitlines()[0])
    assert set(sample) == {"id", "videos", "reply", "gold", "scores"}


def test_every_video_decoded_with_the_budget(run):
    model = run[1]
    assert len(model.frames_seen) == sum(t["evaluated"] for t in run[0].summary["tasks"].values())
    assert all(n == 4 for counts in model.frames_seen.values() for n in counts)
    assert model.frames_seen[("cvbench", "2")] == [4, 4, 4]  # three videos in one question


def test_nextgqa(run):
    assert _m(run, "nextgqa") == pytest.approx(
        {
            "mIoU": 1 / 3,
            "mIoP": 13 / 18,
            "R@0.3": 2 / 3,
            "R@0.5": 1 / 3,
            "R@0.7": 0.0,
            "IoP@0.3": 1.0,
            "IoP@0.5": 1.0,
            "acc": 2 / 3,
            "acc_gqa": 2 / 3,
        },
        abs=1e-9,
    )


def test_charades_sta_skips_the_missing_video(run):
    assert _m(run, "charades_sta") == pytest.approx({"mIoU": 4 / 9, "mIoP": 0.5, "R@0.3": 2 / 3, "R@0.5": 1 / 3, "R@0.7": 1 / 3})
    task = run[0].summary["tasks"]["charades_sta"]
    assert task["evaluated"] == 3 and task["skipped_missing_videos"] == 1


def test_rextime(run):
    assert _m(run, "rextime") == pytest.approx(
        {"mIoU": 0.75, "mIoP": 1.0, "R@0.3": 1.0, "R@0.5": 1.0, "R@0.7": 0.5, "acc": 0.5, "acc_gqa": 0.5}
    )


def test_temporalbench_binary_and_multiple_binary(run):
    m = _m(run, "temporalbench")
    assert m["binary_acc"] == pytest.approx(5 / 6) and m["mba"] == pytest.approx(0.5)


def test_vinoground_scores(run):
    m = _m(run, "vinoground")
    assert m["text_score"] == pytest.approx(2 / 3) and m["video_score"] == pytest.approx(2 / 3)
    assert m["group_score"] == pytest.approx(1 / 3) and m["acc"] == pytest.approx(10 / 12)


def test_videomme_duration_buckets(run):
    m = _m(run, "videomme")
    assert m["acc"] == pytest.approx(0.6)
    assert (m["acc_short"], m["acc_medium"], m["acc_long"]) == pytest.approx((0.5, 1.0, 0.5))


@pytest.mark.parametrize(
    "task, expected",
    [
        ("tomato", {"acc": 0.5, "acc_count": 0.0, "acc_direction": 1.0, "acc_rotation": 0.0}),
        ("videott", {"acc": 2 / 3}),
        ("vcrbench", {"acc": 2 / 3}),
        ("cvbench", {"acc": 2 / 3, "acc_Cross-video Anomaly Detection": 0.5, "acc_Multi-video Temporal Reasoning": 1.0}),
        ("tvbench", {"acc": 0.5, "acc_action_count": 1.0, "acc_moving_direction": 0.0, "acc_mean": 0.5}),
        ("minerva", {"acc": 2 / 3, "acc_Counting": 0.5, "acc_Temporal Reasoning": 1.0}),
        ("mvbench", {"acc": 4 / 6, "acc_action_sequence": 1.0, "acc_moving_count": 0.5, "acc_action_antonym": 0.5, "acc_mean": 2 / 3}),
        ("videommmu", {"acc": 4 / 6, "acc_Perception": 0.5, "acc_Comprehension": 1.0, "acc_Adaptation": 0.5}),
        ("aotbench", {"acc": 2 / 3}),
    ],
)
def test_multiple_choice_benchmarks(run, task, expected):
    m = _m(run, task)
    assert {k: m[k] for k in expected} == pytest.approx(expected)


def test_synrl_bench_per_family(run):
    m, rows = _m(run, "synrl_bench"), run[2]
    families = {r["meta"]["task"]: r["meta"]["category"] for r in rows}
    assert m["acc"] == pytest.approx(sum(c == "short_term" for c in (r["meta"]["category"] for r in rows)) / len(rows))
    for family, category in families.items():
        assert m[f"acc_{family}"] == (1.0 if category == "short_term" else 0.0)


def test_groups_and_task_resolution():
    table = groups()
    assert len(table["paper"]) == 15 and len(table["all"]) == 16
    assert table["grounding"] == ["nextgqa", "charades_sta", "rextime"]
    assert len(table["reasoning"]) == 7 and len(table["general"]) == 5
    assert resolve_tasks("grounding,tomato|0,nextgqa") == ["nextgqa", "charades_sta", "rextime", "tomato"]
    with pytest.raises(ValueError, match="unknown task"):
        resolve_tasks("cv_bench")


def test_task_config_is_a_stable_cache_key(fixture_data, tmp_path):
    data_dir, _ = fixture_data
    bench = get_benchmark("tomato")
    a, b = task_config(bench, data_dir), task_config(bench, data_dir)
    assert a.__str__(lite=True) == b.__str__(lite=True)
    # no memory addresses (they differ between processes): lighteval's cache can hit in the next run
    assert "0x" not in a.__str__(lite=True) and "BenchmarkScorer(benchmark=tomato)" in a.__str__(lite=True)
    # different data -> different fingerprint (the task's hf_revision), so cached answers are not reused
    source, videos = bench.write_fixture(tmp_path / "raw")
    rows = source / "test-00000-of-00001.parquet"
    import pyarrow.parquet as pq

    table = pq.read_table(rows).to_pylist()
    table[0]["question"] = "A different question?"
    from synrl_hf.evaluation.common.converters import write_parquet

    write_parquet(rows, table)
    bench.convert(source, videos, tmp_path / "data" / "tomato")
    assert task_config(bench, tmp_path / "data").hf_revision != a.hf_revision


def test_task_config_holds_its_benchmark_and_pickles(fixture_data):
    """lighteval pickles metrics (bootstrap stderr runs in worker processes): the Benchmark a task
    holds pickles by reference to its module's functions and still scores after the round trip."""
    data_dir, _ = fixture_data
    bench = get_benchmark("synrl_bench")
    config = task_config(bench, data_dir)
    (metric,) = pickle.loads(pickle.dumps(config.metrics))
    assert metric.sample_level_fn.benchmark.score is bench.score  # the module's function, by reference
    assert pickle.loads(pickle.dumps(config.prompt_function)).keywords["bench"].prompt is bench.prompt
    row = read_rows(data_dir / "synrl_bench")[0]
    doc = config.prompt_function({**row, "meta": json.dumps(row["meta"])}, "synrl_bench|0")  # as the parquet row holds it
    response = ModelResponse(text=[oracle_answer(doc)])
    assert metric.sample_level_fn.compute(doc, response)["acc"] == 1.0


def test_evaluation_common_imports_no_benchmark():
    """common/ sits below the benchmark modules: none of its modules imports them (no import circle)."""
    common = Path(__file__).resolve().parent.parent / "synrl_hf" / "evaluation" / "common"
    for path in common.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                assert "benchmarks" not in target, f"{path.name} imports {target}"
            elif isinstance(node, ast.Import):
                assert not any("benchmarks" in alias.name for alias in node.names), f"{path.name} imports benchmarks"


def test_missing_videos_skip_the_task_not_the_run(fixture_data, tmp_path):
    data_dir, _ = fixture_data
    bench = get_benchmark("minerva")
    source, _ = bench.write_fixture(tmp_path / "raw")
    report = bench.convert(source, tmp_path / "nowhere", tmp_path / "data" / "minerva")
    assert report.missing_videos == report.rows == 3
    model = ScriptedVideoModel(
        ScriptedModelConfig(script="x", frame_budget={"num_frames": 2}, cache_dir=str(tmp_path / "cache")), lambda doc: "A"
    )
    outcome = evaluate(model, "minerva,aotbench", tmp_path / "data", tmp_path / "out", bootstrap_iters=0)
    assert outcome.summary["tasks"] == {}
    assert "missing videos" in outcome.summary["skipped_tasks"]["minerva"]
    assert "not converted" in outcome.summary["skipped_tasks"]["aotbench"]
    assert "not run" in (tmp_path / "out" / "results.md").read_text()
    # ... and the videos root can be fixed at evaluation time without re-converting
    outcome = evaluate(
        model, "minerva", tmp_path / "data", tmp_path / "out2", videos_root=tmp_path / "raw" / "minerva_videos", bootstrap_iters=0
    )
    assert outcome.summary["tasks"]["minerva"]["evaluated"] == 3
