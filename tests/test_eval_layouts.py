"""The other published layouts each converter accepts (the main fixtures in test_eval_benchmarks.py
cover one per benchmark), and the exact prompts of the reference protocols. Conversion only: fast."""

import csv
import json

import pyarrow.parquet as pq
import pytest

from synrl_hf.evaluation.benchmarks import get_benchmark
from synrl_hf.evaluation.benchmarks.charades_sta import write_txt_fixture
from synrl_hf.evaluation.benchmarks.mvbench import write_video_revision_fixture
from synrl_hf.evaluation.benchmarks.vcrbench import write_tsv_fixture
from synrl_hf.evaluation.benchmarks.videommmu import discipline
from synrl_hf.evaluation.common.converters import read_rows, write_clip, write_json, write_parquet


def _convert(name, source, videos, tmp_path):
    report = get_benchmark(name).convert(source, videos, tmp_path / "data" / name)
    return report, {r["id"]: r for r in read_rows(tmp_path / "data" / name)}


def test_nextgqa_reads_the_official_csv(tmp_path):
    bench = get_benchmark("nextgqa")
    source, videos = bench.write_fixture(tmp_path / "raw")
    with open(source / "test.csv", newline="") as handle:
        assert next(csv.reader(handle)) == "video_id,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4".split(",")
    report, rows = _convert("nextgqa", source, videos, tmp_path)
    assert rows["2574374895_8/qa"]["answer"] == "C"  # the answer *text* "lay on floor" is option a2
    assert rows["3842638015_4/qa"]["answer"] == "D"  # "happy" is a3 and a4: the first
    assert rows["3083302557_3/ground"]["meta"]["spans"] == [[1.2, 5.8], [12.1, 17.1]]
    assert rows["2574374895_8/ground"]["videos"] == ["NExTVideo/0101/2574374895.mp4"]  # NExT-QA <dir>/ via the map
    assert rows["3083302557_3/qa"]["videos"] == ["NExTVideo/3083302557.mp4"]  # lmms-eval's flat mirror
    text = (source / "test.csv").read_text().replace("lay on floor,8", "lie on the floor,8")
    (source / "test.csv").write_text(text)
    with pytest.raises(ValueError, match="answer 'lie on the floor' of video 2574374895 question 8 is none of its options"):
        bench.convert(source, videos, tmp_path / "bad")


def test_charades_sta_official_txt(tmp_path):
    write_clip(tmp_path / "Charades_v1_480" / "AO8RW.mp4", seconds=1)
    report, rows = _convert("charades_sta", write_txt_fixture(tmp_path / "charades_sta_test.txt"), tmp_path, tmp_path)
    assert report.rows == 2 and report.videos_found == 1 and report.missing_files == ["Charades_v1_480/Y6R7T.mp4"]
    row = rows["AO8RW_0"]
    assert row["meta"]["span"] == [0.0, 6.9]
    assert (
        get_benchmark("charades_sta")
        .prompt(row)
        .endswith(
            "Now I will give you the textual sentence: a person is putting a book on a shelf. Please return its start time and end time."
        )
    )


def test_rextime_hub_json_alone_and_github_jsonl_alone(tmp_path):
    source, videos = get_benchmark("rextime").write_fixture(tmp_path / "raw")
    hub = json.loads((source / "rextime_val.json").read_text())
    write_json(tmp_path / "hub" / "rextime_val.json", [*hub, {"qid": "qvh_test1", "vid": "x", "question": "?", "options": ["a"] * 4}])
    report, rows = _convert("rextime", tmp_path / "hub" / "rextime_val.json", videos, tmp_path / "a")
    assert report.rows == 6 and set(rows) == {f"{q}/{k}" for q in ("qvh_val241", "anet_val92", "qvh_val7") for k in ("qa", "ground")}
    assert rows["qvh_val7/ground"]["meta"]["spans"] == [[30.0, 46.0]]  # the Hub's `span`
    assert rows["anet_val92/qa"]["videos"] == ["Anet_videos_15fps_short256/v_ZMTi498qnPc.mp4"]
    report, rows = _convert("rextime", source / "data" / "rextime_val.jsonl", videos, tmp_path / "b")
    assert set(rows) == {"qvh_val241/ground", "anet_val92/ground"}  # no options: the span alone
    assert rows["qvh_val241/ground"]["question"].startswith("What were the woman and man doing")


