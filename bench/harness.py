"""Start `meibel-mock` (or its proxy) as a user does, on 127.0.0.1, and read its memory.

Shared by bench/memory.py and bench/battery.py. Every wait here is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

PATH = "/v2/batch-executions"
KEY = {"Meibel-API-Key": "meibel-mock-key", "content-type": "application/json"}
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory now (VmRSS) from /proc, in MiB."""
    return _status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int) -> float:
    """The most resident memory so far (VmHWM), in MiB."""
    return _status_kib(pid, "VmHWM") / 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class Served:
    """`python -m mock_server ARGS --port P` in a subprocess; stopped with SIGINT on exit."""

    def __init__(self, *args: str, start_timeout: float = 30.0) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "mock_server", *args, "--port", str(self.port)]
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.stderr = ""
        self._log: Any = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Served:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Standard error to a file: a pipe nobody reads would stop a chatty server when it fills.
        self._log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=self._log, text=True, env=env
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                self._log.seek(0)
                raise RuntimeError(f"{' '.join(self.args[2:])} exited: {self._log.read()[:500]}")
            try:  # serving once it accepts connections (it binds first, and listens when ready)
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"not serving within {self.start_timeout} s") from None
                time.sleep(0.1)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """Signal the server, wait (bounded) and return its exit code; killed if it hangs."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if not self._log.closed:  # (a second stop: already read)
            self._log.seek(0)
            self.stderr = self._log.read()
            self._log.close()
        return int(self.process.returncode)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
