"""lighteval tasks for the SynRL paper's 15 video benchmarks plus our held-out synthetic bench.

- ``synrl_hf.evaluation.benchmarks``: one module per benchmark (converter, prompt, parser, metrics, fixture).
- ``synrl_hf.evaluation.common``: shared parsing, metrics, converters, the video model and the pipeline.
- ``synrl_hf.evaluation.tasks``: ``TASKS_TABLE`` for lighteval's ``--custom-tasks``.

Run with ``synrl eval`` (``python -m synrl_hf.eval_cli``); see synrl_hf/evaluation/README.md.
"""
