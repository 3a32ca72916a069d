"""scripts/gpu_check.sh end to end on CPU (--cpu-smoke): the code path the lent GPU runs, with the
three shipped full-size configs shrunk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from synrl_hf.training.gpu_check import MODELS

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_cpu_smoke(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_check.sh"), "--cpu-smoke", "--out", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "cpu-smoke" and not report.get("failed")
    assert set(report["results"]) == set(MODELS)
    for name, stages in report["results"].items():
        generate = stages["generate"]
        # The recipe's shapes, shrunk: 2 sequences per call, the forced completion length, a real video prompt.
        assert generate["sequences"] == 2 and generate["new_tokens"] == 2 * 8, name
        assert generate["video_tokens_per_sample"] > 0 and generate["tokens_per_second"] > 0
        for stage in ("grpo_lora", "sft_lora"):
            assert stages[stage]["seconds_per_step"] > 0 and stages[stage]["tokens_per_second"] > 0, (name, stage)
            assert stages[stage]["loss"] is not None
        assert all(stages[s]["planned_gib"] > 0 for s in ("generate", "grpo_lora", "sft_lora"))
    assert not any((tmp_path / "work").glob("model_*"))  # the random checkpoints are removed after each model
