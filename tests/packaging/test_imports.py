"""The layout's rules, read from the source: no import cycles (lazy, function-level imports
included), each stage package importing only the stages below it, the core free of Starlette, and
small modules in small packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mock_server", "contract_tests")


def modules_of(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name → file, for every module of `packages` and their subpackages."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module → the modules of `packages` it imports, anywhere in its body."""
    modules = modules_of(root, packages)
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


def third_party(path: Path) -> set[str]:
    """The top-level names of what `path` imports from outside the kit, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found - set(PACKAGES)


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


GRAPH = import_graph(ROOT, PACKAGES)


def test_no_import_cycles_in_the_kit() -> None:
    assert "mock_server.options" in GRAPH["mock_server.traffic.proxy"]  # the graph sees lazy imports too
    assert "mock_server.http.docs_ui" in GRAPH["mock_server.app"]  # and `from package import module`
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("lazy", [False, True], ids=["top-level", "in-a-function"])
def test_the_checker_finds_a_cycle(tmp_path: Path, lazy: bool) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub.b import thing\n")
    indent = "def f():\n    " if lazy else ""
    (package / "sub" / "b.py").write_text(f"{indent}from pkg import a\n")
    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.sub.b", "pkg.a"]]


# The mock's stages, each allowed the ones below it. A request passes them upwards: the document is
# read, its schemas compiled, a request read, an answer chosen; the state and HTTP stand beside them,
# and the engine, the app and the tools on top (cli, options, testing, fixtures, watch, traffic/)
# coordinate them all.
STAGES: dict[str, set[str]] = {
    "mock_server.document": set(),
    "mock_server.schema": {"mock_server.document"},
    "mock_server.contract": {"mock_server.document", "mock_server.schema"},
    "mock_server.request": {"mock_server.document", "mock_server.schema"},
    "mock_server.state": set(),
    "mock_server.answer": {
        "mock_server.document",
        "mock_server.schema",
        "mock_server.contract",
        "mock_server.request",
        "mock_server.state",
    },
    "mock_server.http": {"mock_server.answer", "mock_server.state"},
}
# What every stage may use: the package's own names, its errors, and the settings every layer reads.
SHARED = {"mock_server", "mock_server.errors", "mock_server.settings"}
TOOLS = ("mock_server.cli", "mock_server.options", "mock_server.traffic", "mock_server.fixtures")


def stage_of(module: str) -> str | None:
    return next((stage for stage in STAGES if module == stage or module.startswith(f"{stage}.")), None)


def test_each_stage_imports_only_the_stages_below_it() -> None:
    upward = sorted(
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if (stage := stage_of(module)) is not None
        for target in targets
        if target not in SHARED and stage_of(target) not in {stage, *STAGES[stage]}
    )
    assert upward == []


def test_nothing_below_the_tools_imports_them() -> None:
    # The engine and the app serve without the command line, and a stage never reaches for the proxy.
    found = sorted(
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if module.startswith("mock_server") and not module.startswith((*TOOLS, "mock_server.__main__"))
        for target in targets
        if target.startswith(TOOLS)
    )
    assert found == []


def test_the_checker_of_stages_bites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "mock_server.document.refs", {"mock_server.schema.validation"})
    with pytest.raises(AssertionError, match=r"document\.refs → mock_server\.schema\.validation"):
        test_each_stage_imports_only_the_stages_below_it()


CORE = (
    *(stage for stage in STAGES if stage != "mock_server.http"),
    "mock_server.engine",
    "mock_server.settings",
)


def test_the_core_imports_no_http_framework() -> None:
    # The decisions are testable without a server, and the document diff loads without one.
    web = {"starlette", "uvicorn", "httptools", "h11", "httpx"}
    found = {
        name: sorted(third_party(path) & web)
        for name, path in modules_of(ROOT, ("mock_server",)).items()
        if any(name == core or name.startswith(f"{core}.") for core in CORE)
    }
    assert {name: uses for name, uses in found.items() if uses} == {}
    assert "mock_server.request.parameters" in found and "mock_server.engine" in found


def test_the_live_check_never_imports_the_mocks_answers() -> None:
    # The checker judges answers by the document and the domain's rules, never by how the mock makes them.
    found = sorted(
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if module.startswith("contract_tests")
        for target in targets
        if target.startswith(("mock_server.answer", "mock_server.schema.generation", "mock_server.engine"))
    )
    assert found == []


def test_the_proxy_does_not_import_the_cli() -> None:
    assert "mock_server.cli" not in GRAPH["mock_server.traffic.proxy"]


def test_the_tools_checker_bites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "mock_server.engine", {"mock_server.options"})
    with pytest.raises(AssertionError, match=r"mock_server\.engine → mock_server\.options"):
        test_nothing_below_the_tools_imports_them()


MAX_LINES = 500
MAX_TOP_LEVEL = {"mock_server": 12, "contract_tests": 16}
MAX_PACKAGE = 12


def test_no_module_over_500_lines() -> None:
    long = {
        name: lines
        for name, path in modules_of(ROOT, PACKAGES).items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_small_packages() -> None:
    sizes = {
        str(package.relative_to(ROOT)): len(list(package.glob("*.py")))
        for top in PACKAGES
        for package in [ROOT / top, *(p.parent for p in (ROOT / top).rglob("*/__init__.py"))]
    }
    for top, most in MAX_TOP_LEVEL.items():
        assert sizes.pop(top) <= most, top
    assert {name: size for name, size in sizes.items() if size > MAX_PACKAGE} == {}
    assert not list((ROOT / "contract_tests").glob("diff_*.py"))  # the diff is a package


def test_one_ref_resolver_in_the_kit() -> None:
    # Unescaping a JSON pointer's `~1` is what a pointer-walking resolver does: only refs.py may.
    walkers = [
        name
        for name, path in modules_of(ROOT, PACKAGES).items()
        if name != "mock_server.document.refs" and '"~1", "/"' in path.read_text()
    ]
    assert walkers == []
    for name in ("schema.generation", "answer.selection"):
        module = __import__(f"mock_server.{name}", fromlist=["_"])
        assert not hasattr(module, "deref")
        assert not hasattr(getattr(module, "Generator", object), "resolve")
