"""The training mixtures (the paper's §2.3): the ``sft`` and ``grpo`` configs of a built dataset.

``sft``
    synthetic samples with full CoT — the row's ``prompt`` as the user turn and
    ``<think>…</think><answer>…</answer>`` as the assistant turn, in ``messages`` (a
    ``datasets.Json()`` column, so chat templates see exactly these content blocks), plus ``cot``
    (the reasoning) and ``cot_source`` — mixed with general video QA in LLaVA-Video format at a
    configurable count on top of the synthetic rows (the paper's 6.7K CoT + 1K general = 7.7K): answer
    only, no CoT, ``category: general``, ``task: general``.
``grpo``
    plain sample rows (``prompt``, ``solution`` and the reward columns ``answer``, ``answer_type``,
    ``options``, ``task``) on videos disjoint from the ``sft`` ones.
``round2``
    the same as ``grpo`` at preset ``round2`` (the paper's second RL round: longer, harder videos).

Sizes are per config (:data:`PAPER_MIXTURE_SIZES`, the paper's by default; :func:`parse_mixture_sizes`
reads ``sft=6700,grpo=7000,round2=3000``): synthetic rows, with ``sft``'s general rows counted on top.

Disjoint videos: mixture row ``i`` of a config over families ``F`` is sample
``PURPOSE_OFFSET[config] + i // len(F)`` of family ``F[i % len(F)]`` (same base seed, split
``train``). Per-sample seeds hash (base seed, family, index), so ``sft`` (indices from 10⁹),
``grpo`` (from 2·10⁹) and the family configs (from 0) never share a sample, and every mixture row
still regenerates with ``generate_sample(task, index, seed, "train")``.

General video QA in LLaVA-Video-178K's layout: a folder (or a Hub dataset repo) of ``*.json`` files
(each a list of records) or ``*.jsonl`` files, a record being ``{"id", "video": <path relative to
the json file's folder, or to the root>, "conversations": [{"from": "human", "value":
"<image>\\n…"}, {"from": "gpt", "value": "…"}, …]}``. Records without a video, or whose video file is
missing, are skipped and counted. Each record becomes one row with its MP4 (or other container)
bytes embedded and its conversation as ``messages`` (multi-turn kept; the video goes with the first
user turn, the ``<image>``/``<video>`` placeholder is dropped).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .frame_budget import FrameBudget
from .version import GENERATOR_VERSION

__all__ = [
    "CoTBackendError",
    "CoTSource",
    "GENERAL_TASK",
    "MIXTURES",
    "PAPER_GENERAL_SIZE",
    "PAPER_MIXTURE_SIZES",
    "PURPOSE_OFFSET",
    "GeneralQA",
    "general_range",
    "mixture_rows",
    "mixture_sample",
    "parse_mixture_sizes",
    "sft_features",
    "sft_messages",
    "sft_row",
]

MIXTURES = ("sft", "grpo", "round2")
PURPOSE_OFFSET = {"sft": 1_000_000_000, "grpo": 2_000_000_000, "round2": 3_000_000_000}
# The paper's second RL round trains on harder videos whatever the build's preset is.
MIXTURE_PRESET = {"round2": "round2"}
# The paper's sizes: 6.7K CoT samples (plus 1K general video QA on top: the 7.7K SFT mixture), 7K RL
# samples for round 1 and 3K new, harder ones for round 2.
PAPER_MIXTURE_SIZES = {"sft": 6700, "grpo": 7000, "round2": 3000}
PAPER_GENERAL_SIZE = 1000
GENERAL_TASK = "general"
_PLACEHOLDER = re.compile(r"\s*<(?:image|video)>\s*")


def mixture_sample(config: str, i: int, families: tuple[str, ...] | list[str]) -> tuple[str, int]:
    """(family, sample index) of row ``i`` of mixture ``config``: families round-robin."""
    if config not in PURPOSE_OFFSET:
        raise ValueError(f"unknown mixture {config!r}; valid: {', '.join(MIXTURES)}")
    return families[i % len(families)], PURPOSE_OFFSET[config] + i // len(families)


def parse_mixture_sizes(text: str) -> dict[str, int]:
    """Synthetic rows per mixture config from ``"sft=6700,grpo=7000,round2=3000"``.

    Configs not named keep the paper's size (:data:`PAPER_MIXTURE_SIZES`); a bare count (``"500"``)
    sets every config. Raises ValueError naming the bad part and the valid form.
    """
    form = f"use CONFIG=ROWS[,CONFIG=ROWS...] with CONFIG one of {', '.join(MIXTURES)} and ROWS a whole number >= 0, or one number for every config"
    text = str(text).strip()
    if re.fullmatch(r"\d+", text):
        return dict.fromkeys(MIXTURES, int(text))
    sizes = dict(PAPER_MIXTURE_SIZES)
    named: set[str] = set()
    for part in text.split(","):
        name, eq, value = (piece.strip() for piece in part.partition("="))
        if not eq or not name:
            raise ValueError(f"mixture size {part.strip()!r} is malformed: {form}")
        if name not in MIXTURES:
            raise ValueError(f"unknown mixture config {name!r} in {text!r}; valid: {', '.join(MIXTURES)}")
        if name in named:
            raise ValueError(f"mixture config {name!r} is given twice in {text!r}")
        if re.fullmatch(r"-\d+", value):
            raise ValueError(f"mixture size {name}={value} is negative: {form}")
        if not re.fullmatch(r"\d+", value):
            raise ValueError(f"mixture size {name}={value!r} is not a whole number: {form}")
        sizes[name] = int(value)
        named.add(name)
    return sizes


def general_range(start: int, stop: int, general: int, synthetic: int) -> range:
    """The general-QA rows that go with synthetic mixture rows ``[start, stop)`` when ``general`` rows
    go on top of ``synthetic`` ones.

    Row ``i`` of the synthetic stream "owns" general rows up to ``floor(i * general / synthetic)``, so
    chunks reserve disjoint ranges that add up to exactly ``general`` over the whole mixture.
    """
    if general < 0 or synthetic < 0:
        raise ValueError(f"general and synthetic row counts must be >= 0, got {general} and {synthetic}")
    if synthetic == 0:
        return range(0)
    return range(start * general // synthetic, stop * general // synthetic)


def sft_features():
    from datasets import Json, Value

    from .features import SAMPLE_FEATURES

    features = SAMPLE_FEATURES.copy()
    features["messages"] = Json()  # the conversation, content blocks exactly as written
    features["cot"] = Value("string")  # the reasoning inside <think>; "" for general rows
    features["cot_source"] = Value("string")  # "template", "model:<name>", or "none" (general rows)
    return features


def sft_messages(prompt: list[dict], assistant_text: str) -> list[dict]:
    """The user turn of ``prompt`` and one assistant turn holding ``assistant_text`` as a text block."""
    users = [m for m in prompt if m.get("role") == "user"][:1]
    if not users:
        raise ValueError("the prompt has no user turn")
    return [*users, {"role": "assistant", "content": [{"type": "text", "text": assistant_text}]}]


def reasoning_of(completion: str) -> str:
    """The text inside ``<think>…</think>``."""
    if "<think>" in completion and "</think>" in completion:
        return completion.split("<think>", 1)[1].rsplit("</think>", 1)[0].strip()
    return completion.split("<answer>", 1)[0].strip()


def sft_row(row: dict[str, Any], completion: str, cot_source: str) -> dict[str, Any]:
    """A synthetic sample row turned into an ``sft`` row with the verified ``completion``."""
    return {**row, "messages": sft_messages(row["prompt"], completion.strip()), "cot": reasoning_of(completion), "cot_source": cot_source}


# --- building a mixture shard -------------------------------------------------------------------


class CoTBackendError(RuntimeError):
    """Some samples' CoT requests failed for good; the finished ones are in the checkpoint."""


