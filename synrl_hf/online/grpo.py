"""Online GRPO: what ``recipes/grpo.py`` adds when a recipe sets ``online: true``.

:class:`OnlineArguments` are the recipe keys. :class:`OnlineRun` ties the pieces to one TRL run:

- the stream (:mod:`synrl_hf.online.stream`), one block per GRPO generation (the generation batch's
  unique prompts), sliced across ranks the way TRL slices it (:class:`~synrl_hf.online.stream.GroupSlice`);
- the controller (:class:`~synrl_hf.online.curriculum.Curriculum`), fed by wrapping the accuracy
  reward: on every generation each rank's scored completions are gathered from all ranks
  (``torch.distributed.all_gather_object`` when a process group is up), so every rank makes the
  same level moves and records the same stream position;
- a callback that writes the stream position and the controller's state into every checkpoint
  (:data:`STATE_FILE`), and the curriculum plot (:data:`PLOT_FILE`) at the end; the controller's
  per-step record goes to :data:`LOG_FILE` and to the trainer's logs (``curriculum/…``).

A run resumed from a checkpoint (``resume_from_checkpoint``) reloads that state, so it renders the
samples, at the levels, that the uninterrupted run would have rendered.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from ..difficulty import top_level
from ..families import get_family
from ..frame_budget import FrameBudget
from .curriculum import DEFAULT_BAND, DEFAULT_MIN_GROUPS, Curriculum, Outcome, check_band
from .stream import STREAM_COLUMN, GroupSlice, OnlineStream, StreamSpec

logger = logging.getLogger(__name__)

STATE_FILE = "synrl_online_state.json"
LOG_FILE = "synrl_online_log.jsonl"
PLOT_FILE = "synrl_curriculum.png"
CURRICULUM_REWARD = "accuracy"  # the reward whose pass rate the controller steers


@dataclass
class OnlineArguments:
    """Recipe keys of online GRPO (``synrl_hf.online``): samples generated while training, never repeated."""

    online: bool = field(default=False, metadata={"help": "Train on an endless generated stream instead of dataset_name."})
    online_configs: list[str] = field(
        default_factory=lambda: ["all"], metadata={"help": "Families of the stream: all, short_term, long_term or family ids."}
    )
    online_weights: list[float] | None = field(default=None, metadata={"help": "Sampling weight per family (default: equal)."})
    online_seed: int = field(default=0, metadata={"help": "Base seed of the stream's samples."})
    online_start_level: int = field(default=0, metadata={"help": "Starting ladder level of every family (0 = round1, 1 = round2)."})
    online_adaptive: bool = field(default=True, metadata={"help": "Move levels to keep pass rates in the band (false: fixed levels)."})
    online_band: list[float] = field(
        default_factory=lambda: list(DEFAULT_BAND), metadata={"help": "Target pass-rate band [low, high] of each family's groups."}
    )
    online_min_groups: int = field(
        default=DEFAULT_MIN_GROUPS, metadata={"help": "Groups at a family's current level between two level decisions."}
    )
    online_lag: int = field(default=1, metadata={"help": "Generations the stream may render ahead of the controller."})
    online_resolution: int = field(default=448, metadata={"help": "Square side of the rendered frames (before the processor resizes)."})
    online_renderer: str = field(default="pillow", metadata={"help": "pillow or matplotlib."})
    online_codec: bool = field(
        default=False,
        metadata={"help": "Pass the frames through H.264: exactly what a built dataset decodes to, at the cost of building the clip."},
    )

    def __post_init__(self):
        check_band(self.online_band)
        items = [self.online_configs] if isinstance(self.online_configs, str) else list(self.online_configs)
        self.online_configs = [name.strip() for item in items for name in item.split(",") if name.strip()]


def gather(values: list) -> list:
    """``values`` of every rank, concatenated in rank order (this rank's alone without a process group)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(values)
    everyone: list = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, values)
    return [value for part in everyone for value in part]


