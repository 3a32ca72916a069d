"""math_symbols: a row of number cards transformed by shown arithmetic operations.

State: the list of numbers by position (position 1 is the leftmost slot; the positions are printed
under the slots). Operations act on positions: ``add`` (``card 2: +3`` / ``card 2: -4``),
``double`` (``card 4: x2``), ``negate`` (``card 3: x(-1)``) and ``swap`` (the two cards trade
places, one passing above and one below the others).

What is shown: the revealed state has the cards face up (white, number visible). On every other
frame all cards lie face down (identical blue backs), so the numbers are never seen between the
reveals while each operation is: a caption names it and the card it concerns hops (or the two
swapped cards travel to each other's slot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Context
from ..ocr import Line, Vocabulary, label_line, read_line
from ..perception import px
from ..pixels import PixelScene, Unreadable, stem
from ..questions import draw_numeric_layout, multiple_choice, number, numeric_choice, ordinal, pick
from ..timeline import SceneObject, Track
from .base import Family, Params

LIMIT = 99  # |number| stays two digits
CARD_W, CARD_H, CARD_Y = 0.15, 0.19, 0.47
SWAP_LANE = 0.23  # swapped cards travel this far above / below the row, clear of the other cards
HOP = 0.07
DIGIT_H = 0.075  # 34 px at 448
POSITION_Y, POSITION_H = 0.88, 0.045
BACK_COLOR = "blue"
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"the shown cards are {px(CARD_W)} wide, their numbers in a font of {px(DIGIT_H)}; on every other frame they are "
    "identical blue backs, and the card an operation concerns hops (swapped cards pass above and below the row)",
)


@dataclass(frozen=True)
class MathParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by num_operations
    num_operations: tuple[int, int] = (5, 8)
    cards: tuple[int, int] = (4, 4)
    start_value: tuple[int, int] = (1, 9)  # numbers on the cards at the start, uniform
    end_value: tuple[int, int] = (-9, 19)  # the asked number at the end, uniform
    amount: tuple[int, int] = (1, 9)  # size of an addition / subtraction


def apply(state: list, name: str, args: dict) -> list:
    new = list(state)
    if name == "swap":
        p, q = (c - 1 for c in args["cards"])
        new[p], new[q] = new[q], new[p]
        return new
    p = args["card"] - 1
    if name == "add":
        new[p] += args["amount"]
    elif name == "double":
        new[p] *= 2
    elif name == "negate":
        new[p] = -new[p]
    else:
        raise ValueError(f"unknown operation {name!r}")
    if abs(new[p]) > LIMIT:
        raise ValueError(f"{new[p]} has more than two digits")
    return new


def caption(name: str, args: dict) -> str:
    if name == "swap":
        return "swap cards {} and {}".format(*args["cards"])
    change = {"double": "x2", "negate": "x(-1)"}.get(name) or f"{args.get('amount', 0):+d}"
    return f"card {args['card']}: {change}"


def random_operation(rng: np.random.Generator, state: list, params: MathParams) -> tuple[str, dict]:
    """Additions as likely as the three other kinds together (numbers stay small and varied)."""
    name = pick(rng, ("add", "add", "add", "double", "negate", "swap"))
    if name == "swap":
        return name, {"cards": sorted(int(c) + 1 for c in rng.choice(len(state), 2, replace=False))}
    args = {"card": int(rng.integers(len(state))) + 1}
    if name == "add":
        args["amount"] = int(rng.integers(params.amount[0], params.amount[1] + 1)) * int(pick(rng, (-1, 1)))
    return name, args


def random_history(rng: np.random.Generator, params: MathParams, cards: int, num_ops: int) -> tuple[list, list]:
    """[S0, …, ST] (S0 uniform in start_value) and the valid random operations between them."""
    state = [int(v) for v in rng.integers(params.start_value[0], params.start_value[1] + 1, size=cards)]
    states, ops = [state], []
    while len(ops) < num_ops:
        op = random_operation(rng, states[-1], params)
        try:
            states.append(apply(states[-1], *op))
            ops.append(op)
        except ValueError:
            continue
    return states, ops


def involves(op: tuple[str, dict], position: int) -> bool:
    name, args = op
    return position in args["cards"] if name == "swap" else args["card"] == position


class MathSymbols(Family):
    name = "math_symbols"
    category = "long_term"
    Params = MathParams
    round2 = {"num_operations": (10, 16), "duration": longterm.duration_bounds((10, 16)), "cards": (5, 5)}
    ladder = (
        {},
        round2,
        {"num_operations": (14, 20), "duration": longterm.duration_bounds((14, 20)), "cards": (5, 5)},
        {"num_operations": (18, 24), "duration": longterm.duration_bounds((18, 24)), "cards": (6, 6)},
        {"num_operations": (22, 28), "duration": longterm.duration_bounds((22, 28)), "cards": (6, 6)},
    )

    KINDS = ("value_end", "value_end_choice", "value_start", "value_start_choice", "first_above", "when")
    FORWARD, RETRODICTIVE = ("value_end", "value_end_choice"), ("value_start", "value_start_choice")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.num_operations[0], params.num_operations[1] + 1))
        plan = {
            "kind": kind,
            "num_ops": num_ops,
            "cards": int(rng.integers(params.cards[0], params.cards[1] + 1)),
            "shown": longterm.draw_shown(rng, kind, self.FORWARD, self.RETRODICTIVE),
            "k": int(rng.integers(1, num_ops + 1)),
        }
        if kind.endswith("_choice"):
            # Values a start card can hold, so the shown number can be offered and right at chance rate.
            plan["value"], plan["rank"] = draw_numeric_layout(rng, (params.start_value[0], params.start_value[1] - 3))
            plan["naive"] = longterm.draw_naive(rng)
        elif kind in self.FORWARD + self.RETRODICTIVE:
            low, high = params.end_value if kind in self.FORWARD else params.start_value
            plan["value"] = int(rng.integers(low, high + 1))
        return plan

    def simulate(self, rng, params, plan):
        for _ in range(5000):
            states, ops = random_history(rng, params, plan["cards"], plan["num_ops"])
            if _targets(plan, states, ops):
                return _timeline(rng, plan, states, ops)
        raise RuntimeError(f"could not realise {plan}")

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, dict(op.args)) for op in timeline.operations]
        kind, k = plan["kind"], plan["k"]
        if kind == "when":
            return longterm.when_question(rng, timeline, k, caption(*ops[k - 1]))
        position = pick(rng, _targets(plan, states, ops))
        if kind == "first_above":
            values = [s[position - 1] for s in states]
            # Any threshold the k-th value passes while no earlier value did.
            threshold = int(rng.integers(max(values[:k]), values[k]))
            first = next(i for i, v in enumerate(values) if v > threshold)
            text = pick(
                rng,
                (
                    f"After which operation does the number in position {position} first become greater than {threshold}?",
                    f"Which operation first makes the card in position {position} show a number above {threshold}?",
                ),
            )
            # Operations on the same position first: the plausible wrong answers.
            others = [int(i) + 1 for i in rng.permutation(len(ops)) if i + 1 != first]
            others.sort(key=lambda i: not involves(ops[i - 1], position))
            distractors = [f"the {ordinal(i)} operation" for i in others[:3]]
            return multiple_choice(rng, text, f"the {ordinal(first)} operation", distractors, primitive="historical", kind=kind)
        forward = kind in self.FORWARD
        value = (states[-1] if forward else states[0])[position - 1]
        moment = "at the end of the video" if forward else "at the start, before the first operation"
        text = pick(
            rng,
            (
                f"What number is on the card in position {position} {moment}?",
                f"Which number does position {position} show {moment}?",
            ),
        )
        primitive = "state_tracking" if forward else "retrodiction"
        if kind.endswith("_choice"):
            return numeric_choice(text, value, plan["rank"], primitive=primitive, kind=kind)
        return number(text, value, primitive=primitive, kind=kind)

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "The numbers are visible only while one state is revealed; during the operations the cards are face down and a caption names each operation.",
        "I see the card values only in the revealed state and must apply every captioned operation myself.",
    )
    moments = {
        "value_end": "end",
        "value_end_choice": "end",
        "value_start": "start",
        "value_start_choice": "start",
    }

    def state_parts(self, state: list, ctx: Context) -> dict[str, str]:
        return {str(i): f"position {i} = {v}" for i, v in enumerate(state, 1)}

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        if kind == "when":
            return lp.when_answer(scene, spans, lp.operation_number(row, [caption(*op) for op in ops]))
        slots = _read_slots(scene)
        shown = lp.shown_reveal(scene, lambda frame: lp.color_at(scene, frame, slots[0], CARD_Y, 0.3 * CARD_W) != BACK_COLOR)
        frame = 0 if shown == "initial" else len(scene) - 1
        states = lp.states_from_reveal(shown, [_read_value(scene, frame, x) for x in slots], ops, apply, _undo)
        text = stem(row)
        position = int(_number_after("position", text))
        if kind == "first_above":
            threshold = int(re.search(r"(?:greater than|above) (-?\d+)", text).group(1))
            first = next((i for i, state in enumerate(states) if state[position - 1] > threshold), None)
            if not first:
                raise Unreadable(f"position {position} is never above {threshold} after an operation")
            return f"the {ordinal(first)} operation"
        return str(states[-1 if kind in self.FORWARD else 0][position - 1])


def _targets(plan: dict, states: list, ops: list) -> list[int]:
    """Positions (1-based) the planned question can be about: an operation touches them and they hold
    the planned value (for the choices: the shown number is an option, right only as planned); for
    first_above, positions whose number reaches a new high with the k-th operation."""
    kind, k = plan["kind"], plan["k"]
    positions = [p for p in range(1, plan["cards"] + 1) if any(involves(op, p) for op in ops)]
    if kind == "first_above":
        return [p for p in positions if states[k][p - 1] > max(s[p - 1] for s in states[:k])]
    if kind == "when":
        return [None]
    asked, shown = (states[-1], states[0]) if kind in MathSymbols.FORWARD else (states[0], states[-1])
    found = [p for p in positions if asked[p - 1] == plan["value"]]
    if kind.endswith("_choice"):
        lowest = plan["value"] - plan["rank"]
        found = [p for p in found if lowest <= shown[p - 1] <= lowest + 3 and (shown[p - 1] == plan["value"]) == plan["naive"]]
    return found


def _slots(cards: int) -> list[float]:
    """The slots' centers (x) of a row of ``cards`` cards."""
    return [0.5 + (i - (cards - 1) / 2) * (0.2 if cards <= 4 else 0.175) for i in range(cards)]


