"""A request's ASGI messages: its body received within the app's limits, its answer sent.

The body past `Settings.max_body` gets 413, one slower than `Settings.body_timeout` 408; the
answer is also written as the direct path's header lines (`to_reply`), byte for byte the same.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE

from mock_server.answer.exchange import Answer
from mock_server.http.direct import Reply
from mock_server.settings import Settings

# The answer's status, kept in the scope as it is sent: for the access log, and so that the error
# guard knows whether an answer started (cheaper than wrapping `send`).
STATUS = "mock_server.status"


class ClientGone(Exception):
    """The client went away before its body arrived: nothing is answered."""


async def read_body(settings: Settings, headers: dict[str, str], receive: Receive) -> bytes | Answer | None:
    limit = settings.max_body
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

    timer = asyncio.get_running_loop().call_later(settings.body_timeout, expire)
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
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
        seconds = f"{settings.body_timeout:g}"
        return Answer(408, {"detail": f"Request body not received within {seconds} s"})
    finally:
        timer.cancel()
    if not size and declared is None and "transfer-encoding" not in headers:
        return None
    return b"".join(chunks)


def _too_large(limit: int) -> Answer:
    return Answer(413, {"detail": f"Request body larger than the limit of {limit} bytes"})


async def send_answer(
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


async def send_raw(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, scope: Scope
) -> None:
    raw_headers = [(b"content-length", str(len(body)).encode()), *headers]
    scope[STATUS] = status
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def to_reply(answer: Answer, payload: bytes, *, close: bool = False) -> Reply:
    """`send_answer`'s answer as the direct path sends it: the same header lines, as uvicorn writes
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
