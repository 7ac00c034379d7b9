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


def prompt_features(encoder: TextEncoder, preset: Preset, prompt: str, seconds: int) -> torch.Tensor:
    """Features of `prompt` as the model was trained to read it: the released (flan-t5-xl) models learned with
    the released scripts' duration tag and suffix; a model trained here reads the prompt as written."""
    check_prompt(prompt)
    text = prompt_for_video(prompt, seconds) if preset.text_encoder == "flan-t5-xl" else prompt
    return encoder.encode(text)
