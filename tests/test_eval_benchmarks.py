"""Every benchmark end to end: a fixture in the benchmark's real release layout -> its converter ->
lighteval task -> the real ``Pipeline`` -> metrics, with scripted models (the only test double: they
stand in for model weights, but still decode every video with the frame budget in force).

Three runs over all 16 tasks: the oracle (every metric 100), a model that always answers "A" (the
score the fixture's gold answers predict, counted by hand below), and hand-written replies that
exercise each parser and metric (expected values hand-computed in the comments).
"""

import ast
import json
import math
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

PAPER = [n for n in NAMES if n != "synrl_bench"]

# What always answering "A" scores, from each fixture's gold answers (golds listed per benchmark).
ALWAYS_A = {
    # golds C, B, D (the answer text equals options 3 and 4: the first), A; no span in "A"
    "nextgqa": {"acc": 1 / 4, "R@0.3": 0.0, "R@0.5": 0.0, "R@0.7": 0.0, "mIoU": 0.0, "mIoP": 0.0, "acc_gqa": 0.0},
    "charades_sta": {"R@0.3": 0.0, "R@0.5": 0.0, "R@0.7": 0.0, "mIoU": 0.0},
    "rextime": {"acc": 2 / 3, "R@0.3": 0.0, "mIoU": 0.0, "acc_gqa": 0.0},  # golds A, A, C
    "tomato": {"acc": 2 / 4, "acc_count": 1 / 2, "acc_direction": 1.0, "acc_visual_cues": 0.0},  # golds C, A | A | B
    "temporalbench": {"binary_acc": 3 / 6, "mba": 0.0},  # video 0: A B A, video 1: B A B
    "videott": {"acc": 1 / 3},  # golds B, A, C
    "vcrbench": {"acc": 1 / 4},  # "Kitchen", D, A, [1, 3]
    "cvbench": {"acc": 1 / 4},  # No, A, B, Yes
    "tvbench": {"acc": 2 / 4, "acc_mean": 0.5},  # A B | A B (the NTU clip is missing)
    "minerva": {"acc": 1 / 3},  # A, C, E
    "videomme": {"acc": 2 / 5, "acc_short": 1 / 3, "acc_medium": 0.0, "acc_long": 1.0},  # C A B | D | A
    "mvbench": {"acc": 4 / 8, "acc_mean": 0.5},  # A B | A C | B A | A C (NTU missing)
    "videommmu": {"acc": 3 / 6, "acc_Perception": 0.5, "acc_Comprehension": 0.5, "acc_Adaptation": 0.5},  # G A | C A | A 12.97
    "aotbench": {"acc": 3 / 7, "acc_ReverseFilm": 0.5, "acc_AoTBench_QA": 0.5},  # A B | B | A | C | A D
    "vinoground": {"acc": 0.5, "text_score": 0.0, "video_score": 0.0, "group_score": 0.0},  # pos A, neg B
}

