"""A release folder with random weights, laid out like the hub's, for benchmarks at the real sizes.

    python -m engine.weights.random_release DIR [--model infinitystar-8b-480p] [--format safetensors|torch]

Every name, shape and dtype comes from the engine's own key tables (which the tests hold equal to the released
tables), so `istar models install MODEL --from DIR` takes the folder unchanged:
- the transformer as bf16 shards with their index, in either format transformers' `load_sharded_checkpoint`
  reads: safetensors shards + model.safetensors.index.json, or torch shards + pytorch_model.bin.index.json;
- the VAE as the release's `.pth`, a pickle of {"vae": state_dict} in float32;
- a T5 encoder folder shaped like flan-t5-xl's (the encoder half, in bf16), with a sentencepiece tokenizer trained
  here on a few sentences; at a test size the encoder is scaled to the preset's text channels.
One shard is generated and written at a time, so memory stays about one shard whatever the model's size.
Weights are drawn with a fan-in scale (norm gains one, biases zero), so passes through them stay finite.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.atomic import atomic_writer, write_text_atomic
from engine.config import get_preset
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import vae_key_table
from engine.tensors.safetensors_file import save_safetensors
from engine.weights.catalogue import CATALOGUE, CatalogueEntry
from engine.weights.transformer_checkpoint import INDEX_NAME, TORCH_INDEX_NAME

FORMATS = ("safetensors", "torch")
TRANSFORMER_SHARDS = 6  # as the release's model card lists
T5_SHARDS = 2
XL_WIDTH = 2048
# flan-t5-xl's config (the public model card's config.json); the decoder is not written, the engine never reads it.
FLAN_T5_XL = dict(
    d_model=XL_WIDTH, d_kv=64, d_ff=5120, num_layers=24, num_decoder_layers=24, num_heads=32, vocab_size=32128,
    feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, relative_attention_max_distance=128,
    layer_norm_epsilon=1e-6, tie_word_embeddings=False, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
)  # fmt: skip
# A T5 encoder scaled to a test preset's text channels (d_model is the preset's).
SMALL_T5 = dict(d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=2, vocab_size=384)
TOKENIZER_TEXT = """\
a red fox runs through tall grass at sunrise, close-up on big objects, emphasize scale and detail
the camera pans slowly across a quiet harbour at night while small boats rock on the water
waves crash against black rocks under a grey sky and seagulls circle above the foam
a small robot with round eyes walks through a green garden full of yellow flowers
an old man in a wool coat reads a newspaper on a bench in a snowy park
a drone shot of a winding mountain road with a single car driving through autumn forest
steam rises from a cup of coffee on a wooden table beside a rainy window
children fly colourful kites on a windy beach in the late afternoon light
a chef slices fresh vegetables on a cutting board in a busy restaurant kitchen
a cat sleeps curled up in a patch of sunlight on a soft blue blanket
lightning strikes over a wide desert plain as dark clouds roll toward the horizon
a time-lapse of city traffic at dusk, headlights streaming along the highway
"""


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: torch.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


@dataclass
class ReleaseSummary:
    """What was written: each file's bytes (by its path in the release) and each part's seconds."""

    folder: Path
    files: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "bytes": self.bytes, "files": self.files, "seconds": self.seconds}


def transformer_table(preset_name: str, dtype: torch.dtype = torch.bfloat16) -> list[Tensor]:
    """Every transformer tensor of the preset in checkpoint order, as the release stores it (bf16)."""
    with torch.device("meta"):
        model = InfinityStarTransformer(get_preset(preset_name).transformer)
    return [Tensor(name, tuple(t.shape), dtype) for name, t in model.state_dict().items()]


def vae_table(preset_name: str) -> list[Tensor]:
    table = vae_key_table(get_preset(preset_name).vae)
    return [Tensor(name, shape, getattr(torch, dtype)) for name, shape, dtype in table]


def t5_config(text_channels: int) -> dict:
    """flan-t5-xl's config for the 8B's 2048 text channels; a two-layer encoder of that width otherwise."""
    return dict(FLAN_T5_XL) if text_channels == XL_WIDTH else {**FLAN_T5_XL, **SMALL_T5, "d_model": text_channels}


def t5_table(config: dict, dtype: torch.dtype = torch.bfloat16) -> list[Tensor]:
    """The encoder's tensors as T5EncoderModel saves them (the tied encoder.embed_tokens left out)."""
    from transformers import T5Config, T5EncoderModel

    with torch.device("meta"):
        model = T5EncoderModel(T5Config(**config))
    tied = set(getattr(model, "_tied_weights_keys", None) or ())
    return [Tensor(name, tuple(t.shape), dtype) for name, t in model.state_dict().items() if name not in tied]