class OnlineRun:
    """The stream, the controller and the stream position of one online GRPO run (see the module docstring)."""

    def __init__(self, args: OnlineArguments, budget: FrameBudget, training_args):
        self.output_dir = Path(training_args.output_dir)
        self.is_main = training_args.process_index == 0
        num_generations = training_args.num_generations
        self.spec = StreamSpec.from_configs(
            args.online_configs,
            weights=tuple(args.online_weights or ()),
            seed=args.online_seed,
            budget=budget,
            resolution=args.online_resolution,
            renderer=args.online_renderer,
            codec=args.online_codec,
            block_size=training_args.generation_batch_size // num_generations,
            lag=args.online_lag,
        )
        self.curriculum = Curriculum(
            {family: top_level(get_family(family)) for family in self.spec.families},
            args.online_start_level,
            band=args.online_band,
            min_groups=args.online_min_groups,
            adaptive=args.online_adaptive,
        )
        self.next_block = 0  # the first block no generation has consumed yet
        self.group_slice = GroupSlice(
            training_args.process_index,
            training_args.world_size,
            training_args.per_device_train_batch_size * training_args.steps_per_generation,
            num_generations,
        )
        checkpoint = _resume_folder(training_args)
        if checkpoint is not None:
            self.load(checkpoint)
        elif self.is_main:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / LOG_FILE).write_text("")

    # -- what the trainer gets ---------------------------------------------------------------------
    def dataset(self):
        stream = OnlineStream(self.spec, self.curriculum.history, {0: self.next_block}, self.group_slice)
        return stream.dataset()

    def wrap_rewards(self, funcs: list, names: list[str]) -> list:
        """``funcs`` with the accuracy reward (named ``accuracy`` in ``names``) also feeding the controller."""
        if CURRICULUM_REWARD not in names:
            raise ValueError(f"online GRPO steers by the {CURRICULUM_REWARD!r} reward; add it to reward_funcs (got {names})")
        return [CurriculumReward(func, self) if name == CURRICULUM_REWARD else func for func, name in zip(funcs, names)]

    def callback(self) -> TrainerCallback:
        return OnlineCallback(self)

    @staticmethod
    def prepare(training_args) -> None:
        """Settings an online run needs, set or checked before the trainer is built."""
        if training_args.max_steps is None or training_args.max_steps <= 0:
            raise ValueError("an online stream never ends: set max_steps")
        if training_args.eval_strategy not in ("no", None):  # IntervalStrategy is a str enum
            raise ValueError("online GRPO has no eval split (the controller would learn from it): set eval_strategy: 'no'")
        generate_every = training_args.steps_per_generation * training_args.num_iterations
        if (
            training_args.save_strategy == "steps"
            and (training_args.save_steps * training_args.gradient_accumulation_steps) % generate_every
        ):
            raise ValueError(
                f"save_steps {training_args.save_steps} must end on a generation (every {generate_every} micro-steps), "
                "so a resumed run starts at the block the saved position names"
            )
        # The stream restarts at the saved position itself; skipping batches would throw fresh samples away.
        training_args.ignore_data_skip = True
        # Samples are random already; TRL's shuffle buffer would render 1000 samples before the first step.
        training_args.shuffle_dataset = False

    # -- what the controller sees ------------------------------------------------------------------
    def observe(self, rows: list[dict[str, Any]], rewards: list[float | None], step: int, log_metric=None) -> dict[str, Any]:
        """One generation's completions of this rank: gather every rank's, update the controller and the position."""
        local = [
            (row["id"], row["task"], int(row["level"]), row[STREAM_COLUMN]["block"], float(reward))
            for row, reward in zip(rows, rewards)
            if reward is not None
        ]
        everything = gather(local)
        self.next_block = max([self.next_block, *(block + 1 for *_, block, _ in everything)])
        record = self.curriculum.update(Outcome(i, f, lv, r) for i, f, lv, _, r in everything)
        record["step"] = step
        record["samples"] = sorted({(i, lv) for i, _, lv, _, _ in everything})
        if callable(log_metric):
            for family, level in record["levels"].items():
                log_metric(f"curriculum/level/{family}", float(level))
            for family, rate in record["pass_rate"].items():
                log_metric(f"curriculum/pass_rate/{family}", rate)
            groups = sum(record["groups"].values())
            log_metric("curriculum/frac_zero_std_groups", sum(record["zero_std_groups"].values()) / max(groups, 1))
        if self.is_main:
            with open(self.output_dir / LOG_FILE, "a") as handle:
                handle.write(json.dumps(record) + "\n")
        return record

    # -- checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "next_block": self.next_block, "curriculum": self.curriculum.state_dict()}

    def save(self, folder: str | os.PathLike) -> Path:
        path = Path(folder) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state_dict(), indent=1) + "\n")
        os.replace(temporary, path)
        return path

    def load(self, folder: str | os.PathLike) -> None:
        path = Path(folder) / STATE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{folder} has no {STATE_FILE}: it was not saved by an online run, so its stream cannot resume")
        state = json.loads(path.read_text())
        saved = StreamSpec.from_dict(state["spec"])
        if saved != self.spec:
            changed = sorted(k for k, v in saved.to_dict().items() if self.spec.to_dict()[k] != v)
            raise ValueError(f"{path} was saved by a stream with other settings ({', '.join(changed)}); resume with the same recipe")
        self.next_block = int(state["next_block"])
        self.curriculum.load_state_dict(state["curriculum"])
        if self.is_main:
            # The log continues from the checkpoint: drop what an interrupted run logged after it.
            log = self.output_dir / LOG_FILE
            lines = log.read_text().splitlines() if log.is_file() else []
            kept = [line for line in lines if json.loads(line)["update"] <= self.curriculum.updates]
            log.write_text("".join(line + "\n" for line in kept))


class CurriculumReward:
    """The accuracy reward, unchanged, that also reports each generation's rewards to :class:`OnlineRun`."""

    def __init__(self, func, run: OnlineRun):
        self.func = func
        self.run = run
        self.__name__ = func.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> list:
        rewards = self.func(*args, **kwargs)
        count = len(rewards)
        rows = [{name: kwargs[name][i] for name in ("id", "task", "level", STREAM_COLUMN)} for i in range(count)]
        state = kwargs.get("trainer_state")
        self.run.observe(rows, rewards, state.global_step if state is not None else -1, kwargs.get("log_metric"))
        return rewards


class OnlineCallback(TrainerCallback):
    """Saves the online state with every checkpoint and at the end; plots the curriculum at the end."""

    def __init__(self, run: OnlineRun):
        self.run = run

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.run.save(os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"))

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.run.save(args.output_dir)
        try:
            from .plot import plot_curriculum

            plot_curriculum(Path(args.output_dir) / LOG_FILE, Path(args.output_dir) / PLOT_FILE, band=self.run.curriculum.band)
        except ImportError as error:  # the plot is a convenience: the log holds the same numbers
            logger.warning("no curriculum plot (%s); the numbers are in %s", error, LOG_FILE)


def _resume_folder(training_args) -> str | None:
    resume = training_args.resume_from_checkpoint
    if resume in (None, False, "", "False", "false"):
        return None
    if resume in (True, "True", "true"):
        folder = get_last_checkpoint(training_args.output_dir)
        if folder is None:
            raise FileNotFoundError(f"resume_from_checkpoint is true but {training_args.output_dir} has no checkpoint")
        return folder
    return str(resume)
