"""sliding_puzzle: a 3 × 3 (or 4 × 4) number puzzle with one empty cell, built around retrodiction.

Numbers are visible only during the revealed phase (usually ST: most questions ask to recover the
hidden start by undoing the moves). At every other frame the tiles are blank blue squares; the
tile sliding into the empty cell turns magenta during its move, and a caption names the direction
("slide left") but never the number, so the operations are seen while intermediate layouts are not.
State: the cells row by row, 0 for the empty one; an operation slides the tile next to the empty
cell in ``direction`` (the way the tile moves) into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Context
from ..ocr import Vocabulary
from ..perception import px
from ..pixels import PixelScene, Unreadable, stem
from ..questions import multiple_choice, ordinal, pick
from ..timeline import Operation, SceneObject, StyleChange
from .base import Family, Params

DIRECTIONS = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}  # (row, column) steps of the tile
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}
BOARD = 0.76  # canvas units spanned by the grid
CENTER_Y = 0.55
TILE = 0.88  # of a cell: the side of its tile, leaving a gap between tiles
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"the shown tiles are squares of {px(BOARD / 4 * TILE)} (4 x 4) or {px(BOARD / 3 * TILE)} (3 x 3), numbered in a "
    "font of half that; on every other frame they are blank blue, and the sliding tile turns magenta while it moves",
)


@dataclass(frozen=True)
class SlidingPuzzleParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by `operations`
    operations: tuple[int, int] = (5, 8)
    grid: int = 3


def _size(state):
    return int(round(len(state) ** 0.5))


def apply(state, name, args):
    n = _size(state)
    blank = state.index(0)
    dr, dc = DIRECTIONS[args["direction"]]
    row, col = blank // n - dr, blank % n - dc  # the tile that moves into the blank
    if name != "slide" or not (0 <= row < n and 0 <= col < n):
        raise ValueError(f"{name} {args} does not apply to {state}")
    cells = list(state)
    cells[blank], cells[row * n + col] = cells[row * n + col], 0
    return cells


def moved_tile(state, args):
    return apply(state, "slide", args)[state.index(0)]


def moves(state):
    out = []
    for direction in DIRECTIONS:
        try:
            apply(state, "slide", {"direction": direction})
            out.append(("slide", {"direction": direction}))
        except ValueError:
            pass
    return out


def inverse(state, name, args):
    return name, {"direction": OPPOSITE[args["direction"]]}


def cell_name(index, n):
    return f"row {index // n + 1}, column {index % n + 1}"


class SlidingPuzzle(Family):
    name = "sliding_puzzle"
    category = "long_term"
    Params = SlidingPuzzleParams
    round2 = {"operations": (10, 16), "grid": 4, "duration": longterm.duration_bounds((10, 16))}
    ladder = (
        {},
        round2,
        {"operations": (14, 20), "grid": 4, "duration": longterm.duration_bounds((14, 20))},
        {"operations": (18, 24), "grid": 4, "duration": longterm.duration_bounds((18, 24))},
        {"operations": (22, 28), "grid": 5, "duration": longterm.duration_bounds((22, 28))},
    )

    KINDS = ("start_at", "where_start", "end_at", "moved_tile", "when")

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.operations[0], params.operations[1] + 1))
        return {
            "kind": kind,
            "shown": longterm.draw_shown(rng, kind, ("end_at",), ("start_at", "where_start")),
            "num_ops": num_ops,
            "naive": longterm.draw_naive(rng),
            # moved_tile: a move at least two away from either reveal, whose tile no frame shows
            "k": int(rng.integers(1, num_ops + 1) if kind == "when" else rng.integers(2, num_ops)),
            "pick": float(rng.random()),  # which of the suitable cells / tiles is asked about
            "when_tile": bool(rng.integers(2)),
        }

    def simulate(self, rng, params, plan):
        for _ in range(1000):
            s0 = [int(t) for t in rng.permutation(params.grid**2)]
            ops, state = [], s0
            for _ in range(plan["num_ops"]):
                # Never undo the previous move: every move changes the layout.
                options = [op for op in moves(state) if not ops or op[1]["direction"] != OPPOSITE[ops[-1][1]["direction"]]]
                ops.append(pick(rng, options))
                state = apply(state, *ops[-1])
            states = longterm.replay(apply, s0, ops)
            target = _target(states, ops, plan)
            if target is not None and (plan["kind"] == "when" or len(_choice(rng, states, ops, plan, target)[1]) >= 3):
                return _animate(rng, states, ops, plan["shown"])
        raise RuntimeError(f"could not draw moves for {plan}")

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, op.args) for op in timeline.operations]
        kind, k, n = plan["kind"], plan["k"], _size(states[0])
        target = _target(states, ops, plan)
        if kind == "when":
            if not plan["when_tile"]:
                return longterm.when_question(rng, timeline, k, caption(*ops[k - 1]))
            first = next(i for i, (s, op) in enumerate(zip(states, ops)) if moved_tile(s, op[1]) == target)
            text = pick(rng, (f"When does tile {target} move for the first time?", f"During which time span is tile {target} first slid?"))
            return longterm.op_interval(text, timeline, first)
        answer, distractors, _ = _choice(rng, states, ops, plan, target)
        where = cell_name(target, n)
        text = pick(
            rng,
            {
                "start_at": (
                    f"Which number was at {where} at the start?",
                    f"Before the first move, which tile was at {where} (rows from the top, columns from the left)?",
                ),
                "where_start": (
                    f"Where was tile {target} at the start? Rows count from the top, columns from the left.",
                    f"Before the first move, in which cell was tile {target} (rows from the top, columns from the left)?",
                ),
                "end_at": (
                    f"Which number is at {where} at the end?",
                    f"After the last move, which tile is at {where} (rows from the top, columns from the left)?",
                ),
                "moved_tile": (f"Which tile moved in the {ordinal(k)} move?", f"Which number was on the tile slid in move {k}?"),
            }[kind],
        )
        primitive = {"end_at": "state_tracking", "moved_tile": "historical"}.get(kind, "retrodiction")
        return multiple_choice(rng, text, answer, distractors, primitive=primitive, kind=kind)

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "The tile numbers are visible only in the revealed layout; during the moves the tiles are blank and a caption gives the direction of each slide.",
        "Numbers show only in the revealed layout; every move is a blank tile sliding into the gap in the captioned direction.",
    )
    moments = {
        "end_at": "end",
        "start_at": "start",
        "where_start": "start",
    }

    def state_parts(self, state: list, ctx: Context) -> dict[str, str]:
        n = int(round(len(state) ** 0.5))
        return {str(r): f"row {r + 1}: " + " ".join(str(v) if v else "_" for v in state[r * n : (r + 1) * n]) for r in range(n)}

    def effect(self, before: list, after: list, op: Operation, ctx: Context) -> str:
        return f"tile {moved_tile(before, op.args)} slid {op.args['direction']}"

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        text = stem(row)
        if kind == "when" and "tile" not in text:
            return lp.when_answer(scene, spans, lp.operation_number(row, [caption(*op) for op in ops]))
        n = _read_grid(scene)
        shown = lp.shown_reveal(scene, lambda frame: any(c == "orange" for c in _cell_colors(scene, frame, n)))
        frame = 0 if shown == "initial" else len(scene) - 1
        states = lp.states_from_reveal(
            shown, _read_tiles(scene, frame, n), ops, apply, lambda state, op: apply(state, *inverse(state, *op))
        )
        if kind == "moved_tile":
            k = lp.operation_number(row)
            return str(moved_tile(states[k - 1], ops[k - 1][1]))
        if kind in ("when", "where_start"):
            tile = int(re.search(r"tile (\d+)", text).group(1))
            if kind == "where_start":
                return cell_name(states[0].index(tile), n)
            first = next((k for k, (state, op) in enumerate(zip(states, ops)) if moved_tile(state, op[1]) == tile), None)
            if first is None:
                raise Unreadable(f"tile {tile} never moves")
            return lp.when_answer(scene, spans, first + 1)
        found = re.search(r"row (\d+), column (\d+)", text)
        cell = (int(found.group(1)) - 1) * n + int(found.group(2)) - 1
        return str(states[-1 if kind == "end_at" else 0][cell])


def caption(name, args):
    return f"slide {args['direction']}"


def _target(states, ops, plan):
    """The cell (start_at, end_at) or tile (where_start, when) asked about, picked by plan["pick"]
    among the suitable ones: those whose value in the revealed state is the answer exactly when
    plan["naive"] says so, tiles that move at all for when. None when there is none."""
    kind, first, last = plan["kind"], states[0], states[-1]
    if kind in ("start_at", "end_at"):
        options = [c for c in range(len(first)) if first[c] and last[c] and (first[c] == last[c]) == plan["naive"]]
    elif kind == "where_start":
        options = [t for t in range(1, len(first)) if (first.index(t) == last.index(t)) == plan["naive"]]
    elif kind == "when" and plan["when_tile"]:
        options = sorted({moved_tile(s, op[1]) for s, op in zip(states, ops)})
    else:
        return plan["k"]
    return options[int(plan["pick"] * len(options))] if options else None


def _read(kind, state, target):
    """The asked value in one layout: where tile ``target`` is, or which tile is at cell ``target``."""
    return cell_name(state.index(target), _size(state)) if kind == "where_start" else str(state[target])


def _value(kind, states, ops, target, from_end):
    """The answer on a history read forwards, or backwards from ST when ``from_end``."""
    if kind == "moved_tile":
        step = len(ops) - target if from_end else target - 1
        value = str(moved_tile(states[step], ops[step][1]))
    else:
        value = _read(kind, states[-1] if (kind == "end_at") != from_end else states[0], target)
    if value == "0":
        raise ValueError("the empty cell is not a tile")
    return value


def _choice(rng, states, ops, plan, target):
    """(answer, three distractors, the guess read off the reveal). Distractors come from histories
    with one or two moves changed and, since most changed moves soon hit the border, from the other
    slip one makes when undoing moves: stopping early (the asked value in an intermediate layout),
    or for moved_tile, taking another move's tile. The revealed-state guess is always among them."""
    kind, from_end = plan["kind"], plan["shown"] == "final"
    answer = _value(kind, states, ops, target, False)
    seen_states, seen_ops = longterm.backwards(states, ops, inverse) if from_end else (states, ops)
    value = lambda s, o: _value(kind, s, o, target, from_end)  # noqa: E731
    distractors = longterm.replaced_answers(rng, apply, seen_states, seen_ops, value, moves, depth=2)
    if kind == "moved_tile":
        slips = [str(moved_tile(states[j], ops[j][1])) for j in rng.permutation(len(ops))]
        naive = None  # no single frame names the tile of one move
    else:
        slips = [_read(kind, seen_states[j], target) for j in rng.permutation(len(ops))]
        naive = _read(kind, seen_states[0], target)
    pool = [d for d in dict.fromkeys(distractors + slips) if d != "0"]
    return answer, longterm.with_naive(pool, naive, answer), naive


