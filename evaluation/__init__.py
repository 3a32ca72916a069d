"""lighteval tasks for the SynRL paper's 15 video benchmarks plus our held-out synthetic bench.

- ``evaluation.benchmarks``: one module per benchmark (converter, prompt, parser, metrics, fixture).
- ``evaluation.common``: shared parsing, metrics, converters, the video model and the pipeline.
- ``evaluation.tasks``: ``TASKS_TABLE`` for lighteval's ``--custom-tasks``.

Run with ``synrl eval`` (``python -m synrl_hf.eval_cli``); see evaluation/README.md.
"""
