"""card_stack: a stack of labelled cards under push, pop, move and swap operations.

The stack is a column of cards (top card highest), the discard pile a second column to its right.
Cards are face up (orange, label visible) only during the revealed phase (S0 or ST); at every other
frame each card is drawn as a blank blue back at the same place, so the operations are always seen
(cards sliding between slots, plus a caption such as "push 7") while intermediate states are not:
following them means tracking the backs from the revealed state. State: {"stack": [...], "discard":
[...]}, both listed top first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Context
from ..ocr import Vocabulary
from ..perception import px
from ..pixels import PixelScene, Unreadable
from ..questions import multiple_choice, ordinal, pick, sequence
from ..timeline import SceneObject
from .base import Family, Params

LABELS = tuple("A23456789JQK")  # what the cards show
# How answers name a card: a lone capital would read as an option letter ("D. A").
NAMES_OF_FACES = {"A": "ace", "J": "jack", "Q": "queen", "K": "king"}
CARD = 0.1  # square cards: 22 px labels at 448
PITCH = 0.122  # vertical distance between slots
BOTTOM = 0.92
STACK_X, DISCARD_X = 0.40, 0.78
LANE_X = STACK_X - 0.17  # where a card travels to get round the stack
SIDESTEP = 0.115  # how far swapped cards step aside, enough to pass the card between them
CAPACITY = 7
NAMES = ("push", "pop", "top_to_bottom", "bottom_to_top", "swap_top", "flip_top3")
CAPTIONS = {
    "pop": "pop",
    "top_to_bottom": "top card to bottom",
    "bottom_to_top": "bottom card to top",
    "swap_top": "swap top two",
    "flip_top3": "flip top three",
}
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"the shown cards are {px(CARD)} squares, face up with their label in a font of {px(CARD / 2)}; on every other frame "
    "they are blank backs",
    "options name cards by word or number (ace, jack, queen, king, 2 to 9), never by a lone letter an option letter could be",
)


@dataclass(frozen=True)
class CardStackParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by `operations`
    operations: tuple[int, int] = (5, 8)
    cards: tuple[int, int] = (3, 5)  # initial stack size


def apply(state, name, args):
    stack, discard = list(state["stack"]), list(state["discard"])
    # pop keeps one card on the stack, so "the top card" always exists
    need = {"pop": 2, "top_to_bottom": 2, "bottom_to_top": 2, "swap_top": 2, "flip_top3": 3}.get(name, 0)
    if len(stack) < need or (name == "push" and (len(stack) >= CAPACITY or args["card"] in stack + discard)):
        raise ValueError(f"{name} {args} does not apply to {state}")
    if name == "push":
        stack.insert(0, args["card"])
    elif name == "pop":
        if len(discard) >= CAPACITY:
            raise ValueError("the discard pile is full")
        discard.insert(0, stack.pop(0))
    elif name == "top_to_bottom":
        stack.append(stack.pop(0))
    elif name == "bottom_to_top":
        stack.insert(0, stack.pop())
    elif name == "swap_top":
        stack[:2] = stack[1::-1]
    elif name == "flip_top3":
        stack[:3] = stack[2::-1]
    else:
        raise ValueError(f"unknown operation {name!r}")
    return {"stack": stack, "discard": discard}


def caption(name, args):
    return f"push {args['card']}" if name == "push" else CAPTIONS[name]


def card_name(label: str) -> str:
    """A card as answers and reasoning name it: "ace", "jack", "queen", "king", or its number."""
    return NAMES_OF_FACES.get(label, label)


def moves(state):
    """Every operation that applies to ``state`` except pushes (an alternative push would bring in
    a card the video never shows, an implausible distractor)."""
    out = []
    for name in NAMES[1:]:
        try:
            apply(state, name, {})
            out.append((name, {}))
        except ValueError:
            pass
    return out


class CardStack(Family):
    name = "card_stack"
    category = "long_term"
    Params = CardStackParams
    round2 = {"operations": (10, 16), "cards": (4, 6), "duration": longterm.duration_bounds((10, 16))}
    ladder = (
        {},
        round2,
        {"operations": (14, 20), "cards": (5, 7), "duration": longterm.duration_bounds((14, 20))},
        {"operations": (18, 24), "cards": (5, 7), "duration": longterm.duration_bounds((18, 24))},
        {"operations": (22, 28), "cards": (6, 7), "duration": longterm.duration_bounds((22, 28))},
    )

    KINDS = ("top_end", "bottom_end", "order_end", "top_start", "order_start", "top_after", "discarded_by", "when")
    FORWARD, RETRODICTIVE = ("top_end", "bottom_end", "order_end"), ("top_start", "order_start")
    CHOICE = ("top_end", "bottom_end", "top_start", "top_after", "discarded_by")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.operations[0], params.operations[1] + 1))
        return {
            "kind": kind,
            "shown": longterm.draw_shown(rng, kind, self.FORWARD, self.RETRODICTIVE),
            "num_ops": num_ops,
            # The operation a question is about; historical ones keep two operations away from
            # either reveal, so the revealed state never settles the answer (see draw_naive).
            "k": int(rng.integers(1, num_ops + 1) if kind == "when" else rng.integers(3, num_ops - 1)),
            "naive": longterm.draw_naive(rng),
        }

    def simulate(self, rng, params, plan):
        for _ in range(500):
            labels = [str(c) for c in rng.permutation(LABELS)]
            s0 = {"stack": labels[: int(rng.integers(params.cards[0], params.cards[1] + 1))], "discard": []}
            ops, states = [], [s0]
            for k in range(plan["num_ops"]):
                forced = "pop" if plan["kind"] == "discarded_by" and k == plan["k"] - 1 else None
                op = _random_op(rng, states[-1], labels, forced)
                if op is None:
                    break
                ops.append(op)
                states.append(apply(states[-1], *op))
            if len(ops) == plan["num_ops"] and _askable(rng, states, ops, plan):
                break
        else:
            raise RuntimeError(f"could not draw a card sequence for {plan}")
        return _animate(rng, states, ops, plan["shown"])

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, op.args) for op in timeline.operations]
        kind, k = plan["kind"], plan["k"]
        if kind == "when":
            return longterm.when_question(rng, timeline, k, caption(*ops[k - 1]))
        if kind in ("order_end", "order_start"):
            when, state = ("at the end", states[-1]) if kind == "order_end" else ("at the start", states[0])
            text = pick(
                rng,
                (
                    f"List the cards in the stack {when}, from top to bottom.",
                    f"What is the order of the stacked cards {when}, top card first?",
                ),
            )
            items = [card_name(c) for c in state["stack"]]
            return sequence(text, items, primitive="state_tracking" if kind == "order_end" else "retrodiction", kind=kind)
        answer, distractors, naive = _choice(rng, states, ops, plan)
        answer, distractors, naive = card_name(answer), [card_name(c) for c in distractors], card_name(naive)
        text = pick(
            rng,
            {
                "top_end": ("Which card is on top of the stack at the end?", "After all the operations, which card lies on top?"),
                "bottom_end": (
                    "Which card is at the bottom of the stack at the end?",
                    "After all the operations, which card lies at the bottom?",
                ),
                "top_start": ("Which card was on top of the stack at the start?", "Before the first operation, which card lay on top?"),
                "top_after": (
                    f"Which card was on top right after the {ordinal(k)} operation?",
                    f"Just after operation {k}, which card lay on top of the stack?",
                ),
                "discarded_by": (
                    f"Which card did the {ordinal(k)} operation move to the discard pile?",
                    f"Operation {k} is a pop. Which card did it discard?",
                ),
            }[kind],
        )
        primitive = {"top_start": "retrodiction", "top_after": "historical", "discarded_by": "historical"}.get(kind, "state_tracking")
        return multiple_choice(rng, text, answer, longterm.with_naive(distractors, naive, answer), primitive=primitive, kind=kind)

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "The cards are face up only while one state is revealed; during the operations I see only their backs moving, plus a caption naming each operation.",
        "Only one state of the stack is shown face up; the rest of the time I follow the card backs and the captions.",
    )
    moments = {
        "top_end": "end",
        "bottom_end": "end",
        "order_end": "end",
        "top_start": "start",
        "order_start": "start",
        "top_after": "k",
        "discarded_by": "k",
    }

    def state_parts(self, state: dict, ctx: Context) -> dict[str, str]:
        discard = ", ".join(map(card_name, state["discard"])) if state["discard"] else "empty"
        return {"stack": f"stack from top to bottom {', '.join(map(card_name, state['stack']))}", "discard": f"discard pile {discard}"}

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        if kind == "when":
            return lp.when_answer(scene, spans, lp.operation_number(row, [caption(*op) for op in ops]))
        shown = lp.shown_reveal(scene, lambda frame: _face_up(scene, frame, STACK_X, BOTTOM))
        frame = 0 if shown == "initial" else len(scene) - 1
        revealed = {"stack": _read_column(scene, frame, STACK_X), "discard": _read_column(scene, frame, DISCARD_X)}
        states = lp.states_from_reveal(shown, revealed, ops, apply, _undo)
        if kind in ("order_end", "order_start"):
            return ", ".join(card_name(c) for c in states[-1 if kind == "order_end" else 0]["stack"])
        k = lp.operation_number(row) if kind in ("top_after", "discarded_by") else 0
        return card_name(_value(kind, states, ops, k))


def _random_op(rng, state, labels, forced=None):
    options = [op for op in moves(state) if forced in (None, op[0])]
    unused = [c for c in labels if c not in state["stack"] + state["discard"]]
    if forced is None and unused and len(state["stack"]) < CAPACITY:
        options.append(("push", {"card": unused[0]}))
    return pick(rng, options) if options else None


def _value(kind, states, ops, k):
    """The multiple-choice answer of ``kind`` on a replayed sequence."""
    if kind == "top_end":
        return states[-1]["stack"][0]
    if kind == "bottom_end":
        return states[-1]["stack"][-1]
    if kind == "top_start":
        return states[0]["stack"][0]
    if kind == "top_after":
        return states[k]["stack"][0]
    if ops[k - 1][0] != "pop":
        raise ValueError("the operation asked about discards nothing")
    return states[k]["discard"][0]


def _choice(rng, states, ops, plan):
    """(answer, distractors from re-simulation, the guess read off the revealed state)."""
    kind, k = plan["kind"], plan["k"]
    answer = _value(kind, states, ops, k)
    if kind == "top_start":
        distractors = longterm.perturbed_answers(rng, apply, states[0], lambda s: s["stack"][0], moves)
    else:
        distractors = longterm.replaced_answers(rng, apply, states, ops, lambda s, o: _value(kind, s, o, k), moves)
    revealed = states[0] if plan["shown"] == "initial" else states[-1]
    if kind == "discarded_by" and plan["shown"] == "final":
        naive = revealed["discard"][0]
    else:
        naive = revealed["stack"][-1 if kind == "bottom_end" else 0]
    return answer, distractors, naive


def _askable(rng, states, ops, plan):
    kind, k = plan["kind"], plan["k"]
    if kind == "when":
        return True
    if kind in ("order_end", "order_start"):
        return states[0]["stack"] != states[-1]["stack"]
    if kind == "top_after" and ops[k - 1][0] == "push":
        return False  # the caption would name the answer
    answer, distractors, naive = _choice(rng, states, ops, plan)
    return (answer == naive) == plan["naive"] and len(longterm.with_naive(distractors, naive, answer)) == 3


def _layout(state):
    """Card label → slot center: both columns grow upwards from BOTTOM, top card highest."""
    positions = {}
    for column, x in ((state["stack"], STACK_X), (state["discard"], DISCARD_X)):
        for i, card in enumerate(column):
            positions[card] = (x, BOTTOM - (len(column) - 1 - i) * PITCH)
    return positions


def _detours(name, args, before, after, stack):
    """Waypoints (and timing within the operation) for cards that must get round others; the rest
    slide straight to their slot."""
    if name in ("top_to_bottom", "bottom_to_top"):
        card = stack[0] if name == "top_to_bottom" else stack[-1]
        # The others shift by one slot only while the moving card is out in the lane.
        return {card: longterm.lane_path(before[card], after[card], LANE_X)}, {c: (0.35, 0.65) for c in stack if c != card}
    if name in ("swap_top", "flip_top3"):
        # The top card passes on the right, the other one on the left (the middle of three stays).
        first, last = stack[0], stack[1 if name == "swap_top" else 2]
        return {
            first: longterm.lane_path(before[first], after[first], STACK_X + SIDESTEP),
            last: longterm.lane_path(before[last], after[last], STACK_X - SIDESTEP),
        }, {}
    if name == "pop":
        return {stack[0]: longterm.lane_path(before[stack[0]], after[stack[0]], (STACK_X + DISCARD_X) / 2)}, {}
    # push: the new card comes in from the lane at the height of its slot
    x1, y1 = after[args["card"]]
    return {args["card"]: [(LANE_X, y1), (x1, y1)]}, {}


def _animate(rng, states, ops, shown):
    sched = longterm.schedule(rng, len(ops))
    cards = list(dict.fromkeys(states[0]["stack"] + [a["card"] for n, a in ops if n == "push"]))
    anim = longterm.Animator(sched.num_frames, _layout(states[0]))
    appears = dict.fromkeys(states[0]["stack"], 0)
    for (start, end), (name, args), before, after in zip(sched.spans, ops, states, states[1:]):
        if name == "push":
            appears[args["card"]] = start
        layouts = _layout(before), _layout(after)
        anim.shift(start, end, *layouts, *_detours(name, args, *layouts, before["stack"]))
    revealed = sched.reveal(shown)
    objects, tracks = [], {}
    for i, card in enumerate(cards):
        exists = sched.after(appears[card])
        for side, color, label, visible in (("face", "orange", card, exists & revealed), ("back", "blue", "", exists & ~revealed)):
            obj = SceneObject(id=f"{side}_{card}", shape="card", color=color, size=CARD, label=label, z=i)
            objects.append(obj)
            tracks[obj.id] = anim.track(card, visible)
    moved = [{f"{side}_{c}" for c in ids for side in ("face", "back")} for ids in anim.moved]
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops], moved)


# -- reading the pixels -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    """Caption → operation, for every operation the family can show."""
    ops = [(name, {}) for name in NAMES[1:]] + [("push", {"card": c}) for c in LABELS]
    return {caption(*op): op for op in ops}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


@lru_cache(maxsize=1)
def _labels() -> Vocabulary:
    return Vocabulary(LABELS)


def _face_up(scene: PixelScene, frame: int, x: float, y: float) -> bool:
    """Whether a card lies face up (orange) at (x, y) on ``frame``."""
    return lp.color_at(scene, frame, x, y, 0.35 * CARD) == "orange"


def _read_column(scene: PixelScene, frame: int, x: float) -> list[str]:
    """The face-up cards of the column at ``x``, top card first (columns grow up from BOTTOM)."""
    face = SceneObject("face", "card", "orange", CARD)
    cards = []
    for slot in range(CAPACITY):
        y = BOTTOM - slot * PITCH
        if not _face_up(scene, frame, x, y):
            break
        cards.append(lp.read_label(scene, frame, face, x, y, _labels()))
    return cards[::-1]


def _undo(state: dict, op: tuple[str, dict]) -> dict:
    """The state before ``op``, from the state after it."""
    name, args = op
    stack, discard = list(state["stack"]), list(state["discard"])
    if name == "push":
        if not stack or stack[0] != args["card"]:
            raise Unreadable(f"push {args['card']} left {stack[:1]} on top")
        return {"stack": stack[1:], "discard": discard}
    if name == "pop":
        if not discard:
            raise Unreadable("a pop left the discard pile empty")
        return {"stack": [discard[0], *stack], "discard": discard[1:]}
    inverse = {"top_to_bottom": "bottom_to_top", "bottom_to_top": "top_to_bottom"}.get(name, name)  # swaps undo themselves
    return apply(state, inverse, {})
