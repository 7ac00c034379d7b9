"""The engine's packages form layers: no package imports, however indirectly, one that imports it.

A unit is a package (engine/<name>/) or a top-level module (engine/<name>.py). The graph is read from the source
with ast, so imports inside functions and under TYPE_CHECKING count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"

Edges = dict[str, dict[str, list[str]]]  # unit -> unit it imports -> "file:line" of each import


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "engine" and len(parts) > 1 else None


def imported_modules(node: ast.AST, package: list[str]) -> list[str]:
    """The absolute names an import statement reaches; `package` is the dotted package the file is in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package[: len(package) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    # `from engine import atomic` reaches engine.atomic; `from engine.x import y` reaches engine.x
    return [f"{module}.{alias.name}" for alias in node.names] if module == "engine" else [module]


def import_graph(root: Path = ENGINE) -> Edges:
    edges: Edges = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        source = rel.parts[1].removesuffix(".py")
        if source == "__init__":
            continue
        package = list(rel.parent.parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for module in imported_modules(node, package):
                target = unit_of(module)
                if target is not None and target != source:
                    edges.setdefault(source, {}).setdefault(target, []).append(f"{rel}:{node.lineno}")
    return edges


def find_cycle(edges: Edges) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the DFS path, "done" after
    path: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = "open"
        path.append(unit)
        for target in sorted(edges.get(unit, {})):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[unit] = "done"
        return None

    for unit in sorted(edges):
        if unit not in state and (cycle := visit(unit)):
            return cycle
    return None


def describe(cycle: list[str], edges: Edges) -> str:
    lines = [" -> ".join(cycle)]
    for a, b in itertools.pairwise(cycle):
        lines.append(f"  {a} -> {b}: " + ", ".join(edges[a][b]))
    return "\n".join(lines)


def test_the_engine_packages_import_one_another_without_a_cycle():
    edges = import_graph()
    cycle = find_cycle(edges)
    assert cycle is None, "engine packages import one another in a cycle:\n" + describe(cycle, edges)


def test_the_graph_sees_imports_at_the_top_and_inside_functions():
    edges = import_graph()
    assert "weights" in edges["loader"]  # engine/loader.py's top-level imports
    assert "loader" in edges["memory_probe"]  # imported inside probe_pipeline
    # the tensor-file layer sits below everything but atomic and the api, whose JSON reader reads its headers
    assert set(edges["tensors"]) == {"atomic", "api"}


def test_a_cycle_is_found_and_named_with_its_imports(tmp_path):
    (tmp_path / "engine" / "low").mkdir(parents=True)
    (tmp_path / "engine" / "low" / "reader.py").write_text("def f():\n    from engine.high import g\n")
    (tmp_path / "engine" / "high.py").write_text("from engine.low.reader import f\n")
    edges = import_graph(tmp_path / "engine")
    cycle = find_cycle(edges)
    assert cycle == ["high", "low", "high"]
    assert "low -> high: engine/low/reader.py:2" in describe(cycle, edges)