def _cell_center(i: int, n: int) -> tuple[float, float]:
    """Canvas center of cell ``i`` (row by row) of an ``n`` x ``n`` board."""
    pitch = BOARD / n
    return 0.5 + (i % n - (n - 1) / 2) * pitch, CENTER_Y + (i // n - (n - 1) / 2) * pitch


def _tile_size(n: int) -> float:
    return BOARD / n * TILE


def _layout(state):
    n = _size(state)
    return {f"tile{t}": _cell_center(i, n) for i, t in enumerate(state) if t}


def _animate(rng, states, ops, shown):
    sched = longterm.schedule(rng, len(ops))
    anim = longterm.Animator(sched.num_frames, _layout(states[0]))
    for (start, end), before, after in zip(sched.spans, states, states[1:]):
        anim.shift(start, end, _layout(before), _layout(after))
    revealed = sched.reveal(shown)
    size = _tile_size(_size(states[0]))
    objects, tracks = [], {}
    for tile in range(1, len(states[0])):
        oid = f"tile{tile}"
        face = SceneObject(id=f"face{tile}", shape="card", color="orange", size=size, label=str(tile), z=1)
        back = SceneObject(id=f"back{tile}", shape="card", color="blue", size=size)
        tracks[face.id], tracks[back.id] = anim.track(oid, revealed), anim.track(oid, ~revealed)
        for moved, (start, end) in zip(anim.moved, sched.spans):
            if oid in moved:  # highlighted while it slides
                tracks[back.id].style_changes += [StyleChange(start, color="magenta"), StyleChange(end + 1, color="blue")]
        objects += [face, back]
    moved = [{f"{side}{oid[4:]}" for oid in ids for side in ("face", "back")} for ids in anim.moved]
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops], moved)


