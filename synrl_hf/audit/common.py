"""What every audit check shares: reading a build, the check result type, and the statistics.

Rows are read from the build's parquet shards without their videos (the metadata of a few thousand
rows fits in memory easily); the pixel and determinism checks fetch the videos they need per shard.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset_dir import MANIFEST, config_files, read_manifest
from ..families import FAMILIES
from .scorers import LogisticScorer, TreeScorer

MARGIN = 0.05  # a baseline "beats" its reference only by more than 5 points ...
# ... and with a one-sided binomial p below this, for an audit of one family. An audit of k families
# tests each at ALPHA / k (Bonferroni): a whole build runs dozens of these tests, and at 0.01 each a
# clean 18-family build would fail on noise about one time in five.
ALPHA = 0.01


# -- results -----------------------------------------------------------------------------------------
PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass
class CheckResult:
    """One check on one family: a status, the headline numbers, and the details behind them."""

    check: str
    family: str
    status: str  # pass / fail / skip
    summary: str  # one line for the table
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "family": self.family, "status": self.status, "summary": self.summary, "details": self.details}


# -- reading a build --------------------------------------------------------------------------------
META_COLUMNS = [
    "id",
    "task",
    "category",
    "primitive",
    "question_type",
    "fps",
    "num_frames",
    "duration",
    "width",
    "height",
    "question",
    "options",
    "answer",
    "answer_type",
    "events",
    "operations",
    "states",
    "objects",
    "tracks",
    "difficulty",
    "preset",
    "split",
    "index",
    "seed",
    "generator_version",
    "renderer",
]


@dataclass
class Build:
    folder: Path
    manifest: dict[str, Any]
    config: str
    splits: list[str]
    rows: list[dict[str, Any]]  # metadata only; row["_file"], row["_row"] locate its video

    def families(self) -> list[str]:
        present = {row["task"] for row in self.rows}
        return [name for name in FAMILIES if name in present]

    def by_family(self) -> dict[str, list[dict[str, Any]]]:
        """Rows per task family (rows of no family, e.g. a mixture's general video QA, are left out)."""
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in self.families()}
        for row in self.rows:
            if row["task"] in out:
                out[row["task"]].append(row)
        return out

    def params_of(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """The parameter overrides ``row`` was generated with (a mixture shard keys them by family)."""
        spec = self.spec_of(row["_file"])
        params = spec.get("params") or {}
        if "config" in spec:  # a training-mixture shard
            params = params.get(row["task"], {})
        return params or None

    def spec_of(self, relpath: str) -> dict[str, Any]:
        return self.manifest["shards"][relpath]["spec"]


def load_build(
    folder: str | Path, config: str = "all", split: str | None = None, sample_limit: int | None = None, family: str | None = None
) -> Build:
    """The metadata rows of ``config`` (and ``split``, default every split built) in ``folder``;
    with ``family``, only that family's rows (and only the shards that can hold them are read).

    Raises ValueError naming the valid choices for a missing folder, a folder that is not a build,
    an unknown config or split, or a bad limit.
    """
    import pyarrow.parquet as pq

    folder, manifest, chosen, shards = _shards(folder, config, split, sample_limit, family)
    rows: list[dict[str, Any]] = []
    taken: dict[str, int] = {}
    for relpath in shards:
        for number, row in enumerate(pq.read_table(folder / relpath, columns=META_COLUMNS).to_pylist()):
            if (family is not None and row["task"] != family) or (sample_limit is not None and taken.get(row["task"], 0) >= sample_limit):
                continue
            taken[row["task"]] = taken.get(row["task"], 0) + 1
            row["_file"], row["_row"] = relpath, number
            rows.append(row)
    if not rows:
        raise ValueError(f"config {config!r} of {str(folder)!r} has no rows" + (f" of {family!r}" if family else ""))
    return Build(folder, manifest, config, chosen, rows)


def open_build(folder: str | Path, config: str = "all", split: str | None = None) -> Build:
    """The build in ``folder`` (manifest, config, splits) without reading any row; validates like
    :func:`load_build`."""
    folder, manifest, chosen, _ = _shards(folder, config, split, None)
    return Build(folder, manifest, config, chosen, [])


def row_ids(
    folder: str | Path, config: str = "all", split: str | None = None, sample_limit: int | None = None
) -> dict[str, list[tuple[str, int, str]]]:
    """Per family (registry order), where each of its rows is: (shard, row number, id), in the order
    :func:`load_build` reads them and capped at ``sample_limit``, from the shards' ``task`` and ``id``
    columns alone; validates like :func:`load_build`."""
    import pyarrow.parquet as pq

    folder, _, _, shards = _shards(folder, config, split, sample_limit)
    found: dict[str, list[tuple[str, int, str]]] = {}
    for relpath in shards:
        table = pq.read_table(folder / relpath, columns=["task", "id"])
        for number, (task, id_) in enumerate(zip(table.column("task").to_pylist(), table.column("id").to_pylist())):
            rows = found.setdefault(task, [])
            if sample_limit is None or len(rows) < sample_limit:
                rows.append((relpath, number, id_))
    if not found:
        raise ValueError(f"config {config!r} of {str(folder)!r} has no rows")
    return {name: found[name] for name in FAMILIES if name in found}


def read_rows(folder: Path, relpath: str, numbers: Sequence[int]) -> list[dict[str, Any]]:
    """The metadata rows ``numbers`` of the shard ``relpath`` (with ``_file`` and ``_row``, as :func:`load_build` gives them)."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder / relpath, columns=META_COLUMNS).take(list(numbers))
    rows = table.to_pylist()
    for number, row in zip(numbers, rows):
        row["_file"], row["_row"] = relpath, number
    return rows


def _shards(folder, config, split, sample_limit, family=None) -> tuple[Path, dict[str, Any], list[str], list[str]]:
    """(folder, manifest, splits, shard paths) of ``config`` (and ``split``), after checking the
    arguments; with ``family``, without the shards of other families."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no such folder: {str(folder)!r}")
    if not (folder / MANIFEST).is_file():
        raise ValueError(f"{str(folder)!r} is not a synrl build (no {MANIFEST}); make one with `synrl build --out {folder}`")
    manifest = read_manifest(folder / MANIFEST)
    configs = config_files(manifest)
    if config not in configs:
        raise ValueError(f"unknown config {config!r} for this build; valid configs: {', '.join(configs) or '(none: the build is empty)'}")
    splits = configs[config]
    if split is not None and split not in splits:
        raise ValueError(f"config {config!r} has no split {split!r}; valid splits: {', '.join(splits)}")
    if sample_limit is not None and (isinstance(sample_limit, bool) or not isinstance(sample_limit, int) or sample_limit < 1):
        raise ValueError(f"sample_limit must be a positive integer, got {sample_limit!r}")
    chosen = [split] if split is not None else list(splits)
    shards = []
    for name in chosen:
        for relpath in splits[name]:
            if not (folder / relpath).is_file():
                raise ValueError(f"shard {relpath} listed in the manifest is missing; rebuild with `synrl build`")
            holder = manifest["shards"][relpath]["family"]
            if family is None or holder == family or holder not in FAMILIES:  # a mixture's shard holds several
                shards.append(relpath)
    return folder, manifest, chosen, shards


