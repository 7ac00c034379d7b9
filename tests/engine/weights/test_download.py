"""Downloading a model from a local stand-in for the hub: resume, sha256 rejection, and offline failure."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import time
from pathlib import Path

import pytest
from fake_hub import FakeHub, received_before_drop, serving
from model_release import release_bytes, write_release

from engine.api.install_events import InstallFailed, InstallStep, read_install_event
from engine.cli.main import main
from engine.weights.catalogue import CATALOGUE
from engine.weights.manifest import ModelStoreError
from engine.weights.store import ModelStore

MICRO = CATALOGUE["test-micro"]
SHARD1 = f"{MICRO.weights_dir}/model-00001-of-00002.safetensors"
SHARD2 = f"{MICRO.weights_dir}/model-00002-of-00002.safetensors"


@contextlib.contextmanager
def no_waiting(monkeypatch):
    """The sleeps (a retry's back-off) and connection attempts made inside the block, in order."""
    waited: list[str] = []
    real_sleep, real_connect = time.sleep, socket.socket.connect

    def connect(self, address):
        waited.append("connect")
        return real_connect(self, address)

    with monkeypatch.context() as patch:
        patch.setattr(time, "sleep", lambda seconds: waited.append(f"sleep {seconds}") or real_sleep(seconds))
        patch.setattr(socket.socket, "connect", connect)
        yield waited


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    return release_bytes(write_release(tmp_path_factory.mktemp("release"), MICRO))


@pytest.fixture
def hub(files, monkeypatch):
    with serving(MICRO.repo, files, monkeypatch) as hub:
        yield hub


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def quiet(_: InstallStep) -> None:
    pass


def test_a_dropped_transfer_resumes_and_bad_bytes_are_never_installed(hub: FakeHub, store, files) -> None:
    hub.faults = {SHARD1: ["drop"], SHARD2: ["corrupt"]}
    with pytest.raises(ModelStoreError, match=rf"{SHARD2} from {MICRO.repo} does not match the hub's sha256: "
                                              rf"expected {hashlib.sha256(files[SHARD2]).hexdigest()}"):
        store.download("test-micro", progress=quiet)
    have = received_before_drop(files[SHARD1])
    assert hub.requests[:2] == [(SHARD1, None), (SHARD1, f"bytes={have}-")]  # resumed after the drop
    assert not (store.root / "test-micro").exists()
    staged = store.root / ".installing-test-micro"
    assert not [p for p in staged.rglob("*") if "model-00002" in p.name]  # the bad bytes were discarded

    hub.requests.clear()
    steps: list[InstallStep] = []
    manifest = store.download("test-micro", progress=steps.append)
    fetched = [name for name, _ in hub.requests]
    assert SHARD1 not in fetched and fetched.count(SHARD2) == 1  # the finished shard was kept from the first run
    index = f"{MICRO.weights_dir}/model.safetensors.index.json"
    assert [(s.action, s.name, s.index, s.total) for s in steps] == [
        ("kept", SHARD1, 1, 5), ("downloading", SHARD2, 2, 5), ("downloading", index, 3, 5),
        ("downloading", MICRO.vae_file, 4, 5), ("converting", "infinitystar_videovae.pth", 5, 5),
    ], "three weights files, the VAE, its conversion; the shard the first run finished is kept"
    assert manifest.source == {"repo": MICRO.repo, "revision": hub.commit}
    folder = store.root / "test-micro"
    for name in (SHARD1, SHARD2, f"{MICRO.weights_dir}/model.safetensors.index.json"):
        installed = folder / "transformer" / Path(name).name
        assert installed.read_bytes() == files[name]
    [vae] = [f for f in manifest.files if f.role == "vae"]
    assert vae.converted_from["sha256"] == hashlib.sha256(files[MICRO.vae_file]).hexdigest()
    assert sorted(p.name for p in store.root.iterdir()) == ["test-micro"]
    assert store.verify("test-micro") == [] and store.resolve("test-micro").precision == "fp32"


def test_a_part_file_left_by_a_stopped_download_is_resumed_by_the_next_run(hub: FakeHub, store, files) -> None:
    hub.faults = {SHARD1: ["drop", "fail"]}
    with pytest.raises(ModelStoreError, match=rf"downloading {SHARD1} stopped: .*500.*Run the same command again"):
        store.download("test-micro", progress=quiet)
    have = received_before_drop(files[SHARD1])
    part = store.root / ".installing-test-micro" / "transformer" / "model-00001-of-00002.safetensors.part"
    assert part.read_bytes() == files[SHARD1][:have]

    hub.requests.clear()
    steps: list[InstallStep] = []
    store.download("test-micro", progress=steps.append)
    assert hub.requests[0] == (SHARD1, f"bytes={have}-")
    assert steps[0].describe() == f"[1/5] downloading {SHARD1} (resuming after {have:,} bytes)"
    assert steps[-1].index == steps[-1].total == 5
    assert (store.root / "test-micro/transformer/model-00001-of-00002.safetensors").read_bytes() == files[SHARD1]


def test_offline_fails_at_once_and_says_how_to_install_from_a_folder(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with no_waiting(monkeypatch) as waited:
        assert main(["models", "download", "infinitystar-8b-720p"]) == 2
    assert waited == []  # at once: no connection tried, no retry slept on (counted, not timed)
    err = capsys.readouterr().err
    assert "offline mode is on (HF_HUB_OFFLINE)" in err
    assert "istar models install infinitystar-8b-720p --from DIR" in err
    assert "infinitystar_8b_720p_weights/, infinitystar_videovae.pth, text_encoder/flan-t5-xl-official/" in err

    assert main(["models", "download", "infinitystar-8b-720p", "--events"]) == 2
    out = capsys.readouterr()
    [event] = [read_install_event(line) for line in out.out.splitlines()]
    assert isinstance(event, InstallFailed) and "offline mode is on (HF_HUB_OFFLINE)" in event.message
    assert out.err == "", "with --events the failure is an event"


def test_no_route_to_the_hub_fails_at_once(monkeypatch, store) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with no_waiting(monkeypatch) as waited, pytest.raises(
        ModelStoreError, match=r"no connection to http://127.0.0.1:\d+ .*models install test-micro"
    ):
        store.download("test-micro", progress=quiet)
    # at once: a refused connection, and no retry slept on (counted, not timed)
    assert "connect" in waited and not [w for w in waited if w.startswith("sleep")], waited
    assert not (store.root / "test-micro").exists()
