"""Limits a production server keeps: header size and count (431), URL length (414), the time to
send headers (408, closed), idle connections (closed), the answer-shape cache's bytes, and who
may use `/__mock/`. On a socket where the socket is the subject, for both HTTP stacks."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_server import Contract, Settings, create_app
from mock_server.answer.scenarios import _PLANS_BYTES, BatchExecutions
from mock_server.cli import _serve_parser, banner, is_loopback, main
from mock_server.http.limits import ServerLimits
from mock_server.schema.lru import ByteLRU
from mock_server.testing import ThreadedServer, serve_in_thread
from mock_server.traffic.proxy import proxy_parser
from tests.conftest import JSON_CT, KEY, PATH, VALID, Client
from tests.tools.test_cli import run_main

WAIT = 10.0  # seconds any socket read may take before the test fails: generous, never a measure


def exchange(server: ThreadedServer, data: bytes) -> bytes:
    """Send `data`, then read until the server closes (or WAIT passes: the test then fails)."""
    with socket.create_connection((server.host, server.port), timeout=WAIT) as conn:
        conn.sendall(data)
        received = b""
        while len(received) < 1_000_000:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                pytest.fail(f"the server neither answered nor closed within {WAIT} s: {received[:200]!r}")
            if not chunk:
                return received
            received += chunk
    pytest.fail("the server sent more than 1 MB")


def status_and_detail(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw[:300]
    return int(head.split(b" ", 2)[1]), json.loads(body)["detail"]


def request(*headers: bytes, target: bytes = b"/openapi.json") -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.fixture(params=["httptools", "h11"])
def served(contract: Contract, request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    limits = ServerLimits(max_headers=20, header_timeout=0.5, idle_timeout=0.5)
    with serve_in_thread(create_app(contract), limits=limits, stack=request.param) as server:
        yield server


def test_a_request_within_the_limits_is_served(served: ThreadedServer) -> None:
    headers = [b"x-filler-%d: %s" % (i, b"v" * 1000) for i in range(15)]
    assert exchange(served, request(*headers)).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("size", [70_000, 3_000_000], ids=["just-past", "3MB"])
def test_headers_past_the_byte_limit_get_431(served: ThreadedServer, size: int) -> None:
    status, detail = status_and_detail(exchange(served, request(b"x-big: " + b"a" * size)))
    assert (status, detail) == (431, "Request headers larger than the limit of 65536 bytes")


def test_too_many_headers_get_431(served: ThreadedServer) -> None:
    headers = [b"x-h%d: v" % i for i in range(21)]
    status, detail = status_and_detail(exchange(served, request(*headers)))
    assert (status, detail) == (431, "More request headers than the limit of 20")


@pytest.mark.parametrize("size", [9_000, 2_000_000], ids=["just-past", "2MB"])
def test_a_url_past_the_limit_gets_414(served: ThreadedServer, size: int) -> None:
    status, detail = status_and_detail(exchange(served, request(target=b"/v2?q=" + b"a" * size)))
    assert (status, detail) == (414, "Request URL longer than the limit of 8192 bytes")


def test_a_client_that_sends_an_oversized_header_all_at_once_reads_the_431(served: ThreadedServer) -> None:
    # httpx writes the whole request before it reads it (see the 413 test below for why the
    # server lingers before closing).
    statuses = asyncio.run(_posts(served.origin + "/openapi.json", b"", {"x-big": "a" * 2_000_000}))
    assert statuses == [431, 431, 431]


async def _posts(url: str, body: bytes, headers: dict[str, str]) -> list[int | str]:
    """Three requests from an async client (as the proxy sends them); an error by its name."""
    statuses: list[int | str] = []
    async with httpx.AsyncClient(timeout=WAIT) as http:
        for _ in range(3):
            try:
                statuses.append((await http.post(url, content=body, headers=headers)).status_code)
            except httpx.TransportError as exc:
                statuses.append(type(exc).__name__)
    return statuses


def test_a_client_sending_a_body_past_the_limit_reads_the_413(served: ThreadedServer) -> None:
    # The mock refuses it before reading it; the connection then lingers instead of resetting
    # under a client that is still writing.
    statuses = asyncio.run(_posts(served.origin + PATH, b"x" * (3 * 1024 * 1024), {**KEY, **JSON_CT}))
    assert statuses == [413, 413, 413]


def test_headers_not_finished_in_time_get_408_and_the_connection_closes(served: ThreadedServer) -> None:
    status, detail = status_and_detail(exchange(served, b"GET /openapi.json HTTP/1.1\r\nHost: a\r\n"))
    assert (status, detail) == (408, "Request headers not received within 0.5 s")


def test_a_connection_that_sends_nothing_is_closed(served: ThreadedServer) -> None:
    assert exchange(served, b"") == b""


def test_an_idle_kept_alive_connection_is_closed(served: ThreadedServer) -> None:
    keep_alive = b"GET /openapi.json HTTP/1.1\r\nHost: a\r\n\r\n"
    answer = exchange(served, keep_alive)  # returns once the server closes the idle connection
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("stack", ["httptools", "h11"])
def test_the_header_timer_does_not_run_between_requests(contract: Contract, stack: str) -> None:
    # A kept-alive connection may wait (up to the idle timeout) longer than the header timeout.
    limits = ServerLimits(header_timeout=0.3, idle_timeout=5.0)
    with (
        serve_in_thread(create_app(contract), limits=limits, stack=stack) as server,
        socket.create_connection((server.host, server.port), timeout=WAIT) as conn,
    ):
        for pause in (0.0, 0.8):
            time.sleep(pause)
            conn.sendall(b"GET /__mock/scenario HTTP/1.1\r\nHost: a\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"scenario":null}') and len(answer) < 10_000:
                chunk = conn.recv(65536)
                assert chunk, f"closed after a pause of {pause} s"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")


def test_the_default_limits() -> None:
    limits = ServerLimits()
    assert (limits.max_header_bytes, limits.max_headers, limits.max_url) == (65536, 100, 8192)
    assert (limits.header_timeout, limits.idle_timeout) == (10.0, 5.0)


# --- the answer-shape cache ------------------------------------------------------------------


def test_the_lru_is_bounded_in_entries_and_bytes() -> None:
    cache: ByteLRU[str, str] = ByteLRU(max_entries=3, max_bytes=100, max_entry_bytes=60)
    assert not cache.put("huge", "x", 61) and len(cache) == 0  # past one entry's share: not kept
    for key in "abc":
        assert cache.put(key, key.upper(), 10)
    cache.get("a")  # a is now the most recently used
    cache.put("d", "D", 10)
    assert (cache.get("b"), cache.get("a"), len(cache), cache.bytes) == (None, "A", 3, 30)
    cache.put("e", "E", 60)  # 90 bytes would exceed 100 with the rest: the oldest go
    assert cache.bytes <= 100 and cache.get("e") == "E" and cache.get("c") is None
    cache.put("e", "E2", 5)  # replacing an entry replaces its cost
    assert cache.get("e") == "E2" and cache.bytes == sum(c for _, c in cache._data.values())


def test_the_answer_cache_keeps_small_requests_and_never_large_ones(
    contract: Contract, client: Client
) -> None:
    for i in range(20):
        assert client.create(_named(i)).status_code == 201
    domain: BatchExecutions = next(iter(client.app.state.engine.domains.values()))
    assert len(domain._plans) == 20
    before = domain._plans.bytes
    big = _named(0, name="n" * 300_000)
    assert client.create(big).status_code == 201
    assert client.create(big).json()["batch_spec_json"]["name"] == "n" * 300_000
    assert (len(domain._plans), domain._plans.bytes) == (20, before)  # the large one was not kept
    assert domain._plans.bytes <= _PLANS_BYTES


def _named(i: int, name: str = "") -> dict[str, object]:
    return {"batch_spec_json": {**VALID["batch_spec_json"], "name": name or f"n{i}"}}


# --- who may use /__mock/ --------------------------------------------------------------------


@pytest.fixture
def guarded(contract: Contract) -> Iterator[Client]:
    c = Client(create_app(contract, settings=Settings(control_token="s3cret-token")))
    yield c
    c.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"x-mock-control-token": "wrong"}, 403), ({"x-mock-control-token": "s3cret-token"}, 200)],
    ids=["missing", "wrong", "right"],
)
def test_a_control_token_guards_every_control_endpoint(
    guarded: Client, headers: dict[str, str], status: int
) -> None:
    for method, path in [("GET", "/__mock/requests"), ("GET", "/__mock/scenario")]:
        answer = guarded.request(method, path, headers=headers)
        assert answer.status_code == status
        assert "detail" in answer.json() if status != 200 else True
    reset = guarded.request("POST", "/__mock/reset", headers=headers)
    assert reset.status_code == (204 if status == 200 else status)


def test_the_control_token_is_never_journaled_or_logged(
    guarded: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = {"x-mock-control-token": "s3cret-token"}
    with caplog.at_level(logging.DEBUG):
        assert guarded.create().status_code == 201
        guarded.request("GET", "/__mock/requests", headers={"x-mock-control-token": "wrong"})
        journal = guarded.request("GET", "/__mock/requests", headers=token)
    assert journal.status_code == 200 and len(journal.json()["requests"]) == 1
    assert "s3cret-token" not in journal.text and "s3cret-token" not in caplog.text


def test_the_api_needs_no_control_token(guarded: Client) -> None:
    assert guarded.create().status_code == 201


def test_no_control_hides_the_control_endpoints(contract: Contract) -> None:
    c = Client(create_app(contract, settings=Settings(control=False)))
    try:
        for method, path in [
            ("GET", "/__mock/requests"),
            ("POST", "/__mock/reset"),
            ("GET", "/__mock/scenario"),
        ]:
            answer = c.request(method, path)
            assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
        assert c.create().status_code == 201
    finally:
        c.close()


def test_the_banner_warns_when_control_is_open_beyond_this_machine(contract: Contract) -> None:
    assert "WARNING" not in banner(contract, Settings(), "127.0.0.1", 8000, loopback=True)
    open_wide = banner(contract, Settings(), "0.0.0.0", 8000, loopback=False)
    assert "WARNING" in open_wide and "/__mock/" in open_wide and "--control-token" in open_wide
    guarded = banner(contract, Settings(control_token="s3cret-token"), "0.0.0.0", 8000, loopback=False)
    assert "WARNING" not in guarded and "X-Mock-Control-Token" in guarded and "s3cret" not in guarded
    off = banner(contract, Settings(control=False), "0.0.0.0", 8000, loopback=False)
    assert "WARNING" not in off and "/__mock/ is off" in off


def test_json_answers_keep_flowing_after_refusals(served: ThreadedServer) -> None:
    # A refused connection does not disturb the next one.
    exchange(served, request(b"x-big: " + b"a" * 70_000))
    ok = httpx.post(served.origin + PATH, json=VALID, headers={**KEY, **JSON_CT}, timeout=WAIT)
    assert ok.status_code == 201


# --- the options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--max-header-bytes", "lots"], "not a size in bytes"),
        (["--max-header-bytes", "0"], "not a size in bytes"),
        (["--max-url", "2g"], "not a size in bytes"),
        (["--max-headers", "0"], "not a positive count"),
        (["--max-headers", "-5"], "not a positive count"),
        (["--header-timeout", "0"], "not a positive number of seconds"),
        (["--idle-timeout", "inf"], "not a positive number of seconds"),
        (["--body-timeout", "nan"], "not a positive number of seconds"),
        (["--control-token", "t", "--no-control"], "not allowed with argument"),
        (["--control-token", " "], "an empty control token"),
        (["--control-token", "tök"], "printable ASCII"),
    ],
)
def test_bad_limit_options_give_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, err = run_main(args, capsys)
    assert code == 2
    assert err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err


def test_the_options_reach_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_serve(app: object, sock: socket.socket, *, log_level: str, limits: ServerLimits) -> None:
        seen.update(settings=app.state.settings, limits=limits)  # type: ignore[attr-defined]
        sock.close()

    monkeypatch.setattr("mock_server.http.server.serve", fake_serve)
    monkeypatch.setenv("MEIBEL_MOCK_CONTROL_TOKEN", "from-the-env")
    args = ["--port", "0", "--max-header-bytes", "16k", "--max-headers", "30", "--max-url", "2k"]
    args += ["--header-timeout", "3", "--idle-timeout", "7.5", "--body-timeout", "4s"]
    assert main(args) == 0
    assert seen["limits"] == ServerLimits(
        max_header_bytes=16384, max_headers=30, max_url=2048, header_timeout=3.0, idle_timeout=7.5
    )
    settings = seen["settings"]
    assert isinstance(settings, Settings)
    assert (settings.body_timeout, settings.control, settings.control_token) == (4.0, True, "from-the-env")
    assert main(["--port", "0", "--no-control"]) == 0
    settings = seen["settings"]
    assert isinstance(settings, Settings) and (settings.control, settings.control_token) == (False, None)


def test_every_option_of_the_mock_and_the_proxy_is_in_the_reference() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "mock.md").read_text()
    missing = [
        option
        for parser in (_serve_parser(), proxy_parser())
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
        and option not in ("--help", "--version")
        and f"`{option}" not in readme
        and f"[{option}" not in readme
    ]
    assert missing == []


def test_loopback_is_told_from_the_bound_address() -> None:
    # Bound without listening: nothing can connect, only the address is read.
    with socket.socket() as local, socket.socket() as everywhere:
        local.bind(("127.0.0.1", 0))
        everywhere.bind(("0.0.0.0", 0))
        assert is_loopback(local) and not is_loopback(everywhere)
