"""One sample end to end: seed → plan → simulation → question → frames → MP4 → row (the fields of docs/data-contract.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .difficulty import level_of
from .families import FAMILIES, get_family
from .families.base import Params
from .questions import Question, prompt_text
from .render import check_resolution, get_renderer
from .seeding import check_split, sample_seed
from .timeline import Timeline
from .version import GENERATOR_VERSION
from .video import encode_mp4

DEFAULT_RESOLUTION = 448


@dataclass
class Scene:
    """Everything about a sample except its pixels: cheap to make, enough to check any label."""

    family: str
    split: str
    index: int
    base_seed: int
    seed: int
    preset: str
    params: Params
    plan: dict[str, Any]
    timeline: Timeline
    question: Question


def _stages(family: str, index: int, seed: int, split: str, preset: str, params: dict[str, Any] | None):
    """The family, its parameters, the sample's seed and one random stream per stage (plan, simulation, question)."""
    fam = get_family(family)
    check_split(split)
    family_params = fam.params(preset, **(params or {}))
    sample = sample_seed(seed, family, split, index)
    # Independent streams per stage: a change to how questions are worded never moves the motion.
    return fam, family_params, sample, [np.random.default_rng(s) for s in np.random.SeedSequence(sample).spawn(3)]


def plan_scene(
    family: str, index: int, seed: int = 0, split: str = "train", *, preset: str = "round1", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The sample's plan alone (question kind, planned answer), as ``build_scene`` draws it, without simulating."""
    fam, family_params, _, (plan_rng, _, _) = _stages(family, index, seed, split, preset, params)
    return fam.plan(plan_rng, family_params)


def build_scene(
    family: str,
    index: int,
    seed: int = 0,
    split: str = "train",
    *,
    preset: str = "round1",
    params: dict[str, Any] | None = None,
) -> Scene:
    fam, family_params, sample, (plan_rng, sim_rng, ask_rng) = _stages(family, index, seed, split, preset, params)
    plan = fam.plan(plan_rng, family_params)
    timeline = fam.simulate(sim_rng, family_params, plan)
    question = fam.ask(ask_rng, timeline, plan)
    return Scene(family, split, index, seed, sample, preset, family_params, plan, timeline, question)


def render_mp4(timeline: Timeline, resolution: int = DEFAULT_RESOLUTION, renderer: str = "pillow") -> bytes:
    check_resolution(resolution)
    frames = get_renderer(renderer).frames(timeline, resolution)
    return encode_mp4(frames, timeline.fps, resolution, resolution)


def sample_id(family: str, seed: int, split: str, index: int, level: int = 0) -> str:
    """Unique per sample: the same (family, seed, split, index) at another ladder level is another clip."""
    rung = f"-L{level}" if level else ""
    return f"{family}-s{seed}{rung}-{split}-{index:06d}"


def scene_row(scene: Scene, video: bytes | None, resolution: int, renderer: str = "pillow") -> dict[str, Any]:
    fam = FAMILIES[scene.family]
    timeline, question = scene.timeline, scene.question
    row_id = sample_id(scene.family, scene.base_seed, scene.split, scene.index, level_of(scene.preset))
    return {
        "id": row_id,
        "task": scene.family,
        "category": fam.category,
        "primitive": question.primitive,
        "question_type": question.kind,
        "video": {"bytes": video, "path": f"{row_id}.mp4"},
        "fps": timeline.fps,
        "num_frames": timeline.num_frames,
        "duration": round(timeline.duration, 6),
        "width": resolution,
        "height": resolution,
        "question": question.full_text,
        "options": list(question.options),
        "answer": question.answer,
        "answer_type": question.answer_type,
        "prompt": [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": prompt_text(question)}]}],
        "solution": f"<answer>{question.answer}</answer>",
        **timeline.rows(resolution),
        "difficulty": json.dumps(scene.params.to_dict(), sort_keys=True),
        "preset": scene.preset,
        "level": level_of(scene.preset),
        "split": scene.split,
        "index": scene.index,
        "seed": scene.seed,
        "generator_version": GENERATOR_VERSION,
        "renderer": renderer,
    }


def generate_sample(
    family: str,
    index: int,
    seed: int = 0,
    split: str = "train",
    *,
    preset: str = "round1",
    params: dict[str, Any] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    renderer: str = "pillow",
) -> dict[str, Any]:
    """The row of sample ``index`` of ``family``: the same arguments give the same row anywhere."""
    check_resolution(resolution)
    scene = build_scene(family, index, seed, split, preset=preset, params=params)
    return scene_row(scene, render_mp4(scene.timeline, resolution, renderer), resolution, renderer)


def iter_samples(
    families: list[str],
    count: int | None,
    seed: int = 0,
    split: str = "train",
    *,
    start: int = 0,
    **kwargs: Any,
) -> Iterator[dict[str, Any]]:
    """Rows for indices ``start, start+1, …`` of each family, interleaved; ``count=None`` never ends."""
    for family in families:
        get_family(family)
    index = start
    while count is None or index < start + count:
        for family in families:
            yield generate_sample(family, index, seed, split, **kwargs)
        index += 1
