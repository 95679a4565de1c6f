"""The README is the front door: short, its guide table on the first screen, every link alive, and
every command in it run as written (the install lines by tests/packaging/test_packaging.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.cli import banner
from mock_server.cli import main as mock_main
from mock_server.testing import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
ORIGIN = "http://127.0.0.1:8000"


def _blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == language]


def test_the_readme_is_short_and_shows_the_guides_on_its_first_screen() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    first_screen = "\n".join(lines[:40])
    assert "## Pick your guide" in first_screen
    for guide in (
        "sdk-testing",
        "frontend",
        "live-checks",
        "diff",
        "other-documents",
        "recordings",
        "mock",
        "install",
    ):
        assert f"(docs/{guide}.md)" in first_screen, guide


@pytest.mark.parametrize(
    "page", [README, ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *DOCS], ids=lambda p: p.name
)
def test_every_local_link_leads_to_a_file_and_an_anchor_that_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked.read_text(encoding="utf-8")), f"{page.name}: {target}"


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.*)$", BLOCK.sub("", text), re.MULTILINE)
    }


def test_the_curl_commands_run_as_written() -> None:
    commands = [code for code in _blocks("sh") if code.startswith("curl")]
    assert len(commands) == 2
    with serve_in_thread(create_app(load_contract(), settings=Settings(seed=0))) as server:
        statuses = []
        for command in commands:
            script = command.replace(ORIGIN, server.origin)
            done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            answer = json.loads(done.stdout)
            statuses.append(answer["status"])
            assert answer["batch_spec_json"]["name"] == "Invoices"
    assert statuses == ["pending", "completed"]  # the second asks for completed_with_failures
    # the scenario it named is the one it got: at least one item failed
    assert answer["failed"] >= 1


def test_the_sdk_example_runs_as_written() -> None:
    [code] = _blocks("python")
    with serve_in_thread(create_app(load_contract(), settings=Settings(seed=0))) as server:
        done = subprocess.run(
            [sys.executable, "-c", code.replace(ORIGIN, server.origin)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    status, total = done.stdout.split()
    assert status == "pending" and int(total) >= 1


def test_the_fixtures_command_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    [command] = re.findall(r"`meibel-mock (fixtures --out fixtures/)`", text)
    monkeypatch.chdir(tmp_path)
    assert mock_main(command.split()) == 0
    written = sorted(p.name for p in (tmp_path / "fixtures").iterdir())
    assert "createExecution.completed_with_failures.json" in written and len(written) >= 7


def test_the_banner_is_the_one_the_mock_prints() -> None:
    [shown] = [code for code in _blocks("text") if code.startswith("$ meibel-mock\n")]
    contract = load_contract()
    printed = banner(contract, Settings(), "127.0.0.1", 8000).splitlines()
    expected = [line.replace(str(contract.source), "…/api-v2.json") for line in printed]
    # The Try line is cut at the key: the rest is a generated body.
    shown_lines = shown.splitlines()[1:]
    assert len(shown_lines) == len(expected)
    for line, real in zip(shown_lines, expected, strict=True):
        assert real.startswith(line.removesuffix(" …")), (line, real)


def test_both_commands_print_the_one_version(capsys: pytest.CaptureFixture[str]) -> None:
    from contract_tests.entry import main as contract_main
    from mock_server import __version__

    assert contract_main(["--version"]) == 0
    assert capsys.readouterr().out == f"meibel-contract {__version__}\n"
    with pytest.raises(SystemExit) as exit_:
        mock_main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"meibel-mock {__version__}\n"
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
