"""file_system: a directory tree changed by shell commands (cd, mkdir, touch, mv, cp, rm).

State: ``{"cwd": "/docs", "dirs": [...], "files": [...]}`` with absolute paths; the shell starts in
the root ``/``, which every question says. Commands use paths relative to the working directory
(``mv notes.txt ../``, ``rm old/a.txt``), so following them means tracking ``cd`` as well.

What is shown: the revealed state is the tree, one indented line per directory (``docs/``) or file;
on every other frame the screen is blank except, during each command, the command line itself
(``$ mv notes.txt docs/``) as a caption. So the commands are always visible and no intermediate
tree ever is. Names are unique in the tree (``cp`` makes the only duplicates), so a question can
name a file by its name alone.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import ImageFont

from .. import longterm
from .. import longterm_pixels as lp
from ..narration import Context
from ..ocr import SUPERSAMPLE, Line, Vocabulary, inked_columns, label_line, read_line
from ..ocr import coverage as ink_coverage
from ..perception import px
from ..pixels import PixelScene, Unreadable, stem
from ..questions import multiple_choice, number, ordinal, pick
from ..timeline import SceneObject, Track
from .base import Family, Params

FILE_NAMES = (
    "notes.txt",
    "report.pdf",
    "todo.md",
    "data.csv",
    "photo.jpg",
    "main.py",
    "song.mp3",
    "plan.txt",
    "budget.xls",
    "draft.doc",
    "log.txt",
    "map.png",
    "slides.ppt",
    "list.txt",
    "memo.md",
    "video.mp4",
)
DIR_NAMES = ("docs", "img", "src", "music", "old", "work", "tmp", "backup", "games", "mail", "trips", "books")
MAX_DIRS, MAX_FILES, MAX_DEPTH = 8, 9, 3
START = "The shell starts in the root directory /."
LINE_H = 0.04  # font height: 18 px at 448
PERCEPTUAL_CONTRACT = longterm.perceptual_rules(
    f"the shown tree is one line per directory or file in a font of {px(LINE_H)}; on every other frame the screen is blank "
    "but for the command being run, as the caption",
    operations_move=False,
)
LEFT, INDENT = 0.08, 0.055


@dataclass(frozen=True)
class FileSystemParams(Params):
    duration: tuple[float, float] = longterm.duration_bounds((5, 8))  # implied by num_operations
    num_operations: tuple[int, int] = (5, 8)
    dirs: tuple[int, int] = (4, 5)  # besides the root, at the start
    files: tuple[int, int] = (4, 6)  # at the start
    file_count: tuple[int, int] = (0, 3)  # the asked number of files in a directory, drawn uniformly


def join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def base(path: str) -> str:
    return path.rsplit("/", 1)[1]


def parent(path: str) -> str:
    if path == "/":
        raise ValueError("the root has no parent")
    return path.rsplit("/", 1)[0] or "/"


def resolve(cwd: str, relative: str) -> str:
    path = cwd
    for part in relative.strip("/").split("/"):
        path = parent(path) if part == ".." else path if part in ("", ".") else join(path, part)
    return path


def apply(state: dict, name: str, args: dict) -> dict:
    """The state after one command; ValueError when the command would fail in a shell."""
    cwd, dirs, files = state["cwd"], set(state["dirs"]), set(state["files"])
    if name == "cd":
        cwd = resolve(cwd, args["path"])
        if cwd not in dirs:
            raise ValueError(f"no directory {cwd}")
    elif name in ("mkdir", "touch"):
        path = join(cwd, args["name"])
        if path in dirs | files:
            raise ValueError(f"{path} exists")
        (dirs if name == "mkdir" else files).add(path)
    elif name == "rm":
        path = resolve(cwd, args["path"])
        if path not in files:
            raise ValueError(f"no file {path}")
        files.remove(path)
    elif name in ("mv", "cp"):
        src, target = resolve(cwd, args["src"]), resolve(cwd, args["dst"])
        new = join(target, base(src))
        if src not in files or target not in dirs or new in dirs | files:
            raise ValueError(f"cannot {name} {src} to {target}")
        files.add(new)
        if name == "mv":
            files.remove(src)
    else:
        raise ValueError(f"unknown command {name!r}")
    return {"cwd": cwd, "dirs": sorted(dirs), "files": sorted(files)}


def caption(name: str, args: dict) -> str:
    operands = {"cd": ("path",), "mkdir": ("name",), "touch": ("name",), "rm": ("path",)}.get(name, ("src", "dst"))
    return " ".join(["$", name] + [args[o] for o in operands])


def commands(state: dict, fresh_file: str | None = None, fresh_dir: str | None = None) -> list[tuple[str, dict]]:
    """Every command that applies to ``state`` with paths at most one step from the working directory
    (touch / mkdir only with the given fresh names)."""
    cwd, dirs, files = state["cwd"], state["dirs"], state["files"]
    # The directories a command can name, by their relative path.
    reach = {d: base(d) + "/" for d in dirs if d != "/" and parent(d) == cwd}
    if cwd != "/":
        reach[parent(cwd)] = "../"
    out = [("cd", {"path": rel.rstrip("/")}) for rel in reach.values()]
    out += [("rm", {"path": base(f)}) for f in files if parent(f) == cwd]
    if fresh_file is not None and len(files) < MAX_FILES:
        out.append(("touch", {"name": fresh_file}))
    if fresh_dir is not None and len(dirs) < MAX_DIRS and cwd.count("/") < MAX_DEPTH:
        out.append(("mkdir", {"name": fresh_dir}))
    reach[cwd] = "."
    for f in files:
        if parent(f) not in reach:
            continue
        src = base(f) if parent(f) == cwd else reach[parent(f)] + base(f)
        for d, rel in reach.items():
            if d != parent(f) and join(d, base(f)) not in files:
                out += [(name, {"src": src, "dst": rel}) for name in ("mv", "cp")[: 1 + (len(files) < MAX_FILES)]]
    return out


WEIGHTS = {"cd": 3, "mv": 3, "cp": 1, "touch": 1, "mkdir": 1, "rm": 1}


def random_history(rng: np.random.Generator, params: FileSystemParams, num_ops: int) -> tuple[dict, list]:
    dir_names, file_names = list(rng.permutation(DIR_NAMES)), list(rng.permutation(FILE_NAMES))
    dirs = ["/"]
    for _ in range(int(rng.integers(params.dirs[0], params.dirs[1] + 1))):
        dirs.append(join(pick(rng, [d for d in dirs if d.count("/") < 2]), dir_names.pop()))
    files = [join(pick(rng, dirs), file_names.pop()) for _ in range(int(rng.integers(params.files[0], params.files[1] + 1)))]
    state = initial = {"cwd": "/", "dirs": sorted(dirs), "files": sorted(files)}
    ops = []
    for _ in range(num_ops):
        options = commands(state, file_names[-1], dir_names[-1])
        kinds = sorted({name for name, _ in options})
        kind = kinds[int(rng.choice(len(kinds), p=np.array([WEIGHTS[k] for k in kinds]) / sum(WEIGHTS[k] for k in kinds)))]
        name, args = pick(rng, [op for op in options if op[0] == kind])
        if name in ("touch", "mkdir"):
            (file_names if name == "touch" else dir_names).pop()
        state = apply(state, name, args)
        ops.append((name, args))
    return initial, ops


def place(state: dict, name: str) -> str | None:
    """The directory holding the file called ``name``, if exactly one does."""
    found = [parent(f) for f in state["files"] if base(f) == name]
    return found[0] if len(found) == 1 else None


def touched(state: dict, name: str, args: dict) -> set[str]:
    """Absolute paths (files and directories) a command reads or changes."""
    cwd = state["cwd"]
    if name == "cd":
        return {resolve(cwd, args["path"])}
    if name in ("mkdir", "touch"):
        return {join(cwd, args["name"]), cwd}
    if name == "rm":
        path = resolve(cwd, args["path"])
        return {path, parent(path)}
    src, target = resolve(cwd, args["src"]), resolve(cwd, args["dst"])
    return {src, parent(src), target, join(target, base(src))}


def file_count(state: dict, directory: str) -> int:
    return sum(parent(f) == directory for f in state["files"])


class FileSystem(Family):
    name = "file_system"
    category = "long_term"
    Params = FileSystemParams
    round2 = {"num_operations": (10, 16), "duration": longterm.duration_bounds((10, 16)), "files": (5, 7)}
    ladder = (
        {},
        round2,
        {"num_operations": (14, 20), "duration": longterm.duration_bounds((14, 20)), "files": (6, 8), "dirs": (5, 6)},
        {"num_operations": (18, 24), "duration": longterm.duration_bounds((18, 24)), "files": (7, 9), "dirs": (5, 7)},
        {"num_operations": (22, 28), "duration": longterm.duration_bounds((22, 28)), "files": (7, 9), "dirs": (6, 7)},
    )

    KINDS = ("where_end", "files_end", "where_start", "cwd_after", "when")
    FORWARD, RETRODICTIVE = ("where_end", "files_end"), ("where_start",)

    def plan(self, rng, params):
        kind = pick(rng, self.KINDS)
        num_ops = int(rng.integers(params.num_operations[0], params.num_operations[1] + 1))
        plan = {"kind": kind, "num_ops": num_ops, "shown": longterm.draw_shown(rng, kind, self.FORWARD, self.RETRODICTIVE)}
        # The op asked about; for the working directory at least the second, so a cd can precede it.
        plan["k"] = int(rng.integers(1 + (kind == "cwd_after"), num_ops + 1))
        plan["naive"] = longterm.draw_naive(rng)  # the answer equals the single-frame guess at chance rate
        if kind == "files_end":
            plan["count"] = int(rng.integers(params.file_count[0], params.file_count[1] + 1))
        return plan

    def simulate(self, rng, params, plan):
        for _ in range(2000):
            initial, ops = random_history(rng, params, plan["num_ops"])
            states = longterm.replay(apply, initial, ops)
            if _targets(rng, plan, states, ops):
                return _timeline(rng, plan, states, ops)
        raise RuntimeError(f"could not realise {plan}")

    def ask(self, rng, timeline, plan):
        states = [s.state for s in timeline.states]
        ops = [(op.name, dict(op.args)) for op in timeline.operations]
        kind, k = plan["kind"], plan["k"]
        targets = _targets(rng, plan, states, ops)
        if kind == "when":
            text = f"{START} When {targets[0]}?"
            return longterm.op_interval(text, timeline, k - 1) if targets[0] else longterm.when_question(rng, timeline, k)
        if kind == "files_end":
            directory = pick(rng, targets)
            where = "the root directory /" if directory == "/" else directory
            text = pick(
                rng,
                (
                    f"{START} How many files are directly in {where} at the end (not counting files in its subdirectories)?",
                    f"{START} After the last command, how many files does {where} itself contain (subdirectories not included)?",
                ),
            )
            return number(text, file_count(states[-1], directory), primitive="state_tracking", kind=kind)
        target, answer, naive, pool = pick(rng, targets)
        text = pick(
            rng,
            {
                "where_end": (
                    f"{START} Which directory contains {target} at the end?",
                    f"{START} Where is {target} after the last command?",
                ),
                "where_start": (f"{START} Where was {target} before the commands?", f"{START} Which directory held {target} at the start?"),
                "cwd_after": (
                    f"{START} What is the working directory right after the {ordinal(k)} command?",
                    f"{START} In which directory is the shell after command {k}?",
                ),
            }[kind],
        )
        primitive = {"where_end": "state_tracking", "where_start": "retrodiction", "cwd_after": "historical"}[kind]
        return multiple_choice(rng, text, answer, longterm.with_naive(pool, naive, answer), primitive=primitive, kind=kind)

    # -- hooks: CoT narration (the contract is in base.py) --
    cot_intro = (
        "The directory tree is shown only once; during the commands I see just each command line. The shell starts in the root directory /.",
        "Only one listing of the tree is on screen; after that I must apply each command myself, starting from the root directory /.",
    )
    moments = {
        "where_end": "end",
        "files_end": "end",
        "where_start": "start",
        "cwd_after": "k",
    }

    def state_parts(self, state: dict, ctx: Context) -> dict[str, str]:
        parts = {"cwd": f"working directory {state['cwd']}"}
        for directory in state["dirs"]:
            files = sorted(f.rsplit("/", 1)[1] for f in state["files"] if parent(f) == directory)
            parts[directory] = f"{directory} holds {', '.join(files) if files else 'no files'}"
        return parts

    def restated_question(self, ctx: Context) -> str | None:
        return ctx.q.text.splitlines()[0].removeprefix(START + " ")

    # -- hook: the pixel reader (the contract is in base.py) --
    def answer_from_pixels(self, scene: PixelScene) -> str:
        row, kind = scene.row, scene.row["question_type"]
        ops, spans = lp.read_operations(scene, _captions(), _operations())
        text = stem(row)
        shown = lp.shown_reveal(scene, lambda frame: _tree_shown(scene, frame))
        states = _states(_read_tree(scene, 0 if shown == "initial" else len(scene) - 1), ops, shown)
        if kind == "when":
            descriptions = [_describe(*op, before, after) for op, before, after in zip(ops, states, states[1:])]
            k = next((i + 1 for i, d in enumerate(descriptions) if f"When {d}?" in text), None)
            return lp.when_answer(scene, spans, k if k is not None else lp.operation_number(row))
        if kind == "files_end":
            found = re.search(r"(?:directly in|does) (\S+|the root directory /) (?:at the end|itself)", text)
            if not found:
                raise Unreadable(f"the question names no directory: {text!r}")
            directory = "/" if found.group(1) == "the root directory /" else found.group(1)
            return str(file_count(states[-1], directory))
        if kind == "cwd_after":
            return states[lp.operation_number(row)]["cwd"]
        name = next((n for n in FILE_NAMES if re.search(rf"(?<![\w/.]){re.escape(n)}(?![\w/])", text)), None)
        answer = place(states[-1 if kind == "where_end" else 0], name) if name else None
        if answer is None:
            raise Unreadable(f"no single directory holds the file the question names: {text!r}")
        return answer


def _targets(rng, plan, states, ops):
    """What the planned question can be about (empty when this history does not fit the plan).

    where / cwd: (name, answer, single-frame guess, distractor pool), with the guess right exactly
    when plan["naive"] says; files_end: directories holding the planned count whose files change;
    when: the description of the planned command if no other command fits it (else None).
    """
    kind, k = plan["kind"], plan["k"]
    if kind == "when":
        descriptions = [_describe(*op, before, after) for op, before, after in zip(ops, states, states[1:])]
        return [descriptions[k - 1] if descriptions.count(descriptions[k - 1]) == 1 else None]
    if kind == "files_end":
        changed = {parent(f) for a, b in zip(states, states[1:]) for f in set(a["files"]) ^ set(b["files"])}
        return [
            d
            for d in states[-1]["dirs"]
            if d in changed and file_count(states[-1], d) == plan["count"] and (file_count(states[0], d) == plan["count"]) == plan["naive"]
        ]
    if kind == "cwd_after":
        answer = states[k]["cwd"]
        if ("/" == answer) != plan["naive"] or not any(name == "cd" for name, _ in ops[:k]):
            return []
        pool = longterm.replaced_answers(rng, apply, states, ops, lambda s, o: s[k]["cwd"], commands)
        pool += [d for d in rng.permutation(states[k]["dirs"]).tolist() if d not in pool]
        return [(None, answer, "/", [d for d in pool if d != answer])]
    asked, shown = (-1, 0) if kind == "where_end" else (0, -1)
    found = []
    for path in states[0]["files"]:
        name = base(path)
        only_moved = all(n == "mv" or name not in {base(p) for p in touched(s, n, a)} for s, (n, a) in zip(states, ops))
        answer, naive = place(states[asked], name), place(states[shown], name)
        if not only_moved or answer is None or naive is None or (answer == naive) != plan["naive"]:
            continue
        # Plausible first: where the file would be, had one command been another one.
        dirs = states[asked]["dirs"]
        resimulated = []
        if kind == "where_end":
            resimulated = longterm.replaced_answers(rng, apply, states, ops, lambda s, o, name=name: place(s[-1], name) or "", commands)
        pool = [d for d in resimulated if d in dirs] + [d for d in rng.permutation(dirs).tolist() if d not in resimulated]
        pool = [d for d in pool if d != answer]
        if len(longterm.with_naive(pool, naive, answer)) == 3:
            found.append((name, answer, naive, pool))
    return found


def _describe(name: str, args: dict, before: dict, after: dict) -> str:
    """A command by its effect (absolute paths), so asking when it ran means resolving it."""
    if name == "cd":
        return f"does the working directory change to {after['cwd']}"
    if name in ("mkdir", "touch"):
        return f"is the {'directory' if name == 'mkdir' else 'file'} {join(before['cwd'], args['name'])} created"
    if name == "rm":
        return f"is {resolve(before['cwd'], args['path'])} deleted"
    src, target = resolve(before["cwd"], args["src"]), resolve(before["cwd"], args["dst"])
    return f"is {src} {'moved' if name == 'mv' else 'copied'} into {target}"


@lru_cache(maxsize=1)
def _reference_font() -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=100)


def _tree_lines(state: dict) -> list[tuple[int, str]]:
    """(depth, text) per line: a directory, then its subdirectories and its files, indented."""
    lines = []

    def visit(directory: str, depth: int) -> None:
        lines.append((depth, "/" if directory == "/" else base(directory) + "/"))
        for sub in sorted(d for d in state["dirs"] if d != "/" and parent(d) == directory):
            visit(sub, depth + 1)
        lines.extend((depth + 1, base(f)) for f in sorted(state["files"]) if parent(f) == directory)

    visit("/", 0)
    return lines


def _line_object(i: int, text: str) -> SceneObject:
    # Text is drawn centred: a line starts at its indent once its true width is known.
    return SceneObject(f"line{i}", "text", longterm.CAPTION_COLOR, _reference_font().getlength(text) / 100 * LINE_H, LINE_H, label=text)


def _line_center(i: int, count: int, depth: int, text: str) -> tuple[float, float]:
    """Where line ``i`` of ``count`` is drawn (its text centered there), at indent ``depth``."""
    pitch = min(0.056, (0.96 - LINE_H / 2 - longterm.CONTENT_TOP - LINE_H / 2) / (count - 1))
    return LEFT + depth * INDENT + _line_object(i, text).size / 2, longterm.CONTENT_TOP + LINE_H / 2 + i * pitch


def _timeline(rng, plan, states, ops):
    sched = longterm.schedule(rng, len(ops))
    revealed = sched.reveal(plan["shown"])
    lines = _tree_lines(states[0] if plan["shown"] == "initial" else states[-1])
    objects, tracks = [], {}
    for i, (depth, text) in enumerate(lines):
        obj = _line_object(i, text)
        objects.append(obj)
        tracks[obj.id] = Track.still(sched.num_frames, *_line_center(i, len(lines), depth, text))
        tracks[obj.id].visible = revealed
    return longterm.finish(sched, ops, states, objects, tracks, [caption(*op) for op in ops])


# -- reading the pixels -------------------------------------------------------------------------------
MAX_LINES = 1 + MAX_DIRS + MAX_FILES


@lru_cache(maxsize=1)
def _operations() -> dict[str, tuple[str, dict]]:
    """Caption → command, for every command the family can show (paths one step from the working
    directory, the names it draws from)."""
    ops = [("cd", {"path": ".."})] + [("cd", {"path": d}) for d in DIR_NAMES] + [("mkdir", {"name": d}) for d in DIR_NAMES]
    ops += [(name, {key: f}) for f in FILE_NAMES for name, key in (("rm", "path"), ("touch", "name"))]
    sources = list(FILE_NAMES) + [f"{d}/{f}" for d in ("..", *DIR_NAMES) for f in FILE_NAMES]
    targets = [f"{d}/" for d in ("..", *DIR_NAMES)] + ["."]
    ops += [(name, {"src": src, "dst": dst}) for name in ("mv", "cp") for src, dst in itertools.product(sources, targets)]
    return {caption(*op): op for op in ops}


@lru_cache(maxsize=1)
def _captions() -> Vocabulary:
    return Vocabulary(_operations())


@lru_cache(maxsize=1)
def _names() -> Vocabulary:
    return Vocabulary(["/", *(f"{d}/" for d in DIR_NAMES), *FILE_NAMES])


def _content_rows(scene: PixelScene) -> tuple[int, int]:
    return int(longterm.CONTENT_TOP * scene.height), int(0.97 * scene.height)


def _tree_shown(scene: PixelScene, frame: int) -> bool:
    top, bottom = _content_rows(scene)
    return bool((scene.luma[frame, top:bottom] < lp.INKED_BELOW).any())


def _read_tree(scene: PixelScene, frame: int) -> dict:
    """The directory tree listed on ``frame`` (the shell in the root)."""
    count = _line_count(scene, frame)
    stack: list[str] = []  # the directories of the lines above, by depth
    dirs, files = [], []
    for i in range(count):
        depth, text = _read_tree_line(scene, frame, i, count)
        if depth > len(stack) or (depth == 0) != (text == "/"):
            raise Unreadable(f"line {i} ({text!r}) is indented {depth} below {stack}")
        stack = stack[:depth]
        if text.endswith("/"):
            path = "/" if text == "/" else join(stack[-1], text[:-1])
            dirs.append(path)
            stack.append(path)
        else:
            files.append(join(stack[-1], text))
    return {"cwd": "/", "dirs": sorted(dirs), "files": sorted(files)}


def _line_count(scene: PixelScene, frame: int) -> int:
    """How many lines the tree has: the count whose line spacing puts ink in the middle of every
    line, the last one just above the lowest ink."""
    top, bottom = _content_rows(scene)
    rows = np.flatnonzero((scene.luma[frame, :bottom] < lp.INKED_BELOW).any(axis=1))
    rows = rows[rows >= top]
    if not rows.size:
        raise Unreadable("no tree is listed")
    inked = np.zeros(scene.height, bool)
    inked[rows] = True
    best, best_score = None, -1.0
    for count in range(2, MAX_LINES + 1):
        centers = [int(round(_line_center(i, count, 0, "/")[1] * scene.height)) for i in range(count)]
        if abs(centers[-1] - rows[-1]) > LINE_H * scene.height:
            continue
        score = float(np.mean([inked[max(c - 1, 0) : c + 1].any() for c in centers]))
        if score > best_score:
            best, best_score = count, score
    if best is None:
        raise Unreadable("the listed lines fit no line spacing")
    return best


def _read_tree_line(scene: PixelScene, frame: int, i: int, count: int) -> tuple[int, str]:
    """(indent, text) of line ``i`` of ``count``: the indent from where its ink starts."""
    y = _line_center(i, count, 0, "/")[1]
    line = label_line(_line_object(i, "/"), lp.pixel_corner(scene, LEFT, y), scene.width)
    top, bottom = line.rows()
    cols = inked_columns(ink_coverage(scene.luma[frame], (top, bottom, 0, scene.width), lp.WHITE))
    if not cols.size:
        raise Unreadable(f"line {i} of {count} is blank")
    depth = int(round((cols[0] / scene.width - LEFT) / INDENT))

    def anchor(text: str) -> int:
        return SUPERSAMPLE * lp.pixel_corner(scene, *_line_center(i, count, depth, text))[0]

    line = Line(line.font_px, line.anchor_y, anchor, (top, bottom, 0, scene.width), anchor_key=("indent", depth, scene.width))
    reading = read_line(scene.luma[frame], line, _names())
    if reading.text is None:
        raise Unreadable(f"line {i} of {count} is none of the names")
    return depth, reading.text


def _states(revealed: dict, ops: list, shown: str) -> list[dict]:
    """[S0, …, ST] from the listed tree: the working directory follows the ``cd`` commands from the
    root either way; the tree is replayed forwards, or undone backwards from the end."""
    cwds = ["/"]
    for name, args in ops:
        cwds.append(resolve(cwds[-1], args["path"]) if name == "cd" else cwds[-1])
    if shown == "initial":
        return longterm.replay(apply, revealed, ops)
    states = [{**revealed, "cwd": cwds[-1]}]
    for (name, args), cwd in zip(reversed(ops), reversed(cwds[:-1])):
        dirs, files = set(states[-1]["dirs"]), set(states[-1]["files"])
        if name == "mkdir":
            dirs.discard(join(cwd, args["name"]))
        elif name == "touch":
            files.discard(join(cwd, args["name"]))
        elif name == "rm":
            files.add(resolve(cwd, args["path"]))
        elif name in ("mv", "cp"):
            src = resolve(cwd, args["src"])
            files.discard(join(resolve(cwd, args["dst"]), base(src)))
            if name == "mv":
                files.add(src)
        states.append({"cwd": cwd, "dirs": sorted(dirs), "files": sorted(files)})
    return states[::-1]
