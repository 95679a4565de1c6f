"""The direct path (`mock_server/http/direct.py`) against the ASGI path it stands in for: the same
bytes for every kind of request, in order when requests are pipelined across both paths, with
the connection limits kept (a client that reads nothing, idle connections) and errors answered.

The ASGI path is served by the same app behind a plain ASGI wrapper: the direct path is off
under any wrapper (it would skip it), so every request there goes through uvicorn's cycle."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from mock_server import Settings, create_app
from mock_server.app import MockApp
from mock_server.contract import Contract, contract_from_dict
from mock_server.http.limits import ServerLimits
from mock_server.settings import DEV_KEY as KEY
from mock_server.testing import ThreadedServer, serve_in_thread
from tests.conftest import PATH, VALID

WAIT = 10.0  # seconds any socket read may take before the test fails: generous, never a measure
BODY = json.dumps(VALID).encode()


class Wrapped:
    """The app behind a plain ASGI wrapper: every request takes the ASGI path."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)


def post(body: bytes = BODY, *extra: bytes, target: bytes = PATH.encode(), key: bool = True) -> bytes:
    lines = [b"POST " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: application/json"]
    if key:
        lines.append(b"Meibel-API-Key: " + KEY.encode())
    lines += [*extra, b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def bare(method: bytes, target: bytes, *extra: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return b"\r\n".join([method + b" " + target + b" " + version, b"Host: 127.0.0.1", *extra]) + b"\r\n\r\n"


def read_answers(conn: socket.socket, count: int) -> list[bytes]:
    """`count` whole answers (head and Content-Length body), as they came."""
    buffer = b""
    answers: list[bytes] = []
    while len(answers) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            found = re.search(rb"\r\ncontent-length: (\d+)", buffer[:head_end], re.I)
            assert found is not None, buffer[:head_end]
            end = head_end + 4 + int(found.group(1))
            if len(buffer) >= end:
                answers.append(buffer[:end])
                buffer = buffer[end:]
                continue
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            pytest.fail(f"no answer within {WAIT} s after {len(answers)} of {count}")
        if not chunk:
            pytest.fail(f"the connection closed after {len(answers)} of {count} answers: {buffer[:200]!r}")
        buffer += chunk
    assert buffer == b"", buffer[:200]
    return answers


def exchange(server: ThreadedServer, data: bytes, count: int = 1) -> list[bytes]:
    with socket.create_connection((server.host, server.port), timeout=WAIT) as conn:
        conn.sendall(data)
        return read_answers(conn, count)


def without_date(answer: bytes) -> bytes:
    return re.sub(rb"\r\ndate: [^\r]*", b"", answer, count=1)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def twins(contract: Contract) -> Iterator[tuple[ThreadedServer, ThreadedServer, MockApp, MockApp]]:
    """Two mocks with the same seed, one answering directly where it can, one never."""
    direct = create_app(contract, settings=Settings(seed=7))
    asgi = create_app(contract, settings=Settings(seed=7))
    assert isinstance(direct, MockApp) and isinstance(asgi, MockApp)
    with serve_in_thread(direct) as one, serve_in_thread(Wrapped(asgi)) as other:
        yield one, other, direct, asgi


# Every kind of request the direct path takes, and some it leaves to the ASGI path.
REQUESTS = {
    "created": post(),
    "no key": post(key=False),
    "wrong key": post(BODY, b"Meibel-API-Key: nope", key=False),
    "not JSON": post(b'{"batch_spec_json": '),
    "not UTF-8": post(b'{"batch_spec_json": "\xff"}'),
    "invalid": post(b'{"batch_spec_json": {"name": 5}}'),
    "empty body": post(b""),
    "no body": bare(b"POST", PATH.encode(), b"Meibel-API-Key: " + KEY.encode()),
    "text body": post(BODY, b"Content-Type: text/plain"),
    "405": bare(b"PUT", PATH.encode()),
    "405 with a body": post(BODY, target=b"/v2/batch-executions", key=True).replace(b"POST", b"PATCH", 1),
    "percent-encoded path": post(target=b"/v2/batch%2Dexecutions"),
    "query string": post(target=PATH.encode() + b"?a=1&api_key=secret"),
    "Prefer scenario": post(BODY, b"Prefer: example=failed"),
    "Prefer code": post(BODY, b"Prefer: code=422"),
    "Prefer fault": post(BODY, b"Prefer: fault=503"),
    "Prefer bad": post(BODY, b"Prefer: latency=fast"),
    "Prefer latency": post(BODY, b"Prefer: latency=30ms"),
    "HTTP/1.0": post().replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    "Connection: close": post(BODY, b"Connection: close"),
    "404 (ASGI path)": bare(b"GET", b"/v2/nothing"),
    "slash redirect (ASGI path)": post(target=PATH.encode() + b"/"),
    "Origin (ASGI path)": post(BODY, b"Origin: http://localhost:3000"),
    "HEAD (ASGI path)": bare(b"HEAD", PATH.encode()),
    "document (ASGI path)": bare(b"GET", b"/openapi.json"),
}


def test_direct_answers_are_the_asgi_paths_byte_for_byte(
    twins: tuple[ThreadedServer, ThreadedServer, MockApp, MockApp],
) -> None:
    one, other, direct, asgi = twins
    statuses = {}
    for name, raw in REQUESTS.items():
        if name.startswith("HEAD"):
            continue  # (no body to count: compared below)
        mine, theirs = exchange(one, raw)[0], exchange(other, raw)[0]
        assert without_date(mine) == without_date(theirs), name
        statuses[name] = status(mine)
    expected = {"created": 201, "no key": 401, "not JSON": 422, "405": 405, "Prefer fault": 503}
    assert {name: statuses[name] for name in expected} == expected
    # The journals hold the same entries (but for the time of arrival).
    mine_entries = [e.to_json() for e in direct.state.journal.entries()]
    theirs_entries = [e.to_json() for e in asgi.state.journal.entries()]
    for entry in mine_entries + theirs_entries:
        entry.pop("time")
    assert mine_entries == theirs_entries
    assert len(mine_entries) == len(REQUESTS) - 2  # (HEAD not sent; the document not journaled)
    assert KEY not in json.dumps(mine_entries) and "secret" not in json.dumps(mine_entries)
    assert direct.errors == [] and asgi.errors == []


def test_keep_alive_and_close_are_the_asgi_paths(
    twins: tuple[ThreadedServer, ThreadedServer, MockApp, MockApp],
) -> None:
    one, other, _, _ = twins
    for raw in (REQUESTS["HTTP/1.0"], REQUESTS["Connection: close"]):
        for server in (one, other):
            with socket.create_connection((server.host, server.port), timeout=WAIT) as conn:
                conn.sendall(raw)
                answer = read_answers(conn, 1)[0]
                assert b"\r\nconnection: close\r\n" in answer
                assert conn.recv(100) == b""  # and closed


def test_pipelined_requests_are_answered_in_order_across_both_paths(
    twins: tuple[ThreadedServer, ThreadedServer, MockApp, MockApp],
) -> None:
    one, _, direct, _ = twins
    sequence = [
        (post(), 201),  # direct
        (post(BODY, b"Prefer: latency=200ms"), 201),  # direct, waits: what follows must wait too
        (post(key=False), 401),  # direct, queued behind it
        (bare(b"GET", b"/__mock/scenario"), 200),  # the ASGI path, queued
        (post(b"{"), 422),  # direct again
        (bare(b"GET", b"/v2/nothing"), 404),  # ASGI
        (post(), 201),
    ]
    answers = exchange(one, b"".join(raw for raw, _ in sequence), len(sequence))
    assert [status(a) for a in answers] == [code for _, code in sequence]
    journaled = [e.status for e in direct.state.journal.entries()]
    assert journaled == [201, 201, 401, 422, 404, 201]  # (control requests are not journaled)


def test_a_body_still_on_its_way_goes_to_the_asgi_path(
    twins: tuple[ThreadedServer, ThreadedServer, MockApp, MockApp],
) -> None:
    one, _, direct, _ = twins
    raw = post()
    head_end = raw.index(b"\r\n\r\n") + 4
    with socket.create_connection((one.host, one.port), timeout=WAIT) as conn:
        for piece in (raw[: head_end + 10], raw[head_end + 10 :]):
            conn.sendall(piece)
            time.sleep(0.2)  # two reads on the server's side
        conn.sendall(post())  # then a whole one on the same connection: direct again
        first, second = read_answers(conn, 2)
    assert status(first) == status(second) == 201
    assert [e.body for e in direct.state.journal.entries()] == [VALID, VALID]


def test_a_client_that_reads_no_answers_is_not_buffered_without_bound(contract: Contract) -> None:
    """Requests sent back to back, answers never read: the server must stop reading (as the ASGI
    path does by awaiting the transport's drain), so the client's sends block at the kernel's
    socket buffers instead of the server's memory taking every answer."""
    app = create_app(contract)
    request = post()
    batch = request * 256  # ~90 KB, ~250 KB of answers
    cap = 256 * 1024 * 1024
    with serve_in_thread(app) as server:
        conn = socket.create_connection((server.host, server.port), timeout=WAIT)
        conn.setblocking(False)
        sent = 0
        stalled_since: float | None = None
        try:
            while sent < cap:
                try:
                    sent += conn.send(batch[sent % len(batch) :])  # (a send may take part of it)
                    stalled_since = None
                except BlockingIOError:
                    now = time.monotonic()
                    stalled_since = stalled_since or now
                    if now - stalled_since > 2.0:  # blocked for 2 s: the server stopped reading
                        break
                    time.sleep(0.01)
        finally:
            conn.close()
        assert sent < cap, "the server read 256 MB of requests whose answers nobody read"
        # Another client is still served.
        assert status(exchange(server, post())[0]) == 201


def test_an_error_in_the_direct_path_is_the_asgi_paths_json_500_and_closes(
    contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    answers = []
    apps = []
    for wrap in (False, True):
        app = create_app(contract)
        assert isinstance(app, MockApp)
        monkeypatch.setattr(app.endpoint.engine, "respond", broken)
        with (
            serve_in_thread(Wrapped(app) if wrap else app) as server,
            socket.create_connection((server.host, server.port), timeout=WAIT) as conn,
        ):
            conn.sendall(post())
            answers.append(read_answers(conn, 1)[0])
            assert conn.recv(100) == b""
        apps.append(app)
    direct, asgi = answers
    assert without_date(direct) == without_date(asgi)
    assert status(direct) == 500 and direct.count(b"\r\nconnection: close\r\n") == 1
    assert "Internal error" in json.loads(direct.partition(b"\r\n\r\n")[2])["detail"]
    assert [len(app.errors) for app in apps] == [1, 1]


def test_idle_connections_close_after_direct_answers_and_busy_ones_stay(contract: Contract) -> None:
    limits = ServerLimits(idle_timeout=1.0)
    with (
        serve_in_thread(create_app(contract), limits=limits) as server,
        socket.create_connection((server.host, server.port), timeout=WAIT) as conn,
    ):
        # Busy for three idle timeouts, never idle for one: the connection stays open.
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            conn.sendall(post())
            assert status(read_answers(conn, 1)[0]) == 201
            time.sleep(0.2)
        # Then idle: closed (after about a second).
        assert conn.recv(100) == b""


class SharedLike:
    """The in-process journal, answering as the journal shared by `--workers` does: with a
    future, done a moment later (written), or failed."""

    def __init__(self, inner: Any, *, fail: bool = False) -> None:
        self.inner = inner
        self.fail = fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def record(self, *args: Any) -> asyncio.Future[None]:
        self.inner.record(*args)
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        if self.fail:
            loop.call_later(0.05, written.set_exception, OSError("disk I/O error"))
        else:
            loop.call_later(0.05, written.set_result, None)
        return written


def test_answers_waiting_for_a_shared_journal_keep_their_order(contract: Contract) -> None:
    app = create_app(contract)
    assert isinstance(app, MockApp)
    app.endpoint.journal = SharedLike(app.endpoint.journal)
    sequence = [
        (post(), 201),  # waits for its journal write
        (post(key=False), 401),  # waits too, queued behind
        (bare(b"GET", b"/__mock/scenario"), 200),  # the ASGI path, behind both
        (post(b"{"), 422),
        (post(), 201),
    ]
    with serve_in_thread(app) as server:
        answers = exchange(server, b"".join(raw for raw, _ in sequence), len(sequence))
        one_by_one = [status(exchange(server, raw)[0]) for raw, _ in sequence]
    assert [status(a) for a in answers] == [code for _, code in sequence] == one_by_one
    assert app.errors == []


def test_a_failed_shared_journal_write_is_a_json_500(contract: Contract) -> None:
    app = create_app(contract)
    assert isinstance(app, MockApp)
    app.endpoint.journal = SharedLike(app.endpoint.journal, fail=True)
    with (
        serve_in_thread(app) as server,
        socket.create_connection((server.host, server.port), timeout=WAIT) as conn,
    ):
        conn.sendall(post())
        answer = read_answers(conn, 1)[0]
        assert conn.recv(100) == b""
    assert status(answer) == 500 and b"\r\nconnection: close\r\n" in answer
    assert [type(exc) for exc in app.errors] == [OSError]


@pytest.mark.parametrize("first", ["direct", "ASGI"])
def test_blank_lines_after_an_answer_do_not_hold_the_connection_open(contract: Contract, first: str) -> None:
    """Bytes that begin no request (blank lines may precede one) still start the header timer,
    whichever path answered the request before them."""
    limits = ServerLimits(header_timeout=0.5, idle_timeout=0.5)
    request = post() if first == "direct" else bare(b"GET", b"/v2/nothing")
    with (
        serve_in_thread(create_app(contract), limits=limits) as server,
        socket.create_connection((server.host, server.port), timeout=WAIT) as conn,
    ):
        conn.sendall(request)
        read_answers(conn, 1)
        conn.sendall(b"\r\n")
        rest = b""
        while chunk := conn.recv(4096):  # (WAIT bounds each read: a connection held open fails)
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 408 ")


# Another document's answers: declared headers, other media types, an empty 204, parameters.
OTHER = {
    "openapi": "3.1.0",
    "info": {"title": "Other", "version": "1"},
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}},
            }
        },
    },
    "paths": {
        "/pets": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}}
                ],
                "responses": {
                    "200": {
                        "description": "pets",
                        "headers": {
                            "X-Rate-Limit": {"schema": {"type": "integer"}, "example": 100},
                            "X-Next": {"schema": {"type": "string"}},
                        },
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            },
                            "application/xml": {"example": "<pets><pet>Rex</pet></pets>"},
                            "text/plain": {"example": "Rex, Tom"},
                        },
                    }
                },
            },
            "post": {
                "security": [{"key": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "headers": {"Location": {"schema": {"type": "string"}, "example": "/pets/7"}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    },
                    "401": {"description": "no key"},
                    "422": {"description": "bad"},
                },
            },
        },
        "/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "delete": {"responses": {"204": {"description": "gone"}, "404": {"description": "no such pet"}}},
        },
    },
}


