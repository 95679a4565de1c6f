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


class Journal:
    def __init__(self, size: int, secret_headers: Iterable[str] = ()) -> None:
        self.size = size
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(size, 1))
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
        kept = None if body is None else body[:MAX_BODY_KEPT].decode("utf-8", "replace")
        entry = {
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": {k: (REDACTED if k in self._secret else v) for k, v in headers.items()},
            "body": kept,
            "body_truncated": body is not None and len(body) > MAX_BODY_KEPT,
            "status": status,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