class CoTSource:
    """Where a build's sft CoT comes from: the template narrator, or the model pipeline whose backend
    (an object, or a function making one) is made only when first needed."""

    def __init__(self, spec, out: Path, backend: Any):
        self.spec, self.out, self.backend = spec, out, backend

    @property
    def source(self) -> str:
        if self.spec.cot == "template":
            return "template"
        return f"model:{self.spec.cot_options.get('model') or getattr(self.backend, 'name', 'unknown')}"

    def get_backend(self):
        if self.backend is not None and not hasattr(self.backend, "chat") and callable(self.backend):
            self.backend = self.backend()
        if self.backend is None:
            from .cot.backends import make_backend

            options = {k: v for k, v in self.spec.cot_options.items() if k in ("model", "base_url")}
            self.backend = make_backend(self.spec.cot_options.get("backend", "openai"), **options)
        return self.backend


def mixture_rows(
    chunk, rows: list[dict[str, Any]], spec, cot: CoTSource, general: GeneralQA | None
) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    """The rows of one mixture shard (``chunk`` of a build, rows generated by it): grpo rows as they
    are; sft rows with verified CoT (template, or the model pipeline with a per-chunk checkpoint
    under ``<out>/cot/``) plus the general video QA reserved for the chunk. Returns (rows, features,
    what the manifest records about them)."""
    if chunk.family != "sft":  # grpo, round2: prompt + solution + reward columns as generated
        return rows, None, {"synthetic_rows": len(rows)}
    info: dict[str, Any] = {"cot_source": cot.source}
    if spec.cot == "template":
        from .cot.templates import template_completion
        from .sample import build_scene

        out = []
        for row in rows:
            scene = build_scene(row["task"], row["index"], spec.seed, "train", preset=spec.preset, params=spec.params.get(row["task"]))
            out.append(sft_row(row, template_completion(scene), cot.source))
    else:
        from .cot.pipeline import PipelineConfig, run_pipeline

        names = ("max_rounds", "concurrency", "max_tokens", "temperature", "polish", "judge")
        options = {k: spec.cot_options[k] for k in names if k in spec.cot_options}
        if "frames" in spec.cot_options:  # `synrl build --cot-frames`: frames sent per video
            options["frame_budget"] = FrameBudget(num_frames=spec.cot_options["frames"])
        config = PipelineConfig(**options)
        checkpoint = cot.out / "cot" / f"{chunk.family}-{chunk.split}-{chunk.start:06d}-{chunk.stop:06d}-{chunk.spec_hash}.jsonl"
        result = run_pipeline(rows, cot.get_backend(), checkpoint, config=config, verbose=True)
        if result.errors:
            raise CoTBackendError(
                f"{len(result.errors)} sample(s) of {chunk.family} rows {chunk.start}-{chunk.stop} failed in the CoT backend "
                f"(e.g. {next(iter(result.errors.values()))}); finished ones are kept in {checkpoint}: re-run to resume"
            )
        out = [sft_row(row, text, cot.source) for row, text in result.accepted(rows)]
        info["cot_filtered"] = len(rows) - len(out)
        info["cot_stats"] = {k: result.stats[k] for k in ("accepted", "rejected", "rejected_by_check", "mean_rounds", "polished", "tokens")}
    info["synthetic_rows"] = len(out)
    info["general_rows"] = 0
    info["general_source"] = general.origin if general is not None else None
    if general is not None and spec.general_size > 0:
        synthetic = spec.mixture_sizes["sft"]
        reserved = general_range(chunk.start, chunk.stop, spec.general_size, synthetic)
        # Rows the CoT filter dropped take their share of general rows with them.
        wanted = len(reserved) if len(out) == len(rows) else min(len(reserved), round(len(out) * spec.general_size / synthetic))
        extra = general.rows(list(reserved)[:wanted], spec.seed)
        info["general_rows"] = len(extra)
        out += extra
    return out, sft_features(), info


