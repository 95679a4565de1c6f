"""A mock served on a real socket from a background thread, for tests that need one."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from mock_server.limits import ServerLimits
from mock_server.server import protocol_class, uvicorn_options


class ThreadedServer:
    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", limits: ServerLimits | None = None, stack: str = "auto"
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        limits = limits or ServerLimits()
        config = uvicorn.Config(
            app,
            http=protocol_class(limits, stack=stack),
            log_level="warning",
            access_log=False,
            log_config=None,
            **uvicorn_options(limits),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the mock server did not start within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def serve_in_thread(
    app: Any, *, limits: ServerLimits | None = None, stack: str = "auto"
) -> Iterator[ThreadedServer]:
    """`app` on a free port of 127.0.0.1; `stack`: "httptools", "h11" or "auto" (httptools if installed)."""
    server = ThreadedServer(app, limits=limits, stack=stack)
    server.start()
    try:
        yield server
    finally:
        server.stop()
