"""meibel-contract as a CI gate: the same verdict every run, no false greens, JUnit CI can show."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contract_tests.cli import main
from contract_tests.reports.reproduce import curl_command
from mock_server.testing import serve_in_thread
from tests import broken
from tests.broken import KEY
from tests.contract.test_checker import outer_run_kept
from tests.contract.test_contract_cli import Counting
from tests.stand_in import StandIn

FAST = ["--rate-limit=2000"]


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with outer_run_kept():
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, err + out  # progress and errors first, then the report, as a terminal shows them


def _summary(output: str) -> str:
    """The run's verdict and counts, without what differs between runs (ports, timings, ids)."""
    lines = [line for line in output.splitlines() if re.match(r"^\w+ +(\d+ passed|not exercised)", line)]
    lines += re.findall(r"^(?:cases|requests|writes): .*", output, re.M)
    lines += re.findall(r"^.*answers? \(allowed.*$", output, re.M)
    return "\n".join(lines)


def test_ten_default_runs_against_a_strict_fastapi_service_agree() -> None:
    """Ten CI jobs: each a fresh `meibel-contract` process, against one strict FastAPI service."""
    verdicts = set()
    with serve_in_thread(StandIn(lax=False).app) as server:
        for _ in range(10):
            done = subprocess.run(
                [sys.executable, "-m", "contract_tests.cli", f"--base-url={server.origin}/v2", *FAST],
                env={**os.environ, "MEIBEL_API_KEY": KEY},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            verdicts.add(_summary(done.stdout))
    assert len(verdicts) == 1, verdicts
    [summary] = verdicts
    assert "400 to a body that is not UTF-8" in summary  # FastAPI's 400, known and allowed
    assert "401 to a missing or unknown key" in summary


def test_lax_coercion_is_a_known_deviation_and_strict_fails_it(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(StandIn(lax=True).app) as server:
        base = [f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--max-writes=400", *FAST]
        code, output = run(*base, capsys=capsys)
        assert code == 0, output
        assert "accepted after pydantic's lax coercion" in output
        code, output = run(*base, "--strict", capsys=capsys)
    assert code == 1, output
    assert "[negative_data_rejection]" in output or "[batch_execution_echoes_request]" in output


def test_a_run_without_a_key_or_with_a_refused_one_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MEIBEL_API_KEY", raising=False)
    with serve_in_thread(broken.mock()) as server:
        code, output = run(f"--base-url={server.origin}/v2", *FAST, capsys=capsys)
        assert code == 2 and "no API key" in output and output.count("\n") == 1, output
        report = tmp_path / "r.xml"
        code, output = run(
            f"--base-url={server.origin}/v2", "--api-key=not-the-key", f"--junit-xml={report}", capsys=capsys
        )
    assert code == 2 and "refused the run's key (401" in output and output.count("\n") == 1, output
    assert ET.parse(report).getroot().find("testsuite/testcase/error") is not None
    assert "not-the-key" not in report.read_text()


def test_a_defect_in_success_answers_is_found_with_five_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    with serve_in_thread(broken.counts_exceed_total()) as server:
        code, output = run(
            f"--base-url={server.origin}/v2",
            f"--api-key={KEY}",
            "--max-writes=5",
            f"--junit-xml={report}",
            *FAST,
            capsys=capsys,
        )
    assert code == 1, output
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failing = cases["batch_execution_coherence"].find("failure")
    assert failing is not None and "does not add up" in (failing.text or "")
    assert "Reproduce with" in (failing.text or "") and "curl" in (failing.text or "")
    assert cases["not_a_server_error"].find("failure") is None
    assert cases["response_headers_conformance"].find("skipped") is not None  # not exercised, not "passed"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["seed"] == "0" and "--seed 0" in (properties["replay"] or "")
    assert properties["replay"].startswith("meibel-contract --base-url")  # type: ignore[union-attr]
    assert KEY not in report.read_text() and KEY not in output


def test_no_success_answer_means_no_green_on_those_checks(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(broken.counts_exceed_total()) as server:
        code, output = run(f"--base-url={server.origin}/v2", f"--api-key={KEY}", *FAST, capsys=capsys)
    # The defect is in success answers, which a run without writes never sees: it passes, and says so.
    assert code == 0, output
    assert re.search(r"batch_execution_coherence +not exercised", output)
    assert re.search(r"positive_data_acceptance +not exercised", output)
    last = output.rstrip().splitlines()[-1]
    assert last.startswith("Verdict: pass") and "No success answer was checked" in last, output
    assert "--max-writes N" in last


def test_an_unreachable_target_exits_2_and_still_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "out" / "report.xml"
    report.parent.mkdir()
    code, output = run(
        "--base-url=http://127.0.0.1:9/v2", f"--api-key={KEY}", f"--junit-xml={report}", capsys=capsys
    )
    assert code == 2, output
    error = ET.parse(report).getroot().find("testsuite/testcase/error")
    assert error is not None and "connection refused" in (error.get("message") or "")


def test_max_examples_bounds_the_requests(capsys: pytest.CaptureFixture[str]) -> None:
    app = Counting()
    with serve_in_thread(app) as server:
        code, output = run(
            f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--max-examples=10", *FAST, capsys=capsys
        )
    assert code == 0, output
    # At most 4 x 10 cases (boundary and generated, valid and invalid), 4 auth probes, 1 preflight.
    assert len(app.arrivals) <= 4 * 10 + 4 + 1


PLUGIN = """
import warnings
print("NOISY PLUGIN LOADED")
warnings.warn("a noisy third-party plugin")
"""


def test_a_run_is_clean_no_foreign_plugins_no_files_left(tmp_path: Path) -> None:
    """A user's environment with a noisy pytest plugin installed; the run starts in an empty folder."""
    site = tmp_path / "site"
    (site / "noisy_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "noisy_plugin-1.0.dist-info" / "METADATA").write_text("Name: noisy-plugin\nVersion: 1.0\n")
    (site / "noisy_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pytest11]\nnoisy = noisy_plugin\n"
    )
    (site / "noisy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    work = tmp_path / "work"
    work.mkdir()
    script = textwrap.dedent(
        """
        import sys
        from contract_tests.cli import main
        from mock_server.testing import serve_in_thread
        from tests.broken import KEY, mock
        with serve_in_thread(mock()) as server:
            sys.exit(main([f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--max-examples=5",
                           "--rate-limit=2000"]))
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(root)])}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NOISY" not in done.stdout + done.stderr
    assert "site-packages" not in done.stdout + done.stderr  # no FAILED line pointing into the install
    assert sorted(p.name for p in work.iterdir()) == []  # no .hypothesis/, no cache, nothing


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\xff\xfe"}', b"\x00\x01 it's 100% \\", "plain ascii and é".encode(), b"\r\n\t"],
)
def test_reproductions_are_byte_exact(body: bytes, tmp_path: Path) -> None:
    command = curl_command("POST", "http://127.0.0.1:9/v2/x", {"Meibel-API-Key": KEY}, body, secrets=[KEY])
    assert KEY not in command and "$MEIBEL_API_KEY" in command
    data = command.split("--data-binary ", 1)[1].rsplit(" ", 1)[0]
    # What bash hands curl for that argument, read back byte for byte.
    out = tmp_path / "body"
    script = f"cat {data[1:]} > {out}" if data.startswith("@") else f"printf %s {data} > {out}"
    subprocess.run(["bash", "-c", script], check=True, timeout=10)
    assert out.read_bytes() == body


def test_without_the_contract_extra_the_command_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_schemathesis(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] == "schemathesis":
            raise ImportError(f"No module named {name!r}", name="schemathesis")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    with serve_in_thread(broken.mock()) as server:
        monkeypatch.setattr(builtins, "__import__", no_schemathesis)
        code, output = run(f"--base-url={server.origin}/v2", f"--api-key={KEY}", capsys=capsys)
    assert code == 2 and output.count("\n") == 1, output
    assert "pip install 'meibel-contract-kit[contract] @ git+<the kit's repository>@<tag>'" in output
