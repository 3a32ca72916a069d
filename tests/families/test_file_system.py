from __future__ import annotations

import re

import pytest
from long_term_checks import (
    answer_op,
    assert_pixels_agree,
    check_motion_in_spans,
    check_replay,
    check_state_shown_once,
    chosen_option,
    dark_pixels,
    history,
    render,
    scenes_by_kind,
)

from synrl_hf import generate_sample, longterm
from synrl_hf import longterm_pixels as lp
from synrl_hf.audit.pixels import audit_row
from synrl_hf.families.file_system import FILE_NAMES, INDENT, LEFT, FileSystem, _line_center, _line_count, _line_object, apply
from synrl_hf.ocr import CLEAR_INK, FAINT_INK, label_line
from synrl_hf.ocr import coverage as ink_coverage
from synrl_hf.pixels import PixelScene
from synrl_hf.questions import ordinal
from synrl_hf.video import read_planes

KINDS = FileSystem.KINDS
ORDINALS = {ordinal(i): i for i in range(1, 40)}
TREE = {"cwd": "/", "dirs": ["/", "/docs", "/docs/old", "/img"], "files": ["/a.txt", "/docs/b.md", "/docs/old/c.py"]}


@pytest.fixture(scope="module")
def by_kind():
    return scenes_by_kind("file_system", KINDS, per_kind=30)


def all_scenes(by_kind):
    return [s for kind in KINDS for s in by_kind[kind]]


def files_of(state, name):
    return [f for f in state["files"] if f.rsplit("/", 1)[1] == name]


def directory_of(path):
    return path.rsplit("/", 1)[0] or "/"


def test_apply_follows_the_shell():
    docs = apply(TREE, "cd", {"path": "docs"})
    assert docs["cwd"] == "/docs"
    assert apply(docs, "cd", {"path": ".."})["cwd"] == "/"
    moved = apply(docs, "mv", {"src": "../a.txt", "dst": "old/"})
    assert "/docs/old/a.txt" in moved["files"] and "/a.txt" not in moved["files"]
    copied = apply(docs, "cp", {"src": "old/c.py", "dst": "."})
    assert {"/docs/c.py", "/docs/old/c.py"} <= set(copied["files"])
    assert apply(docs, "mv", {"src": "b.md", "dst": "../"})["files"] == ["/a.txt", "/b.md", "/docs/old/c.py"]
    assert "/docs/new" in apply(docs, "mkdir", {"name": "new"})["dirs"]
    assert "/docs/x.txt" in apply(docs, "touch", {"name": "x.txt"})["files"]
    assert "/docs/b.md" not in apply(docs, "rm", {"path": "b.md"})["files"]
    assert TREE["cwd"] == "/" and len(TREE["files"]) == 3  # pure
    for state, name, args in [
        (TREE, "cd", {"path": ".."}),  # above the root
        (TREE, "cd", {"path": "a.txt"}),  # not a directory
        (TREE, "rm", {"path": "b.md"}),  # not in the working directory
        (docs, "mv", {"src": "b.md", "dst": "."}),  # already there
        (TREE, "mkdir", {"name": "docs"}),
        (TREE, "touch", {"name": "img"}),
    ]:
        with pytest.raises(ValueError):
            apply(state, name, args)


