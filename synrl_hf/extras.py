"""Optional dependencies: which extra of the package provides what, and a refusal naming the extra.

A command that needs an extra checks for it before doing anything (:func:`require`), so a user of the
``gen`` install who asks for evaluation or the matplotlib renderer is told what to install instead of
getting an ImportError half-way, after files were created.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["EXTRAS", "MissingExtra", "missing_modules", "require"]

# extra → the modules it brings that synrl imports (pyproject.toml's [project.optional-dependencies])
EXTRAS = {
    "paper-renderer": ("matplotlib",),
    "eval": ("torch", "transformers", "lighteval"),
    "train": ("torch", "transformers", "trl"),
    "space": ("gradio", "torch", "transformers"),
    "ray": ("ray",),
}


class MissingExtra(ImportError, ValueError):
    """A command needs an optional dependency that is not installed (a ValueError too: the CLI refuses it
    as bad input, with exit code 2, before any work)."""


def missing_modules(modules: tuple[str, ...] | list[str]) -> list[str]:
    """The ones among ``modules`` that cannot be imported here (without importing any)."""
    missing = []
    for name in modules:
        if name in sys.modules:
            present = sys.modules[name] is not None
        else:
            try:
                present = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                present = False
        if not present:
            missing.append(name)
    return missing


def require(extra: str, purpose: str) -> None:
    """Raise :class:`MissingExtra` when a module of ``extra`` is missing; ``purpose`` says who needs it."""
    missing = missing_modules(EXTRAS[extra])
    if missing:
        raise MissingExtra(
            f"{purpose} needs the [{extra}] extra, which is not installed here (missing: {', '.join(missing)}): "
            f'pip install "synrl-hf[{extra}]" (from a clone: pip install -e ".[{extra}]")'
        )
