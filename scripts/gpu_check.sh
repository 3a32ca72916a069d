#!/usr/bin/env bash
# A short, prepared check of SynRL training on ONE lent GPU (H100/H200) with no network:
# random Qwen2.5-VL and Qwen3-VL models (8 text layers, hidden 1024) at realistic sequence lengths
# (448 px clips, 32 frames -> ~4K video tokens on Qwen2.5-VL), 3 bf16 SFT steps then 3 GRPO steps with video,
# through the real entry points recipes/sft.py and recipes/grpo.py. Writes seconds/step, tokens/s,
# peak memory and any error per stage to $OUT/gpu_check.json (or --out FILE) after every stage.
#
#   scripts/gpu_check.sh                    # on the GPU machine (~3-5 min including data and model build)
#   scripts/gpu_check.sh --cpu-smoke        # same code path on CPU, tiny everything (the tests run this)
#   scripts/gpu_check.sh --family qwen3_vl --frames 64 --steps 2
#
# Needs: torch (CUDA build), torchvision, transformers, trl==1.16.0, peft, accelerate, datasets, av.
# Nothing is downloaded: models are built offline from random weights, data is generated here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" -m synrl_hf.training.gpu_check "$@"
