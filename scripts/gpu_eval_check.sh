#!/usr/bin/env bash
# Throughput of the evaluation video model on a lent GPU: frames/s and samples/s for a 16/32/64-frame
# budget (synrl_hf/evaluation/common/throughput.py: read_frames -> chat template -> processor with frame
# metadata -> greedy generate, exactly the per-question path of `synrl eval`).
#
#   scripts/gpu_eval_check.sh [--model /local/Qwen3-VL-4B-Instruct] [--record BENCHMARKS.md] [extra throughput args]
#   scripts/gpu_eval_check.sh --cpu-smoke      # tiny random model, tiny clips, on CPU (run by the tests)
#
# The GPU machines are offline: pass a model folder that is already there, or the script builds a
# tiny random Qwen3-VL (then the numbers only measure decoding + processor + pipeline overhead).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false

if [[ "${1:-}" == "--cpu-smoke" ]]; then
  shift
  exec "$PYTHON" -m synrl_hf.evaluation.common.throughput --device cpu --frames 4,8 --samples 2 --seconds 1 \
    --resolution 64 --max-new-tokens 2 "$@"
fi

if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_eval_check: no CUDA device visible; use --cpu-smoke for the CPU check" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__)"
exec "$PYTHON" -m synrl_hf.evaluation.common.throughput --device cuda --dtype bfloat16 --frames 16,32,64 --samples 16 \
  --seconds 20 --resolution 448 --max-pixels 200704 --max-new-tokens 16 "$@"