def _timeline(rng, plan, states, ops):
    sched = longterm.schedule(rng, len(ops))
    n, revealed = sched.num_frames, sched.reveal(plan["shown"])
    slots = _slots(plan["cards"])
    order = list(range(plan["cards"]))  # physical card at each position
    anim = longterm.Animator(n, {f"back{c}": (x, CARD_Y) for c, x in zip(order, slots)})
    for (start, end), (name, args) in zip(sched.spans, ops):
        if name == "swap":
            p, q = (c - 1 for c in args["cards"])
            a, b = f"back{order[p]}", f"back{order[q]}"
            (xa, xb), order[p], order[q] = (slots[p], slots[q]), order[q], order[p]
            # The card moving right passes above the row, the other one below.
            detours = {
                a: longterm.lane_path((xa, CARD_Y), (xb, CARD_Y), CARD_Y - SWAP_LANE, axis="y"),
                b: longterm.lane_path((xb, CARD_Y), (xa, CARD_Y), CARD_Y + SWAP_LANE, axis="y"),
            }
            anim.shift(start, end, {a: (xa, CARD_Y), b: (xb, CARD_Y)}, {a: (xb, CARD_Y), b: (xa, CARD_Y)}, detours)
        else:
            oid, x = f"back{order[args['card'] - 1]}", slots[args["card"] - 1]
            anim.shift(start, end, {oid: (x, CARD_Y)}, {oid: (x, CARD_Y)}, {oid: [(x, CARD_Y), (x, CARD_Y - HOP), (x, CARD_Y)]})
    shown = states[0] if plan["shown"] == "initial" else states[-1]
    objects, tracks = [], {}
    for i, x in enumerate(slots):
        label = str(shown[i])
        for obj, y, visible in (
            (SceneObject(f"back{i}", "card", BACK_COLOR, CARD_W, CARD_H, z=1), None, ~revealed),
            (SceneObject(f"face{i}", "box", BACK_COLOR, CARD_W, CARD_H, z=1), CARD_Y, revealed),
            (SceneObject(f"value{i}", "text", BACK_COLOR, 0.6 * DIGIT_H * len(label), DIGIT_H, label=label, z=2), CARD_Y, revealed),
            (SceneObject(f"position{i}", "text", BACK_COLOR, 0.6 * POSITION_H, POSITION_H, label=str(i + 1)), POSITION_Y, np.ones(n, bool)),
        ):
            objects.append(obj)
            tracks[obj.id] = anim.track(obj.id, visible) if y is None else Track.still(n, x, y)
            tracks[obj.id].visible = np.asarray(visible, bool)
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops], anim.moved)