def test_another_documents_answers_are_the_asgi_paths_byte_for_byte() -> None:
    from mock_server.contract import contract_from_dict

    requests = [
        bare(b"GET", b"/pets"),
        bare(b"GET", b"/pets?limit=5"),
        bare(b"GET", b"/pets?limit=500"),
        bare(b"GET", b"/pets", b"Accept: application/xml"),
        bare(b"GET", b"/pets", b"Accept: text/plain"),
        bare(b"GET", b"/pets", b"Accept: image/png"),
        bare(b"GET", b"/pets", b"Prefer: code=200, dynamic=true"),
        post(b'{"id": 3, "name": "Rex"}', b"X-Key: k1", target=b"/pets", key=False),
        post(b'{"id": 0}', b"X-Key: k1", target=b"/pets", key=False),
        post(b'{"id": 3, "name": "Rex"}', target=b"/pets", key=False),
        bare(b"DELETE", b"/pets/3"),
        bare(b"DELETE", b"/pets/abc"),
        bare(b"PATCH", b"/pets/3"),
    ]
    served = []
    for wrap in (False, True):
        app = create_app(contract_from_dict(OTHER), settings=Settings(seed=3, api_keys=("k1",)))
        served.append(Wrapped(app) if wrap else app)
    answers = []
    with serve_in_thread(served[0]) as one, serve_in_thread(served[1]) as other:
        for raw in requests:
            mine, theirs = exchange(one, raw)[0], exchange(other, raw)[0]
            assert without_date(mine) == without_date(theirs), raw
            answers.append(mine)
    assert [status(a) for a in answers] == [200, 200, 422, 200, 200, 406, 200, 201, 422, 401, 204, 404, 405]
    assert b"\r\nx-rate-limit: 100\r\n" in answers[0] and b"\r\nlocation: /pets/7\r\n" in answers[7]
    assert b"\r\ncontent-type: application/xml\r\n" in answers[3]


