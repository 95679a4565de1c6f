"""meibel-mock fixtures --out DIR: one validated JSON file per scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.invariants import execution_violations
from mock_server import Contract
from mock_server.answer.scenarios import SCENARIOS
from mock_server.cli import main
from tests.oracle import Oracle


def test_one_file_per_scenario_each_valid(
    tmp_path: Path, contract: Contract, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fixtures", "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(
        [*(f"createExecution.{s}.json" for s in SCENARIOS), "createExecution.validation_error_422.json"]
    )
    assert capsys.readouterr().out.count("\n") == len(written)
    oracle = Oracle(contract.document)
    for scenario in SCENARIOS:
        raw = (tmp_path / "out" / f"createExecution.{scenario}.json").read_bytes()
        oracle.check_response("/v2/batch-executions", {}, 201, raw)
        assert execution_violations(json.loads(raw)) == []
    raw = (tmp_path / "out" / "createExecution.validation_error_422.json").read_bytes()
    oracle.check_response("/v2/batch-executions", {}, 422, raw)  # the status its name says


def test_fixtures_are_the_same_bytes_from_two_processes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        subprocess.run(
            [sys.executable, "-m", "mock_server", "fixtures", "--out", str(tmp_path / name), "--seed", "4"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_unwritable_directory_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["fixtures", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meibel-mock: error: cannot create") and err.count("\n") == 1


def test_a_document_without_the_operation_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.schema.test_generation import SHOP

    assert main(["fixtures", "--out", str(tmp_path), "--spec", str(SHOP)]) == 2
    assert "no createExecution operation" in capsys.readouterr().err