SCRIPT = {
    # NExT-GQA (ids <video>_<qid>/qa|ground). 2574374895_8: right; [16, 19] vs [15.2, 19]: IoU 3/3.8, IoP 1.
    # 3083302557_3: wrong letter; span equals the second gold span: IoU 1. 3842638015_4: right (D), no span.
    # 3842638015_1: right; [0, 6.5] vs [3, 6.5]: IoU = IoP = 7/13.
    ("nextgqa", "2574374895_8/qa"): "C",
    ("nextgqa", "2574374895_8/ground"): "From 16 to 19.",
    ("nextgqa", "3083302557_3/qa"): "A",
    ("nextgqa", "3083302557_3/ground"): "From 12.1 to 17.1.",
    ("nextgqa", "3842638015_4/qa"): "D. happy",
    ("nextgqa", "3842638015_4/ground"): "I cannot tell.",
    ("nextgqa", "3842638015_1/qa"): "The answer is A",
    ("nextgqa", "3842638015_1/ground"): "From 0 to 6.5.",
    # Charades-STA. [0, 6.9] vs float16 [0, 6.8984375]; [1, 3] exact; no span. ZZZZZ has no video.
    ("charades_sta", "AO8RW_0"): "The event happens in the 0 - 6.9 seconds.",
    ("charades_sta", "AO8RW_1"): "Start: 1 seconds.\nEnd: 3 seconds.",
    ("charades_sta", "Y6R7T_2"): "I don't know.",
    # ReXTime. qvh_val241 right, [0, 14] vs [0, 28]: IoU .5; anet_val92 wrong, exact span; qvh_val7 right, disjoint span.
    ("rextime", "qvh_val241/qa"): "A",
    ("rextime", "qvh_val241/ground"): "From 0 to 14.",
    ("rextime", "anet_val92/qa"): "B",
    ("rextime", "anet_val92/ground"): "From 5 to 8.",
    ("rextime", "qvh_val7/qa"): "(C)",
    ("rextime", "qvh_val7/ground"): "From 0 to 10.",
    # TOMATO golds C, A, A, B. "no idea" -> lmms-eval's "A"; "dog" names option B in a long reply.
    ("tomato", "count-0"): "no idea",
    ("tomato", "count-1"): "no idea",
    ("tomato", "direction-0"): "(B)",
    ("tomato", "visual_cues-0"): "I think the answer is dog, the second one",
    # Video-TT golds B, A, C: "Hmm, A or C" -> the first letter, A.
    ("videott", "vtt0_1"): "B",
    ("videott", "vtt1_1"): "The best answer is A.",
    ("videott", "vtt1_2"): "Hmm, A or C",
    # VCR-Bench: open "Kitchen" (its words in the reply), D, A (answered B), interval [1, 3] (span from 1 to 3).
    ("vcrbench", "0"): "The second fight takes place in a kitchen.",
    ("vcrbench", "3"): "The answer is D.",
    ("vcrbench", "12"): "B",
    ("vcrbench", "7"): "It happens from 1 to 3 seconds.",
    # CVBench: NO, A ("a" counts: case-insensitive), B (the "d" of "Video" is read first), YES.
    ("cvbench", "0"): "No.",
    ("cvbench", "1"): "a",
    ("cvbench", "2"): "Video 2",
    ("cvbench", "3"): "Yes, every video.",
    # TVBench: A, B ("stood up" is option B's text), A (answered B), B (answered C).
    ("tvbench", "action_sequence_0"): "A",
    ("tvbench", "action_sequence_1"): "stood up",
    ("tvbench", "moving_direction_0"): "B",
    ("tvbench", "moving_direction_1"): "C",
    # MINERVA: A, C, E.
    ("minerva", "yt0abcDEFg_0"): "The answer is A.",
    ("minerva", "yt1abcDEFg_1"): "I'd say B, but final answer: C",
    ("minerva", "yt2abcDEFg_2"): "unsure",
    # Video-MME: C, A, B, D, A.
    ("videomme", "001-1"): "C. Berries.",
    ("videomme", "001-2"): "A",
    ("videomme", "001-3"): "The best answer is C",
    ("videomme", "301-1"): "D",
    ("videomme", "601-1"): "it is impossible to say",
    # MVBench: A B | A C | B A | A C.
    ("mvbench", "action_sequence_0"): "(A) Sat down.",
    ("mvbench", "action_sequence_1"): "C",
    ("mvbench", "episodic_reasoning_0"): "A",
    ("mvbench", "episodic_reasoning_1"): "(C)",
    ("mvbench", "action_antonym_0"): "B. Stood up.",
    ("mvbench", "action_antonym_1"): "Sat down.",
    ("mvbench", "moving_count_0"): "Best option: (A)",
    ("mvbench", "moving_count_1"): "B",
    # VideoMMMU: G, A | C, A | A and the open 12.97 (an empty reply: left out of the score).
    ("videommmu", "Perception/dev_Biology_3"): "(G)",
    ("videommmu", "Perception/test_Art_Theory_5"): "B",
    ("videommmu", "Comprehension/dev_Biology_3"): "C",
    ("videommmu", "Comprehension/test_Art_Theory_5"): "The answer is A",
    ("videommmu", "Adaptation/dev_Biology_3"): "(B)",
    ("videommmu", "Adaptation/validation_Chemistry_13"): "",
    # AoTBench: A B | B | A | C | A D; first character, case-sensitive.
    ("aotbench", "ReverseFilm/0"): "A",
    ("aotbench", "ReverseFilm/1"): "b",
    ("aotbench", "UCF101/0"): "B.",
    ("aotbench", "Rtime_t2v/0"): "A",
    ("aotbench", "Rtime_v2t/0"): "The answer is C",
    ("aotbench", "AoTBench_QA/0"): "A",
    ("aotbench", "AoTBench_QA/1"): "D",
}
# TemporalBench: video 0 (Charades) GT A, B, A all right; video 1 (COIN) GT B, A, B, the middle one wrong.
_TB = ["short_video/Charades/EEVD3_start_11.4_end_16.9.mp4", "short_video/COIN/aB3_start_2.0_end_9.5.mp4"]
for _q, _reply in enumerate(["A", "B.", "A) the square"]):
    SCRIPT[("temporalbench", f"{_TB[0]}_{_q}")] = _reply
