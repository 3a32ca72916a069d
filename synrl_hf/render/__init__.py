"""Renderers: timeline → RGB frames. ``pillow`` is the fast default; ``matplotlib`` is the paper's look."""

from __future__ import annotations

from .base import MAX_RESOLUTION, MIN_RESOLUTION, Renderer, check_resolution

RENDERERS = ("pillow", "matplotlib")
RENDERER_EXTRAS = {"matplotlib": "paper-renderer"}  # renderers whose drawing library is an optional extra


def check_renderer(name: str) -> str:
    """``name`` if it is a renderer whose drawing library is installed; a ValueError naming the fix otherwise."""
    from ..extras import require

    if name not in RENDERERS:
        raise ValueError(f"unknown renderer {name!r}; valid renderers: {', '.join(RENDERERS)}")
    if name in RENDERER_EXTRAS:
        require(RENDERER_EXTRAS[name], f"the {name!r} renderer")
    return name


def get_renderer(name: str = "pillow") -> Renderer:
    check_renderer(name)
    if name == "matplotlib":
        from .matplotlib_backend import MatplotlibRenderer

        return MatplotlibRenderer()
    from .pillow_backend import PillowRenderer

    return PillowRenderer()


__all__ = ["MAX_RESOLUTION", "MIN_RESOLUTION", "RENDERERS", "Renderer", "check_renderer", "check_resolution", "get_renderer"]
