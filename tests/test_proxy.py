"""meibel-mock proxy: forwards unchanged, names what broke the document, never logs the key."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from mock_server import Contract
from mock_server.cli import main
from mock_server.proxy import VIOLATIONS_HEADER, ValidationProxy
from mock_server.testing import ThreadedServer, serve_in_thread
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
    with caplog.at_level(logging.WARNING, logger="mock_server.proxy"):
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
    with caplog.at_level(logging.WARNING, logger="mock_server.proxy"):
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

    from tests.test_cli import _free_port

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