# -- reading the pixels -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    """Caption → operation, for every operation the family can show (at most 5 cards)."""
    ops = [("swap", {"cards": [a, b]}) for a in range(1, 6) for b in range(a + 1, 6)]
    for card in range(1, 6):
        ops += [("add", {"card": card, "amount": a}) for a in range(-LIMIT, LIMIT + 1) if a]
        ops += [("double", {"card": card}), ("negate", {"card": card})]
    return {caption(*op): op for op in ops}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


@lru_cache(maxsize=1)
def _values() -> Vocabulary:
    return Vocabulary(str(v) for v in range(-LIMIT, LIMIT + 1))


def _number_after(word: str, text: str) -> str:
    found = re.search(rf"{word} (\d+)", text)
    if not found:
        raise Unreadable(f"the question names no {word}: {text!r}")
    return found.group(1)


def _read_slots(scene: PixelScene) -> list[float]:
    """The slots of the row: four or five, told by the position numbers printed under them."""
    for cards in (5, 4):
        slots = _slots(cards)
        x, y = lp.pixel_corner(scene, slots[0], POSITION_Y)
        half = max(int(0.02 * scene.width), 1)
        if (scene.luma[0, y - half : y + half, x - half : x + half] < lp.INKED_BELOW).any():
            return slots
    raise Unreadable("no position number under the first slot")


