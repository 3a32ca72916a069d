"""Shared by the Space's tests: its app.py loaded as a module, and a free port on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

SPACE = Path(__file__).resolve().parents[1] / "spaces" / "synrl-reasoning"


def load_app():
    """The Space's app.py as a module (once per process; it puts its own folder on sys.path)."""
    if "synrl_space_app" not in sys.modules:
        spec = importlib.util.spec_from_file_location("synrl_space_app", SPACE / "app.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["synrl_space_app"] = module
        spec.loader.exec_module(module)
    return sys.modules["synrl_space_app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
