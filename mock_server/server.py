"""uvicorn's HTTP protocols, answering malformed requests in JSON like every other 4xx."""

from __future__ import annotations

import json
from typing import Any


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
