"""The flan-t5-xl text encoder of InfinityStar: a prompt -> [tokens, 2048] float32 features.

As the released code does it: the prompt is tokenised to at most 512 tokens (EOS included) and padded to 512, the
T5 encoder runs with the padding masked, and only the rows of the real tokens are kept. The default precision is
float16, in which InfinityStar's training and inference scripts both run T5 (transformers keeps T5's `wo`
projections in float32 then, against float16 overflow; parameter_bytes counts them so).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from engine.tensors.validate import dims, named
from engine.text.errors import TextEncoderError
from engine.text.folder import T5Folder, inspect_folder
from engine.text.prompt import check_prompt

MAX_TOKENS = 512
DTYPES = (torch.float16, torch.bfloat16, torch.float32)


class T5TextEncoder:
    """A T5 tokenizer and encoder (no decoder). Features come back as float32 on the CPU wherever the encoder
    runs; `offload()` parks it on the CPU between prompts and `to(device)` brings it back."""

    def __init__(self, tokenizer: Any, model: torch.nn.Module, folder: T5Folder, max_tokens: int = MAX_TOKENS) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.tokenizer = tokenizer
        self.model = model.eval().requires_grad_(False)
        self.folder = folder
        self.max_tokens = max_tokens

    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float16,
        max_tokens: int = MAX_TOKENS,
        channels: int | None = None,
    ) -> T5TextEncoder:
        """Load the tokenizer and the encoder half of the T5 checkpoint in `path`. The weights are built on the
        meta device and filled tensor by tensor; from safetensors, the decoder's tensors are never read. `channels`
        (the transformer's text_channels) is checked against the config before any weight file is opened."""
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(map(str, DTYPES))}, got {dtype}")
        folder = inspect_folder(path, channels)
        tokenizer = _load_tokenizer(folder)
        return cls(tokenizer, _load_encoder(folder, dtype), folder, max_tokens).to(device)

    @property
    def d_model(self) -> int:
        return self.folder.d_model

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def parameter_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    def check_channels(self, expected: int) -> None:
        """Raise TextEncoderError unless d_model is the transformer's text_channels."""
        self.folder.check_channels(expected)

    def to(self, device: str | torch.device) -> T5TextEncoder:
        self.model.to(device)
        return self

    def offload(self) -> T5TextEncoder:
        """Move the encoder to the CPU, freeing its accelerator memory until the next `to(device)`."""
        return self.to("cpu")

    def count_tokens(self, prompt: str) -> int:
        """Tokens of `prompt` before truncation, EOS included; tokenizer only, cheap enough to run as the user types."""
        check_prompt(prompt)
        return len(self.tokenizer(prompt, verbose=False).input_ids)

    def dropped_tokens(self, prompt: str) -> int:
        """How many tokens `encode` cuts from the end of `prompt` to fit max_tokens; tell the user when not 0."""
        return max(0, self.count_tokens(prompt) - self.max_tokens)

    def encode(self, prompt: str) -> torch.Tensor:
        """Features [L, d_model] float32 on the CPU, L = the prompt's tokens incl. EOS, at most max_tokens.
        A longer prompt is truncated (its EOS kept): `dropped_tokens(prompt)` says by how much."""
        return self.encode_many([prompt])[0]

    def encode_many(self, prompts: Sequence[str]) -> list[torch.Tensor]:
        """`encode` of every prompt, in one batch."""
        if isinstance(prompts, str):
            raise TypeError("encode_many takes a list of prompts; use encode for one")
        for i, prompt in enumerate(prompts):
            check_prompt(prompt, "the prompt" if len(prompts) == 1 else f"prompt {i + 1} of {len(prompts)}")
        if not prompts:
            return []
        batch = self.tokenizer(
            list(prompts), max_length=self.max_tokens, padding="max_length", truncation=True, return_tensors="pt"
        )
        mask = batch.attention_mask.to(self.device)
        with torch.no_grad():
            hidden = self.model(input_ids=batch.input_ids.to(self.device), attention_mask=mask).last_hidden_state
        lengths = mask.sum(dim=1).tolist()
        return [hidden[i, :n].to(device="cpu", dtype=torch.float32, copy=True) for i, n in enumerate(lengths)]


def _load_tokenizer(folder: T5Folder) -> Any:
    from transformers import T5Tokenizer  # imported here: transformers takes seconds to import

    try:
        # legacy=True is the released code's setting; transformers 5's T5 tokenizer always splits that way
        tokenizer = T5Tokenizer.from_pretrained(folder.path, legacy=True, local_files_only=True)
    except Exception as e:  # tokenizers, sentencepiece and protobuf each raise errors of their own
        raise TextEncoderError(f"the tokenizer in {folder.path} cannot be loaded: {e}") from e
    if len(tokenizer) > folder.config["vocab_size"]:
        raise TextEncoderError(
            f"the tokenizer in {folder.path} has {len(tokenizer)} tokens; "
            f"config.json's vocab_size {folder.config['vocab_size']} cannot embed them all"
        )
    return tokenizer


def _load_encoder(folder: T5Folder, dtype: torch.dtype) -> torch.nn.Module:
    from safetensors import SafetensorError
    from transformers import T5Config, T5EncoderModel

    try:
        model, info = T5EncoderModel.from_pretrained(
            folder.path,
            config=T5Config.from_dict(folder.config),
            dtype=dtype,
            use_safetensors=folder.safetensors,
            weights_only=True,
            local_files_only=True,
            ignore_mismatched_sizes=True,  # mis-shaped tensors are reported below, with the missing ones
            output_loading_info=True,
        )
    except (OSError, RuntimeError, ValueError, SafetensorError) as e:
        raise TextEncoderError(f"the T5 weights in {folder.path} cannot be loaded: {e}") from e
    _check_loaded(folder, info)
    return model


def _check_loaded(folder: T5Folder, info: dict[str, Any]) -> None:
    """transformers fills tensors the checkpoint lacks or mis-shapes with random values; refuse them instead."""
    missing = sorted(info["missing_keys"])
    misshaped = [f"{k} is {dims(got)}, not {dims(want)}" for k, got, want in sorted(info["mismatched_keys"])]
    problems = [named(kind, keys) for kind, keys in (("missing", missing), ("mis-shaped", misshaped)) if keys]
    if problems:
        files = ", ".join(f.name for f in folder.weights)
        raise TextEncoderError(
            f"the T5 encoder weights in {folder.path} ({files}) do not fit its config.json: {'; '.join(problems)}"
        )
