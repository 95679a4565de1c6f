"""A curl command that sends exactly the bytes a request sent, and an excerpt of an answer.

The command sends what the request sent, no more, no less: the same method, target (`--globoff`
and `--path-as-is`, so that curl neither expands `{}`/`[]` nor resolves `..`), headers and body.
Where no key went, none goes; a made-up key (the unknown key of the auth probes) goes as it was,
since it is no secret; only the run's own key is written `$MEIBEL_API_KEY`, so the command
replays with the reader's key and shows none. The body goes in `--data-binary` as it went: bytes
that are not UTF-8 (or are control characters) are written as `\\xNN` escapes inside bash's `$'…'`
quoting, so replaying a request with invalid UTF-8 sends invalid UTF-8, not U+FFFD.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from contract_tests.context import CONTEXT

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
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, *, secrets: Iterable[str] = ()
) -> str:
    """`secrets`: the run's own key(s), written as `$MEIBEL_API_KEY` wherever they went."""
    hidden = [s for s in secrets if s]
    lowered = {name.lower() for name in headers}
    parts = ["curl", "-sS", "--globoff", "--path-as-is", "-X", method.upper()]
    for name, value in headers.items():
        if name.lower() in _NOISE:
            continue
        if any(secret in value for secret in hidden):
            parts += ["-H", _double_quoted(f"{name}: {value}", hidden)]
        elif value == "":
            parts += ["-H", shlex.quote(f"{name};")]  # curl's spelling of a header sent empty
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    # curl would add a form Content-Type to a body where the request had none: removed again.
    # (An empty body goes as none: `Content-Length: 0` and no length say the same to a server.)
    if body:
        if "content-type" not in lowered:
            parts += ["-H", "'Content-Type:'"]
        parts += ["--data-binary", _bash_bytes(body, hidden)]
    parts.append(_double_quoted(url, hidden) if any(s in url for s in hidden) else shlex.quote(url))
    return " ".join(parts)


def _double_quoted(text: str, secrets: list[str]) -> str:
    """`text` in bash double quotes, each secret in it replaced by `$MEIBEL_API_KEY`."""
    escaped = "".join("\\" + c if c in '"\\$`' else c for c in text)
    for secret in secrets:
        escaped = escaped.replace("".join("\\" + c if c in '"\\$`' else c for c in secret), "$MEIBEL_API_KEY")
    return f'"{escaped}"'


def answer_excerpt(
    status: int, content_type: str | None, body: bytes, *, secrets: Iterable[str] = (), limit: int = 400
) -> str:
    """What a service answered, for a report: status, content type, size and the body's start."""
    hidden = [s for s in secrets if s]
    for secret in hidden:
        body = body.replace(secret.encode("utf-8", "replace"), b"[Filtered]")
    head = f"{status}, {content_type or 'no Content-Type'}, {len(body)} byte{'s' if len(body) != 1 else ''}"
    if not body:
        return head
    text = body[:limit].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in text)
    more = f" … ({len(body) - limit} more bytes)" if len(body) > limit else ""
    return f"{head}:\n{text}{more}"


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


def sent_body(response: Any) -> bytes:
    body = response.request.body
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else b""


def reproduction(response: Any) -> str:
    """The request behind `response` as a byte-exact curl command; the run's key as `$MEIBEL_API_KEY`.

    `response` is Schemathesis's or `requests`' (a probe's, seen at the gate): both have `request`."""
    request = response.request
    return curl_command(
        str(request.method),
        str(request.url),
        {str(k): str(v) for k, v in request.headers.items()},
        sent_body(response),
        secrets=[CONTEXT.api_key],
    )


def answer_summary(response: Any) -> str:
    """Status, content type and the start of the body of `response`, the run's key filtered out."""
    headers = response.headers
    value = headers.get("content-type") or headers.get("Content-Type")
    if isinstance(value, list):  # Schemathesis keeps every value of a header
        value = value[0] if value else None
    return answer_excerpt(
        int(response.status_code), value, bytes(response.content or b""), secrets=[CONTEXT.api_key]
    )
