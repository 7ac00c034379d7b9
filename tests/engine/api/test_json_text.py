"""The one reader of JSON from outside: a line of 100,000 `[`, NaN, Infinity, 1e999 and oversize text are refused
with an error naming what was read and where, never a RecursionError; ordinary JSON reads as json.loads reads it."""

from __future__ import annotations

import json

import pytest

from engine.api.json_text import MAX_DEPTH, JSONTextError, loads_limited


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 100_000, "the queue is nested deeper than 64 levels (line 1, column 65)"),
        ('{"a": ' * 100_000, "the queue is nested deeper than 64 levels (line 1, column 385)"),
        ("[" * 65 + "]" * 65, "the queue is nested deeper than 64 levels"),
        ('{"guidance_scale": Infinity}', "the queue holds Infinity, not a finite number (line 1, column 20)"),
        ('{"tau_video": -Infinity}', "holds -Infinity, not a finite number"),
        ('{"tau_video": NaN}', "the queue holds NaN, not a finite number (line 1, column 15)"),
        ('{"guidance_scale": 1e999}', "holds 1e999, not a finite number"),
        ("[" + "9" * 5000 + "]", "holds a number with too many digits"),
        ('{"jobs": [', "the queue is not JSON: Expecting value (line 1, column 11)"),
        (b"\xff\xfe{}", "the queue is not UTF-8 text (byte 0)"),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(text, says):
    with pytest.raises(JSONTextError) as err:
        loads_limited(text, "the queue")
    assert says in str(err.value)
    assert isinstance(err.value, json.JSONDecodeError | ValueError)  # what callers caught before still catches it


def test_size_is_bounded_before_anything_is_read():
    with pytest.raises(JSONTextError, match=r"the line is 101 bytes, over the limit of 100"):
        loads_limited(b"[" * 101, "the line", max_bytes=100)


def test_ordinary_json_reads_as_json_loads_reads_it():
    body = {"v": 2, "nested": [[[{"a": [1, 2.5, -3e-4, None, True]}]]], "text": '[[[[{{{ NaN Infinity \\" ]]]'}
    text = json.dumps(body)
    assert loads_limited(text, "a line") == json.loads(text) == body
    assert loads_limited(text.encode(), "a line") == body
    assert loads_limited("[" * MAX_DEPTH + "]" * MAX_DEPTH, "a line") == json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)


def test_brackets_and_nan_inside_strings_are_text_not_structure():
    text = json.dumps({"prompt": "[" * 10_000 + " NaN Infinity 1e999 " + "{" * 10_000})
    assert loads_limited(text, "a prompt")["prompt"].startswith("[[[")


def test_non_finite_numbers_can_be_let_through_where_asked():
    assert loads_limited('{"x": NaN, "id": "j1"}', "a line", finite=False)["id"] == "j1"
    with pytest.raises(JSONTextError, match="nested deeper"):  # the depth bound stays
        loads_limited("[" * 100_000, "a line", finite=False)


def test_a_large_flat_line_reads_whole():
    preview = json.dumps({"v": 2, "type": "preview", "rgb": "QUJD" * 250_000, "values": list(range(50_000))})
    assert len(loads_limited(preview, "a preview")["rgb"]) == 1_000_000


@pytest.mark.parametrize("text", ['"' + '\\"' * 2_000_000, '"' + "\\" * 4_000_000, "[]," * 1_300_000,
                                  '"a",' * 1_000_000, "[" * 4_000_000])
def test_a_hostile_line_of_4_mb_is_refused(text):
    """An unterminated string of escaped quotes made a quadratic scan take minutes for 80 kB; the scan is regular
    expressions without nested repetition, so this test ending at all is the check (no clock is read)."""
    with pytest.raises(JSONTextError):
        loads_limited(text, "the line")
