"""chip_container: numbered chips moved between, added to and removed from lettered containers.

State: ``{"A": [chip, …], "B": […], …}``, each container's chips in the order they arrived (the
order fixes where a chip sits when the state is revealed). Operations: ``move`` a chip from one
container to another, ``add`` a new chip, ``remove`` a chip.

What is shown: the revealed state has the containers open, chips visible in their slots. On every
other frame each container is closed by a lid (a solid card with its letter), so its content is
hidden; an operation is drawn as the one chip it concerns travelling over the lids (out of its
container, along a lane above them, into the other one; added chips drop in from above, removed ones
rise out and vanish) plus a caption naming it. The moving chip shows its number, so operations are
always visible while no intermediate state ever is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Context
from ..ocr import Vocabulary
from ..perception import px
from ..pixels import PixelScene, Unreadable, stem
from ..questions import draw_numeric_layout, multiple_choice, number, numeric_choice, ordinal, pick
from ..timeline import SceneObject, Track
from .base import Family, Params

NAMES = "ABCD"
LID_COLORS = ("cyan", "green", "magenta", "red")
CHIP_COLOR = "orange"
CAPACITY = 8  # 2 columns x 4 rows of slots
CHIP = 0.08  # 18 px numbers at 448
BOX_Y, BOX_H = 0.62, 0.46
LANE_Y = 0.30  # chips travel above the lids
DROP_Y = 0.18  # where added chips appear and removed ones vanish
MAX_CHIP = 64  # chip numbers stay below this (at most 4 x 8 chips at the start, one new one per add)
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"the shown containers are open, their chips {px(CHIP)} discs numbered in a font of {px(CHIP / 2)}; on every other "
    "frame lids cover them, and only the chip an operation moves is seen, number up",
)


@dataclass(frozen=True)
class ChipParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by num_operations
    num_operations: tuple[int, int] = (5, 8)
    containers: tuple[int, int] = (3, 4)
    # Chips per container at the start, and the asked count (at the start or the end), both uniform:
    # one range, so the asked count can always equal the shown one (see plan["naive"]).
    count: tuple[int, int] = (0, 5)


def apply(state: dict, name: str, args: dict) -> dict:
    """The state after one operation; ValueError when it does not apply."""
    if name not in ("move", "add", "remove") or (name == "move" and args["src"] == args["dst"]):
        raise ValueError(f"bad operation {name} {args}")
    new = {c: list(chips) for c, chips in state.items()}
    chip = args["chip"]
    if name == "add" and any(chip in chips for chips in state.values()):
        raise ValueError(f"chip {chip} already exists")
    if name != "add":
        if chip not in new.get(args["src"], ()):
            raise ValueError(f"chip {chip} is not in {args['src']}")
        new[args["src"]].remove(chip)
    if name != "remove":
        if len(new.get(args["dst"], [None] * CAPACITY)) >= CAPACITY:
            raise ValueError(f"no room for chip {chip} in {args['dst']}")
        new[args["dst"]].append(chip)
    return new


def caption(name: str, args: dict) -> str:
    if name == "move":
        return f"move chip {args['chip']}: {args['src']} -> {args['dst']}"
    if name == "add":
        return f"add chip {args['chip']} to {args['dst']}"
    return f"remove chip {args['chip']} from {args['src']}"


def random_operation(rng: np.random.Generator, state: dict, new_chip: int) -> tuple[str, dict]:
    """A valid operation; moves are twice as likely as adds or removes."""
    pairs = [(s, d) for s in state for d in state if s != d and state[s] and len(state[d]) < CAPACITY]
    kinds = ["move", "move"] * bool(pairs) + ["add"] * any(len(c) < CAPACITY for c in state.values())
    kinds += ["remove"] * any(state.values())
    kind = pick(rng, kinds)
    if kind == "add":
        return kind, {"chip": new_chip, "dst": pick(rng, [c for c in state if len(state[c]) < CAPACITY])}
    if kind == "remove":
        src = pick(rng, [c for c in state if state[c]])
        return kind, {"chip": int(pick(rng, state[src])), "src": src}
    src, dst = pick(rng, pairs)
    return kind, {"chip": int(pick(rng, state[src])), "src": src, "dst": dst}


def random_history(rng: np.random.Generator, params: ChipParams, containers: int, num_ops: int) -> tuple[dict, list]:
    """A random start state (chips numbered 1…n in random containers) and valid operations."""
    counts = rng.integers(params.count[0], params.count[1] + 1, size=containers)
    chips = [int(c) + 1 for c in rng.permutation(int(counts.sum()))]
    starts = np.concatenate([[0], np.cumsum(counts)])
    state = {name: sorted(chips[starts[i] : starts[i + 1]]) for i, name in enumerate(NAMES[:containers])}
    initial, ops, new_chip = state, [], len(chips) + 1
    for _ in range(num_ops):
        name, args = random_operation(rng, state, new_chip)
        state = apply(state, name, args)
        new_chip += name == "add"
        ops.append((name, args))
    return initial, ops


def rename(initial: dict, ops: list, mapping: dict) -> tuple[dict, list]:
    """The same history with the containers relabelled (every history is as likely as its relabelling)."""
    new_ops = [(n, {k: mapping[v] if k in ("src", "dst") else v for k, v in a.items()}) for n, a in ops]
    return {mapping[c]: chips for c, chips in sorted(initial.items())}, new_ops


def unique_fullest(state: dict) -> str | None:
    counts = sorted(((len(chips), c) for c, chips in state.items()), reverse=True)
    return counts[0][1] if counts[0][0] > counts[1][0] else None


class ChipContainer(Family):
    name = "chip_container"
    category = "long_term"
    Params = ChipParams
    round2 = {
        "num_operations": (10, 16),
        "duration": longterm.duration_bounds((10, 16)),
        "containers": (4, 4),
        "count": (0, 6),
    }
    ladder = (
        {},
        round2,
        {"num_operations": (14, 20), "duration": longterm.duration_bounds((14, 20)), "containers": (4, 4), "count": (0, 7)},
        {"num_operations": (18, 24), "duration": longterm.duration_bounds((18, 24)), "containers": (4, 4), "count": (0, 8)},
        {"num_operations": (22, 28), "duration": longterm.duration_bounds((22, 28)), "containers": (4, 4), "count": (0, 8)},
    )

    KINDS = ("count_end", "count_end_choice", "count_start", "count_start_choice", "moved_by", "most_after", "when")
    FORWARD = ("count_end", "count_end_choice")
    RETRODICTIVE = ("count_start", "count_start_choice")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.num_operations[0], params.num_operations[1] + 1))
        # Four containers for "most": four options, like every other multiple choice.
        containers = 4 if kind == "most_after" else int(rng.integers(params.containers[0], params.containers[1] + 1))
        plan = {"kind": kind, "num_ops": num_ops, "containers": containers}
        plan["shown"] = longterm.draw_shown(rng, kind, self.FORWARD, self.RETRODICTIVE)
        low, high = params.count
        if kind.endswith("_choice"):
            plan["count"], plan["rank"] = draw_numeric_layout(rng, (low, high - 3))
        elif kind.startswith("count"):
            plan["count"] = int(rng.integers(low, high + 1))
        if kind.startswith("count"):
            plan["naive"] = longterm.draw_naive(rng)  # the count equals the shown one at chance rate
        elif kind == "most_after":
            # A state between two operations, never the final one (which may be the shown one).
            plan["op"] = int(rng.integers(1, num_ops))
            plan["fullest"] = NAMES[int(rng.integers(containers))]
            # As often as chance, the fullest container then is also the fullest in the shown state.
            plan["same_as_shown"] = bool(rng.random() < 1 / containers)
        else:
            plan["op"] = int(rng.integers(1, num_ops + 1))
        return plan

    def simulate(self, rng, params, plan):
        for _ in range(5000):
            initial, ops = random_history(rng, params, plan["containers"], plan["num_ops"])
            if plan["kind"] == "most_after":
                fullest = unique_fullest(longterm.replay(apply, initial, ops)[plan["op"]])
                if fullest is None:
                    continue
                others = [c for c in NAMES[: plan["containers"]] if c != plan["fullest"]]
                mapping = dict(zip([c for c in initial if c != fullest], rng.permutation(others).tolist()))
                initial, ops = rename(initial, ops, {**mapping, fullest: plan["fullest"]})
            states = longterm.replay(apply, initial, ops)
            if _targets(plan, states, ops):
                return _timeline(rng, plan, states, ops)
        raise RuntimeError(f"could not realise {plan}")

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, op.args) for op in timeline.operations]
        kind, target = plan["kind"], pick(rng, _targets(plan, states, ops))
        if kind.startswith("count"):
            forward = kind in self.FORWARD
            count = len((states[-1] if forward else states[0])[target])
            moment = "at the end" if forward else "at the start"
            text = pick(
                rng,
                (
                    f"How many chips are in container {target} {moment} of the video?",
                    f"Count the chips that container {target} holds {moment} of the video.",
                ),
            )
            primitive = "state_tracking" if forward else "retrodiction"
            if kind.endswith("_choice"):
                return numeric_choice(text, count, plan["rank"], primitive=primitive, kind=kind)
            return number(text, count, primitive=primitive, kind=kind)
        if kind == "most_after":
            k = plan["op"]
            text = pick(
                rng,
                (
                    f"Which container holds the most chips right after the {ordinal(k)} operation?",
                    f"After the {ordinal(k)} operation, which container has the largest number of chips?",
                ),
            )
            answer = unique_fullest(states[k])
            others = [f"container {c}" for c in states[k] if c != answer]
            return multiple_choice(rng, text, f"container {answer}", others, primitive="historical", kind=kind)
        k = next(i for i, (_, args) in enumerate(ops) if args["chip"] == target)
        if kind == "when":
            verb = {"move": "moved to another container", "add": "added", "remove": "taken out"}[ops[k][0]]
            text = pick(rng, (f"When is chip {target} {verb}?", f"During which time span is chip {target} {verb}?"))
            return longterm.op_interval(text, timeline, k)
        text = pick(rng, (f"Which operation moves chip {target}?", f"Chip {target} changes container once. In which operation?"))
        # Other moves first: the plausible wrong answers (their chip number is what tells them apart).
        others = sorted((int(i) for i in rng.permutation(len(ops)) if i != k), key=lambda i: ops[i][0] != "move")
        distractors = [f"the {ordinal(i + 1)} operation" for i in others[:3]]
        return multiple_choice(rng, text, f"the {ordinal(k + 1)} operation", distractors, primitive="historical", kind=kind)

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "The containers are open only while one state is revealed; during the operations I see single chips travelling over the closed lids, with a caption for each move.",
        "I can read the chips only in the revealed state; every other moment the lids are closed and only the moving chip and its caption are visible.",
    )
    moments = {
        "count_end": "end",
        "count_end_choice": "end",
        "count_start": "start",
        "count_start_choice": "start",
        "most_after": "op",
    }

    def state_parts(self, state: dict, ctx: Context) -> dict[str, str]:
        parts = {}
        for name in sorted(state):
            chips = state[name]
            parts[name] = (
                f"{name} empty"
                if not chips
                else f"{name} has {len(chips)} chip{'s' if len(chips) > 1 else ''} ({', '.join(str(c) for c in chips)})"
            )
        return parts

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        text = stem(row)
        if kind.startswith("count") or kind == "most_after":
            containers = _read_containers(scene)
            shown = lp.shown_reveal(scene, lambda frame: not _closed(scene, frame, containers[0]))
            frame = 0 if shown == "initial" else len(scene) - 1
            states = lp.states_from_reveal(shown, _read_state(scene, frame, containers), ops, apply, _undo)
            if kind == "most_after":
                return f"container {unique_fullest(states[lp.operation_number(row)])}"
            container = _named(r"container ([A-D])", text)
            return str(len(states[-1 if kind in self.FORWARD else 0][container]))
        chip = int(_named(r"[Cc]hip (\d+)", text))
        k = next((i for i, (_, args) in enumerate(ops) if args["chip"] == chip), None)
        if k is None:
            raise Unreadable(f"no caption names chip {chip}")
        return lp.when_answer(scene, spans, k + 1) if kind == "when" else f"the {ordinal(k + 1)} operation"


def _targets(plan: dict, states: list, ops: list) -> list:
    """What the planned question can be about: containers holding the planned count, touched by an
    operation and holding as many in the shown state only as planned (so that state alone says no
    more than chance), or the chip of the planned operation when no other operation concerns it;
    for "most", whether the history fits the plan at all."""
    kind = plan["kind"]
    if kind.startswith("count"):
        asked, shown = (states[-1], states[0]) if kind in ChipContainer.FORWARD else (states[0], states[-1])
        touched = {a.get(end) for _, a in ops for end in ("src", "dst")}
        return [
            c
            for c in sorted(asked)
            if len(asked[c]) == plan["count"] and c in touched and (len(shown[c]) == plan["count"]) == plan["naive"]
        ]
    k = plan["op"] - 1
    if kind == "most_after":
        shown = unique_fullest(states[0] if plan["shown"] == "initial" else states[-1])
        fits = unique_fullest(states[k + 1]) == plan["fullest"] and shown is not None
        return [None] if fits and (shown == plan["fullest"]) == plan["same_as_shown"] else []
    name, args = ops[k]
    alone = sum(a["chip"] == args["chip"] for _, a in ops) == 1
    return [args["chip"]] if alone and (kind == "when" or name == "move") else []


def _layout_x(containers: int) -> tuple[list[float], float]:
    pitch, width = (0.235, 0.19) if containers == 4 else (0.28, 0.22)
    return [0.5 + (i - (containers - 1) / 2) * pitch for i in range(containers)], width


def _slots(state: dict) -> dict[str, tuple[float, float]]:
    """Where each chip is drawn when the state is revealed (see ``_slot_positions``)."""
    positions = _slot_positions(_layout_x(len(state))[0])
    return {f"chip{chip}": positions[c][j] for c in sorted(state) for j, chip in enumerate(state[c])}


def _timeline(rng, plan, states, ops):
    sched = longterm.schedule(rng, len(ops))
    n = sched.num_frames
    revealed = sched.reveal(plan["shown"])
    xs, width = _layout_x(plan["containers"])
    center = dict(zip(NAMES, xs))
    objects, tracks = [], {}
    for i, name in enumerate(center):
        # The open box while the state is shown, the lid (covering it) on every other frame.
        for oid, shape, z, visible in ((f"box{name}", "box", 0, revealed), (f"lid{name}", "card", 2, ~revealed)):
            objects.append(SceneObject(oid, shape, LID_COLORS[i], width, BOX_H, label=name, z=z))
            tracks[oid] = Track.still(n, center[name], BOX_Y)
            tracks[oid].visible = visible
    for oid, (x, y) in _slots(states[0] if plan["shown"] == "initial" else states[-1]).items():
        objects.append(SceneObject(oid, "circle", CHIP_COLOR, CHIP, label=oid[4:], z=1))
        tracks[oid] = Track.still(n, x, y)
        tracks[oid].visible = revealed
    paths = [_path(name, args, center) for name, args in ops]
    anim = longterm.Animator(n, {f"mover{k}": path[0] for k, path in enumerate(paths)})
    for k, ((start, end), path, (_, args)) in enumerate(zip(sched.spans, paths, ops)):
        oid = f"mover{k}"
        anim.shift(start, end, {}, {oid: path[-1]}, detours={oid: path})
        objects.append(SceneObject(oid, "circle", CHIP_COLOR, CHIP, label=str(args["chip"]), z=3))
        tracks[oid] = anim.track(oid, (np.arange(n) >= start) & (np.arange(n) <= end))
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops], anim.moved)


def _path(name: str, args: dict, center: dict) -> list[tuple[float, float]]:
    """Out of the source container, along the lane above the lids, into the destination."""
    if name == "add":
        return [(center[args["dst"]], DROP_Y), (center[args["dst"]], BOX_Y)]
    if name == "remove":
        return [(center[args["src"]], BOX_Y), (center[args["src"]], DROP_Y)]
    sx, dx = center[args["src"]], center[args["dst"]]
    return [(sx, BOX_Y), (sx, LANE_Y), (dx, LANE_Y), (dx, BOX_Y)]


# -- reading the pixels -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    """Caption → operation, for every operation the family can show."""
    ops = []
    for chip in range(1, MAX_CHIP):
        ops += [("move", {"chip": chip, "src": a, "dst": b}) for a in NAMES for b in NAMES if a != b]
        ops += [("add", {"chip": chip, "dst": a}) for a in NAMES] + [("remove", {"chip": chip, "src": a}) for a in NAMES]
    return {caption(*op): op for op in ops}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


@lru_cache(maxsize=1)
def _numbers() -> Vocabulary:
    return Vocabulary(str(n) for n in range(1, MAX_CHIP))


def _named(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if not found:
        raise Unreadable(f"the question does not say {pattern!r}: {text!r}")
    return found.group(1)


def _closed(scene: PixelScene, frame: int, x: float, name: str = "A") -> bool:
    """Whether the container at ``x`` is closed by its lid on ``frame`` (the lid's color fills it)."""
    return lp.color_at(scene, frame, x, BOX_Y, 0.08) == LID_COLORS[NAMES.index(name)]


def _read_containers(scene: PixelScene) -> list[float]:
    """The containers' centers: three or four lids, in their colors, on a frame between the reveals."""
    middle = len(scene) // 2
    for count in (4, 3):
        xs, _ = _layout_x(count)
        if all(_closed(scene, middle, x, name) for x, name in zip(xs, NAMES)):
            return xs
    raise Unreadable("no row of three or four lids in the middle of the clip")


def _read_state(scene: PixelScene, frame: int, containers: list[float]) -> dict[str, list[int]]:
    """The chips of each open container on ``frame``, in their slots' order (the order they came in)."""
    chip = SceneObject("chip", "circle", CHIP_COLOR, CHIP)
    state: dict[str, list[int]] = {}
    for name, positions in _slot_positions(containers).items():
        state[name] = []
        for x, y in positions:
            if lp.color_at(scene, frame, x, y, 0.3 * CHIP) != CHIP_COLOR:
                break
            state[name].append(int(lp.read_label(scene, frame, chip, x, y, _numbers())))
    return state


def _slot_positions(containers: list[float]) -> dict[str, list[tuple[float, float]]]:
    """Per container (centers ``containers``), where its chips are drawn when open, in the order
    they fill: two columns, row by row."""
    top = BOX_Y - BOX_H / 2
    return {
        name: [(x + (j % 2 - 0.5) * 0.096, top + 0.135 + (j // 2) * 0.085) for j in range(CAPACITY)] for name, x in zip(NAMES, containers)
    }


def _undo(state: dict, op: tuple[str, dict]) -> dict:
    """The state before ``op``, from the state after it (a chip moved back goes last)."""
    name, args = op
    new = {c: list(chips) for c, chips in state.items()}
    if name != "remove":
        if args["chip"] not in new.get(args["dst"], ()):
            raise Unreadable(f"chip {args['chip']} is not in {args['dst']} after {name}")
        new[args["dst"]].remove(args["chip"])
    if name != "add":
        new[args["src"]].append(args["chip"])
    return new
