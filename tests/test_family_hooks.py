"""The family hooks contract: what a family must provide, and that providing it is enough.

A throwaway family defined here (one object sliding left or right in a few strokes) is registered
with the same call as the registry's own lines and goes through a real build, template CoT and its
verification, and the audit: one module plus one registry line is all a new family needs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from synrl_hf import motion
from synrl_hf.audit import audit
from synrl_hf.build import BuildSpec, build
from synrl_hf.cot import scene_for_row, template_completion, verify
from synrl_hf.families import FAMILIES, register
from synrl_hf.families.base import REQUIRED_BY_CATEGORY, REQUIRED_HOOKS, Family, draw_num_frames, missing_hooks
from synrl_hf.narration import Context, CountRule, Writer, counted_events, narrate_events, plural
from synrl_hf.pixels import PixelScene, asked_objects, moving_runs
from synrl_hf.questions import multiple_choice, number, pick
from synrl_hf.timeline import Event, Timeline, Track

# Every hook a family must define itself, per category.
CONTRACT = {
    "short_term": ["name", "category", "simulate", "ask", "cot_intro", "observe"],
    "long_term": ["name", "category", "simulate", "ask", "cot_intro", "state_parts"],
}

STROKE, PAUSE, STEP = 15, 12, 0.2  # frames per stroke, frames between strokes, canvas units per stroke
PHRASES = {
    "start": ("At {t} the {obj} sets off {detail}.", "The {obj} starts sliding {detail} at {t}."),
    "stop": ("It stops at {t}.",),
}


class Slide(Family):
    """Throwaway family: one object slides left or right in 1 to 3 strokes with pauses between."""

    name = "toy_slide"
    category = "short_term"
    cot_intro = ("I follow the {target} and note each time it sets off and stops.",)
    focus = {"which_way": ("So it slides {answer_text}.",)}
    count_rule = CountRule(("strokes",), r"(?:strokes?|times?)", counted_events("start", own=True))

    def plan(self, rng, params):
        return {"kind": pick(rng, ("which_way", "strokes")), "way": pick(rng, ("left", "right")), "strokes": int(rng.integers(1, 4))}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        (obj,) = motion.random_objects(rng, 1, (0.08, 0.1))
        sign = -1.0 if plan["way"] == "left" else 1.0
        starts = [10 + k * (STROKE + PAUSE) for k in range(plan["strokes"])]
        keys = [0] + [f for s in starts for f in (s, s + STROKE)] + [num_frames - 1]
        x0 = 0.5 - sign * STEP * plan["strokes"] / 2
        xs = [x0] + [x0 + sign * STEP * (k + done) for k in range(plan["strokes"]) for done in (0, 1)]
        x = np.interp(np.arange(num_frames), keys, xs + [xs[-1]])
        track = Track(x=x, y=np.full(num_frames, rng.uniform(0.3, 0.7)), angle=np.zeros(num_frames), visible=np.ones(num_frames, bool))
        events = [e for s in starts for e in (Event(s, "start", [obj.id], plan["way"]), Event(s + STROKE, "stop", [obj.id]))]
        return Timeline(30, num_frames, [obj], {obj.id: track}, events)

    def ask(self, rng, timeline, plan):
        name = motion.describe(timeline.objects[0])
        starts = [e for e in timeline.events if e.type == "start"]
        if plan["kind"] == "strokes":
            return number(f"How many times does the {name} set off?", len(starts), primitive="counting", kind="strokes")
        text = f"Which way does the {name} slide?"
        return multiple_choice(rng, text, starts[0].detail, ["left", "right"], primitive="direction", kind="which_way", num_options=2)

    def observe(self, ctx: Context, w: Writer) -> None:
        narrate_events(ctx, w, ctx.own(), PHRASES)
        if ctx.kind == "strokes":
            w.say("That makes {strokes}.", strokes=plural(len(ctx.own("start")), "stroke"))

    def answer_from_pixels(self, scene: PixelScene) -> str:
        (obj,) = asked_objects(scene.row)
        p = scene.position(obj)
        if scene.row["question_type"] == "strokes":
            return str(len(moving_runs(np.hypot(*np.diff(p, axis=0).T) > scene.still_threshold(), min_gap=3)))
        return "left" if p[-1, 0] < p[0, 0] else "right"


# --- the contract ----------------------------------------------------------------------------------


def test_the_contract_lists_every_required_hook():
    assert {c: [*REQUIRED_HOOKS, *REQUIRED_BY_CATEGORY[c]] for c in CONTRACT} == CONTRACT


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_registered_family_provides_every_hook(family):
    assert missing_hooks(FAMILIES[family]) == []


@pytest.mark.parametrize("hook", CONTRACT["short_term"])
def test_a_family_without_a_hook_is_named_and_refused(hook):
    attrs = {k: v for k, v in vars(Slide).items() if k != hook and not k.startswith("__")}
    broken = type("Broken", (Family,), attrs)
    assert missing_hooks(broken) == [hook]
    before = dict(FAMILIES)
    with pytest.raises(TypeError, match=rf"lacks the required hook\(s\) {hook};"):
        register(broken)
    assert FAMILIES == before


def test_a_long_term_family_needs_its_state_parts():
    attrs = {k: v for k, v in vars(Slide).items() if not k.startswith("__")}
    broken = type("Broken", (Family,), {**attrs, "category": "long_term"})
    assert missing_hooks(broken) == ["state_parts"]
    with pytest.raises(TypeError, match="'toy_slide' lacks the required hook\\(s\\) state_parts"):
        register(broken)


def test_the_count_rule_is_optional():
    attrs = {k: v for k, v in vars(Slide).items() if k != "count_rule" and not k.startswith("__")}
    assert missing_hooks(type("Plain", (Family,), attrs)) == []


# --- one module + one registry line is enough ---------------------------------------------------------


@pytest.fixture(scope="module")
def slide_build(tmp_path_factory):
    register(Slide)
    try:
        out = tmp_path_factory.mktemp("slide") / "synrl"
        spec = BuildSpec(
            families=("toy_slide",),
            per_task=8,
            resolution=128,
            splits=("train",),
            mixtures=("sft",),
            mixture_families=("toy_slide",),
            mixture_sizes={"sft": 4},
        )
        build(spec, out, num_proc=1, progress=False)
        cache = out.parent / "cache"
        rows = list(load_dataset(str(out), "toy_slide", cache_dir=str(cache))["train"])
        sft = list(load_dataset(str(out), "sft", cache_dir=str(cache))["train"])
        report = audit(out)
        yield rows, sft, report
    finally:
        FAMILIES.pop("toy_slide", None)


def test_a_new_family_builds(slide_build):
    rows, _, _ = slide_build
    assert len(rows) == 8 and {r["task"] for r in rows} == {"toy_slide"}
    assert {r["question_type"] for r in rows} == {"which_way", "strokes"}


def test_a_new_family_gets_verified_template_cot(slide_build):
    rows, sft, _ = slide_build
    for row in rows:
        completion = template_completion(scene_for_row(row))
        result = verify(completion, row)
        assert result.passed, result.feedback
        if row["question_type"] == "strokes":  # its count rule is applied
            assert result.check("count").passed and f"{row['answer']} stroke" in completion
    assert len(sft) == 4
    for row in sft:
        completion = row["messages"][1]["content"][0]["text"]
        assert row["cot_source"] == "template" and verify(completion, row).passed


def test_a_new_family_is_audited_from_its_pixels(slide_build):
    rows, _, report = slide_build
    results = {r.check: r for r in report.results if r.family == "toy_slide"}
    assert set(results) == {"balance", "blind", "single_frame", "pixels", "determinism"}
    pixels = results["pixels"]
    assert pixels.status == "pass" and pixels.details["agree"] == pixels.details["n"] == len(rows), json.dumps(pixels.details)
    assert results["determinism"].status == "pass"
