"""attribute_change: which attribute of an object (color, size, shape) changes, to what, and in what order.

A single, slowly drifting object changes for "which", "order" and "when": its first and last frames
each show one state drawn uniformly (every change picks uniformly among the other values), so only
comparing states over time answers. "to_color" shows four objects of one shape that all change
color at the same moment to four new colors, which are the four options: the last frame shows every
option, and only following the asked object through the change tells which one is its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import motion, shapes
from ..narration import Context, Writer, narrate_events
from ..palette import COLORS, SHAPES
from ..questions import interval, multiple_choice, ordinal, pick, sequence
from ..timeline import Event, SceneObject, StyleChange, Timeline, Track
from .base import FPS, Family, Params, draw_num_frames

ATTRIBUTES = ("color", "size", "shape")
NOTHING = "nothing changes"
RECOLORED = 4  # objects in "to_color": four old and four new colors use up the eight palette colors
EVENT_PHRASES = {
    "change": ("At {t} {change}.", "{t}: {change}.", "Then at {t} {change}."),
}


@dataclass(frozen=True)
class AttributeChangeParams(Params):
    changes: tuple[int, int] = (2, 3)  # changes of the object in "order" and "when" questions
    sizes: tuple[float, ...] = (0.07, 0.1, 0.14, 0.2)  # size levels, each ~1.4x the one before
    drift: float = 0.15  # longest distance (canvas units) the object moves over the whole clip
    min_gap: int = 12  # frames between two changes (and from the clip's ends)


class AttributeChange(Family):
    name = "attribute_change"
    category = "short_term"
    Params = AttributeChangeParams
    round2 = {"duration": (8.0, 12.0), "changes": (3, 5), "drift": 0.3, "min_gap": 9}

    KINDS = ("which", "to_color", "order", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        if kind == "which":
            answer = pick(rng, ATTRIBUTES + (NOTHING,))
            return {"kind": kind, "changes": [] if answer == NOTHING else [answer]}
        if kind == "to_color":
            return {"kind": kind, "to_color": pick(rng, list(COLORS))}
        # Uniform over sequences with no attribute changing twice in a row.
        changes = [pick(rng, ATTRIBUTES)]
        for _ in range(int(rng.integers(params.changes[0], params.changes[1] + 1)) - 1):
            changes.append(pick(rng, [a for a in ATTRIBUTES if a != changes[-1]]))
        if kind == "when":
            return {"kind": kind, "changes": changes, "span": sorted(int(i) for i in rng.choice(len(changes), 2, replace=False))}
        return {"kind": kind, "changes": changes}

    def simulate(self, rng, params, plan):
        num_frames = draw_num_frames(rng, params.duration)
        if plan["kind"] == "to_color":
            return _recolor_scene(rng, params, plan["to_color"], num_frames)
        frames = motion.split_points(rng, num_frames, len(plan["changes"]), params.min_gap, params.min_gap)
        choices = {"color": list(COLORS), "shape": SHAPES, "size": params.sizes}
        state = {attribute: pick(rng, values) for attribute, values in choices.items()}
        obj = SceneObject("obj0", state["shape"], state["color"], state["size"])
        changes, events, reach = [], [], shapes.radius(state["shape"], state["size"])
        for frame, attribute in zip(frames, plan["changes"]):
            old = state[attribute]
            state[attribute] = pick(rng, [v for v in choices[attribute] if v != old])
            changes.append(StyleChange(frame, **{attribute: state[attribute]}))
            events.append(Event(frame, "change", [obj.id], f"{attribute}: {old} -> {state[attribute]}"))
            reach = max(reach, shapes.radius(state["shape"], state["size"]))
        x, y = motion.place_path(rng, *_drift(rng, params.drift, num_frames), reach)
        track = Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool), style_changes=changes)
        return Timeline(FPS, num_frames, [obj], {obj.id: track}, events)

    def ask(self, rng, timeline, plan):
        kind = plan["kind"]
        obj = timeline.objects[0]
        if kind == "to_color":
            final = {o.id: timeline.tracks[o.id].style_at(o, timeline.num_frames - 1)[1] for o in timeline.objects}
            text = pick(
                rng,
                (
                    f"All objects change color at the same moment. What color does the {motion.describe(obj)} turn into?",
                    f"Which color does the {obj.shape} that starts out {obj.color} have after the color change?",
                ),
            )
            others = [c for oid, c in final.items() if oid != obj.id]
            return multiple_choice(rng, text, final[obj.id], others, primitive="attribute", kind=kind)
        track = timeline.tracks[obj.id]
        changed = [next(a for a in ATTRIBUTES if getattr(c, a) is not None) for c in track.style_changes]
        if kind == "which":
            text = pick(
                rng,
                (
                    "Which attribute of the object changes during the video?",
                    "Watch the object closely. What about it changes: its color, its size, its shape, or nothing?",
                ),
            )
            answer = changed[0] if changed else NOTHING
            return multiple_choice(rng, text, answer, ATTRIBUTES + (NOTHING,), primitive="attribute", kind=kind)
        if kind == "order":
            text = pick(
                rng,
                (
                    "The object changes several times. In what order do its attributes change? Name each change as color, size or shape.",
                    "List the object's changes in the order they happen, each as color, size or shape.",
                ),
            )
            return sequence(text, changed, primitive="attribute", kind=kind)
        first, last = plan["span"]
        start, end = track.style_changes[first].frame, track.style_changes[last].frame
        text = pick(
            rng,
            (
                f"When does the object go from its {ordinal(first + 1)} change to its {ordinal(last + 1)} change?",
                f"Give the time span from the object's {ordinal(first + 1)} change ({changed[first]}) "
                f"to its {ordinal(last + 1)} change ({changed[last]}).",
            ),
        )
        return interval(text, timeline.time(start), timeline.time(end))

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "I watch the object's color, size and shape over the whole clip and note every change.",
        "I compare how the object looks from one moment to the next and write down each change.",
    )
    focus = {
        "which": ("So what changes is: {answer_text}.", "The changing attribute: {answer_text}."),
        "to_color": ("So the {target} turns {answer_text}.", "After the change the {target} is {answer_text}."),
        "order": ("So the changes come in this order: {answer}.",),
    }

    def observe(self, ctx: Context, w: Writer) -> None:
        sizes = list(AttributeChangeParams().sizes)
        words = ("small", "medium-sized", "large", "very large")

        def size_word(value: str) -> str:
            v = float(value)
            return words[min(range(len(sizes)), key=lambda i: abs(sizes[i] - v))]

        def change(event) -> dict[str, str]:
            attribute, rest = event.detail.split(": ", 1)
            if ctx.kind == "to_color":
                pairs = [p.split(" -> ") for p in rest.split(", ")]
                listed = ", ".join(f"the {ctx.names[o.id]} becomes {new}" for o, (old, new) in zip(ctx.objects, pairs))
                return {"change": f"all the objects change color at once: {listed}"}
            old, new = rest.split(" -> ")
            if attribute == "size":
                grows = float(new) > float(old)
                return {"change": f"its size changes: it {'grows' if grows else 'shrinks'} from {size_word(old)} to {size_word(new)}"}
            return {"change": f"its {attribute} changes from {old} to {new}"}

        obj = ctx.objects[0]
        if ctx.kind != "to_color":
            w.say(("At the start it is a {look}.", "It starts out as a {look}."), look=f"{size_word(obj.size)} {obj.color} {obj.shape}")
        if not ctx.tl.events:
            w.say(("From 0.00 s to the end ({end}) nothing about it changes: same color, same size, same shape.",), **ctx.fields())
        narrate_events(ctx, w, ctx.tl.events, EVENT_PHRASES, change)


def _drift(rng, longest, num_frames):
    """A slow straight drift of random length and heading, relative to the start."""
    heading, length = rng.uniform(0, 2 * math.pi), rng.uniform(0, longest)
    s = np.linspace(0, 1, num_frames)
    return length * math.cos(heading) * s, length * math.sin(heading) * s


def _recolor_scene(rng, params, to_color, num_frames):
    """Four same-shaped objects, one per quadrant, that all change to new colors at one frame."""
    new_colors = [to_color] + [str(c) for c in rng.permutation([c for c in COLORS if c != to_color])]
    old_colors = new_colors[RECOLORED : 2 * RECOLORED]
    shape = pick(rng, SHAPES)
    frame = int(rng.integers(params.min_gap, num_frames - params.min_gap))
    objects, tracks = [], {}
    for i, (cell, old, new) in enumerate(zip(motion.grid_cells(rng, RECOLORED), old_colors, new_colors)):
        obj = SceneObject(f"obj{i}", shape, old, float(rng.uniform(0.08, 0.13)), z=i)
        x, y = motion.place_in_box(rng, *_drift(rng, params.drift / 3, num_frames), cell, obj)
        recolor = [StyleChange(frame, color=new)]
        tracks[obj.id] = Track(x=x, y=y, angle=np.zeros(num_frames), visible=np.ones(num_frames, bool), style_changes=recolor)
        objects.append(obj)
    detail = ", ".join(f"{o.color} -> {n}" for o, n in zip(objects, new_colors))
    return Timeline(FPS, num_frames, objects, tracks, [Event(frame, "change", [o.id for o in objects], f"color: {detail}")])
