"""One vision-tower pass per distinct video (synrl_hf.training.vision_dedupe) changes no number.

On both tiny Qwen-VL models, in float32 on CPU: a GRPO batch whose prompts are repeated (the
completions of one video) gives the same per-token log-probs, loss and gradients (vision tower
included) whether each video is encoded once or once per completion, and the same generation
logits; only the number of patches the tower processes drops. Tolerances: log-probs and logits
``atol=1e-5`` (measured: at most 5e-7); loss ``atol=1e-7``; gradients ``rtol=1e-4, atol=1e-7``
(measured: at most 4e-8 absolute, 1e-6 of the tensor's largest entry) — float32 rounding.
"""

from __future__ import annotations

import random

import pytest
import torch

from synrl_hf.modeling import MODEL_TYPES, build_tiny_model, load_model_and_processor, video_inputs
from synrl_hf.training.data import load_split, video_key
from synrl_hf.training.grpo_trainer import VIDEO_KEY
from synrl_hf.training.testing import grpo_rows, write_dataset
from synrl_hf.training.vision_dedupe import VisionDedupe, grouped_permutation, permute_batch, video_model_kwargs
from tests.tiny_grpo import BUDGET, make_trainer

GENERATIONS = 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("synrl"), {"grpo": grpo_rows(1, ("direction", "collision_count"))})


@pytest.fixture(scope="module", params=MODEL_TYPES)
def model_dir(request, tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp(request.param), request.param)


class PatchCount:
    """Patch rows entering the vision tower(s) of a model (a forward pre-hook, removed on exit)."""

    def __init__(self, model):
        self.towers = [m.visual for m in model.modules() if hasattr(m, "get_video_features") and hasattr(m, "visual")]
        self.patches = 0

    def __enter__(self):
        def count(module, args, kwargs):
            self.patches += (args[0] if args else kwargs["hidden_states"]).shape[0]

        self.handles = [tower.register_forward_pre_hook(count, with_kwargs=True) for tower in self.towers]
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def make_dedupe_trainer(model_dir, dataset, tmp_path, **overrides):
    settings = dict(per_device_train_batch_size=2 * GENERATIONS, num_generations=GENERATIONS, max_completion_length=6)
    return make_trainer(model_dir, dataset, tmp_path, **{**settings, **overrides})


def scored_batch(trainer):
    """A generation batch as TRL builds it: every row repeated ``num_generations`` times."""
    random.seed(0)
    torch.manual_seed(0)
    rows = [row for row in trainer.train_dataset for _ in range(GENERATIONS)]
    trainer.model.train()
    with PatchCount(trainer.model) as count:
        batch = trainer._generate_and_score_completions(rows)
    return batch, count.patches


def test_logprobs_loss_and_gradients_are_unchanged(model_dir, dataset, tmp_path):
    trainer = make_dedupe_trainer(model_dir, dataset, tmp_path)
    batch, generation_patches = scored_batch(trainer)
    entries = batch[VIDEO_KEY]
    distinct = {e["video_key"]: e["pixel_values_videos"].shape[0] for e in entries}
    assert len(distinct) == 2 and len(entries) == 2 * GENERATIONS
    assert generation_patches == sum(distinct.values())  # generation encoded each video once

    model = trainer.model
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(); the loss scales by it
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    results = {}
    for dedupe in (True, False):
        trainer.vision_dedupe = dedupe
        trainer._active_video = entries
        with PatchCount(model) as count:
            # Chunks of 3 sequences: copies of one video land in different chunks too.
            logps, _, _ = trainer._get_per_token_logps_and_entropies(model, ids, mask, batch["completion_ids"].size(1), batch_size=3)
        trainer._active_video = None
        model.zero_grad()
        loss = trainer.compute_loss(model, batch)
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
        results[dedupe] = (logps.detach(), loss.detach(), grads, count.patches)

    (logps_on, loss_on, grads_on, patches_on), (logps_off, loss_off, grads_off, patches_off) = results[True], results[False]
    assert torch.allclose(logps_on, logps_off, atol=1e-5, rtol=0)
    # GRPO's loss is ~0 at ratio 1 (advantages have zero mean per group); its gradient is not.
    assert torch.allclose(loss_on, loss_off, rtol=1e-5, atol=1e-7)
    assert sum(g.norm() for g in grads_on.values()) > 0
    assert grads_on.keys() == grads_off.keys()
    vision = [n for n in grads_on if ".visual." in n]
    assert vision and any(grads_on[n].abs().sum() > 0 for n in vision)  # the tower still learns
    for name in grads_on:
        assert torch.allclose(grads_on[name], grads_off[name], rtol=1e-4, atol=1e-7), name
    # Each chunk of 3 holds at most 2 distinct videos of the 3 copies; off, every copy is encoded.
    per_video = next(iter(distinct.values()))
    assert patches_off == len(entries) * per_video and patches_on < patches_off


