"""The registry of task families. Adding a family = one module + one line here.

The module defines a :class:`~synrl_hf.families.base.Family` subclass with every hook the contract in
``base.py`` requires; :func:`register` refuses one that lacks a hook, naming it.
"""

from __future__ import annotations

from ..difficulty import ladder_problems
from .acceleration import Acceleration
from .attribute_change import AttributeChange
from .base import CATEGORIES, Family, missing_hooks
from .card_stack import CardStack
from .chip_container import ChipContainer
from .collision_count import CollisionCount
from .direction import Direction
from .distance import Distance
from .event_order import EventOrder
from .file_system import FileSystem
from .math_symbols import MathSymbols
from .motion_count import MotionCount
from .relative_position import RelativePosition
from .rotation_count import RotationCount
from .shell_game import ShellGame
from .sliding_puzzle import SlidingPuzzle
from .speed import Speed
from .trajectory_shape import TrajectoryShape
from .velocity_comparison import VelocityComparison

# Order: the 12 short-term perceptual primitives, then the 6 long-term cognitive ones (docs/data-contract.md).
_FAMILIES: list[type[Family]] = [
    CollisionCount,
    Direction,
    TrajectoryShape,
    Speed,
    MotionCount,
    AttributeChange,
    RotationCount,
    RelativePosition,
    Acceleration,
    VelocityComparison,
    Distance,
    EventOrder,
    CardStack,
    ChipContainer,
    FileSystem,
    MathSymbols,
    ShellGame,
    SlidingPuzzle,
]

FAMILIES: dict[str, type[Family]] = {}


def register(family: type[Family]) -> None:
    """Add ``family`` to :data:`FAMILIES`, after checking it provides every required hook."""
    name = getattr(family, "name", family.__name__)
    missing = missing_hooks(family)
    if missing:
        raise TypeError(f"family {name!r} lacks the required hook(s) {', '.join(missing)}; see synrl_hf/families/base.py")
    problems = ladder_problems(family)
    if problems:
        raise ValueError(f"family {name!r} declares a bad ladder: {'; '.join(problems)}")
    if family.category not in CATEGORIES:
        raise ValueError(f"family {name!r} has category {family.category!r}; valid categories: {', '.join(CATEGORIES)}")
    if name in FAMILIES:
        raise ValueError(f"family {name!r} is registered twice")
    FAMILIES[name] = family


for _family in _FAMILIES:
    register(_family)


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ValueError(f"unknown family {name!r}; valid families: {', '.join(FAMILIES)}") from None


def families_in(category: str) -> list[str]:
    return [name for name, fam in FAMILIES.items() if fam.category == category]
