"""``synrl push-model``: upload a finished training run to the Hub as a model repo.

What goes up, in one commit: the weights (full model, or the LoRA adapter when the run used
``use_peft``), the processor (tokenizer, chat template, image/video processor configs), the
generation config, the recipe the run was launched with (``synrl_recipe.yaml``), the run record
(``synrl_run.json``: stage chain, dataset, frame budget, hyper-parameters, versions), the frame
budget on its own (``synrl_frame_budget.json``, read by ``synrl eval`` and the Space), the training
log (``synrl_logs.jsonl``), evaluation results when given, and a model card (``README.md``) with
the base model, datasets, training stages and those results. Intermediate ``checkpoint-*``
folders, optimizer states and pickled training arguments stay local.

The checkpoint is checked before anything is sent; a failure names what failed, never the token.

Wiring (the ``synrl`` CLI): ``add_push_model_parser(subparsers)`` adds the subcommand and sets
``run=run_push_model``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from .argtypes import HUB_REPO_ID, existing_dir, existing_file, hub_repo_id, text_arg
from .files import read_json
from .frame_budget import BUDGET_FILE, recorded_budget
from .redaction import redact

__all__ = ["add_push_model_parser", "check_checkpoint", "model_card", "push_model", "read_results", "run_push_model"]

WEIGHTS = ("model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json", "pytorch_model*.bin")
ADAPTER = ("adapter_model.safetensors", "adapter_model.bin", "adapter_config.json")
PROCESSOR = (
    "processor_config.json",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
)
MODEL_FILES = ("config.json", "generation_config.json")
RUN_FILES = ("synrl_run.json", BUDGET_FILE, "synrl_recipe.yaml", "synrl_logs.jsonl", "synrl_eval.json")
RESULTS_FILE = "synrl_eval.json"

_STAGE_NAMES = {"sft": "SFT (stage 1: CoT + general video QA)", "grpo": "GRPO (stage 2: accuracy reward)"}


def _matches(name: str, patterns) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def check_checkpoint(folder: str | Path) -> dict[str, Any]:
    """What the folder holds: ``{"kind": "model"|"adapter", "files": [...], "run": {...}|None, "budget": FrameBudget|None}``;
    raises if unusable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is not a directory: pass the output_dir of a finished run")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    has_adapter = "adapter_config.json" in names and any(n.startswith("adapter_model.") for n in names)
    has_model = "config.json" in names and any(_matches(n, WEIGHTS) for n in names)
    if not (has_adapter or has_model):
        raise ValueError(
            f"{str(folder)!r} holds no weights (config.json + model*.safetensors) and no LoRA adapter "
            "(adapter_config.json + adapter_model.*): is the run finished?"
        )
    if not any(n in names for n in ("processor_config.json", "preprocessor_config.json")) or "tokenizer_config.json" not in names:
        raise ValueError(f"{str(folder)!r} has no processor (processor/tokenizer configs): save it with processor.save_pretrained")
    kind = "model" if has_model else "adapter"
    allowed = (WEIGHTS + MODEL_FILES if kind == "model" else ADAPTER) + PROCESSOR + RUN_FILES
    files = [n for n in names if _matches(n, allowed)]
    run = read_json(folder / "synrl_run.json", "run record") if "synrl_run.json" in names else None
    if run is not None and not isinstance(run, dict):
        raise ValueError(f"run record {str(folder / 'synrl_run.json')!r} is not a JSON object")
    return {"kind": kind, "files": files, "run": run, "budget": recorded_budget(folder)}


