"""Template chain of thought: the reasoning a careful viewer would give, written from the metadata.

Offline, deterministic, and correct by construction: every time it cites is a real event's (printed
to the hundredth of a second), events are narrated in the order they happen, counts are the counted
events, and the last line is ``<answer>`` with the ground truth. The same rule-based verifier that
checks model CoT (:func:`synrl_hf.cot.verify.verify`) checks these.

One generic narrator; what is particular to a family comes from the family's narration hooks (see
:class:`synrl_hf.families.base.Family`), written with the kit in :mod:`synrl_hf.narration`:

* short-term: an opening line saying what to watch (``cot_intro``), then the family's observations
  (``observe``: its timed events in order — "At 1.30 s the red square touches the left wall, its 2nd
  contact" — plus measurements read off the tracks where the answer lives in the motion rather than
  in an event: speeds, distances, sides), then a focus line per question kind (``focus``).
* long-term: the revealed state at its moment, the operations with their time spans and captions,
  and what each one changes (``state_parts`` splits a state into named parts: a container, a
  position, a directory …; ``effect`` tells an operation's effect) — forwards when the initial state
  is shown, backwards (undoing the operations from the last one) when only the final state is; the
  whole state again at the moment the question asks about (``moments``).
* conclusion: a generic closing line per answer type (the option letter and text, the count, the span).

Every phrasing comes in several variants; which one is used is drawn from the sample's seed, so two
samples rarely read alike while the same sample always reads the same.
"""

from __future__ import annotations

import json
from typing import Any

from ..families import FAMILIES, Family
from ..narration import Context, Writer, ts
from ..questions import ordinal
from ..sample import Scene, build_scene

__all__ = ["completion", "scene_for_row", "template_completion", "template_cot"]


def completion(reasoning: str, answer: str) -> str:
    """The assistant turn: ``<think>reasoning</think><answer>answer</answer>``."""
    return f"<think>\n{reasoning.strip()}\n</think>\n<answer>{answer}</answer>"


# --- short-term ---------------------------------------------------------------------------------


def _short_term(ctx: Context, w: Writer, family: Family) -> None:
    family.observe(ctx, w)
    w.paragraph()
    focus = family.focus.get(ctx.kind)
    if focus:
        more = {"answer_text_lower": ctx.answer_text[:1].lower() + ctx.answer_text[1:], **family.focus_fields(ctx)}
        w.say(focus, **ctx.fields(**more))


# --- long-term: states and operations -----------------------------------------------------------


def _whole(parts: dict[str, str]) -> str:
    return "; ".join(parts.values())


def _changed(old: dict[str, str], new: dict[str, str]) -> str:
    changed = [text for key, text in new.items() if old.get(key) != text]
    return "; ".join(changed) if changed else "nothing I track changes"


RECAPS = {
    "end": ("So at the end the state is: {state}.", "The final state, then: {state}."),
    "start": ("So at the start the state was: {state}.", "The initial state, then: {state}."),
    "after": (
        "Right after operation {k} (the one at {t}) the state was: {state}.",
        "Just after the {kth} operation ({t}) it was: {state}.",
    ),
}

CONCLUDE = (
    "Now the question: {question} From the tracking above, the answer is {answer_text}.",
    "The question asks: {question} Following the states above gives {answer_text}.",
    "Back to the question, {question} By the tracking above: {answer_text}.",
)


def _long_term(ctx: Context, w: Writer, family: Family) -> None:
    tl, plan = ctx.tl, ctx.plan
    parts = family.state_parts
    describe = lambda state, c: _whole(parts(state, c))  # noqa: E731
    states = [s.state for s in tl.states]
    ops = tl.operations
    span = lambda op: (ts(tl.time(op.start_frame)), ts(tl.time(op.end_frame)))  # noqa: E731
    moment = family.moments.get(ctx.kind)
    if plan["shown"] == "initial":
        w.say(
            ("At 0.00 s the initial state is revealed: {state}.", "The clip opens (0.00 s) on the initial state: {state}."),
            state=describe(states[0], ctx),
        )
        for op, before, after in zip(ops, states, states[1:]):
            a, b = span(op)
            effect = family.effect(before, after, op, ctx)
            what = f"; {effect}" if effect is not None else ""
            if family.effect_is_complete:
                w.say(
                    ("From {a} to {b}, operation {k}: “{caption}”{what}.", "Operation {k} runs from {a} to {b}, “{caption}”{what}."),
                    a=a,
                    b=b,
                    k=op.index + 1,
                    caption=tl.events[op.index].detail,
                    what=what,
                )
                continue
            w.say(
                (
                    "From {a} to {b}, operation {k}: “{caption}”{what}. Now {change}.",
                    "Operation {k} runs from {a} to {b}, “{caption}”{what}; afterwards {change}.",
                ),
                a=a,
                b=b,
                k=op.index + 1,
                caption=tl.events[op.index].detail,
                what=what,
                change=_changed(parts(before, ctx), parts(after, ctx)),
            )
        if moment != "end":
            w.say(("The final state is not shown, but the tracking gives it: {state}.",), state=describe(states[-1], ctx))
    else:
        w.say(
            (
                "The clip starts with the state hidden (0.00 s); then come the operations, in order.",
                "At first (0.00 s) nothing of the state is visible; the operations follow one by one.",
            )
        )
        for op in ops:
            a, b = span(op)
            w.say(
                ("From {a} to {b}, operation {k}: “{caption}”.", "Operation {k} ({a} to {b}): “{caption}”."),
                a=a,
                b=b,
                k=op.index + 1,
                caption=tl.events[op.index].detail,
            )
        w.paragraph()
        w.say(
            (
                "After the last operation ends at {t}, the final state is revealed: {state}.",
                "Once the last operation is over ({t}) the final state shows: {state}.",
            ),
            t=span(ops[-1])[1],
            state=describe(states[-1], ctx),
        )
        w.say(
            (
                "To know the earlier states I undo the operations from the last one back to the first.",
                "Working backwards, I undo each operation in turn, starting from the last.",
            )
        )
        for op, before, after in reversed(list(zip(ops, states, states[1:]))):
            effect = family.effect(before, after, op, ctx)
            what = f" ({effect})" if effect is not None else ""
            w.say(
                (
                    "Undoing operation {k} (“{caption}”, at {a}){what} gives back: {change}.",
                    "Before operation {k} (“{caption}”, {a}){what}: {change}.",
                ),
                k=op.index + 1,
                caption=tl.events[op.index].detail,
                a=span(op)[0],
                what=what,
                change=_changed(parts(after, ctx), parts(before, ctx)),
            )
    w.paragraph()
    if moment == "end":
        w.say(RECAPS["end"], state=describe(states[-1], ctx))
    elif moment == "start":
        w.say(RECAPS["start"], state=describe(states[0], ctx))
    elif moment is not None:  # the plan key holding k: the state right after operation k
        k = plan[moment]
        w.say(RECAPS["after"], k=k, kth=ordinal(k), t=span(ops[k - 1])[0], state=describe(states[k], ctx))
    family.observe(ctx, w)


