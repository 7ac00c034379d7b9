"""What a failed job tells the user: its kind and a hint; and the client side needs no torch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.loader import ModelLoadError
from engine.media.errors import MediaError
from engine.service.runner import JobRunner, classify
from engine.tensors.errors import CheckpointError
from engine.weights.store import ModelStore


@pytest.mark.parametrize(
    ("error", "kind", "hint"),
    [
        (torch.OutOfMemoryError("CUDA out of memory"), "out_of_memory", "lower precision"),
        (ModelLoadError("toyworld does not fit cuda"), "out_of_memory", "shorter duration"),
        (CheckpointError("model.safetensors is truncated"), "bad_checkpoint", "istar models verify toyworld"),
        (MediaError("x.png is not an image"), "bad_input", ""),
        (KeyError("surprise"), "crashed", "log"),
    ],
)
def test_each_failure_has_its_kind_and_a_hint(error, kind, hint):
    got_kind, got_hint = classify(error, "toyworld")
    assert got_kind == kind and hint in got_hint


def test_a_damaged_model_file_fails_the_job_as_bad_checkpoint_and_names_the_file(micro_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(micro_home, home)
    store = ModelStore(home / "models")
    shard = sorted((home / "models" / "test-micro" / "transformer").glob("*.safetensors"))[0]
    os.truncate(shard, 100)
    features = tmp_path / "features.safetensors"
    save_file({"text": torch.zeros(5, 32)}, features)
    events: list[p.Message] = []
    spec = JobSpec(kind="generate", model="test-micro", output=str(tmp_path / "x.mp4"), seconds=0, device="cpu",
                   text_features=str(features))
    JobRunner(store, events.append).run(spec, lambda: False)
    assert isinstance(events[-1], p.Failed) and events[-1].kind == "bad_checkpoint"
    assert shard.name in events[-1].message and "truncated" in events[-1].message
    assert "istar models verify test-micro" in events[-1].hint
    assert not (tmp_path / "x.mp4").exists()


def _failure(store: ModelStore, tmp_path, **fields) -> p.Failed:
    events: list[p.Message] = []
    fields.setdefault("prompts", ("a red circle",))
    spec = JobSpec(kind=fields.pop("kind", "generate"), model="toyworld", output=str(tmp_path / "x.mp4"),
                   seconds=fields.pop("seconds", 0), device="cpu", **fields)
    JobRunner(store, events.append).run(spec, lambda: False)
    assert isinstance(events[-1], p.Failed)
    assert not (tmp_path / "x.mp4").exists()
    return events[-1]


@pytest.mark.parametrize("precision", ["nf4", "int8"])
def test_a_quantised_precision_on_the_built_in_model_is_the_users_mistake(tmp_path, precision):
    store = ModelStore(tmp_path / "models")
    assert store.is_builtin("toyworld")
    failed = _failure(store, tmp_path, precision=precision)
    assert (failed.kind, failed.hint) == ("bad_input", "")
    assert failed.message == (
        f"precision {precision} is not available for toyworld: it ships with the studio, read-only, and cannot be "
        "quantised; choose fp32 or bf16, or leave the precision to the load plan"
    )


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.bits", b"my shopping list", "is not a bits file"),
        ("old.bits.safetensors", b"not a safetensors file at all", "is not a safetensors file"),
        ("weights.bits.safetensors", {"text": torch.zeros(3)}, "holds no generation bits"),
    ],
)
def test_continuing_from_a_file_that_is_not_bits_is_the_users_mistake(tmp_path, name, content, says):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        save_file(content, path)
    failed = _failure(ModelStore(tmp_path / "models"), tmp_path, kind="continue", continue_from=str(path),
                      seconds=2)
    assert failed.kind == "bad_input" and "verify" not in failed.hint
    assert str(path) in failed.message and says in failed.message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"garbage garbage garbage", "is not a safetensors file"),
        (b"\x08\x00\x00\x00\x00\x00\x00\x00{notjson", "is not a safetensors file: its header is not JSON"),
    ],
)
def test_a_garbage_text_features_file_is_the_users_mistake(tmp_path, content, says):
    path = tmp_path / "features.safetensors"
    path.write_bytes(content)
    failed = _failure(ModelStore(tmp_path / "models"), tmp_path, prompts=(), text_features=str(path))
    assert (failed.kind, failed.hint) == ("bad_input", "")
    assert failed.message.startswith(f"the text features file {path} {says}")


def test_the_client_side_imports_neither_torch_nor_qt():
    code = ("import sys; import engine.api.client, engine.api.job_book, engine.cli.jobs; "
            "print(sorted(m for m in ('torch', 'numpy', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
