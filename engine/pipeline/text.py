"""Prompt -> the text features the transformer's prefix is built from, for any text encoder."""

from __future__ import annotations

from typing import Protocol

import torch

from engine.config import Preset
from engine.text import prompt_for_video
from engine.text.prompt import check_prompt


class TextEncoder(Protocol):
    """A prompt -> features [tokens, text_channels] float32 (T5TextEncoder and the word-level encoder fit)."""

    def encode(self, prompt: str) -> torch.Tensor: ...


def prompt_notes(encoder: object, prompt: str) -> list[str]:
    """What the encoder could not read of `prompt`, for the user: unknown words (a model with a fixed vocabulary)
    and tokens cut beyond its limit."""
    notes = []
    unknown = getattr(encoder, "unknown_words", None)
    if unknown is not None and (words := unknown(prompt)):
        notes.append(f"this model does not know the words {', '.join(words)}: they were left out of the prompt")
    dropped = getattr(encoder, "dropped_tokens", None)
    if dropped is not None and (count := dropped(prompt)):
        notes.append(f"the prompt is too long for this model: its last {count} tokens were cut")
    return notes


def prompt_features(encoder: TextEncoder, preset: Preset, prompt: str, seconds: int) -> torch.Tensor:
    """Features of `prompt` as the model was trained to read it: the released (flan-t5-xl) models learned with
    the released scripts' duration tag and suffix; a model trained here reads the prompt as written."""
    check_prompt(prompt)
    text = prompt_for_video(prompt, seconds) if preset.text_encoder == "flan-t5-xl" else prompt
    return encoder.encode(text)
