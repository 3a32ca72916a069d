"""Versions. ``GENERATOR_VERSION`` changes whenever the same seed would give a different sample."""

__version__ = "0.1.0"
GENERATOR_VERSION = "1"
