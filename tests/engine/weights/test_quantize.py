"""nf4 / int8 quantisation of the block linears: accuracy against fp32, exact reloads, and bad quantised files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import bitsandbytes as bnb
import pytest
import torch
from tiny_models import random_bits, random_model, three_clip_schedule

from engine.config import get_preset
from engine.model.packed import teacher_forced_logits
from engine.runtime.precision import QUANT_STATE_JSON_BYTES, is_quantized, quantized_layout, tensor_bytes
from engine.sampler import Guidance, generate, run_to_end
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.weights.quantize import MANIFEST_FILE, MODEL_FILE, load_quantized, quantize_checkpoint
from engine.weights.transformer_checkpoint import write_transformer_checkpoint

CFG = get_preset("test-micro").transformer
# Relative L2 error of all final-layer logits of a three-clip teacher-forced run, random weights (measured:
# nf4 0.16, int8 0.013, bf16 0.008). nf4 keeps 16 levels per weight, so its error is an order larger.
TOLERANCE = {"nf4": 0.25, "int8": 0.03}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    model = random_model()
    index = write_transformer_checkpoint(model.state_dict(), tmp_path_factory.mktemp("release"), shards=2)
    return model, index


@pytest.fixture(scope="module")
def quantized(release, tmp_path_factory) -> dict[str, Path]:
    _, index = release
    out = {}
    for precision in TOLERANCE:
        out[precision] = tmp_path_factory.mktemp(precision)
        quantize_checkpoint(index, CFG, precision, out[precision])
    return out


def logits(model) -> torch.Tensor:
    schedule = three_clip_schedule()
    text = torch.randn(4, CFG.text_channels, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        per_pass = teacher_forced_logits(model, schedule, text, random_bits(model, schedule))
    return torch.cat([p.flatten() for p in per_pass])


def relative_error(ours: torch.Tensor, reference: torch.Tensor) -> float:
    return ((ours - reference).norm() / reference.norm()).item()


@pytest.mark.parametrize("precision", TOLERANCE)
def test_quantised_logits_stay_within_the_stated_tolerance_of_fp32(release, quantized, precision) -> None:
    model, _ = release
    error = relative_error(logits(load_quantized(quantized[precision], CFG)), logits(model))
    assert 0 < error <= TOLERANCE[precision]


@pytest.mark.parametrize("precision", TOLERANCE)
def test_a_saved_quantised_checkpoint_reloads_to_identical_outputs(quantized, precision) -> None:
    first = logits(load_quantized(quantized[precision], CFG))
    assert torch.equal(logits(load_quantized(quantized[precision], CFG)), first)


@pytest.mark.parametrize("precision", TOLERANCE)
def test_only_block_linears_are_quantised_and_heads_keep_the_compute_dtype(quantized, precision) -> None:
    model = load_quantized(quantized[precision], CFG)
    kind = bnb.nn.Linear4bit if precision == "nf4" else bnb.nn.Linear8bitLt
    for block in model.blocks():
        for layer in (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj, block.attn.o_proj,
                      block.mlp.gate_proj, block.mlp.up_proj, block.mlp.down_proj):
            assert isinstance(layer, kind)
    for dense in (model.head, model.semantic_head2, model.word_embed, model.text_proj):
        assert type(dense) is torch.nn.Linear and dense.weight.dtype == torch.bfloat16


@pytest.mark.parametrize("precision", TOLERANCE)
def test_stored_tensors_match_the_layout_the_memory_planner_counts(quantized, precision) -> None:
    file = SafetensorsFile.open(quantized[precision] / MODEL_FILE)
    double_quant = precision == "nf4"
    for name, shape in random_model().state_dict().items():
        shape = tuple(shape.shape)
        if not is_quantized(name, precision):
            assert file.entries[name].dtype == torch.bfloat16 and file.entries[name].shape == shape
            continue
        layer = name.removesuffix("weight")
        stored = 0
        for suffix, (part_shape, dtype) in quantized_layout(shape, precision, double_quant).items():
            entry = file.entries[layer + suffix]
            assert str(entry.dtype) == f"torch.{dtype}"
            assert part_shape is None or entry.shape == part_shape
            stored += entry.nbytes
        planned = tensor_bytes(name, shape, precision, double_quant)
        assert abs(planned - stored) <= QUANT_STATE_JSON_BYTES, name


def test_nf4_without_double_quantisation_stores_float_block_scales(release, tmp_path: Path) -> None:
    model, index = release
    quantize_checkpoint(index, CFG, "nf4", tmp_path, double_quant=False)
    file = SafetensorsFile.open(tmp_path / MODEL_FILE)
    absmax = file.entries["block_chunks.0.module.0.mlp.up_proj.weight.absmax"]
    assert absmax.dtype == torch.float32 and absmax.shape == (math.ceil(CFG.mlp_hidden_size * CFG.width / 64),)
    assert json.loads((tmp_path / MANIFEST_FILE).read_text())["double_quant"] is False
    assert relative_error(logits(load_quantized(tmp_path, CFG)), logits(model)) <= TOLERANCE["nf4"]


def test_a_quantised_model_generates_a_video_end_to_end(quantized) -> None:
    model = load_quantized(quantized["nf4"], CFG)
    schedule = three_clip_schedule()
    text = torch.randn(4, CFG.text_channels, generator=torch.Generator().manual_seed(3))
    first = run_to_end(generate(model, schedule, text, Guidance("cfg", 3.0), seed=5))
    again = run_to_end(generate(model, schedule, text, Guidance("cfg", 3.0), seed=5))
    assert all(torch.equal(a, b) for a, b in zip(first.bits, again.bits, strict=True))


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for f in folder.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    return target


def _edit_manifest(**changes):
    def edit(folder: Path) -> None:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        manifest.update(changes)
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest))

    return edit


def _truncate(folder: Path) -> None:
    path = folder / MODEL_FILE
    path.write_bytes(path.read_bytes()[:-1000])


BAD = {
    "truncated file": (_truncate, "model.safetensors is truncated"),
    "manifest gone": (lambda f: (f / MANIFEST_FILE).unlink(), "quantization.json does not exist"),
    "manifest not json": (lambda f: (f / MANIFEST_FILE).write_text("{"), "quantization.json is not valid JSON"),
    "future format version": (_edit_manifest(version=99), "version 99 is not 1"),
    "unknown precision": (_edit_manifest(precision="fp8"), "precision 'fp8' is not one of nf4, int8"),
    "manifest says int8, file holds nf4": (
        _edit_manifest(precision="int8", double_quant=False),
        r"does not fit this int8 transformer config: \d+ missing: .*SCB",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_quantised_checkpoint_is_refused_by_name(quantized, tmp_path: Path, case) -> None:
    damage, message = BAD[case]
    folder = _copy(quantized["nf4"], tmp_path)
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        load_quantized(folder, CFG)