def test_tomato_hub_parquet_and_lmms_eval_layouts(tmp_path):
    record = {
        "question": "How many times?",
        "demonstration_type": "human",
        "variation": {"composite": 0, "counterfactual": 0, "first_person": 0, "zoom": 0},
        "motion_type": "count",
        "answer": 1,
        "note": "",
        "key": "0001-01",
        "options": ["1", "2", "3"],
        "video_source_url": "",
    }
    write_parquet(tmp_path / "hub" / "data" / "count-00000-of-00001-4f2c.parquet", [record, {**record, "key": "0001-02"}])
    write_parquet(tmp_path / "hub" / "data" / "shape_trend-00000-of-00001-9a1b.parquet", [{**record, "motion_type": "shape&trend"}])
    write_clip(tmp_path / "hub" / "videos" / "human" / "0001-01.mp4", seconds=1)
    report, rows = _convert("tomato", tmp_path / "hub", tmp_path / "hub", tmp_path / "a")
    assert set(rows) == {"count-0", "count-1", "shape_trend-0"}  # no id in the Hub rows: numbered per type file
    assert (
        rows["shape_trend-0"]["meta"] == {"reason_type": "shape_trend", "demonstration_type": "human"} and rows["count-0"]["answer"] == "B"
    )
    assert report.videos_found == 1 and report.missing_files == ["videos/human/0001-02.mp4"]
    lmms = {
        "id": "3",
        "question": "q",
        "options": ["x", "y"],
        "answer": 0,
        "reason_type": "velocity&frequency",
        "demonstration_type": "object",
    }
    write_parquet(tmp_path / "lmms" / "test-00000-of-00001.parquet", [{**lmms, "video_path": "videos/object/a.mp4"}])
    _, rows = _convert("tomato", tmp_path / "lmms", tmp_path / "lmms", tmp_path / "b")
    assert list(rows) == ["velocity_frequency-3"] and rows["velocity_frequency-3"]["videos"] == ["videos/object/a.mp4"]
    write_parquet(tmp_path / "dup" / "test-00000-of-00001.parquet", [{**lmms, "video_path": "a.mp4"}] * 2)
    with pytest.raises(ValueError, match="two questions have the id 'velocity_frequency-3'"):
        get_benchmark("tomato").convert(tmp_path / "dup", tmp_path, tmp_path / "c")


def test_temporalbench_reads_the_scorers_dataset_key(tmp_path):
    source, videos = get_benchmark("temporalbench").write_fixture(tmp_path / "raw")
    items = json.loads((source / "temporalbench_short_qa.json").read_text())
    write_json(tmp_path / "alt.json", [{**{k: v for k, v in r.items() if k != "source_dataset"}, "dataset": "Charades"} for r in items])
    _, rows = _convert("temporalbench", tmp_path / "alt.json", videos, tmp_path)
    assert {r["meta"]["dataset"] for r in rows.values()} == {"Charades"}


def test_videott_and_videomme_find_vlmevalkits_flat_video_folder(tmp_path):
    source, _ = get_benchmark("videott").write_fixture(tmp_path / "raw")
    write_clip(tmp_path / "vlm" / "video" / "vtt0.mp4", seconds=1)
    report, rows = _convert("videott", source, tmp_path / "vlm", tmp_path / "a")
    assert rows["vtt0_1"]["videos"] == ["video/vtt0.mp4"] and report.videos_found == 1
    assert get_benchmark("videott").prompt(rows["vtt0_1"]) == "\nWhere does the square end up?\nA. left\nB. right\nC. top\nD. bottom\n"
    source, _ = get_benchmark("videomme").write_fixture(tmp_path / "raw2")
    write_clip(tmp_path / "vlm2" / "video" / "yt001XYZab.mp4", seconds=1)
    _, rows = _convert("videomme", source, tmp_path / "vlm2", tmp_path / "b")
    assert rows["001-1"]["videos"] == ["video/yt001XYZab.mp4"]
    assert (
        get_benchmark("videomme")
        .prompt(rows["001-1"])
        .endswith(
            "B. Candles.\nC. Berries.\nD. The three kinds are of the same number.\n\nAnswer with the option's letter from the given choices directly."
        )
    )


