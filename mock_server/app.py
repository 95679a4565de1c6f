"""The one place that wires Starlette: routes, body limits, errors, CORS and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import Receive, Scope, Send

from mock_server.answer.exchange import NOT_FOUND, Answer, Request
from mock_server.contract import Contract
from mock_server.engine import Engine
from mock_server.errors import MockError, UsageError
from mock_server.http import docs_ui
from mock_server.http.access_log import AccessLog
from mock_server.http.control import refusal as control_refusal
from mock_server.http.cors import CorsPolicy
from mock_server.http.cors_middleware import JSONCORSMiddleware
from mock_server.http.direct import Reply
from mock_server.http.messages import STATUS, ClientGone, read_body, send_answer, send_raw, to_reply
from mock_server.http.served_document import ServedDocument
from mock_server.settings import Settings
from mock_server.state.behaviour import BehaviourQueue, behaviour_from_json
from mock_server.state.journal import Journal
from mock_server.state.redaction import Redactor
from mock_server.state.shared_state import LocalState, SharedState
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
access_log = logging.getLogger("mock_server.access")
log = logging.getLogger("mock_server")


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
                await send_answer(send, refused, scope, close=True)
                return
            await send_answer(send, await self._control(scope, receive), scope)
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
            await send_answer(send, routed, scope, payload=payload)
            return
        op, path_params = routed
        body = await read_body(self.engine.settings, headers, receive)
        if isinstance(body, Answer):
            payload = body.encode()
            journaled = self.journal.record(
                method, path, query, headers, None, body.status, payload, generation
            )
            if journaled is not None:
                await journaled
            await send_answer(send, body, scope, close=True, payload=payload)
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
        await send_answer(send, answer, scope, payload=payload)

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
        raw = await read_body(self.engine.settings, {}, receive)
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
            raw = await read_body(self.engine.settings, {}, receive)
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
            await send_answer(
                send, Answer(405, {"detail": "Method Not Allowed"}, {"allow": "GET, HEAD"}), scope
            )
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        url = self.document.url(scope.get("scheme", "http"), host, scope.get("server"))
        body = self.document.bytes_for(url, docs=docs)
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]
        await send_raw(send, 200, headers, body, scope)

    async def _docs(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in READ_ONLY:
            await send_answer(
                send, Answer(405, {"detail": "Method Not Allowed"}, {"allow": "GET, HEAD"}), scope
            )
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
            await send_answer(send, self._slash_redirect(scope) or NOT_FOUND, scope)
            return
        await send_raw(send, 200, found.headers, found.body, scope)


async def _after(journaled: Awaitable[None], reply: Reply) -> Reply:
    await journaled
    return reply


def _encoded_slash(raw_path: bytes | None) -> str | None:
    """The path as sent when a segment holds an encoded slash (`a%2Fb`), else None."""
    if raw_path is None or (b"%2F" not in raw_path and b"%2f" not in raw_path):
        return None
    return raw_path.split(b"?", 1)[0].decode("latin-1")  # (some clients' raw_path holds the query)


def _bug() -> Answer:
    """The answer to a request the mock failed on (both paths send it, then close)."""
    return Answer(500, {"detail": "Internal error in the mock server (a bug: please report it)"})


class MockApp(Starlette):
    """Starlette, with HTTP requests taken down one short path: access log, error guard, CORS
    (only for requests with an `Origin`: browsers always send one), then the endpoint.

    Starlette's router and exception layers have nothing to add here (the engine builds every
    answer, errors included) and, with one wrapper per layer, cost a third of the throughput
    (bench/). Lifespan and other scope types still go through Starlette."""

    def __init__(self, *, log_stream: TextIO | None = None, lifespan: Any = None) -> None:
        super().__init__(lifespan=lifespan)
        self.errors: list[BaseException] = []  # bugs met while answering, for test harnesses
        self.access = AccessLog(log_stream)

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
                self.access.write(client, method, path, reply.status, time.perf_counter() - started)
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
            self.access.write(client, method, path, reply.status, time.perf_counter() - started)
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
        except ClientGone:
            pass
        except Exception as exc:
            self.errors.append(exc)
            log.exception("unexpected error while answering %s %s", scope["method"], scope["path"])
            if STATUS not in scope:
                await send_answer(send, _bug(), scope, close=True)
        if access_log.isEnabledFor(logging.INFO):
            self.access.write(
                scope.get("client"),
                scope["method"],
                scope["path"],
                scope.get(STATUS, 0),
                time.perf_counter() - started,
            )

    def flush_access_log(self) -> None:
        self.access.flush()


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