# --- general video QA ---------------------------------------------------------------------------


@dataclass
class _Record:
    source: str  # json file, relative to the root
    position: int
    video: str  # relative to the root (local) or repo path (Hub)
    conversations: list[dict]
    record_id: str


@dataclass
class GeneralQA:
    """General video QA in LLaVA-Video format, from a local folder or a Hub dataset id."""

    origin: str
    root: Path
    records: list[_Record]
    skipped: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""
    repo_id: str | None = None

    @classmethod
    def open(cls, source: str | os.PathLike) -> GeneralQA:
        path = Path(source)
        if path.is_dir():
            return cls._from_folder(path.resolve().name, path)
        text = str(source)
        if re.fullmatch(r"[\w.-]+/[\w.-]+", text) and not path.exists():
            return cls._from_hub(text)
        raise ValueError(f"--general-qa {text!r} is neither a folder nor a Hub dataset id (org/name)")

    @classmethod
    def _from_folder(cls, origin: str, root: Path) -> GeneralQA:
        files = sorted(
            p
            for p in root.rglob("*")
            if p.suffix in (".json", ".jsonl") and p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not files:
            raise ValueError(f"--general-qa {origin!r}: no *.json / *.jsonl files (LLaVA-Video format) in that folder")
        digest = hashlib.sha256()
        records, skipped = [], {"no_video": 0, "missing_video": 0, "no_conversation": 0}
        for file in files:
            rel = file.relative_to(root).as_posix()
            data = file.read_bytes()
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
            for position, raw in enumerate(_parse_records(data, file)):
                video = _local_video(root, file.parent, raw.get("video"))
                if not raw.get("video"):
                    skipped["no_video"] += 1
                elif video is None:
                    skipped["missing_video"] += 1
                elif not _conversation_ok(raw.get("conversations")):
                    skipped["no_conversation"] += 1
                else:
                    digest.update(video.encode() + b"\0" + str((root / video).stat().st_size).encode())
                    records.append(_Record(rel, position, video, raw["conversations"], str(raw.get("id", ""))))
        return cls(origin, root, records, skipped, digest.hexdigest()[:16])

    @classmethod
    def _from_hub(cls, repo_id: str) -> GeneralQA:
        from huggingface_hub import HfApi, snapshot_download

        try:
            info = HfApi().dataset_info(repo_id)
            files = {s.rfilename for s in info.siblings or []}
            local = Path(snapshot_download(repo_id, repo_type="dataset", revision=info.sha, allow_patterns=["*.json", "*.jsonl"]))
        except Exception as error:  # offline, missing repo, no access: say which and how to work around
            from .redaction import redact

            raise ValueError(
                f"--general-qa {repo_id}: cannot read the Hub dataset ({type(error).__name__}: {redact(error)}); "
                "download it and pass the folder instead"
            ) from None
        records, skipped = [], {"no_video": 0, "missing_video": 0, "no_conversation": 0}
        for file in sorted(p for p in local.rglob("*") if p.suffix in (".json", ".jsonl")):
            rel = file.relative_to(local).as_posix()
            base = Path(rel).parent
            for position, raw in enumerate(_parse_records(file.read_bytes(), file)):
                video = raw.get("video")
                candidates = [(base / video).as_posix(), str(video)] if video else []
                found = next((c for c in candidates if c in files), None)
                if not video:
                    skipped["no_video"] += 1
                elif found is None:
                    skipped["missing_video"] += 1
                elif not _conversation_ok(raw.get("conversations")):
                    skipped["no_conversation"] += 1
                else:
                    records.append(_Record(rel, position, found, raw["conversations"], str(raw.get("id", ""))))
        return cls(repo_id, local, records, skipped, f"{repo_id}@{info.sha}", repo_id)

    def __len__(self) -> int:
        return len(self.records)

    def order(self, seed: int) -> list[int]:
        """A seeded order of the records, so a mixture draws from all sources and not the first file only."""
        import numpy as np

        return [int(i) for i in np.random.default_rng([0x6E7A, int(seed)]).permutation(len(self.records))]

    def video_bytes(self, record: _Record) -> bytes:
        if self.repo_id is None:
            return (self.root / record.video).read_bytes()
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(self.repo_id, record.video, repo_type="dataset")).read_bytes()

    def row(self, record: _Record, index: int) -> dict[str, Any]:
        """One ``sft`` row: the conversation (answer only) with the video embedded."""
        from .video import probe

        video = self.video_bytes(record)
        fps, frames, width, height = probe(video)
        messages = _messages(record.conversations)
        question = messages[0]["content"][-1]["text"]
        answer = messages[1]["content"][0]["text"]
        key = hashlib.sha1(f"{record.source}:{record.position}".encode()).hexdigest()[:16]
        return {
            "id": f"{GENERAL_TASK}-{key}",
            "task": GENERAL_TASK,
            "category": "general",
            "primitive": "general",
            "question_type": "llava_video",
            "video": {"bytes": video, "path": Path(record.video).name},
            "fps": int(round(fps)),
            "num_frames": frames,
            "duration": round(frames / fps, 6) if fps else 0.0,
            "width": width,
            "height": height,
            "question": question,
            "options": [],
            "answer": answer,
            "answer_type": "free_text",
            "prompt": [messages[0]],
            "solution": "",
            "events": [],
            "operations": [],
            "states": [],
            "objects": [],
            "tracks": [],
            "difficulty": json.dumps({"source": self.origin, "file": record.source, "record": record.record_id or record.position}),
            "preset": "",
            "level": None,
            "split": "train",
            "index": index,
            "seed": -1,
            "generator_version": GENERATOR_VERSION,
            "renderer": "",
            "messages": messages,
            "cot": "",
            "cot_source": "none",
        }

    def rows(self, indices: Iterable[int], seed: int) -> list[dict[str, Any]]:
        """Rows for general indices (positions in the seeded order); indices past the end are dropped."""
        order = self.order(seed)
        return [self.row(self.records[order[j]], j) for j in indices if j < len(order)]


