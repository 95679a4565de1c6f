"""Keeping keys out of what the mock records: every place a credential can hide in a request.

A value is hidden when it is, or contains, an accepted API key (in the path, the query, any
header, a body — also percent-encoded or JSON-escaped), when it sits under a credential header
(`Authorization`, `Cookie`, the document's apiKey headers), or under a credential-like query or
form parameter (`api_key`, `token`, `password`, …). Hidden text reads `[redacted]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, quote_plus, unquote_plus

REDACTED = "[redacted]"
_REDACTED_BYTES = REDACTED.encode()

# Headers that carry credentials whatever the document says.
ALWAYS_SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
)
# Parameter names (lower case, without `-` and `_`) that carry credentials by convention.
_SECRET_PARAMS = frozenset(
    {
        "apikey",
        "key",
        "token",
        "auth",
        "authorization",
        "password",
        "passwd",
        "pwd",
        "secret",
        "signature",
        "sig",
        "credential",
        "credentials",
        "sessionid",
        "jwt",
        "bearer",
    }
)
_SECRET_SUFFIXES = ("token", "secret", "password", "apikey", "signature", "credential", "credentials")
# A JSON escape of a printable ASCII character other than `"` and `\` (`\u00XX`, or `\/` as
# some encoders write every slash): decoding it leaves the JSON valid and means the same, so a
# key spelled `\u006deibel…`, or a base64 key with its slashes escaped, can be found.
_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\(?:u00([2-7][0-9a-fA-F])|/)")
_LONGEST_ESCAPE = 6  # bytes of `\u00XX` per character of a key


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def is_secret_param(name: str, extra: frozenset[str] = frozenset()) -> bool:
    normal = _normal(name)
    return normal in _SECRET_PARAMS or normal in extra or normal.endswith(_SECRET_SUFFIXES)


class Redactor:
    def __init__(
        self,
        keys: Iterable[str] = (),
        *,
        secret_headers: Iterable[str] = (),
        secret_params: Iterable[str] = (),
    ) -> None:
        plain = {key for key in keys if key}
        # Each key as it may travel: verbatim, percent-encoded (query strings, forms).
        forms = {form for key in plain for form in (key, quote(key, safe=""), quote_plus(key))}
        self.keys = sorted(forms, key=len, reverse=True)  # longest first: no partial overlaps
        self.key_bytes = tuple(form.encode("utf-8", "surrogateescape") for form in self.keys)
        self.headers = frozenset(name.lower() for name in (*ALWAYS_SECRET_HEADERS, *secret_headers))
        self._params = frozenset(_normal(name) for name in secret_params)
        # How far past a cut a key that starts before the cut can reach, escaped.
        self.reach = _LONGEST_ESCAPE * max((len(k) for k in self.key_bytes), default=0)

    def text(self, value: str) -> str:
        """`value` with every key in it replaced."""
        for key in self.keys:
            if key in value:
                value = value.replace(key, REDACTED)
        return value

    def header(self, name: str, value: str) -> str:
        return REDACTED if name in self.headers else self.text(value)

    def params(self, encoded: str, hidden: list[str] | None = None) -> str:
        """A query string (or form body) with credential-like parameters and keys hidden,
        otherwise as sent. The values hidden are added to `hidden` (to hide them elsewhere)."""
        if not encoded:
            return encoded
        parts = []
        for part in encoded.split("&"):
            raw_name, sep, raw_value = part.partition("=")
            name, value = unquote_plus(raw_name), unquote_plus(raw_value)
            if self.text(name) != name:
                raw_name = REDACTED
            if value and (is_secret_param(name, self._params) or self.text(value) != value):
                if hidden is not None:
                    hidden.extend((value, raw_value))
                raw_value = REDACTED
            parts.append(raw_name + sep + raw_value)
        # A key sent unencoded, with a character that means something here (`&`, `=`, `+`),
        # is in no single part, decoded: hidden as text too.
        return self.text("&".join(parts))

    def body(self, raw: bytes, limit: int, also: Iterable[str] = ()) -> tuple[bytes, bool]:
        """The first `limit` bytes of a body, keys (and the values `also`) hidden — a key cut
        in two by the limit too — and whether anything was cut."""
        secrets: Sequence[bytes] = self.key_bytes
        reach = self.reach
        if also:
            extra = {value.encode("utf-8", "surrogateescape") for value in also}
            secrets = sorted({*secrets, *extra}, key=len, reverse=True)
            reach = max(reach, _LONGEST_ESCAPE * max(map(len, extra)))
        window = raw if len(raw) <= limit + reach else raw[: limit + reach]
        hidden = _hide(window, secrets)
        if b"\\" in hidden and secrets:
            unescaped = _ESCAPE.sub(_unescape, hidden)
            if _hide(unescaped, secrets) != unescaped:
                hidden = _hide(unescaped, secrets)
        return hidden[:limit], len(raw) > len(window) or len(hidden) > limit


def _hide(data: bytes, secrets: Iterable[bytes]) -> bytes:
    for secret in secrets:
        if secret in data:
            data = data.replace(secret, _REDACTED_BYTES)
    return data


def _unescape(found: re.Match[bytes]) -> bytes:
    if found.group(2) is None:
        return found.group(1) + b"/"
    code = int(found.group(2), 16)
    if code in (0x22, 0x5C) or code > 0x7E:
        return found.group(0)
    return found.group(1) + bytes([code])
