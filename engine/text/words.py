"""A word-level text encoder for small models trained here (toyworld): a fixed vocabulary, word and position
embeddings and a few transformer layers, trained together with the video transformer.

Words outside the vocabulary are reported (`unknown_words`), never silently dropped: the caller tells the user.
Every prompt encodes to exactly `max_words` rows (words, the end token, then padding that attends only to the
words), so training batches prompts without masks in the video transformer and inference sees the same prefix.
The vocabulary and the shape travel in the safetensors metadata, so one file is the whole encoder. They are one JSON
value under one key: safetensors writes several keys in a different order each time, and the same weights would get
a different file and sha256 with every export.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from engine.api.json_text import loads_limited
from engine.api.records import split_words, words_outside
from engine.tensors.safetensors_file import SafetensorsFile, save_safetensors
from engine.text.errors import PromptError, TextEncoderError

WORDS_FILE = "words.safetensors"  # the encoder's file in a model's text_encoder folder
METADATA_KEY = "word_text_encoder"  # the safetensors metadata key holding its vocabulary and shape
EOS = "</s>"
PAD = "<pad>"


class WordTextEncoder(nn.Module):
    def __init__(self, vocab: Sequence[str], channels: int, max_words: int, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.vocab = [*vocab, EOS, PAD]
        self.ids = {word: i for i, word in enumerate(self.vocab)}
        self.channels, self.max_words, self.layers, self.heads = channels, max_words, layers, heads
        self.words = nn.Embedding(len(self.vocab), channels)
        self.positions = nn.Parameter(torch.randn(max_words, channels) * 0.02)
        layer = nn.TransformerEncoderLayer(
            channels, heads, 2 * channels, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(channels)

    def unknown_words(self, prompt: str) -> list[str]:
        return words_outside(prompt, self.ids)

    def token_ids(self, prompt: str) -> list[int]:
        """Known words in order, cut to max_words - 1, the end token, then padding up to max_words."""
        known = [self.ids[w] for w in split_words(prompt) if w in self.ids]
        if not known:
            raise PromptError(
                f"none of the words of {prompt!r} are known to this model; it knows words like "
                + ", ".join(self.vocab[:12])
            )
        ids = known[: self.max_words - 1] + [self.ids[EOS]]
        return ids + [self.ids[PAD]] * (self.max_words - len(ids))

    def dropped_tokens(self, prompt: str) -> int:
        known = sum(w in self.ids for w in split_words(prompt))
        return max(0, known - (self.max_words - 1))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, max_words] (from token_ids) -> features [B, max_words, channels]."""
        x = self.words(ids) + self.positions[: ids.shape[1]]
        return self.norm(self.encoder(x, src_key_padding_mask=ids == self.ids[PAD]))

    def batch_ids(self, prompts: Sequence[str]) -> torch.Tensor:
        return torch.tensor([self.token_ids(p) for p in prompts], device=self.positions.device)

    def encode(self, prompt: str) -> torch.Tensor:
        """The features [L, channels] (float32, on the CPU) the transformer's text prefix is built from."""
        with torch.no_grad():
            return self(self.batch_ids([prompt]))[0].float().cpu()

    def save(self, path: str | Path) -> None:
        shape = {"vocab": self.vocab[:-2], "channels": self.channels, "max_words": self.max_words,
                 "layers": self.layers, "heads": self.heads}
        save_safetensors(self.state_dict(), path, metadata={METADATA_KEY: json.dumps(shape)})

    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device = "cpu") -> WordTextEncoder:
        file = SafetensorsFile.open(path)
        meta = _shape(file, path)
        try:
            encoder = cls(meta["vocab"], int(meta["channels"]), int(meta["max_words"]), int(meta["layers"]),
                          int(meta["heads"]))
        except (KeyError, TypeError, ValueError) as err:
            raise _unreadable(path, _what_is_wrong(err)) from None
        state = {name: file.read(name) for name in file.entries}
        try:
            encoder.load_state_dict(state)
        except RuntimeError as err:
            raise TextEncoderError(f"{path} does not fit the encoder its metadata describes: {err}") from None
        return encoder.to(device).eval()


def _shape(file: SafetensorsFile, path: str | Path) -> dict:
    """The word list and sizes stored in the encoder's file."""
    try:
        meta = loads_limited(file.metadata[METADATA_KEY], "it")
    except (KeyError, TypeError, ValueError) as err:
        raise _unreadable(path, _what_is_wrong(err)) from None
    if not isinstance(meta, dict):
        raise _unreadable(path, "it is not a JSON object")
    return meta


def _unreadable(path: str | Path, what_is_wrong: str) -> TextEncoderError:
    """The error for an encoder file whose stored word list and sizes cannot be read: the model it belongs to cannot
    run until the file is replaced, and nothing else is affected."""
    return TextEncoderError(
        f"{path} cannot be used as a word text encoder: the word list and sizes stored in it cannot be read "
        f"({what_is_wrong}). Other models are not affected; to use this one, remove it and install it again, or "
        "export it again from its training run"
    )


def _what_is_wrong(err: Exception) -> str:
    return f"{err} is missing" if isinstance(err, KeyError) else str(err)


def read_vocabulary(path: str | Path) -> tuple[str, ...]:
    """The words the encoder in `path` knows, read from its header alone."""
    vocab = _shape(SafetensorsFile.open(path), path).get("vocab")
    if vocab is None:
        raise _unreadable(path, "'vocab' is missing")
    if not isinstance(vocab, list) or not all(isinstance(w, str) for w in vocab):
        raise _unreadable(path, "'vocab' is not a list of words")
    return tuple(vocab)
