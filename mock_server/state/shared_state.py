"""The state every worker process must agree on: the journal, the queued behaviours, the scenario
and resets. Whatever a test sets or reads through `/__mock/` holds whichever worker answers.

One interface, two stores:

- `LocalState` (one worker, the default, and the pytest plugin): the in-process `Journal` and
  `BehaviourQueue`, nothing shared, nothing added to a request's path;
- `sqlite_state.SqliteState` (`--workers N`): SQLite databases in WAL mode, shared by the workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Protocol

from mock_server.state.behaviour import Behaviour, BehaviourQueue
from mock_server.state.journal import Journal, JournalEntry, Snapshot
from mock_server.state.redaction import Redactor


class Scenic(Protocol):
    """What the state needs of the engine: its scenario, and a reset to the seed's start."""

    scenario: str | None

    def reset(self, *, seed: int | None = None) -> None: ...


class JournalStore(Protocol):
    size: int
    max_bytes: int
    redactor: Redactor

    @property
    def generation(self) -> int: ...

    def record(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes | None,
        status: int,
        response: bytes = b"",
        generation: int | None = None,
        recording: str | None = None,
    ) -> Awaitable[None] | None:
        """None once journaled; or an awaitable that is done once journaled (the app awaits it
        before it sends the answer)."""

    def entries(self) -> list[JournalEntry]: ...

    def snapshot(self) -> Snapshot: ...

    def clear(self) -> None: ...


class QueueStore(Protocol):
    def push(self, item: Behaviour) -> None: ...

    def take(self) -> Behaviour | None: ...

    def pending(self) -> list[Behaviour]: ...

    def clear(self) -> None: ...


class SharedState(Protocol):
    journal: JournalStore
    queue: QueueStore

    def start(self, engine: Scenic) -> None:
        """A new engine (a worker just started, or --watch reloaded): bring it up to date."""

    def sync(self, engine: Scenic) -> None:
        """Before a request: take up a scenario or reset that another worker published."""

    def set_scenario(self, engine: Scenic, scenario: str | None) -> None: ...

    def reset(self, engine: Scenic) -> None:
        """Back to start-up: journal, queue, scenario and the seed's sequence, in every worker."""


class LocalState:
    """One process: the state is the engine's own, the journal and the queue in memory."""

    def __init__(self, journal: Journal, queue: BehaviourQueue) -> None:
        self.journal: JournalStore = journal
        self.queue: QueueStore = queue

    def start(self, engine: Scenic) -> None:
        pass

    def sync(self, engine: Scenic) -> None:
        pass

    def set_scenario(self, engine: Scenic, scenario: str | None) -> None:
        engine.scenario = scenario

    def reset(self, engine: Scenic) -> None:
        engine.reset()
        self.queue.clear()
        self.journal.clear()


def worker_seed(seed: int | None, index: int) -> int | None:
    """Worker `index`'s seed: worker 0 draws the seed's own sequence (so one worker is exactly
    `--workers 1`), each other worker a sequence of its own, derived from the seed."""
    if seed is None or index == 0:
        return seed
    return seed + index * 0x9E3779B97F4A7C15  # far apart: no two workers share a sequence
