"""What a benchmark module declares, and how it becomes a lighteval task.

A converted benchmark is a local folder (see :mod:`.converters`) of rows
``{id, videos, question, options, answer, meta}``. The task's prompt function turns a row into a
:class:`lighteval.tasks.requests.Doc` whose ``specific`` carries what the video model and the
scorer need: absolute video paths, the segment to sample (``window``, from ``meta``), the
benchmark's usual frame budget and system prompt, the gold answer, options and ``meta``.
Rows whose videos are missing are skipped (the formatter returns ``None``) and counted.

The task holds its :class:`Benchmark` itself (in the prompt function and the metric), never its
name to look up: this module sits below the benchmark modules that build on it.

lighteval conventions used (checked in lighteval 0.13.0 source):
- ``SampleLevelMetricGrouping.compute_sample`` returns the scorer's dict as is, one key per name.
- The task's cache key is the text of its config, in which a sample-level metric object shows as
  its ``str``: :class:`BenchmarkScorer` spells the benchmark's name and its usual frame budget
  there (no addresses), so cached answers made under another default budget are not reused.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lighteval.metrics.metrics_sample import SampleLevelComputation
from lighteval.metrics.utils.metric_utils import SampleLevelMetricGrouping
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc, SamplingMethod

from synrl_hf.answers import LETTERS
from synrl_hf.frame_budget import FrameBudget

from .converters import VIDEO_EXTENSIONS, read_rows, video_exists

# Bump when a prompt, parser or metric changes: it is part of every task's cache key.
PROTOCOL_VERSION = 2

GROUPS = ("grounding", "reasoning", "general", "synrl")


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    group: str  # one of GROUPS
    source: str  # where the data and the protocol come from (README table)
    convert: Callable[..., Any]  # convert(source, videos_root, out) -> ConversionReport
    write_fixture: Callable[[Path], tuple[Path, Path]]  # root -> (source, videos_root)
    prompt: Callable[[dict], str]  # row -> text after the video(s)
    score: Callable[[dict, str], dict]  # (spec, response) -> per-sample metric values
    aggregations: dict[str, Any]  # metric key -> Mean() or CorpusLevelComputation
    headline: tuple[str, ...]  # metric keys compared with the paper
    oracle: Callable[[dict], str]  # spec -> the answer a perfect model would write
    generation_size: int = 32
    deviations: str = ""
    # The frames the benchmark is usually evaluated on (None: the library default), and where that comes from.
    frame_budget: FrameBudget | None = None
    budget_note: str = ""
    # The official file(s) whose layout the fixture copies (field names, types, nesting, folders).
    fixture_note: str = ""
    # What could not be checked against a real release (printed by `synrl eval`, listed in the README).
    unverified: str = ""
    # Optional LLM judge: judge(spec, reply, ask) -> judged 0/1 score, or None to keep the rule-based one;
    # ask(messages, max_tokens) -> the judge's reply (see synrl_hf.evaluation.judge).
    judge: Callable[[dict, str, Callable[..., str]], float | None] | None = None
    system_prompt: str = ""  # the protocol's system message, if it has one


def doc_spec(doc: Doc) -> dict:
    """``doc.specific`` with ``meta`` decoded: the row as scorers and oracles see it."""
    spec = dict(doc.specific or {})
    meta = spec.get("meta")
    spec["meta"] = json.loads(meta) if isinstance(meta, str) and meta else (meta or {})
    return spec


def resolve_video(path: str, videos_root: str | os.PathLike | None) -> str:
    """The video's full path; when it is missing, the same name with another video extension if one
    exists (conversion records the first candidate when the videos were not there yet, and
    YouTube downloads come as .webm or .mkv as often as .mp4)."""
    full = path if os.path.isabs(path) or videos_root is None else os.path.join(os.fspath(videos_root), path)
    if video_exists(full):
        return full
    base, ext = os.path.splitext(full)
    if ext in VIDEO_EXTENSIONS:
        return next((base + e for e in VIDEO_EXTENSIONS if os.path.isfile(base + e)), full)
    return full


# (task name, row id) of rows skipped for missing videos, filled by the prompt functions.
MISSING: dict[str, set[str]] = {}


def _prompt_function(line: dict, task_name: str, *, bench: Benchmark, videos_root: str | None) -> Doc | None:
    videos = [resolve_video(v, videos_root) for v in line["videos"]]
    if not videos or not all(video_exists(v) for v in videos):
        MISSING.setdefault(task_name, set()).add(str(line["id"]))
        return None
    meta = json.loads(line.get("meta") or "{}") if isinstance(line.get("meta"), str) else dict(line.get("meta") or {})
    specific = {
        "id": str(line["id"]),
        "benchmark": bench.name,
        "videos": videos,
        "window": meta.get("window"),  # [start, end] seconds to sample inside (MVBench/TVBench bounds)
        "frame_fps": meta.get("frame_fps"),  # the rate of a frame-folder video
        "benchmark_budget": bench.frame_budget.to_dict() if bench.frame_budget else None,
        "system_prompt": bench.system_prompt,
        "question": line["question"],
        "options": list(line.get("options") or []),
        "answer": str(line["answer"]),
        "meta": json.dumps(meta, sort_keys=True),
    }
    row = {**line, "meta": meta}
    return Doc(query=bench.prompt(row), choices=[specific["answer"]], gold_index=0, specific=specific, task_name=task_name)


def local_folder(data_dir: str | os.PathLike, benchmark: str) -> Path:
    return Path(data_dir) / benchmark


def read_conversion(folder: Path) -> dict:
    path = folder / "conversion.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a converted benchmark (no conversion.json); run `synrl eval-convert`")
    return json.loads(path.read_text())


class BenchmarkScorer(SampleLevelComputation):
    """Scores one response with its benchmark's ``score(spec, text)``."""

    def __init__(self, benchmark: Benchmark):
        self.benchmark = benchmark

    def compute(self, doc, model_response, **kwargs) -> dict[str, Any]:
        texts = model_response.final_text if model_response is not None else []
        text = texts[0] if texts else ""
        return self.benchmark.score(doc_spec(doc), text if isinstance(text, str) else "")

    def __str__(self) -> str:
        # The name and default budget: the Benchmark's own text would hold its functions' memory addresses.
        budget = self.benchmark.frame_budget.tag if self.benchmark.frame_budget else "library-default"
        return f"BenchmarkScorer(benchmark={self.benchmark.name}, frames={budget})"


