"""Script arguments of the synrl recipes, parsed by ``TrlParser`` next to TRL's own configs.

Every knob that decides what the model *sees* (which dataset config, how many frames, how many
pixels per frame, video or frames-as-images) is a field here, so it is set in the recipe YAML and
saved with the checkpoint, never a constant in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import ScriptArguments

from ..frame_budget import DEFAULT_BUDGET, FrameBudget

VIDEO_MODES = ("video", "images")


@dataclass
class SynRLScriptArguments(ScriptArguments):
    """Dataset, frame budget and reward settings (``dataset_name``/``dataset_config``/splits come from TRL).

    ``dataset_name`` is a folder in the Hub layout (parquet shards + README configs, e.g. built by
    ``synrl build``) or a Hub dataset id; ``dataset_config`` is ``sft``, ``grpo`` or ``round2``.
    """

    dataset_cache_dir: str | None = field(
        default=None,
        metadata={"help": "cache_dir for load_dataset (a private cache avoids the stale-cache trap of local folders)."},
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Keep only the first N training rows."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Keep only the first N evaluation rows."})
    messages_column: str = field(default="messages", metadata={"help": "SFT: the conversation column."})
    video_column: str = field(default="video", metadata={"help": "The video column ({bytes, path} dicts)."})

    # Frame budget (synrl_hf.frame_budget): read_frames picks the frames, the processor sees exactly
    # those (do_sample_frames=False). Defaults: DEFAULT_BUDGET; the checkpoint records what was used.
    video_fps: float | None = field(
        default=DEFAULT_BUDGET.fps, metadata={"help": "Frames per second to sample (exclusive with video_num_frames)."}
    )
    video_num_frames: int | None = field(default=None, metadata={"help": "Sample this many frames uniformly instead of a rate."})
    video_max_frames: int | None = field(
        default=DEFAULT_BUDGET.max_frames, metadata={"help": "With video_fps: if the rate gives more frames, sample this many uniformly."}
    )
    video_max_pixels: int | None = field(
        default=DEFAULT_BUDGET.max_pixels, metadata={"help": "Max pixels per frame after resizing (None: the processor's default)."}
    )
    video_min_pixels: int | None = field(
        default=None, metadata={"help": "Min pixels per frame after resizing (None: the processor's default)."}
    )
    video_backend: str = field(default="auto", metadata={"help": "read_frames backend: auto, pyav or decord."})
    video_mode: str = field(
        default="video",
        metadata={
            "help": "'video': frames go to the processor as one video with timestamps (M-RoPE time axis). "
            "'images': frames go as an image list with their timestamps as text (TRL's vLLM rollout path).",
            "choices": list(VIDEO_MODES),
        },
    )
    vision_dedupe: bool = field(
        default=True,
        metadata={
            "help": "GRPO, video_mode 'video': run the vision tower once per distinct video in each forward and share the "
            "features among its num_generations completions (false: once per completion, the slower reference path)."
        },
    )

    # GRPO
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy"],
        metadata={"help": "Reward functions by name (synrl_hf.rewards.REWARD_FUNCS). The paper: accuracy only."},
    )
    interval_threshold: float | None = field(
        default=None, metadata={"help": "Interval answers: pay 1 at IoU >= threshold instead of the IoU itself."}
    )

    def __post_init__(self):
        if self.video_mode not in VIDEO_MODES:
            raise ValueError(f"video_mode must be one of {VIDEO_MODES}, got {self.video_mode!r}")
        if self.video_fps is not None and self.video_num_frames is not None:
            raise ValueError("set video_fps or video_num_frames, not both (use `--video_fps null` to clear one)")
        self.frame_budget()  # any other bad budget fails here, before the model loads
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [name.strip() for name in self.reward_funcs.split(",") if name.strip()]

    def frame_budget(self) -> FrameBudget:
        return FrameBudget(
            fps=self.video_fps,
            num_frames=self.video_num_frames,
            max_frames=self.video_max_frames,
            max_pixels=self.video_max_pixels,
            min_pixels=self.video_min_pixels,
            backend=self.video_backend,
        )
