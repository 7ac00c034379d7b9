"""Compare a checkpoint's tensor names and shapes with a model's, and name every difference in one error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.tensors.errors import CheckpointError

LISTED = 8  # tensors named per kind of mismatch; a wrong file would otherwise list hundreds

Shape = Sequence[int]


def named(kind: str, names: list[str]) -> str:
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return f"{len(names)} {kind}: {', '.join(names[:LISTED])}{more}"


def dims(shape: Shape) -> str:
    return "x".join(map(str, shape)) or "a scalar"


def check_shapes(
    expected: Mapping[str, Shape | None],
    found: Mapping[str, Shape],
    source: str,
    model: str,
    error: type[CheckpointError] = CheckpointError,
) -> None:
    """Raise `error` naming every tensor of `found` missing from, alien to or shaped unlike `expected`
    (an expected shape of None accepts any shape)."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    misshaped = [
        f"{k} is {dims(found[k])}, not {dims(v)}"
        for k, v in expected.items()
        if k in found and v is not None and tuple(found[k]) != tuple(v)
    ]
    kinds = (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped))
    problems = [named(kind, names) for kind, names in kinds if names]
    if problems:
        raise error(f"{source} does not fit this {model} config: " + "; ".join(problems))
