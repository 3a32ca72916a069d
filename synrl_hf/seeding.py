"""Per-sample seeds.

A sample's seed depends only on (base seed, family, split, index), never on process order, so any
``--num-proc`` and any ``--shard`` slicing give the same samples. The split lives in the top bits,
so the train, validation and test seed ranges are disjoint by construction: no video can appear in
two splits.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")
_SPLIT_BITS = 2
_LOW_BITS = 63 - _SPLIT_BITS  # keeps every seed a non-negative int64


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


def sample_seed(base_seed: int, family: str, split: str, index: int) -> int:
    """The seed of sample ``index`` of ``family`` in ``split``: split id in the top bits, a hash below."""
    check_split(split)
    if index < 0:
        raise ValueError(f"sample index must be >= 0, got {index}")
    digest = hashlib.blake2b(f"{base_seed}/{family}/{index}".encode(), digest_size=8).digest()
    low = int.from_bytes(digest, "little") & ((1 << _LOW_BITS) - 1)
    return (SPLITS.index(split) << _LOW_BITS) | low
