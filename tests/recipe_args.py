"""Command-line arguments that make the real recipes run in seconds on a CPU: tiny frames, fp32,
no reporting. Tests add their own steps, batch sizes and outputs."""

from __future__ import annotations

CPU_RUN = [
    "--use_cpu",
    "true",
    "--bf16",
    "false",
    "--dtype",
    "float32",
    "--report_to",
    "none",
    "--video_fps",
    "None",
    "--video_num_frames",
    "4",
    "--video_max_pixels",
    str(56 * 56),
]
