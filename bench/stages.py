"""CPU time per request, stage by stage, in process: where a `POST /v2/batch-executions` goes.

    python -m bench.stages [--repeat 7] [--number 2000]

Each stage runs alone on the request wrk sends (`post.lua`), `--number` times per repeat; the
best of `--repeat` repeats is reported (the least disturbed by the neighbours of a shared
machine). "every body new" gives each call a body never seen before, as `post_varied.lua` does:
the mock remembers the shape of an answer per distinct request, so only `build` differs.

The stages add up to the mock's own work. The last three rows run the HTTP protocol in process,
on a transport that keeps nothing: a constant answer by the direct path (`mock_server/http/direct.py`),
the same through uvicorn's ASGI cycle (what the direct path saves), and the mock whole. What a
request costs besides (the event loop's polling, the socket's system calls) is the rest of the
CPU µs per request that `python -m bench.run` reads from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httptools
import uvicorn
from uvicorn.server import ServerState

from mock_server.answer.exchange import Answer, Request
from mock_server.app import MockApp, create_app
from mock_server.contract import load_contract
from mock_server.engine import Engine
from mock_server.http.direct import Reply
from mock_server.http.limits import ServerLimits
from mock_server.http.server import protocol_class
from mock_server.request.json_body import parse_json, unicode_errors
from mock_server.state.journal import Journal
from mock_server.state.sqlite_journal import SqliteJournal
from mock_server.state.sqlite_state import create_store

HERE = Path(__file__).resolve().parent
KEY = "meibel-mock-key"


def _lua_body() -> bytes:
    text = (HERE / "post.lua").read_text()
    return text.split("wrk.body = '", 1)[1].rsplit("'", 1)[0].encode()


BODY = _lua_body()


def varied(index: int) -> bytes:
    return BODY.replace(b"Quarterly invoices", b"Quarterly invoices %d" % index)


def raw_request(body: bytes) -> bytes:
    return (
        b"POST /v2/batch-executions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
        b"Meibel-API-Key: " + KEY.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )


def best_us(action: Callable[[int], Any], number: int, repeat: int) -> float:
    """The best of `repeat` runs of `number` calls, in µs per call (CPU time of this process)."""
    best = float("inf")
    offset = 0
    for _ in range(repeat):
        started = time.process_time()
        for index in range(offset, offset + number):
            action(index)
        best = min(best, (time.process_time() - started) / number)
        offset += number
    return best * 1e6


class _Head:
    """httptools callbacks, as uvicorn's protocol keeps them (a list of headers, the URL)."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.url = b""
        self.body: list[bytes] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)


