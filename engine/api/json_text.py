"""The one reader of JSON that comes from outside the process: protocol lines, the job queue file, media metadata,
file headers. Standard library only.

`json.loads` recurses once per nested array or object, so one line of 100,000 `[` raises RecursionError, which is
no JSONDecodeError and stops whatever read it; it also reads NaN and Infinity (and 1e999 as infinity), numbers
nothing here can hold. `loads_limited` checks size and nesting depth before parsing and refuses non-finite numbers
while parsing; whatever is wrong raises JSONTextError naming what was read. JSONTextError is a JSONDecodeError (so a
ValueError), so a caller that already caught JSONDecodeError catches it too.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64  # nothing the studio or the engine writes nests deeper than about 8
MAX_BYTES = 64 * 2**20  # a queue of hundreds of long storyboards stays far below this

# A string, its escapes included; one left open runs to the end of the text (the closing quote is optional), so no
# start is tried twice and the scan stays linear whatever the text (`"` then `\"` again and again, say).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONTextError(json.JSONDecodeError):
    """Text that is not JSON this program reads. The message is `what` (which names it) and `problem` (what is wrong,
    as a verb phrase: "is nested deeper than 64 levels"), with the line and column where one is known."""

    def __init__(self, what: str, problem: str, doc: str = "", pos: int | None = None) -> None:
        super().__init__(problem, doc, pos or 0)
        if pos is not None:
            problem = f"{problem} (line {self.lineno}, column {self.colno})"
        self.what, self.problem = what, problem
        self.args = (f"{what} {problem}",)

    def __str__(self) -> str:
        return self.args[0]


class _NotFinite(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotFinite(token)
    return value


def _refuse_constant(token: str) -> float:
    raise _NotFinite(token)


def _blank_strings(text: str) -> str:
    """`text` with every string's contents blanked, so what is left is structure, at the same positions."""
    return _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)


def _too_deep_at(text: str, max_depth: int) -> int | None:
    """Where the text first nests deeper than `max_depth` (strings are not structure), or None."""
    if text.count("[") + text.count("{") <= max_depth:  # brackets in strings only add to this count: no deeper
        return None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("0", text))
    if brackets.count("[") + brackets.count("{") <= max_depth:
        return None
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= max_depth:
        return None
    depth = 0
    for m in _BRACKET.finditer(_blank_strings(text)):
        depth += _STEP[m.group()]
        if depth > max_depth:
            return m.start()
    return None  # pragma: no cover - the count above said there is such a place


def loads_limited(
    text: str | bytes, what: str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES,
    finite: bool = True,
) -> Any:
    """The JSON value in `text` (UTF-8 when bytes), read without recursing more than `max_depth` levels, from at
    most `max_bytes`; with `finite` (the default), NaN, Infinity and numbers too large for a float are refused.
    Anything wrong raises JSONTextError, its message starting with `what` ("the job queue /home/me/queue.json")."""
    if len(text) > max_bytes:
        raise JSONTextError(what, f"is {len(text):,} bytes, over the limit of {max_bytes:,}")
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise JSONTextError(what, f"is not UTF-8 text (byte {err.start})") from None
    if (at := _too_deep_at(text, max_depth)) is not None:
        raise JSONTextError(what, f"is nested deeper than {max_depth} levels", text, at)
    hooks = {"parse_float": _finite_float, "parse_constant": _refuse_constant} if finite else {}
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as err:
        raise JSONTextError(what, f"is not JSON: {err.msg}", text, err.pos) from None
    except _NotFinite as err:
        at = _blank_strings(text).find(err.token)
        raise JSONTextError(what, f"holds {err.token}, not a finite number", text, at if at >= 0 else None) from None
    except RecursionError:  # the depth check above keeps this from happening; a last guard
        raise JSONTextError(what, "is nested too deeply to read") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise JSONTextError(what, "holds a number with too many digits") from None
