"""What the recipe entry points share: loading the policy, the rewards, and recording the run.

Each finished stage writes, next to the weights in ``output_dir``:

- ``synrl_recipe.yaml``: the recipe file the run was launched with, verbatim;
- ``synrl_run.json``: the stage, the command-line overrides, the dataset and frame budget, the
  resolved hyper-parameters, library versions, and the chain of ``stages`` (read from the
  starting checkpoint's own ``synrl_run.json``, so round 2 knows it followed SFT and round 1);
- ``synrl_frame_budget.json`` (:data:`synrl_hf.frame_budget.BUDGET_FILE`): the frame budget alone,
  which ``synrl eval`` and the Space use by default (also written into every ``checkpoint-<step>``).

``synrl push-model`` (:mod:`synrl_hf.hub_model`) builds the model card from these files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RUN_FILE = "synrl_run.json"
RECIPE_FILE = "synrl_recipe.yaml"

__all__ = [
    "RECIPE_FILE",
    "RUN_FILE",
    "config_path_from_argv",
    "load_policy",
    "optimizer_keeps_master_weights",
    "read_run",
    "record_run",
    "reward_funcs",
    "run_recipe",
    "standard_callbacks",
    "weights_dtype",
]

REPO = Path(__file__).resolve().parents[2]


def config_path_from_argv(argv: Sequence[str] | None = None) -> str | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" in argv:
        index = argv.index("--config")
        if index + 1 < len(argv):
            return argv[index + 1]
    return None


def _is_adapter_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "adapter_config.json")) and not os.path.isfile(os.path.join(path, "config.json"))


def optimizer_keeps_master_weights(training_args) -> bool:
    """Whether the launcher's optimizer keeps its own fp32 copy of low-precision weights.

    DeepSpeed does (its bf16/fp16 optimizers and every ZeRO stage step on fp32 master weights), and
    so does FSDP under accelerate (it upcasts trainable low-precision parameters to fp32 before
    sharding). A plain PyTorch optimizer (one GPU, DDP, CPU) updates the weights it is given.
    """
    from accelerate.utils import DistributedType

    if getattr(training_args, "deepspeed", None) or getattr(training_args, "fsdp", None):
        return True
    training_args.device  # noqa: B018 - sets up the distributed state the launcher asked for (cached)
    state = training_args.distributed_state
    return state is not None and state.distributed_type in (DistributedType.DEEPSPEED, DistributedType.FSDP)


def weights_dtype(model_args, training_args) -> Any:
    """The dtype to load the policy in: the recipe's, except fp32 for full fine-tuning without a
    sharded optimizer.

    AdamW on bf16 weights loses every update smaller than bf16's resolution (about 0.4% of the
    weight): at lr 1e-6 almost no weight changes. So a run whose optimizer keeps no fp32 master copy
    (see :func:`optimizer_keeps_master_weights`) loads fp32 weights and computes in bf16 through the
    trainer's autocast (``bf16: true``). LoRA keeps the recipe's dtype: the base is frozen and PEFT
    keeps adapter weights in fp32.
    """
    requested = model_args.dtype or "auto"
    if training_args is None or model_args.use_peft or requested == "float32" or optimizer_keeps_master_weights(training_args):
        return requested
    mixed = "bf16" if training_args.bf16 else "fp16" if training_args.fp16 else None
    logger.warning(
        "full fine-tuning without DeepSpeed/FSDP: loading fp32 master weights instead of dtype %r (an optimizer step on "
        "bf16 weights rounds small updates away); %s",
        requested,
        f"compute runs in {mixed} under autocast" if mixed else "no bf16/fp16 autocast is set, so compute runs in fp32 too",
    )
    return "float32"


def load_policy(model_args, training_args=None, *, padding_side: str | None = None):
    """``(model, processor)`` from ``model_args.model_name_or_path`` (a folder or Hub id).

    A LoRA-adapter folder (e.g. an SFT run with ``use_peft``) is loaded onto its base model and
    merged, so the next stage starts from the fine-tuned weights. Weights load in
    :func:`weights_dtype` (fp32 master weights when no sharded optimizer keeps them).
    """
    from ..modeling import load_model, load_processor

    path = model_args.model_name_or_path
    if not path:
        raise ValueError("the recipe must set model_name_or_path")
    kwargs: dict[str, Any] = {"dtype": weights_dtype(model_args, training_args), "attn_implementation": model_args.attn_implementation}
    if model_args.model_revision not in (None, "main"):
        kwargs["revision"] = model_args.model_revision
    if getattr(model_args, "trust_remote_code", False) or getattr(training_args, "trust_remote_code", False):
        kwargs["trust_remote_code"] = True
    model = load_model(path, **kwargs)  # an adapter folder is loaded onto its base and merged
    processor_source = path
    if (
        os.path.isdir(path)
        and _is_adapter_dir(path)
        and not any(Path(path, name).exists() for name in ("processor_config.json", "preprocessor_config.json"))
    ):
        processor_source = json.loads(Path(path, "adapter_config.json").read_text())["base_model_name_or_path"]
    processor = load_processor(processor_source, padding_side=padding_side)
    if training_args is not None and getattr(training_args, "gradient_checkpointing", False):
        model.config.use_cache = False
    return model, processor


def reward_funcs(script_args) -> list:
    """The recipe's reward functions (``synrl_hf.rewards``), each also logged per answer type and task."""
    from .. import rewards
    from .callbacks import GroupedReward

    funcs = []
    for name in script_args.reward_funcs:
        if name == "accuracy" and script_args.interval_threshold is not None:
            func = rewards.make_accuracy_reward(script_args.interval_threshold)
        else:
            (func,) = rewards.get_reward_funcs([name])
        funcs.append(GroupedReward(func))
    return funcs


