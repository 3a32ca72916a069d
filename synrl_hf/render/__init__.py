"""Renderers: timeline → RGB frames. ``pillow`` is the fast default; ``matplotlib`` is the paper's look."""

from __future__ import annotations

from .base import MIN_RESOLUTION, Renderer, check_resolution

RENDERERS = ("pillow", "matplotlib")


def get_renderer(name: str = "pillow") -> Renderer:
    if name == "pillow":
        from .pillow_backend import PillowRenderer

        return PillowRenderer()
    if name == "matplotlib":
        from .matplotlib_backend import MatplotlibRenderer

        return MatplotlibRenderer()
    raise ValueError(f"unknown renderer {name!r}; valid renderers: {', '.join(RENDERERS)}")


__all__ = ["MIN_RESOLUTION", "RENDERERS", "Renderer", "check_resolution", "get_renderer"]
