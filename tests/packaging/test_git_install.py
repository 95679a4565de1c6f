"""The way in from another repository: docs/install.md's pip line with a `git+file://` URL.

A temporary clone of this repository (HEAD: what is committed, as in CI's clean clone), tagged,
installed into a fresh virtualenv by the line exactly as the guide writes it, `MEIBEL_KIT` set to
the clone's URL. pip clones it and builds the wheel from git's files with hatchling (from the
session's wheelhouse): the wheel must carry the bundled document, and /docs its Swagger UI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.kit_install import ROOT, Venv, clean_env, make_venv, offline_pip, run, tagged_clone

GUIDE = ROOT / "docs" / "install.md"
SPEC = ROOT / "spec" / "api-v2.json"


def guide_block(marker: str) -> str:
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, f"no block marked {marker!r} in {GUIDE.name}"
    return found.group(1)


@pytest.fixture(scope="module")
def kit_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`MEIBEL_KIT` for these tests: a tagged clone's git URL."""
    return tagged_clone(tmp_path_factory.mktemp("git-install") / "meibel-contract-kit", "v0.0.0-test")


@pytest.fixture(scope="module")
def installed(kit_url: str, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    base = tmp_path_factory.mktemp("pip-install")
    venv = make_venv(base / ".venv", wheelhouse)
    project = base / "project"
    project.mkdir()
    result = venv.run(
        "bash", "-euc", guide_block("run: install-pip"), cwd=project, env={"MEIBEL_KIT": kit_url}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def test_the_guide_installs_from_a_git_url_and_a_tag(installed: Venv) -> None:
    assert "@ $MEIBEL_KIT" in guide_block("run: install-pip")
    listed = installed.run("python", "-m", "pip", "show", "meibel-contract-kit", cwd=installed.root)
    assert listed.returncode == 0 and "Name: meibel-contract-kit" in listed.stdout
    direct = installed.run(
        "python",
        "-c",
        "import importlib.metadata as m; print(m.distribution('meibel-contract-kit').read_text('direct_url.json'))",
        cwd=installed.root,
    )
    origin = json.loads(direct.stdout)
    assert (
        origin["url"].startswith("file://localhost/")
        and origin["vcs_info"]["requested_revision"] == "v0.0.0-test"
    )


def test_the_commands_run(installed: Venv, tmp_path: Path) -> None:
    helped = installed.run("meibel-mock", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "usage: meibel-mock" in helped.stdout
    old = json.loads(SPEC.read_text())
    new = json.loads(SPEC.read_text())
    new["components"]["schemas"]["BatchExecutionResponse"]["required"].remove("status")
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    diff = installed.run("meibel-contract", "diff", "old.json", "new.json", cwd=tmp_path)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "response-body-property-became-optional" in diff.stdout


def test_the_wheel_built_from_git_carries_the_document_and_the_docs_page(
    installed: Venv, tmp_path: Path
) -> None:
    probe = (
        "from mock_server.contract import bundled_document_path; from mock_server.http.docs_ui import page;"
        "print(bundled_document_path()); print(page('t') is not None)"
    )
    result = installed.run("python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path, has_page = result.stdout.split()
    assert Path(path).is_relative_to(installed.root) and Path(path).read_bytes() == SPEC.read_bytes()
    assert has_page == "True"


@pytest.mark.parametrize("tool", ["pipx", "uv"])
def test_the_commands_alone_with_pipx_or_uv(
    tool: str, kit_url: str, wheelhouse: Path, tmp_path: Path
) -> None:
    """docs/install.md's pipx and uv lines as written, each tool's homes in a temporary directory,
    packages from the wheelhouse only (pipx through pip's settings, uv through its own)."""
    found = shutil.which(tool, path=str(Path(sys.executable).parent))
    assert found, f"{tool} is missing from the dev install (pip install -e '.[dev]')"
    bin_dir = tmp_path / "bin"
    env = clean_env(
        {
            "MEIBEL_KIT": kit_url,
            "PATH": f"{Path(found).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            **offline_pip(wheelhouse),
            "PIPX_HOME": str(tmp_path / "pipx"),
            "PIPX_BIN_DIR": str(bin_dir),
            "PIPX_MAN_DIR": str(tmp_path / "man"),
            "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
            "UV_TOOL_BIN_DIR": str(bin_dir),
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "UV_OFFLINE": "1",
            "UV_NO_INDEX": "1",
            "UV_FIND_LINKS": str(wheelhouse),
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    line = guide_block(f"run: install-{tool}")
    assert line.split()[0] == tool and "@ $MEIBEL_KIT" in line
    installed = run(["bash", "-euc", line], cwd=tmp_path, env=env, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert sorted(p.name for p in bin_dir.iterdir()) == ["meibel-contract", "meibel-mock"]
    spec = tmp_path / "a.json"
    spec.write_text(SPEC.read_text())
    diff = run([bin_dir / "meibel-contract", "diff", spec, spec], cwd=tmp_path, env=clean_env(), check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr


def _install_block(page: Path) -> str:
    """The page's block that installs the kit from `$MEIBEL_KIT`, less the line that sets it to
    the placeholder URL (the test sets it to the clone's)."""
    [block] = [
        code
        for code in re.findall(r"```sh\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        if "@ $MEIBEL_KIT" in code
    ]
    lines = block.splitlines()
    assert lines[0].startswith("MEIBEL_KIT=git+https://") and lines[0].split()[0].endswith("@v0.2.0")
    return "\n".join(lines[1:])


@pytest.mark.parametrize("page", ["README.md", "docs/sdk-testing.md"])
def test_the_readme_and_the_sdk_guide_install_as_written(
    page: str, kit_url: str, wheelhouse: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path / ".venv", wheelhouse)
    project = tmp_path / "project"
    project.mkdir()
    done = venv.run("bash", "-euc", _install_block(ROOT / page), cwd=project, env={"MEIBEL_KIT": kit_url})
    assert done.returncode == 0, done.stdout + done.stderr
    if page == "README.md":
        found = venv.run("meibel-contract", "--version", cwd=project)  # the [contract] extra's command
        assert found.returncode == 0 and found.stdout.startswith("meibel-contract "), found.stderr
        return
    # The SDK guide: its first test, in a repository that has only what the line installed.
    [first] = re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), re.S)[:1]
    (project / "test_first.py").write_text(first)
    tested = venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr
