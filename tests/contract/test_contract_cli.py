"""meibel-contract against real sockets: the mock, counting and broken servers, dead targets."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from contract_tests.cli import main
from mock_server.testing import ThreadedServer, serve_in_thread
from tests import broken
from tests.contract.test_checker import ROOT, outer_run_kept

KEY = broken.KEY
FAST = ["--rate-limit=1000", "--max-examples=10"]


class Counting:
    """The mock, counting the requests it accepted and when each request arrived."""

    def __init__(self) -> None:
        self.app = broken.mock()
        self.accepted = 0
        self.arrivals: list[float] = []
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.arrivals.append(time.monotonic())
        chunks: list[bytes] = []

        async def keep() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        async def count(message: Any) -> None:
            if (
                message["type"] == "http.response.start"
                and 200 <= message["status"] < 300
                and scope["method"] == "POST"
            ):
                with self._lock:
                    self.accepted += 1
                    self.bodies.append(b"".join(chunks))
            await send(message)

        await self.app(scope, keep, count)


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with outer_run_kept():
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def counting() -> Iterator[tuple[Counting, ThreadedServer]]:
    app = Counting()
    with serve_in_thread(app) as server:
        yield app, server


def test_the_mock_on_a_socket_conforms(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with serve_in_thread(broken.mock()) as server:
        code, out, err = run(
            f"--base-url={server.origin}/v2",
            f"--api-key={KEY}",
            "--max-writes=5",
            f"--junit-xml={tmp_path / 'report.xml'}",
            *FAST,
            capsys=capsys,
        )
    assert code == 0, out + err
    assert "known deviations of the service's framework" in out
    assert "batch_execution_coherence" in out
    report = (tmp_path / "report.xml").read_text()
    assert "testcase" in report
    assert KEY not in out + err + report


@pytest.mark.parametrize("spelling", ["{origin}/v2", "{origin}/v2/", "{origin}", "{origin}/"])
def test_every_spelling_of_the_base_url_reaches_the_api(
    spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_in_thread(broken.mock()) as server:
        code, out, err = run(
            f"--base-url={spelling.format(origin=server.origin)}", f"--api-key={KEY}", *FAST, capsys=capsys
        )
    assert code == 0, out + err
    assert (
        "validation_error_has_detail" in out
        and " 0 passed" not in out.split("validation_error_has_detail")[1][:30]
    )


def test_a_base_url_that_misses_the_api_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(broken.mock()) as server:
        code, out, err = run(f"--base-url={server.origin}/api", f"--api-key={KEY}", *FAST, capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and "answered 404" in err and "https://api.meibel.ai/v2" in err, err
    assert out == ""


def test_accepted_requests_carry_the_real_references(
    counting: tuple[Counting, ThreadedServer], capsys: pytest.CaptureFixture[str]
) -> None:
    app, server = counting
    code, out, err = run(
        f"--base-url={server.origin}",
        f"--api-key={KEY}",
        "--max-writes=2",
        "--agent-id=agent_real",
        "--datasource-id=ds_real",
        *FAST,
        capsys=capsys,
    )
    assert code == 0, out + err
    assert app.bodies
    for body in app.bodies:
        spec = json.loads(body)["batch_spec_json"]
        assert (spec["agent"], spec["input"]["datasource_id"]) == ("agent_real", "ds_real")


@pytest.mark.parametrize("spelling", ["{origin}/v2/", "{origin}/v2", "{origin}"])
def test_pytest_with_base_url_has_the_same_safe_defaults(
    counting: tuple[Counting, ThreadedServer], pytester: pytest.Pytester, spelling: str
) -> None:
    app, server = counting
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_suite=(ROOT / "contract_tests" / "test_contract.py").read_text())
    with outer_run_kept():
        result = pytester.runpytest_inprocess(
            "-p",
            "no:cacheprovider",
            "--assert=plain",
            f"--base-url={spelling.format(origin=server.origin)}",
            f"--api-key={KEY}",
            "--max-examples=15",
            "--rate-limit=500",
        )
    result.assert_outcomes(passed=1)
    assert app.accepted == 0
    assert "at most 0 write(s), 500 req/s" in result.stdout.str()
    assert "withheld as writes (--max-writes 0)" in result.stdout.str()
    assert re.search(r"validation_error_has_detail +[1-9]\d* passed +0 failed", result.stdout.str())


def test_pytest_with_a_base_url_that_misses_the_api_says_so_once(pytester: pytest.Pytester) -> None:
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_suite=(ROOT / "contract_tests" / "test_contract.py").read_text())
    with serve_in_thread(broken.mock()) as server, outer_run_kept():
        result = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", f"--base-url={server.origin}/gateway", f"--api-key={KEY}"
        )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "answered 404" in result.stderr.str() and "https://api.meibel.ai/v2" in result.stderr.str()


def test_the_rate_limit_is_honoured(
    counting: tuple[Counting, ThreadedServer], capsys: pytest.CaptureFixture[str]
) -> None:
    app, server = counting
    code, out, err = run(
        f"--base-url={server.origin}",
        f"--api-key={KEY}",
        "--rate-limit=80",
        "--max-examples=5",
        capsys=capsys,
    )
    assert code == 0, out + err
    # No one-second window holds more than the limit (a slower machine only makes this easier).
    arrivals = sorted(app.arrivals)[1:]  # the reachability probe is not part of the run
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 80 + 2


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ("wrong_success_code", "status_code_conformance"),
        ("counts_exceed_total", "batch_execution_coherence"),
        ("unknown_key_accepted", "ignored_auth"),
    ],
)
def test_broken_servers_exit_1_naming_the_check(
    defect: str, check: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serve_in_thread(getattr(broken, defect)()) as server:
        code, out, err = run(
            f"--base-url={server.origin}",
            f"--api-key={KEY}",
            "--max-writes=200",
            f"--junit-xml={tmp_path / 'r.xml'}",
            *FAST,
            capsys=capsys,
        )
    assert code == 1, out + err
    assert f"[{check}]" in out
    assert "Reproduce with:" in out and "curl" in out
    assert KEY not in out + err + (tmp_path / "r.xml").read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(f"--base-url=http://127.0.0.1:{_free_port()}", f"--api-key={KEY}", capsys=capsys)
    assert code == 2
    assert err.strip().endswith("connection refused (is the service running on that port?)")
    assert err.count("\n") == 1


def test_unresolvable_host(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # no resolver is asked, nothing leaves the machine
    code, _out, err = run("--base-url=https://api.nowhere.invalid", f"--api-key={KEY}", capsys=capsys)
    assert code == 2
    assert "cannot resolve the host name (DNS)" in err and err.count("\n") == 1


def test_tls_error(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(broken.mock()) as server:  # plain HTTP where TLS is expected
        code, _out, err = run(
            f"--base-url=https://127.0.0.1:{server.port}", f"--api-key={KEY}", capsys=capsys
        )
    assert code == 2
    assert "TLS error" in err and err.count("\n") == 1


def test_silent_target_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        code, _out, err = run(
            f"--base-url=http://127.0.0.1:{silent.getsockname()[1]}",
            f"--api-key={KEY}",
            "--timeout=0.5",
            capsys=capsys,
        )
    assert code == 2
    assert "did not answer within 0.5 s" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--base-url=http://api.example.com"], "plain http to another host"),
        (["--base-url=ftp://127.0.0.1"], "must be an http:// or https:// URL"),
        (["--base-url=http://127.0.0.1:1", "--max-writes=-1"], "--max-writes must be >= 0"),
        (["--base-url=http://127.0.0.1:1", "--rate-limit=0"], "--rate-limit must be positive"),
        (["--base-url=http://127.0.0.1:1", "--seed=soon"], "--seed must be a number or 'random'"),
        (["--base-url=http://127.0.0.1:99999"], "is not a valid URL"),
        (["--base-url=http://127.0.0.1:1/v2?x=1"], "no query string"),
        (["--base-url=http://user:pw@127.0.0.1:1"], "not inside the URL"),
        ([], "the following arguments are required: --base-url"),
    ],
)
def test_usage_errors(args: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code, _out, err = run(*args, capsys=capsys)
    except SystemExit as exited:
        code, err = int(exited.code or 0), capsys.readouterr().err
    assert code == 2
    assert expected in err and err.count("\n") == 1
