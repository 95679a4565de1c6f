"""The request journal: the last N requests the mock answered, for tests to assert on."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

MAX_BODY_KEPT = 64 * 1024  # bytes of each body kept: the journal's memory stays bounded
REDACTED = "[redacted]"
ALWAYS_SECRET = ("authorization", "proxy-authorization", "cookie")


# Entries are kept as flat tuples of strings and numbers: the garbage collector stops tracking
# such tuples, so a full journal adds nothing to its work; dicts are built only when read.
Entry = tuple[float, str, str, str, tuple[tuple[str, str], ...], "str | None", bool, int]


class Journal:
    def __init__(self, size: int, secret_headers: Iterable[str] = ()) -> None:
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=max(size, 1))
        self._secret = frozenset(name.lower() for name in (*ALWAYS_SECRET, *secret_headers))
        # Appended from the server's event loop, read from a test's thread.
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def record(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None, status: int
    ) -> None:
        if not self.size:
            return
        secret = self._secret
        kept = None if body is None else body[:MAX_BODY_KEPT].decode("utf-8", "replace")
        entry = (
            time.time(),
            method,
            path,
            query,
            tuple((k, REDACTED if k in secret else v) for k, v in headers.items()),
            kept,
            body is not None and len(body) > MAX_BODY_KEPT,
            status,
        )
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            kept = list(self._entries)
        return [
            {
                "time": at,
                "method": method,
                "path": path,
                "query": query,
                "headers": dict(headers),
                "body": body,
                "body_truncated": truncated,
                "status": status,
            }
            for at, method, path, query, headers, body, truncated, status in kept
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
