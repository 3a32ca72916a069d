"""The registry of task families. Adding a family = one module + one line here."""

from __future__ import annotations

from .base import Family
from .collision_count import CollisionCount
from .direction import Direction

_FAMILIES: list[type[Family]] = [
    CollisionCount,
    Direction,
]

FAMILIES: dict[str, type[Family]] = {f.name: f for f in _FAMILIES}
CATEGORIES = ("short_term", "long_term")


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ValueError(f"unknown family {name!r}; valid families: {', '.join(FAMILIES)}") from None


def families_in(category: str) -> list[str]:
    return [name for name, fam in FAMILIES.items() if fam.category == category]
