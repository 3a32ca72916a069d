"""shell_game: balls hidden under a row of identical cups, and the cups shuffled by swaps.

The cups (a 1 × n grid) are always visible and always move; a ball is visible only during the
revealed phase (S0 or ST), when every cup is drawn lifted above its ball (object ``lifted<i>``
instead of ``cup<i>``). At every other frame the
cups rest on the balls, which are hidden: only by following the cup that covers a ball through the
swaps does one know where it is. Swapped cups travel along two free streets, one above and one
below the row, so they never pass over each other or over the cups in between. A caption names the
swapped positions (counted from the left). State: {"cups": [cup number at each position],
"under": {ball color: cup number}}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Anchor, Context, CountRule, Writer
from ..ocr import Vocabulary
from ..palette import COLORS
from ..perception import px
from ..pixels import PixelScene, Unreadable, stem
from ..questions import multiple_choice, number, ordinal, pick
from ..timeline import Operation, SceneObject
from .base import Family, Params

CUP, BALL = 0.14, 0.08
ROW_Y = 0.58
STREET = 0.17  # vertical distance from the row to the streets swapped cups travel along
LIFT = 0.15  # cups are drawn this far up while the balls are revealed
CUP_COLOR = "brown"
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"while the state is shown the {px(CUP)} cups are lifted {px(LIFT)} above their {px(BALL)} balls, of distinct "
    "colors; on every other frame they rest on them, and swapped cups travel along free streets above and below the row",
)


@dataclass(frozen=True)
class ShellGameParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by `operations`
    operations: tuple[int, int] = (5, 8)
    cups: int = 4
    balls: int = 2
    moved_count: tuple[int, int] = (1, 4)  # swaps moving the asked ball's cup (swap_count), uniform


def apply(state, name, args):
    a, b = args["a"], args["b"]
    if name != "swap" or a == b or not (0 <= a < len(state["cups"]) and 0 <= b < len(state["cups"])):
        raise ValueError(f"{name} {args} does not apply to {state}")
    cups = list(state["cups"])
    cups[a], cups[b] = cups[b], cups[a]
    return {"cups": cups, "under": dict(state["under"])}


def position(i):
    return f"the {ordinal(i + 1)} cup from the left"


def ball_cell(state, color):
    return state["cups"].index(state["under"][color])


def moves(state):
    n = len(state["cups"])
    return [("swap", {"a": a, "b": b}) for a in range(n) for b in range(a + 1, n)]


def _ball_swaps(row: dict[str, Any], anchors: Sequence[Anchor]) -> list[Anchor]:
    """Operations that move the cup hiding ball0, as their start and end anchors."""
    objects = list(row["objects"]) if row.get("objects") is not None else []
    snapshots = list(row["states"]) if row.get("states") is not None else []
    color = next((o["color"] for o in objects if o["id"] == "ball0"), None)
    states = [json.loads(s["state"]) if isinstance(s["state"], str) else s["state"] for s in snapshots]
    if color is None or len(states) < 2:
        return []
    moving = {k for k, (a, b) in enumerate(zip(states, states[1:])) if ball_cell(a, color) != ball_cell(b, color)}
    return [a for a in anchors if a.kind in ("op_start", "op_end") and a.index in moving]


class ShellGame(Family):
    name = "shell_game"
    category = "long_term"
    Params = ShellGameParams
    round2 = {"operations": (10, 16), "cups": 5, "balls": 3, "moved_count": (1, 8), "duration": longterm.duration_bounds((10, 16))}
    ladder = (
        {},
        round2,
        {"operations": (14, 20), "cups": 5, "balls": 3, "moved_count": (1, 10), "duration": longterm.duration_bounds((14, 20))},
        {"operations": (18, 24), "cups": 6, "balls": 4, "moved_count": (1, 12), "duration": longterm.duration_bounds((18, 24))},
        {"operations": (22, 28), "cups": 6, "balls": 4, "moved_count": (1, 14), "duration": longterm.duration_bounds((22, 28))},
    )

    KINDS = ("where_end", "where_start", "where_after", "swap_count", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.operations[0], params.operations[1] + 1))
        return {
            "kind": kind,
            "shown": longterm.draw_shown(rng, kind, ("where_end",), ("where_start",)),
            "num_ops": num_ops,
            "cell": int(rng.integers(params.cups)),  # where the asked ball is (where_* kinds)
            "naive": longterm.draw_naive(rng),
            "count": int(rng.integers(params.moved_count[0], min(params.moved_count[1], num_ops) + 1)),
            # where_after asks about a state at least two swaps away from either reveal
            "k": int(rng.integers(1, num_ops + 1) if kind == "when" else rng.integers(2, num_ops - 1)),
            "when_ball": bool(rng.integers(2)),  # when: the k-th swap, or the first one moving the ball
        }

    def simulate(self, rng, params, plan):
        colors = [str(c) for c in rng.permutation([c for c in COLORS if c != CUP_COLOR])[: params.balls]]
        for _ in range(2000):
            s0 = {"cups": list(range(params.cups)), "under": dict(zip(colors, (int(c) for c in rng.permutation(params.cups))))}
            ops = _swaps(rng, s0, colors[0], plan, params.cups)
            states = longterm.replay(apply, s0, ops)
            if _askable(rng, states, ops, plan, colors[0]):
                return _animate(rng, states, ops, plan["shown"], colors)
        raise RuntimeError(f"could not draw swaps for {plan}")

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, op.args) for op in timeline.operations]
        color = next(o.color for o in timeline.objects if o.id == "ball0")
        kind, ball = plan["kind"], f"{color} ball"
        if kind == "when":
            if not plan["when_ball"]:
                return longterm.when_question(rng, timeline, plan["k"], caption(*ops[plan["k"] - 1]))
            first = next(k for k in range(len(ops)) if ball_cell(states[k], color) != ball_cell(states[k + 1], color))
            text = pick(
                rng,
                (
                    f"When is the cup hiding the {ball} moved for the first time?",
                    f"During which time span does the {ball}'s cup take part in a swap for the first time?",
                ),
            )
            return longterm.op_interval(text, timeline, first)
        if kind == "swap_count":
            text = pick(
                rng,
                (
                    f"How many swaps moved the cup that hides the {ball}?",
                    f"In how many of the swaps did the cup covering the {ball} take part?",
                ),
            )
            return number(text, _moved_count(states, color), primitive="historical", kind=kind)
        answer, distractors, naive = _choice(rng, states, ops, plan, color)
        text = pick(
            rng,
            {
                "where_end": (f"Under which cup is the {ball} at the end?", f"After all the swaps, which cup hides the {ball}?"),
                "where_start": (f"Under which cup was the {ball} at the start?", f"Before the first swap, which cup hid the {ball}?"),
                "where_after": (
                    f"Under which cup was the {ball} right after swap {plan['k']}?",
                    f"Which cup hid the {ball} just after the {ordinal(plan['k'])} swap?",
                ),
            }[kind],
        )
        primitive = {"where_end": "state_tracking", "where_start": "retrodiction"}.get(kind, "historical")
        options = longterm.with_naive(distractors, naive, answer)
        # With few cups re-simulation may not reach every position; the remaining ones fill in.
        options += [position(c) for c in rng.permutation(len(states[0]["cups"])) if position(c) not in options + [answer]]
        return multiple_choice(rng, text, answer, options[:3], primitive=primitive, kind=kind)

    # -- hooks: CoT narration and the verifier's count rule (the contract is in base.py) --
    cot_intro = (
        "The balls are visible only while the cups are lifted; otherwise I follow the cups through each captioned swap.",
        "I see where the balls are only in the revealed moment, so I track the cups through every swap.",
    )
    moments = {
        "where_end": "end",
        "where_start": "start",
        "where_after": "k",
    }
    effect_is_complete = True  # the effect says everything that changed
    count_rule = CountRule(("swap_count",), r"(?:swaps?|times?)", _ball_swaps, unit=lambda a: a.index)

    def state_parts(self, state: dict, ctx: Context) -> dict[str, str]:
        return {color: f"the {color} ball is under {position(ball_cell(state, color))}" for color in state["under"]}

    def effect(self, before: dict, after: dict, op: Operation, ctx: Context) -> str:
        moved = [c for c in before["under"] if ball_cell(before, c) != ball_cell(after, c)]
        if not moved:
            return "no ball's cup moved"
        return " and ".join(f"the {c} ball's cup moved to {position(ball_cell(after, c))}" for c in moved)

    def observe(self, ctx: Context, w: Writer) -> None:
        if ctx.kind != "swap_count":
            return
        ops, states = ctx.tl.operations, [s.state for s in ctx.tl.states]
        color = next(o.color for o in ctx.objects if o.id == "ball0")
        moving = [op.index + 1 for op, a, b in zip(ops, states, states[1:]) if ball_cell(a, color) != ball_cell(b, color)]
        which = f"operation {moving[0]}" if len(moving) == 1 else "operations " + ", ".join(map(str, moving[:-1])) + f" and {moving[-1]}"
        w.say(
            (
                "The cup hiding the {color} ball takes part in {which}: {n} {swaps} in all.",
                "The {color} ball's cup is moved by {which}, so {n} {swaps}.",
            ),
            color=color,
            which=which,
            n=len(moving),
            swaps="swap" if len(moving) == 1 else "swaps",
        )

    def restated_question(self, ctx: Context) -> str | None:
        # The swap count is told in its own sentence (observe), not as a restated question.
        return None if ctx.kind == "swap_count" else super().restated_question(ctx)

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        text = stem(row)
        if kind == "when" and "first time" not in text:
            return lp.when_answer(scene, spans, lp.operation_number(row, [caption(*op) for op in ops]))
        xs = _read_cups(scene)
        shown = lp.shown_reveal(scene, lambda frame: lp.color_at(scene, frame, xs[0], ROW_Y - LIFT, 0.3 * CUP) == CUP_COLOR)
        color = next((c for c in COLORS if re.search(rf"\b{c} ball\b", text)), None)
        frame = 0 if shown == "initial" else len(scene) - 1
        cell = next((i for i, x in enumerate(xs) if lp.color_at(scene, frame, x, _ball_y(), 0.3 * BALL) == color), None)
        if color is None or cell is None:
            raise Unreadable(f"the ball the question names ({color}) is under no lifted cup")
        cells = [cell]  # where the ball is before the first swap, then after each
        swaps = [(args["a"], args["b"]) for _, args in ops]
        for a, b in swaps if shown == "initial" else reversed(swaps):
            cells.append(b if cells[-1] == a else a if cells[-1] == b else cells[-1])
        cells = cells if shown == "initial" else cells[::-1]
        moved = [k for k in range(len(ops)) if cells[k] != cells[k + 1]]
        if kind == "swap_count":
            return str(len(moved))
        if kind == "when":
            if not moved:
                raise Unreadable("no swap moves the ball's cup")
            return lp.when_answer(scene, spans, moved[0] + 1)
        k = {"where_end": len(ops), "where_start": 0}.get(kind)
        return position(cells[k if k is not None else lp.operation_number(row)])


def caption(name, args):
    return f"swap {args['a'] + 1} and {args['b'] + 1}"


def _swaps(rng, s0, color, plan, n):
    """Random swaps; for swap_count exactly ``plan["count"]`` of them move the asked ball's cup."""
    involved = set(rng.choice(plan["num_ops"], plan["count"], replace=False).tolist()) if plan["kind"] == "swap_count" else None
    ops, state = [], s0
    for k in range(plan["num_ops"]):
        if involved is None:
            a, b = (int(c) for c in rng.choice(n, 2, replace=False))
        else:
            cell = ball_cell(state, color)
            others = [c for c in range(n) if c != cell]
            a = cell if k in involved else pick(rng, others)
            b = pick(rng, [c for c in others if c != a])
        op = ("swap", {"a": min(a, b), "b": max(a, b)})
        ops.append(op)
        state = apply(state, *op)
    return ops


