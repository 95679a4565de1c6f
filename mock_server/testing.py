"""The mock in tests: served on a real socket from a background thread, with a handle to drive
it (`MeibelMock`) and a pool that keeps one server per distinct `Settings`.

The pytest fixtures (`pytest_meibel_mock`) are a thin layer over this module; other test
runners can use it directly:

    with MockPool() as pool:
        mock = pool.get(Settings(seed=1))
        mock.fail_next(503, times=2)
        ...
"""

from __future__ import annotations

import fnmatch
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from mock_server.app import create_app
from mock_server.contract import Contract, load_contract
from mock_server.errors import UsageError
from mock_server.http.limits import ServerLimits
from mock_server.http.server import protocol_class, uvicorn_options
from mock_server.settings import Settings
from mock_server.state.behaviour import Behaviour, behaviour
from mock_server.state.journal import JournalEntry as JournalEntry  # public here, where it stays


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


class Requests:
    """What the mock was sent, oldest first: a snapshot of the journal, with helpers.

    `path` in `filter` and `count` is the full path (`/v2/batch-executions`) or the path under
    the API's base URL (`/batch-executions`), and may hold `*` wildcards."""

    def __init__(self, entries: list[JournalEntry], base_path: str = "") -> None:
        self._entries = entries
        self._base = base_path

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self._entries)

    def __getitem__(self, index: int) -> JournalEntry:
        return self._entries[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Requests):
            return self._entries == other._entries
        return isinstance(other, list) and self._entries == other

    __hash__ = None  # type: ignore[assignment]  # a snapshot compares by value

    def __repr__(self) -> str:
        shown = ", ".join(f"{e.method} {e.path} → {e.status}" for e in self._entries)
        return f"Requests([{shown}])"

    @property
    def last(self) -> JournalEntry:
        """The most recent request (`LookupError` when none reached the mock)."""
        if not self._entries:
            raise LookupError("no request reached the mock (the journal is empty)")
        return self._entries[-1]

    def filter(self, method: str | None = None, path: str | None = None) -> Requests:
        """The requests with this method (any case) and path."""
        return Requests([e for e in self._entries if self._matches(e, method, path)], self._base)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests have this method and path (all of them without either)."""
        return sum(1 for e in self._entries if self._matches(e, method, path))

    def _matches(self, entry: JournalEntry, method: str | None, path: str | None) -> bool:
        if method is not None and entry.method != method.upper():
            return False
        if path is None:
            return True
        paths = [entry.path]
        if self._base and entry.path.startswith(self._base + "/"):
            paths.append(entry.path[len(self._base) :])
        return any(fnmatch.fnmatchcase(candidate, path) for candidate in paths)


class MeibelMock:
    """A running mock: where it is, what it was sent, and how it should answer next."""

    def __init__(self, server: ThreadedServer, app: Any, settings: Settings) -> None:
        self.server = server
        self.app = app
        self.settings = settings
        self.seed = settings.seed  # the current test's seed (see the plugin)

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT`: where `/__mock/…` and `/openapi.json` are."""
        return self.server.origin

    @property
    def url(self) -> str:
        """The API's base URL, ready for `MeibelClient(base_url=...)`."""
        return f"{self.server.origin}{self.app.state.contract.base_path}"

    @property
    def api_key(self) -> str:
        """A key the mock accepts (the first of `Settings.api_keys`)."""
        return str(self.settings.accepted_keys[0])

    @property
    def requests(self) -> Requests:
        """The journal, oldest first: typed entries (`JournalEntry`) with `.last`, `.filter()`
        and `.count()`."""
        return Requests(self.app.state.journal.entries(), self.app.state.contract.base_path)

    # --- how it answers ----------------------------------------------------------------------

    def set_scenario(self, name: str | None) -> None:
        """How created executions answer until the end of the test (None: the default)."""
        self._check_scenario(name)
        self.app.state.engine.scenario = name

    def queue(
        self,
        *,
        fault: int | None = None,
        latency: float | str | None = None,
        scenario: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests this way, after what is queued already; then as
        before. `fault`: 429, 500, 502, 503 or 504, as `Prefer: fault` injects it; `latency`:
        seconds or a duration (`"200ms"`, `"50ms-300ms"`); `scenario`: as `set_scenario`."""
        item = behaviour(fault=fault, latency=latency, scenario=scenario, times=times)
        self._check_scenario(item.scenario)
        self.app.state.queue.push(item)

    def fail_next(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next `times` requests with an injected fault: `fail_next(503, times=2)`
        is "503 twice, then the real answer"."""
        self.queue(fault=status, times=times)

    def delay_next(self, latency: float | str, *, times: int = 1) -> None:
        """Delay the next `times` answers (seconds, or `"2s"`, `"50ms-300ms"`)."""
        self.queue(latency=latency, times=times)

    def scenario_next(self, name: str, *, times: int = 1) -> None:
        """Answer the next `times` creates with scenario `name`, then as before."""
        self.queue(scenario=name, times=times)

    @property
    def queued(self) -> list[Behaviour]:
        """What is still queued, each with the requests it has left."""
        return self.app.state.queue.pending()  # type: ignore[no-any-return]

    def reset(self, *, seed: int | None = None) -> None:
        """Back to a fresh start: empty journal and queue, default scenario, and the seed's
        sequence (`seed`: this one from now on; the test's seed by default)."""
        if seed is not None:
            self.seed = seed
        self.app.state.queue.clear()
        self.app.state.engine.reset(seed=self.seed)
        self.app.state.journal.clear()
        self.app.errors.clear()

    def check(self) -> None:
        """Re-raise, in the test, a bug the mock met while answering it."""
        if self.app.errors:
            error = self.app.errors[0]
            self.app.errors.clear()
            raise AssertionError(f"the mock failed while answering: {error!r}") from error

    def _check_scenario(self, name: str | None) -> None:
        try:
            self.app.state.engine.check_scenario(name)
        except UsageError as exc:
            raise ValueError(str(exc)) from None


class MockPool:
    """One running mock per distinct `Settings`, started on first use and kept for reuse.

    A test whose settings differ from the last test's gets a server of its own, never one
    configured for someone else. At most `limit` servers run at once (the least recently used
    one is stopped)."""

    def __init__(self, contract: Contract | None = None, *, limit: int = 4) -> None:
        self._contract = contract
        self.limit = limit
        self._servers: list[MeibelMock] = []  # least recently used first

    def get(self, settings: Settings) -> MeibelMock:
        # Compared with ==, not hashed: a Settings holding a list by mistake still works.
        for mock in self._servers:
            if mock.settings == settings:
                self._servers.remove(mock)
                self._servers.append(mock)
                return mock
        if self._contract is None:
            self._contract = load_contract()
        app = create_app(self._contract, settings=settings)
        server = ThreadedServer(app)
        server.start()
        self._servers.append(MeibelMock(server, app, settings))
        while len(self._servers) > self.limit:
            self._servers.pop(0).server.stop()
        return self._servers[-1]

    def close(self) -> None:
        while self._servers:
            self._servers.pop().server.stop()

    def __enter__(self) -> MockPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
