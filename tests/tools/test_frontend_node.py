"""docs/frontend.md's TypeScript, run as written: types generated from the mock's /openapi.json
with the documented openapi-typescript command, the client and the MSW handlers type-checked with
tsc and run with node against a mock on 127.0.0.1.

Opt-in (`MEIBEL_NODE_TESTS=1`; .ci/run sets it when node and npm are installed): it installs the
npm packages pinned in tests/data/frontend/package.json from the registry, once, into .cache/
(git-ignored), and reuses them while that file is unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mock_server import Contract, create_app
from mock_server.cli import main
from mock_server.testing import ThreadedServer, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "frontend.md"
PACKAGE = ROOT / "tests" / "data" / "frontend" / "package.json"
CACHE = ROOT / ".cache"
GENERATE = "npx openapi-typescript http://127.0.0.1:8000/openapi.json -o src/meibel.d.ts --default-non-nullable false"
DOC_ORIGIN = "127.0.0.1:8000"

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("MEIBEL_NODE_TESTS") != "1",
        reason="installs npm packages from the registry: set MEIBEL_NODE_TESTS=1 to run (CI does)",
    ),
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None, reason="node and npm are not installed"
    ),
]


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    project = CACHE / "frontend-node"
    project.mkdir(parents=True, exist_ok=True)
    wanted = PACKAGE.read_text()
    stamp = project / "package.json"
    if not (project / "node_modules").is_dir() or not stamp.exists() or stamp.read_text() != wanted:
        stamp.write_text(wanted)
        npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"--cache={CACHE / 'npm'}"]
        done = run([*npm, "--prefer-offline"], project, timeout=600)
        assert done.returncode == 0, f"npm install failed:\n{done.stderr[-2000:]}"
    return project / "node_modules"


@pytest.fixture(scope="module")
def mock_app(contract: Contract) -> Starlette:
    return create_app(contract)


@pytest.fixture(scope="module")
def mock(mock_app: Starlette) -> Iterator[ThreadedServer]:
    with serve_in_thread(mock_app) as server:
        yield server


def snippets() -> dict[str, str]:
    """Every code block of the page under a line that names its file: **`NAME`**."""
    found = re.findall(r"^\*\*`(\S+)`\*\*\n\n```\w+\n(.*?)```", DOC.read_text(), re.S | re.M)
    return dict(found)


def shell_lines(containing: str) -> list[str]:
    return [
        line
        for code in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
        for line in code.splitlines()
        if containing in line
    ]


def printed_after(command: str) -> list[str]:
    """The `text` block the page shows after `command`: what it prints."""
    found = re.search(re.escape(command) + r"\n```\n.*?```text\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"no output shown for {command!r}"
    return found.group(1).splitlines()


def test_the_install_line_installs_every_package_the_snippets_import() -> None:
    # A package left out of the page's install line fails `npx tsc` with TS2307 in a user's app.
    [install] = shell_lines("npm install")
    named = {word for word in install.split() if re.fullmatch(r"[a-z@][\w@/.-]*", word)} - {"npm", "install"}
    imported = {
        name if name.startswith("@") else name.split("/")[0]
        for code in snippets().values()
        for name in re.findall(r'from "([^".][^"]*)"', code)
    }
    assert imported <= named, imported - named
    assert named == set(json.loads(PACKAGE.read_text())["devDependencies"])  # the versions this test pins


def project(tmp_path: Path, node_modules: Path, mock: ThreadedServer) -> Path:
    """A fresh app directory: `npm init -y` and the page's `npm pkg set` line, the page's files as
    written (their 127.0.0.1:8000 made the test mock's address), the fixture files, and the shared
    node_modules."""
    for command in ["npm init -y", *shell_lines("npm pkg set")]:
        done = run(["bash", "-c", command], tmp_path)
        assert done.returncode == 0, done.stderr
    (tmp_path / "node_modules").symlink_to(node_modules, target_is_directory=True)
    for name, code in snippets().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code.replace(DOC_ORIGIN, f"{mock.host}:{mock.port}"))
    assert main(["fixtures", "--out", str(tmp_path / "src" / "fixtures")]) == 0
    return tmp_path


def generate(app: Path, mock: ThreadedServer, command: str = GENERATE) -> None:
    assert command in DOC.read_text() or command == GENERATE.removesuffix(" --default-non-nullable false")
    done = run(command.replace(DOC_ORIGIN, f"{mock.host}:{mock.port}").split(), app)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_typed_client_and_the_msw_handlers_run_as_written(
    tmp_path: Path,
    node_modules: Path,
    mock: ThreadedServer,
    mock_app: Starlette,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert set(snippets()) == {
        "src/client.ts",
        "src/main.ts",
        "src/handlers.ts",
        "src/msw-demo.ts",
        "tsconfig.json",
    }
    app = project(tmp_path, node_modules, mock)
    capsys.readouterr()
    generate(app, mock)
    compiled = run(["npx", "tsc"], app)
    assert compiled.returncode == 0, compiled.stdout[-3000:]

    journal = mock_app.state.journal
    journal.clear()
    [command] = shell_lines("node out/main.js")
    against_mock = run(["bash", "-c", command], app, timeout=120)
    assert against_mock.returncode == 0, against_mock.stderr[-2000:]
    lines = against_mock.stdout.splitlines()
    shown = printed_after(command)
    assert re.fullmatch(r"201: [0-9a-f-]{36} pending", lines[0]), lines
    assert shown[0].startswith("201: ") and shown[0].endswith("… pending")
    assert (
        lines[1:]
        == shown[1:]
        == [
            "422: body.batch_spec_json.input.datasource_id: Field required",
            "401: Not authenticated",
            "503: Service unavailable (injected by the mock: Prefer: fault)",
        ]
    )
    assert [e.status for e in journal.entries()] == [201, 422, 401, 503]  # the mock answered

    journal.clear()
    [command] = shell_lines("node out/msw-demo.js")
    with_msw = run(["bash", "-c", command], app, timeout=120)
    assert with_msw.returncode == 0, with_msw.stderr[-2000:]
    assert (
        with_msw.stdout.splitlines()
        == printed_after(command)
        == [
            "201: failed (from MSW)",
            "422: body.batch_spec_json.input.datasource_id: Field required",
            "401: Not authenticated",
        ]
    )
    assert journal.entries() == []  # MSW answered: nothing reached the mock


def test_without_the_flag_the_request_body_does_not_compile(
    tmp_path: Path, node_modules: Path, mock: ThreadedServer
) -> None:
    # Why the page insists on --default-non-nullable false: the default makes defaulted fields required.
    app = project(tmp_path, node_modules, mock)
    generate(app, mock, GENERATE.removesuffix(" --default-non-nullable false"))
    compiled = run(["npx", "tsc", "--noEmit"], app)
    assert compiled.returncode != 0
    assert "Property 'additional_properties' is missing" in compiled.stdout