def _moved_count(states, color):
    cup = states[0]["under"][color]
    return sum(before["cups"].index(cup) != after["cups"].index(cup) for before, after in zip(states, states[1:]))


def _cell_at(kind, states, k, color):
    index = {"where_end": -1, "where_start": 0}.get(kind, k)
    return ball_cell(states[index], color)


def _choice(rng, states, ops, plan, color):
    kind, k = plan["kind"], plan["k"]
    answer = position(_cell_at(kind, states, k, color))
    if kind == "where_start":
        # Where the ball would have started had one more swap been undone.
        distractors = longterm.perturbed_answers(rng, apply, states[0], lambda s: position(ball_cell(s, color)), moves)
    else:
        distractors = longterm.replaced_answers(rng, apply, states, ops, lambda s, o: position(_cell_at(kind, s, k, color)), moves)
    naive = position(ball_cell(states[0 if plan["shown"] == "initial" else -1], color))
    return answer, distractors, naive


def _askable(rng, states, ops, plan, color):
    kind = plan["kind"]
    if kind in ("swap_count", "when"):
        return _moved_count(states, color) > 0
    answer, _, naive = _choice(rng, states, ops, plan, color)
    return answer == position(plan["cell"]) and (answer == naive) == plan["naive"]


def _cup_xs(cups: int) -> list[float]:
    return [float(x) for x in np.linspace(0.5 - (cups - 1) * 0.1, 0.5 + (cups - 1) * 0.1, cups)]  # 0.2 apart: cups 0.06 apart


