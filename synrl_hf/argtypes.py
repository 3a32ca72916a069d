"""Value types for the ``synrl`` subcommands' arguments: argparse turns their errors into exit code 2
with a message naming the bad value, before any work starts."""

from __future__ import annotations

import argparse

__all__ = ["comma_list", "mixture_sizes", "non_negative_int", "positive_int"]


def comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def mixture_sizes(text: str) -> dict[str, int]:
    """``sft=6700,grpo=7000,round2=3000`` (see :func:`synrl_hf.mixtures.parse_mixture_sizes`)."""
    from .mixtures import parse_mixture_sizes

    try:
        return parse_mixture_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
