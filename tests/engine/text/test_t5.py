"""T5 text encoder: features equal the encoder run by hand, truncation is reported, the CPU round trip, and a clear
named error for every folder it cannot use (including a pickle that would run code)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny_t5 import CONFIG, SENTENCES, TinyT5

from engine.text import MAX_TOKENS, PromptError, T5TextEncoder, TextEncoderError


def reference_features(tiny: TinyT5, prompt: str, max_tokens: int = MAX_TOKENS) -> torch.Tensor:
    """The saved model's own encoder on sentencepiece's ids, padded to max_tokens, cut to the real tokens."""
    ids = tiny.sp.encode(prompt)[: max_tokens - 1] + [1]
    n = len(ids)
    input_ids = torch.tensor([ids + [0] * (max_tokens - n)])
    mask = (torch.arange(max_tokens) < n).long()[None]
    with torch.no_grad():
        return tiny.model.encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state[0, :n]


@pytest.fixture(scope="module")
def encoder(tiny_t5: TinyT5) -> T5TextEncoder:
    return T5TextEncoder.from_folder(tiny_t5.folder, dtype=torch.float32)


def test_features_equal_the_t5_encoder_run_directly(tiny_t5: TinyT5, encoder: T5TextEncoder) -> None:
    for prompt in (SENTENCES[0], "a fox  walks\tat night, Über alles"):
        features = encoder.encode(prompt)
        tokens = len(tiny_t5.sp.encode(prompt)) + 1  # the real tokens and EOS
        assert features.shape == (tokens, CONFIG["d_model"]) and encoder.count_tokens(prompt) == tokens
        assert features.dtype == torch.float32 and features.device.type == "cpu"
        torch.testing.assert_close(features, reference_features(tiny_t5, prompt), rtol=0, atol=0)


def test_encode_many_batches_the_same_features(encoder: T5TextEncoder) -> None:
    prompts = [SENTENCES[1], "a dog", SENTENCES[2]]
    for one, batched in zip(map(encoder.encode, prompts), encoder.encode_many(prompts), strict=True):
        torch.testing.assert_close(batched, one)
    assert encoder.encode_many([]) == []
    with pytest.raises(TypeError, match="list of prompts"):
        encoder.encode_many("a dog")


def test_a_long_prompt_is_truncated_keeping_eos_and_says_by_how_much(tiny_t5: TinyT5) -> None:
    short = T5TextEncoder.from_folder(tiny_t5.folder, dtype=torch.float32, max_tokens=8)
    prompt = SENTENCES[3]
    tokens = len(tiny_t5.sp.encode(prompt)) + 1
    assert tokens > 8
    assert short.count_tokens(prompt) == tokens and short.dropped_tokens(prompt) == tokens - 8
    assert short.dropped_tokens("a dog") == 0
    features = short.encode(prompt)
    assert features.shape == (8, CONFIG["d_model"])
    torch.testing.assert_close(features, reference_features(tiny_t5, prompt, max_tokens=8), rtol=0, atol=0)


@pytest.mark.parametrize("prompt", ["", "   \n\t"])
def test_an_empty_prompt_is_refused(encoder: T5TextEncoder, prompt: str) -> None:
    with pytest.raises(PromptError, match="the prompt is empty"):
        encoder.encode(prompt)
    with pytest.raises(PromptError, match="prompt 2 of 2 is empty"):
        encoder.encode_many(["a dog", prompt])


def test_offload_parks_the_encoder_on_the_cpu_and_it_still_encodes(encoder: T5TextEncoder) -> None:
    before = encoder.encode(SENTENCES[4])
    assert encoder.offload() is encoder
    assert all(p.device.type == "cpu" for p in encoder.model.parameters()) and encoder.device.type == "cpu"
    torch.testing.assert_close(encoder.encode(SENTENCES[4]), before, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_round_trip(tiny_t5: TinyT5) -> None:
    encoder = T5TextEncoder.from_folder(tiny_t5.folder, device="cuda", dtype=torch.float32)
    features = encoder.encode(SENTENCES[0])
    assert features.device.type == "cpu"
    encoder.offload()
    assert all(p.device.type == "cpu" for p in encoder.model.parameters())
    torch.testing.assert_close(encoder.to("cuda").encode(SENTENCES[0]), features)


def test_parameters_and_bytes_for_the_memory_planner(tiny_t5: TinyT5, encoder: T5TextEncoder) -> None:
    d, ff, layers, heads = CONFIG["d_model"], CONFIG["d_ff"], CONFIG["num_layers"], CONFIG["num_heads"]
    inner = heads * CONFIG["d_kv"]
    # the planner's flan-t5-xl formula: q k v o, gated FFN, two norms a layer; embedding; final norm; position bias
    count = layers * (4 * d * inner + 3 * d * ff + 2 * d) + CONFIG["vocab_size"] * d + d + 32 * heads
    assert encoder.parameter_count == count and encoder.parameter_bytes == 4 * count
    half = T5TextEncoder.from_folder(tiny_t5.folder)  # float16, with T5's `wo` projections kept in float32
    assert half.parameter_count == count and half.parameter_bytes == 2 * count + 2 * layers * ff * d


def test_float16_default_is_close_to_float32(tiny_t5: TinyT5, encoder: T5TextEncoder) -> None:
    half = T5TextEncoder.from_folder(tiny_t5.folder)
    assert next(half.model.parameters()).dtype == torch.float16
    features = half.encode(SENTENCES[0])
    assert features.dtype == torch.float32
    torch.testing.assert_close(features, encoder.encode(SENTENCES[0]), rtol=0.02, atol=0.02)


def test_channels_are_checked_before_the_weights(tiny_t5: TinyT5, encoder: T5TextEncoder, tmp_path: Path) -> None:
    with pytest.raises(TextEncoderError, match=r"d_model=32; the transformer takes text features of 2048 channels"):
        encoder.check_channels(2048)
    encoder.check_channels(32)
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "model.safetensors").write_bytes(b"")  # would fail the weight check if it came first
    with pytest.raises(TextEncoderError, match="d_model=32"):
        T5TextEncoder.from_folder(folder, channels=2048)


def test_a_bin_checkpoint_loads_the_same(tiny_t5: TinyT5, encoder: T5TextEncoder, tmp_path: Path) -> None:
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "model.safetensors").unlink()
    torch.save(tiny_t5.model.state_dict(), folder / "pytorch_model.bin")
    from_bin = T5TextEncoder.from_folder(folder, dtype=torch.float32)
    torch.testing.assert_close(from_bin.encode(SENTENCES[0]), encoder.encode(SENTENCES[0]), rtol=0, atol=0)


def test_a_folder_with_only_the_sentencepiece_vocabulary(tiny_t5: TinyT5, encoder: T5TextEncoder, tmp_path: Path):
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "tokenizer.json").unlink()
    spiece = T5TextEncoder.from_folder(folder, dtype=torch.float32)
    torch.testing.assert_close(spiece.encode(SENTENCES[2]), encoder.encode(SENTENCES[2]), rtol=0, atol=0)


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_that_carries_code_is_refused_and_never_runs(tiny_t5: TinyT5, tmp_path: Path) -> None:
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "code-ran"
    state = dict(tiny_t5.model.state_dict(), payload=RunsCode(marker))
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(TextEncoderError, match=r"pytorch_model.bin was refused: .*would run code .*system"):
        T5TextEncoder.from_folder(folder)
    assert not marker.exists()


def test_a_legacy_format_tensors_only_bin_loads(tiny_t5: TinyT5, encoder: T5TextEncoder, tmp_path: Path) -> None:
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "model.safetensors").unlink()
    torch.save(tiny_t5.model.state_dict(), folder / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    legacy = T5TextEncoder.from_folder(folder, dtype=torch.float32)
    torch.testing.assert_close(legacy.encode(SENTENCES[0]), encoder.encode(SENTENCES[0]), rtol=0, atol=0)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_raw_pickle_is_refused_for_safety_naming_what_loads(tiny_t5: TinyT5, tmp_path: Path) -> None:
    folder = tiny_t5.copy(tmp_path / "t5")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "code-ran"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"payload": RunsCode(marker)}))
    with pytest.raises(TextEncoderError, match=r"pytorch_model.bin was refused for safety: it is not a plain tensor"):
        T5TextEncoder.from_folder(folder)
    assert not marker.exists()


def _without(folder: Path, *names: str) -> Path:
    for name in names:
        (folder / name).unlink()
    return folder


def _config(folder: Path, **changes) -> Path:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | changes))
    return folder


def _write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder


def _truncated(folder: Path) -> Path:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[:-100])
    return folder


def _decoder_only(folder: Path) -> Path:
    state = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in state.items() if k.startswith("decoder.")}, folder / "model.safetensors")
    return folder


def _misshaped(folder: Path) -> Path:
    state = load_file(folder / "model.safetensors")
    state["encoder.block.1.layer.0.SelfAttention.q.weight"] = torch.zeros(3, 32)
    save_file(state, folder / "model.safetensors")
    return folder


def _sharded_with_a_shard_missing(folder: Path) -> Path:
    state = load_file(folder / "model.safetensors")
    first, second = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    weight_map = {k: first if k.startswith("encoder.") else second for k in state}
    shutil.move(folder / "model.safetensors", folder / first)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return folder


BROKEN = {
    "no config": (lambda f: _without(f, "config.json"), r"has no config\.json"),
    "config not json": (lambda f: _write(f, "config.json", b"{oops"), r"config\.json is not readable JSON"),
    "another model": (lambda f: _config(f, model_type="bert"), r"describes a 'bert' model; expected a T5 model"),
    "bad size": (lambda f: _config(f, d_model="wide"), r"config\.json: d_model must be a positive integer"),
    "weights redirected": (lambda f: _config(f, transformers_weights="x.bin"), r"redirects the weights to 'x\.bin'"),
    "no tokenizer": (
        lambda f: _without(f, "tokenizer.json", "spiece.model"),
        r"no tokenizer: expected tokenizer\.json",
    ),
    "tokenizer too big": (lambda f: _config(f, vocab_size=40), r"has \d+ tokens; config\.json's vocab_size 40"),
    "no weights": (lambda f: _without(f, "model.safetensors"), r"has no weights: expected one of model\.safetensors"),
    "truncated": (_truncated, r"model\.safetensors is truncated"),
    "empty weights": (lambda f: _write(f, "model.safetensors", b""), r"model\.safetensors is 0 bytes"),
    "decoder only": (_decoder_only, r"\(model\.safetensors\) do not fit its config\.json: \d+ missing: encoder\."),
    "mis-shaped": (
        _misshaped,
        r"1 mis-shaped: encoder\.block\.1\.layer\.0\.SelfAttention\.q\.weight is 3x32, not 32x32",
    ),
    "missing shard": (_sharded_with_a_shard_missing, r"index\.json lists shards missing from .*: model-00002-of-00002"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_folder_gets_a_named_error(tiny_t5: TinyT5, tmp_path: Path, case: str) -> None:
    breaks, message = BROKEN[case]
    folder = breaks(tiny_t5.copy(tmp_path / "t5"))
    with pytest.raises(TextEncoderError, match=message) as raised:
        T5TextEncoder.from_folder(folder)
    assert str(folder) in str(raised.value)


@pytest.mark.parametrize("what", ["missing", "a file"])
def test_a_folder_that_is_not_there(tmp_path: Path, what: str) -> None:
    path = tmp_path / "flan-t5-xl"
    if what == "a file":
        path.write_text("")
    with pytest.raises(TextEncoderError, match=f"{path} (does not exist|is not a folder); expected a T5 checkpoint"):
        T5TextEncoder.from_folder(path)
