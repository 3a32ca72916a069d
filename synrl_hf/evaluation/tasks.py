"""``TASKS_TABLE`` for lighteval's ``--custom-tasks synrl_hf/evaluation/tasks.py`` (and ``Registry``).

Tasks are built for the converted benchmarks found under ``$SYNRL_EVAL_DATA`` (default
``./eval_data``), with ``$SYNRL_EVAL_VIDEOS`` overriding each conversion's videos root.
Benchmarks not converted yet are left out.

Note: lighteval's own CLI also imports its built-in tasks, one of which downloads a file at
import time, so offline use goes through ``synrl eval`` (``synrl_hf.evaluation.pipeline``), which
runs the same ``Pipeline`` with only these tasks registered.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # loaded by file path (lighteval --custom-tasks): make the package importable
    # The folder holding synrl_hf/ (a checkout's root, or site-packages), never synrl_hf/ itself: its
    # subpackages must not become top-level modules.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from synrl_hf.evaluation.benchmarks import NAMES, get_benchmark
    from synrl_hf.evaluation.common.tasks import local_folder, task_config
else:
    from .benchmarks import NAMES, get_benchmark
    from .common.tasks import local_folder, task_config

DATA_DIR = os.environ.get("SYNRL_EVAL_DATA", "eval_data")
VIDEOS_ROOT = os.environ.get("SYNRL_EVAL_VIDEOS") or None

TASKS_TABLE = []
for _name in NAMES:
    if (local_folder(DATA_DIR, _name) / "conversion.json").is_file():
        TASKS_TABLE.append(task_config(get_benchmark(_name), DATA_DIR, VIDEOS_ROOT))
    else:
        logging.getLogger(__name__).info("%s is not converted under %s; not registered", _name, DATA_DIR)
