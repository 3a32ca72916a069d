"""Difficulty: the ladder of levels a family's parameters climb, and the preset names for them.

A family declares ``ladder``: one dict of :class:`~synrl_hf.families.base.Params` overrides per
level, each complete on its own (not relative to the level below). Level 0 is ``{}`` (the defaults,
the paper's first RL round) and level 1 is ``round2`` (its second round); higher levels go beyond
the paper: more objects and distractors, more operations, longer clips, faster motion, finer counts
and closer speeds. A family without a ladder has just those two levels.

Presets are names for levels: ``round1`` is level 0, ``round2`` level 1, ``level<k>`` level k. A
row records both (``preset``, ``level``), so ``generate_sample(…, preset=row["preset"])``
regenerates it, and ``round2`` and ``level1`` give the same sample.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

PRESETS = ("round1", "round2")  # the paper's two RL rounds: levels 0 and 1
_LEVEL_NAME = re.compile(r"^level(0|[1-9][0-9]*)$")


def level_of(preset: str) -> int:
    """The ladder level a preset names: ``round1`` → 0, ``round2`` → 1, ``level<k>`` → k."""
    if preset in PRESETS:
        return PRESETS.index(preset)
    match = _LEVEL_NAME.match(preset) if isinstance(preset, str) else None
    if match is None:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}, or level<k> for level k of a family's ladder")
    return int(match.group(1))


def preset_name(level: int) -> str:
    """The preset a row at ``level`` records: the paper's round name where there is one."""
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ValueError(f"a level is a whole number >= 0, got {level!r}")
    return PRESETS[level] if level < len(PRESETS) else f"level{level}"


def ladder_of(family) -> tuple[dict[str, Any], ...]:
    """The levels of ``family`` (a Family class or instance): its ``ladder``, or (round1, round2)."""
    return tuple(family.ladder) or ({}, dict(family.round2))


def top_level(family) -> int:
    return len(ladder_of(family)) - 1


def level_overrides(family, level: int) -> dict[str, Any]:
    """The Params overrides of ``level``; a level above the family's top names the valid range."""
    levels = ladder_of(family)
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < len(levels):
        raise ValueError(f"family {family.name!r} has no level {level!r}; its ladder has levels 0 to {len(levels) - 1}")
    return dict(levels[level])


def ladder_problems(family) -> list[str]:
    """What is wrong with a family's declared ladder, in words (empty: nothing, or no ladder declared)."""
    if not family.ladder:
        return []
    levels = tuple(family.ladder)
    problems = []
    if levels[0] != {}:
        problems.append(f"level 0 must be {{}} (the Params defaults, preset round1), got {levels[0]!r}")
    if len(levels) < 2 or levels[1] != dict(family.round2):
        problems.append("level 1 must equal round2 (preset round2 is level 1)")
    fields = {f.name for f in dataclasses.fields(family.Params)}
    for level, overrides in enumerate(levels):
        if not isinstance(overrides, dict):
            problems.append(f"level {level} is a {type(overrides).__name__}, not a dict of Params overrides")
            continue
        unknown = sorted(set(overrides) - fields)
        if unknown:
            problems.append(f"level {level} sets unknown parameter(s) {unknown}; valid: {sorted(fields)}")
    for level in range(1, len(levels)):
        if levels[level] == levels[level - 1]:
            problems.append(f"level {level} repeats level {level - 1}")
    return problems
