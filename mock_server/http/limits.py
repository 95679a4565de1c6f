"""What one connection may cost the server before its request reaches the app.

These are connection-level limits, enforced by the HTTP protocol (`server.py`) for the mock and
the proxy alike; the body's size and the time to receive it are the app's (`Settings.max_body`,
`Settings.body_timeout`). Defaults follow common production servers (nginx, Node, gunicorn).
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
HEADER_LINE_EXTRA = 4  # what a header line adds to its name and value: `: ` and CRLF
BODY_TIMEOUT = 10.0  # seconds to receive a request body, once the app reads it: then 408


@dataclass(frozen=True)
class ServerLimits:
    max_header_bytes: int = 64 * KiB  # every header line, name and value: more gets 431
    max_headers: int = 100  # header lines: more gets 431
    max_url: int = 8 * KiB  # the request target (path and query): longer gets 414
    header_timeout: float = 10.0  # seconds from a request's first byte to its last header line
    idle_timeout: float = 5.0  # seconds a kept-alive connection may wait for its next request
    # On SIGTERM or Ctrl-C, requests in flight get this long to finish; then they are cancelled.
    shutdown_timeout: float = 10.0

    def header_cost(self, name: bytes, value: bytes) -> int:
        # As it travels: `name: value\r\n`.
        return len(name) + len(value) + HEADER_LINE_EXTRA