def benchmark_metric(bench: Benchmark) -> SampleLevelMetricGrouping:
    """One lighteval metric for a benchmark: ``bench.aggregations`` maps each per-sample key its
    scorer returns to ``Mean()`` or a dict-returning ``CorpusLevelComputation``."""
    names = list(bench.aggregations)
    return SampleLevelMetricGrouping(
        metric_name=names,
        higher_is_better=dict.fromkeys(names, True),
        category=SamplingMethod.GENERATIVE,
        sample_level_fn=BenchmarkScorer(bench),
        corpus_level_fn=dict(bench.aggregations),
    )


def task_config(bench: Benchmark, data_dir: str | os.PathLike, videos_root: str | os.PathLike | None = None) -> LightevalTaskConfig:
    """The lighteval task of ``bench`` over its converted folder under ``data_dir``.

    ``videos_root`` overrides the one recorded at conversion. The data fingerprint is the task's
    ``hf_revision``, so lighteval's sample cache never serves answers for other data.
    """
    folder = local_folder(data_dir, bench.name).resolve()
    conversion = read_conversion(folder)
    root = os.fspath(videos_root) if videos_root is not None else conversion.get("videos_root")
    return LightevalTaskConfig(
        name=bench.name,
        prompt_function=functools.partial(_prompt_function, bench=bench, videos_root=root),
        hf_repo=os.fspath(folder),
        hf_subset="default",
        hf_revision=conversion["fingerprint"],
        hf_avail_splits=["test"],
        evaluation_splits=["test"],
        metrics=[benchmark_metric(bench)],
        generation_size=bench.generation_size,
        stop_sequence=[],
        version=PROTOCOL_VERSION,
    )


def available_rows(
    bench: Benchmark, data_dir: str | os.PathLike, videos_root: str | os.PathLike | None = None
) -> tuple[int, int, list[str]]:
    """(rows whose videos exist, rows skipped for missing videos, the first 20 missing video paths)
    of a converted benchmark."""
    folder = local_folder(data_dir, bench.name)
    conversion = read_conversion(folder)
    root = os.fspath(videos_root) if videos_root is not None else conversion.get("videos_root")
    ok, missing, absent = 0, 0, {}
    for row in read_rows(folder):
        gone = [v for v in row["videos"] if not video_exists(resolve_video(v, root))]
        if row["videos"] and not gone:
            ok += 1
        else:
            missing += 1
            absent.update(dict.fromkeys(resolve_video(v, root) for v in gone))
    return ok, missing, list(absent)[:20]


# --- helpers shared by the multiple-choice tasks ----------------------------------------------


def option_lines(options, fmt: str = "{letter}. {option}") -> str:
    """Options as lines: ``fmt`` gets ``letter`` and ``option``; options already starting with their
    own letter ("A. ...", "(A) ...") are kept as they are."""
    lines = []
    for i, option in enumerate(options):
        letter = LETTERS[i]
        text = str(option).strip()
        if re.match(rf"^\(?{letter}[.):]\s", text):
            lines.append(text)
        else:
            lines.append(fmt.format(letter=letter, option=text))
    return "\n".join(lines)


def mc_scores(pred: str | None, gold: str, group: str | None = None, key: str = "by_group") -> dict:
    """``{"acc": 0/1}`` (+ a ``{"group", "score"}`` record under ``key`` for per-group accuracy)."""
    correct = float(pred is not None and str(pred).strip().upper() == str(gold).strip().upper())
    scores: dict = {"acc": correct}
    if group is not None:
        scores[key] = {"group": str(group), "score": correct}
    return scores