for _q, _reply in enumerate(["B", "B", "b"]):
    SCRIPT[("temporalbench", f"{_TB[1]}_{_q}")] = _reply
# Vinoground: pos -> A, neg -> B. Pair 0 all right; pair 1 video/neg wrong; pair 2 text/pos wrong.
for _pair in range(3):
    for _kind in ("text", "video"):
        for _pol, _gold in (("pos", "A"), ("neg", "B")):
            _wrong = (_pair, _kind, _pol) in {(1, "video", "neg"), (2, "text", "pos")}
            SCRIPT[("vinoground", f"{_pair}_{_pol}_{_kind}")] = ("B" if _gold == "A" else "A") if _wrong else _gold


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    return build_fixture_data(tmp_path_factory.mktemp("eval_fixtures"))


def _run(fixture_data, tmp_path_factory, name, answer, **budget):
    data_dir, _ = fixture_data
    out = tmp_path_factory.mktemp(f"eval_{name}")
    model = ScriptedVideoModel(ScriptedModelConfig(model_name=name, script=name, cache_dir=str(out / "cache"), **budget), answer)
    return evaluate(model, "all", data_dir, out, bootstrap_iters=0), model


@pytest.fixture(scope="module")
def oracle_run(fixture_data, tmp_path_factory):
    return _run(fixture_data, tmp_path_factory, "oracle", oracle_answer)  # no flags: each benchmark's usual budget


@pytest.fixture(scope="module")
def always_a_run(fixture_data, tmp_path_factory):
    return _run(fixture_data, tmp_path_factory, "always-a", lambda doc: "A", budget_flags={"num_frames": 2})


@pytest.fixture(scope="module")
def run(fixture_data, tmp_path_factory):
    data_dir, _ = fixture_data
    synrl_rows = read_rows(data_dir / "synrl_bench")
    short_term = {r["id"] for r in synrl_rows if r["meta"]["category"] == "short_term"}

    def answer(doc):
        spec = doc_spec(doc)
        task = doc.task_name.split("|")[0]
        if task == "synrl_bench":  # short-term rows right, long-term rows without an <answer> block
            return oracle_answer(doc) if spec["id"] in short_term else "I think it is A"
        return SCRIPT[(task, spec["id"])]

    outcome, model = _run(fixture_data, tmp_path_factory, "scripted", answer, frame_budget={"num_frames": 4})
    return outcome, model, synrl_rows


def _m(run, task):
    return run[0].metrics(task)


@pytest.mark.parametrize("name", PAPER)
def test_oracle_scores_100_on_the_real_layout(oracle_run, name):
    """Done when (issue 12): a fixture in the real layout converts and the oracle scores 100 on every metric."""
    metrics = oracle_run[0].metrics(name)
    values = {k: v for k, v in metrics.items() if not k.endswith("_stderr")}
    assert values and all(v == pytest.approx(1.0) for v in values.values()), values
    assert all(k in metrics for k in get_benchmark(name).headline)


@pytest.mark.parametrize("name", PAPER)
def test_always_a_scores_what_the_gold_answers_predict(always_a_run, name):
    metrics = always_a_run[0].metrics(name)
    assert {k: metrics[k] for k in ALWAYS_A[name]} == pytest.approx(ALWAYS_A[name])


