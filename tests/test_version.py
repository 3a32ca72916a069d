"""The generator's version says when samples change, and its changes record says how."""

from __future__ import annotations

from synrl_hf.version import GENERATOR_CHANGES, GENERATOR_VERSION


def test_the_current_generator_version_says_what_changed():
    assert GENERATOR_VERSION in GENERATOR_CHANGES
    for version, changes in GENERATOR_CHANGES.items():
        assert version.isdigit() and int(version) <= int(GENERATOR_VERSION), version
        assert changes and all(isinstance(line, str) and line.strip() for line in changes), version
