"""No import cycles among the kit's modules, lazy (function-level) imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mock_server", "contract_tests")


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module → the modules of `packages` it imports, anywhere in its body."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import submodule` imports the submodule; other names, the package.
                targets = [
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                    for alias in node.names
                ]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycles_in_the_kit() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert "mock_server.options" in graph["mock_server.proxy"]  # the graph sees lazy imports too
    assert cycles(graph) == []


def test_the_proxy_does_not_import_the_cli() -> None:
    assert "mock_server.cli" not in import_graph(ROOT, PACKAGES)["mock_server.proxy"]


@pytest.mark.parametrize("lazy", [False, True], ids=["top-level", "in-a-function"])
def test_the_checker_finds_a_cycle(tmp_path: Path, lazy: bool) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    indent = "def f():\n    " if lazy else ""
    (package / "b.py").write_text(f"{indent}from pkg import a\n")
    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_one_ref_resolver_in_the_kit() -> None:
    # Unescaping a JSON pointer's `~1` is what a pointer-walking resolver does: only refs.py may.
    walkers = [
        f"{package}/{path.name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).glob("*.py"))
        if path.name != "refs.py" and '"~1", "/"' in path.read_text()
    ]
    assert walkers == []
    for name in ("generation", "selection"):
        module = __import__(f"mock_server.{name}", fromlist=["_"])
        assert not hasattr(module, "deref")
        assert not hasattr(getattr(module, "Generator", object), "resolve")
