"""What a T5 text encoder folder must hold, checked before anything big is read.

A folder is a Hugging Face T5 checkpoint (the release ships the full flan-t5-xl as
`text_encoder/flan-t5-xl-official/`): config.json, a tokenizer (tokenizer.json or spiece.model) and the weights
as safetensors or PyTorch pickles, single or sharded with an index. Every problem raises TextEncoderError naming
the folder or file and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.api.json_text import loads_limited
from engine.text.checkpoint import check_pickle, check_safetensors
from engine.text.errors import TextEncoderError

TOKENIZER_FILES = ("tokenizer.json", "spiece.model")
# The order transformers looks for weights in a local folder; the first present is what it loads.
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_SIZES = ("d_model", "d_kv", "d_ff", "num_layers", "num_heads", "vocab_size")


@dataclass(frozen=True)
class T5Folder:
    """A checked T5 folder: its config.json as read, and the weight files transformers will load from it."""

    path: Path
    config: dict[str, Any]
    weights: tuple[Path, ...]

    @property
    def safetensors(self) -> bool:
        return self.weights[0].suffix == ".safetensors"

    @property
    def d_model(self) -> int:
        return self.config["d_model"]

    def check_channels(self, expected: int) -> None:
        """Raise TextEncoderError unless the encoder's width is the transformer's text_channels."""
        _check_channels(self.path, self.d_model, expected)


def inspect_folder(path: str | Path, channels: int | None = None) -> T5Folder:
    """Check `path` holds a complete, safe T5 checkpoint; reads headers and pickles, not tensor data. `channels`
    (the transformer's text_channels) is checked against the config before any weight file is opened."""
    folder = Path(path)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise TextEncoderError(f"text encoder folder {folder} {what}; expected a T5 checkpoint folder (flan-t5-xl)")
    config = _read_config(folder)
    if channels is not None:
        _check_channels(folder, config["d_model"], channels)
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise TextEncoderError(f"{folder} has no tokenizer: expected {' or '.join(TOKENIZER_FILES)}")
    weights = _weight_files(folder)
    for file in weights:
        if file.suffix == ".safetensors":
            check_safetensors(file)
        else:
            check_pickle(file)
    return T5Folder(folder, config, weights)


def _check_channels(folder: Path, d_model: int, expected: int) -> None:
    if d_model != expected:
        raise TextEncoderError(
            f"{folder} holds a T5 encoder of width d_model={d_model}; "
            f"the transformer takes text features of {expected} channels (its text_channels)"
        )


def _read_config(folder: Path) -> dict[str, Any]:
    file = folder / "config.json"
    if not file.is_file():
        raise TextEncoderError(f"{folder} has no config.json; expected a T5 checkpoint folder (flan-t5-xl)")
    try:
        config = loads_limited(file.read_text(encoding="utf-8"), "its text")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TextEncoderError(f"{file} is not readable JSON: {e}") from e
    if not isinstance(config, dict):
        raise TextEncoderError(f"{file} is not a model config: expected a JSON object")
    kind = config.get("model_type")
    if kind != "t5":
        raise TextEncoderError(f"{file} describes a {kind!r} model; expected a T5 model (model_type 't5', flan-t5-xl)")
    for name in _SIZES:
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise TextEncoderError(f"{file}: {name} must be a positive integer, got {value!r}")
    if "transformers_weights" in config:
        # transformers would load this file instead of the standard names checked here
        raise TextEncoderError(
            f"{file} redirects the weights to {config['transformers_weights']!r}; expected the standard file names"
        )
    return config


def _weight_files(folder: Path) -> tuple[Path, ...]:
    name = next((n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if name is None:
        raise TextEncoderError(f"{folder} has no weights: expected one of {', '.join(WEIGHT_FILES)}")
    if not name.endswith(".index.json"):
        return (folder / name,)
    index = folder / name
    try:
        shards = sorted(set(loads_limited(index.read_text(encoding="utf-8"), "its text")["weight_map"].values()))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise TextEncoderError(f"{index} is not a weight index: expected JSON with a weight_map ({e})") from e
    if not shards or not all(isinstance(s, str) for s in shards):
        raise TextEncoderError(f"{index} is not a weight index: its weight_map names no shard files")
    missing = [s for s in shards if not (folder / s).is_file()]
    if missing:
        raise TextEncoderError(f"{index} lists shards missing from {folder}: {', '.join(missing)}")
    return tuple(folder / s for s in shards)
