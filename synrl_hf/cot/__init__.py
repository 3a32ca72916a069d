"""Chain-of-thought augmentation (the paper's §2.2).

- :mod:`.templates` — template CoT written from the metadata (offline, deterministic, the default);
- :mod:`.verify` — the rule-based verifier both template and model CoT must pass;
- :mod:`.pipeline` — model CoT in four stages (generate → verify → reflect → polish), concurrent,
  resumable from a JSONL checkpoint, with statistics;
- :mod:`.backends` — an OpenAI-compatible HTTP client (vLLM, TGI, hosted APIs) and a local
  transformers Qwen-VL.
"""

from .backends import OpenAIBackend, TransformersBackend, make_backend
from .pipeline import PipelineConfig, run_pipeline
from .templates import completion, scene_for_row, template_completion, template_cot
from .verify import Verification, frame_interval, verify

__all__ = [
    "OpenAIBackend",
    "PipelineConfig",
    "TransformersBackend",
    "Verification",
    "completion",
    "frame_interval",
    "make_backend",
    "run_pipeline",
    "scene_for_row",
    "template_completion",
    "template_cot",
    "verify",
]
