"""Install events: each kind reads back as it was written, a line that is no event is None, and an event line that
is wrong is refused naming the field."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.api.install_events import (
    InstallDone,
    InstallFailed,
    InstallStep,
    encode_event,
    read_install_event,
)
from engine.api.records import RecordError

EVENTS = [
    InstallStep("copying", "transformer/model-00001-of-00002.safetensors", 2, 4),
    InstallStep("downloading", "weights/shard.safetensors", 1, 5, "(resuming after 4,096 bytes)"),
    InstallStep("kept", "vae/infinitystar_videovae.safetensors", 4, 4),
    InstallDone("test-micro", 4, 6_069_033, "/home/me/.istar/models/test-micro"),
    InstallFailed("test-micro is already installed"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_reads_back_as_it_was_written(event):
    line = encode_event(event)
    assert "\n" not in line and json.loads(line)["event"] == event.kind
    assert read_install_event(line) == event
    assert read_install_event(line + "\r\n") == event, "as a child process's line arrives"


def test_each_event_describes_itself_for_a_person():
    assert [e.describe() for e in EVENTS] == [
        "[2/4] copying transformer/model-00001-of-00002.safetensors",
        "[1/5] downloading weights/shard.safetensors (resuming after 4,096 bytes)",
        "[4/4] kept vae/infinitystar_videovae.safetensors",
        "installed test-micro in /home/me/.istar/models/test-micro: 4 files, 6.07 MB",
        "failed: test-micro is already installed",
    ]


@pytest.mark.parametrize("line", [
    "", "UserWarning: TypedStorage is deprecated", "{not json at all", '{"no_event": 1}', "[1, 2]", "42",
    "Traceback (most recent call last):", "{" + '"a": [' * 100_000, '{"event": "step", "index": NaN}',
])
def test_a_line_that_is_no_event_is_none(line):
    assert read_install_event(line) is None


STEP = json.loads(encode_event(EVENTS[0]))


@pytest.mark.parametrize(("body", "message"), [
    ({**STEP, "event": "progress"}, r"field 'event' of an install event should be one of step, done, failed"),
    ({**STEP, "event": 3}, r"field 'event' of an install event"),
    ({k: v for k, v in STEP.items() if k != "total"}, r"an install step needs the field 'total'"),
    ({**STEP, "index": "2"}, r"field 'index' of an install step should be a whole number, not '2'"),
    ({**STEP, "index": True}, r"field 'index' of an install step should be a whole number"),
    ({**STEP, "index": 5}, r"field 'index' of an install step should be 1 to 4, not 5"),
    ({**STEP, "index": 0}, r"field 'index' of an install step should be 1 to 4, not 0"),
    ({**STEP, "total": 0, "index": 0}, r"field 'total' of an install step should be at least 1"),
    ({**STEP, "name": None}, r"field 'name' of an install step should be text"),
    ({"event": "done", "model": "m", "files": 1, "folder": "/x"}, r"an install's end needs the field 'bytes'"),
    ({"event": "done", "model": "m", "files": -1, "bytes": 0, "folder": "/x"}, r"field 'files' .* not be negative"),
    ({"event": "failed"}, r"an install's failure needs the field 'message'"),
])
def test_a_wrong_event_line_is_refused_naming_its_field(body, message):
    with pytest.raises(RecordError, match=message):
        read_install_event(json.dumps(body))


def test_the_module_needs_neither_torch_nor_qt():
    code = ("import sys, engine.api.install_events\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('torch', 'PySide6', 'numpy')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
