"""A studio or `istar` command using an engine served over the network: its files go there and come back over the
connection, it works exactly as with a local engine, and no client can name a path on the server."""

from __future__ import annotations

import base64
import hashlib
import queue
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from engine_session import Session, toyworld_job

from engine.api import protocol as p
from engine.api.records import read_provenance
from engine.api.server_address import read_token
from engine.api.transport import RemoteEngine
from engine.media.image import write_png
from engine.media.mp4 import read_frames, read_metadata
from engine.service.served_files import JobsFolder
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore

HANG_GUARD = 120.0


@pytest.fixture
def served(home, tmp_path):
    """(port, token, the server's jobs folder): an `istar serve` on this machine, its files apart from the client's."""
    token = read_token(tmp_path / "token", create=True)
    folder = JobsFolder(tmp_path / "server" / "served", keep_seconds=3600)
    ports: queue.Queue[int] = queue.Queue()
    threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, token, ModelStore(), ports.put),
                     kwargs={"jobs_folder": folder}, daemon=True).start()
    return ports.get(timeout=30), token, folder


@pytest.fixture
def studio(served, tmp_path):
    port, token, _ = served
    session = Session(tmp_path / "unused.log", connect=lambda: RemoteEngine("127.0.0.1", port, token))
    yield session
    session.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_a_served_engine_makes_and_continues_a_video_whose_files_all_land_on_the_client(served, studio, tmp_path):
    _, _, server_folder = served
    mine = tmp_path / "mine"
    mine.mkdir()
    picture = mine / "first frame.png"
    write_png(picture, np.full((64, 64, 3), (200, 30, 30), np.uint8))

    first = toyworld_job(mine, "first", seconds=2, image=str(picture))
    studio.client.submit(first)
    events = studio.until_end(first.id)
    finished = events[-1]
    assert isinstance(finished, p.Finished), finished
    # every path in the events is on this machine, beside the output the job asked for
    assert finished.video == str(mine / "first.mp4") and finished.bits == str(mine / "first.bits")
    clips = [e for e in events if isinstance(e, p.ClipReady)]
    assert clips and all(Path(c.video).is_file() and Path(c.bits).is_file() for c in clips)
    assert all(Path(c.video).parent == mine / "first.clips" for c in clips)
    started = next(e for e in events if isinstance(e, p.Started))
    frames, _ = read_frames(finished.video)
    assert len(frames) == started.frames and sum(c.frames for c in clips) == started.frames
    record = read_provenance(read_metadata(finished.video)).single[0]
    assert record.inputs.first_frame_sha256 == _sha256(picture)  # the engine read the very file sent

    then = toyworld_job(mine, "then", kind="continue", seconds=1, continue_from=finished.bits)
    studio.client.submit(then)
    ended = studio.until_end(then.id)[-1]
    assert isinstance(ended, p.Finished) and Path(ended.video).parent == mine
    continued = read_provenance(read_metadata(ended.video)).single[0]
    assert continued.inputs.continued_from_sha256 == _sha256(mine / "first.bits")

    # the server kept its copies in its own folder only
    assert all(server_folder.root in f.parents for f in _under(server_folder.root))
    assert not list((tmp_path / "server").glob("*.mp4"))


class RawClient:
    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD)
        self.file = self.sock.makefile("rwb")
        self.send(p.Hello(token))
        assert isinstance(self.next(), p.Ready)

    def send(self, message: p.Message) -> None:
        self.file.write(p.encode(message))
        self.file.flush()

    def next(self) -> p.Message:
        return p.decode(self.file.readline())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def raw(served):
    port, token, _ = served
    client = RawClient(port, token)
    yield client
    client.close()


def _job(**fields) -> dict:
    return {"kind": "generate", "model": "toyworld", "output": "out.mp4", "prompts": ["a red ball"], "seconds": 1,
            "device": "cpu", "id": fields.pop("id", "j"), **fields}


@pytest.mark.parametrize("output", ["/tmp/evil.mp4", "../../evil.mp4", "sub/evil.mp4", "..mp4", ".hidden.mp4",
                                    "evil.sh", "C:\\evil.mp4"])
