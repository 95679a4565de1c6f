"""The direct path: a request answered from the HTTP parser's callbacks, without an ASGI cycle.

Under uvicorn, every request costs a scope dict, a request/response cycle with its event, a task,
and two message dicts through `receive` and `send`: more CPU than the mock's own work (parsing,
validating and building the answer, `python -m bench.stages`). The bare Starlette reference
pays the same, so the mock could not come near it (bench/). A request that qualifies is answered
here instead, with the same bytes as the ASGI path would send (`tests/http/test_direct.py`):

- its path holds no encoded slash (`a%2Fb`, one segment's value: routed on the path as sent);
- its head and its whole body arrived in one read (a body still on its way goes to the ASGI
  path, which times it and refuses it past its limit), with a `Content-Length` of at most the
  body limit, or no body at all;
- nothing the ASGI path treats specially: no `Origin` (CORS), no `Expect`, no upgrade, no
  `Transfer-Encoding`, no proxy headers (`X-Forwarded-*` change the client and the scheme), not
  a `HEAD`;
- the app takes it (`DirectApp.direct`): an operation of the document, or a 405. The mock's own
  endpoints, `/openapi.json`, `/docs` and 404s (which may become a trailing-slash redirect) go
  to the ASGI path, as does any request while an earlier one on the connection is unfinished.

An answer that must wait (a simulated latency, or a journal write shared by `--workers`) takes
uvicorn's place as the connection's current cycle (`_Waiting`): a request pipelined behind it is
queued by uvicorn as behind any cycle, and started when it is sent.
"""

from __future__ import annotations

import asyncio
import http
import urllib.parse
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httptools

# Request headers that send a request down the ASGI path (see above).
_ASGI_HEADERS = frozenset(
    {b"origin", b"expect", b"upgrade", b"transfer-encoding", b"x-forwarded-for", b"x-forwarded-proto"}
)
# The headers the protocol hands to `note_header` as they are parsed (names in lower case).
NOTED_HEADERS = _ASGI_HEADERS | {b"content-length"}
_NONE = -1  # no Content-Length
_ASGI = -2  # a header above, or a Content-Length repeated or not a number


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode()
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINE = {status: _status_line(status) for status in range(100, 600)}  # uvicorn's, too


@dataclass(slots=True)
class Reply:
    """A whole answer: `head` is its header lines (each ending in CRLF), without the status line,
    the server's default headers and the blank line."""

    status: int
    head: bytes
    payload: bytes
    close: bool = False  # the connection closes after it (`head` then holds `connection: close`)
    # Sent once this is done (a journal write shared by --workers): a callback, not a task.
    after: asyncio.Future[None] | None = None


class DirectApp(Protocol):
    max_body: int

    def direct(
        self,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        client: tuple[str, int] | None,
    ) -> Reply | Awaitable[Reply] | None:
        """The answer (or, when it must wait, an awaitable of it), or None (before anything is
        recorded) to leave the request to the ASGI path."""

    def failure(self, exc: BaseException, method: str, path: str) -> Reply:
        """The answer when `Reply.after` failed (logged, as the app's own errors are)."""


class _NoEvent:
    def set(self) -> None:
        pass


class _Waiting:
    """A direct answer not yet sent, as uvicorn's protocol sees its current cycle."""

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.response_complete = False
        self.disconnected = False
        self.more_body = False
        self.message_event = _NoEvent()
        self.transport: Any = None


class _Candidate:
    """A request that qualified on its head, while its body arrives."""

    __slots__ = ("chunks", "length", "method", "path", "query")

    def __init__(self, method: str, path: str, query: bytes, length: int) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.length = length
        self.chunks: list[bytes] = []