def test_states_replay_and_captions_are_the_commands(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        check_replay(apply, tl)
        check_motion_in_spans(tl)
        assert tl.states[0].state["cwd"] == "/"
        for op in tl.operations:
            words = tl.object(f"caption{op.index}").label.split()
            assert words[:2] == ["$", op.name]
            operands = [op.args[k] for k in ("path", "name", "src", "dst") if k in op.args]
            assert words[2:] == operands


def test_the_tree_is_drawn_in_the_shown_reveal_only(by_kind):
    for scene in all_scenes(by_kind):
        tl = scene.timeline
        check_state_shown_once(scene, lambda oid: oid.startswith("line"))
        states, _ = history(tl)
        revealed = states[0] if scene.plan["shown"] == "initial" else states[-1]
        # Rebuild the tree from the drawn lines: the indent (left edge) gives the depth.
        dirs, files, stack = [], [], []
        lines = sorted((o for o in tl.objects if o.id.startswith("line")), key=lambda o: tl.tracks[o.id].y[0])
        for line in lines:
            left = tl.tracks[line.id].x[0] - line.size / 2
            depth = round((left - LEFT) / INDENT)
            assert left == pytest.approx(LEFT + depth * INDENT)
            name = line.label.rstrip("/")
            stack = stack[: max(depth - 1, 0)]  # the directories above this line, below the root
            path = "/" + "/".join(stack + [name]) if depth else "/"
            (dirs if line.label.endswith("/") else files).append(path)
            if depth and line.label.endswith("/"):
                stack.append(name)
        assert sorted(dirs) == revealed["dirs"] and sorted(files) == revealed["files"]
        assert longterm.boxes_in_frame(tl.objects, tl.tracks)


def test_where_answers(by_kind):
    for kind in ("where_end", "where_start"):
        for scene in by_kind[kind]:
            q, tl = scene.question, scene.timeline
            states, ops = history(tl)
            name = next(n for n in FILE_NAMES if n in q.text)
            asked, shown = (states[-1], states[0]) if kind == "where_end" else (states[0], states[-1])
            assert scene.plan["shown"] == ("initial" if kind == "where_end" else "final")
            (path,) = files_of(asked, name)
            assert chosen_option(q) == directory_of(path)
            (seen,) = files_of(shown, name)
            assert directory_of(seen) in q.options  # the single-frame guess is offered
            for state in states:
                assert len(files_of(state, name)) == 1  # only ever moved, never copied or deleted


def test_count_and_working_directory_answers(by_kind):
    for scene in by_kind["files_end"]:
        q = scene.question
        states, _ = history(scene.timeline)
        directory = "/" if "root directory /" in q.text.split(".", 1)[1] else re.search(r" (/[\w/]+) ", q.text).group(1)
        inside = lambda state, directory=directory: sorted(f for f in state["files"] if directory_of(f) == directory)  # noqa: E731
        assert int(q.answer) == len(inside(states[-1]))
        assert any(inside(a) != inside(b) for a, b in zip(states, states[1:]))
    for scene in by_kind["cwd_after"]:
        q = scene.question
        states, ops = history(scene.timeline)
        match = re.search(r"the (\w+) command", q.text)
        k = ORDINALS[match.group(1)] if match else int(re.search(r"after command (\d+)", q.text).group(1))
        assert chosen_option(q) == states[k]["cwd"]
        assert any(name == "cd" for name, _ in ops[:k]) and "/" in q.options


def describes(text, before, after):
    """Whether a command that turned ``before`` into ``after`` fits the question's description."""
    new_dirs = set(after["dirs"]) - set(before["dirs"])
    new_files, gone = set(after["files"]) - set(before["files"]), set(before["files"]) - set(after["files"])
    if m := re.fullmatch(r"does the working directory change to (\S+)", text):
        return after["cwd"] == m.group(1) != before["cwd"]
    if m := re.fullmatch(r"is the (directory|file) (\S+) created", text):
        return (new_dirs if m.group(1) == "directory" else new_files) == {m.group(2)}
    if m := re.fullmatch(r"is (\S+) deleted", text):
        return gone == {m.group(1)} and not new_files
    if m := re.fullmatch(r"is (\S+) (moved|copied) into (\S+)", text):
        src, target = m.group(1), m.group(3)
        return new_files == {target.rstrip("/") + "/" + src.rsplit("/", 1)[1]} and gone == ({src} if m.group(2) == "moved" else set())
    raise AssertionError(text)


def test_when_answers_name_one_command(by_kind):
    for scene in by_kind["when"]:
        q, tl = scene.question, scene.timeline
        op = answer_op(q, tl)
        if m := re.search(r"the (\w+) operation", q.text):  # no effect names it alone: asked by position
            assert op.index + 1 == ORDINALS[m.group(1)]
            continue
        states, _ = history(tl)
        text = re.search(r"When (.*)\?", q.text).group(1)
        assert [k for k in range(len(tl.operations)) if describes(text, states[k], states[k + 1])] == [op.index]


def test_rendered_tree_and_command_are_legible():
    scene = scenes_by_kind("file_system", ("where_end",), per_kind=1)["where_end"][0]
    tl = scene.timeline
    op = tl.operations[0]
    middle = (op.start_frame + op.end_frame) // 2
    row, frames = render("file_system", scene.index, scene.base_seed, "/tmp/file_system_448.png", lambda row: [10, middle])
    scale = 448
    lines = sorted((o for o in tl.objects if o.id.startswith("line")), key=lambda o: tl.tracks[o.id].y[0])
    pitch = (tl.tracks[lines[1].id].y[0] - tl.tracks[lines[0].id].y[0]) * scale
    for line in lines:
        x, y = tl.tracks[line.id].x[0] * scale, tl.tracks[line.id].y[0] * scale
        # Ink over the whole width of the name (its first and last character), none between lines.
        half = line.size * scale / 2
        assert dark_pixels(frames[10], x - half + 3, y, 4, 7) >= 3, line.label
        assert dark_pixels(frames[10], x + half - 3, y, 4, 7) >= 3, line.label
        assert dark_pixels(frames[10], x, y + pitch / 2, half, 1) == 0
    assert dark_pixels(frames[middle], 224, 0.05 * scale, 220, 12) >= 60
    assert dark_pixels(frames[middle], 224, 280, 220, 160) == 0  # the tree is hidden during commands


def test_round2_scenes_keep_the_invariants():
    scenes = scenes_by_kind("file_system", KINDS, per_kind=5, preset="round2")
    assert max(len(s.timeline.operations) for kind in KINDS for s in scenes[kind]) > 8
    for scene in (s for kind in KINDS for s in scenes[kind]):
        check_replay(apply, scene.timeline)
        check_motion_in_spans(scene.timeline)
        check_state_shown_once(scene, lambda oid: oid.startswith("line"))


@pytest.mark.parametrize("resolution, preset", [(448, "round1"), (128, "round1"), (128, "round2")])
def test_answers_are_read_back_from_the_pixels(resolution, preset):
    """The revealed state and the captions, read off the decoded frames, give every kind's answer."""
    assert_pixels_agree("file_system", FileSystem.KINDS, resolution, preset=preset)


def test_a_faint_root_line_is_read():
    """Regression, a real sample of a 128 px build: the listing's first line is the root "/" alone, a
    thin glyph whose darkest pixel reaches only 30% ink after H.264 (just under the 0.3 a column
    needs to count as inked in a line of ordinary glyphs); the reader found the line blank."""
    row = generate_sample("file_system", 24, 0, "train", resolution=128)
    frames = read_planes(row["video"]["bytes"])
    scene = PixelScene(row, frames)
    last = len(scene) - 1
    y = _line_center(0, _line_count(scene, last), 0, "/")[1]
    top, bottom = label_line(_line_object(0, "/"), lp.pixel_corner(scene, LEFT, y), scene.width).rows()
    root = ink_coverage(scene.luma[last], (top, bottom, 0, scene.width // 3), lp.WHITE)
    assert FAINT_INK < root.max() < CLEAR_INK
    result = audit_row(row, frames)
    assert result["agree"], result