def test_a_network_client_cannot_choose_where_the_server_writes(raw, served, tmp_path, output):
    raw.send(p.Submit(_job(output=output)))
    refusal = raw.next()
    assert isinstance(refusal, p.Failed) and refusal.kind == "bad_input" and refusal.job_id == "j"
    assert "job field 'output' must be a file name such as clip.mp4" in refusal.message
    assert "takes no path" in refusal.message
    assert not (tmp_path / "evil.mp4").exists() and not Path("/tmp/evil.mp4").exists()


def test_a_network_client_cannot_read_or_probe_server_paths(raw, tmp_path):
    secret = tmp_path / "secret.bits"
    secret.write_bytes(b"ISTARBITS private")
    answers = []
    for i, path in enumerate([str(secret), str(tmp_path / "absent.bits"), "/etc/passwd"]):
        raw.send(p.Submit(_job(id=f"c{i}", kind="continue", prompts=[], continue_from=path)))
        answers.append(raw.next())
    assert all(isinstance(a, p.Failed) and a.kind == "bad_input" for a in answers)
    assert all("job field 'continue_from' must name a file sent in upload messages" in a.message for a in answers)
    # an existing and a missing path get the same answer but for the path itself: nothing to probe with (the two
    # names have the same length, so a message that cuts a long path short cuts both at the same place)
    assert answers[0].message.replace("secret", "absent") == answers[1].message
    assert "private" not in "".join(a.message for a in answers)


def _upload(client: RawClient, data: bytes, name: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    client.send(p.Upload(sha, name, 0, base64.b64encode(data).decode(), True))
    return p.upload_reference(sha, ".bits")


def test_a_failure_names_the_clients_file_never_the_servers_path(raw, served):
    _, _, folder = served
    reference = _upload(raw, b"not bits at all", "my video.bits")
    raw.send(p.Submit(_job(kind="continue", prompts=[], continue_from=reference)))
    ended = next(m for m in iter(raw.next, None) if isinstance(m, p.TERMINAL))
    assert isinstance(ended, p.Failed) and ended.kind == "bad_input"
    assert "my video.bits" in ended.message and str(folder.root) not in ended.message


def test_an_upload_that_does_not_match_its_hash_is_refused_and_kept_nowhere(raw, served):
    _, _, folder = served
    wrong = "0" * 64
    raw.send(p.Upload(wrong, "a.png", 0, base64.b64encode(b"some bytes").decode(), True))
    refusal = raw.next()
    assert isinstance(refusal, p.Failed) and refusal.kind == "bad_input"
    assert "a.png" in refusal.message and "not " + wrong in refusal.message
    assert _under(folder.uploads) == set()
    raw.send(p.Submit(_job(image=p.upload_reference(wrong, ".png"))))
    missing = raw.next()
    assert isinstance(missing, p.Failed) and "which this engine does not have: send the file" in missing.message


def test_an_upload_out_of_order_is_refused(raw):
    data = b"x" * 10
    sha = hashlib.sha256(data).hexdigest()
    raw.send(p.Upload(sha, "a.bits", 0, base64.b64encode(data[:4]).decode(), False))
    raw.send(p.Upload(sha, "a.bits", 7, base64.b64encode(data[7:]).decode(), True))
    refusal = raw.next()
    assert isinstance(refusal, p.Failed) and "a chunk at byte 7, expected 4" in refusal.message


def test_the_jobs_folder_keeps_what_is_used_and_sweeps_what_is_not(tmp_path):
    now = [1_000_000.0]
    folder = JobsFolder(tmp_path / "served", keep_seconds=3600, clock=lambda: now[0])
    old_upload, new_upload = folder.upload("a" * 64, ".png"), folder.upload("b" * 64, ".bits")
    old_job, busy_job = folder.job_folder("old"), folder.job_folder("busy")
    for path in (old_upload, new_upload):
        path.write_bytes(b"x")
    for job in (old_job, busy_job):
        job.mkdir()
        (job / "out.mp4").write_bytes(b"x")
    for path in (old_upload, new_upload, old_job, old_job / "out.mp4", busy_job, busy_job / "out.mp4"):
        folder.touch(path)
    now[0] += 1800
    folder.touch(new_upload)  # used again half an hour later
    now[0] += 3000
    assert set(folder.sweep(busy={busy_job})) == {old_upload, old_job}
    assert new_upload.is_file() and (busy_job / "out.mp4").is_file()
    now[0] += 3600
    assert set(folder.sweep()) == {new_upload, busy_job}
