"""Serving an ASGI app with uvicorn: the socket, the logging, and an HTTP protocol with the limits
of a production server (`limits.py`), answering every refusal in JSON like every other 4xx.

uvicorn's protocols have no limit on the size or number of request headers (httptools buffers a
header of any size before it reports it) and no time limit on receiving them. The protocols here
add both, for the httptools stack (the default, the faster one: see bench/) and the h11 stack:

- while a request's headers are being received, at most `max_url + max_header_bytes` bytes are
  handed to the parser, so that it never buffers more; past that, 431;
- the request target, each header line and the number of lines are counted exactly as the
  parser reports them: 414 for the target, 431 for the headers;
- a timer runs from a connection's first byte (or its opening) to the end of the headers: a
  client that does not finish them within `header_timeout` gets 408 and is closed (a connection
  that sent nothing is closed without a word);
- idle kept-alive connections are closed after `idle_timeout` (uvicorn's `timeout_keep_alive`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import sys
from collections.abc import Sized
from http import HTTPStatus
from typing import Any

from mock_server.errors import UsageError
from mock_server.http.direct import DirectApp
from mock_server.http.limits import HEADER_LINE_EXTRA, ServerLimits

log = logging.getLogger("mock_server")
_REQUEST_LINE_EXTRA = 64  # method, spaces, `HTTP/1.1`, line ends: what a request adds to its target
# After a refusal, what the client is still sending is read and dropped for a moment before the
# connection closes: closing with unread data resets it, and the client may then lose the answer
# (a client writes its whole request before it reads). Bounded in time and bytes, as nginx does.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024 * 1024


class Refused(Exception):
    """A request refused before it reaches the app (raised from parser callbacks)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error_response(status: int, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    phrase = HTTPStatus(status).phrase.encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n" % (status, phrase)
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


class _Bounds:
    """What both stacks share: the header timer, the refusals, the per-request counts."""

    limits: ServerLimits
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    # Both stacks' protocols put this class first, so `super()` here is uvicorn's protocol.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _bounds_init(self) -> None:
        self._header_timer: asyncio.TimerHandle | None = None
        self._received = 0  # bytes of the current request's head handed to the parser
        self._header_count = 0
        self._header_bytes = 0
        self._url_bytes = 0
        self._refusal: Refused | None = None
        self._lingering = False
        self._dropped = 0
        self._budget = self.limits.max_url + _REQUEST_LINE_EXTRA + self.limits.max_header_bytes

    def _new_request(self) -> None:
        self._received = self._header_count = self._header_bytes = self._url_bytes = 0

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._received:
            seconds = f"{self.limits.header_timeout:g}"
            self.transport.write(error_response(408, f"Request headers not received within {seconds} s"))
            log.info("closed a connection whose request headers took longer than %s s (408)", seconds)
        self.transport.close()

    def _count_url(self, piece: bytes) -> None:
        self._url_bytes += len(piece)
        if self._url_bytes > self.limits.max_url:
            raise self._refuse(414, f"Request URL longer than the limit of {self.limits.max_url} bytes")

    def _count_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + HEADER_LINE_EXTRA
        if self._header_count > self.limits.max_headers:
            raise self._refuse(431, f"More request headers than the limit of {self.limits.max_headers}")
        if self._header_bytes > self.limits.max_header_bytes:
            raise self._refuse(
                431, f"Request headers larger than the limit of {self.limits.max_header_bytes} bytes"
            )

    def _refuse(self, status: int, detail: str) -> Refused:
        self._refusal = Refused(status, detail)
        return self._refusal

    def _room(self) -> int:
        """Bytes of head the parser may still take for the current request."""
        return self._budget - self._received

    def _too_large_head(self) -> Refused:
        return self._refuse(
            431, f"Request headers larger than the limit of {self.limits.max_header_bytes} bytes"
        )

    def send_400_response(self, msg: str) -> None:
        refusal, self._refusal = self._refusal, None
        status, detail = (refusal.status, refusal.detail) if refusal else (400, msg)
        if refusal is not None:
            log.warning("refused a request (%d): %s", status, detail)
        self._disarm_header_timer()
        if self.transport.is_closing():
            return
        self.transport.write(error_response(status, detail))
        self._linger()

    def _linger(self) -> None:
        if not self.transport.can_write_eof():  # pragma: no cover - TCP transports can
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = True
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _request_unfinished(self) -> bool:
        raise NotImplementedError

    def close_after_answer(self) -> None:
        """The app answered and the connection closes: if the client is still sending the body
        (a 413 refuses it before it is read), linger as after a refusal."""
        if self.transport.is_closing() or self._lingering:
            return
        if self._request_unfinished():
            self._linger()
        else:
            self.transport.close()

    def _watch_close(self, cycle: Any) -> None:
        if cycle is not None and not isinstance(cycle.transport, _CycleTransport):
            cycle.transport = _CycleTransport(self.transport, self)

    def _drop(self, data: bytes) -> None:
        """While lingering after a refusal: read and forget, within bounds."""
        self._dropped += len(data)
        if self._dropped > LINGER_BYTES:
            self.transport.close()


class _CycleTransport(asyncio.Transport):
    """The transport as uvicorn's request/response cycle sees it: its `close` goes through
    `close_after_answer`. (The cycle writes, closes and asks `is_closing`, nothing else.)"""

    def __init__(self, transport: asyncio.Transport, protocol: _Bounds) -> None:
        super().__init__()
        self._transport = transport
        self._protocol = protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        # uvloop raises on a write to a closed transport (asyncio's drops it): a client gone
        # while its answer, or one queued behind it, was being sent is not the app's error.
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._protocol.close_after_answer()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _httptools_protocol(limits: ServerLimits) -> type[Any]:
    import httptools
    from uvicorn.protocols.http.flow_control import FlowControl
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from mock_server.http.direct import NOTED_HEADERS, DirectPath

    class PipelineFlow(FlowControl):
        """uvicorn's flow control, except that reading stays paused while requests are queued
        behind the one being answered. (uvicorn resumes reading whenever the app reads a body:
        a client that sends requests back to back then queues them without limit.)"""

        def __init__(self, transport: asyncio.Transport, pipeline: Sized) -> None:
            super().__init__(transport)
            self._pipeline = pipeline

        def resume_reading(self) -> None:
            if not self._pipeline:
                super().resume_reading()

    class BoundedHttpToolsProtocol(_Bounds, DirectPath, HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._bounds_init()
            self._direct_init(_direct_app(self.app))
            self._awaiting_head = True
            self._in_head = False  # between a request's first byte and its last header line

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.flow = PipelineFlow(self.transport, self.pipeline)

        def data_received(self, data: bytes) -> None:
            if self._lingering:
                self._drop(data)
                return
            self._unset_keepalive_if_required()
            self.idle_since = None
            while data:
                if self._awaiting_head:
                    room = self._room()
                    if room <= 0:
                        self._too_large_head()
                        self.send_400_response("")
                        return
                    piece, data = data[:room], data[room:]
                    self._received += len(piece)
                else:
                    piece, data = data, b""
                if not self._feed(piece):
                    self._candidate = None
                    return
            self.direct_read_done()
            if self._in_head or self._unwatched():
                # A head still on its way: timed from here. (Armed only now, not per request: a
                # head that came whole within one read, as nearly all do, needs no timer.)
                self._arm_header_timer()

        def _unwatched(self) -> bool:
            """Bytes came (blank lines before a request) but no request began, and nothing else
            times the connection: no answer on its way, no keep-alive timer since the last."""
            return (
                self.idle_since is None
                and self.timeout_keep_alive_task is None
                and (self.cycle is None or self.cycle.response_complete)
            )

        def _feed(self, piece: bytes) -> bool:
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserCallbackError as exc:
                if not isinstance(exc.__context__, Refused):
                    self._refusal = None
                    self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
                return False
            except httptools.HttpParserError:
                self._refusal = None
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
                return False
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return False
            return True

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._awaiting_head = self._in_head = True

        def on_url(self, url: bytes) -> None:
            self._count_url(url)
            self.url += url

        def on_header(self, name: bytes, value: bytes) -> None:
            # uvicorn's `on_header`, with the counts and what the direct path notes: the hottest
            # callback, one call per header line (bench/).
            self._count_header(name, value)
            name = name.lower()
            if name in NOTED_HEADERS:
                self.note_header(name, value)
            self.headers.append((name, value))

        def on_headers_complete(self) -> None:
            self._awaiting_head = self._in_head = False
            self._disarm_header_timer()
            self._new_request()
            super().on_headers_complete()
            self._watch_close(self.cycle)

        def _request_unfinished(self) -> bool:
            return self.cycle is not None and self.cycle.more_body

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._awaiting_head = True  # whatever comes next is the next request's head

    BoundedHttpToolsProtocol.limits = limits
    return BoundedHttpToolsProtocol


def _direct_app(app: Any) -> DirectApp | None:
    """The app that answers directly (`direct.py`), if it is the one uvicorn serves. Only uvicorn's
    proxy-headers wrapper is looked through (the direct path leaves requests with those headers to
    it); any other wrapper sees every request, so the direct path is off under it."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    if isinstance(app, ProxyHeadersMiddleware):
        app = app.app
    return app if callable(getattr(app, "direct", None)) and hasattr(app, "max_body") else None


def _h11_protocol(limits: ServerLimits) -> type[Any]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class BoundedH11Protocol(_Bounds, H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._bounds_init()
            # h11 buffers a head up to this size, then refuses it; the count below refuses first.
            self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self._budget + 1)
            parse = self.conn.next_event

            def next_event() -> Any:
                try:
                    event = parse()
                except h11.RemoteProtocolError as exc:
                    if exc.error_status_hint == 431 and self._refusal is None:
                        # h11's "Receive buffer too long": still in the request line, or past it?
                        if b"\n" in self.conn.trailing_data[0][: self.limits.max_url + _REQUEST_LINE_EXTRA]:
                            self._too_large_head()
                        else:
                            self._refuse(
                                414, f"Request URL longer than the limit of {self.limits.max_url} bytes"
                            )
                    raise
                if isinstance(event, h11.Request):
                    self._disarm_header_timer()
                    self._check_head(event)
                    self._new_request()
                return event

            self.conn.next_event = next_event  # type: ignore[method-assign]

        def _check_head(self, event: Any) -> None:
            try:
                self._count_url(event.target)
                for name, value in event.headers.raw_items():
                    self._count_header(name, value)
            except Refused:
                raise h11.RemoteProtocolError("refused") from None

        def data_received(self, data: bytes) -> None:
            if self._lingering:
                self._drop(data)
                return
            if self.conn.their_state is h11.IDLE:  # between requests, or within a request's head
                self._arm_header_timer()
                self._received = len(self.conn.trailing_data[0]) + len(data)
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            self._watch_close(self.cycle)

        def _request_unfinished(self) -> bool:
            return self.conn.their_state is h11.SEND_BODY

    BoundedH11Protocol.limits = limits
    return BoundedH11Protocol


def protocol_class(limits: ServerLimits | None = None, *, stack: str = "auto") -> type[Any]:
    """The httptools protocol (the faster stack, see bench/) when installed, else h11's; both bounded."""
    limits = limits or ServerLimits()
    if stack in ("auto", "httptools"):
        try:
            return _httptools_protocol(limits)
        except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
            if stack == "httptools":
                raise
    return _h11_protocol(limits)


def uvicorn_options(limits: ServerLimits) -> dict[str, Any]:
    """The uvicorn.Config keywords that carry `limits` (shared with testing.py)."""
    return {
        "timeout_keep_alive": limits.idle_timeout,
        "timeout_graceful_shutdown": math.ceil(limits.shutdown_timeout),  # (uvicorn takes an int)
    }


def bind(host: str, port: int) -> socket.socket:
    """Listen before serving: a taken port is one clear line, and port 0's choice is known."""
    sock: socket.socket | None = None
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except (OSError, UnicodeError) as exc:
        if sock is not None:
            sock.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def serve(app: Any, sock: socket.socket, *, log_level: str, limits: ServerLimits | None = None) -> None:
    import uvicorn

    limits = limits or ServerLimits()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,  # the app writes its own, cheaper and without query strings
        http=protocol_class(limits),
        loop=_loop(),
        server_header=False,
        log_config=None,
        **uvicorn_options(limits),
    )
    uvicorn.Server(config).run(sockets=[sock])


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return "asyncio"
    return "uvloop"