def test_each_benchmark_decodes_its_usual_budget_inside_its_windows(oracle_run, fixture_data):
    outcome, model = oracle_run
    assert outcome.summary["frame_budget"]["source"] == "benchmark" and outcome.summary["model"] == "oracle"
    for name in PAPER:
        usual = get_benchmark(name).frame_budget
        task = outcome.summary["tasks"][name]
        assert task["frame_budget"]["source"] == "benchmark" and task["frame_budget"]["tag"] == usual.tag
        seen = [times for (t, _), times in model.frames_seen.items() if t == name]
        assert seen and all(0 < len(video) <= usual.num_frames for times in seen for video in times)
    # TOMATO's 16 frames from a 16-frame clip; CVBench's 8 per video, four videos
    assert [len(v) for v in model.frames_seen[("cvbench", "3")]] == [8, 8, 8, 8]
    assert [len(v) for v in model.frames_seen[("tomato", "count-0")]] == [16]
    # bounded questions: frames only inside [start, end] (TVBench's action_sequence, MVBench's main-branch tasks)
    for task, row, (start, end) in [
        ("tvbench", "action_sequence_0", (0.5, 2.5)),
        ("mvbench", "action_sequence_1", (1.0, 3.5)),
        ("mvbench", "episodic_reasoning_0", (0.3, 3.0)),
    ]:
        (times,) = model.frames_seen[(task, row)]
        assert min(times) >= start - 0.2 and max(times) <= end + 0.2 and max(times) - min(times) > (end - start) / 2, (task, times)
    # a TVQA frame folder (12 JPEGs at 3 fps), sampled in [0.3, 3.0] s: frames 1..9
    assert model.frames_seen[("mvbench", "episodic_reasoning_0")] == [[i / 3 for i in range(1, 10)]]
    assert model.frames_seen[("tvbench", "moving_direction_0")][0][0] == 0.0  # unbounded: the whole clip


def test_fixture_conversion_reports(fixture_data):
    _, reports = fixture_data
    assert set(reports) == set(NAMES) and len(NAMES) == 16
    assert reports["charades_sta"].missing_videos == 1 and reports["charades_sta"].rows == 4
    assert reports["charades_sta"].missing_files == ["Charades_v1_480/ZZZZZ.mp4"]
    assert (reports["nextgqa"].rows, reports["nextgqa"].videos, reports["nextgqa"].videos_found) == (8, 3, 3)
    assert reports["tvbench"].missing_files == ["video/action_antonym/S001C001P001R001A001_rgb.avi"]
    assert list(reports["tvbench"].missing_reasons.values()) == [1] and "NTU RGB+D" in next(iter(reports["tvbench"].missing_reasons))
    assert "NTU RGB+D" in next(iter(reports["mvbench"].missing_reasons))
    assert all(r.missing_videos == 0 for n, r in reports.items() if n not in ("charades_sta", "tvbench", "mvbench"))
    summary = reports["tvbench"].summary()
    assert "4 of 5 videos found" in summary or "4 of 5" in summary
    assert "video/action_antonym/S001C001P001R001A001_rgb.avi" in summary and "ROSE Lab" in summary


def test_all_tasks_ran_and_reports_are_written(run):
    outcome = run[0]
    # offline registry: none of lighteval's built-in task modules (one downloads at import) was loaded
    assert not [m for m in sys.modules if m.startswith("lighteval.tasks.tasks.")]
    assert set(outcome.summary["tasks"]) == set(NAMES) and outcome.summary["skipped_tasks"] == {}
    out = outcome.output_dir
    assert list((out / "results" / "scripted").glob("results_*.json"))
    assert len(list((out / "details" / "scripted").glob("*/details_*.parquet"))) == 16
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["tomato"]["paper"] == {"acc": {"base": 32.1, "synrl": 36.7}}
    assert summary["frame_budget"]["source"] == "flag" and summary["tasks"]["mvbench"]["frame_budget"]["tag"] == "4f"
    table = (out / "results.md").read_text()
    # the paper's Table 3 layout: its two rows, then ours (NExT-GQA R@0.3 .. mIoU, ReXTime, Charades-STA)
    assert "| Qwen3-VL-4B (paper) | 32.9 | 20.0 | 9.8 | 23.5 | 26.2 | 20.1 | 12.9 | 20.9 | 65.1 | 41.6 | 20.5 | 41.9 |" in table
    assert "| Qwen3-VL-4B + SynRL (paper) | 38.8 | 21.8 | 10.2 | 28.1 | 38.8 | 26.2 | 16.3 | 28.9 | 73.7 | 50.1 | 23.0 | 47.0 |" in table
    assert "| scripted (ours) | 75.0 | 75.0 | 50.0 | 58.2 | 66.7 | 66.7 | 33.3 | 50.0 | 66.7 | 66.7 | 66.7 | 66.7 |" in table
    assert "| grounding | NExT-GQA | mIoU | 58.2 | 23.5 | 28.1 | +34.7 |" in table
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sample = json.loads((out / "samples" / "cvbench.jsonl").read_text().splitlines()[0])
    assert set(sample) == {"id", "videos", "reply", "gold", "scores"}