def _read_value(scene: PixelScene, frame: int, x: float) -> int:
    """The number on the face-up card at ``x``, read inside the card's outline."""
    value = SceneObject("value", "text", BACK_COLOR, CARD_W, DIGIT_H)
    line = label_line(value, lp.pixel_corner(scene, x, CARD_Y), scene.width)
    half = int(0.5 * CARD_W * scene.width) - 3
    column = lp.pixel_corner(scene, x, CARD_Y)[0]
    reading = read_line(
        scene.luma[frame], Line(line.font_px, line.anchor_y, line.anchor_x, (*line.rows(), column - half, column + half)), _values()
    )
    if reading.text is None:
        raise Unreadable(f"no number on the card at x = {x:.3f}")
    return int(reading.text)


def _undo(state: list, op: tuple[str, dict]) -> list:
    """The numbers before ``op``, from the numbers after it."""
    name, args = op
    if name == "double":
        if state[args["card"] - 1] % 2:
            raise Unreadable(f"card {args['card']} shows the odd {state[args['card'] - 1]} after doubling")
        return [v // 2 if i == args["card"] - 1 else v for i, v in enumerate(state)]
    if name == "add":
        return apply(state, "add", {"card": args["card"], "amount": -args["amount"]})
    return apply(state, name, args)  # a negation or a swap undoes itself
