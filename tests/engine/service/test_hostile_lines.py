"""Lines meant to stop the engine, and numbers no video can be made with: a line of 100,000 `[`, 20 MiB without a
newline, `Infinity` and `NaN` in a job, a guidance scale of 1e308. Each is refused by name and the engine, the
`istar serve` server and the `istar` command all go on as before. An event the engine cannot encode fails its job
instead of ending the engine."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from engine_session import engine_lines, toyworld_job

from engine.api import protocol as p
from engine.api.server_address import read_token
from engine.api.transport import LocalEngine, RemoteEngine
from engine.cli.main import main
from engine.service.runner import JobRunner
from engine.service.server import EngineServer
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore

DEEP = b"[" * 100_000 + b"\n"
ENDLESS = b"x" * (20 * 1024 * 1024)  # a line of 20 MiB with no newline yet
OVER_THE_LIMIT = f"refused a message: a message is longer than the limit of {p.MAX_LINE_BYTES} bytes"


def _submit_line(job: dict, **raw: str) -> bytes:
    """A submit line whose job has `raw` fields written as JSON tokens (Infinity, NaN), which encode refuses."""
    line = p.encode(p.Submit(job)).rstrip(b"\n")
    fields = "".join(f', "{name}": {token}' for name, token in raw.items()).encode()
    return line[:-2] + fields + b"}}\n"


def test_the_engine_survives_deep_lines_and_bad_numbers_and_answers_the_next_message(home, tmp_path):
    with engine_lines(home / "engine.log") as (engine, lines, ready):
        good = toyworld_job(tmp_path, "good").to_json()
        bad = {
            "deep": (DEEP, None, "not a JSON message: the line is nested deeper than 64 levels (line 1, column 65)"),
            "deep job": (_submit_line({**good, "id": "deep"}, prompts="[" * 50_000), "deep", "nested deeper than 64"),
            "infinite guidance": (_submit_line({**good, "id": "inf"}, guidance_scale="Infinity"), "inf",
                                  "the line holds Infinity, not a finite number"),
            "nan temperature": (_submit_line({**good, "id": "nan"}, tau_video="NaN"), "nan",
                                "the line holds NaN, not a finite number"),
            "huge guidance": (p.encode(p.Submit({**good, "id": "huge", "guidance_scale": 1e308})), "huge",
                              "job field 'guidance_scale' must be a number above 0 and up to 50, got 1e+308"),
            "fade past the end": (p.encode(p.Submit({**good, "id": "fade", "kind": "bridge", "seconds": 1,
                                                     "continue_from": "a.bits", "bridge_to": "b.mp4",
                                                     "crossfade_seconds": 2})), "fade",
                                  "'crossfade_seconds' must be a number from 0 up to the job's 1 s"),
        }
        for name, (line, job_id, says) in bad.items():
            engine.send(line)
            reply = p.decode(next(lines))
            assert isinstance(reply, p.Failed) and reply.kind == "bad_input", (name, reply)
            assert says in reply.message and reply.job_id == (job_id if name != "deep job" else None), (name, reply)
        engine.send(p.encode(p.ListModels("cpu", 1)))
        models = p.decode(next(lines))
        assert isinstance(models, p.Models) and "toyworld" in [m.id for m in models.models]
        assert engine.process.poll() is None and engine.pid == ready.pid


def _refuses_an_endless_line_then_lists_models(engine: LocalEngine | RemoteEngine, lines: Iterator[bytes]) -> None:
    engine.send(ENDLESS)
    engine.send(b"\n" + p.encode(p.ListModels("cpu", 1)))
    refused = p.decode(next(lines))
    assert isinstance(refused, p.Failed) and (refused.job_id, refused.kind) == (None, "bad_input")
    assert refused.message == OVER_THE_LIMIT
    models = p.decode(next(lines))
    assert isinstance(models, p.Models) and "toyworld" in [m.id for m in models.models]


def test_the_engine_refuses_20_mib_without_a_newline_and_answers_the_next_message(home):
    with engine_lines(home / "engine.log") as (engine, lines, ready):
        assert isinstance(ready, p.Ready)
        _refuses_an_endless_line_then_lists_models(engine, lines)
        assert engine.process.poll() is None


@pytest.fixture
def server(home, tmp_path):
    token = read_token(tmp_path / "token", create=True)
    ports: queue.Queue[int] = queue.Queue()
    thread = threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, token, ModelStore(), ports.put), daemon=True)
    thread.start()
    return ports.get(timeout=30), token, thread


def _first_line(port: int, line: bytes) -> bytes:
    """What the server answers a connection whose first line is `line` (b"" when it hung up without a word)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            conn.sendall(line)
            return conn.makefile("rb").readline()
        except ConnectionError:  # a refusal that closed before all of the line was read
            return b""


