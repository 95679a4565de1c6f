"""meibel-mock proxy --upstream URL: real traffic, checked against the document as it passes.

Forwards every request to the upstream service unchanged and returns its answer unchanged,
but for one added header, `x-contract-violations`, naming what broke the document. Each
violation is also logged. Keys are forwarded as they came and never logged.

Whole or not at all: a request body past `max_body` gets 413 and is never forwarded, an answer
past `max_response` gets 502; neither is cut. The proxy's own answers carry `x-mock-proxy`:
`body-too-large` (413), `body-timeout` (408), `upstream-unreachable` (502),
`upstream-too-large` (502), `upstream-timeout` (504).

`--upstream` is a base URL as the kit means it everywhere (base_url.py): a request for
`<document base path>/<operation path>` goes to `<upstream base URL>/<operation path>`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence

import httpx
from starlette.types import Receive, Scope, Send

from mock_server import options as types
from mock_server.answer.exchange import Request
from mock_server.answer.recording import Exchange
from mock_server.contract import Contract
from mock_server.engine import Engine
from mock_server.errors import MockError
from mock_server.http.base_url import resolve_base_url
from mock_server.http.limits import BODY_TIMEOUT
from mock_server.settings import Settings
from mock_server.traffic.answer_check import ResponseChecker
from mock_server.traffic.recorder import Recorder, add_record_options, recorder_from

log = logging.getLogger("mock_server.proxy")
VIOLATIONS_HEADER = "x-contract-violations"
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# Asked for identity encoding: the answer is then passed on byte for byte, and checked as it is.
NOT_FORWARDED = HOP_BY_HOP | {"accept-encoding"}
MiB = 1024 * 1024
MAX_BODY = 16 * MiB  # at least the mock's own limit (1 MiB): the proxy fronts services with larger ones
MAX_RESPONSE = 16 * MiB
PROXY_HEADER = "x-mock-proxy"


class _Refusal(Exception):
    def __init__(self, status: int, mark: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.mark, self.detail = status, mark, detail


class ValidationProxy:
    def __init__(
        self,
        contract: Contract,
        upstream: str,
        *,
        timeout: float = 30.0,
        max_body: int = MAX_BODY,
        max_response: int = MAX_RESPONSE,
        body_timeout: float = BODY_TIMEOUT,
        recorder: Recorder | None = None,
    ) -> None:
        self.contract = contract
        self.recorder = recorder  # --record DIR: each exchange written as a recording
        # The API's root at the upstream; a request under the document's base path is rebased
        # onto it, and any other path goes to the same place relative to the upstream's root.
        self.upstream = resolve_base_url(upstream, contract.base_path, option="--upstream")
        self.base_path = contract.base_path.rstrip("/")
        self.root = self.upstream.removesuffix(self.base_path) if self.base_path else self.upstream
        self.timeout = timeout
        self.max_body = max_body
        self.max_response = max_response
        self.body_timeout = body_timeout
        # The engine's validators judge requests exactly as the mock does; its answers go unused.
        self.engine = Engine(contract, Settings())
        self.responses = ResponseChecker(contract)
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        if self.recorder is not None:
            self.recorder.flush()
        await self.client.aclose()

    def stopped(self) -> None:
        """At shutdown (SIGTERM, Ctrl-C): what was recorded, in one line. (Here, in the server's
        shutdown: uvicorn ends the process with the signal once it has stopped.)"""
        if self.recorder is not None:
            print(f"meibel-mock proxy: {self.recorder.summary()}", file=sys.stderr, flush=True)

    def target(self, raw_path: str, query: str) -> str:
        """Where a request for `raw_path` (as sent, still percent-encoded) goes upstream."""
        base = self.base_path
        if base and (raw_path == base or raw_path.startswith(base + "/")):
            url = self.upstream + raw_path[len(base) :]
        else:
            url = self.root + raw_path
        return url + (f"?{query}" if query else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.client, self.stopped)
            return
        if scope["type"] != "http":
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = scope.get("query_string", b"").decode("latin-1")
        method, path = scope["method"], scope["path"]
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        try:
            body = await self._read(dict((k.lower(), v) for k, v in headers), receive)
        except _Refusal as refusal:
            await _refuse(send, refusal, close=True)
            log.warning("%s %s: %s", method, path, refusal.detail)
            return
        problems = self._request_violations(
            method, path, query, dict((k.lower(), v) for k, v in headers), body
        )
        request_problems = len(problems)
        forwarded = [(k, v) for k, v in headers if k.lower() not in NOT_FORWARDED]
        try:
            status, out, content = await self._exchange(method, self.target(raw_path, query), forwarded, body)
        except _Refusal as refusal:
            await _refuse(send, refusal)
            log.warning("%s %s: %s", method, path, refusal.detail)
            return
        routed = self.engine.route(method, path)
        encoded = any(k.lower() == "content-encoding" and v.lower() != "identity" for k, v in out)
        if isinstance(routed, tuple) and not encoded:
            # (an unknown operation is already named among the request's problems; an answer the
            # upstream compressed anyway is passed on as it came, its body unchecked)
            content_type = next((v for k, v in out if k.lower() == "content-type"), "")
            problems += [
                f"response: {p}" for p in self.responses.violations(routed[0], status, content_type, content)
            ]
        received = out
        out = [(k, v) for k, v in out if k.lower() not in HOP_BY_HOP]
        if problems:
            for problem in problems:
                log.warning("%s %s → %s: %s", method, path, status, problem)
            out.append((VIOLATIONS_HEADER, _header_value(problems)))
        await _answer(send, status, out, content)
        if self.recorder is not None and isinstance(routed, tuple) and not encoded:
            # Once the client has its answer. (An answer compressed anyway could not be replayed
            # as recorded: not recorded.)
            exchange = Exchange(method, path, query, headers, body or None, status, received, content)
            answer_problems = [p.removeprefix("response: ") for p in problems[request_problems:]]
            self.recorder.later(*routed, exchange, answer_problems, request_broken=request_problems > 0)

    async def _read(self, headers: dict[str, str], receive: Receive) -> bytes:
        """The whole body, or a refusal: past `max_body` (413), or slower than `body_timeout` (408)."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise self._too_large()  # refused before a byte of it is read
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        raise self._too_large()
                    chunks.append(chunk)
                    if not message.get("more_body"):
                        break
        except TimeoutError:
            seconds = f"{self.body_timeout:g}"
            raise _Refusal(408, "body-timeout", f"Request body not received within {seconds} s") from None
        return b"".join(chunks)

    def _too_large(self) -> _Refusal:
        return _Refusal(
            413, "body-too-large", f"Request body larger than the proxy's limit of {self.max_body} bytes"
        )

    async def _exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The upstream's whole answer (status, headers, raw body), within `timeout` in all."""
        try:
            async with asyncio.timeout(self.timeout):
                request = self.client.build_request(method, url, headers=headers, content=body)
                upstream = await self.client.send(request, stream=True)
                try:
                    chunks, size = [], 0
                    async for chunk in upstream.aiter_raw():
                        size += len(chunk)
                        if size > self.max_response:
                            raise _Refusal(
                                502,
                                "upstream-too-large",
                                f"The upstream's answer is larger than the proxy's limit of "
                                f"{self.max_response} bytes",
                            )
                        chunks.append(chunk)
                finally:
                    await upstream.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise _Refusal(
                504,
                "upstream-timeout",
                f"The upstream service did not answer within {self.timeout:g} s",
            ) from None
        except httpx.HTTPError as exc:
            raise _Refusal(
                502,
                "upstream-unreachable",
                f"The proxy could not reach the upstream service: {type(exc).__name__}",
            ) from None
        return upstream.status_code, list(upstream.headers.multi_items()), b"".join(chunks)

    def _request_violations(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> list[str]:
        routed = self.engine.route(method, path)
        if not isinstance(routed, tuple):
            return [f"request: {method} {path} is not an operation of the document"]
        op, params = routed
        errors = self.engine.validation_errors(op, Request(headers, query, body or None, params))
        return [f"request: {'/'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]]


def _header_value(problems: list[str]) -> str:
    text = "; ".join(problems)
    text = text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")
    return text[:1000] + ("…" if len(text) > 1000 else "")


async def _refuse(send: Send, refusal: _Refusal, *, close: bool = False) -> None:
    headers = [("content-type", "application/json"), (PROXY_HEADER, refusal.mark)]
    if close:  # the rest of the body was never read
        headers.append(("connection", "close"))
    await _answer(send, refusal.status, headers, json.dumps({"detail": refusal.detail}).encode())


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(
    receive: Receive, send: Send, client: httpx.AsyncClient, stopped: Callable[[], None]
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await client.aclose()
            stopped()
            await send({"type": "lifespan.shutdown.complete"})
            return


def proxy_parser() -> types.Parser:
    parser = types.Parser(
        prog="meibel-mock proxy", description="Forward to a real service, checking the traffic."
    )
    parser.add_argument(
        "--upstream",
        required=True,
        help="the real service's base URL, e.g. https://api.meibel.ai/v2 (a bare origin gets /v2)",
    )
    parser.add_argument("--spec", help="the document to check against (default: the bundled one)")
    types.add_document_options(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=types.port, default=8001, help="port (default 8001; 0 picks a free one)"
    )
    parser.add_argument(
        "--timeout", type=types.seconds, default=30.0, help="seconds to wait for the upstream's answer"
    )
    parser.add_argument(
        "--max-body",
        type=types.size,
        default=MAX_BODY,
        metavar="BYTES",
        help="largest request body forwarded (default 16 MiB): larger gets 413, never cut",
    )
    parser.add_argument(
        "--max-response",
        type=types.size,
        default=MAX_RESPONSE,
        metavar="BYTES",
        help="largest upstream answer passed on (default 16 MiB): larger gets 502, never cut",
    )
    add_record_options(parser)
    types.add_connection_limits(parser)
    parser.add_argument("--log-level", default="info", type=str.lower, choices=types.LOG_LEVELS)
    return parser


def serve_proxy(argv: Sequence[str]) -> int:
    from mock_server.http.server import bind, configure_logging, serve

    options = proxy_parser().parse_args(argv)
    try:
        contract = types.load_document(options, "meibel-mock proxy")
        proxy = ValidationProxy(
            contract,
            options.upstream,
            timeout=options.timeout,
            max_body=options.max_body,
            max_response=options.max_response,
            body_timeout=options.body_timeout,
            recorder=recorder_from(options, contract),
        )
        sock = bind(options.host, options.port)
    except MockError as exc:
        print(f"meibel-mock proxy: error: {exc}", file=sys.stderr)
        return 2
    configure_logging(options.log_level)
    # httpx logs each request's URL at INFO, query string and all: a key sent in the query
    # (`?api_key=…`) would be printed. The proxy logs what it has to say itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    shown_host = f"[{options.host}]" if ":" in options.host else options.host
    print(
        f"Checking traffic to {proxy.upstream} against {proxy.contract.source}\n"
        f"  Base URL: http://{shown_host}:{sock.getsockname()[1]}{proxy.contract.base_path} "
        f"(violations are logged and named in the {VIOLATIONS_HEADER} header)"
        + (f"\n  Recording: {proxy.recorder.describe()}" if proxy.recorder is not None else ""),
        file=sys.stderr,
        flush=True,
    )
    serve(proxy, sock, log_level=options.log_level, limits=types.server_limits(options))
    return 0