def test_an_encoded_slash_is_part_of_a_path_parameter_on_both_paths() -> None:
    # `/v0/data/a%2Fb`: one segment whose value is `a/b` (the mock's own 404 before).
    pattern = {"type": "string", "pattern": "^[a-z]+/[a-z]+$"}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "/v0"}],
        "paths": {
            "/data/{path}": {
                "get": {
                    "parameters": [{"name": "path", "in": "path", "required": True, "schema": pattern}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"example": 1}}}
                    },
                }
            },
            "/data/{path}:cancel": {
                "post": {
                    "parameters": [{"name": "path", "in": "path", "required": True, "schema": pattern}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"example": 3}}}
                    },
                }
            },
            "/data/{path}/meta": {
                "get": {
                    "parameters": [{"name": "path", "in": "path", "required": True, "schema": pattern}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"example": 2}}}
                    },
                }
            },
        },
    }
    contract = contract_from_dict(document)
    direct, asgi = (
        create_app(contract, settings=Settings(seed=1)),
        create_app(contract, settings=Settings(seed=1)),
    )
    with serve_in_thread(direct) as one, serve_in_thread(Wrapped(asgi)) as other:
        answers = {}
        for target in (
            b"/v0/data/a%2Fb",
            b"/v0/data/a%2fb/meta?x=%2F",
            b"/v0/data/a%2F",
            b"/v0/data/a/b",
            b"/v1/data/a%2Fb",
            b"/v0/data/a%2Fb:cancel",
        ):
            method = b"POST" if target.endswith(b":cancel") else b"GET"
            mine, theirs = exchange(one, bare(method, target))[0], exchange(other, bare(method, target))[0]
            assert without_date(mine) == without_date(theirs), target
            answers[target] = (status(mine), mine.rsplit(b"\r\n\r\n", 1)[1])
    assert answers[b"/v0/data/a%2Fb"] == (200, b"1")
    assert answers[b"/v0/data/a%2fb/meta?x=%2F"] == (200, b"2")
    assert answers[b"/v0/data/a%2F"][0] == 422  # `a/`: the value breaks the pattern
    assert answers[b"/v0/data/a/b"][0] == 404  # two segments: no such path
    assert answers[b"/v1/data/a%2Fb"][0] == 404  # outside the base path
    assert answers[b"/v0/data/a%2Fb:cancel"] == (200, b"3")  # Google's custom method on such a name