# --- putting it together ------------------------------------------------------------------------


CLOSING = {
    "multiple_choice": (
        "That matches option {letter}: {answer_text}.",
        "Among the options this is {letter} ({answer_text}).",
        "The option that fits is {letter}, {answer_text}.",
    ),
    "number": ("So the answer is {answer}.", "The answer is therefore {answer}."),
    "sequence": ("So the answer, in order, is: {answer}.", "In order: {answer}."),
    "yes_no": ("So the answer is {answer}.", "Hence, {answer}."),
    "interval": ("So the span runs from {a} to {b}.", "That gives the interval from {a} to {b}."),
}


def _conclude(ctx: Context, w: Writer, family: Family) -> None:
    q = ctx.q
    if q.answer_type == "interval":
        from ..answers import parse_interval

        start, end = parse_interval(q.answer)
        ops = [
            op
            for op in ctx.tl.operations
            if abs(ctx.tl.time(op.start_frame) - start) < 1e-6 and abs(ctx.tl.time(op.end_frame) - end) < 1e-6
        ]
        if ops:
            op = ops[0]
            w.say(
                (
                    "The operation asked about is operation {k}, “{caption}”, shown from {a} to {b}.",
                    "That is operation {k} (“{caption}”), on screen from {a} to {b}.",
                ),
                k=op.index + 1,
                caption=ctx.tl.events[op.index].detail,
                a=ts(start),
                b=ts(end),
            )
        else:
            w.say(CLOSING["interval"], a=ts(start), b=ts(end))
        return
    question = family.restated_question(ctx) if ctx.tl.operations else None
    if question is not None:
        w.say(CONCLUDE, question=question, answer_text=ctx.answer_text)
    w.say(CLOSING[q.answer_type], **ctx.fields())


def template_cot(scene: Scene) -> str:
    """The reasoning (without tags) for ``scene``: deterministic, ending in the answer."""
    family = FAMILIES[scene.family]()
    ctx = Context(scene.timeline, scene.question, scene.plan, scene.seed)
    w = Writer(scene.seed)
    intro_fields = ctx.fields()
    if len(ctx.objects) > 1:  # some openings are about a pair of objects
        intro_fields.update(a=ctx.names[ctx.objects[0].id], b=ctx.names[ctx.objects[1].id])
    w.say(family.cot_intro, **intro_fields)
    w.paragraph()
    if scene.timeline.operations:
        _long_term(ctx, w, family)
    else:
        _short_term(ctx, w, family)
    _conclude(ctx, w, family)
    return w.text()


def template_completion(scene: Scene) -> str:
    """``<think>…</think><answer>…</answer>`` for ``scene``; the answer is the ground truth."""
    return completion(template_cot(scene), scene.question.answer)


def scene_for_row(row: dict[str, Any], base_seed: int | None = None) -> Scene:
    """Rebuild the scene a synthetic row was made from (cheap: no rendering).

    ``base_seed`` defaults to the one in the row's id (``<family>-s<seed>-<split>-<index>``).
    """
    if base_seed is None:
        base_seed = int(row["id"].rsplit("-", 2)[0].rsplit("-s", 1)[1])
    params = json.loads(row["difficulty"]) if row.get("difficulty") else {}
    scene = build_scene(row["task"], int(row["index"]), base_seed, row["split"], preset=row.get("preset") or "round1", params=params)
    if scene.seed != row["seed"]:
        raise ValueError(f"row {row['id']} does not regenerate (seed {scene.seed} != {row['seed']}); pass the build's base seed")
    return scene
