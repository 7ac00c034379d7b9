"""A client that sends 20 MiB without a newline: the engine reads at most its line limit of it at once, refuses it as
over the limit and answers the next line, here and through the engine's own lines reader."""

from __future__ import annotations

import io

from engine.api import protocol as p
from engine.service.bounded_lines import SKIP_BYTES, bounded_lines
from engine.service.runner import JobRunner
from engine.service.server import EngineServer
from engine.weights.store import ModelStore

HUGE = b"x" * (20 * 1024 * 1024)  # no newline in it
LIST_MODELS = p.encode(p.ListModels("cpu", 1))
REFUSAL = f"refused a message: a message is longer than the limit of {p.MAX_LINE_BYTES} bytes"


class Recorded(io.BytesIO):
    """A stream that notes the size of each line read asked of it and of each answer."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []
        self.got: list[int] = []

    def readline(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        line = super().readline(size)
        self.got.append(len(line))
        return line


def test_a_line_of_20_mib_is_cut_at_the_limit_and_the_next_line_comes_whole():
    stream = Recorded(HUGE + b"\n" + LIST_MODELS)
    lines = list(bounded_lines(stream))
    assert [len(line) for line in lines] == [p.MAX_LINE_BYTES + 1, len(LIST_MODELS)]
    assert lines[1] == LIST_MODELS
    assert all(0 < size <= p.MAX_LINE_BYTES + 1 for size in stream.asked)  # never a whole line, whatever its length
    assert max(stream.got[1:-2]) == SKIP_BYTES  # the rest of the long line went by in small pieces


def test_a_line_without_an_end_is_cut_and_the_input_ends():
    assert [len(line) for line in bounded_lines(io.BytesIO(HUGE))] == [p.MAX_LINE_BYTES + 1]


def test_lines_at_and_just_over_the_limit_are_kept_whole():
    at = b"a" * (p.MAX_LINE_BYTES - 1) + b"\n"
    over = b"b" * p.MAX_LINE_BYTES + b"\n"
    assert list(bounded_lines(io.BytesIO(at + over + LIST_MODELS))) == [at, over, LIST_MODELS]


def test_the_bytes_read_before_the_stream_come_first_in_their_lines():
    stream = io.BytesIO(b'ols"}\n' + LIST_MODELS)
    assert list(bounded_lines(stream, head=b'{"one":1}\n{"to')) == [b'{"one":1}\n', b'{"tools"}\n', LIST_MODELS]


def test_a_long_line_that_began_before_the_stream_is_cut_at_the_limit():
    lines = list(bounded_lines(io.BytesIO(HUGE + b"\n" + LIST_MODELS), head=b"yyyy"))
    assert [len(line) for line in lines] == [p.MAX_LINE_BYTES + 1, len(LIST_MODELS)]
    assert lines[0].startswith(b"yyyyx") and lines[1] == LIST_MODELS


def test_the_engine_refuses_20_mib_without_a_newline_and_then_lists_its_models(home):
    events: list[p.Message] = []
    store = ModelStore()
    server = EngineServer(lambda emit: JobRunner(store, emit), lambda line: events.append(p.decode(line)), pid=0)
    server.serve(bounded_lines(io.BytesIO(HUGE + b"\n" + LIST_MODELS)))
    ready, refused, models = events
    assert isinstance(ready, p.Ready)
    assert isinstance(refused, p.Failed) and (refused.job_id, refused.kind) == (None, "bad_input")
    assert refused.message == REFUSAL
    assert isinstance(models, p.Models) and "toyworld" in [m.id for m in models.models]
