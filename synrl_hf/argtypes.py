"""Value types for the ``synrl`` subcommands' arguments: the first half of the input validation.

Every argument of every subcommand has one of these types (or argparse ``choices``). argparse turns
their errors into exit code 2 with a message naming the argument, the bad value and what is valid,
before the command runs. What one value cannot tell alone (cross-argument limits, the machine's
memory, whether an optional dependency is installed) is checked by the command's validation step
(``BuildSpec`` and :func:`synrl_hf.build.check_build` for builds; each command's own before any
work), never later.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable

__all__ = [
    "choice_list",
    "comma_list",
    "existing_dir",
    "existing_file",
    "existing_path",
    "folder_or_hub_id",
    "folder_to_write",
    "http_url",
    "hub_repo_id",
    "int_range",
    "mixture_sizes",
    "model_ref",
    "name_part",
    "non_negative_int",
    "number_range",
    "output_folder",
    "path_arg",
    "positive_int",
    "preset",
    "ray_address",
    "shard_slice",
    "text_arg",
    "torch_device",
]

HUB_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
_NAME_PART = re.compile(r"^[A-Za-z0-9][\w.@+=-]{0,199}$")


def _fail(message: str):
    raise argparse.ArgumentTypeError(message)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def text_arg(text: str) -> str:
    """Any non-empty text without NUL bytes."""
    if not text.strip():
        _fail(f"must not be empty, got {text!r}")
    if "\0" in text:
        _fail(f"must not contain NUL bytes, got {_shown(text)}")
    return text


def comma_list(text: str) -> list[str]:
    """``a,b,c`` → ``["a", "b", "c"]``; at least one item."""
    items = [item.strip() for item in text_arg(text).split(",") if item.strip()]
    if not items:
        _fail(f"expected a comma-separated list, got {text!r}")
    return items


def choice_list(choices: Iterable[str], what: str = "item") -> Callable[[str], list[str]]:
    """A comma-separated list of ``what``s from ``choices`` (at least one; repeats dropped)."""
    valid = tuple(choices)

    def parse(text: str) -> list[str]:
        items = comma_list(text)
        unknown = [item for item in items if item not in valid]
        if unknown:
            _fail(f"unknown {what} {', '.join(map(repr, unknown))}; valid {what}s: {', '.join(valid)}")
        return list(dict.fromkeys(items))

    parse.__name__ = "choice_list"
    return parse


def int_range(low: int, high: int | None = None, why: str = "") -> Callable[[str], int]:
    """A whole number in ``[low, high]``; ``why`` says where the upper limit comes from."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            _fail(f"expected a whole number, got {_shown(text)}")
        if value < low:
            _fail(f"must be >= {low}, got {value}")
        if high is not None and value > high:
            _fail(f"must be <= {high:,}{f' ({why})' if why else ''}, got {value:,}")
        return value

    parse.__name__ = "int_range"
    return parse


non_negative_int = int_range(0)
positive_int = int_range(1)


def number_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """A finite number in the interval from ``low`` to ``high`` (ends open as asked)."""
    shown = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            _fail(f"expected a number, got {_shown(text)}")
        if not math.isfinite(value):
            _fail(f"must be a finite number in {shown}, got {text.strip()!r}")
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            _fail(f"must be in {shown}, got {value:g}")
        return value

    parse.__name__ = "number_range"
    return parse


def path_arg(text: str) -> str:
    """A path: not empty, not blank, no NUL byte."""
    text = text_arg(text)
    if text != text.strip():
        _fail(f"a path with leading or trailing spaces is almost certainly a mistake: {text!r}")
    return text


def _existing(kind: str, exists: Callable[[str], bool]) -> Callable[[str], str]:
    """A path to an existing ``kind`` (``exists`` tells)."""

    def parse(text: str) -> str:
        path = path_arg(text)
        if not exists(path):
            _fail(
                f"{path!r} is a {'folder' if os.path.isdir(path) else 'file'}, not a {kind}"
                if os.path.exists(path)
                else f"no such {kind}: {path!r}"
            )
        return path

    parse.__name__ = f"existing {kind}"
    return parse