def test_every_video_decoded_with_the_flag_budget(run):
    model = run[1]
    assert len(model.frames_seen) == sum(t["evaluated"] for t in run[0].summary["tasks"].values())
    assert all(len(video) == 4 for times in model.frames_seen.values() for video in times)
    assert len(model.frames_seen[("cvbench", "2")]) == 3  # three videos in one question


def test_nextgqa_pure_grounding_and_answers(run):
    iou1, part = 3 / 3.8, 7 / 13
    assert _m(run, "nextgqa") == pytest.approx(
        {
            "mIoU": (iou1 + 1 + 0 + part) / 4,
            "mIoP": (1 + 1 + 0 + part) / 4,
            "R@0.3": 3 / 4,
            "R@0.5": 3 / 4,
            "R@0.7": 2 / 4,
            "IoP@0.3": 3 / 4,
            "IoP@0.5": 3 / 4,
            "acc": 3 / 4,
            "acc_gqa": 2 / 4,  # right answer and IoP >= .5: questions 1 and 4
        },
        abs=1e-9,
    )


def test_nextgqa_asks_the_span_alone(fixture_data):
    data_dir, _ = fixture_data
    rows = {r["id"]: r for r in read_rows(data_dir / "nextgqa")}
    config = task_config(get_benchmark("nextgqa"), data_dir)
    ground = config.prompt_function({**rows["2574374895_8/ground"], "meta": json.dumps(rows["2574374895_8/ground"]["meta"])}, "nextgqa|0")
    qa = config.prompt_function({**rows["2574374895_8/qa"], "meta": json.dumps(rows["2574374895_8/qa"]["meta"])}, "nextgqa|0")
    assert ground.query.startswith("Please find a relevant span") and "lay on floor" not in ground.query
    assert qa.query.endswith("Answer with the option's letter from the given choices directly.") and "C. lay on floor" in qa.query
    assert "seconds" not in qa.query


def test_charades_sta_skips_the_missing_video(run):
    ratio = 6.8984375 / 6.9
    assert _m(run, "charades_sta") == pytest.approx(
        {"mIoU": (ratio + 1) / 3, "mIoP": (ratio + 1) / 3, "R@0.3": 2 / 3, "R@0.5": 2 / 3, "R@0.7": 2 / 3}
    )
    task = run[0].summary["tasks"]["charades_sta"]
    assert task["evaluated"] == 3 and task["skipped_missing_videos"] == 1


def test_rextime(run):
    assert _m(run, "rextime") == pytest.approx(
        {"mIoU": 0.5, "mIoP": 2 / 3, "R@0.3": 2 / 3, "R@0.5": 2 / 3, "R@0.7": 1 / 3, "acc": 2 / 3, "acc_gqa": 1 / 3}
    )


def test_temporalbench_binary_and_multiple_binary(run):
    m = _m(run, "temporalbench")
    assert m["binary_acc"] == pytest.approx(5 / 6) and m["mba"] == pytest.approx(0.5)
    assert m["binary_acc_Charades"] == 1.0 and m["binary_acc_COIN"] == pytest.approx(2 / 3)


def test_vinoground_scores(run):
    m = _m(run, "vinoground")
    assert m["text_score"] == pytest.approx(2 / 3) and m["video_score"] == pytest.approx(2 / 3)
    assert m["group_score"] == pytest.approx(1 / 3) and m["acc"] == pytest.approx(10 / 12)
    assert (m["text_score_action"], m["video_score_action"], m["group_score_object"]) == pytest.approx((0.5, 1.0, 0.0))


def test_videomme_duration_buckets(run):
    m = _m(run, "videomme")
    assert m["acc"] == pytest.approx(3 / 5)
    assert (m["acc_short"], m["acc_medium"], m["acc_long"]) == pytest.approx((2 / 3, 1.0, 0.0))


