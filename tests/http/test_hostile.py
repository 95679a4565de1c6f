"""Whatever arrives, the mock answers with a 4xx (JSON where HTTP allows a body) and stays up."""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time

import httpx
import pytest

from mock_server.request.json_body import has_long_number
from mock_server.testing import ThreadedServer
from tests.conftest import JSON_CT, KEY, PATH, VALID, Client

PREFIX = (
    b'{"batch_spec_json":{"name":"n","agent":"a","input":{"datasource_id":"d"},"additional_properties":{"x":'
)


@pytest.mark.parametrize(
    "content",
    [
        PREFIX + b"9" * 5000 + b"}}}",
        PREFIX + b"[" * 100_000 + b"]" * 100_000 + b"}}}",
        PREFIX + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}}}",
        PREFIX + b"NaN}}}",
        PREFIX + b"-Infinity}}}",
        PREFIX + b"1e400}}}",
        PREFIX + b'"\\udfff"}}}',
        PREFIX + b'"\\ud800"}}}',
        b'{"\\ud800":1}',
        b"\xff\xfe" + json.dumps(VALID).encode("utf-16-le"),
        b"\x00" * 64,
        b'"' + b"\\" * 1001 + b'"',
    ],
    ids=[
        "5000-digits",
        "100k-deep-list",
        "50k-deep-object",
        "nan",
        "infinity",
        "overflow",
        "low-surrogate",
        "high-surrogate",
        "surrogate-key",
        "utf16",
        "nul-bytes",
        "backslashes",
    ],
)
def test_hostile_bodies_get_a_4xx_with_json_detail(client: Client, content: bytes) -> None:
    response = client.post(PATH, content=content, headers={**KEY, **JSON_CT})
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_the_long_number_check_is_the_regular_expression() -> None:
    """`has_long_number` stands for `re.search(rb"\\d{19}", raw)`: the same on every byte."""
    rng = random.Random(14)
    cases = [b"9" * 19, b"9" * 18, b"9" * 18 + b"\xb9", b"1" * 18 + b" " + b"1", bytes(range(256)) * 3]

    def byte() -> int:  # mostly digits, so that runs of every length occur
        return rng.choice(b"0123456789") if rng.random() < 0.93 else rng.randrange(256)

    cases += [bytes(byte() for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    pattern = re.compile(rb"\d{19}")
    for raw in cases:
        assert has_long_number(raw) == (pattern.search(raw) is not None), raw
    assert sum(has_long_number(raw) for raw in cases) > 50  # both answers were exercised


def test_a_20_digit_integer_is_read_exactly(client: Client) -> None:
    body = PREFIX + b"12345678901234567890123}}}"
    response = client.post(PATH, content=body, headers={**KEY, **JSON_CT})
    assert response.status_code == 201
    assert response.json()["batch_spec_json"]["additional_properties"]["x"] == 12345678901234567890123


def test_deep_but_allowed_nesting_is_echoed(client: Client) -> None:
    deep = b"[" * 150 + b"]" * 150
    response = client.post(PATH, content=PREFIX + deep + b"}}}", headers={**KEY, **JSON_CT})
    assert response.status_code == 201
    echoed = response.json()["batch_spec_json"]["additional_properties"]["x"]
    assert json.dumps(echoed, separators=(",", ":")).encode() == deep


def _raw(server: ThreadedServer, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def _status_and_body(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"FROB /v2/batch-executions HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/batch-executions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
        + b"a" * 200_000
        + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["odd-method", "huge-header", "tls-hello", "bad-content-length", "bad-chunk", "binary-path"],
)
def test_malformed_http_gets_a_json_4xx(live: ThreadedServer, request_bytes: bytes) -> None:
    status, body = _status_and_body(_raw(live, request_bytes))
    assert 400 <= status < 500
    if body:
        assert json.loads(body)["detail"]
    assert httpx.get(live.origin + "/openapi.json").status_code == 200  # still alive


def test_chunked_body_is_accepted(live: ThreadedServer) -> None:
    payload = json.dumps(VALID).encode()
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    )
    head = (
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nMeibel-API-Key: meibel-mock-key\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    status, body = _status_and_body(_raw(live, head + chunked))
    assert status == 201
    assert json.loads(body)["input_datasource_id"] == "d"


def test_oversized_content_length_is_refused_without_reading(live: ThreadedServer) -> None:
    head = (
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999\r\n\r\n"
    )
    status, body = _status_and_body(_raw(live, head))  # no body follows: a buffering server would wait
    assert status == 413
    assert "limit" in json.loads(body)["detail"]


def test_a_stalled_client_gets_408_and_does_not_delay_others(live: ThreadedServer) -> None:
    head = (
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"batch'
    )
    answers: list[tuple[float, bytes]] = []

    def stall() -> None:
        answer = _raw(live, head)
        answers.append((time.monotonic(), answer))

    stalled = threading.Thread(target=stall)
    stalled.start()
    time.sleep(0.1)
    ok = httpx.post(live.origin + PATH, json=VALID, headers=KEY)
    answered_at = time.monotonic()
    stalled.join(timeout=10)
    assert ok.status_code == 201
    # An ordering, not a duration: the other client was answered while the stalled one still waited.
    assert answered_at < answers[0][0]
    status, body = _status_and_body(answers[0][1])
    assert status == 408
    assert json.loads(body)["detail"]


def test_client_that_disconnects_mid_body_leaves_the_server_up(live: ThreadedServer) -> None:
    with socket.create_connection((live.host, live.port)) as sock:
        sock.sendall(b"POST /v2/batch-executions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    assert httpx.post(live.origin + PATH, json=VALID, headers=KEY).status_code == 201
