"""`--workers N`: N processes answering on one port, sharing their state (`shared_state.py`).

The parent loads the document, binds the socket and creates the store, then forks the workers:
each inherits the socket and the compiled document (copy-on-write, so N workers start in
milliseconds and share most of their memory) and accepts connections on it, as uvicorn's and
gunicorn's workers do. One socket bound once, rather than one per worker with SO_REUSEPORT:
the parent holds the port for as long as it runs, so a worker that dies loses no queued
connection and its replacement needs no new bind; the port-0 choice and a taken port are known
before any worker starts; and it behaves the same on every POSIX system (SO_REUSEPORT balances
only on Linux).

The parent only supervises. A worker that exits unexpectedly is started again (same index, so
the same seed sequence), unless workers keep dying (`MAX_RESTARTS` within `RESTART_WINDOW`):
then the parent stops the others and exits with one line. SIGTERM or SIGINT stops every worker
(each finishes its requests in flight within its shutdown timeout), then the parent; a worker
whose parent is gone (SIGKILL) stops by itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from mock_server.errors import UsageError

log = logging.getLogger("mock_server")
MAX_RESTARTS = 5
RESTART_WINDOW = 30.0  # seconds
KILL_GRACE = 5.0  # seconds past the shutdown timeout before a worker that will not stop is killed


def count(text: str) -> int:
    """`--workers`: a number from 1 to 64, or `auto` (the cores this process may use)."""
    if text == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError(f"not a number of workers from 1 to 64, or auto: {text!r}")
    return int(text)


_STOPPING = {signal.SIGTERM, signal.SIGINT}


class _Stop(Exception):
    pass


class Supervisor:
    """Fork `workers` processes running `run(index)`; restart them; stop them on a signal."""

    def __init__(self, workers: int, run: Callable[[int], None], *, shutdown_timeout: float) -> None:
        if not hasattr(os, "fork"):  # pragma: no cover - POSIX only
            raise UsageError("--workers above 1 needs a system with fork (Linux, macOS)")
        self.workers = workers
        self.run = run
        self.shutdown_timeout = shutdown_timeout
        self.children: dict[int, int] = {}  # pid → index
        self._deaths: list[float] = []
        # Each worker watches the read end: at its EOF (the parent is gone, even by SIGKILL) it stops.
        self._lifeline_r, self._lifeline_w = os.pipe()

    def serve(self) -> int:
        def stop(signum: int, frame: FrameType | None) -> None:
            raise _Stop

        previous = {sig: signal.signal(sig, stop) for sig in _STOPPING}
        try:
            for index in range(self.workers):
                self._start(index)
            while True:
                pid, status = os.waitpid(-1, 0)
                if pid not in self.children:
                    continue
                index = self.children.pop(pid)
                code = os.waitstatus_to_exitcode(status)
                now = time.monotonic()
                self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW] + [now]
                if len(self._deaths) > MAX_RESTARTS:
                    print(
                        f"meibel-mock: error: workers exited {len(self._deaths)} times within "
                        f"{RESTART_WINDOW:g} s (last: worker {index}, exit code {code}); stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
                log.warning("worker %d (pid %d) exited with code %d; starting it again", index, pid, code)
                self._start(index)
        except _Stop:
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all()

    def _start(self, index: int) -> None:
        # Signals wait while forking: the parent records every child it made, and a child never
        # runs the parent's handler.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        pid = os.fork()
        if pid:
            self.children[pid] = index
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
            return
        code = 1
        try:  # the worker: never returns into the parent's code
            for sig in _STOPPING:
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
            os.close(self._lifeline_w)
            threading.Thread(target=_watch_parent, args=(self._lifeline_r,), daemon=True).start()
            self.run(index)
            code = 0
        except BaseException:  # a worker reports and exits; the parent decides
            log.exception("worker %d stopped on an error", index)
        finally:
            sys.stderr.flush()
            os._exit(code)

    def _stop_all(self) -> None:
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout + KILL_GRACE
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    del self.children[pid]
            time.sleep(0.05)
        for pid in list(self.children):  # would not stop in time
            _signal(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            del self.children[pid]


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _watch_parent(fd: int) -> None:
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn stops gracefully on it


def store_directory() -> Path:
    """A private temporary directory for the shared store (removed by `remove_store`)."""
    return Path(tempfile.mkdtemp(prefix="meibel-mock-"))


def remove_store(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
