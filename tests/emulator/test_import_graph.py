"""The emulator's imports: none runs in a circle, and none reaches outside `reconciler.emulator`.

The graph is built from the source with `ast`, over the whole `reconciler` package, and counts every import
wherever it is written: at the top, inside a function, under `TYPE_CHECKING`. `from package import name` is
an edge to the module `package.name` when there is one, else to `package`. Only cycles that hold an
emulator module fail here (the rest of the code base has its own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler

PACKAGE = Path(reconciler.__file__).resolve().parent
EMULATOR = "reconciler.emulator"


def sources() -> dict[str, tuple[str, bool]]:
    """Every module of `reconciler`: its source and whether it is a package's `__init__`."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return found


def import_graph(modules: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """module -> the modules it imports, of those in `modules`."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in modules.items():
        package = module if is_package else module.rpartition(".")[0]
        targets: list[str] = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                targets += [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        graph[module] = {t for t in map(resolve, targets) if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def is_emulator(module: str) -> bool:
    return module == EMULATOR or module.startswith(EMULATOR + ".")


def test_no_import_cycle_holds_an_emulator_module() -> None:
    graph = import_graph(sources())
    assert len([m for m in graph if is_emulator(m)]) > 20
    assert [c for c in cycles(graph) if any(is_emulator(m) for m in c)] == []


def test_the_emulator_imports_nothing_else_of_reconciler() -> None:
    graph = import_graph(sources())
    outside = {
        module: sorted(t for t in targets if t != "reconciler" and not is_emulator(t))
        for module, targets in graph.items()
        if is_emulator(module)
    }
    assert {m: t for m, t in outside.items() if t} == {}


def test_the_graph_sees_every_kind_of_import() -> None:
    """Circles through a function-level import, a `TYPE_CHECKING` one and a relative one are all found."""
    modules = {
        "p": ("", True),
        "p.a": ("import json\nfrom p import b\n", False),
        "p.b": ("def f() -> None:\n    from p.c import g\n", False),
        "p.c": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.a import X\n", False),
        "p.d": ("from . import e\n", False),
        "p.e": ("from .d import h\n", False),
        "p.f": ("import p.a\n", False),
    }
    graph = import_graph(modules)
    assert graph["p.a"] == {"p.b"} and graph["p.f"] == {"p.a"}
    assert cycles(graph) == [["p.a", "p.b", "p.c"], ["p.d", "p.e"]]