def _parse_records(data: bytes, file: Path) -> list[dict]:
    try:
        text = data.decode("utf-8")
        value = [json.loads(line) for line in text.splitlines() if line.strip()] if file.suffix == ".jsonl" else json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{file}: not a valid LLaVA-Video {file.suffix[1:]} file ({error})") from None
    if isinstance(value, dict):
        value = value.get("data", [value])
    if not isinstance(value, list):
        raise ValueError(f"{file}: expected a list of LLaVA-Video records")
    return [r for r in value if isinstance(r, dict)]


def _local_video(root: Path, folder: Path, video: Any) -> str | None:
    if not isinstance(video, str) or not video:
        return None
    for base in (folder, root):
        candidate = (base / video).resolve()
        if candidate.is_file() and root.resolve() in candidate.parents:
            return candidate.relative_to(root.resolve()).as_posix()
    return None


def _conversation_ok(conversations: Any) -> bool:
    if not isinstance(conversations, list) or len(conversations) < 2:
        return False
    roles = [c.get("from") for c in conversations if isinstance(c, dict)]
    return roles[:2] == ["human", "gpt"] and all(isinstance(c.get("value"), str) for c in conversations)


def _messages(conversations: list[dict]) -> list[dict]:
    """LLaVA turns as chat messages: one video block in the first user turn, text blocks elsewhere."""
    messages = []
    for turn in conversations:
        role = {"human": "user", "gpt": "assistant"}.get(turn.get("from"))
        if role is None:
            continue
        text = turn["value"]
        if role == "user":
            text = _PLACEHOLDER.sub("\n", text).strip()
        content = [{"type": "text", "text": text}]
        if role == "user" and not messages:
            content.insert(0, {"type": "video"})
        messages.append({"role": role, "content": content})
    return messages
