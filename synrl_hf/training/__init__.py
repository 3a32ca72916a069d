"""Training on synrl data with TRL: SFT (stage 1) and GRPO (stage 2, rounds 1 and 2).

One idea per module, in the layout of TRL / open-r1:

- ``configs``: :class:`SynRLScriptArguments` (dataset, frame budget, rewards), parsed with TRL's
  ``TrlParser`` next to ``SFTConfig`` / ``GRPOConfig`` and ``ModelConfig``.
- ``data``: load a config of the synrl dataset (a local folder or a Hub id) and decode its videos
  with :func:`synrl_hf.video.read_frames` under the recipe's :class:`synrl_hf.frame_budget.FrameBudget`.
- ``collator``: :class:`VideoSFTCollator`, video tokens + assistant-only labels for ``SFTTrainer``.
- ``grpo_trainer``: :class:`VideoGRPOTrainer`, a ``GRPOTrainer`` whose generation *and* loss
  forward see the video tensors (stock TRL drops them from the loss forward, silently).
- ``vision_dedupe``: one vision-tower pass per distinct video in a forward, the features shared
  by that video's GRPO completions (hooks on the tower, a copy index per forward).
- ``callbacks``: reward logging per answer type and task family, a JSONL log of every log step,
  the frame budget written into every saved checkpoint.
- ``run``: what ``recipes/sft.py`` and ``recipes/grpo.py`` call: model loading, rewards, the run
  record (``synrl_run.json`` + ``synrl_frame_budget.json`` + ``synrl_recipe.yaml``), and
  ``run_recipe`` to run an entry point in process.
- ``testing``: offline fixtures (tiny datasets laid out as ``synrl build`` does) for tests and the GPU check.
- ``gpu_check``: what ``scripts/gpu_check.sh`` runs (``--cpu-smoke`` on CPU).

Heavy imports (torch, trl) happen inside the submodules, not here.
"""