def test_a_deep_first_line_on_a_connection_is_refused_and_the_server_serves_on(server):
    port, token, thread = server
    reply = p.decode(_first_line(port, b"[" * 10_000 + b"\n"))
    assert isinstance(reply, p.Failed) and reply.message.startswith("connection refused: no valid hello (not a JSON")
    assert "nested deeper than 64 levels" in reply.message
    answer = _first_line(port, DEEP)
    assert answer == b"" or p.decode(answer).message.startswith("connection refused")
    assert thread.is_alive()
    engine = RemoteEngine("127.0.0.1", port, token)
    try:
        lines = iter(engine.lines())
        assert isinstance(p.decode(next(lines)), p.Ready)
        engine.send(p.encode(p.ListModels("cpu", 1)))
        assert isinstance(p.decode(next(lines)), p.Models)
    finally:
        engine.close(5)


def test_the_server_refuses_20_mib_without_a_newline_and_answers_the_next_message(server):
    port, token, thread = server
    engine = RemoteEngine("127.0.0.1", port, token)
    try:
        lines = iter(engine.lines())
        assert isinstance(p.decode(next(lines)), p.Ready)
        _refuses_an_endless_line_then_lists_models(engine, lines)
        assert thread.is_alive()
    finally:
        engine.close(5)


def test_an_event_the_engine_cannot_encode_fails_its_job_and_the_engine_serves_on(home, tmp_path, monkeypatch):
    """NaN in an event (a progress with a NaN time) used to be taken for a closed pipe: the engine stopped."""

    def nan_progress(self, spec, cancelled):
        self.emit(p.Progress(spec.id, 0, 1, 0, float("nan"), None))

    monkeypatch.setattr(JobRunner, "_run", nan_progress)
    events: queue.Queue[p.Message] = queue.Queue()
    lines: queue.Queue[bytes | None] = queue.Queue()
    store = ModelStore()
    server = EngineServer(lambda emit: JobRunner(store, emit), lambda line: events.put(p.decode(line)), pid=0)
    thread = threading.Thread(target=server.serve, args=(iter(lines.get, None),), daemon=True)
    thread.start()
    try:
        spec = toyworld_job(tmp_path, "nan")
        lines.put(p.encode(p.Submit(spec.to_json())))
        seen = [events.get(timeout=30) for _ in range(3)]
        assert [type(e) for e in seen] == [p.Ready, p.Accepted, p.Failed]
        failed = seen[-1]
        assert (failed.job_id, failed.kind) == (spec.id, "crashed")
        assert "a 'progress' message cannot be sent: Out of range float values are not JSON compliant" in failed.message
        lines.put(p.encode(p.ListModels("cpu", 1)))
        assert isinstance(events.get(timeout=30), p.Models) and thread.is_alive()
    finally:
        lines.put(None)
        thread.join(30)


def test_istar_generate_with_a_guidance_scale_of_1e308_exits_2_naming_the_option(home, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "generate", "--prompt", "a red ball", "--guidance-scale", "1e308",
         "-o", str(tmp_path / "x.mp4")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "istar generate: --guidance-scale must be a number above 0 and up to 50, got 1e+308\n"
    assert not list(tmp_path.glob("x.*")) and not (home / "logs").exists()  # refused before any engine started


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("generate", "--tau-video", "nan"), "istar generate: --tau-video must be a number above 0 and up to 5, "
                                             "got nan"),
        (("generate", "--guidance-scale", "inf"), "istar generate: --guidance-scale must be a number above 0 and up "
                                                  "to 50, got inf"),
        (("generate", "--tau-image", "0"), "istar generate: --tau-image must be a number above 0 and up to 5, got 0.0"),
        (("generate", "--seed", "-1"), "istar generate: --seed must be a whole number from 0 to 2^63 - 1, got -1"),
        (("storyboard", "--duration", "601"), "istar storyboard: --duration must be whole seconds from 0 to 600"),
    ],
)
def test_each_number_out_of_range_is_one_line_naming_its_option(home, tmp_path, capsys, args, says):
    code = main([*args, "--prompt", "a red ball", "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(says) and err.count("\n") == 1, err
