"""A tiny flan-t5-like checkpoint folder, built offline: a sentencepiece vocabulary trained on a few sentences and
a full T5ForConditionalGeneration (decoder included, as in the release) saved with save_pretrained."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

SENTENCES = [
    "a red fox jumps over the lazy dog",
    "the camera pans across a quiet city at night",
    "waves crash on the shore under a bright sun",
    "a small robot walks through a green garden",
    "close-up on big objects, emphasize scale and detail",
]
CONFIG = dict(
    d_model=32, num_layers=2, num_decoder_layers=2, num_heads=2, d_kv=16, d_ff=64, vocab_size=64,
    feed_forward_proj="gated-gelu", decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
)  # fmt: skip


@dataclass
class TinyT5:
    folder: Path
    model: T5ForConditionalGeneration
    sp: spm.SentencePieceProcessor

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.folder, dest)
        return dest


def build_tiny_t5(root: Path) -> TinyT5:
    spm_dir, folder = root / "spm", root / "tiny-t5"
    spm_dir.mkdir()
    model_file = io.BytesIO()
    # T5's id layout: <pad> 0, </s> 1, <unk> 2, no BOS
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 4), model_writer=model_file, vocab_size=60, hard_vocab_limit=False,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, minloglevel=2,
    )  # fmt: skip
    (spm_dir / "spiece.model").write_bytes(model_file.getvalue())
    T5Tokenizer.from_pretrained(spm_dir, extra_ids=0).save_pretrained(folder)
    shutil.copy(spm_dir / "spiece.model", folder)  # the release has both tokenizer files

    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(**CONFIG)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.uniform_(0.5, 1.5)  # not all ones, so a norm weight that failed to load shows
    model.save_pretrained(folder)
    sp = spm.SentencePieceProcessor(model_file=str(spm_dir / "spiece.model"))
    return TinyT5(folder, model, sp)
