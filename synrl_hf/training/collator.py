"""SFT collator: real video tokens, assistant-only labels.

For each row the conversation is rendered with the processor's chat template and cut into
segments: everything up to each assistant turn's generation prompt (not trained) and the
assistant turn itself (trained, ``<|im_end|>`` included). The segment holding the video
placeholders goes through the processor with the decoded frames and their metadata (so
``<|video_pad|>`` expands to the right count and the time axis is right); the assistant text is
tokenized as it would be generated after that prompt. Labels are ``-100`` except on assistant
tokens; with synrl's ``sft`` rows that is the ``<think>…</think><answer>…</answer>`` turn (CoT rows)
or the answer-only turn (general-video rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..frame_budget import DEFAULT_BUDGET, FrameBudget
from ..modeling import video_inputs
from .data import as_messages

IGNORE_INDEX = -100
_VISION_PLACEHOLDERS = ("<|video_pad|>", "<|image_pad|>")


def conversation_segments(processor, messages: list[dict], chat_template: str | None = None) -> list[tuple[str, bool]]:
    """``(text, trainable)`` pieces whose concatenation is the rendered conversation.

    Raises if the template is not prefix-preserving (an earlier turn renders differently once a
    later one is appended): labels cut at a wrong place would silently train on the prompt.
    """

    def render(msgs, add_generation_prompt):
        return processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=chat_template)

    segments: list[tuple[str, bool]] = []
    done = ""
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        if i == 0:
            raise ValueError("a conversation cannot start with an assistant turn")
        before = render(messages[:i], True)
        after = render(messages[: i + 1], False)
        if not before.startswith(done) or not after.startswith(before):
            raise ValueError("the chat template is not prefix-preserving; cannot mask non-assistant tokens")
        segments.append((before[len(done) :], False))
        segments.append((after[len(before) :], True))
        done = after
    full = render(messages, False)
    if not full.startswith(done):
        raise ValueError("the chat template is not prefix-preserving; cannot mask non-assistant tokens")
    if full[len(done) :]:
        segments.append((full[len(done) :], False))
    if not any(trainable for _, trainable in segments):
        raise ValueError("the conversation has no assistant turn to train on")
    return [(text, trainable) for text, trainable in segments if text]


@dataclass
class VideoSFTCollator:
    """Collate synrl SFT rows (``messages`` + ``video``) into Qwen-VL training batches.

    Output: ``input_ids``, ``attention_mask``, ``labels`` (right-padded), ``mm_token_type_ids``,
    and ``pixel_values_videos`` / ``video_grid_thw`` (+ ``second_per_grid_ts`` for Qwen2.5-VL).
    ``max_length`` truncates the trained tail only; a prompt that alone exceeds it raises (cutting
    vision tokens would desynchronise them from the features).
    """

    processor: Any
    frame_budget: FrameBudget = DEFAULT_BUDGET
    messages_column: str = "messages"
    video_column: str = "video"
    chat_template: str | None = None
    max_length: int | None = None

    def _encode(self, row: dict) -> dict[str, Any]:
        tokenizer = self.processor.tokenizer
        messages = as_messages(row[self.messages_column])
        segments = conversation_segments(self.processor, messages, self.chat_template)
        video = row.get(self.video_column)
        frames = self.frame_budget.read(video) if video is not None else None

        # The vision segment: everything up to the first trained piece.
        first_trained = next(i for i, (_, trainable) in enumerate(segments) if trainable)
        prompt_text = "".join(text for text, _ in segments[:first_trained])
        for text, _ in segments[first_trained:]:
            if any(p in text for p in _VISION_PLACEHOLDERS):
                raise ValueError("vision placeholders after the first assistant turn are not supported")
        prompt = video_inputs(
            self.processor,
            [frames] if frames is not None else [],
            prompt_text,
            max_pixels=self.frame_budget.max_pixels,
            min_pixels=self.frame_budget.min_pixels,
            padding=False,
        )
        input_ids = prompt["input_ids"][0].tolist()
        labels = [IGNORE_INDEX] * len(input_ids)
        mm = prompt["mm_token_type_ids"][0].tolist() if "mm_token_type_ids" in prompt else None
        for text, trainable in segments[first_trained:]:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            input_ids += ids
            labels += ids if trainable else [IGNORE_INDEX] * len(ids)
            if mm is not None:
                mm += [0] * len(ids)
        if self.max_length is not None and len(input_ids) > self.max_length:
            if prompt["input_ids"].shape[1] > self.max_length:
                raise ValueError(
                    f"the prompt with its video is {prompt['input_ids'].shape[1]} tokens, over max_length="
                    f"{self.max_length}: lower the frame budget or raise max_length (None disables it)"
                )
            input_ids, labels = input_ids[: self.max_length], labels[: self.max_length]
            mm = mm[: self.max_length] if mm is not None else None
        vision = {k: v for k, v in prompt.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
        return {"input_ids": input_ids, "labels": labels, "mm_token_type_ids": mm, "vision": vision}

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        encoded = [self._encode(row) for row in rows]
        pad_id = self.processor.tokenizer.pad_token_id
        length = max(len(e["input_ids"]) for e in encoded)
        batch = {
            "input_ids": torch.full((len(encoded), length), pad_id, dtype=torch.long),
            "attention_mask": torch.zeros((len(encoded), length), dtype=torch.long),
            "labels": torch.full((len(encoded), length), IGNORE_INDEX, dtype=torch.long),
        }
        has_mm = any(e["mm_token_type_ids"] is not None for e in encoded)
        if has_mm:
            batch["mm_token_type_ids"] = torch.zeros((len(encoded), length), dtype=torch.long)
        for i, e in enumerate(encoded):
            n = len(e["input_ids"])
            batch["input_ids"][i, :n] = torch.tensor(e["input_ids"])
            batch["attention_mask"][i, :n] = 1
            batch["labels"][i, :n] = torch.tensor(e["labels"])
            if has_mm and e["mm_token_type_ids"] is not None:
                batch["mm_token_type_ids"][i, :n] = torch.tensor(e["mm_token_type_ids"])
        keys = sorted({k for e in encoded for k in e["vision"]})
        for key in keys:
            parts = [e["vision"][key] for e in encoded if key in e["vision"]]
            parts = [p if isinstance(p, torch.Tensor) else torch.as_tensor(p) for p in parts]
            batch[key] = torch.cat(parts, dim=0)
        return batch
