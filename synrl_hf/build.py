"""Build a dataset folder in the standard Hub layout: parquet shards with embedded MP4s + a card.

The folder's layout (card, manifest, ``data/<config>/<split>-<start>-<stop>-<sha>.parquet``) is
:mod:`synrl_hf.dataset_dir`'s. Family configs hold ``data/<family>/…`` shards, the training
mixtures (:mod:`synrl_hf.mixtures`) ``data/sft/…``, ``data/grpo/…``, ``data/round2/…`` when asked
for; a manifest entry also records the index range and the spec its shard was made from. The model
CoT pipeline keeps its checkpoints and statistics in ``cot/<chunk>.jsonl`` (not uploaded).

Shards are the unit of work, resume and parallel slicing (``shard=(i, n)``). Their names carry a
content hash, so a rebuild never reuses ``load_dataset``'s cache of an older build (datasets keys
a local folder's cache on the data_files patterns, not on file contents).

One build loop for every engine: the rows of the shards still missing are rendered by an executor
(:mod:`synrl_hf.executors`: local processes, or Ray tasks on a cluster) that hands them back in
order, and this process writes each shard, then the manifest, then the card. So the engine never
changes a byte of the output, and the workers need no access to the output folder, which may be a
local folder or any fsspec URL (:mod:`synrl_hf.storage`: what each kind of store guarantees).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from .card import write_card
from .dataset_dir import MANIFEST, PARTIAL_MANIFEST, read_manifest, shard_is_intact, shard_path, write_manifest
from .difficulty import level_of
from .executors import check_engine, open_executor
from .families import CATEGORIES, FAMILIES, families_in, get_family
from .files import atomic_write_bytes, check_writable_folder, remove_temp_files
from .folder_lock import folder_lock
from .mixtures import (
    MIXTURE_PRESET,
    MIXTURES,
    PAPER_GENERAL_SIZE,
    PAPER_MIXTURE_SIZES,
    PURPOSE_OFFSET,
    CoTSource,
    GeneralQA,
    mixture_rows,
    mixture_sample,
)
from .render import MIN_RESOLUTION, check_renderer, check_resolution
from .seeding import SPLITS
from .storage import FsspecPath, open_folder, write_guarantee
from .version import GENERATOR_VERSION

DEFAULT_SHARD_SIZE = 200
ROW_GROUP_SIZE = 32  # small row groups: the Hub viewer and streaming read media datasets by row group

# The limits of a build, each with its reason (the CLI's messages quote them).
MAX_INDEX = min(PURPOSE_OFFSET.values())
WHY_MAX_INDEX = "sample indices from 10^9 on belong to the training mixtures' videos"
MAX_SHARD_SIZE = 10_000
WHY_MAX_SHARD_SIZE = "a shard's rows, videos included, are held in memory until it is written"
MAX_SHARDS = 100_000
WHY_MAX_SHARDS = "every shard is a manifest entry and a line of the card"
MAX_SEED = 2**63 - 1
WHY_MAX_SEED = "seeds are stored as 64-bit integers"
# Memory of one worker while it renders and encodes a clip: about 80-100 bytes per frame pixel
# (measured at 1024 and 2048 px: the renderer's canvas, the frame, x264's buffers), on top of the
# worker process itself (Python, numpy, PyAV, Pillow).
PEAK_BYTES_PER_PIXEL = 100
WORKER_BYTES = 300 * 2**20
ROWS_PER_TASK = 2  # clips per unit of work handed to a worker process or a Ray task


def worker_memory(resolution: int) -> int:
    """Bytes one worker needs while it renders and encodes clips at ``resolution``."""
    return WORKER_BYTES + PEAK_BYTES_PER_PIXEL * resolution**2


def resolve_configs(configs: Iterable[str]) -> list[str]:
    """Families named by config names (``all``, a category, or a family id), in registry order.

    The mixture configs ``sft`` and ``grpo`` are valid names too but name no family (see
    :func:`resolve_mixtures`).
    """
    wanted: set[str] = set()
    for config in configs:
        if config in MIXTURES:
            continue
        if config == "all":
            wanted.update(FAMILIES)
        elif config in CATEGORIES:
            wanted.update(families_in(config))
        elif config in FAMILIES:
            wanted.add(config)
        else:
            valid = ["all", *CATEGORIES, *FAMILIES, *MIXTURES]
            raise ValueError(f"unknown config {config!r}; valid configs: {', '.join(valid)}")
    return [name for name in FAMILIES if name in wanted]


def resolve_mixtures(configs: Iterable[str]) -> list[str]:
    """The mixture configs (``sft``, ``grpo``, ``round2``) among config names, in that order."""
    configs = list(configs)
    return [name for name in MIXTURES if name in configs]


COT_SOURCES = ("template", "model")
# Settings of the model-CoT pipeline that change its output (the base URL and the key do not).
COT_SPEC_KEYS = ("backend", "model", "max_rounds", "frames", "polish", "judge", "temperature", "max_tokens")


@dataclass(frozen=True)
class BuildSpec:
    """Everything that decides the content of a build; validated before any work is done."""

    families: tuple[str, ...]
    per_task: int
    seed: int = 0
    resolution: int = 448
    preset: str = "round1"
    renderer: str = "pillow"
    splits: tuple[str, ...] = SPLITS
    shard_size: int = DEFAULT_SHARD_SIZE
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-family parameter overrides
    # Training mixtures (synrl_hf.mixtures): configs, the families they draw from (all when empty),
    # synthetic rows per config (train split only; configs not given keep the paper's size), CoT
    # source and options, general video QA and how many of its rows go on top of sft's synthetic ones.
    mixtures: tuple[str, ...] = ()
    mixture_families: tuple[str, ...] = ()
    mixture_sizes: dict[str, int] = field(default_factory=lambda: dict(PAPER_MIXTURE_SIZES))
    cot: str = "template"
    cot_options: dict[str, Any] = field(default_factory=dict)  # backend, model, max_rounds, frames, …; never a key
    general_qa: str | None = None
    general_size: int = PAPER_GENERAL_SIZE
    general_fingerprint: str = ""  # filled in by build() from the general-QA source's content

    def __post_init__(self) -> None:
        if not self.families and not self.mixtures:
            raise ValueError("no families to build")
        for name in self.mixtures:
            if name not in MIXTURES:
                raise ValueError(f"unknown mixture {name!r}; valid: {', '.join(MIXTURES)}")
        for family in self.mixture_families:
            get_family(family)
        for name in self.mixture_sizes:
            if name not in MIXTURES:
                raise ValueError(f"unknown mixture {name!r} in mixture_sizes; valid: {', '.join(MIXTURES)}")
        object.__setattr__(self, "mixture_sizes", {**PAPER_MIXTURE_SIZES, **self.mixture_sizes})
        for name, size in self.mixture_sizes.items():
            low = 1 if name in self.mixtures else 0  # a requested mixture of 0 rows would be a config that cannot load
            if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= MAX_INDEX:
                raise ValueError(
                    f"the size of mixture {name!r} must be a whole number between {low} and {MAX_INDEX:,} ({WHY_MAX_INDEX}), got {size!r}"
                )
        if self.cot not in COT_SOURCES:
            raise ValueError(f"unknown CoT source {self.cot!r}; valid: {', '.join(COT_SOURCES)}")
        if isinstance(self.general_size, bool) or not isinstance(self.general_size, int) or not 0 <= self.general_size <= MAX_INDEX:
            raise ValueError(
                f"general_size must be a whole number between 0 and {MAX_INDEX:,} ({WHY_MAX_INDEX}), got {self.general_size!r}"
            )
        if "api_key" in self.cot_options:
            raise ValueError("never put the API key in the build spec (it is written to the manifest); use SYNRL_COT_API_KEY")
        for family in self.families:
            get_family(family).params(self.preset)  # a level above a family's ladder fails here
        if isinstance(self.per_task, bool) or not isinstance(self.per_task, int) or self.per_task < 0:
            raise ValueError(f"per_task must be a non-negative integer, got {self.per_task!r}")
        if self.families and not 1 <= self.per_task <= MAX_INDEX:  # 0 would build nothing and prune every shard of the families
            raise ValueError(f"per_task must be between 1 and {MAX_INDEX:,} ({WHY_MAX_INDEX}), got {self.per_task:,}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be a whole number between 0 and {MAX_SEED} ({WHY_MAX_SEED}), got {self.seed!r}")
        if not 1 <= self.shard_size <= MAX_SHARD_SIZE:
            raise ValueError(f"shard_size must be between 1 and {MAX_SHARD_SIZE:,} ({WHY_MAX_SHARD_SIZE}), got {self.shard_size:,}")
        check_resolution(self.resolution)
        level_of(self.preset)
        check_renderer(self.renderer)
        if not self.splits:
            raise ValueError(f"no splits to build; valid splits: {', '.join(SPLITS)}")
        for split in self.splits:
            if split not in SPLITS:
                raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
        for family, overrides in self.params.items():
            get_family(family).params(self.preset, **overrides)
        shards = self.shard_count()
        if shards > MAX_SHARDS:  # refused before planning: a plan this large takes minutes to make
            raise ValueError(
                f"this build would have {shards:,} shards, at most {MAX_SHARDS:,} ({WHY_MAX_SHARDS}); "
                f"use fewer samples or larger shards (shard_size up to {MAX_SHARD_SIZE:,})"
            )

    def shard_count(self) -> int:
        """How many shards the whole build has (arithmetic, without planning them)."""
        per_family = len(self.splits) * math.ceil(self.per_task / self.shard_size)
        return len(self.families) * per_family + sum(math.ceil(self.mixture_sizes[name] / self.shard_size) for name in self.mixtures)

    def settings(self) -> dict[str, Any]:
        """Everything that decides the build's content, as JSON values: equal settings, equal datasets
        (slices of one build must agree on them)."""
        settings = json.loads(json.dumps(asdict(self)))
        del settings["general_fingerprint"]
        if self.mixtures:
            settings["cot_options"] = {k: v for k, v in self.cot_options.items() if k in COT_SPEC_KEYS}
            settings["general_qa"] = self.general_fingerprint or self.general_qa
        else:  # the mixtures' settings shape nothing in a build without mixtures
            for name in ("mixture_families", "mixture_sizes", "cot", "cot_options", "general_qa", "general_size"):
                del settings[name]
        return {"generator_version": GENERATOR_VERSION, **settings}

    def family_spec(self, family: str) -> dict[str, Any]:
        """What a shard of ``family`` depends on (not per_task: a larger build reuses full shards)."""
        return {
            "generator_version": GENERATOR_VERSION,
            "family": family,
            "seed": self.seed,
            "resolution": self.resolution,
            "preset": self.preset,
            "renderer": self.renderer,
            "params": self.params.get(family, {}),
            "shard_size": self.shard_size,
        }

    @property
    def mixture_pool(self) -> tuple[str, ...]:
        """The families the mixtures draw from, in registry order."""
        return tuple(f for f in FAMILIES if f in self.mixture_families) if self.mixture_families else tuple(FAMILIES)

    def mixture_preset(self, name: str) -> str:
        return MIXTURE_PRESET.get(name, self.preset)

    def mixture_spec(self, name: str) -> dict[str, Any]:
        """What a shard of mixture ``name`` depends on."""
        spec = {
            "generator_version": GENERATOR_VERSION,
            "config": name,
            "families": list(self.mixture_pool),
            "seed": self.seed,
            "resolution": self.resolution,
            "preset": self.mixture_preset(name),
            "renderer": self.renderer,
            "params": {f: self.params[f] for f in self.mixture_pool if f in self.params},
            "shard_size": self.shard_size,
        }
        if name == "sft":
            spec["cot"] = self.cot
            if self.cot == "model":
                spec["cot_options"] = {k: self.cot_options[k] for k in COT_SPEC_KEYS if k in self.cot_options}
            spec["general_qa"] = self.general_fingerprint or self.general_qa
            spec["general_size"] = self.general_size if self.general_qa else 0
            # Which general rows a shard holds depends on the ratio of general to synthetic rows.
            spec["synthetic_size"] = self.mixture_sizes["sft"] if self.general_qa else None
        return spec


@dataclass(frozen=True)
class Chunk:
    family: str
    split: str
    start: int
    stop: int
    spec_hash: str

    @property
    def size(self) -> int:
        return self.stop - self.start


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def plan_chunks(spec: BuildSpec, shard: tuple[int, int] | None = None) -> list[Chunk]:
    chunks = [
        Chunk(family, split, start, min(start + spec.shard_size, spec.per_task), spec_hash(spec.family_spec(family)))
        for family in spec.families
        for split in spec.splits
        for start in range(0, spec.per_task, spec.shard_size)
    ]
    chunks += [
        Chunk(name, "train", start, min(start + spec.shard_size, spec.mixture_sizes[name]), spec_hash(spec.mixture_spec(name)))
        for name in spec.mixtures
        for start in range(0, spec.mixture_sizes[name], spec.shard_size)
    ]
    if shard is None:
        return chunks
    index, count = shard
    return [chunk for number, chunk in enumerate(chunks) if number % count == index]


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` → (i, N) with 0 <= i < N."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/N (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text}: need 0 <= i < N, e.g. 0/{max(count, 1)} … {max(count, 1) - 1}/{max(count, 1)}")
    return index, count


# -- generation ----------------------------------------------------------------------------------
def _generate_row(task: tuple) -> dict[str, Any]:
    from .sample import generate_sample

    family, split, index, preset, spec = task
    return generate_sample(
        family, index, spec.seed, split, preset=preset, params=spec.params.get(family), resolution=spec.resolution, renderer=spec.renderer
    )


def write_shard(out: Path | FsspecPath, chunk: Chunk, rows: list[dict[str, Any]], features=None) -> tuple[str, dict[str, Any]]:
    """Write rows (possibly none) under their content-addressed name: the parquet file is made in
    memory (its hash names it), then written whole (:func:`synrl_hf.files.atomic_write_bytes`)."""
    import pyarrow as pa
    from datasets import Dataset
    from datasets.table import embed_table_storage

    from .features import SAMPLE_FEATURES

    features = features or SAMPLE_FEATURES
    data = Dataset.from_list(rows, features=features) if rows else Dataset.from_dict({name: [] for name in features}, features=features)
    table = embed_table_storage(data.data.table)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=ROW_GROUP_SIZE)
    content = memoryview(sink.getvalue())
    sha = hashlib.sha256(content).hexdigest()
    relpath = shard_path(chunk.family, chunk.split, chunk.start, chunk.stop, sha)
    atomic_write_bytes(out / relpath, content)
    entry = {**asdict(chunk), "rows": len(rows), "sha256": sha, "bytes": len(content)}
    return relpath, entry


def check_output_dir(out: str | os.PathLike) -> Path:
    return check_writable_folder(out)


def available_memory() -> int | None:
    """Bytes of memory available to new work on this machine (Linux's MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def check_build(
    spec: BuildSpec,
    out: str | os.PathLike,
    num_proc: int | None = 1,
    *,
    engine: str = "local",
    ray_address: str | None = None,
    shard: tuple[int, int] | None = None,
) -> Path | FsspecPath:
    """The checks of a build that depend on this machine, before any work: the output folder can be
    written (a local folder, or an fsspec URL whose store is installed), the engine can run, and
    ``num_proc`` local workers rendering at ``spec.resolution`` fit in the memory available (a Ray
    cluster's nodes are checked when it is reached: :class:`synrl_hf.executors.RayExecutor`)."""
    folder = open_folder(out)
    if isinstance(folder, FsspecPath):
        if shard is not None:
            raise ValueError(f"--shard writes a slice that `synrl merge` assembles from local folders; for {out} use --engine ray instead")
        if "sft" in spec.mixtures and spec.cot == "model":
            raise ValueError(
                f"model CoT keeps its resumable checkpoints in the output folder's cot/ on local disk; build into a local folder, not {out}"
            )
    else:
        folder = check_output_dir(folder)
    check_engine(engine, ray_address, num_proc)
    if engine != "local":
        return folder
    num_proc = 1 if num_proc is None else num_proc
    available = available_memory()
    per_worker = worker_memory(spec.resolution)
    if available is not None and num_proc * per_worker > available:
        gib = 2**30
        largest = int(math.isqrt(max(0, available // num_proc - WORKER_BYTES) // PEAK_BYTES_PER_PIXEL)) // 2 * 2
        fits = f"at most resolution {largest} with {num_proc} worker(s)" if largest >= MIN_RESOLUTION else "use fewer workers"
        raise ValueError(
            f"resolution {spec.resolution} with {num_proc} worker(s) needs about {num_proc * per_worker / gib:.1f} GiB "
            f"(each worker holds about {PEAK_BYTES_PER_PIXEL} bytes per frame pixel while it encodes a clip), "
            f"but this machine has {available / gib:.1f} GiB available: {fits}"
        )
    return folder


def build(
    spec: BuildSpec,
    out: str | os.PathLike,
    *,
    num_proc: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    shard: tuple[int, int] | None = None,
    progress: bool = True,
    cot_backend: Any = None,
) -> dict[str, Any]:
    """Generate the shards ``spec`` asks for into ``out`` (resuming intact ones) and write the card.

    ``out`` is a local folder or an fsspec URL (:mod:`synrl_hf.storage`). ``engine`` says where the
    clips are rendered (:mod:`synrl_hf.executors`): ``local`` with ``num_proc`` processes (default 1),
    or ``ray`` on the cluster at ``ray_address`` (``auto`` or ``HOST:PORT``; a Ray instance with
    ``num_proc`` CPUs started here when None; on a cluster ``num_proc`` caps the tasks at once). The
    output is the same, byte for byte, whatever the engine.

    With ``shard=(i, n)`` only every n-th chunk starting at i is generated, into a partial manifest
    (recording the slice, the build's settings and whether it finished) and without a card;
    ``merge`` then assembles the slices. Returns the manifest. Everything is checked first
    (:func:`check_build`); then a local folder's lock is held throughout (:mod:`synrl_hf.folder_lock`):
    another build, merge, audit or push of the folder stops at once instead of interleaving (a URL has
    no lock: one writer per URL).

    ``cot_backend``: the model backend for ``spec.cot == "model"``, or a function making it (called
    only if some ``sft`` shard needs CoT); made from ``spec.cot_options`` and the environment when
    not given (see :mod:`synrl_hf.cot.backends`).
    """
    out = check_build(spec, out, num_proc, engine=engine, ray_address=ray_address, shard=shard)
    general = None
    if "sft" in spec.mixtures and spec.general_qa:  # read (and so checked) before anything is written
        general = GeneralQA.open(spec.general_qa)
        spec = replace(spec, general_fingerprint=general.fingerprint)
    executor = open_executor(engine, num_proc, ray_address, task_memory=worker_memory(spec.resolution))
    guarantee = write_guarantee(out)
    if guarantee:
        print(f"synrl build: {guarantee}", file=sys.stderr)
    with folder_lock(out, "synrl build") if isinstance(out, Path) else contextlib.nullcontext():
        if isinstance(out, Path):
            remove_temp_files(out)  # a killed writer's; no writer is at work while we hold the lock
        return _build(spec, out, general, executor, shard=shard, progress=progress, cot_backend=cot_backend)


def _build(
    spec: BuildSpec,
    out: Path | FsspecPath,
    general: GeneralQA | None,
    executor: Any,
    *,
    shard: tuple[int, int] | None,
    progress: bool,
    cot_backend: Any,
) -> dict[str, Any]:
    from tqdm.auto import tqdm

    chunks = plan_chunks(spec, shard)
    manifest_path = out / (MANIFEST if shard is None else PARTIAL_MANIFEST.format(index=shard[0], count=shard[1]))
    manifest = read_manifest(manifest_path)
    if shard is not None:  # a slice's manifest lists exactly this slice's shards, and says whether all are done
        keys = {_key(c) for c in chunks}
        manifest["shards"] = {rel: e for rel, e in manifest["shards"].items() if _entry_key(e) in keys}
        manifest["slice"] = {"index": shard[0], "count": shard[1], "settings": spec.settings(), "finished": False}
    known = {_entry_key(e): rel for rel, e in manifest["shards"].items()}

    todo = []
    for chunk in chunks:
        relpath = known.get(_key(chunk))
        if relpath is None or not shard_is_intact(out, relpath, manifest["shards"][relpath]):
            todo.append(chunk)
    done_keys = set(chunks) - set(todo)

    bar = tqdm(
        total=sum(c.size for c in chunks), initial=sum(c.size for c in done_keys), unit="clip", desc="synrl build", disable=not progress
    )
    tasks = [task for c in todo for task in _chunk_tasks(c, spec)]
    cot = CoTSource(spec, out, cot_backend)
    with executor if todo else contextlib.nullcontext():  # a build with nothing left to do starts no workers
        if todo and progress:
            bar.write(f"synrl build: {sum(c.size for c in todo)} clip(s) to render on {executor.description}", file=sys.stderr)
        rows_iter = executor.imap(_generate_row, tasks, batch=ROWS_PER_TASK)
        for chunk in todo:
            rows = []
            for _ in range(chunk.size):
                rows.append(next(rows_iter))
                bar.update(1)
            features, info = None, {}
            if chunk.family in MIXTURES:
                rows, features, info = mixture_rows(chunk, rows, spec, cot, general)
            relpath, entry = write_shard(out, chunk, rows, features)
            entry.update(info)
            entry["spec"] = spec.mixture_spec(chunk.family) if chunk.family in MIXTURES else spec.family_spec(chunk.family)
            manifest["shards"] = {rel: e for rel, e in manifest["shards"].items() if not _same_slot(e, entry)}
            manifest["shards"][relpath] = entry
            write_manifest(manifest_path, manifest)
    bar.close()

    if shard is None:
        manifest = _prune(out, manifest, spec, chunks)
        write_manifest(manifest_path, manifest)
        write_card(out, manifest)
    else:
        manifest["slice"]["finished"] = True
        write_manifest(manifest_path, manifest)
    return manifest


def _key(chunk: Chunk) -> tuple:
    return (chunk.family, chunk.split, chunk.start, chunk.stop, chunk.spec_hash)


def _entry_key(entry: dict[str, Any]) -> tuple:
    return (entry["family"], entry["split"], entry["start"], entry["stop"], entry["spec_hash"])


def _chunk_tasks(chunk: Chunk, spec: BuildSpec) -> list[tuple]:
    """(family, split, sample index, preset, spec) of each row of ``chunk``."""
    if chunk.family in MIXTURES:
        samples = (mixture_sample(chunk.family, i, spec.mixture_pool) for i in range(chunk.start, chunk.stop))
        return [(family, "train", index, spec.mixture_preset(chunk.family), spec) for family, index in samples]
    return [(chunk.family, chunk.split, index, spec.preset, spec) for index in range(chunk.start, chunk.stop)]


def _same_slot(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a[k] == b[k] for k in ("family", "split", "start", "stop"))


def _prune(out: Path, manifest: dict[str, Any], spec: BuildSpec, chunks: list[Chunk]) -> dict[str, Any]:
    """Drop shards of the rebuilt families that this build does not contain (other seeds, sizes)."""
    wanted = {_key(c) for c in chunks}
    rebuilt = (*spec.families, *spec.mixtures)
    kept = {}
    for relpath, entry in manifest["shards"].items():
        if entry["family"] not in rebuilt or _entry_key(entry) in wanted:
            kept[relpath] = entry
    listed = set(kept)
    for path in (out / "data").glob("*/*.parquet"):
        if path.relative_to(out).as_posix() not in listed and path.parent.name in rebuilt:
            path.unlink()
    return {"generator_version": GENERATOR_VERSION, "shards": kept}


_PARTIAL_NAME = re.compile(r"synrl_manifest\.shard-(\d+)-of-(\d+)\.json")


@dataclass
class _Slice:
    folder: Path
    path: Path
    index: int
    count: int
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def record(self) -> dict[str, Any] | None:
        return self.manifest.get("slice")


def check_slices(slices: list[_Slice], allow_partial: bool = False) -> dict[str, list[str]] | None:
    """Refuse a slice set that is not one build: slices of different splits or settings (always), and,
    unless ``allow_partial``, missing or unfinished slices. Returns what is missing (None when complete)."""
    counts = sorted({s.count for s in slices})
    if len(counts) > 1:
        shown = ", ".join(f"{s.name} in {s.folder}" for s in slices)
        raise ValueError(f"these slices come from different splits of a build ({shown}); merge the slices of one --shard i/N run")
    count = counts[0]
    recorded = [s for s in slices if s.record is not None]
    if recorded:
        reference = recorded[0]
        differences = []
        for other in recorded[1:]:
            a, b = reference.record["settings"], other.record["settings"]
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    differences.append(f"{key}: {a.get(key)!r} in slice {reference.name} vs {b.get(key)!r} in slice {other.name}")
        if differences:
            raise ValueError(
                "these slices were built with different settings, so they are not one dataset: "
                + "; ".join(list(dict.fromkeys(differences))[:8])
                + "; rebuild the odd slices with the same arguments"
            )
    present = {s.index for s in slices}
    missing = [f"{i}/{count}" for i in range(count) if i not in present]
    unfinished = [
        f"{s.name} in {s.folder}" + (" (made by an older synrl: its settings are unknown)" if s.record is None else "")
        for s in slices
        if s.record is None or not s.record.get("finished")
    ]
    if not missing and not unfinished:
        return None
    if not allow_partial:
        problems = []
        if missing:
            problems.append(f"slice(s) {', '.join(missing)} are missing (no {PARTIAL_MANIFEST.format(index='I', count=count)} for them)")
        if unfinished:
            problems.append(f"slice(s) {', '.join(unfinished)} did not finish")
        raise ValueError(
            "incomplete slice set: " + "; ".join(problems) + "; build them (synrl build … --shard I/N with the same arguments), "
            "or pass --allow-partial to merge only what is there"
        )
    return {"missing_slices": missing, "unfinished_slices": unfinished}


def find_slices(folders: list[Path]) -> list[_Slice]:
    slices = []
    for folder in folders:
        for path in sorted(folder.glob("synrl_manifest.shard-*.json")):
            match = _PARTIAL_NAME.fullmatch(path.name)
            if match:
                slices.append(_Slice(folder, path, int(match[1]), int(match[2]), read_manifest(path)))
    return slices


def merge(out: str | os.PathLike, sources: Iterable[str | os.PathLike] = (), *, allow_partial: bool = False) -> dict[str, Any]:
    """Assemble slices built with ``shard=(i, n)`` (in ``out`` and/or other folders) into ``out``.

    The slices must be one build: all of them (every i of n, each finished) and with the same settings;
    ``allow_partial`` merges an incomplete set anyway and the card says what is missing.
    """
    import shutil

    out = check_output_dir(out)
    sources = [Path(s) for s in sources]
    for folder in sources:
        if not folder.is_dir():
            raise ValueError(f"merge source {str(folder)!r} is not a directory")
    folders = {folder.resolve(): folder for folder in ([out] if out.is_dir() else []) + sources}  # each folder once, out first
    slices = find_slices(list(folders.values()))
    if not slices:
        raise ValueError(f"no partial manifests (synrl_manifest.shard-*.json) in {[str(out), *map(str, sources)]}")
    incomplete = check_slices(slices, allow_partial)
    for piece in slices:
        for relpath, entry in piece.manifest["shards"].items():
            if not shard_is_intact(piece.folder, relpath, entry):
                raise ValueError(f"shard {piece.folder / relpath} is missing or damaged; rebuild slice {piece.name}")
    with folder_lock(out, "synrl merge"):
        remove_temp_files(out)
        manifest = read_manifest(out / MANIFEST)
        for piece in slices:
            for relpath, entry in piece.manifest["shards"].items():
                if piece.folder.resolve() != out.resolve():
                    (out / relpath).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(piece.folder / relpath, out / relpath)
                manifest["shards"] = {rel: e for rel, e in manifest["shards"].items() if not _same_slot(e, entry)}
                manifest["shards"][relpath] = entry
        if incomplete:
            manifest["incomplete"] = incomplete
        else:
            manifest.pop("incomplete", None)
        write_manifest(out / MANIFEST, manifest)
        for piece in slices:
            if piece.folder.resolve() == out.resolve():
                piece.path.unlink()
        write_card(out, manifest)
    return manifest