class DirectPath:
    """A mixin for uvicorn's httptools protocol, before it in the bases (server.py)."""

    # uvicorn's protocol's attributes, used here.
    app: Any
    cycle: Any
    headers: list[tuple[bytes, bytes]]
    url: bytes
    parser: Any
    transport: asyncio.Transport
    flow: Any
    client: tuple[str, int] | None
    server_state: Any
    tasks: set[asyncio.Task[None]]
    loop: asyncio.AbstractEventLoop
    expect_100_continue: bool
    pipeline: Any
    timeout_keep_alive: int  # (uvicorn says int; a float works)

    _direct_app: DirectApp | None
    _candidate: _Candidate | None

    def _direct_init(self, app: DirectApp | None) -> None:
        """`app`: what answers directly (None: nothing does, every request goes to the app)."""
        self._direct_app = app
        self._candidate = None
        self._length = _NONE
        self._paused_for_writing = False
        self._idle_timer: asyncio.TimerHandle | None = None
        self.idle_since: float | None = None  # when the last direct answer left; None: busy since

    def on_message_begin(self) -> None:
        # uvicorn's, but for its ASGI scope: built only for a request that goes to the app.
        self._candidate = None
        self._length = _NONE
        self.url = b""
        self.headers = []
        self.expect_100_continue = False

    def _asgi_headers_complete(self) -> None:
        """uvicorn's `on_headers_complete` (it starts the ASGI cycle), with the scope that
        uvicorn's `on_message_begin` builds."""
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # type: ignore[misc]
        self.url, self.expect_100_continue = url, expect
        self.headers.extend(headers)  # (the scope holds uvicorn's list: the same object)
        super().on_headers_complete()  # type: ignore[misc]

    def note_header(self, name: bytes, value: bytes) -> None:
        """A header of `NOTED_HEADERS`, as it is parsed (instead of a pass over all of them)."""
        if name == b"content-length":
            fits = value.isdigit() and len(value) < 19  # (a longer one is llhttp's 400 anyway)
            self._length = int(value) if self._length == _NONE and fits else _ASGI
            return
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True  # (uvicorn's own `on_header` does this)
        self._length = _ASGI

    def on_headers_complete(self) -> None:
        candidate = self._qualify()
        if candidate is None:
            self._asgi_headers_complete()
            return
        self._candidate = candidate

    def _qualify(self) -> _Candidate | None:
        app = self._direct_app
        length = self._length
        if app is None or length == _ASGI or length > app.max_body:
            return None
        if (self.cycle is not None and not self.cycle.response_complete) or self.parser.should_upgrade():
            return None
        if self.flow.write_paused:
            # The client is not reading its answers: the ASGI path waits for it before sending
            # (and queues what follows), where answering here would buffer every answer of the read.
            return None
        method = self.parser.get_method().decode("ascii")
        if method == "HEAD":
            return None
        # The path exactly as uvicorn makes it (a byte past ASCII is its 400, as there).
        parsed = httptools.parse_url(self.url)
        path = parsed.path.decode("ascii")
        if "%" in path:
            if "%2F" in path or "%2f" in path:
                return None  # an encoded slash in a segment: routed on the path as sent, by the ASGI path
            path = urllib.parse.unquote(path)
        return _Candidate(method, path, parsed.query or b"", length)

    def on_body(self, body: bytes) -> None:
        if self._candidate is None:
            super().on_body(body)  # type: ignore[misc]
            return
        self._candidate.chunks.append(body)

    def on_message_complete(self) -> None:
        candidate = self._candidate
        if candidate is None:
            super().on_message_complete()  # type: ignore[misc]
            return
        self._candidate = None
        body = b"".join(candidate.chunks) if candidate.length >= 0 else None
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        app = self._direct_app
        assert app is not None
        reply = app.direct(candidate.method, candidate.path, candidate.query, self.headers, body, self.client)
        if reply is None:
            self._to_asgi(body or b"", more_body=False)
            return
        if not isinstance(reply, Reply):
            waiting = self.cycle = _Waiting(keep_alive)
            task = self.loop.create_task(self._send_later(reply, waiting))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
        elif reply.after is not None:
            waiting = self.cycle = _Waiting(keep_alive)
            method, path = candidate.method, candidate.path

            def written(done: asyncio.Future[None]) -> None:
                failed = done.exception() if not done.cancelled() else asyncio.CancelledError()
                self._send_waiting(app.failure(failed, method, path) if failed else reply, waiting)

            reply.after.add_done_callback(written)
        else:
            self._send(reply, keep_alive)
            self._complete(keep_alive and not reply.close)

    def direct_read_done(self) -> None:
        """After a read: a candidate whose body is still on its way goes down the ASGI path."""
        candidate = self._candidate
        if candidate is not None:
            self._candidate = None
            self._to_asgi(b"".join(candidate.chunks), more_body=True)

    def _to_asgi(self, body: bytes, *, more_body: bool) -> None:
        self._asgi_headers_complete()
        self._watch_close(self.cycle)
        if body:
            self.cycle.body += body
        self.cycle.more_body = more_body
        self.cycle.message_event.set()

    async def _send_later(self, later: Awaitable[Reply], waiting: _Waiting) -> None:
        self._send_waiting(await later, waiting)  # (the app answers its own errors: a 500)

    def _send_waiting(self, reply: Reply, waiting: _Waiting) -> None:
        waiting.response_complete = True
        if waiting.disconnected or self.transport.is_closing():
            return
        keep_alive = waiting.keep_alive and not reply.close  # (a shutdown may have cleared it)
        self._send(reply, keep_alive)
        self._complete(keep_alive)

    def _send(self, reply: Reply, keep_alive: bool) -> None:
        status_line = STATUS_LINE.get(reply.status) or _status_line(reply.status)
        parts = [status_line]
        for name, value in self.server_state.default_headers:  # the date, kept current by uvicorn
            parts += (name, b": ", value, b"\r\n")
        parts.append(reply.head)
        if not keep_alive and not reply.close:  # (a closing reply's head says so already)
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", reply.payload)
        self.transport.write(b"".join(parts))

    def _complete(self, keep_alive: bool) -> None:
        """uvicorn's `on_response_complete`, but for its keep-alive timer (below)."""
        self.server_state.total_requests += 1
        if not keep_alive:
            self.close_after_answer()
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            # Idle from now until the next read. uvicorn arms a timer per response and cancels
            # it on the next read, a tenth of a request's CPU here; one timer instead, re-armed
            # when it fires early, checks how long the connection has really been idle.
            self.idle_since = self.loop.time()
            if self._idle_timer is None:
                self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle_check)
        if self.flow.write_paused:
            # A client that sends requests but reads no answers: stop reading until it does,
            # as the ASGI path does by awaiting the transport's drain.
            self.flow.pause_reading()
            self._paused_for_writing = True

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self.idle_since is None or self.transport.is_closing():
            return  # busy: the next answer starts the count again
        left = self.idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self._idle_timer = self.loop.call_later(left, self._idle_check)
        else:
            self.transport.close()  # (as uvicorn's keep-alive timer does)

    def resume_writing(self) -> None:
        super().resume_writing()  # type: ignore[misc]
        if self._paused_for_writing:
            self._paused_for_writing = False
            self.flow.resume_reading()

    if TYPE_CHECKING:  # uvicorn's protocol's, and the bounded protocol's (server.py)

        def _start_asgi_task(self, cycle: Any, app: Any) -> None: ...

        def close_after_answer(self) -> None: ...

        def _watch_close(self, cycle: Any) -> None: ...