def test_vcrbench_vlmevalkit_tsv(tmp_path):
    _, repo = get_benchmark("vcrbench").write_fixture(tmp_path / "raw")
    write_tsv_fixture(repo)
    _, rows = _convert("vcrbench", repo, repo, tmp_path / "both")  # the repo root: the official json wins
    assert set(rows) == {"0", "3", "12", "7"}
    report, rows = _convert("vcrbench", repo / "VCR-Bench.tsv", repo, tmp_path)
    assert report.videos_found == 1 and rows["3"]["answer"] == "D" and rows["3"]["meta"]["multiple_choice"] is True
    assert rows["3"]["meta"]["duration"] == "0-60s"


def test_mvbench_video_revision_is_used_whole(tmp_path):
    report, rows = _convert("mvbench", write_video_revision_fixture(tmp_path), tmp_path / "MVBench-video", tmp_path)
    assert report.videos_found == report.videos - 1 and list(report.missing_reasons.values()) == [1]  # NTU only
    assert rows["episodic_reasoning_0"]["videos"] == ["tvqa/video_fps3_hq_segment/castle_s01e01_seg02_clip_00.mp4"]
    assert rows["action_antonym_0"]["videos"] == ["ssv2_video_mp4/10023.mp4"]  # the .webm converted to mp4
    assert all("window" not in r["meta"] and "frame_fps" not in r["meta"] for r in rows.values())  # pre-cut clips: no bounds


def test_mvbench_main_branch_bounds_and_frame_folders(tmp_path):
    source, videos = get_benchmark("mvbench").write_fixture(tmp_path / "raw")
    _, rows = _convert("mvbench", source, videos, tmp_path)
    assert rows["action_sequence_1"]["meta"]["window"] == [1.0, 3.5]
    assert rows["episodic_reasoning_0"]["videos"] == ["video/tvqa/frames_fps3_hq/castle_s01e01_seg02_clip_00"]
    assert rows["episodic_reasoning_0"]["meta"] == {"task": "episodic_reasoning", "frame_fps": 3.0, "window": [0.3, 3.0]}
    assert rows["moving_count_0"]["videos"] == ["video/data0613/clevrer/video_validation/video_10000.mp4"]
    assert "window" not in rows["action_antonym_0"]["meta"]
    assert get_benchmark("mvbench").prompt(rows["moving_count_0"]) == (
        "Question:What happened in moving_count clip 0?\nOption:\n(A) Sat down.\n(B) Stood up.\n(C) Ran.\nOnly give the best option.\n"
    )


def test_videommmu_github_json_and_discipline_folders(tmp_path):
    perception = {"Perception": {"0": {"id": "dev_Biology_3", "link_selected": "https://www.youtube.com/watch?v=U7YqCUd_ZfA", "question": "q",
                                       "options": ["a", "b"], "answer": "B"}}}  # fmt: skip
    write_json(tmp_path / "data" / "perception_video.json", perception)
    write_clip(tmp_path / "videos" / "Science" / "dev_Biology_3.mp4", seconds=1)
    report, rows = _convert("videommmu", tmp_path / "data", tmp_path / "videos", tmp_path)
    assert list(rows) == ["Perception/dev_Biology_3"] and report.videos_found == 1
    assert rows["Perception/dev_Biology_3"]["meta"] == {"track": "Perception", "question_type": "multiple-choice"}
    assert get_benchmark("videommmu").prompt(rows["Perception/dev_Biology_3"]) == (
        "q\nA. a\nB. b\nPlease ignore the Quiz question in last frame of the video."
    )
    assert discipline("validation_Basic_Medical_Science_12") == "Medicine" and discipline("test_Manage_3") == "Business"
    with pytest.raises(ValueError, match="subject 'Alchemy' of 'dev_Alchemy_1' is in no discipline"):
        discipline("dev_Alchemy_1")


def test_vinoground_lmms_eval_layout(tmp_path):
    source, _ = get_benchmark("vinoground").write_fixture(tmp_path / "raw")
    repo = tmp_path / "lmms"
    for name, folder in (("vinoground_textscore.json", "vinoground_videos"), ("vinoground_videoscore.json", "vinoground_videos_concated")):
        (repo / folder).mkdir(parents=True)
        (repo / folder / name).write_text((source / name).read_text())
    index = [{"index": f"{n}_{p}_{k}", "major": "action", "minor": "viewpoint;speed" if n == 0 else None} for n in range(3) for p in ("pos", "neg") for k in ("text", "video")]  # fmt: skip
    write_parquet(repo / "data" / "lmmseval-00000-of-00001.parquet", index)
    report, rows = _convert("vinoground", repo, source, tmp_path)
    assert report.rows == 12 and report.videos_found == 12
    assert rows["0_pos_text"]["meta"]["minor"] == ["viewpoint", "speed"] and rows["1_neg_video"]["meta"]["major"] == "action"
    _, rows = _convert("vinoground", source, source, tmp_path / "authors")
    assert rows["0_pos_text"]["meta"]["major"] == "action" and rows["0_pos_text"]["meta"]["minor"] == ["contextual", "viewpoint"]


