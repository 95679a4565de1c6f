"""CORS as ASGI middleware: the policy of cors.py applied to the requests that carry an `Origin`."""

from __future__ import annotations

import logging
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

from mock_server.answer.exchange import Answer
from mock_server.http.cors import CorsPolicy, Refusal
from mock_server.http.messages import send_answer, send_raw
from mock_server.state.shared_state import JournalStore

log = logging.getLogger("mock_server")


class Endpoint(Protocol):
    """What the middleware wraps (`app.ApiEndpoint`): an ASGI app that says which methods a path
    serves and journals what it is sent."""

    journal: JournalStore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    def allowed_methods(self, path: str) -> tuple[str, ...] | None: ...


class JSONCORSMiddleware:
    """CORS for requests with an `Origin` (browsers always send one), by the policy of cors.py:
    the origin echoed with credentials allowed; a preflight allows the methods the path serves.
    A refused preflight is answered in JSON like every other 4xx and logged with its reason;
    preflights are journaled like other requests."""

    def __init__(self, endpoint: Endpoint, policy: CorsPolicy) -> None:
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
            await send_answer(send, Answer(status, {"detail": decision.detail}, {"vary": "Origin"}), scope)
        else:
            status = 204
            await send_raw(send, status, decision, b"", scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        self.endpoint.journal.record("OPTIONS", path, query, headers, None, status)
