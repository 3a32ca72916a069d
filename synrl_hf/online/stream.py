"""The endless online stream: a ``datasets.IterableDataset`` of samples generated as they are read.

Positions. Stream position ``u = 0, 1, 2, …`` is sample index ``ONLINE_INDEX_OFFSET + u`` of the family
drawn for it (a weighted draw seeded by the stream seed and ``u``), so no two positions share a
sample id, and no online sample is a sample of a built dataset (whose indices stay below
``ONLINE_INDEX_OFFSET``). Positions come in blocks of ``block_size`` (one GRPO generation's unique
prompts); block ``q`` belongs to lane ``q % lanes``. Lanes are the unit of parallelism: the dataset
has one shard per lane, and ``datasets`` hands shards to ranks (``split_dataset_by_node``) and to
DataLoader workers, so producers never overlap, and a lane's blocks are read in order, which is what
makes "how far each lane got" (:attr:`OnlineStream.start`) a resumable position. Every reader must
get exactly one lane (``lanes`` = ranks reading separately x workers per rank, 1 for a single
reader): ``datasets`` reads a reader's shards one after the other, and an endless lane never ends.
With one block per DataLoader batch, the lanes' blocks arrive in the same order as a single lane's.

Levels. Block ``q`` is rendered at difficulty version ``max(0, q // blocks_per_update - lag)`` of
the level source (a :class:`~synrl_hf.online.history.LevelHistory` the controller appends to, or
fixed levels): fixed by the block's position, not by when it happens to be rendered, so a run is
reproducible and a resumed run renders what an uninterrupted one would have. ``lag`` is how many
updates the stream may render ahead of the controller.

Ranks. TRL's GRPO trainer reads one logical stream on every rank and keeps each rank's slice of
every batch (accelerate's ``IterableDatasetShard``). With a :class:`GroupSlice` the stream renders
only the samples this rank keeps and yields a light placeholder (id and position, no frames) for the
rest, so each sample is rendered once in the whole run.

Sources. What makes a block's samples is a :class:`SampleSource`: :class:`LocalSource` renders them
in this process; :class:`ExecutorSource` spreads a block's samples over an executor
(:mod:`synrl_hf.executors`: local processes, or Ray tasks on a cluster), receiving a whole block's
requests at once. Whatever renders them, the rows are the same: a sample depends only on its
(family, index, seed, level) and the spec.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..build import resolve_configs
from ..difficulty import top_level
from ..families import get_family
from ..frame_budget import DEFAULT_BUDGET, FrameBudget
from ..render import RENDERERS, check_resolution
from ..sample import sample_id
from ..seeding import check_split
from .history import LevelHistory
from .sample import online_sample

ONLINE_INDEX_OFFSET = 4_000_000_000  # above every index `synrl build` and its mixtures use
STREAM_COLUMN = "stream"  # each row's {position, lane, block, version}


@dataclass(frozen=True)
class StreamSpec:
    """What the stream generates: everything a resumed run must share with the run it continues."""

    families: tuple[str, ...]
    weights: tuple[float, ...] = ()  # per family; empty: equal
    seed: int = 0
    split: str = "train"
    budget: FrameBudget = DEFAULT_BUDGET
    resolution: int = 448
    renderer: str = "pillow"
    codec: bool = False
    block_size: int = 1
    lanes: int = 1
    blocks_per_update: int = 1
    lag: int = 1

    def __post_init__(self) -> None:
        if not self.families:
            raise ValueError("the stream needs at least one family")
        for family in self.families:
            get_family(family)
        if len(set(self.families)) != len(self.families):
            raise ValueError(f"a family is listed twice: {list(self.families)}")
        if self.weights:
            if len(self.weights) != len(self.families) or any(not np.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"weights must be one number >= 0 per family ({len(self.families)}), not all 0; got {list(self.weights)}")
        check_split(self.split)
        check_resolution(self.resolution)
        if self.renderer not in RENDERERS:
            raise ValueError(f"unknown renderer {self.renderer!r}; valid renderers: {', '.join(RENDERERS)}")
        for name in ("block_size", "lanes", "blocks_per_update"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.lag, bool) or not isinstance(self.lag, int) or self.lag < 0:
            raise ValueError(f"lag must be a whole number >= 0, got {self.lag!r}")

    @classmethod
    def from_configs(cls, configs: list[str] | tuple[str, ...], **kwargs: Any) -> StreamSpec:
        """A spec over the families that config names select (``all``, a category, family ids)."""
        return cls(families=tuple(resolve_configs(list(configs))), **kwargs)

    def family_of(self, position: int) -> str:
        """The family at stream ``position``: a weighted draw seeded by (seed, position)."""
        rng = np.random.default_rng([self.seed, position])
        if not self.weights:
            return self.families[int(rng.integers(len(self.families)))]
        p = np.asarray(self.weights, float)
        return self.families[int(rng.choice(len(self.families), p=p / p.sum()))]

    def version_of(self, block: int) -> int:
        return max(0, block // self.blocks_per_update - self.lag)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["families"], data["weights"], data["budget"] = list(self.families), list(self.weights), self.budget.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamSpec:
        values = dict(data)
        values["families"], values["weights"] = tuple(values["families"]), tuple(values["weights"])
        values["budget"] = FrameBudget.from_dict(values["budget"])
        return cls(**values)


@dataclass(frozen=True)
class GroupSlice:
    """Which stream positions one rank keeps when TRL slices a GRPO stream across ``world`` ranks.

    TRL repeats each sample ``group_size`` times in a row, and every rank takes its ``batch_size``
    consecutive rows of each ``world * batch_size`` (a generation batch: ``block_size`` samples).
    """

    rank: int
    world: int
    batch_size: int
    group_size: int

    def keeps(self, offset: int) -> bool:
        """Whether this rank gets a copy of the sample at ``offset`` within its generation batch."""
        first = offset * self.group_size // self.batch_size
        last = (offset * self.group_size + self.group_size - 1) // self.batch_size
        return first <= self.rank <= last


@dataclass(frozen=True)
class FixedLevels:
    """A level source that never changes: the same level for a family at every version."""

    levels: dict[str, int]

    def at(self, version: int, *, wait: bool = False) -> dict[str, int]:
        return self.levels


class SampleSource(Protocol):
    """Makes the rows of one block: ``requests`` are (family, sample index, level), in order."""

    def render(self, spec: StreamSpec, requests: list[tuple[str, int, int]]) -> list[dict[str, Any]]: ...


def render_request(spec: StreamSpec, request: tuple[str, int, int]) -> dict[str, Any]:
    """The row of one (family, sample index, level) request of the stream ``spec``."""
    family, index, level = request
    options = {"split": spec.split, "resolution": spec.resolution, "renderer": spec.renderer, "codec": spec.codec}
    return online_sample(family, index, spec.seed, level, spec.budget, **options)


@dataclass(frozen=True)
class LocalSource:
    """Renders in this process, one sample after the other."""

    def render(self, spec: StreamSpec, requests: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
        return [render_request(spec, request) for request in requests]


@dataclass(frozen=True)
class ExecutorSource:
    """Renders a block's samples in parallel on ``executor`` (entered by the caller: ``with
    open_executor("ray", address="auto") as executor``), one sample per task. The executor belongs
    to this process: read such a stream in it (no DataLoader worker processes)."""

    executor: Any

    def render(self, spec: StreamSpec, requests: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
        return list(self.executor.imap(functools.partial(render_request, spec), requests))


@dataclass
class OnlineStream:
    """The stream of :class:`StreamSpec`, reading levels from ``levels``, from position ``start``
    (per lane: the next block to render), rendering only what ``group_slice`` keeps (all by default)
    with ``source``."""

    spec: StreamSpec
    levels: LevelHistory | FixedLevels
    start: dict[int, int] = field(default_factory=dict)
    group_slice: GroupSlice | None = None
    source: SampleSource = field(default_factory=LocalSource)

    def __post_init__(self) -> None:
        bad = sorted(lane for lane in self.start if not 0 <= lane < self.spec.lanes)
        if bad:
            raise ValueError(f"start positions name lanes {bad}; the stream has lanes 0 to {self.spec.lanes - 1}")
        tops = {family: top_level(get_family(family)) for family in self.spec.families}
        for family, level in self.levels.at(0).items():
            if family in tops and not 0 <= level <= tops[family]:
                raise ValueError(f"family {family!r} has no level {level}; its ladder has levels 0 to {tops[family]}")

    def block(self, number: int, *, wait: bool = False) -> Iterator[dict[str, Any]]:
        """The rows of block ``number``, rendered at the block's difficulty version."""
        spec = self.spec
        version = spec.version_of(number)
        levels = self.levels.at(version, wait=wait)
        lane, lane_block = number % spec.lanes, number // spec.lanes
        slots = []  # (offset, family, index, keep)
        for offset in range(spec.block_size):
            position = number * spec.block_size + offset
            family = spec.family_of(position)
            keep = self.group_slice is None or self.group_slice.keeps(offset)
            slots.append((position, family, ONLINE_INDEX_OFFSET + position, keep))
        requests = [(family, index, levels[family]) for _, family, index, keep in slots if keep]
        made = self.source.render(spec, requests)
        if len(made) != len(requests):
            raise RuntimeError(f"{type(self.source).__name__} made {len(made)} rows for {len(requests)} requests")
        made = iter(made)
        for position, family, index, keep in slots:
            where = {"position": position, "lane": lane, "block": lane_block, "version": version}
            if keep:
                yield {**next(made), STREAM_COLUMN: where}
            else:
                # Another rank's sample: TRL's slicing drops this row unread.
                yield {"id": sample_id(family, spec.seed, spec.split, index, levels[family]), STREAM_COLUMN: where}

    def rows(self, lane: int) -> Iterator[dict[str, Any]]:
        """Endless rows of ``lane``, block after block, from :attr:`start`."""
        wait = _in_dataloader_worker()
        block = self.start.get(lane, 0)
        while True:
            yield from self.block(block * self.spec.lanes + lane, wait=wait)
            block += 1

    def dataset(self):
        """The stream as a ``datasets.IterableDataset``: one shard per lane, so one lane per DataLoader worker."""
        from datasets import IterableDataset

        # A list in gen_kwargs is split across shards (datasets' rule).
        return IterableDataset.from_generator(_rows, gen_kwargs={"lanes": list(range(self.spec.lanes)), "stream": self})


def _rows(lanes: list[int], stream: OnlineStream) -> Iterator[dict[str, Any]]:
    (lane,) = lanes
    return stream.rows(lane)


def _in_dataloader_worker() -> bool:
    """Whether this is a DataLoader worker process, which may wait for the controller's next version."""
    try:
        from torch.utils.data import get_worker_info
    except ImportError:
        return False
    return get_worker_info() is not None