def test_minerva_answer_text_without_an_id(tmp_path):
    source, videos = get_benchmark("minerva").write_fixture(tmp_path / "raw")
    items = json.loads(source.read_text())
    write_json(
        tmp_path / "alt.json",
        [{**{k: v for k, v in r.items() if k not in ("answer_id", "question type")}, "question_type": "x"} for r in items],
    )
    _, rows = _convert("minerva", tmp_path / "alt.json", videos, tmp_path)
    assert [r["answer"] for r in rows.values()] == ["A", "C", "E"] and rows["yt0abcDEFg_0"]["meta"]["question_type"] == "x"
    assert rows["yt1abcDEFg_1"]["videos"] == ["yt1abcDEFg.webm"] and rows["yt2abcDEFg_2"]["videos"] == ["yt2abcDEFg.MP4"]


def test_tvbench_answer_not_among_the_candidates_is_named(tmp_path):
    write_json(tmp_path / "json" / "action_count.json", [{"video": "a.mp4", "question": "q", "candidates": ["1", "2"], "answer": "3"}])
    with pytest.raises(ValueError, match=r"answer '3' of action_count.json item 0 is none of its candidates"):
        get_benchmark("tvbench").convert(tmp_path, tmp_path, tmp_path / "out")


def test_aotbench_from_the_repo_root_or_the_input_folder(tmp_path):
    source, data = get_benchmark("aotbench").write_fixture(tmp_path / "raw")
    a, rows = _convert("aotbench", source, data, tmp_path / "a")
    b, _ = _convert("aotbench", data.parent, data, tmp_path / "b")
    assert a.rows == b.rows == 7 and rows["Rtime_v2t/0"] == {
        "id": "Rtime_v2t/0",
        "videos": ["videos/Rtime_v2t/0000.mp4"],
        "question": rows["Rtime_v2t/0"]["question"],
        "options": [],
        "answer": "C",
        "meta": {"subset": "Rtime_v2t"},
    }
    assert get_benchmark("aotbench").prompt(rows["Rtime_v2t/0"]) == rows["Rtime_v2t/0"]["question"]  # the authors' raw question


def test_reference_prompts_verbatim(tmp_path):
    tomato = get_benchmark("tomato").prompt({"question": "How many?", "options": ["1", "2"]})
    assert tomato.startswith("You will be provided with frames uniformly sampled from a video,")  # no frame count (lmms-eval)
    assert "<options> \n{'A': '1', 'B': '2'} \n</options>" in tomato and "16" not in tomato
    cvbench = get_benchmark("cvbench")
    yes_no = cvbench.prompt({"question": "Same?", "options": ["Yes.", "No."]})
    assert yes_no == (
        "Select the best answer to the following yes-no question based on the listed all videos. Respond with only the word (Yes or No) "
        "of the correct option.\nSame?\nYes.\nNo.\nAnswer with the option's word (YES or NO) from the given choices directly."
    )
    assert cvbench.prompt({"question": "Q", "options": ["A. x", "B. y"]}).endswith(
        "\nA. x\nB. y\nAnswer with the option's letter (A, B, C, or D) from the given choices directly."
    )
    assert (
        get_benchmark("tvbench").prompt({"question": " Q ", "options": ["x", "y"]}) == "Q\nA. x\nB. y\nAnswer with the option letter only."
    )
    assert get_benchmark("minerva").prompt({"question": "Q", "options": ["x", "y"]}) == (
        "Q\nA. x\nB. y\nAnswer with the option's letter from the given choices directly."
    )


def test_hub_tables_keep_their_types(tmp_path):
    """The fixtures' parquet columns have the Hub's types (float16 timestamps, string ids)."""
    source, _ = get_benchmark("charades_sta").write_fixture(tmp_path)
    assert str(pq.read_schema(source).field("timestamp").type) == "list<element: halffloat>"
    source, _ = get_benchmark("videomme").write_fixture(tmp_path)
    schema = pq.read_schema(source / "test-00000-of-00001.parquet")
    assert str(schema.field("video_id").type) == "string" and str(schema.field("options").type) == "list<element: string>"
