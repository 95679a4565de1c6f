"""The shared state of `--workers N` (`shared_state.py` draws the interface): SQLite databases in
WAL mode (readers never wait for a writer), in a temporary directory the parent creates.

`control.db` holds the scenario, the resets and the queue, and a version number that each of their
changes bumps; the version is also written, inside the same write transaction, to an 8-byte
shared-memory file (`version`, mmap), which a request reads as it arrives: the database is re-read
only when it moved. The journal is one database per worker (`sqlite_journal.py`); connections,
and their bounded waits, are `sqlite_db.py`'s.
"""

from __future__ import annotations

import marshal
import mmap
import sqlite3
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mock_server.state.behaviour import MAX_QUEUED, Behaviour
from mock_server.state.journal import Journal
from mock_server.state.shared_state import JournalStore, QueueStore, Scenic, worker_seed
from mock_server.state.sqlite_db import Transaction, connect, patiently
from mock_server.state.sqlite_journal import JOURNAL_SCHEMA, SqliteJournal, journal_file

_VERSION = struct.Struct("<q")


CONTROL = "control.db"
_CONTROL_SCHEMA = """
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    version INTEGER NOT NULL,  -- bumped by each change of the scenario, the queue, a reset or a clear
    epoch INTEGER NOT NULL,  -- resets
    scenario TEXT
);
INSERT INTO meta VALUES (0, 0, 0, NULL);
CREATE TABLE queue (id INTEGER PRIMARY KEY, item BLOB NOT NULL);
"""
VERSION = "version"  # the control version's shared-memory copy: 8 bytes, little-endian


def create_store(directory: Path, *, workers: int, scenario: str | None = None) -> None:
    """The parent, before it starts the workers: the databases, in WAL mode, empty."""
    for path, schema in [
        (directory / CONTROL, _CONTROL_SCHEMA),
        *((journal_file(directory, index), JOURNAL_SCHEMA) for index in range(workers)),
    ]:
        conn = connect(path)
        conn.execute("PRAGMA journal_mode=WAL")  # kept by the file: every later connection uses it
        conn.executescript(schema)
        conn.close()
    conn = connect(directory / CONTROL)
    conn.execute("UPDATE meta SET scenario = ?", (scenario,))
    conn.close()
    (directory / VERSION).write_bytes(bytes(8))


def _dump(item: Behaviour) -> bytes:
    return marshal.dumps((item.fault, item.latency, item.scenario, item.times))


def _load(data: bytes) -> Behaviour:
    fault, latency, scenario, times = marshal.loads(data)
    return Behaviour(fault=fault, latency=latency, scenario=scenario, times=times)


class SqliteQueue:
    def __init__(self, conn: sqlite3.Connection, bump: Callable[[sqlite3.Connection], None]) -> None:
        self._conn = conn
        self._bump = bump
        self.hint = 0  # behaviours queued, as last seen: 0 spares an empty queue a query

    def push(self, item: Behaviour) -> None:
        with Transaction(self._conn) as db:
            (count,) = db.execute("SELECT count(*) FROM queue").fetchone()
            if count >= MAX_QUEUED:
                raise ValueError(f"{MAX_QUEUED} behaviours are queued already")
            db.execute("INSERT INTO queue (item) VALUES (?)", (_dump(item),))
            self._bump(db)
            self.hint = count + 1

    def take(self) -> Behaviour | None:
        if not self.hint:  # as of SqliteState.sync(), which the app calls before each request
            return None
        with Transaction(self._conn) as db:
            row = db.execute("SELECT id, item FROM queue ORDER BY id LIMIT 1").fetchone()
            if row is None:
                self.hint = 0
                return None
            head = _load(row[1])
            if head.times > 1:
                fewer = _dump(replace(head, times=head.times - 1))
                db.execute("UPDATE queue SET item = ? WHERE id = ?", (fewer, row[0]))
            else:
                db.execute("DELETE FROM queue WHERE id = ?", (row[0],))
            self._bump(db)
            (self.hint,) = db.execute("SELECT count(*) FROM queue").fetchone()
        return replace(head, times=1)

    def pending(self) -> list[Behaviour]:
        rows = patiently(lambda: self._conn.execute("SELECT item FROM queue ORDER BY id").fetchall())
        return [_load(data) for (data,) in rows]

    def clear(self) -> None:
        with Transaction(self._conn) as db:
            db.execute("DELETE FROM queue")
            self._bump(db)
        self.hint = 0


class SqliteState:
    """Worker `index`'s view of the store in `directory` (made by `create_store`). Open it in
    the worker, after the fork: a SQLite connection must not cross one."""

    def __init__(
        self,
        directory: Path,
        *,
        index: int,
        workers: int,
        seed: int | None,
        default_scenario: str | None,
        journal: Journal,
    ) -> None:
        self.index = index
        self.seed = worker_seed(seed, index)
        self.default_scenario = default_scenario
        self._control = connect(directory / CONTROL)
        self._journal = SqliteJournal(
            directory,
            index,
            workers,
            size=journal.size,
            max_bytes=journal.max_bytes,
            redactor=journal.redactor,
            cleared=self._bump,
        )
        self.journal: JournalStore = self._journal
        self._queue = SqliteQueue(self._control, self._bumped)
        self.queue: QueueStore = self._queue
        self._version = -1  # control version when the scenario, queue and epoch were last read
        with (directory / VERSION).open("r+b") as file:
            self._shared_version = mmap.mmap(file.fileno(), 8)
        self._epoch = -1  # the resets this worker has taken up

    def sync(self, engine: Scenic) -> None:
        # The shared-memory copy, written inside each change's write transaction: a change that
        # was answered before this request arrived shows here.
        if _VERSION.unpack_from(self._shared_version)[0] != self._version:
            self._refresh(engine)

    def _refresh(self, engine: Scenic) -> None:
        with Transaction(self._control, "DEFERRED") as db:
            version, epoch, scenario = db.execute("SELECT version, epoch, scenario FROM meta").fetchone()
            (self._queue.hint,) = db.execute("SELECT count(*) FROM queue").fetchone()
        self._journal.read_generation()
        self._version = version
        if epoch != self._epoch:
            engine.reset(seed=self.seed)
            self._epoch = epoch
        engine.scenario = scenario

    def start(self, engine: Scenic) -> None:
        """A worker just started (or restarted), or its document was reloaded: the seed's
        sequence for this worker, and the scenario the others hold."""
        self._epoch = -1
        self._refresh(engine)

    def set_scenario(self, engine: Scenic, scenario: str | None) -> None:
        with Transaction(self._control) as db:
            db.execute("UPDATE meta SET scenario = ?", (scenario,))
            self._bumped(db)
        engine.scenario = scenario

    def reset(self, engine: Scenic) -> None:
        """Every worker starts its seed's sequence again, on its next request."""
        with Transaction(self._control) as db:
            db.execute("DELETE FROM queue")
            db.execute("UPDATE meta SET scenario = ?, epoch = epoch + 1", (self.default_scenario,))
            self._bumped(db)
        self._journal.clear()
        self._refresh(engine)

    def _bump(self) -> None:
        with Transaction(self._control) as db:
            self._bumped(db)

    def _bumped(self, db: sqlite3.Connection) -> None:
        """In a write transaction: the next version, in the database and in shared memory (both
        under the write lock, so that versions are written in order)."""
        (version,) = db.execute("UPDATE meta SET version = version + 1 RETURNING version").fetchone()
        _VERSION.pack_into(self._shared_version, 0, version)
