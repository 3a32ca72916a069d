"""The one FrameBudget: validation, which frames it reads (whole clips or a start/end window),
resizing, its tag and dict, and the precedence flag > checkpoint record > benchmark > default."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from synrl_hf import generate_sample
from synrl_hf.frame_budget import (
    BUDGET_FILE,
    DEFAULT_BUDGET,
    BudgetChoice,
    FrameBudget,
    choose_budget,
    fit_frames,
    frame_size,
    recorded_budget,
)
from synrl_hf.video import VideoFrames, read_frames


@pytest.fixture(scope="module")
def clip():
    row = generate_sample("direction", 0, 0, "train", resolution=64)
    return row["video"]["bytes"], row["num_frames"], float(row["fps"])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({}, "fps or num_frames"),
        ({"fps": 2.0, "num_frames": 4}, "fps or num_frames"),
        ({"fps": 0.0}, "fps must be a finite number > 0"),
        ({"fps": math.nan}, "fps must be a finite number > 0"),
        ({"fps": math.inf}, "fps must be a finite number > 0"),
        ({"fps": True}, "fps must be"),
        ({"num_frames": 0}, "num_frames must be a positive whole number"),
        ({"num_frames": 2.5}, "num_frames must be a positive whole number"),
        ({"fps": 2.0, "max_frames": -1}, "max_frames must be"),
        ({"fps": 2.0, "max_pixels": 0}, "max_pixels must be"),
        ({"num_frames": 16, "max_frames": 8}, "num_frames 16 is more than max_frames 8"),
        ({"fps": 2.0, "max_pixels": 100, "min_pixels": 200}, "min_pixels 200 is more than max_pixels 100"),
        ({"fps": 2.0, "backend": "ffmpeg"}, "valid: auto, pyav, decord"),
    ],
)
def test_bad_budgets_say_what_is_wrong(kwargs, words):
    with pytest.raises(ValueError, match=words):
        FrameBudget(**kwargs)


def test_reads_a_rate_a_count_or_the_capped_rate(clip):
    video, total, fps = clip
    count = FrameBudget(num_frames=6).read(video)
    assert len(count.indices) == 6 and count.indices.tolist() == read_frames(video, num_frames=6).indices.tolist()
    rate = FrameBudget(fps=2.0).read(video)
    assert rate.indices.tolist() == read_frames(video, fps=2.0).indices.tolist() and len(rate.indices) > 6
    capped = FrameBudget(fps=2.0, max_frames=5).read(video)
    assert capped.indices.tolist() == read_frames(video, num_frames=5).indices.tolist()
    roomy = FrameBudget(fps=2.0, max_frames=100).read(video)  # the cap only bites when the rate gives more
    assert roomy.indices.tolist() == rate.indices.tolist()
    for budget in (FrameBudget(num_frames=6), FrameBudget(fps=2.0), FrameBudget(fps=2.0, max_frames=5)):
        assert budget.indices(total, fps).tolist() == budget.read(video).indices.tolist()  # no decoding needed to know


def test_a_window_samples_inside_start_and_end_only(clip):
    video, total, fps = clip
    start, end = 1.0, 2.0
    first, last = round(start * fps), round(end * fps)
    inside = FrameBudget(num_frames=4).read(video, window=(start, end))
    assert inside.indices.tolist() == (first + np.round(np.linspace(0, last - first, 4)).astype(int)).tolist()
    assert inside.timestamps.min() >= start - 1e-9 and inside.timestamps.max() <= end + 1e-9
    rate = FrameBudget(fps=2.0, max_frames=64).read(video, window=(start, end))
    assert rate.indices.tolist() == (first + np.arange(0, last - first + 1, fps / 2.0).astype(int)).tolist()
    assert FrameBudget(num_frames=4).indices(total, fps, (start, end)).tolist() == inside.indices.tolist()
    past_the_end = FrameBudget(num_frames=2).read(video, window=(start, 1e6))  # clamped to the clip
    assert past_the_end.indices.tolist() == [first, total - 1]
    with pytest.raises(ValueError, match="start <= end"):
        FrameBudget(num_frames=2).read(video, window=(2.0, 1.0))


def test_resize_follows_qwens_rule():
    frames = VideoFrames(np.zeros((2, 90, 160, 3), np.uint8), np.arange(2), np.arange(2) / 30, 30.0, 2)
    images = FrameBudget(num_frames=2, max_pixels=56 * 56).resize(frames, factor=28)
    assert [im.size for im in images] == [(56, 28), (56, 28)]  # width, height: multiples of 28, aspect kept, ≤ 3136 px
    unbounded = FrameBudget(num_frames=2).resize(frames, factor=28)
    assert unbounded[0].size == (168, 84)  # only rounded to the patch grid
    grown = FrameBudget(num_frames=2, min_pixels=200 * 200).resize(frames, factor=28)
    assert grown[0].size[0] * grown[0].size[1] >= 200 * 200


@pytest.mark.parametrize("factor", [28, 32], ids=["qwen2_5_vl", "qwen3_vl"])
def test_resize_never_exceeds_max_pixels(factor):
    """Qwen2.5-VL's patch 14 x merge 2 and Qwen3-VL's patch 16 x merge 2: every frame stays within the budget."""
    for (height, width), max_pixels in itertools.product(
        [(448, 448), (360, 640), (300, 500), (330, 330), (250, 260), (64, 64), (1080, 1920)], [50_176, 100_352, 200_704, 40 * 40]
    ):
        size = frame_size(height, width, factor, max_pixels=max_pixels)
        assert size[0] * size[1] <= max_pixels and size[0] % factor == 0 and size[1] % factor == 0, (height, width, max_pixels)
        frames = VideoFrames(np.zeros((3, height, width, 3), np.uint8), np.arange(3), np.arange(3) / 30, 30.0, 3)
        images = FrameBudget(num_frames=3, max_pixels=max_pixels).resize(frames, factor)
        assert all((im.size[1], im.size[0]) == size for im in images)
        fitted = fit_frames(frames, factor, max_pixels=max_pixels)
        assert fitted.frames.shape == (3, *size, 3) and fitted.timestamps is frames.timestamps


def test_a_budget_below_one_patch_group_is_refused():
    with pytest.raises(ValueError, match="raise max_pixels to at least 1024"):
        frame_size(448, 448, 32, max_pixels=500)


def test_tag_dict_and_words():
    assert DEFAULT_BUDGET.tag == "4fps-max64f-100352px"
    assert FrameBudget(num_frames=16, max_frames=64, max_pixels=200704).tag == "16f-200704px"  # the cap does not change a count
    assert FrameBudget(fps=0.5, min_pixels=3136).tag == "0.5fps-min3136px"
    assert DEFAULT_BUDGET.describe() == "4 fps (at most 64 frames), at most 100,352 pixels per frame"
    data = DEFAULT_BUDGET.to_dict()
    assert data == {"fps": 4.0, "num_frames": None, "max_frames": 64, "max_pixels": 100352, "min_pixels": None}
    assert FrameBudget.from_dict(data) == DEFAULT_BUDGET and FrameBudget(fps=2.0, backend="pyav") == FrameBudget(fps=2.0)
    with pytest.raises(ValueError, match="unknown frame budget keys"):
        FrameBudget.from_dict({**data, "frames": 3})
    assert FrameBudget.parse_sampling("16") == {"num_frames": 16} and FrameBudget.parse_sampling("2fps") == {"fps": 2.0}
    for bad in ("0", "2fpx", "-1fps", "nanfps"):
        with pytest.raises(ValueError, match="frame count"):
            FrameBudget.parse_sampling(bad)


def test_override_swaps_rate_and_count():
    assert DEFAULT_BUDGET.override(num_frames=16) == FrameBudget(num_frames=16, max_pixels=100352)
    assert FrameBudget(num_frames=16).override(fps=2.0) == FrameBudget(fps=2.0)
    assert DEFAULT_BUDGET.override(fps=1.0, max_pixels=None) == FrameBudget(fps=1.0, max_frames=64, max_pixels=100352)
    assert DEFAULT_BUDGET.override(num_frames=8, max_frames=8).max_frames == 8
    with pytest.raises(ValueError, match="not both"):
        DEFAULT_BUDGET.override(fps=1.0, num_frames=8)
    with pytest.raises(ValueError, match="unknown frame budget fields"):
        DEFAULT_BUDGET.override(frames=8)


def test_precedence_flag_then_checkpoint_then_default(tmp_path):
    assert recorded_budget(tmp_path) is None and recorded_budget("no-such-folder") is None
    trained = FrameBudget(fps=2.0, max_frames=32, max_pixels=50176)
    assert trained.save(tmp_path) == tmp_path / BUDGET_FILE
    assert recorded_budget(tmp_path) == trained

    assert choose_budget(None) == BudgetChoice(DEFAULT_BUDGET, "default", "default")
    checkpoint = choose_budget(recorded_budget(tmp_path), num_frames=None, max_pixels=None)  # None: not given
    assert checkpoint == BudgetChoice(trained, "checkpoint", "checkpoint")
    assert checkpoint.describe() == "2 fps (at most 32 frames), at most 50,176 pixels per frame (the checkpoint's recorded budget)"
    flagged = choose_budget(trained, num_frames=8)
    assert flagged.budget == FrameBudget(num_frames=8, max_pixels=50176) and flagged.flags == ("num_frames",)
    assert flagged.to_dict() == {
        **flagged.budget.to_dict(),
        "tag": "8f-50176px",
        "source": "flag",
        "base": "checkpoint",
        "flags": ["num_frames"],
    }
    assert "set by num_frames; the rest from the checkpoint's recorded budget" in flagged.describe()
    assert choose_budget(None, max_pixels=3136).budget == FrameBudget(fps=4.0, max_frames=64, max_pixels=3136)

    # evaluation: a benchmark's usual budget sits between the checkpoint's record and the default
    usual = FrameBudget(num_frames=16, max_pixels=1_605_632)
    assert choose_budget(None, usual) == BudgetChoice(usual, "benchmark", "benchmark")
    assert choose_budget(trained, usual).source == "checkpoint"  # the checkpoint's record wins
    over_usual = choose_budget(None, usual, max_pixels=200704)
    assert over_usual.budget == FrameBudget(num_frames=16, max_pixels=200704) and over_usual.base == "benchmark"
    assert "the rest from the benchmark's usual budget" in over_usual.describe()

    (tmp_path / BUDGET_FILE).write_text(json.dumps({"fps": -1}))
    with pytest.raises(ValueError, match=f"{BUDGET_FILE}: not a valid frame budget"):
        recorded_budget(tmp_path)


def test_a_hub_id_without_a_reachable_record_has_none(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert recorded_budget("synrl-hf/not-in-the-cache") is None
