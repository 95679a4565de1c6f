"""Who may use the mock's own endpoints (`/__mock/`: the journal, the scenario, a reset).

Open by default, as a local tool's are; `Settings.control_token` asks for a token in the
`X-Mock-Control-Token` header (compared in constant time, never logged or journaled), and
`Settings.control = False` hides the endpoints (404, as for any unknown path).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from mock_server.answer.exchange import NOT_FOUND, Answer
from mock_server.settings import Settings

TOKEN_HEADER = "X-Mock-Control-Token"
_TOKEN_HEADER = TOKEN_HEADER.lower().encode()


def refusal(settings: Settings, headers: Iterable[tuple[bytes, bytes]]) -> Answer | None:
    """None when the request may use the control endpoints, else the answer that refuses it."""
    if not settings.control:
        return NOT_FOUND
    if settings.control_token is None:
        return None
    presented = next((value for name, value in headers if name.lower() == _TOKEN_HEADER), None)
    if presented is None:
        return Answer(401, {"detail": f"The mock's control endpoints need the {TOKEN_HEADER} header"})
    if not hmac.compare_digest(presented, settings.control_token.encode("latin-1")):
        return Answer(403, {"detail": f"Wrong {TOKEN_HEADER}"})
    return None


def check_token(token: str) -> str | None:
    """Why `token` cannot be a control token (None: it can). It travels in a header."""
    if not token.strip():
        return "an empty control token would let anyone in"
    if not token.isascii() or not token.isprintable() or token != token.strip():
        return "a control token is printable ASCII without surrounding spaces"
    return None
