"""No import cycle among the studio's and the engine's modules. A cycle makes a module's meaning depend on which
side is imported first, and it is how a part comes to need the whole window (issue 28: the generation actions took
the MainWindow, whose module imports them).

The graph is read from the source, not from an import: every import a module makes when it is loaded counts, those
under `if TYPE_CHECKING:` too (a type named there is still a dependency), but not those inside a function. Importing
`a.b.c` loads the packages `a` and `a.b` first, so those are edges too, except from a module inside them (its own
packages are loaded before it is); `from a.b import c` is an edge to the module `a.b.c` when there is one, else to
`a.b`.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("desktop", "engine")

Graph = dict[str, dict[str, int]]  # module -> {module it imports: the line of the first such import}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(tree: ast.Module):
    """The import statements that run when the module is loaded: at its top level, in its `if`, `try` and `with`
    blocks and class bodies, not in functions."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def _loaded_by(name: str, importer: str) -> list[str]:
    """`name` and the packages above it, less those `importer` is inside of (already loaded before it)."""
    parts = name.split(".")
    loaded = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return [m for m in loaded if not importer.startswith(m + ".")]


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> Graph:
    files = {module_name(p, root): p for package in packages for p in sorted((root / package).rglob("*.py"))}
    graph: Graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in sorted(_load_time_imports(ast.parse(path.read_text(), str(path))), key=lambda n: n.lineno):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    kept = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*kept, base] if base else kept)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                           for alias in node.names]
            for target in targets:
                for loaded in _loaded_by(target, name):
                    if loaded in files and loaded != name:
                        edges.setdefault(loaded, node.lineno)
        graph[name] = edges
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's components with more than one module: each holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # iterative, so a deep graph cannot hit the recursion limit
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def shortest_cycle(graph: Graph, component: list[str]) -> list[str]:
    """A shortest way from the component's first module back to itself, through the component."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target not in members or target in came_from:
                continue
            came_from[target] = node
            if target == start:
                path = [start]
                while True:
                    path.append(came_from[path[-1]])
                    if path[-1] == start:
                        return path[::-1]
            queue.append(target)
    raise AssertionError(f"{component} is not strongly connected")


def describe(graph: Graph, cycle: list[str]) -> str:
    steps = [f"  {a} imports {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_no_import_cycle_among_the_studio_and_engine_modules():
    graph = import_graph()
    cycles = [describe(graph, shortest_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_graph_sees_the_imports_that_make_a_cycle(tmp_path):
    """What the check above counts: a TYPE_CHECKING import, a `from package import module`, a relative import
    and the package a submodule is loaded through; an import inside a function is not one."""
    files = {
        "app/__init__.py": "",
        "app/window.py": "from app.parts import actions\n",
        "app/parts/__init__.py": "from . import helpers\n",
        "app/parts/actions.py": ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                                 "    from app.window import Window\n"),
        "app/parts/helpers.py": "from app.parts.late import f\n",
        "app/parts/late.py": "def f():\n    from app import window\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, ("app",))
    assert graph["app.window"] == {"app.parts": 1, "app.parts.actions": 1}  # loading actions loads app.parts
    assert graph["app.parts.actions"] == {"app.window": 4}  # under TYPE_CHECKING; `app` is loaded before it
    assert graph["app.parts"] == {"app.parts.helpers": 1}
    assert graph["app.parts.helpers"] == {"app.parts.late": 1}  # not its own package, loaded before it
    assert graph["app.parts.late"] == {}  # its import runs only when f is called
    [component] = strongly_connected(graph)
    assert component == ["app.parts.actions", "app.window"]
    assert describe(graph, shortest_cycle(graph, component)).splitlines() == [
        "app.parts.actions -> app.window -> app.parts.actions",
        "  app.parts.actions imports app.window (line 4)",
        "  app.window imports app.parts.actions (line 1)",
    ]