def read_results(results: str | Path | dict | None, folder: str | Path | None = None) -> dict[str, dict[str, float]] | None:
    """Evaluation results as ``{benchmark: {metric: value}}``.

    Accepts a dict, a JSON file of that shape, or lighteval's results JSON (``{"results": {task:
    {metric: value}}}``). Without ``results``, the checkpoint's own ``synrl_eval.json`` if any.
    """
    if results is None and folder is not None and (Path(folder) / RESULTS_FILE).is_file():
        results = Path(folder) / RESULTS_FILE
    if results is None:
        return None
    where = "the results"
    if not isinstance(results, dict):
        where = f"results file {str(results)!r}"
        results = read_json(results, "results file")
        if not isinstance(results, dict):
            raise ValueError(
                f"{where} must hold a JSON object ({{benchmark: {{metric: value}}}} or lighteval's results), not a {type(results).__name__}"
            )
    if "results" in results and isinstance(results["results"], dict):
        results = results["results"]
    table: dict[str, dict[str, float]] = {}
    for benchmark, metrics in results.items():
        if not isinstance(metrics, dict):
            raise ValueError(f"{where}: the results for {benchmark!r} must map metric names to numbers")
        numeric = {m: float(v) for m, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if numeric:
            table[str(benchmark)] = numeric
    return table


def _is_hub_id(name: Any) -> bool:
    return isinstance(name, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None and not Path(name).exists()


def model_card(repo_id: str, check: dict[str, Any], results: dict[str, dict[str, float]] | None = None) -> str:
    """The README.md: YAML metadata (base_model, datasets, tags) and the training story."""
    from huggingface_hub import ModelCard, ModelCardData

    run = check.get("run") or {}
    base_model = run.get("base_model")
    datasets = sorted({s["dataset"]["name"] for s in run.get("stages", []) if s.get("dataset", {}).get("name")})
    hub_datasets = [d for d in datasets if _is_hub_id(d)]
    tags = ["synrl", "video", "temporal-reasoning", "trl"] + sorted({s["stage"] for s in run.get("stages", []) if s.get("stage")})
    if check["kind"] == "adapter":
        tags += ["lora", "peft"]
    data = ModelCardData(
        base_model=base_model if _is_hub_id(base_model) else None,
        datasets=hub_datasets or None,
        library_name="peft" if check["kind"] == "adapter" else "transformers",
        pipeline_tag="image-text-to-text",
        tags=tags,
    )
    lines = [f"# {repo_id.split('/')[-1]}", ""]
    lines.append(
        f"{base_model or 'A Qwen-VL model'} post-trained with [synrl-hf](https://github.com/synrl-hf/synrl-hf) "
        "for video temporal reasoning, following SynRL: SFT on synthetic chain-of-thought videos, then GRPO "
        "with a verifiable accuracy reward on synthetic videos whose answers are correct by construction."
    )
    lines += ["", "## Training", ""]
    lines.append(f"- Base model: `{base_model}`" if base_model else "- Base model: unknown (no synrl_run.json)")
    lines.append(f"- Weights: {'LoRA adapter (load it onto the base model with peft)' if check['kind'] == 'adapter' else 'full model'}")
    if datasets:
        lines.append("- Datasets: " + ", ".join(f"`{d}`" for d in datasets))
    stages = run.get("stages", [])
    if stages:
        lines += ["", "| # | stage | dataset config | started from | steps |", "|---|---|---|---|---|"]
        for i, stage in enumerate(stages, 1):
            ds = stage.get("dataset", {})
            name = _STAGE_NAMES.get(stage.get("stage"), stage.get("stage"))
            lines.append(
                f"| {i} | {name} | `{ds.get('name')}` / `{ds.get('config')}` | `{stage.get('init_model')}` | {stage.get('global_step')} |"
            )
    budget = check.get("budget")
    if budget is not None:
        lines += [
            "",
            f"Frames seen in training ({run.get('video_mode', 'video')} mode): {budget.describe()}, recorded in "
            f"`{BUDGET_FILE}`. Evaluate with the same budget: it is part of the result (`synrl eval` and the Space use it by default).",
        ]
    if run:
        training = run.get("training", {})
        keys = [
            k
            for k in (
                "learning_rate",
                "num_generations",
                "temperature",
                "beta",
                "loss_type",
                "completions_per_step",
                "prompts_per_step",
                "per_device_train_batch_size",
                "gradient_accumulation_steps",
                "max_completion_length",
                "num_train_epochs",
                "max_steps",
            )
            if k in training
        ]
        if keys:
            lines += ["", f"Last stage ({run.get('stage')}) hyper-parameters, world size {run.get('world_size')}:", ""]
            lines += [f"- `{k}`: {training[k]}" for k in keys]
        if run.get("rewards"):
            lines.append(f"- rewards: {', '.join(run['rewards'])}")
        lines += [
            "",
            "The recipe is in `synrl_recipe.yaml`, the full run record in `synrl_run.json`, the training log in `synrl_logs.jsonl`.",
        ]
        versions = run.get("versions", {})
        if versions:
            lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))]
    lines += ["", "## Evaluation", ""]
    if results:
        metrics = sorted({m for values in results.values() for m in values})
        lines += ["| benchmark | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
        for benchmark, values in sorted(results.items()):
            lines.append(f"| {benchmark} | " + " | ".join(f"{values[m]:.4g}" if m in values else "" for m in metrics) + " |")
    else:
        lines.append("Not evaluated yet.")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from synrl_hf.frame_budget import choose_budget, recorded_budget",
        "from synrl_hf.modeling import chat_inputs, load_model_and_processor, vision_pad_token_ids",
        "",
        f"model, processor = load_model_and_processor({repo_id!r}, dtype='bfloat16')",
        f"budget = choose_budget(recorded_budget({repo_id!r})).budget  # the frames the model was trained on",
        "frames = budget.read('clip.mp4')",
        "messages = [{'role': 'user', 'content': [{'type': 'video'}, {'type': 'text', 'text': 'How many times does the ball hit a wall?'}]}]",
        "inputs = chat_inputs(processor, messages, [frames], max_pixels=budget.max_pixels, min_pixels=budget.min_pixels)",
        "out = model.generate(**inputs, max_new_tokens=1024, suppress_tokens=vision_pad_token_ids(processor))",
        "print(processor.batch_decode(out[:, inputs['input_ids'].shape[1]:], skip_special_tokens=True)[0])",
        "```",
        "",
    ]
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines))
    return str(card)


