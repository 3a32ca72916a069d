"""synrl-hf: synthetic videos with ground truth by construction, for video VLM temporal reasoning."""

from .families import CATEGORIES, FAMILIES, families_in, get_family
from .sample import build_scene, generate_sample, iter_samples
from .version import GENERATOR_VERSION, __version__
from .video import read_frames

__all__ = [
    "CATEGORIES",
    "FAMILIES",
    "GENERATOR_VERSION",
    "__version__",
    "build_scene",
    "families_in",
    "generate_sample",
    "get_family",
    "iter_samples",
    "read_frames",
]