class RandomFill:
    """Random tensors in table order from one seeded generator: the same seed gives the same weights in every
    format and shard count. Norm gains are one, biases zero, everything else normal / sqrt(fan-in)."""

    def __init__(self, seed: int, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.generator = torch.Generator(self.device).manual_seed(seed)

    def __call__(self, t: Tensor) -> torch.Tensor:
        last = t.name.rsplit(".", 1)[-1]
        if last == "bias":
            return torch.zeros(t.shape, dtype=t.dtype)
        if last == "gamma" or len(t.shape) <= 1:  # norm gains, and the VAE's latent scale (a divisor)
            return torch.ones(t.shape, dtype=t.dtype)
        fan_in = math.prod(t.shape[1:]) if len(t.shape) > 1 else 1
        values = torch.randn(t.shape, generator=self.generator, device=self.device, dtype=torch.float32)
        return values.mul_(fan_in**-0.5).to(dtype=t.dtype, device="cpu")


def shard_groups(table: Sequence[Tensor], shards: int) -> list[list[Tensor]]:
    """Consecutive tensors in `shards` groups of about equal bytes (no group empty while tensors remain)."""
    shards = max(1, min(shards, len(table)))
    total = sum(t.nbytes for t in table)
    groups: list[list[Tensor]] = [[] for _ in range(shards)]
    done = 0
    for i, t in enumerate(table):
        g = min(shards - 1, done * shards // max(total, 1), i)
        groups[g].append(t)
        done += t.nbytes
    return [g for g in groups if g]


def shard_names(fmt: str, count: int) -> tuple[list[str], str]:
    """The shard file names and the index name transformers' save_pretrained gives a checkpoint of `fmt`."""
    if fmt == "safetensors":
        return [f"model-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)], INDEX_NAME
    if fmt == "torch":
        return [f"pytorch_model-{i:05d}-of-{count:05d}.bin" for i in range(1, count + 1)], TORCH_INDEX_NAME
    raise ValueError(f"unknown shard format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_sharded(
    table: Sequence[Tensor], folder: Path, fmt: str, shards: int, fill: RandomFill, summary: ReleaseSummary
) -> Path:
    """Write `table` as shards of `fmt` plus their index, one shard in memory at a time; returns the index."""
    folder.mkdir(parents=True, exist_ok=True)
    groups = shard_groups(table, shards)
    names, index_name = shard_names(fmt, len(groups))
    weight_map = {}
    for name, group in zip(names, groups, strict=True):
        tensors = {t.name: fill(t) for t in group}
        path = folder / name
        if fmt == "safetensors":
            save_safetensors(tensors, path, metadata={"format": "pt"})
        else:
            with atomic_writer(path) as f:
                torch.save(tensors, f)
        del tensors
        weight_map.update(dict.fromkeys((t.name for t in group), name))
        _record(summary, path)
    index = folder / index_name
    total = sum(t.nbytes for t in table)
    write_text_atomic(index, json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    _record(summary, index)
    return index


def train_tokenizer(folder: Path, vocab_size: int) -> None:
    """A sentencepiece unigram model with T5's special ids (<pad> 0, </s> 1, <unk> 2, no BOS), as spiece.model
    and the tokenizer files transformers writes beside it."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TOKENIZER_TEXT.splitlines()), model_writer=model, vocab_size=vocab_size,
        hard_vocab_limit=False, model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        character_coverage=1.0, minloglevel=2,
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model.getvalue())
    T5Tokenizer.from_pretrained(folder, legacy=True, local_files_only=True).save_pretrained(folder)


def write_t5(folder: Path, text_channels: int, fmt: str, fill: RandomFill, summary: ReleaseSummary) -> None:
    from transformers import T5Config

    config = t5_config(text_channels)
    T5Config(**config, architectures=["T5EncoderModel"]).save_pretrained(folder)
    train_tokenizer(folder, vocab_size=min(config["vocab_size"] - 100, 256))  # T5 adds 100 sentinel tokens
    write_sharded(t5_table(config), folder, fmt, T5_SHARDS, fill, summary)
    for path in folder.iterdir():
        if path.is_file():
            _record(summary, path)


def write_random_release(
    folder: str | Path,
    entry: CatalogueEntry,
    fmt: str = "safetensors",
    seed: int = 0,
    device: str | torch.device = "cpu",
    shards: int = TRANSFORMER_SHARDS,
) -> ReleaseSummary:
    """The release files of `entry` under `folder`, random weights drawn on `device` (a GPU draws them fastest)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown shard format {fmt!r}; choose one of {', '.join(FORMATS)}")
    folder = Path(folder)
    preset = get_preset(entry.preset)
    summary = ReleaseSummary(folder)
    fill = RandomFill(seed, device)
    for part, write in _parts(folder, entry, preset.transformer.text_channels, fmt, shards, fill, summary):
        start = time.perf_counter()
        write()
        summary.seconds[part] = round(time.perf_counter() - start, 3)
    return summary


def _parts(folder, entry, text_channels, fmt, shards, fill, summary) -> Iterator[tuple[str, object]]:
    yield "transformer", lambda: write_sharded(transformer_table(entry.preset), folder / entry.weights_dir, fmt,
                                               shards, fill, summary)
    yield "vae", lambda: _write_vae(folder / entry.vae_file, entry.preset, fill, summary)
    if entry.text_encoder_dir:
        yield "text_encoder", lambda: write_t5(folder / entry.text_encoder_dir, text_channels, fmt, fill, summary)


def _write_vae(path: Path, preset_name: str, fill: RandomFill, summary: ReleaseSummary) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {t.name: fill(t) for t in vae_table(preset_name)}
    with atomic_writer(path) as f:
        torch.save({"vae": state}, f)
    _record(summary, path)


def _record(summary: ReleaseSummary, path: Path) -> None:
    summary.files[path.relative_to(summary.folder).as_posix()] = path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.weights.random_release", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", default="infinitystar-8b-480p", choices=sorted(CATALOGUE))
    parser.add_argument("--format", choices=FORMATS, default="safetensors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="where the random numbers are drawn (cpu, cuda)")
    args = parser.parse_args(argv)
    summary = write_random_release(args.folder, CATALOGUE[args.model], args.format, args.seed, args.device)
    print(json.dumps(summary.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