def _cup_layout(state):
    xs = _cup_xs(len(state["cups"]))
    return {f"cup{cup}": (xs[i], ROW_Y) for i, cup in enumerate(state["cups"])}


def _ball_y() -> float:
    """Where a ball is drawn: at the bottom of its cup (its track is the resting cup's, moved down)."""
    return ROW_Y + CUP / 2 - BALL / 2 - 0.01


def _animate(rng, states, ops, shown, colors):
    sched = longterm.schedule(rng, len(ops))
    anim = longterm.Animator(sched.num_frames, _cup_layout(states[0]))
    for (start, end), (_name, args), before, after in zip(sched.spans, ops, states, states[1:]):
        first, second = (f"cup{before['cups'][args[c]]}" for c in ("a", "b"))
        layouts = _cup_layout(before), _cup_layout(after)
        anim.shift(
            start,
            end,
            *layouts,
            {
                first: longterm.lane_path(layouts[0][first], layouts[1][first], ROW_Y - STREET, axis="y"),
                second: longterm.lane_path(layouts[0][second], layouts[1][second], ROW_Y + STREET, axis="y"),
            },
        )
    revealed = sched.reveal(shown)
    objects, tracks = [], {}
    for i, color in enumerate(colors):
        # A ball rides under its cup (hidden) and is seen only while the cups are lifted.
        ball = SceneObject(id=f"ball{i}", shape="circle", color=color, size=BALL)
        track = anim.track(f"cup{states[0]['under'][color]}", revealed)
        track.y += _ball_y() - ROW_Y
        objects.append(ball)
        tracks[ball.id] = track
    for cup in range(len(states[0]["cups"])):
        # While the balls are shown the cup is drawn lifted: a second object, so that no track
        # ever moves outside an operation.
        resting = SceneObject(id=f"cup{cup}", shape="cup", color=CUP_COLOR, size=CUP, height=CUP, z=1)
        lifted = SceneObject(id=f"lifted{cup}", shape="cup", color=CUP_COLOR, size=CUP, height=CUP, z=1)
        tracks[resting.id], tracks[lifted.id] = anim.track(resting.id, ~revealed), anim.track(resting.id, revealed)
        tracks[lifted.id].y -= LIFT
        objects += [resting, lifted]
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops], anim.moved)


# -- reading the pixels -------------------------------------------------------------------------------
MAX_CUPS = 8


@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    """Caption → swap, for every pair of cup positions."""
    ops = [("swap", {"a": a, "b": b}) for a in range(MAX_CUPS) for b in range(a + 1, MAX_CUPS)]
    return {caption(*op): op for op in ops}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


def _read_cups(scene: PixelScene) -> list[float]:
    """The cups' places: the widest row of evenly spaced cups the first frame shows (lifted or not)."""
    for cups in range(MAX_CUPS, 1, -1):
        x = _cup_xs(cups)[0]
        if 0 < x and any(lp.color_at(scene, 0, x, y, 0.3 * CUP) == CUP_COLOR for y in (ROW_Y, ROW_Y - LIFT)):
            return _cup_xs(cups)
    raise Unreadable("no row of cups")
