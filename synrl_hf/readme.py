"""The README's generated part: the task-family example table, one question per family at seed 0.

``python -m synrl_hf.readme`` prints the table; ``--write`` puts it into README.md in place of the
table there (found by its header row). A test compares the two, so the README shows what the code
makes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .families import FAMILIES
from .sample import build_scene

HEADER = "| family | example question | answer |"
OPTION_CHARACTERS = 48  # options longer than this are cut (with …) to keep the table readable
README = Path(__file__).resolve().parent.parent / "README.md"


def family_table(seed: int = 0) -> str:
    """The table: per family (registry order) the question of sample 0 at ``seed`` and its answer."""
    lines = [HEADER, "|---|---|---|"]
    for family in FAMILIES:
        question = build_scene(family, 0, seed).question
        text = question.text.splitlines()[0]
        options = [f"{letter}. {_cut(option)}" for letter, option in zip("ABCDEFGH", question.options)]
        lines.append(f"| `{family}` | {' · '.join([text, *options])} | `{question.answer}` |")
    return "\n".join(lines)


def _cut(option: str) -> str:
    return option if len(option) <= OPTION_CHARACTERS else option[: OPTION_CHARACTERS - 1].rstrip() + "…"


def readme_table(readme: str) -> str:
    """The family table as the README has it (from its header row to the first line after it that
    is not a table row)."""
    lines = readme.splitlines()
    start = lines.index(HEADER)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"replace the table in {README.name}")
    args = parser.parse_args(argv)
    table = family_table()
    if not args.write:
        print(table)
        return 0
    text = README.read_text()
    README.write_text(text.replace(readme_table(text), table))
    print(f"wrote the family table into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