@pytest.mark.parametrize(
    "task, expected",
    [
        ("tomato", {"acc": 0.5, "acc_count": 0.5, "acc_direction": 0.0, "acc_visual_cues": 1.0, "acc_demo_object": 1.0}),
        ("videott", {"acc": 2 / 3, "acc_Element Counting": 0.0}),
        ("vcrbench", {"acc": 3 / 4, "acc_0-60s": 0.5, "acc_60-300s": 1.0, "acc_300s+": 1.0}),
        ("cvbench", {"acc": 3 / 4, "acc_Multi-video Temporal Reasoning": 0.0}),
        ("tvbench", {"acc": 0.5, "acc_action_sequence": 1.0, "acc_moving_direction": 0.0, "acc_mean": 0.5}),
        ("minerva", {"acc": 2 / 3, "acc_Counting": 0.5, "acc_Temporal Reasoning, Counting": 1.0, "acc_split_Cooking": 2 / 3}),
        ("mvbench", {"acc": 5 / 8, "acc_action_sequence": 0.5, "acc_episodic_reasoning": 1.0, "acc_mean": 0.625}),
        ("videommmu", {"acc": 3 / 5, "acc_Perception": 0.5, "acc_Comprehension": 1.0, "acc_Adaptation": 0.0}),
        ("aotbench", {"acc": 5 / 7, "acc_ReverseFilm": 0.5, "acc_Rtime_v2t": 0.0, "acc_AoTBench_QA": 1.0}),
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


def test_every_benchmark_names_its_sources_and_budget():
    for name in PAPER:
        bench = get_benchmark(name)
        assert bench.fixture_note and bench.budget_note and bench.frame_budget is not None, name
        assert bench.frame_budget.num_frames and bench.source


def test_task_config_is_a_stable_cache_key(fixture_data, tmp_path):
    data_dir, _ = fixture_data
    bench = get_benchmark("videott")
    a, b = task_config(bench, data_dir), task_config(bench, data_dir)
    assert a.__str__(lite=True) == b.__str__(lite=True)
    # no memory addresses (they differ between processes): lighteval's cache can hit in the next run
    assert "0x" not in a.__str__(lite=True) and "BenchmarkScorer(benchmark=videott, frames=32f-1605632px)" in a.__str__(lite=True)
    # different data -> different fingerprint (the task's hf_revision), so cached answers are not reused
    source, videos = bench.write_fixture(tmp_path / "raw")
    rows = source / "data" / "test-00000-of-00001.parquet"
    import pyarrow.parquet as pq

    table = pq.read_table(rows).to_pylist()
    table[0]["question"] = "A different question?"
    from synrl_hf.evaluation.common.converters import write_parquet

    write_parquet(rows, table)
    bench.convert(source, videos, tmp_path / "data" / "videott")
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


def test_missing_videos_skip_the_task_not_the_run(tmp_path):
    bench = get_benchmark("minerva")
    source, _ = bench.write_fixture(tmp_path / "raw")
    report = bench.convert(source, tmp_path / "nowhere", tmp_path / "data" / "minerva")
    assert report.missing_videos == report.rows == 3 and report.videos_found == 0
    model = ScriptedVideoModel(
        ScriptedModelConfig(script="x", frame_budget={"num_frames": 2}, cache_dir=str(tmp_path / "cache")), lambda doc: "A"
    )
    outcome = evaluate(model, "minerva,aotbench", tmp_path / "data", tmp_path / "out", bootstrap_iters=0)
    assert outcome.summary["tasks"] == {}
    assert (
        "missing videos" in outcome.summary["skipped_tasks"]["minerva"] and "yt0abcDEFg.mp4" in outcome.summary["skipped_tasks"]["minerva"]
    )
    assert "not converted" in outcome.summary["skipped_tasks"]["aotbench"]
    assert "not run" in (tmp_path / "out" / "results.md").read_text()
    # ... and the videos root can be fixed at evaluation time without re-converting
    outcome = evaluate(
        model, "minerva", tmp_path / "data", tmp_path / "out2", videos_root=tmp_path / "raw" / "minerva_videos", bootstrap_iters=0
    )
    assert outcome.summary["tasks"]["minerva"]["evaluated"] == 3
    assert not math.isnan(outcome.metrics("minerva")["acc"])
