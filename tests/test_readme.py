"""The README's family table is what the code makes (``python -m synrl_hf.readme --write`` renews it)."""

from __future__ import annotations

from synrl_hf.families import FAMILIES
from synrl_hf.readme import README, family_table, readme_table


def test_readme_family_table_is_generated_from_seed_0():
    table = family_table()
    assert readme_table(README.read_text()) == table, "run `python -m synrl_hf.readme --write`"
    assert [line.split("`")[1] for line in table.splitlines()[2:]] == list(FAMILIES)