def read_videos(build: Build, rows: Sequence[dict[str, Any]]) -> dict[str, bytes]:
    """id → MP4 bytes for ``rows``, reading each shard's video column once."""
    import pyarrow.parquet as pq

    wanted: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        wanted.setdefault(row["_file"], []).append(row)
    out = {}
    for relpath, members in wanted.items():
        column = pq.read_table(build.folder / relpath, columns=["video"]).column("video")
        for row in members:
            out[row["id"]] = column[row["_row"]].as_py()["bytes"]
    return out


# -- statistics -------------------------------------------------------------------------------------
def binomial_p(successes: int, trials: int, rate: float) -> float:
    """One-sided p-value of ``successes`` or more out of ``trials`` at ``rate`` (the exact binomial tail)."""
    rate = min(max(rate, 0.0), 1.0)
    if successes <= 0 or trials == 0:
        return 1.0
    if successes > trials or rate == 0.0:
        return 0.0
    if rate == 1.0:
        return 1.0
    log_rate, log_miss = math.log(rate), math.log1p(-rate)
    terms = [
        math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_rate + (trials - k) * log_miss
        for k in range(successes, trials + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def beats(successes: int, trials: int, reference: float, alpha: float = ALPHA) -> tuple[bool, float]:
    """(beats, p): more than MARGIN above ``reference`` and binomial p < ``alpha`` (H0: rate = reference)."""
    if trials == 0:
        return False, 1.0
    p = binomial_p(successes, trials, reference)
    return (successes / trials - reference > MARGIN and p < alpha), p


def monte_carlo_p(
    statistic: Callable[[np.ndarray], np.ndarray],
    sampler: Callable[[np.random.Generator, int], np.ndarray],
    observed: float,
    draws: int = 4000,
) -> float:
    """P(statistic >= observed) under ``sampler`` (which returns ``draws`` simulated count vectors)."""
    rng = np.random.default_rng(0)
    simulated = statistic(sampler(rng, draws))
    return float((1 + np.sum(simulated >= observed - 1e-9)) / (draws + 1))


# -- cross-validated choice models ------------------------------------------------------------------
@dataclass
class Choice:
    """One question as a choice among candidates: a feature dict per candidate and the correct index.

    ``keys`` name the candidates for the majority rule (e.g. "A", "yes", "3"), within ``group``
    (answer type and question program), so "always answer the most common one" is one of the models.
    """

    id: str
    group: str
    keys: list[str]
    features: list[dict[str, float]]
    correct: int
    answer_type: str

    @property
    def chance(self) -> float:
        return 1.0 / len(self.keys)


def _matrix(choices: Sequence[Choice], names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = {name: i for i, name in enumerate(names)}
    rows, owner, labels = [], [], []
    for number, choice in enumerate(choices):
        for k, feats in enumerate(choice.features):
            vector = np.zeros(len(names))
            for name, value in feats.items():
                if name in index and value == value and math.isfinite(value):
                    vector[index[name]] = value
            rows.append(vector)
            owner.append(number)
            labels.append(int(k == choice.correct))
    return np.array(rows).reshape(len(rows), len(names)), np.array(owner), np.array(labels)


class _Majority:
    name = "majority"

    def fit(self, choices):
        self.counts: dict[tuple[str, str], int] = {}
        for c in choices:
            key = (c.group, c.keys[c.correct])
            self.counts[key] = self.counts.get(key, 0) + 1
        return self

    def predict(self, choices):
        return [int(np.argmax([self.counts.get((c.group, key), 0) for key in c.keys])) for c in choices]


class _Scorer:
    """A binary model "is this candidate correct?" pooled over candidates; the top-scored one wins."""

    def __init__(self, kind: str):
        self.name = kind

    def fit(self, choices):
        self.names = sorted({name for c in choices for f in c.features for name in f})
        x, _, y = _matrix(choices, self.names)
        self.constant = None
        if len(set(y.tolist())) < 2:
            self.constant = 0
            return self
        self.model = (LogisticScorer(c=0.5) if self.name == "logistic" else TreeScorer(max_depth=3, min_samples_leaf=3)).fit(x, y)
        return self

    def predict(self, choices):
        if self.constant is not None:
            return [0 for _ in choices]
        x, owner, _ = _matrix(choices, self.names)
        scores = self.model.decision_function(x) if self.name == "logistic" else self.model.predict_proba(x)
        out = []
        for number in range(len(choices)):
            mine = scores[owner == number]
            best = np.flatnonzero(mine >= mine.max() - 1e-12)
            out.append(int(best[0]))
        return out


MODELS = (lambda: _Majority(), lambda: _Scorer("logistic"), lambda: _Scorer("tree"))


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _accuracy(model, train, test) -> float:
    predictions = model.fit(train).predict(test)
    return float(np.mean([p == c.correct for p, c in zip(predictions, test)]))


def cross_validate(choices: Sequence[Choice], folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Held-out predictions of the majority rule and of a model picked by inner cross-validation.

    The model (majority rule, logistic regression or a depth-3 tree, all pooled candidate scorers)
    is chosen on each outer training fold by an inner 3-fold cross-validation, so the reported
    accuracy is an honest held-out number, not the best of several looks at the test data.
    """
    choices = list(choices)
    n = len(choices)
    k = min(folds, n)
    majority_hits, model_hits, picked = np.zeros(n, bool), np.zeros(n, bool), []
    for number, test_idx in enumerate(_folds(n, k, seed)):
        train_idx = np.setdiff1d(np.arange(n), test_idx)
        train, test = [choices[i] for i in train_idx], [choices[i] for i in test_idx]
        majority_hits[test_idx] = [p == c.correct for p, c in zip(_Majority().fit(train).predict(test), test)]
        inner = _folds(len(train), min(3, len(train)), seed + 1 + number)
        scores = []
        for make in MODELS:
            hits = []
            for inner_test in inner:
                inner_train = np.setdiff1d(np.arange(len(train)), inner_test)
                hits.append(_accuracy(make(), [train[i] for i in inner_train], [train[i] for i in inner_test]) * len(inner_test))
            scores.append(sum(hits) / len(train))
        best = MODELS[int(np.argmax(scores))]()
        picked.append(best.name)
        model_hits[test_idx] = [p == c.correct for p, c in zip(best.fit(train).predict(test), test)]
    return {
        "n": n,
        "chance": float(np.mean([c.chance for c in choices])),
        "majority": float(majority_hits.mean()),
        "model": float(model_hits.mean()),
        "model_hits": int(model_hits.sum()),
        "majority_hits": int(majority_hits.sum()),
        "picked": picked,
        "hits": model_hits,
    }


# -- question text helpers ---------------------------------------------------------------------------
def json_state(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
