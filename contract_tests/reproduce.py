"""A curl command that sends exactly the bytes a request sent, with the key left out.

The body goes in `--data-binary` as it went: bytes that are not UTF-8 (or are control
characters) are written as `\\xNN` escapes inside bash's `$'…'` quoting, so replaying a request
with invalid UTF-8 sends invalid UTF-8, not U+FFFD. The key's header is written as
`$MEIBEL_API_KEY`, so the command replays with the reader's own key and shows none.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping

# Headers every HTTP client sets for itself; repeating them only adds noise.
_NOISE = frozenset(
    {
        "content-length",
        "connection",
        "accept-encoding",
        "user-agent",
        "accept",
        "host",
        "x-schemathesis-testcaseid",
    }
)


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    secret_headers: Iterable[str] = (),
    secrets: Iterable[str] = (),
) -> str:
    secret_names = {name.lower() for name in secret_headers}
    hidden = [s for s in secrets if s]
    parts = ["curl", "-sS", "-X", method.upper()]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _NOISE:
            continue
        if lowered in secret_names or lowered == "authorization" or value in hidden:
            parts += ["-H", f'"{name}: $MEIBEL_API_KEY"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {_hide(value, hidden)}")]
    if body:
        parts += ["--data-binary", _bash_bytes(body, hidden)]
    parts.append(shlex.quote(_hide(url, hidden)))
    return " ".join(parts)


def _hide(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[Filtered]")
    return text


def _bash_bytes(body: bytes, secrets: list[str]) -> str:
    for secret in secrets:
        body = body.replace(secret.encode("utf-8", "replace"), b"[Filtered]")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return shlex.quote(text)
    out = []
    for byte in body:
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char not in "\\'%":
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    escaped = "".join(out)
    if 0 in body:
        # bash strings end at NUL; printf writes every byte of its format to a pipe.
        return "@<(printf '" + escaped + "')"
    return "$'" + escaped + "'"
