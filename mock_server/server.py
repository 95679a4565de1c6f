"""Serving an ASGI app with uvicorn: the socket, the logging, and protocols that answer
malformed requests in JSON like every other 4xx."""

from __future__ import annotations

import json
import logging
import socket
import sys
from typing import Any

from mock_server.errors import UsageError


def _json_400(msg: str) -> bytes:
    body = json.dumps({"detail": msg}).encode()
    return (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


def protocol_class() -> type[Any]:
    """The httptools protocol (the faster stack, see bench/) when installed, else h11's."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

    class JSONErrorProtocol(Base):
        def send_400_response(self, msg: str) -> None:
            self.transport.write(_json_400(msg))
            self.transport.close()

    return JSONErrorProtocol


def bind(host: str, port: int) -> socket.socket:
    """Listen before serving: a taken port is one clear line, and port 0's choice is known."""
    sock: socket.socket | None = None
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        if sock is not None:
            sock.close()
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def serve(app: Any, sock: socket.socket, *, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,  # the app writes its own, cheaper and without query strings
        http=protocol_class(),
        loop=_loop(),
        server_header=False,
        log_config=None,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return "asyncio"
    return "uvloop"