# -- reading the pixels -------------------------------------------------------------------------------
GRIDS = (4, 3)  # boards the family draws, largest first


@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    return {caption("slide", {"direction": d}): ("slide", {"direction": d}) for d in DIRECTIONS}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


@lru_cache(maxsize=1)
def _numbers() -> Vocabulary:
    return Vocabulary(str(t) for t in range(1, max(GRIDS) ** 2))


def _cell_colors(scene: PixelScene, frame: int, n: int) -> list[str | None]:
    return [lp.color_at(scene, frame, *_cell_center(i, n), 0.3 * _tile_size(n)) for i in range(n * n)]


def _read_grid(scene: PixelScene) -> int:
    """The board's size: the one whose gaps between columns are background on the first frame (the
    wrong size puts its gaps on tiles)."""
    top, bottom = (lp.pixel_corner(scene, 0.5, CENTER_Y + side * BOARD * 0.4)[1] for side in (-1, 1))

    def gap_whiteness(n: int) -> float:
        gaps = [lp.pixel_corner(scene, _cell_center(j, n)[0] + BOARD / n / 2, 0)[0] for j in range(n - 1)]
        return float((scene.luma[0, top:bottom, gaps] > lp.INKED_BELOW).mean())

    return max(GRIDS, key=gap_whiteness)


def _read_tiles(scene: PixelScene, frame: int, n: int) -> list[int]:
    """The numbers on the face-up tiles, row by row, 0 for the empty cell."""
    face = SceneObject("face", "card", "orange", _tile_size(n))
    colors = _cell_colors(scene, frame, n)
    return [int(lp.read_label(scene, frame, face, *_cell_center(i, n), _numbers())) if colors[i] else 0 for i in range(n * n)]
