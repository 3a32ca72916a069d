"""The card's preview strips show the story: frames at the clip's moments, each with its time under it."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from synrl_hf.build import BuildSpec, build
from synrl_hf.card import PREVIEW_CAPTION, PREVIEW_SIDE, PREVIEW_TILES, preview_frames
from synrl_hf.dataset_dir import MANIFEST, config_files, read_manifest

FAMILIES = ("collision_count", "card_stack", "sliding_puzzle")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("previews")
    build(BuildSpec(families=FAMILIES, per_task=1, resolution=128, splits=("train",)), out, progress=False)
    return out


def first_row(out, family):
    path = config_files(read_manifest(out / MANIFEST))[family]["train"][0]
    return pq.read_table(out / path, columns=["num_frames", "fps", "events", "operations"]).slice(0, 1).to_pylist()[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_strip_frames_are_the_story_and_differ(built, family):
    row = first_row(built, family)
    frames = preview_frames(row)
    assert frames[0] == 0 and frames[-1] == row["num_frames"] - 1 and len(frames) <= PREVIEW_TILES
    assert frames == sorted(set(frames))
    if row["operations"]:  # long-term: the reveals, and each operation halfway, its caption up
        moments = {(op["start_frame"] + op["end_frame"]) // 2 for op in row["operations"]}
    else:  # short-term: the events (bounces here)
        moments = {e["frame"] for e in row["events"]}
    assert set(frames[1:-1]) <= moments and len(frames) >= min(len(moments), PREVIEW_TILES - 2) + 2

    strip = np.asarray(Image.open(built / "previews" / f"{family}.png").convert("RGB"))
    assert strip.shape == (PREVIEW_SIDE + PREVIEW_CAPTION, PREVIEW_SIDE * len(frames), 3)
    tiles = [strip[:PREVIEW_SIDE, i * PREVIEW_SIDE : (i + 1) * PREVIEW_SIDE].astype(int) for i in range(len(frames))]
    for i in range(len(tiles) - 1):
        assert np.abs(tiles[i] - tiles[i + 1]).max() > 40, (family, frames[i], frames[i + 1])  # something visibly changed
    for i in range(len(frames)):  # a time is written under every frame
        caption = strip[PREVIEW_SIDE:, i * PREVIEW_SIDE : (i + 1) * PREVIEW_SIDE]
        assert (caption.max(axis=-1) < 100).sum() > 10


def test_many_moments_are_spread_over_the_clip():
    row = {"num_frames": 300, "operations": [], "events": [{"frame": f} for f in range(10, 290, 10)]}
    frames = preview_frames(row)
    assert len(frames) == PREVIEW_TILES and frames[0] == 0 and frames[-1] == 299
    assert frames[1] == 10 and frames[-2] == 280  # the first and the last moment are kept