def stages(number: int, repeat: int) -> list[tuple[str, float, float]]:
    contract = load_contract()
    engine = Engine(contract, create_app(contract).state.settings)
    routed = engine.route("POST", "/v2/batch-executions")
    assert not isinstance(routed, Answer)
    op, params = routed
    headers = {"host": "127.0.0.1:8000", "content-type": "application/json", "meibel-api-key": KEY}
    # One more than the calls, rounded up to the SQLite stage's batches of 8, which read ahead.
    calls = -(-(number * repeat + 1) // 8) * 8
    bodies = {False: [BODY] * calls, True: [varied(i) for i in range(calls)]}
    rows: list[tuple[str, float, float]] = []

    def both(name: str, make: Callable[[list[bytes]], Callable[[int], Any]]) -> None:
        same = best_us(make(bodies[False]), number, repeat)
        new = best_us(make(bodies[True]), number, repeat)
        rows.append((name, same, new))

    def http(seq: list[bytes]) -> Callable[[int], Any]:
        raws = [raw_request(body) for body in seq[: number * repeat + 1]]

        def parse(index: int) -> None:
            head = _Head()
            httptools.HttpRequestParser(head).feed_data(raws[index])
            {k.decode("latin-1"): v.decode("latin-1") for k, v in head.headers}

        return parse

    both("parse: HTTP head (httptools, header dict)", http)
    both("route", lambda seq: lambda index: engine.route("POST", "/v2/batch-executions"))
    both("parse: JSON body", lambda seq: lambda index: parse_json(seq[index]))
    spec = op.body
    assert spec is not None and spec.validator is not None
    validator = spec.validator

    def validate(seq: list[bytes]) -> Callable[[int], Any]:
        values = [parse_json(body)[0] for body in seq]

        def check(index: int) -> None:
            engine._authenticate(op, Request(headers, "", None, params))
            unicode_errors(seq[index], values[index], ("body",)) or validator.errors(values[index], ("body",))

        return check

    both("validate: key, body schema", validate)

    def build(seq: list[bytes]) -> Callable[[int], Any]:
        values = [parse_json(body)[0] for body in seq]
        return lambda index: engine._domain_answer(op, values[index], KEY, {}, seq[index])

    both("build: the answer (scenario)", build)
    answer = engine._domain_answer(op, parse_json(BODY)[0], KEY, {}, BODY)
    both("encode: orjson", lambda seq: lambda index: answer.encode())
    payload = answer.encode()

    def respond(seq: list[bytes]) -> Callable[[int], Any]:
        return lambda index: engine.respond(op, Request(headers, "", seq[index], params)).encode()

    both("= engine.respond + encode, together", respond)
    journal = Journal(1000, redactor=create_app(contract).state.journal.redactor)
    both(
        "journal: in process (1 worker)",
        lambda seq: lambda index: journal.record("POST", "/v2/x", "", headers, seq[index], 201, payload, 0),
    )
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=1)
        shared = SqliteJournal(
            Path(directory),
            0,
            1,
            size=1000,
            max_bytes=8 << 20,
            redactor=journal.redactor,
            cleared=lambda: None,
        )
        shared.read_generation()

        def sqlite(seq: list[bytes]) -> Callable[[int], Any]:
            async def some(start: int, count: int) -> None:
                # As under load: the answers of a loop turn and the next share a commit (here 8),
                # each with the generation it arrived in, as the app passes it.
                waits = [
                    shared.record("POST", "/v2/x", "", headers, seq[i], 201, payload, shared.generation)
                    for i in range(start, start + count)
                ]
                for wait in waits:
                    if wait is not None:
                        await wait

            loop = asyncio.new_event_loop()

            def record(index: int) -> None:
                if index % 8 == 0:
                    loop.run_until_complete(some(index, 8))

            return record

        both("journal: SQLite (--workers), 8 per commit", sqlite)
    mock = create_app(contract, log_stream=io.StringIO())
    assert isinstance(mock, MockApp)

    def log(seq: list[bytes]) -> Callable[[int], Any]:
        loop = asyncio.new_event_loop()

        async def lines(count: int) -> None:
            for _ in range(count):
                mock.access.write(("127.0.0.1", 5000), "POST", "/v2/batch-executions", 201, 0.0004)
            mock.flush_access_log()

        def one(index: int) -> None:
            if index % 64 == 0:
                loop.run_until_complete(lines(64))

        return one

    both("log: access line (batched writes)", log)

    # The HTTP protocol in process, on a transport that keeps nothing: everything but the socket.
    def served(target: Any) -> Callable[[list[bytes]], Callable[[int], Any]]:
        def make(seq: list[bytes]) -> Callable[[int], Any]:
            loop = asyncio.new_event_loop()
            protocol, transport = _protocol(target, loop)
            raws = [raw_request(body) for body in seq]

            async def some(start: int, count: int) -> None:
                for index in range(start, start + count):
                    transport.answered.clear()
                    protocol.data_received(raws[index % len(raws)])
                    if not transport.answered.is_set():
                        await transport.answered.wait()  # the ASGI path answers from a task

            def one(index: int) -> None:
                if index % 64 == 0:
                    loop.run_until_complete(some(index, 64))

            return one

        return make

    both("HTTP: parse, limits, write (direct path)", served(_Constant()))
    both("HTTP: the same through uvicorn's ASGI cycle", served(_Wrapped(_Constant())))
    both(
        "= all but the socket (direct path, the mock)", served(create_app(contract, log_stream=io.StringIO()))
    )
    return rows


class _Constant:
    """An app that answers every request with the same small JSON, directly or through ASGI."""

    max_body = 1 << 20
    BODY = b'{"id":"5f0c2b1e-0000-4000-8000-000000000000","status":"pending"}'

    def direct(self, *request: Any) -> Reply:
        head = b"content-length: %d\r\ncontent-type: application/json\r\n" % len(self.BODY)
        return Reply(201, head, self.BODY)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-length", b"%d" % len(self.BODY)), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": self.BODY})


class _Wrapped:
    """An ASGI wrapper: the direct path is off under it (server.py)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class _Sink(asyncio.Transport):
    """A connected client that reads everything at once: `answered` is set by each answer's end."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = asyncio.Event()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.answered.set()  # (both paths write an answer's body last)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol(app: Any, loop: asyncio.AbstractEventLoop) -> tuple[Any, _Sink]:
    config = uvicorn.Config(
        app, http=protocol_class(ServerLimits()), log_config=None, access_log=False, lifespan="off"
    )
    config.load()
    protocol_type: Any = config.http_protocol_class
    protocol = protocol_type(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = _Sink()
    protocol.connection_made(transport)
    return protocol, transport


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat (default 2000)")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the best is shown (default 7)")
    options = parser.parse_args()
    rows = stages(options.number, options.repeat)
    print(f"CPU µs per request, best of {options.repeat} runs of {options.number} calls:")
    print(f"{'stage':46} {'same body':>10} {'every body new':>15}")
    for name, same, new in rows:
        print(f"{name:46} {same:10.1f} {new:15.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
