"""The access log: a line per request (client, method, path, status, time), written in batches."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO


class AccessLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._pending: list[str] = []  # access log lines not yet written
        self._second = -1
        self._stamp = ""

    def write(
        self, client: tuple[str, int] | None, method: str, path: str, status: int, seconds: float
    ) -> None:
        # One line: client, method, path (never the query or headers), status, time. Written
        # straight to the stream, a batch per 50 ms: `logging` and a write per line would cost
        # a quarter of the throughput (bench/). The `mock_server.access` logger's level still
        # switches it on and off.
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, time.strftime("%H:%M:%S", time.localtime(now))
        host = client[0] if client else "-"
        self._pending.append(
            f'{self._stamp} INFO {host} "{method} {path}" {status or "-"} {seconds * 1000:.1f}ms\n'
        )
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(0.05, self.flush)
        elif len(self._pending) >= 1024:  # a bounded buffer, whatever the load
            self.flush()

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            stream = self.stream or sys.stderr
            stream.write("".join(lines))
            stream.flush()