def push_model(
    checkpoint: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    revision: str | None = None,
    results: str | Path | dict | None = None,
    commit_message: str | None = None,
    create_pr: bool = False,
) -> str:
    """Upload the finished run in ``checkpoint`` to the model repo ``repo_id``; returns the commit URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    folder = Path(checkpoint)
    check = check_checkpoint(folder)
    if not HUB_REPO_ID.match(repo_id):
        raise ValueError(f"repo id {repo_id!r} must look like 'org/name'")
    table = read_results(results, folder)
    card = model_card(repo_id, check, table).encode()
    operations = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in check["files"] if name != RESULTS_FILE
    ]
    if table:
        operations.append(CommitOperationAdd(path_in_repo=RESULTS_FILE, path_or_fileobj=json.dumps(table, indent=2).encode()))
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card))
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.create_commit(
            repo_id,
            operations,
            repo_type="model",
            revision=revision,
            create_pr=create_pr,
            commit_message=commit_message or f"synrl push-model: {check['kind']} + processor + recipe ({len(operations)} files)",
        )
    except Exception as error:  # the Hub's errors vary; report them without the token
        raise RuntimeError(f"upload of {folder} to {repo_id} failed: {redact(error, token)}") from None
    return info.commit_url


def add_push_model_parser(subparsers) -> None:
    p = subparsers.add_parser("push-model", help="upload a finished training run (weights or LoRA adapter, processor, recipe, card)")
    p.add_argument("checkpoint", type=existing_dir, help="the output_dir of a finished recipes/sft.py or recipes/grpo.py run")
    p.add_argument("--repo-id", required=True, type=hub_repo_id, help="org/name of the model repo")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--revision", type=text_arg, default=None, help="branch to commit to")
    p.add_argument(
        "--results", type=existing_file, default=None, help="evaluation results JSON file ({benchmark: {metric: value}} or lighteval's)"
    )
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing to the branch")
    p.set_defaults(run=run_push_model)


def run_push_model(args) -> int:
    try:
        url = push_model(
            args.checkpoint, args.repo_id, private=args.private, revision=args.revision, results=args.results, create_pr=args.create_pr
        )
    except RuntimeError as error:
        print(f"synrl push-model: error: {redact(error)}")
        return 1
    print(f"pushed {args.checkpoint} → {url}\nload it with synrl_hf.modeling.load_model_and_processor({args.repo_id!r})")
    return 0
