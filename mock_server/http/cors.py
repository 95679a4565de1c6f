"""Which browser origins may call the mock, and what a preflight is answered.

A development mock is called from pages on other origins (`http://localhost:5173` calling
`http://127.0.0.1:8000`), often with credentials (`fetch(…, {credentials: 'include'})`, axios
`withCredentials`). Browsers refuse `Access-Control-Allow-Origin: *` in credentials mode, so the
policy echoes the request's origin, allows credentials and says `Vary: Origin`. By default any
origin is allowed; `--cors-origin` narrows it to a list, checked when the mock starts.

Plain Python: `cors_middleware.py` turns these decisions into HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mock_server.errors import UsageError

MAX_AGE = "600"  # seconds a browser may reuse a preflight's answer
# Headers a page may read besides the CORS-safelisted ones (`*` is not a wildcard in credentials
# mode, so they are named): the mock's own, and those of answers FastAPI gives.
EXPOSED = ("retry-after", "x-mock-injected", "location", "www-authenticate", "allow")
# What a browser may ask a preflight for: the document's methods, never a made-up one.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOSTPORT = re.compile(r"(?P<host>[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::(?P<port>\d{1,5}))?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse_origin(text: str) -> str:
    """`text` as a browser would write it in `Origin` (lower case, no default port, no slash);
    UsageError, one line with a hint, for anything that is not `scheme://host[:port]`."""
    raw = text.strip()
    if raw in ("*", "null"):
        return raw
    scheme, sep, rest = raw.partition("://")
    if not sep:
        hint = f"http://{raw.rstrip('/')}" if raw and "/" not in raw.rstrip("/") else "http://localhost:5173"
        raise UsageError(f"--cors-origin {raw!r} has no scheme: write it as a browser does, e.g. {hint}")
    scheme = scheme.lower()
    hostport = rest[:-1] if rest.endswith("/") else rest  # `http://localhost:5173/`: accepted
    if not _SCHEME.fullmatch(scheme) or any(c in hostport for c in "/?#@\\"):
        bare = re.split(r"[/?#]", rest, maxsplit=1)[0]
        raise UsageError(
            f"--cors-origin {raw!r} is not an origin: an origin is scheme://host[:port], "
            f"with no path, query or user name (e.g. {scheme}://{bare.rpartition('@')[2] or 'localhost:5173'})"
        )
    found = _HOSTPORT.fullmatch(hostport.lower())
    if found is None or (found["port"] and not 0 < int(found["port"]) <= 65535):
        raise UsageError(f"--cors-origin {raw!r}: not a valid host and port (e.g. http://localhost:5173)")
    host, port = found["host"], found["port"] or ""
    if port and _DEFAULT_PORTS.get(scheme) == port.lstrip("0"):
        port = ""  # browsers leave the default port out of `Origin`
    return f"{scheme}://{host}:{int(port)}" if port else f"{scheme}://{host}"


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    detail: str  # for the page (JSON `detail`) and the log


class CorsPolicy:
    def __init__(self, origins: Iterable[str] = ()) -> None:
        parsed = tuple(dict.fromkeys(parse_origin(origin) for origin in origins))
        self.any_origin = not parsed or "*" in parsed
        self.origins = frozenset(parsed)

    def describe(self) -> str:
        """The banner's line: what is allowed, and the trap every frontend developer meets once."""
        if self.any_origin:
            allowed = "any origin, with credentials (the page's Origin is echoed)"
        else:
            allowed = ", ".join(sorted(self.origins)) + " (with credentials)"
        return f"{allowed}; localhost and 127.0.0.1 are different origins"

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def simple_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        """Headers added to an actual (non-preflight) answer for a request with `origin`."""
        if not self.allows(origin):
            return [(b"vary", b"Origin")]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", ", ".join(EXPOSED).encode()),
            (b"vary", b"Origin"),
        ]

    def preflight(
        self, origin: str, method: str, requested_headers: str, allowed_methods: tuple[str, ...] | None
    ) -> list[tuple[bytes, bytes]] | Refusal:
        """The answer to `OPTIONS` with `Access-Control-Request-Method: method`.

        `allowed_methods` are those served on the path (None: a path the mock does not serve,
        whose 404 the page should be able to read, so the requested method is allowed)."""
        if not self.allows(origin):
            allowed = ", ".join(sorted(self.origins))
            twin = _loopback_twin(origin)
            hint = (
                f"; localhost and 127.0.0.1 are different origins: add --cors-origin {origin}"
                if twin in self.origins
                else ""
            )
            return Refusal(
                400,
                f"Disallowed CORS origin {origin!r}: this mock allows {allowed} "
                f"(add --cors-origin, or leave it out to allow any origin){hint}",
            )
        method = method.strip().upper()
        if method not in _METHODS:
            return Refusal(400, f"Disallowed CORS method {method!r}: not an HTTP method this mock serves")
        methods = tuple(m.upper() for m in allowed_methods) if allowed_methods is not None else (method,)
        if method not in methods:
            return Refusal(
                400, f"Disallowed CORS method {method}: this path serves {', '.join(methods) or 'nothing'}"
            )
        names = [name.strip().lower() for name in requested_headers.split(",") if name.strip()]
        bad = next((name for name in names if not _TOKEN.fullmatch(name)), None)
        if bad is not None:
            return Refusal(400, f"Disallowed CORS request header {bad[:64]!r}: not a header name")
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-allow-methods", ", ".join(methods).encode()),
            (b"access-control-max-age", MAX_AGE.encode()),
            (b"vary", b"Origin"),
        ]
        if names:
            headers.append((b"access-control-allow-headers", ", ".join(names).encode("latin-1")))
        return headers


def _loopback_twin(origin: str) -> str:
    """`http://127.0.0.1:5173` for `http://localhost:5173` and the other way round."""
    for a, b in (("://localhost", "://127.0.0.1"), ("://127.0.0.1", "://localhost")):
        if a in origin:
            return origin.replace(a, b, 1)
    return ""
