"""meibel-mock proxy: forwards unchanged, names what broke the document, never logs the key."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from mock_server import Contract
from mock_server.cli import main
from mock_server.testing import ThreadedServer, serve_in_thread
from mock_server.traffic.proxy import VIOLATIONS_HEADER, ValidationProxy
from tests import broken
from tests.conftest import JSON_CT, PATH, VALID, Client

KEY = {"Meibel-API-Key": broken.KEY}


@pytest.fixture
def through(contract: Contract, request: pytest.FixtureRequest) -> Iterator[tuple[Client, ThreadedServer]]:
    upstream_app = getattr(broken, request.param)() if hasattr(request, "param") else broken.mock()
    with serve_in_thread(upstream_app) as upstream:
        app = ValidationProxy(contract, upstream.origin)
        proxy = Client(app)
        yield proxy, upstream
        proxy.run(app.aclose())
        proxy.close()


def _direct(upstream: ThreadedServer, body: object) -> httpx.Response:
    return httpx.post(upstream.origin + PATH, content=json.dumps(body).encode(), headers={**KEY, **JSON_CT})


def test_conforming_traffic_passes_untouched(through: tuple[Client, ThreadedServer]) -> None:
    proxy, _ = through
    answer = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
    assert answer.status_code == 201
    assert VIOLATIONS_HEADER not in answer.headers
    assert answer.json()["input_datasource_id"] == "d"


def test_a_bad_request_is_named_and_the_answer_kept(
    through: tuple[Client, ThreadedServer], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, upstream = through
    body = {"batch_spec_json": {"name": 1}}
    with caplog.at_level(logging.WARNING, logger="mock_server.traffic.proxy"):
        answer = proxy.post(PATH, content=json.dumps(body).encode(), headers={**KEY, **JSON_CT})
    direct = _direct(upstream, body)
    assert (answer.status_code, answer.json()) == (direct.status_code, direct.json())
    assert (
        "request: body/batch_spec_json/name: Input should be a valid string"
        in answer.headers[VIOLATIONS_HEADER]
    )
    assert "Input should be a valid string" in caplog.text
    assert broken.KEY not in caplog.text


@pytest.mark.parametrize(
    ("through", "expected"),
    [
        ("wrongly_typed_field", "response: body/total_items"),
        ("wrong_success_code", "response: status 200 is not documented"),
        ("wrong_content_type", "response: content type 'text/plain'"),
    ],
    indirect=["through"],
)
def test_a_non_conforming_upstream_is_named(
    through: tuple[Client, ThreadedServer], expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy, upstream = through
    with caplog.at_level(logging.WARNING, logger="mock_server.traffic.proxy"):
        answer = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
    direct = _direct(upstream, VALID)
    assert answer.status_code == direct.status_code
    assert answer.headers["content-type"] == direct.headers["content-type"]
    assert set(json.loads(answer.content)) == set(
        json.loads(direct.content)
    )  # same shape; ids differ per call
    assert expected in answer.headers[VIOLATIONS_HEADER]
    assert expected.split(": ", 1)[1] in caplog.text
    assert broken.KEY not in caplog.text


def test_the_key_is_forwarded(through: tuple[Client, ThreadedServer]) -> None:
    proxy, _ = through
    refused = proxy.post(
        PATH, content=json.dumps(VALID).encode(), headers={"Meibel-API-Key": "wrong", **JSON_CT}
    )
    assert refused.status_code == 401  # the upstream judged the key the client sent


def test_unreachable_upstream_is_a_marked_502(contract: Contract) -> None:
    app = ValidationProxy(contract, "http://127.0.0.1:9")
    proxy = Client(app)
    try:
        answer = proxy.post(PATH, json=VALID)
    finally:
        proxy.run(app.aclose())
        proxy.close()
    assert answer.status_code == 502 and answer.headers["x-mock-proxy"] == "upstream-unreachable"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--upstream", "ftp://x"], "--upstream must be an http:// or https:// URL"),
        (["--upstream", "http://127.0.0.1:1", "--port", "99999"], "not a port: '99999'"),
        (["--upstream", "http://127.0.0.1:1", "--timeout", "-1"], "not a positive number of seconds"),
        ([], "the following arguments are required: --upstream"),
    ],
)
def test_proxy_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    try:
        code = main(["proxy", *args])
    except SystemExit as exited:
        code = int(exited.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and err.count("\n") == 1


def test_the_proxy_command_on_a_socket(tmp_path: object) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.tools.test_cli import _free_port

    with serve_in_thread(broken.wrongly_typed_field()) as upstream:
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mock_server",
                "proxy",
                "--upstream",
                upstream.origin,
                "--port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    answer = httpx.post(f"http://127.0.0.1:{port}{PATH}", json=VALID, headers=KEY, timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        pytest.fail("the proxy did not start")
                    time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=20)
    assert answer.status_code == 201
    assert "response: body/total_items" in answer.headers[VIOLATIONS_HEADER]
    assert "body/total_items" in err and broken.KEY not in err


# --- the base URL, whole bodies, timeouts ------------------------------------------------------


class Recorder:
    """An upstream that notes the path and body size of each request, then lets the mock answer
    (served under `prefix`, as behind a gateway)."""

    def __init__(self, prefix: str = "") -> None:
        self.inner = broken.mock(max_body=32 * 1024 * 1024)
        self.prefix = prefix
        self.seen: list[tuple[str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        path, size = scope["path"], 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            return message

        if path.startswith(self.prefix + "/"):
            scope = {**scope, "path": path[len(self.prefix) :]}
        await self.inner(scope, counted, send)
        self.seen.append((path, size))


@pytest.mark.parametrize(
    ("prefix", "spelling"),
    [
        ("", "{origin}/v2"),
        ("", "{origin}/v2/"),
        ("", "{origin}"),
        ("/meibel", "{origin}/meibel/v2"),
    ],
    ids=["base-url", "base-url-slash", "bare-origin", "gateway-prefix"],
)
def test_upstream_is_a_base_url(contract: Contract, prefix: str, spelling: str) -> None:
    recorder = Recorder(prefix)
    with serve_in_thread(recorder) as upstream:
        app = ValidationProxy(contract, spelling.format(origin=upstream.origin))
        proxy = Client(app)
        try:
            answer = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert answer.status_code == 201, answer.text
    assert recorder.seen == [(prefix + PATH, len(json.dumps(VALID)))]  # never /v2/v2/…


def test_the_proxy_banner_shows_its_base_url(contract: Contract) -> None:
    app = ValidationProxy(contract, "http://127.0.0.1:9/v2/")
    assert app.upstream == "http://127.0.0.1:9/v2"
    assert app.target("/v2/batch-executions", "a=1") == "http://127.0.0.1:9/v2/batch-executions?a=1"
    assert app.target("/health", "") == "http://127.0.0.1:9/health"  # outside the API: the same root


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_past_the_limit_is_refused_whole_and_never_forwarded(
    contract: Contract, declared: bool
) -> None:
    recorder = Recorder()
    twenty_mib = b"x" * (20 * 1024 * 1024)
    with serve_in_thread(recorder) as upstream:
        app = ValidationProxy(contract, upstream.origin)
        proxy = Client(app)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(twenty_mib), 1024 * 1024):
                yield twenty_mib[start : start + 1024 * 1024]

        try:
            answer = proxy.post(
                PATH, content=twenty_mib if declared else chunks(), headers={**KEY, **JSON_CT}
            )
            after = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert answer.status_code == 413 and answer.headers["x-mock-proxy"] == "body-too-large"
    assert "limit of 16777216 bytes" in answer.json()["detail"]
    assert after.status_code == 201
    assert recorder.seen == [(PATH, len(json.dumps(VALID)))]  # only the second request arrived


def test_a_body_within_the_limit_is_forwarded_whole(contract: Contract) -> None:
    recorder = Recorder()
    body = json.dumps({**VALID, "padding": "p" * (3 * 1024 * 1024)}).encode()
    with serve_in_thread(recorder) as upstream:
        app = ValidationProxy(contract, upstream.origin, max_body=4 * 1024 * 1024)
        proxy = Client(app)
        try:
            proxy.post(PATH, content=body, headers={**KEY, **JSON_CT})
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert recorder.seen == [(PATH, len(body))]


def test_a_silent_upstream_is_a_marked_504(contract: Contract) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app = ValidationProxy(contract, f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        proxy = Client(app)
        try:
            answer = proxy.post(PATH, json=VALID)
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert answer.status_code == 504 and answer.headers["x-mock-proxy"] == "upstream-timeout"
    assert answer.json() == {"detail": "The upstream service did not answer within 0.5 s"}


def test_an_answer_past_the_limit_is_a_marked_502(contract: Contract) -> None:
    with serve_in_thread(broken.mock()) as upstream:
        app = ValidationProxy(contract, upstream.origin, max_response=100)
        proxy = Client(app)
        try:
            answer = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert answer.status_code == 502 and answer.headers["x-mock-proxy"] == "upstream-too-large"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--max-body", "lots"], "not a size in bytes"),
        (["--max-response", "0"], "not a size in bytes"),
        (["--max-headers", "0"], "not a positive count"),
        (["--header-timeout", "never"], "not a positive number of seconds"),
        (["--upstream", "http://127.0.0.1:1/v2?x=1"], "no query string"),
    ],
)
def test_proxy_limit_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    argv = args if "--upstream" in args else ["--upstream", "http://127.0.0.1:1", *args]
    try:
        code = main(["proxy", *argv])
    except SystemExit as exited:
        code = int(exited.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and err.count("\n") == 1


def test_a_stalled_body_is_a_marked_408_and_never_forwarded(contract: Contract) -> None:
    recorder = Recorder()
    with serve_in_thread(recorder) as upstream:
        app = ValidationProxy(contract, upstream.origin, body_timeout=0.3)
        proxy = Client(app)

        async def stalled() -> AsyncIterator[bytes]:
            yield b'{"batch_spec_json": '
            await asyncio.sleep(5)  # the proxy gives up long before
            yield b"{}}"

        try:
            answer = proxy.post(PATH, content=stalled(), headers={**KEY, **JSON_CT})
        finally:
            proxy.run(app.aclose())
            proxy.close()
    assert answer.status_code == 408 and answer.headers["x-mock-proxy"] == "body-timeout"
    assert recorder.seen == []


def test_an_answer_the_upstream_compressed_is_passed_on_and_not_recorded(
    contract: Contract, tmp_path: Path
) -> None:
    # A recording replays a body as JSON; a gzip body it could not read back is passed on untouched
    # and left out, rather than written as bytes that would replay as something else.
    import gzip

    from mock_server.traffic.recorder import Recorder as ExchangeRecorder

    compressed = gzip.compress(json.dumps({"id": "exec_1", "status": "queued"}).encode())

    async def gzipping(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": compressed})

    recorder = ExchangeRecorder(contract, tmp_path)
    with serve_in_thread(gzipping) as upstream:
        app = ValidationProxy(contract, upstream.origin, recorder=recorder)
        with Client(app) as proxy:
            answer = proxy.post(PATH, content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT})
            proxy.run(app.aclose())
    assert answer.status_code == 201 and answer.headers["content-encoding"] == "gzip"
    assert answer.json() == {"id": "exec_1", "status": "queued"}  # the client's httpx inflated it
    assert VIOLATIONS_HEADER not in answer.headers  # unchecked, not called broken
    assert (recorder.written, list(tmp_path.rglob("*.json"))) == (0, [])


def _named(index: int) -> bytes:
    body = json.loads(json.dumps(VALID))
    body["batch_spec_json"]["name"] = f"Batch {index}"
    return json.dumps(body).encode()


def test_recordings_are_written_in_batches_soon_after_the_answer(
    contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mock_server.traffic import recorder as recorder_module
    from mock_server.traffic.recorder import BATCH, BATCH_DELAY
    from mock_server.traffic.recorder import Recorder as ExchangeRecorder

    def files() -> int:
        return sum(1 for _ in tmp_path.rglob("*.json"))

    recorder = ExchangeRecorder(contract, tmp_path)
    with serve_in_thread(broken.mock()) as upstream:
        app = ValidationProxy(contract, upstream.origin, recorder=recorder)
        with Client(app) as proxy:
            assert proxy.post(PATH, content=_named(0), headers={**KEY, **JSON_CT}).status_code == 201
            assert files() == 0  # waiting for others, at most BATCH_DELAY
            proxy.run(asyncio.sleep(BATCH_DELAY * 3))
            assert files() == 1
            monkeypatch.setattr(recorder_module, "BATCH_DELAY", 600.0)  # only a full batch is written now
            for index in range(1, BATCH):
                proxy.post(PATH, content=_named(index), headers={**KEY, **JSON_CT})
            assert files() == 1
            proxy.post(PATH, content=_named(BATCH), headers={**KEY, **JSON_CT})
            assert (recorder.written, recorder.repeats, recorder.invalid, recorder.failed) == (
                1 + BATCH,
                0,
                0,
                0,
            )
            assert files() == 1 + BATCH
            proxy.post(PATH, content=_named(BATCH + 1), headers={**KEY, **JSON_CT})
            assert files() == 1 + BATCH
            # The summary at shutdown counts what waited: it is written first.
            assert recorder.summary().startswith(f"recorded {BATCH + 2} exchanges in ")
            assert files() == BATCH + 2
            proxy.run(app.aclose())


def test_a_bug_in_one_recording_loses_none_of_its_batch(
    contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mock_server.answer.recording import build
    from mock_server.traffic import recorder as recorder_module

    def failing(redaction: object, op: object, params: object, exchange: Any, *rest: Any) -> Any:
        if b"Batch 1" in (exchange.body or b""):
            raise RuntimeError("a bug")
        return build(redaction, op, params, exchange, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr("mock_server.traffic.recorder.build", failing)
    recorder = recorder_module.Recorder(contract, tmp_path)
    with serve_in_thread(broken.mock()) as upstream:
        app = ValidationProxy(contract, upstream.origin, recorder=recorder)
        with Client(app) as proxy, caplog.at_level(logging.ERROR, logger="mock_server.recorder"):
            for index in range(3):
                proxy.post(PATH, content=_named(index), headers={**KEY, **JSON_CT})
            proxy.run(app.aclose())  # written before the proxy closes
    assert (recorder.written, recorder.failed) == (2, 1)
    assert sum(1 for _ in tmp_path.rglob("*.json")) == 2
    [line] = [record.getMessage() for record in caplog.records]
    assert line == "cannot record POST /batch-executions: RuntimeError (a bug in the kit)"
    assert not any(record.exc_info for record in caplog.records)  # one line, no traceback
