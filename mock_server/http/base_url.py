"""One meaning of "base URL" for every tool of the kit.

A base URL is the server URL as the document's `servers`, the SDK and the mock's banner write it:
`https://api.meibel.ai/v2`, `http://127.0.0.1:8000/v2/`. Users also give a bare origin
(`https://api.meibel.ai`), which gets the document's base path added, and gateways put the API
under a prefix of their own (`https://gw.example/meibel/v2`), which is used as given. So a path
that is empty (or `/`) means "the origin": the document's base path is appended; any other path
is the API's root as it stands. The answer never ends with a slash, so that operation paths from
the document (which start with one) are appended as they are.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from mock_server.errors import UsageError


def resolve_base_url(url: str, base_path: str, *, option: str = "--base-url") -> str:
    """The URL under which the document's operation paths live; UsageError for a malformed one."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number or out of range)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} must be an http:// or https:// URL, not {text!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"{option} {text!r}: a base URL has no query string or fragment")
    if parts.username or parts.password:
        # Credentials in a URL end up in logs and reports; the key has its own option.
        raise UsageError(f"{option}: give credentials with --api-key, not inside the URL")
    path = parts.path.rstrip("/")
    if not path:
        path = base_path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
