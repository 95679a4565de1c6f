"""The bundled document must not break clients of the committed baseline (docs/diff.md)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from contract_tests.diff import assert_no_breaking_changes
from contract_tests.diff.cli import main
from tests.diff_corpus import BUNDLED, ROOT

BASELINE = ROOT / "spec" / "baseline" / "api-v2.json"
DOCS = ROOT / "docs" / "diff.md"


def test_the_bundled_document_does_not_break_clients_of_the_baseline() -> None:
    # A deliberate break: copy spec/api-v2.json over spec/baseline/api-v2.json in the same change.
    assert_no_breaking_changes(BASELINE, BUNDLED)


def _recipe(text: str) -> str:
    found: set[str] = set(
        re.findall(r"run: (meibel-contract diff git:origin/main:\S+ \S+)$", text, re.MULTILINE)
    )
    (command,) = found  # one recipe, however often it is shown
    return command


def test_the_ci_recipe_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = _recipe(DOCS.read_text(encoding="utf-8"))
    # a clone as actions/checkout leaves it with fetch-depth 0: origin/main exists
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "api-v2.json").write_bytes(BUNDLED.read_bytes())
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "spec"],
        ["commit", "-q", "-m", "document"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
    ):
        subprocess.run(
            [
                "git",
                "-c",
                "user.name=kit",
                "-c",
                "user.email=kit@example.invalid",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            timeout=30,
        )
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)[2:]
    assert main(argv) == 0
    assert "No changes a client could notice." in capsys.readouterr().out
    spec = tmp_path / "spec" / "api-v2.json"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace('"Meibel-API-Key"', '"X-Meibel-Key"'), encoding="utf-8"
    )
    assert main(argv) == 1
    assert "`Meibel-API-Key` changed to header `X-Meibel-Key`" in capsys.readouterr().out
