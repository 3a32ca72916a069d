"""A ``VideoGRPOTrainer`` on a tiny offline model and a synrl ``grpo`` config, for the trainer tests."""

from __future__ import annotations

import random

from trl import GRPOConfig

from synrl_hf.frame_budget import FrameBudget
from synrl_hf.modeling import load_model_and_processor
from synrl_hf.training.data import load_split
from synrl_hf.training.grpo_trainer import VideoGRPOTrainer

BUDGET = FrameBudget(fps=None, num_frames=4, max_pixels=56 * 56)


def random_reward(completions, **kwargs):
    return [random.random() for _ in completions]


def make_trainer(model_dir, dataset, tmp_path, video_mode="video", trainer_kwargs=None, **overrides) -> VideoGRPOTrainer:
    """One step of 4 completions (2 per prompt) on CPU unless ``overrides`` (GRPOConfig fields) say otherwise."""
    model, processor = load_model_and_processor(model_dir, processor_kwargs={"padding_side": "left"})
    settings = dict(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        report_to="none",
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=8,
        learning_rate=1e-2,
        logging_steps=1,
        save_strategy="no",
        gradient_checkpointing=False,
        beta=0.0,
    )
    settings.update(overrides)
    return VideoGRPOTrainer(
        model=model,
        reward_funcs=[random_reward],
        args=GRPOConfig(**settings),
        train_dataset=load_split(str(dataset), "grpo", "train", cache_dir=str(tmp_path / "c")),
        processing_class=processor,
        frame_budget=BUDGET,
        video_mode=video_mode,
        **(trainer_kwargs or {}),
    )
