"""Rows compared by content (frames included): what equal rows share whatever process or transport
made them."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import numpy as np

from synrl_hf.frame_budget import FrameBudget
from synrl_hf.online import FixedLevels, OnlineStream, StreamSpec


def content(value):
    """``value`` as plain nested tuples that equal exactly when the contents do (pixels included); not
    pickle's bytes, which also record which equal strings are one object, and Ray's transport does not
    keep that."""
    if isinstance(value, dict):
        return tuple((key, content(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *map(content, value))
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest())
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, *(content(getattr(value, f.name)) for f in dataclasses.fields(value)))
    return repr(value)


def stream_digests(source) -> list[str]:
    """A digest of the content of each of the first 8 rows (frames included) of a small online stream read through ``source``."""
    spec = StreamSpec(("direction", "card_stack"), block_size=4, budget=FrameBudget(num_frames=4), resolution=64)
    stream = OnlineStream(spec, FixedLevels(dict.fromkeys(spec.families, 1)), source=source)
    return [hashlib.sha256(repr(content(row)).encode()).hexdigest() for row in itertools.islice(stream.rows(0), 8)]