existing_dir = _existing("folder", os.path.isdir)
existing_file = _existing("file", os.path.isfile)
existing_path = _existing("file or folder", os.path.exists)


def folder_to_write(text: str) -> str:
    """An output folder: an existing writable folder, or a new one whose nearest existing parent is writable."""
    from .files import check_writable_folder

    try:
        check_writable_folder(path_arg(text))
    except ValueError as error:
        _fail(str(error))
    return text


def output_folder(text: str) -> str:
    """An output folder (as :func:`folder_to_write`) or an fsspec URL whose store is installed (``s3://bucket/synrl``)."""
    from .storage import is_url, open_folder

    if not is_url(text):
        return folder_to_write(text)
    try:
        open_folder(path_arg(text))
    except ValueError as error:
        _fail(str(error))
    return text


def ray_address(text: str) -> str:
    """``auto`` or ``HOST:PORT`` of a Ray cluster's head."""
    from .executors import ray_address as parse

    try:
        return parse(text_arg(text))
    except ValueError as error:
        _fail(str(error))


def name_part(text: str) -> str:
    """A name used as a folder name under an output folder: letters, digits and ``_.@+=-``, no ``/``."""
    if not _NAME_PART.match(text) or ".." in text:
        _fail(f"must be a plain name (letters, digits, _ . @ + = -, at most 200, no '/' or '..'), got {_shown(text)}")
    return text


def hub_repo_id(text: str) -> str:
    if not HUB_REPO_ID.match(text) or ".." in text:
        _fail(f"must look like 'org/name' (letters, digits, _ . -), got {_shown(text)}")
    return text


def folder_or_hub_id(text: str) -> str:
    """An existing folder, or a Hub repo id ``org/name``."""
    text = path_arg(text)
    if os.path.isdir(text) or (not os.path.exists(text) and HUB_REPO_ID.match(text) and ".." not in text):
        return text
    _fail(f"{text!r} is neither an existing folder nor a Hub dataset id like 'org/name'")


def model_ref(text: str) -> str:
    """A model: ``oracle``, an existing folder, or a Hub id ``org/name``; never a path that does not exist."""
    text = path_arg(text)
    if text == "oracle" or os.path.isdir(text):
        return text
    if os.path.exists(text):
        _fail(f"{text!r} is a file; pass the model's folder")
    if HUB_REPO_ID.match(text) and ".." not in text:
        return text
    _fail(f"{text!r} is neither an existing model folder nor a Hub id like 'org/name' (nor 'oracle')")


def http_url(text: str) -> str:
    """An http(s) URL with a host, e.g. ``http://localhost:8000/v1``."""
    from urllib.parse import urlparse

    text = text_arg(text).strip()
    try:
        parsed = urlparse(text)
        ok = parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:
        ok = False
    if not ok:
        _fail(f"expected an http(s) URL such as http://localhost:8000/v1, got {_shown(text)}")
    return text


def torch_device(text: str) -> str:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    if not re.fullmatch(r"cpu|mps|cuda(?::\d{1,3})?", text):
        _fail(f"expected cpu, cuda, cuda:N or mps, got {_shown(text)}")
    return text


def shard_slice(text: str) -> tuple[int, int]:
    """``i/N``: slice i of N (0 <= i < N)."""
    from .build import parse_shard

    try:
        return parse_shard(text_arg(text))
    except ValueError as error:
        _fail(str(error))


def mixture_sizes(text: str) -> dict[str, int]:
    """``sft=6700,grpo=7000,round2=3000`` (see :func:`synrl_hf.mixtures.parse_mixture_sizes`)."""
    from .mixtures import parse_mixture_sizes

    try:
        return parse_mixture_sizes(text_arg(text))
    except ValueError as error:
        _fail(str(error))


def preset(text: str) -> str:
    """A difficulty preset: round1, round2 or level<k> (a level above a family's ladder fails at the spec)."""
    from .difficulty import level_of

    try:
        level_of(text)
    except ValueError as error:
        _fail(str(error))
    return text
