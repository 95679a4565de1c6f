"""docs/live-checks.md, run as written: the command, the CI recipes, the verdict line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from contract_tests.cli import _parser, main
from contract_tests.reports.summary import NO_SUCCESS
from mock_server.testing import serve_in_thread
from tests import broken
from tests.contract.test_checker import outer_run_kept

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "live-checks.md"


def _block(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, f"no block marked {marker!r} in {GUIDE.name}"
    return found.group(1)


def _command(text: str) -> list[str]:
    """The meibel-contract command of a shell line or a folded YAML scalar, variables filled in."""
    text = re.sub(r"\$\{\{[^}]*\}\}|\$\w+", "x", text)
    words = shlex.split(text)
    return words[words.index("meibel-contract") + 1 :]


def test_the_command_runs_as_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    line = _block("run: contract").strip()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEIBEL_API_KEY", broken.KEY)
    with serve_in_thread(broken.mock()) as server, outer_run_kept():
        args = [a.replace("https://staging.example.com", server.origin) for a in _command(line)]
        code = main([*args, "--max-examples=5", "--rate-limit=2000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / "contract.xml").is_file()
    assert out.rstrip().splitlines()[-1].endswith(NO_SUCCESS)
    assert NO_SUCCESS in GUIDE.read_text().replace("\n", " ")


@pytest.mark.parametrize("marker", ["ci: github", "ci: gitlab"])
def test_the_ci_recipes_are_valid_and_keep_the_key_off_the_command_line(marker: str) -> None:
    recipe = yaml.safe_load(_block(marker))
    strings = list(_strings(recipe))
    [command] = [s for s in strings if s.startswith("meibel-contract ")]
    options = _parser().parse_args(_command(command))  # every option exists and parses
    assert options.max_writes == 5 and options.junit_xml == "contract.xml"
    assert options.api_key is None  # the key travels in the environment
    assert any("contract.xml" in s.split() for s in strings)  # the report is kept as an artifact


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def test_the_guides_count_lines_are_the_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    """The counts lines and the Verdict the guide shows have the form a run prints."""
    with serve_in_thread(broken.mock()) as server, outer_run_kept():
        code = main(
            [
                f"--base-url={server.origin}/v2",
                f"--api-key={broken.KEY}",
                "--max-examples=5",
                "--rate-limit=2000",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    guide = GUIDE.read_text()
    for prefix in ("cases: ", "requests: ", "writes: ", "Verdict: pass ("):
        shown = [line for line in guide.splitlines() if line.startswith(prefix)]
        printed = [line for line in out.splitlines() if line.startswith(prefix)]
        assert shown and len(printed) == 1, (prefix, out)
        for line in shown:
            assert _shape(line) == _shape(printed[0]) or prefix == "writes: ", (line, printed[0])
    assert re.search(r"^cases: \d+ generated = \d+ sent \+ ", out, re.M)


def _shape(line: str) -> str:
    """A line with its numbers and the optional parts that differ between runs left out."""
    line = re.sub(r"\d+", "N", line)
    return re.sub(r" \+ N boundary cases over .*| \+ N withheld as writes \(--max-writes N\)", "", line)
