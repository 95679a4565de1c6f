"""meibel-mock proxy --upstream URL: real traffic, checked against the document as it passes.

Forwards every request to the upstream service unchanged and returns its answer unchanged,
but for one added header, `x-contract-violations`, naming what broke the document. Each
violation is also logged. Keys are forwarded as they came and never logged.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
from starlette.types import Receive, Scope, Send

from mock_server.contract import Contract, Operation, is_json_media_type
from mock_server.engine import Engine, Request, Settings
from mock_server.errors import MockError, UsageError
from mock_server.validation import SchemaCompiler

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
MAX_BODY = 16 * 1024 * 1024


class ResponseChecker:
    """The declared statuses, content types and schemas of each operation, compiled once."""

    def __init__(self, contract: Contract) -> None:
        self._validators: dict[tuple[int, str], Any] = {}
        compiler = SchemaCompiler(contract.schema_root)  # components shared, not copied per schema
        for op in contract.operations:
            for status, spec in op.responses.items():
                if spec.schema is not None:
                    self._validators[(id(op), status)] = compiler.fast(spec.schema)

    def violations(self, op: Operation, status: int, content_type: str, body: bytes) -> list[str]:
        declared = _declared(op, status)
        if declared is None:
            return [f"status {status} is not documented (documented: {', '.join(op.responses)})"]
        spec = op.responses[declared]
        if spec.schema is None:
            return []
        if not is_json_media_type(content_type):
            return [f"content type {content_type or 'none'!r} where the document declares JSON"]
        try:
            value = json.loads(body)
        except ValueError:
            return ["the body is not valid JSON"]
        validator = self._validators[(id(op), declared)]
        return [
            f"body{_pointer(error.instance_path)}: {error.message}"
            for error in list(validator.iter_errors(value))[:5]
        ]


def _declared(op: Operation, status: int) -> str | None:
    for candidate in (str(status), f"{str(status)[0]}XX", "default"):
        if candidate in op.responses:
            return candidate
    return None


def _pointer(path: Sequence[Any]) -> str:
    return "".join(f"/{part}" for part in path)


class ValidationProxy:
    def __init__(self, contract: Contract, upstream: str, *, timeout: float = 30.0) -> None:
        self.contract = contract
        self.upstream = upstream.rstrip("/")
        # The engine's validators judge requests exactly as the mock does; its answers go unused.
        self.engine = Engine(contract, Settings())
        self.responses = ResponseChecker(contract)
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.client)
            return
        if scope["type"] != "http":
            return
        body = await _read(receive)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = scope.get("query_string", b"").decode("latin-1")
        method, path = scope["method"], scope["path"]
        problems = self._request_violations(
            method, path, query, dict((k.lower(), v) for k, v in headers), body
        )
        url = self.upstream + path + (f"?{query}" if query else "")
        forwarded = [(k, v) for k, v in headers if k.lower() not in NOT_FORWARDED]
        try:
            upstream = await self.client.request(method, url, headers=forwarded, content=body)
        except httpx.HTTPError as exc:
            detail = f"The proxy could not reach the upstream service: {type(exc).__name__}"
            await _answer(
                send,
                502,
                [("content-type", "application/json"), ("x-mock-proxy", "upstream-unreachable")],
                json.dumps({"detail": detail}).encode(),
            )
            log.warning("%s %s: upstream unreachable (%s)", method, path, type(exc).__name__)
            return
        routed = self.engine.route(method, path)
        if isinstance(routed, tuple):  # (an unknown operation is already named among the request's problems)
            problems += [
                f"response: {p}"
                for p in self.responses.violations(
                    routed[0],
                    upstream.status_code,
                    upstream.headers.get("content-type", ""),
                    upstream.content,
                )
            ]
        out = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        if problems:
            for problem in problems:
                log.warning("%s %s → %s: %s", method, path, upstream.status_code, problem)
            out.append((VIOLATIONS_HEADER, _header_value(problems)))
        await _answer(send, upstream.status_code, out, upstream.content)

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


async def _read(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            break
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send, client: httpx.AsyncClient) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def serve_proxy(argv: Sequence[str]) -> int:
    from mock_server.cli import add_document_options, load_document, port_argument
    from mock_server.server import bind, configure_logging, serve

    parser = _Parser(prog="meibel-mock proxy", description="Forward to a real service, checking the traffic.")
    parser.add_argument(
        "--upstream", required=True, help="the real service's base, e.g. https://api.meibel.ai"
    )
    parser.add_argument("--spec", help="the document to check against (default: the bundled one)")
    add_document_options(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=port_argument, default=8001, help="port (default 8001; 0 picks a free one)"
    )
    parser.add_argument("--timeout", type=_seconds, default=30.0, help="seconds to wait for the upstream")
    parser.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=["critical", "error", "warning", "info", "debug"],
    )
    options = parser.parse_args(argv)
    try:
        parts = urlsplit(options.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--upstream must be an http:// or https:// URL, not {options.upstream!r}")
        contract = load_document(options, "meibel-mock proxy")
        proxy = ValidationProxy(contract, options.upstream, timeout=options.timeout)
        sock = bind(options.host, options.port)
    except MockError as exc:
        print(f"meibel-mock proxy: error: {exc}", file=sys.stderr)
        return 2
    configure_logging(options.log_level)
    print(
        f"Checking traffic to {options.upstream} against {proxy.contract.source}\n"
        f"  Send requests to: http://{options.host}:{sock.getsockname()[1]} (violations are logged and named "
        f"in the {VIOLATIONS_HEADER} header)",
        file=sys.stderr,
        flush=True,
    )
    serve(proxy, sock, log_level=options.log_level)
    return 0
