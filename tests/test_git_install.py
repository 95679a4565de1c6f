"""The way in from another repository: docs/install.md's pip line with a `git+file://` URL.

A temporary clone of this repository (HEAD: what is committed, as in CI's clean clone), tagged,
installed into a fresh virtualenv by the line exactly as the guide writes it, `MEIBEL_KIT` set to
the clone's URL. pip clones it and builds the wheel from git's files with hatchling (from the
session's wheelhouse): the wheel must carry the bundled document, and /docs its Swagger UI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.kit_install import ROOT, Venv, make_venv, tagged_clone

GUIDE = ROOT / "docs" / "install.md"
SPEC = ROOT / "spec" / "api-v2.json"


def guide_block(marker: str) -> str:
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, f"no block marked {marker!r} in {GUIDE.name}"
    return found.group(1)


@pytest.fixture(scope="module")
def installed(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    base = tmp_path_factory.mktemp("git-install")
    url = tagged_clone(base / "meibel-contract-kit", "v0.0.0-test")
    venv = make_venv(base / ".venv", wheelhouse)
    project = base / "project"
    project.mkdir()
    result = venv.run("bash", "-euc", guide_block("run: install-pip"), cwd=project, env={"MEIBEL_KIT": url})
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
        "from mock_server.contract import bundled_document_path; from mock_server.docs_ui import page;"
        "print(bundled_document_path()); print(page('t') is not None)"
    )
    result = installed.run("python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path, has_page = result.stdout.split()
    assert Path(path).is_relative_to(installed.root) and Path(path).read_bytes() == SPEC.read_bytes()
    assert has_page == "True"
