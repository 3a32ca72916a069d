"""Properties every registered family must have, checked statistically over many scenes."""

from __future__ import annotations

import collections
import hashlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from synrl_hf import FAMILIES, build_scene, families_in, generate_sample, read_frames, shapes
from synrl_hf.questions import LETTERS

N_SCENES = 200


@pytest.fixture(scope="module")
def scenes():
    cache = {}

    def get(family):
        if family not in cache:
            cache[family] = [build_scene(family, i, seed=7) for i in range(N_SCENES)]
        return cache[family]

    return get


FAMILY_IDS = list(FAMILIES)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_scene_is_deterministic(family):
    a, b = build_scene(family, 3, seed=11), build_scene(family, 3, seed=11)
    assert a.question == b.question
    for oid, track in a.timeline.tracks.items():
        np.testing.assert_array_equal(track.x, b.timeline.tracks[oid].x)
        np.testing.assert_array_equal(track.angle, b.timeline.tracks[oid].angle)
    assert build_scene(family, 4, seed=11).question != a.question or build_scene(family, 4, seed=11).seed != a.seed


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_same_sample_in_another_process_and_order(family):
    """Metadata, question, answer, MP4 bytes and decoded frames agree, whatever the process and order."""
    script = (
        "import json, hashlib; from synrl_hf import generate_sample, read_frames\n"
        f"rows = {{i: generate_sample({family!r}, i, 5, 'test', resolution=96) for i in (2, 1)}}\n"
        "print(json.dumps({i: [r['answer'], r['question'], json.dumps(r['events']), hashlib.sha256(r['video']['bytes']).hexdigest(), "
        "hashlib.sha256(read_frames(r['video']).frames.tobytes()).hexdigest()] for i, r in rows.items()}))"
    )
    other = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    for index in (1, 2):
        row = generate_sample(family, index, 5, "test", resolution=96)
        frames = hashlib.sha256(read_frames(row["video"]).frames.tobytes()).hexdigest()
        video = hashlib.sha256(row["video"]["bytes"]).hexdigest()
        assert other[str(index)] == [row["answer"], row["question"], json.dumps(row["events"]), video, frames]


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_objects_fully_in_frame(family, scenes):
    for scene in scenes(family)[:60]:
        tl = scene.timeline
        for obj in tl.objects:
            track = tl.tracks[obj.id]
            for frame in np.flatnonzero(track.visible):
                shape, _, size = track.style_at(obj, int(frame))
                height = obj.height if obj.height is not None else None
                pts = shapes.outline(shape, size, height if shape in shapes.RECTANGLES else None, float(track.angle[frame]))
                xs, ys = pts[:, 0] + track.x[frame], pts[:, 1] + track.y[frame]
                assert xs.min() >= 0 and xs.max() <= 1 and ys.min() >= 0 and ys.max() <= 1, (scene.seed, obj.id, int(frame))


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_events_are_drawn_apart(family, scenes):
    for scene in scenes(family):
        tl = scene.timeline
        by_key = collections.defaultdict(list)
        for event in tl.events:
            assert 0 <= event.frame < tl.num_frames
            by_key[(event.type, tuple(event.objects))].append(event.frame)
        for frames in by_key.values():
            gaps = np.diff(sorted(frames))
            assert (gaps >= 3).all(), (scene.seed, frames)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_questions_are_well_formed(family, scenes):
    for scene in scenes(family):
        q, tl = scene.question, scene.timeline
        if q.answer_type == "multiple_choice":
            assert len(q.options) >= 2 and len(set(q.options)) == len(q.options), q.options
            assert q.answer in LETTERS[: len(q.options)]
        else:
            assert not q.options
        if q.answer_type == "interval":
            start, end = json.loads(q.answer)
            assert 0 <= start < end <= tl.duration + 1e-6, (q.answer, tl.duration)
        if q.answer_type == "number":
            assert str(int(q.answer)) == q.answer


@pytest.mark.parametrize("family", families_in("long_term"))
def test_option_texts_never_look_like_option_letters(family, scenes):
    """An option (or an item of an ordered answer) that is a lone letter, such as the ace "A", would be
    read as an option letter: "D. A" or "<answer>A</answer>" is ambiguous."""
    looks_like_a_letter = re.compile(r"[A-Za-z][.)]?")
    for scene in scenes(family):
        q = scene.question
        texts = q.options if q.answer_type == "multiple_choice" else q.answer.split(", ") if q.answer_type == "sequence" else []
        assert not [t for t in texts if looks_like_a_letter.fullmatch(t.strip())], (scene.seed, q.full_text)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_correct_letter_is_uniform(family, scenes):
    """The correct position is uniform over each question's own options."""
    mc = [s.question for s in scenes(family) if s.question.answer_type == "multiple_choice"]
    if len(mc) < 40:
        pytest.skip(f"{family} asks too few multiple-choice questions here ({len(mc)})")
    width = max(len(q.options) for q in mc)
    observed = np.zeros(width)
    expected = np.zeros(width)
    for q in mc:
        observed[LETTERS.index(q.answer)] += 1
        expected[: len(q.options)] += 1 / len(q.options)
    assert stats.chisquare(observed, expected).pvalue > 0.001, (observed, expected)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_no_option_always_offered_and_never_correct(family, scenes):
    offered, correct = collections.Counter(), collections.Counter()
    mc = [s.question for s in scenes(family) if s.question.answer_type == "multiple_choice"]
    for q in mc:
        offered.update(q.options)
        correct[q.options[LETTERS.index(q.answer)]] += 1
    for option, times in offered.items():
        if times >= max(20, len(mc) // 4):
            assert correct[option] > 0, f"{option!r} offered {times} times, never correct"


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_duration_does_not_encode_numeric_answers(family, scenes):
    pairs = [(s.timeline.num_frames, int(s.question.answer)) for s in scenes(family) if s.question.answer_type == "number"]
    if len(pairs) < 30 or len({a for _, a in pairs}) < 2:
        pytest.skip("too few numeric answers")
    frames, answers = zip(*pairs)
    if FAMILIES[family].category == "long_term":
        pytest.skip("long-term clip length follows the operation count by design")
    assert abs(stats.spearmanr(frames, answers).statistic) < 0.35


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_row_matches_contract(family):
    row = generate_sample(family, 0, 0, "train", resolution=64)
    assert row["task"] == family and row["category"] == FAMILIES[family].category
    assert row["num_frames"] == len(row["tracks"][0]["x"]) and row["fps"] == 30
    assert row["solution"] == f"<answer>{row['answer']}</answer>"
    assert {o["id"] for o in row["objects"]} == {t["object"] for t in row["tracks"]}
    assert row["video"]["bytes"][4:8] == b"ftyp"
