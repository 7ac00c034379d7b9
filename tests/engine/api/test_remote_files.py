"""The client's side of a served engine's files: what the engine sends lands beside the job's output and nowhere
else, whole or not at all, and an engine of another protocol is named as such."""

from __future__ import annotations

import base64
import queue

from engine.api import protocol as p
from engine.api.client import EngineClient
from engine.api.jobs import JobSpec
from engine.api.remote_files import RemoteFiles, upload_suffix


def _spec(folder, **fields) -> JobSpec:
    return JobSpec(kind="generate", model="toyworld", output=str(folder / "out.mp4"), prompts=("a ball",), **fields)


def _chunks(job_id: str, name: str, data: bytes, size: int = 4) -> list[p.FileData]:
    pieces = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    return [p.FileData(job_id, name, i * size, base64.b64encode(piece).decode(), i == len(pieces) - 1)
            for i, piece in enumerate(pieces)]


def test_a_job_is_sent_with_its_inputs_uploaded_and_its_output_by_name(tmp_path):
    sent = []
    files = RemoteFiles(sent.append, "gpu-box:7860")
    picture = tmp_path / "Frame.PNG"
    picture.write_bytes(b"\x89PNG" + bytes(range(256)) * 9000)  # over one chunk
    submit = files.submit(_spec(tmp_path, image=str(picture)))
    uploads = [p.decode(line) for line in sent]
    assert len(uploads) == 3 and [u.last for u in uploads] == [False, False, True]
    assert b"".join(base64.b64decode(u.data) for u in uploads) == picture.read_bytes()
    assert submit.job["output"] == "out.mp4" and submit.job["image"] == f"upload:{uploads[0].sha256}.png"
    assert str(tmp_path) not in str(submit.job)


def test_the_files_of_a_job_land_beside_its_output_and_the_event_names_them(tmp_path):
    files = RemoteFiles(lambda line: None, "gpu-box:7860")
    spec = _spec(tmp_path)
    files.submit(spec)
    for name, data in (("out.clips/clip_01.mp4", b"clip video"), ("out.clips/clip_01.bits", b"clip bits")):
        assert all(files.arrived(c) is None for c in _chunks(spec.id, name, data))
    ready = files.arrived(p.ClipReady(spec.id, 1, 0, 9, "out.clips/clip_01.mp4", "out.clips/clip_01.bits", None))
    assert ready.video == str(tmp_path / "out.clips" / "clip_01.mp4")
    assert (tmp_path / "out.clips" / "clip_01.bits").read_bytes() == b"clip bits"


def test_an_engine_cannot_write_outside_the_jobs_own_files(tmp_path):
    files = RemoteFiles(lambda line: None, "gpu-box:7860")
    (tmp_path / "mine").mkdir()
    spec = _spec(tmp_path / "mine")
    files.submit(spec)
    for name in ("../evil.mp4", "/tmp/evil.mp4", "out.clips/../../evil.mp4", "other.mp4", "out.clips/x.sh"):
        for chunk in _chunks(spec.id, name, b"evil"):
            files.arrived(chunk)
    finished = p.Finished(spec.id, "../evil.mp4", "out.bits", None, 1.0, 1.0, 0.0)
    failed = files.arrived(finished)
    assert isinstance(failed, p.Failed) and failed.kind == "crashed"
    assert "not one of the job's files" in failed.message and "gpu-box:7860" in failed.message
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["mine"]


def test_a_file_cut_off_midway_leaves_nothing_and_fails_the_job(tmp_path):
    files = RemoteFiles(lambda line: None, "gpu-box:7860")
    spec = _spec(tmp_path)
    files.submit(spec)
    chunks = _chunks(spec.id, "out.mp4", b"0123456789")
    files.arrived(chunks[0])
    files.arrived(chunks[2])  # one lost in between
    failed = files.arrived(p.Finished(spec.id, "out.mp4", "out.bits", None, 1.0, 1.0, 0.0))
    assert isinstance(failed, p.Failed) and "a piece at byte 8, expected 4" in failed.message
    assert list(tmp_path.iterdir()) == []


def test_upload_suffixes_are_kept_only_when_plain():
    assert upload_suffix("clip.bits.safetensors") == ".bits.safetensors"
    assert upload_suffix("Frame.JPG") == ".jpg"
    assert upload_suffix("no suffix") == ""
    assert upload_suffix("a.b c") == ""


class OldEngine:
    """An engine speaking protocol 2."""

    def __init__(self) -> None:
        self.closed = False

    def send(self, line: bytes) -> None:
        pass

    def lines(self):
        yield b'{"v": 2, "type": "ready", "protocol": 2, "engine_version": "0.1", "pid": 1}\n'

    def close(self, timeout: float) -> None:
        self.closed = True

    def gone_reason(self) -> str:
        return "the connection closed"

    def job_message(self, spec: JobSpec) -> p.Submit:
        return p.Submit(spec.to_json())

    def arrived(self, message: p.Message) -> p.Message:
        return message


def test_an_engine_of_another_protocol_fails_the_job_saying_so(tmp_path):
    events: queue.Queue[p.Message] = queue.Queue()
    client = EngineClient(OldEngine, events.put)
    spec = _spec(tmp_path)
    client.submit(spec)
    failed = events.get(timeout=30)
    assert isinstance(failed, p.Failed) and failed.job_id == spec.id
    assert failed.message == "the engine speaks protocol 2 and this client 3: update the older of the two"
    client.close()