def standard_callbacks(script_args) -> list:
    from .callbacks import FrameBudgetCallback, JsonlLogCallback

    return [JsonlLogCallback(), FrameBudgetCallback(script_args.frame_budget())]


def read_run(path: str | os.PathLike) -> dict[str, Any] | None:
    """The ``synrl_run.json`` of a local checkpoint folder, or None."""
    file = Path(path) / RUN_FILE
    if file.is_file():
        return json.loads(file.read_text())
    return None


def _versions() -> dict[str, str]:
    import torch
    import transformers
    import trl

    from ..version import __version__

    versions = {"synrl_hf": __version__, "trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__}
    try:
        import peft

        versions["peft"] = peft.__version__
    except ImportError:  # pragma: no cover
        pass
    return versions


_TRAINING_KEYS = (
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "bf16",
    "gradient_checkpointing",
    "seed",
    "max_length",
    "num_generations",
    "generation_batch_size",
    "steps_per_generation",
    "beta",
    "temperature",
    "top_p",
    "top_k",
    "max_completion_length",
    "loss_type",
    "scale_rewards",
    "epsilon",
    "epsilon_high",
    "entropy_coef",
    "num_iterations",
    "use_vllm",
    "vllm_mode",
)


def _launcher(trainer) -> dict[str, Any]:
    """How the run was distributed: accelerate's distributed type and, under DeepSpeed, the ZeRO stage."""
    plugin = trainer.accelerator.state.deepspeed_plugin
    return {"distributed_type": trainer.accelerator.distributed_type.value, "zero_stage": plugin.zero_stage if plugin is not None else None}


def record_run(trainer, stage: str, script_args, training_args, model_args, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Write ``synrl_run.json``, the frame budget and ``synrl_recipe.yaml`` into ``output_dir`` (main process only)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    config_path = config_path_from_argv(argv)
    init = model_args.model_name_or_path
    parent = read_run(init) if init and os.path.isdir(init) else None
    base_model = (parent or {}).get("base_model", init)
    world = getattr(training_args, "world_size", 1)
    record: dict[str, Any] = {
        "stage": stage,
        "base_model": base_model,
        "init_model": init,
        "dataset": {
            "name": script_args.dataset_name,
            "config": script_args.dataset_config,
            "split": script_args.dataset_train_split,
        },
        "frame_budget": script_args.frame_budget().to_dict(),
        "video_mode": script_args.video_mode,
        "vision_dedupe": script_args.vision_dedupe,
        "peft": (
            {k: getattr(model_args, k) for k in ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules")}
            if model_args.use_peft
            else None
        ),
        "training": {k: getattr(training_args, k) for k in _TRAINING_KEYS if hasattr(training_args, k)},
        "world_size": world,
        "weights_dtype": str(trainer.model.dtype).removeprefix("torch."),
        "launcher": _launcher(trainer),
        "global_step": trainer.state.global_step,
        "recipe_file": config_path,
        "command_line": argv,
        "versions": _versions(),
    }
    if stage == "grpo":
        record["rewards"] = list(script_args.reward_funcs)
        per_step = training_args.per_device_train_batch_size * world * training_args.gradient_accumulation_steps
        record["training"]["completions_per_step"] = per_step
        record["training"]["prompts_per_step"] = per_step // max(1, training_args.num_generations or 1)
    summary = {k: record[k] for k in ("stage", "init_model", "dataset", "global_step")}
    record["stages"] = [*(parent or {}).get("stages", []), summary]
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
        script_args.frame_budget().save(out)
        if config_path and os.path.isfile(config_path):
            shutil.copyfile(config_path, out / RECIPE_FILE)
    return record


def finish(trainer, processor, stage: str, script_args, training_args, model_args) -> None:
    """Save the final weights (or adapter) + processor, record the run, push if the recipe says so."""
    trainer.save_model(training_args.output_dir)  # weights or adapter, and the processor
    record_run(trainer, stage, script_args, training_args, model_args)
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name, tags=["synrl", stage])
    # Leave together and tear the process group down before the interpreter exits: a gloo rank (CPU
    # runs) that exits on its own while a peer still writes sometimes aborts ("terminate called
    # without an active exception", exit code 134) after a finished run.
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()


def run_recipe(name: str, argv: Sequence[str], recipes_dir: str | os.PathLike | None = None) -> None:
    """Run ``recipes/<name>.py`` (``sft`` or ``grpo``) in this process, exactly as its ``__main__`` would.

    For tests and the GPU check: same parser, same ``main``; ``sys.argv`` is set so the run record
    names the command line.
    """
    import importlib.util

    from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

    from .configs import SynRLScriptArguments

    if name not in ("sft", "grpo"):
        raise ValueError(f"unknown recipe {name!r}; valid: sft, grpo")
    path = Path(recipes_dir or REPO / "recipes") / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"synrl_recipe_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if name == "sft":
        arguments = (SynRLScriptArguments, SFTConfig, ModelConfig)
    else:
        from ..online.grpo import OnlineArguments

        arguments = (SynRLScriptArguments, GRPOConfig, ModelConfig, OnlineArguments)
    parsed = TrlParser(arguments).parse_args_and_config(list(argv))
    import torch

    # Some libraries switch autograd off process-wide at import (lighteval's transformers model does).
    torch.set_grad_enabled(True)
    saved = sys.argv
    sys.argv = [str(path), *argv]
    try:
        module.main(*parsed)
    finally:
        sys.argv = saved