def test_generation_logits_are_unchanged(model_dir, dataset, tmp_path):
    model, processor = load_model_and_processor(model_dir, processor_kwargs={"padding_side": "left"})
    rows = load_split(str(dataset), "grpo", "train", cache_dir=str(tmp_path / "cache"))
    entries = []
    for row in rows:
        text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        encoded = video_inputs(processor, [BUDGET.read(row["video"])], text, max_pixels=BUDGET.max_pixels, padding=False)
        entries.append({"video_key": video_key(row["video"]), **encoded})
    copies = [entries[0], entries[0], entries[1], entries[1]]
    prompts = processor.tokenizer.pad({"input_ids": [e["input_ids"][0].tolist() for e in copies]}, return_tensors="pt")
    mm = torch.zeros_like(prompts["input_ids"])
    mm[prompts["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")] = 2
    dedupe = VisionDedupe()
    assert dedupe.attach(model) == 1
    outputs = {}
    for on in (True, False):
        video, index = video_model_kwargs(copies, dedupe=on)
        with torch.no_grad(), dedupe.copies(index), PatchCount(model) as count:
            out = model.generate(
                **prompts,
                mm_token_type_ids=mm,
                **video,
                do_sample=False,
                max_new_tokens=4,
                output_logits=True,
                return_dict_in_generate=True,
            )
        outputs[on] = (out.sequences, torch.stack(out.logits), count.patches)
    assert torch.equal(outputs[True][0], outputs[False][0])
    assert torch.allclose(outputs[True][1], outputs[False][1], atol=1e-5, rtol=0)
    assert outputs[False][2] == 2 * outputs[True][2]  # two copies of each video, encoded once


def test_the_hooks_refuse_inputs_that_do_not_match_the_copy_index(model_dir, dataset, tmp_path):
    model, processor = load_model_and_processor(model_dir)
    row = load_split(str(dataset), "grpo", "train", cache_dir=str(tmp_path / "cache"))[0]
    text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    encoded = video_inputs(processor, [BUDGET.read(row["video"])], text, max_pixels=BUDGET.max_pixels)
    dedupe = VisionDedupe()
    dedupe.attach(model)
    with torch.no_grad(), dedupe.copies([0, 0]), pytest.raises(RuntimeError, match="2 video grids|copy index"):
        model(**encoded)  # one video placeholder, a copy index for two


def test_grouped_permutation_keeps_copies_together():
    keys = ["a", "a", "b", "b", None, "c", "c", None]
    torch.manual_seed(3)
    orders = {tuple(grouped_permutation(keys).tolist()) for _ in range(20)}
    assert len(orders) > 1  # it does shuffle
    for order in orders:
        assert sorted(order) == list(range(len(keys)))
        shuffled = [keys[i] for i in order]
        for key in ("a", "b", "c"):
            first = shuffled.index(key)
            assert shuffled[first : first + 2] == [key, key]
    batch = {"x": torch.arange(8) * 10, "rows": list("abcdefgh"), "n": torch.tensor(5)}
    order = grouped_permutation(keys)
    out = permute_batch(batch, order)
    assert out["x"].tolist() == [10 * i for i in order.tolist()] and out["rows"] == ["abcdefgh"[i] for i in order.tolist()]
    assert out["n"] == 5


def test_training_steps_keep_a_videos_completions_in_one_chunk(model_dir, dataset, tmp_path):
    """With per_device_train_batch_size = num_generations, each loss chunk holds one video's completions."""
    trainer = make_dedupe_trainer(model_dir, dataset, tmp_path, per_device_train_batch_size=GENERATIONS, steps_per_generation=2)
    trainer.model.train()
    batch = {}
    trainer._step = 0
    trainer._buffered_inputs = None
    for step in range(2):
        trainer._step = step
        rows = [row for row in trainer.train_dataset for _ in range(GENERATIONS)]
        batch[step] = trainer._prepare_inputs(rows)
    for chunk in batch.values():
        assert len(chunk[VIDEO_KEY]) == GENERATIONS and len({e["video_key"] for e in chunk[VIDEO_KEY]}) == 1
    assert {batch[0][VIDEO_KEY][0]["video_key"], batch[1][VIDEO_KEY][0]["video_key"]} == {
        video_key(row["video"]) for row in trainer.train_dataset
    }
