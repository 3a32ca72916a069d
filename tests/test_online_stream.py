"""The online stream: never a repeated sample, reproducible, resumable, sliced across ranks as TRL slices it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from accelerate.data_loader import IterableDatasetShard
from trl.trainer.utils import repeat_iterable_dataset

from synrl_hf.executors import LocalExecutor
from synrl_hf.families import FAMILIES
from synrl_hf.frame_budget import FrameBudget
from synrl_hf.online import (
    ONLINE_INDEX_OFFSET,
    Curriculum,
    ExecutorSource,
    FixedLevels,
    GroupSlice,
    LevelHistory,
    LocalSource,
    OnlineStream,
    Outcome,
    StreamSpec,
    online_dataset,
    rendered_frames,
)
from synrl_hf.online.history import LevelsNotReady
from tests.row_content import content

TINY = {"budget": FrameBudget(num_frames=4), "resolution": 64}
FAMILY_SET = ("direction", "collision_count", "card_stack", "shell_game")


def batches(dataset, batch_size: int, count: int, workers: int = 0) -> list[list[dict]]:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=list)
    return list(itertools.islice(iter(loader), count))


def where(rows) -> list[tuple]:
    return [(r["id"], r["level"], r["stream"]["position"]) for r in rows]


def test_ids_never_repeat_and_the_same_spec_gives_the_same_stream():
    first = list(itertools.islice(iter(online_dataset(list(FAMILY_SET), levels=2, **TINY)), 24))
    again = list(itertools.islice(iter(online_dataset(list(FAMILY_SET), levels=2, **TINY)), 24))
    other = list(itertools.islice(iter(online_dataset(list(FAMILY_SET), levels=2, seed=1, **TINY)), 24))
    assert len({r["id"] for r in first}) == 24 and where(first) == where(again)
    assert [r["answer"] for r in first] == [r["answer"] for r in again]
    assert np.array_equal(rendered_frames(first[5]["video"]).frames, rendered_frames(again[5]["video"]).frames)
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in other)
    assert all(r["index"] >= ONLINE_INDEX_OFFSET and r["level"] == 2 and r["preset"] == "level2" for r in first)
    assert {r["task"] for r in first} == set(FAMILY_SET)  # equal weights: every family comes up


def test_weights_and_per_family_levels():
    rows = list(
        itertools.islice(
            iter(online_dataset(["direction", "card_stack"], levels={"direction": 4, "card_stack": 1}, weights=[3, 1], **TINY)), 40
        )
    )
    tasks = [r["task"] for r in rows]
    assert 0.6 < tasks.count("direction") / len(tasks) < 0.9
    assert {(r["task"], r["level"]) for r in rows} == {("direction", 4), ("card_stack", 1)}


@pytest.mark.parametrize("workers", [2])
def test_dataloader_workers_read_disjoint_lanes_in_the_single_lane_order(workers):
    block = 3
    single = batches(online_dataset("short_term", levels=1, block_size=block, **TINY), block, 2 * workers)
    parallel = batches(online_dataset("short_term", levels=1, block_size=block, lanes=workers, **TINY), block, 2 * workers, workers)
    ids = [r["id"] for batch in parallel for r in batch]
    assert len(ids) == len(set(ids)) == 2 * workers * block
    assert [where(b) for b in parallel] == [where(b) for b in single]
    assert {r["stream"]["lane"] for batch in parallel for r in batch} == set(range(workers))


def test_the_stream_refuses_to_render_ahead_of_the_controller():
    history = LevelHistory(dict.fromkeys(FAMILY_SET, 0))
    rows = iter(online_dataset(list(FAMILY_SET), levels=history, block_size=2, lag=0, **TINY))
    list(itertools.islice(rows, 2))  # block 0 renders at version 0
    with pytest.raises(LevelsNotReady, match="difficulty version 1 is not made yet"):
        next(rows)


def scripted_reward(row: dict, generation: int) -> list[float]:
    """A policy that gets better with training and worse with the level (deterministic per sample)."""
    rng = np.random.default_rng(int(row["seed"]) % (2**32))
    p = 1.0 / (1.0 + np.exp(-2.0 * (0.5 + 0.15 * generation - row["level"])))
    return (rng.random(4) < p).astype(float).tolist()


def train(stream_args: dict, generations: int, state: dict | None = None) -> tuple[list, dict]:
    """Consume ``generations`` blocks as GRPO would (score, then update the controller); returns what was
    rendered and the state a checkpoint would store (stream position + controller)."""
    tops = dict.fromkeys(FAMILY_SET, 4)
    curriculum = Curriculum(tops, 1, band=(0.35, 0.65), min_groups=2)
    start = 0
    if state is not None:
        curriculum.load_state_dict(state["curriculum"])
        start = state["next_block"]
    spec = StreamSpec(FAMILY_SET, block_size=4, **stream_args, **TINY)
    rows = OnlineStream(spec, curriculum.history, {0: start}).rows(0)
    seen = []
    for generation in range(start, start + generations):
        block = list(itertools.islice(rows, spec.block_size))
        seen += where(block)
        outcomes = [Outcome(r["id"], r["task"], r["level"], x) for r in block for x in scripted_reward(r, generation)]
        curriculum.update(outcomes)
    return seen, {"next_block": start + generations, "curriculum": curriculum.state_dict()}


def test_a_resumed_stream_continues_with_the_samples_and_levels_of_an_uninterrupted_one():
    uninterrupted, _ = train({"lag": 1}, 12)
    first, saved = train({"lag": 1}, 5)
    rest, _ = train({"lag": 1}, 7, saved)
    assert first + rest == uninterrupted
    levels = [level for _, level, _ in uninterrupted]
    assert len(set(levels)) > 1  # the controller did move levels during the run


def test_group_slice_renders_each_sample_on_the_ranks_that_train_on_it():
    """Through TRL's repeat and accelerate's IterableDatasetShard, exactly as a 2-rank GRPO run reads it."""
    world, per_rank, group = 2, 4, 2  # completions per rank per generation, generations per prompt
    block = world * per_rank // group
    kept: dict[int, list] = {}
    for rank in range(world):
        spec = StreamSpec(FAMILY_SET, block_size=block, **TINY)
        stream = OnlineStream(spec, FixedLevels(dict.fromkeys(FAMILY_SET, 0)), group_slice=GroupSlice(rank, world, per_rank, group))
        repeated = repeat_iterable_dataset(stream.dataset(), mini_repeat_count=group, batch_size=block, repeat_count=2)
        shard = IterableDatasetShard(repeated, batch_size=per_rank, num_processes=world, process_index=rank)
        kept[rank] = list(itertools.islice(iter(shard), per_rank * 2 * 3))  # 3 generations, each used twice
    for rows in kept.values():
        assert all(rendered_frames(r.get("video")) is not None for r in rows)  # no placeholder reaches a rank
    unique = [{r["id"] for r in rows} for rows in kept.values()]
    assert unique[0].isdisjoint(unique[1])
    assert sorted(r["stream"]["position"] for rank in kept for r in kept[rank][::group]) == sorted(
        p for g in range(3) for p in range(g * block, (g + 1) * block) for _ in range(2)
    )


def test_worker_processes_wait_for_the_versions_the_controller_writes(tmp_path):
    """Adaptive levels with DataLoader workers: the history file carries each new version to them."""

    def run(lanes: int, workers: int, path) -> list:
        history = LevelHistory(dict.fromkeys(FAMILY_SET, 0), path)
        dataset = online_dataset(list(FAMILY_SET), levels=history, block_size=2, lanes=lanes, blocks_per_update=2, lag=1, **TINY)
        loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=workers, collate_fn=list)
        seen = []
        for number, block in enumerate(itertools.islice(iter(loader), 8)):
            seen += where(block)
            if number % 2 == 1:  # one controller update per pair of blocks: every family one level up
                history.append({f: min(4, (number + 1) // 2) for f in FAMILY_SET})
        return seen

    single = run(1, 0, None)
    assert run(2, 2, tmp_path / "levels.jsonl") == single
    assert [level for _, level, _ in single] == [0] * 8 + [1] * 4 + [2] * 4


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"families": ()}, "at least one family"),
        ({"families": ("direction", "nope")}, "unknown family 'nope'"),
        ({"families": ("direction", "direction")}, "listed twice"),
        ({"weights": (1.0,)}, "one number >= 0 per family"),
        ({"weights": (0.0, 0.0)}, "not all 0"),
        ({"lanes": 0}, "lanes must be a whole number >= 1"),
        ({"lag": -1}, "lag must be a whole number >= 0"),
        ({"renderer": "povray"}, "valid renderers: pillow, matplotlib"),
        ({"resolution": 65}, "odd"),
    ],
)
def test_bad_stream_settings_are_refused_with_the_valid_choices(changes, message):
    with pytest.raises(ValueError, match=message):
        StreamSpec(**{"families": ("direction", "card_stack"), **changes})


def test_levels_outside_a_ladder_and_saved_specs():
    spec = StreamSpec(("direction",))
    with pytest.raises(ValueError, match="family 'direction' has no level 7; its ladder has levels 0 to 4"):
        OnlineStream(spec, FixedLevels({"direction": 7}))
    with pytest.raises(ValueError, match="start positions name lanes \\[3\\]"):
        OnlineStream(spec, FixedLevels({"direction": 0}), {3: 1})
    assert StreamSpec.from_dict(spec.to_dict()) == spec
    assert len(StreamSpec.from_configs(["all"]).families) == len(FAMILIES)


def test_the_sample_source_is_pluggable():
    """A stand-in for a pool or a cluster: it gets whole blocks of requests and must return the same rows."""

    class Recording(LocalSource):
        def __init__(self):
            self.calls = []

        def render(self, spec, requests):
            self.calls.append(list(requests))
            return super().render(spec, requests)

    spec = StreamSpec(FAMILY_SET, block_size=3, **TINY)
    levels = FixedLevels(dict.fromkeys(FAMILY_SET, 1))
    source = Recording()
    plugged = list(itertools.islice(OnlineStream(spec, levels, source=source).rows(0), 6))
    default = list(itertools.islice(OnlineStream(spec, levels).rows(0), 6))
    assert where(plugged) == where(default) and [len(c) for c in source.calls] == [3, 3]
    assert source.calls[0] == [(r["task"], r["index"], 1) for r in default[:3]]

    class Short(LocalSource):
        def render(self, spec, requests):
            return super().render(spec, requests)[:-1]

    with pytest.raises(RuntimeError, match="Short made 2 rows for 3 requests"):
        list(itertools.islice(OnlineStream(spec, levels, source=Short()).rows(0), 3))


def test_an_executor_source_spreads_a_block_over_processes_and_makes_the_same_rows():
    spec = StreamSpec(FAMILY_SET, block_size=4, **TINY)
    levels = FixedLevels(dict.fromkeys(FAMILY_SET, 1))
    with LocalExecutor(2) as executor:
        spread = list(itertools.islice(OnlineStream(spec, levels, source=ExecutorSource(executor)).rows(0), 8))
    default = list(itertools.islice(OnlineStream(spec, levels).rows(0), 8))
    assert [content(row) for row in spread] == [content(row) for row in default]  # frames included
