"""The one place that wires Starlette: routes, body limits, errors, CORS and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE

from mock_server import docs_ui
from mock_server.behaviour import BehaviourQueue, behaviour_from_json
from mock_server.contract import Contract
from mock_server.control import refusal as control_refusal
from mock_server.cors import CorsPolicy, Refusal
from mock_server.direct import Reply
from mock_server.engine import NOT_FOUND, Answer, Engine, Request, Settings
from mock_server.errors import MockError, UsageError
from mock_server.journal import Journal
from mock_server.redaction import Redactor
from mock_server.served_document import ServedDocument
from mock_server.shared_state import LocalState, SharedState
from mock_server.watch import watch as watch_document

CONTROL_PREFIX = "/__mock/"  # outside any API base path: the mock's own endpoints
CONTROL_METHODS = {
    "requests": ("GET", "DELETE"),
    "scenario": ("GET", "PUT"),
    "queue": ("GET", "POST", "DELETE"),
    "reset": ("POST",),
    "recordings": ("GET",),
}
OPENAPI_PATH = "/openapi.json"
READ_ONLY = ("GET", "HEAD")
# The answer's status, kept in the scope as it is sent: for the access log, and so that the error
# guard knows whether an answer started (cheaper than wrapping `send`).
STATUS = "mock_server.status"
access_log = logging.getLogger("mock_server.access")
log = logging.getLogger("mock_server")


class _ClientGone(Exception):
    pass


class ApiEndpoint:
    """Every operation of the document, under its base path."""

    def __init__(self, engine: Engine, document: ServedDocument, state: SharedState) -> None:
        self.engine = engine
        self.document = document
        self.state = state
        self.journal = state.journal
        self.queue = state.queue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            refused = control_refusal(self.engine.settings, scope["headers"])
            if refused is not None:  # (its body, if any, unread: the connection closes)
                await _send(send, refused, scope, close=True)
                return
            await _send(send, await self._control(scope, receive), scope)
            return
        if path == OPENAPI_PATH:
            await self._openapi(scope, send)
            return
        if self._is_docs(path):
            await self._docs(scope, send)
            return
        self.state.sync(self.engine)  # a scenario or reset another worker published (--workers)
        generation = self.journal.generation  # a reset while this request is in flight drops it
        method = scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        routed = self.engine.route(method, path, _encoded_slash(scope.get("raw_path")))
        if isinstance(routed, Answer):
            if routed.status == 404:
                routed = self._slash_redirect(scope) or routed
            payload = routed.encode()
            journaled = self.journal.record(
                method, path, query, headers, None, routed.status, payload, generation
            )
            if journaled is not None:
                await journaled
            await _send(send, routed, scope, payload=payload)
            return
        op, path_params = routed
        body = await self._read_body(headers, receive)
        if isinstance(body, Answer):
            payload = body.encode()
            journaled = self.journal.record(
                method, path, query, headers, None, body.status, payload, generation
            )
            if journaled is not None:
                await journaled
            await _send(send, body, scope, close=True, payload=payload)
            return
        answer = self.engine.respond(op, Request(headers, query, body, path_params), self.queue.take())
        if answer.delay:
            await asyncio.sleep(answer.delay)
        payload = answer.encode()
        # Journaled before it is sent: a client that reads the journal on receiving it sees it.
        journaled = self.journal.record(
            method, path, query, headers, body, answer.status, payload, generation, answer.recording
        )
        if journaled is not None:  # a journal shared by workers (--workers): once written
            await journaled
        await _send(send, answer, scope, payload=payload)

    def direct(
        self, method: str, path: str, query: bytes, raw_headers: list[tuple[bytes, bytes]], body: bytes | None
    ) -> Reply | Awaitable[Reply] | None:
        """`__call__`'s answer to a request already read whole (`direct.py`), or None, before
        anything is recorded, for what needs the ASGI path."""
        if path.startswith(CONTROL_PREFIX) or path == OPENAPI_PATH or self._is_docs(path):
            return None
        routed = self.engine.route(method, path)
        if routed is NOT_FOUND:
            return None  # perhaps a trailing-slash redirect, which needs the whole URL
        self.state.sync(self.engine)
        generation = self.journal.generation
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}  # (lower case)
        query_text = query.decode("latin-1")
        if isinstance(routed, Answer):
            answer, body = routed, None  # (a 405: the body is not looked at, nor journaled)
        else:
            op, path_params = routed
            answer = self.engine.respond(
                op, Request(headers, query_text, body, path_params), self.queue.take()
            )
        if answer.delay:
            return self._later(answer, method, path, query_text, headers, body, generation)
        payload = answer.encode()
        reply = to_reply(answer, payload)
        journaled = self.journal.record(
            method, path, query_text, headers, body, answer.status, payload, generation, answer.recording
        )
        if isinstance(journaled, asyncio.Future):  # a journal shared by workers: sent once written
            reply.after = journaled
        elif journaled is not None:
            return _after(journaled, reply)
        return reply

    async def _later(
        self,
        answer: Answer,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes | None,
        generation: int,
    ) -> Reply:
        await asyncio.sleep(answer.delay)
        payload = answer.encode()
        reply = to_reply(answer, payload)
        journaled = self.journal.record(
            method, path, query, headers, body, answer.status, payload, generation, answer.recording
        )
        if journaled is not None:
            await journaled
        return reply

    async def _control(self, scope: Scope, receive: Receive) -> Answer:
        """`/__mock/…`: the journal, the scenario and a reset, for tests in any language."""
        method, name = scope["method"], scope["path"][len(CONTROL_PREFIX) :]
        allowed = CONTROL_METHODS
        if name not in allowed:
            return Answer(404, {"detail": "Not Found"})
        if method not in allowed[name]:
            return Answer(405, {"detail": "Method Not Allowed"}, {"allow": ", ".join(allowed[name])})
        if name == "requests":
            if method == "DELETE":
                self.journal.clear()
                return Answer(204, empty=True)
            return Answer(200, self._journal_json())
        if name == "queue":
            return await self._queue(method, receive)
        if name == "reset":
            self.state.reset(self.engine)
            return Answer(204, empty=True)
        if name == "recordings":  # what --recordings loaded, and how often each was served
            loaded = self.engine.recordings
            return Answer(200, loaded.listing() if loaded is not None else {"count": 0, "recordings": []})
        self.state.sync(self.engine)
        if method == "GET":
            return Answer(200, {"scenario": self.engine.scenario})
        raw = await self._read_body({}, receive)
        if isinstance(raw, Answer):
            return raw
        try:
            chosen = json.loads(raw or b"null")["scenario"]
            self.engine.check_scenario(chosen)
        except (ValueError, TypeError, KeyError):
            return Answer(400, {"detail": 'Send {"scenario": NAME} (or null for the default)'})
        except UsageError as exc:
            return Answer(400, {"detail": str(exc)})
        self.state.set_scenario(self.engine, chosen)
        return Answer(200, {"scenario": chosen})

    def _journal_json(self) -> dict[str, Any]:
        journal = self.journal
        seen = journal.snapshot()
        return {
            "size": journal.size,
            "max_bytes": journal.max_bytes,
            "bytes": seen.used_bytes,
            "evicted": seen.evicted,
            "late": seen.late,
            "requests": [entry.to_json() for entry in seen.entries],
        }

    async def _queue(self, method: str, receive: Receive) -> Answer:
        """`/__mock/queue`: answers queued for the next requests (`behaviour.py`)."""
        if method == "DELETE":
            self.queue.clear()
            return Answer(204, empty=True)
        if method == "POST":
            raw = await self._read_body({}, receive)
            if isinstance(raw, Answer):
                return raw
            try:
                item = behaviour_from_json(json.loads(raw or b"null"))
                self.engine.check_scenario(item.scenario)
                self.queue.push(item)
            except RecursionError:
                return Answer(400, {"detail": "Body nested too deeply"})
            except (ValueError, UsageError) as exc:
                return Answer(400, {"detail": str(exc)})
        return Answer(200, {"queue": [item.to_json() for item in self.queue.pending()]})

    def allowed_methods(self, path: str) -> tuple[str, ...] | None:
        """The methods served on `path` (None: a path nothing serves), for CORS preflights."""
        if path.startswith(CONTROL_PREFIX):
            return CONTROL_METHODS.get(path[len(CONTROL_PREFIX) :])
        if path == OPENAPI_PATH or (self._is_docs(path) and docs_ui.serves(path)):
            return READ_ONLY
        found = self.engine.contract.match("GET", path)
        return None if found is None else found.allowed

    def _serves(self, path: str) -> bool:
        return self.allowed_methods(path) is not None

    def _slash_redirect(self, scope: Scope) -> Answer | None:
        """FastAPI's (Starlette's `redirect_slashes`): a path that matches nothing but would with
        its trailing slash removed (or added) gets 307 to that URL, query string kept."""
        path = scope["path"]
        if path == "/":
            return None
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        if not other or not self._serves(other):
            return None
        location = RedirectResponse(URL(scope={**scope, "path": other})).headers["location"]
        return Answer(307, headers={"location": location}, empty=True)

    def _is_docs(self, path: str) -> bool:
        # The document's own paths come first: a `--spec` with a /docs path keeps it.
        return (path == docs_ui.DOCS_PATH or path.startswith(docs_ui.DOCS_PATH + "/")) and (
            self.engine.contract.match("GET", path) is None
        )

    async def _openapi(self, scope: Scope, send: Send, *, docs: bool = False) -> None:
        if scope["method"] not in READ_ONLY:
            await _send(send, Answer(405, {"detail": "Method Not Allowed"}, {"allow": "GET, HEAD"}), scope)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        url = self.document.url(scope.get("scheme", "http"), host, scope.get("server"))
        body = self.document.bytes_for(url, docs=docs)
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]
        await _send_raw(send, 200, headers, body, scope)

    async def _docs(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in READ_ONLY:
            await _send(send, Answer(405, {"detail": "Method Not Allowed"}, {"allow": "GET, HEAD"}), scope)
            return
        path = scope["path"]
        if path == docs_ui.DOCUMENT_PATH:
            await self._openapi(scope, send, docs=True)
            return
        if path == docs_ui.DOCS_PATH:
            found = docs_ui.page(self.engine.contract.title)
        else:
            found = docs_ui.asset(path)
        if found is None:
            await _send(send, self._slash_redirect(scope) or NOT_FOUND, scope)
            return
        await _send_raw(send, 200, found.headers, found.body, scope)

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes | Answer | None:
        limit = self.engine.settings.max_body
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _too_large(limit)  # refused before a byte of it is read
        chunks: list[bytes] = []
        size = 0
        # A timer that cancels this task, rather than asyncio.timeout(): a tenth of the cost.
        task = asyncio.current_task()
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            if task is not None:
                task.cancel()

        timer = asyncio.get_running_loop().call_later(self.engine.settings.body_timeout, expire)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return _too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except asyncio.CancelledError:
            if not expired or task is None:
                raise
            task.uncancel()
            seconds = f"{self.engine.settings.body_timeout:g}"
            return Answer(408, {"detail": f"Request body not received within {seconds} s"})
        finally:
            timer.cancel()
        if not size and declared is None and "transfer-encoding" not in headers:
            return None
        return b"".join(chunks)


async def _send_raw(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, scope: Scope
) -> None:
    raw_headers = [(b"content-length", str(len(body)).encode()), *headers]
    scope[STATUS] = status
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _after(journaled: Awaitable[None], reply: Reply) -> Reply:
    await journaled
    return reply


def _encoded_slash(raw_path: bytes | None) -> str | None:
    """The path as sent when a segment holds an encoded slash (`a%2Fb`), else None."""
    if raw_path is None or (b"%2F" not in raw_path and b"%2f" not in raw_path):
        return None
    return raw_path.split(b"?", 1)[0].decode("latin-1")  # (some clients' raw_path holds the query)


def to_reply(answer: Answer, payload: bytes, *, close: bool = False) -> Reply:
    """`_send`'s answer as the direct path sends it: the same header lines, as uvicorn writes
    them (names in lower case; a name or value that could split the answer is an error)."""
    lines = [b"content-length: %d\r\n" % len(payload)]
    if not answer.empty:
        lines.append(b"content-type: " + answer.media_type.encode("latin-1", "replace") + b"\r\n")
    for key, text in answer.headers.items():
        name, value = key.encode("latin-1").lower(), text.encode("latin-1")
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            raise RuntimeError("Invalid HTTP header.")
        if name == b"connection" and b"close" in [t.strip().lower() for t in value.split(b",")]:
            close = True
        lines += (name, b": ", value, b"\r\n")
    if close:
        lines.append(b"connection: close\r\n")
    return Reply(answer.status, b"".join(lines), payload, close)


def _bug() -> Answer:
    """The answer to a request the mock failed on (both paths send it, then close)."""
    return Answer(500, {"detail": "Internal error in the mock server (a bug: please report it)"})


def _too_large(limit: int) -> Answer:
    return Answer(413, {"detail": f"Request body larger than the limit of {limit} bytes"})


async def _send(
    send: Send, answer: Answer, scope: Scope, *, close: bool = False, payload: bytes | None = None
) -> None:
    payload = answer.encode() if payload is None else payload
    raw_headers = [(b"content-length", str(len(payload)).encode())]
    if not answer.empty:
        raw_headers.append((b"content-type", answer.media_type.encode("latin-1", "replace")))
    raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items())
    if close:
        raw_headers.append((b"connection", b"close"))
    scope[STATUS] = answer.status
    await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class JSONCORSMiddleware:
    """CORS for requests with an `Origin` (browsers always send one), by the policy of cors.py:
    the origin echoed with credentials allowed; a preflight allows the methods the path serves.
    A refused preflight is answered in JSON like every other 4xx and logged with its reason;
    preflights are journaled like other requests."""

    def __init__(self, endpoint: ApiEndpoint, policy: CorsPolicy) -> None:
        self.endpoint = endpoint
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin, wanted, requested = "", None, ""
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                wanted = value.decode("latin-1")
            elif name == b"access-control-request-headers":
                requested = f"{requested},{value.decode('latin-1')}" if requested else value.decode("latin-1")
        if scope["method"] == "OPTIONS" and wanted is not None:
            await self._preflight(scope, send, origin, wanted, requested)
            return
        extra = self.policy.simple_headers(origin)

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await self.endpoint(scope, receive, with_cors)

    async def _preflight(self, scope: Scope, send: Send, origin: str, wanted: str, requested: str) -> None:
        path = scope["path"]
        decision = self.policy.preflight(origin, wanted, requested, self.endpoint.allowed_methods(path))
        if isinstance(decision, Refusal):
            log.warning(
                "CORS preflight refused: origin %r, %s %s: %s",
                origin[:200],
                wanted[:20],
                path,
                decision.detail,
            )
            status = decision.status
            await _send(send, Answer(status, {"detail": decision.detail}, {"vary": "Origin"}), scope)
        else:
            status = 204
            await _send_raw(send, status, decision, b"", scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        self.endpoint.journal.record("OPTIONS", path, query, headers, None, status)


class MockApp(Starlette):
    """Starlette, with HTTP requests taken down one short path: access log, error guard, CORS
    (only for requests with an `Origin`: browsers always send one), then the endpoint.

    Starlette's router and exception layers have nothing to add here (the engine builds every
    answer, errors included) and, with one wrapper per layer, cost a third of the throughput
    (bench/). Lifespan and other scope types still go through Starlette."""

    def __init__(self, *, log_stream: TextIO | None = None, lifespan: Any = None) -> None:
        super().__init__(lifespan=lifespan)
        self.log_stream = log_stream
        self.errors: list[BaseException] = []  # bugs met while answering, for test harnesses
        self._pending: list[str] = []  # access log lines not yet written
        self._second = -1
        self._stamp = ""

    def load(self, contract: Contract, settings: Settings, shared: SharedState) -> None:
        """Serve `contract` from now on (at start-up, and again on each --watch reload)."""
        engine = Engine(contract, settings)
        shared.start(engine)
        self.state.contract = contract
        self.state.settings = settings
        self._serve(engine, ServedDocument(contract.document, contract.base_path), shared)

    def share(self, shared: SharedState) -> None:
        """Keep the journal, queue and scenario in `shared` from now on (a worker of --workers,
        just started): same document, same engine."""
        shared.start(self.endpoint.engine)
        self._serve(self.endpoint.engine, self.endpoint.document, shared)

    def _serve(self, engine: Engine, document: ServedDocument, shared: SharedState) -> None:
        endpoint = ApiEndpoint(engine, document, shared)
        cors = JSONCORSMiddleware(endpoint, CorsPolicy(engine.settings.cors_origins))
        # One assignment swaps both: a request in flight finishes on the engine it started with.
        self.endpoint, self.cors = endpoint, cors
        self.state.engine = engine
        self.state.shared = shared
        self.state.journal = shared.journal
        self.state.queue = shared.queue

    @property
    def max_body(self) -> int:
        return self.endpoint.engine.settings.max_body

    def direct(
        self,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        client: tuple[str, int] | None,
    ) -> Reply | Awaitable[Reply] | None:
        """A request read whole, answered without ASGI (`direct.py`), with `__call__`'s error
        guard and access log."""
        started = time.perf_counter()
        try:
            reply = self.endpoint.direct(method, path, query, headers, body)
        except Exception as exc:
            reply = self._failed(exc, method, path)
        if reply is None:
            return None
        if isinstance(reply, Reply):
            if access_log.isEnabledFor(logging.INFO):
                self._access(client, method, path, reply.status, time.perf_counter() - started)
            return reply
        return self._direct_later(reply, client, method, path, started)

    async def _direct_later(
        self,
        later: Awaitable[Reply],
        client: tuple[str, int] | None,
        method: str,
        path: str,
        started: float,
    ) -> Reply:
        try:
            reply = await later
        except Exception as exc:
            reply = self._failed(exc, method, path)
        if access_log.isEnabledFor(logging.INFO):
            self._access(client, method, path, reply.status, time.perf_counter() - started)
        return reply

    def failure(self, exc: BaseException, method: str, path: str) -> Reply:
        return self._failed(exc, method, path)

    def _failed(self, exc: BaseException, method: str, path: str) -> Reply:
        self.errors.append(exc)
        log.exception("unexpected error while answering %s %s", method, path, exc_info=exc)
        answer = _bug()
        return to_reply(answer, answer.encode(), close=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        target = self.cors if any(name == b"origin" for name, _ in scope["headers"]) else self.endpoint
        started = time.perf_counter()
        try:
            await target(scope, receive, send)
        except _ClientGone:
            pass
        except Exception as exc:
            self.errors.append(exc)
            log.exception("unexpected error while answering %s %s", scope["method"], scope["path"])
            if STATUS not in scope:
                await _send(send, _bug(), scope, close=True)
        if access_log.isEnabledFor(logging.INFO):
            self._access(
                scope.get("client"),
                scope["method"],
                scope["path"],
                scope.get(STATUS, 0),
                time.perf_counter() - started,
            )

    def _access(
        self, client: tuple[str, int] | None, method: str, path: str, status: int, seconds: float
    ) -> None:
        # One line: client, method, path (never the query or headers), status, time. Written
        # straight to the stream, a batch per 50 ms: `logging` and a write per line would cost
        # a quarter of the throughput (bench/). The `mock_server.access` logger's level still
        # switches it on and off.
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, time.strftime("%H:%M:%S", time.localtime(now))
        host = client[0] if client else "-"
        self._pending.append(
            f'{self._stamp} INFO {host} "{method} {path}" {status or "-"} {seconds * 1000:.1f}ms\n'
        )
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(0.05, self.flush_access_log)
        elif len(self._pending) >= 1024:  # a bounded buffer, whatever the load
            self.flush_access_log()

    def flush_access_log(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            stream = self.log_stream or sys.stderr
            stream.write("".join(lines))
            stream.flush()


def create_app(
    contract: Contract,
    *,
    settings: Settings | None = None,
    log_stream: TextIO | None = None,
    watch: Path | None = None,
) -> Starlette:
    """A Starlette app serving every operation of `contract` (see `Settings` for the knobs).

    The access log goes to `log_stream` (default: standard error) while the `mock_server.access`
    logger is enabled for INFO. With `watch`, the document is reloaded when that file changes."""
    settings = settings or Settings()
    journal = Journal(
        settings.journal_size, max_bytes=settings.journal_bytes, redactor=_redactor(contract, settings)
    )
    shared = LocalState(journal, BehaviourQueue())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        def reload(new: Contract) -> None:
            try:
                mock.load(new, settings, mock.state.shared)
            except MockError as exc:  # (recordings that no longer load): the watch goes on
                log.warning("%s — still serving the last good document", exc)

        task = asyncio.create_task(watch_document(watch, reload)) if watch is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            mock.flush_access_log()

    mock = MockApp(log_stream=log_stream, lifespan=lifespan)
    mock.load(contract, settings, shared)
    return mock


def _redactor(contract: Contract, settings: Settings) -> Redactor:
    """What the journal hides: the accepted keys, and the document's credential headers and
    query parameters besides the usual ones."""
    creds = [cred for op in contract.operations for alternative in op.security for cred in alternative]
    return Redactor(
        settings.accepted_keys,
        secret_headers=[cred.name for cred in creds if cred.location == "header"],
        secret_params=[cred.name for cred in creds if cred.location == "query"],
    )
