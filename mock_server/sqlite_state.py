"""The shared state of `--workers N` (`shared_state.py` draws the interface): SQLite databases in
WAL mode (readers never wait for a writer), in a temporary directory the parent creates.

`control.db` holds the scenario, the resets and the queue, and a version number that each of their
changes bumps; the version is also written, inside the same write transaction, to an 8-byte
shared-memory file (`version`, mmap), which a request reads as it arrives: the database is re-read
only when it moved. The journal is one database per worker, written only by that worker, so that
workers never wait for each other's writes nor drop each other's page caches; a read merges them
by the time each entry was journaled (the system-wide monotonic clock). A worker writes the
entries of the requests it answered in an event-loop turn and the next as one row (one per
`BATCH_BYTES`), in one statement (one commit), and sends those answers once it is committed:
still journaled before sent. A commit costs its pages more than its statements, so a row per
entry (and an index over them) cost twice what one row per batch costs; the batch's times and
costs sit in a small column ahead of its data, so a trim reads them without reading the entries.

The journal in SQLite keeps what `Journal` keeps (`journal.prepare`: the same redaction, the same
per-part caps, the same cost per entry) and shows exactly what `Journal` would show: the newest
entries, across all workers, within `size` and `max_bytes`, the rest counted as evicted, with the
same generations (a request that arrived before a clear is not journaled after it). Rows
past the limits are deleted from time to time rather than at every request (a worker trims after
`TRIM_EVERY` entries or an eighth of `max_bytes`), and a row only once all its entries are past
them, so the files may hold up to that much per worker, and a row (`BATCH_BYTES`) per file, beyond
the limits.

Every wait has a bound: a worker that finds the database locked by another retries for at most
`BUSY_TIMEOUT` seconds, first yielding its core (a write here takes microseconds), then sleeping
briefly — rather than SQLite's own busy handler, whose first sleep is a whole millisecond.
"""

from __future__ import annotations

import asyncio
import marshal
import mmap
import os
import sqlite3
import struct
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from itertools import accumulate, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from mock_server.behaviour import MAX_QUEUED, Behaviour
from mock_server.journal import Journal, JournalEntry, Snapshot, marked, prepare, typed
from mock_server.redaction import Redactor
from mock_server.shared_state import JournalStore, QueueStore, Scenic, worker_seed

# The most a row holds, in entries' costs (and one entry more): what a trim may keep of entries past
# the limits, for the newer ones in the same row, and a bound on one blob whatever a loop turn answers.
BATCH_BYTES = 1024 * 1024
BUSY_TIMEOUT = 5.0  # seconds a worker waits for another's write transaction, at most
_VERSION = struct.Struct("<q")
T = TypeVar("T")
Row = TypeVar("Row", bound=tuple[int, ...])  # an entry's (time, cost, …)
Entry = tuple[Any, ...]  # as `journal.prepare` makes it: flat, its cost last
TRIM_EVERY = 1024  # entries a worker journals between trims of the rows past the limits


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
_JOURNAL_SCHEMA = """
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    generation INTEGER NOT NULL,  -- bumped by each clear
    evicted INTEGER NOT NULL,  -- rows deleted since the last clear (more may be past the limits)
    late INTEGER NOT NULL,
    -- Entries journaled at or before it (in any file: the greatest counts) are past the limits, in
    -- batches a trim kept for their newer entries: a read counts them as evicted, never shows them.
    horizon INTEGER NOT NULL
);
INSERT INTO meta VALUES (0, 0, 0, 0, 0);
-- A row: the entries a worker journaled in one event-loop turn (up to BATCH_BYTES). Each entry's time is
-- time.monotonic_ns() when journaled, the same clock in every process: the order across workers.
-- `at`: its newest entry's time; `stamps`: marshal of (times, costs), one of each per entry, ahead of
-- `data` (marshal of the entries): a trim reads the stamps and not the entries' pages.
CREATE TABLE batches (at INTEGER PRIMARY KEY, entries INTEGER NOT NULL, stamps BLOB NOT NULL, data BLOB NOT NULL);
"""
VERSION = "version"  # the control version's shared-memory copy: 8 bytes, little-endian


def _journal_file(directory: Path, index: int) -> Path:
    return directory / f"journal-{index}.db"


def create_store(directory: Path, *, workers: int, scenario: str | None = None) -> None:
    """The parent, before it starts the workers: the databases, in WAL mode, empty."""
    for path, schema in [
        (directory / CONTROL, _CONTROL_SCHEMA),
        *((_journal_file(directory, index), _JOURNAL_SCHEMA) for index in range(workers)),
    ]:
        conn = _connect(path)
        conn.execute("PRAGMA journal_mode=WAL")  # kept by the file: every later connection uses it
        conn.executescript(schema)
        conn.close()
    conn = _connect(directory / CONTROL)
    conn.execute("UPDATE meta SET scenario = ?", (scenario,))
    conn.close()
    (directory / VERSION).write_bytes(bytes(8))


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode, transactions explicit and short; no SQLite busy handler (see `_patiently`).
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    # A temporary store that dies with the server: no fsync. It must survive a worker that crashes
    # (or is killed) mid-write, which WAL mode ensures without any sync (what a process wrote is in
    # the OS's page cache); not a crash of the OS, after which nothing of the mock's state matters.
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def _patiently(action: Callable[[], T]) -> T:
    """`action()`, retried while another worker holds the database, for `BUSY_TIMEOUT` at most."""
    deadline = 0.0
    tries = 0
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            now = time.monotonic()
            if not deadline:
                deadline = now + BUSY_TIMEOUT
            elif now > deadline:
                raise
        tries += 1
        if tries < 20:
            os.sched_yield()  # the holder is mid-write on another core: microseconds
        else:
            time.sleep(min(0.001, 0.00002 * tries))


class _Transaction:
    """`BEGIN IMMEDIATE … COMMIT` (ROLLBACK on an error): the write lock from the start, so two
    workers never both read and then both try to write."""

    def __init__(self, conn: sqlite3.Connection, kind: str = "IMMEDIATE") -> None:
        self.conn = conn
        self.kind = kind

    def __enter__(self) -> sqlite3.Connection:
        _patiently(lambda: self.conn.execute(f"BEGIN {self.kind}"))
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            _patiently(lambda: self.conn.execute("COMMIT"))
        else:
            self.conn.execute("ROLLBACK")


class SqliteJournal:
    """Worker `index`'s journal file, written by it alone; read, cleared and trimmed across all."""

    def __init__(
        self,
        directory: Path,
        index: int,
        workers: int,
        *,
        size: int,
        max_bytes: int,
        redactor: Redactor,
        cleared: Callable[[], None],
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.redactor = redactor
        self._files = [_connect(_journal_file(directory, other)) for other in range(workers)]
        self._own = self._files[index]
        self._cleared = cleared  # tells the other workers (the control version)
        self._pid = os.getpid()
        self._generation = 0
        self._last = 0
        self._since_trim = 0
        self._bytes_since_trim = 0
        self._pending: list[tuple[int, Entry, int | None]] = []  # (time, entry, generation)
        self._batch: asyncio.Future[None] | None = None

    @property
    def generation(self) -> int:
        """As of the last `SqliteState.sync()`, which the app calls as each request arrives (a
        clear bumps the control version, so a sync after it reads the new generation)."""
        return self._generation

    def read_generation(self) -> None:
        row = _patiently(lambda: self._own.execute("SELECT generation FROM meta").fetchone())
        self._generation = int(row[0])

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
        if not self.size:
            return None
        entry = prepare(self.redactor, method, path, query, headers, body, status, response, self._pid)
        if recording is not None:
            entry = marked(entry, recording)
        self._last = at = max(time.monotonic_ns(), self._last + 1)
        self._pending.append((at, entry, generation))
        if self._batch is None:
            loop = asyncio.get_running_loop()
            self._batch = loop.create_future()
            # Written one loop turn later: the answers of that turn too share the commit, which
            # costs more than a turn's requests. Under load that halves the commits per answer
            # (bench.workers: 52 → 48 µs of CPU per request, the same p99); an idle worker's
            # next turn is immediate.
            loop.call_soon(loop.call_soon, self._flush)
        return self._batch

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        batch, self._batch = self._batch, None
        assert batch is not None
        try:
            added = self._insert(pending)
            self._since_trim += added
            self._bytes_since_trim += sum(entry[-1] for _, entry, _ in pending)
            if self._since_trim >= TRIM_EVERY or self._bytes_since_trim > self.max_bytes // 8:
                self._trim()
        except Exception as exc:  # the requests waiting for it fail (500, logged), not the loop
            batch.set_exception(exc)
            batch.exception()  # retrieved: a request that does not wait (a preflight) logs nothing
            return
        batch.set_result(None)

    def _insert(self, pending: list[tuple[int, Entry, int | None]]) -> int:
        """Journal `pending` (one row per `BATCH_BYTES`), but only the entries whose generation is
        still the file's: how many were. The common case, one row of entries of one generation, is
        one statement (its own transaction), the generation checked in it; otherwise a transaction
        reads it first."""
        generation = pending[0][2]
        rows = _batch_rows(pending)
        if len(rows) == 1 and all(arrived == generation for _, _, arrived in pending):
            row = rows[0]
            added = _patiently(
                lambda: (
                    self._own.execute(
                        "INSERT INTO batches SELECT ?, ?, ?, ? FROM meta WHERE ? IS NULL OR generation = ?",
                        (*row, generation, generation),
                    ).rowcount
                )
            )
            if added:
                return len(pending)
        with _Transaction(self._own) as db:
            (current,) = db.execute("SELECT generation FROM meta").fetchone()
            kept = [one for one in pending if one[2] is None or one[2] == current]
            if kept:
                db.executemany("INSERT INTO batches VALUES (?, ?, ?, ?)", _batch_rows(kept))
            if len(kept) < len(pending):
                db.execute("UPDATE meta SET late = late + ?", (len(pending) - len(kept),))
        return len(kept)

    def _kept(self, rows: Sequence[tuple[int, ...]]) -> int:
        """How many of `rows` ((time, cost, …), newest first) `Journal` would keep: the newest
        that fit, and the newest always. (In C-level steps: the running costs only grow.)"""
        used = list(accumulate(islice(map(itemgetter(1), rows), self.size)))
        return max(bisect_right(used, self.max_bytes), 1) if rows else 0

    def _trim(self) -> None:
        """Delete, in every worker's file, the batches that no read would show any more; and
        where a batch is kept for its newer entries, hide its older ones (the horizon)."""
        self._since_trim = self._bytes_since_trim = 0
        horizon = 0
        rows: list[tuple[int, int]] = []  # (time, cost) of every entry
        oldest: list[int] = []  # each file's oldest entry's time
        for conn in self._files:
            file_horizon, stamps = _patiently(partial(_stamps, conn))
            horizon = max(horizon, file_horizon)
            for times, costs in stamps:
                rows += zip(times, costs, strict=True)
            oldest.append(min((times[0] for times, _ in stamps), default=-1))
        rows = _after(rows, horizon)
        kept = self._kept(rows)
        if kept == len(rows):
            return
        cutoff = rows[kept][0]  # the newest entry past the limits: it and all older ones go
        for conn, first in zip(self._files, oldest, strict=True):
            if first < 0 or first > cutoff:
                continue  # nothing there is past the limits (as read: a clear only removes)
            with _Transaction(conn) as db:
                (deleted,) = db.execute(
                    "SELECT total(entries) FROM batches WHERE at <= ?", (cutoff,)
                ).fetchone()
                if deleted:
                    db.execute("DELETE FROM batches WHERE at <= ?", (cutoff,))
                db.execute(
                    "UPDATE meta SET evicted = evicted + ?, horizon = max(horizon, ?)", (int(deleted), cutoff)
                )

    def entries(self) -> list[JournalEntry]:
        return self.snapshot().entries

    def snapshot(self) -> Snapshot:
        evicted = late = horizon = 0
        rows: list[tuple[int, int, int, int]] = []  # (time, cost, batch, place in it) of every entry
        batches: list[bytes] = []
        for conn in self._files:
            with _Transaction(conn, "DEFERRED") as db:  # one read per file: counts and rows agree
                counts = db.execute("SELECT evicted, late, horizon FROM meta").fetchone()
                found = db.execute("SELECT stamps, data FROM batches").fetchall()
            evicted += counts[0]
            late += counts[1]
            horizon = max(horizon, counts[2])
            for stamps, data in found:
                times, costs = marshal.loads(stamps)
                rows += zip(times, costs, repeat(len(batches)), range(len(times)))
                batches.append(data)
        everything = len(rows)
        rows = _after(rows, horizon)
        evicted += everything - len(rows)
        kept = self._kept(rows)
        shown = rows[:kept]
        used = sum(row[1] for row in shown)
        decoded: dict[int, list[Entry]] = {}  # only the batches something is shown from
        entries: list[JournalEntry] = []
        for _, _, index, place in reversed(shown):
            if index not in decoded:
                decoded[index] = marshal.loads(batches[index])
            entries.append(typed(decoded[index][place]))
        return Snapshot(used, evicted + len(rows) - kept, late, entries)

    def clear(self) -> None:
        for conn in self._files:
            with _Transaction(conn) as db:
                db.execute("DELETE FROM batches")
                db.execute("UPDATE meta SET generation = generation + 1, evicted = 0, late = 0, horizon = 0")
        self._cleared()
        self.read_generation()


def _after(rows: list[Row], horizon: int) -> list[Row]:
    """`rows` ((time, …)) newest first, down to the horizon (excluded)."""
    rows.sort(reverse=True)
    if rows and rows[-1][0] <= horizon:
        del rows[bisect_left(rows, -horizon, key=lambda row: -row[0]) :]
    return rows


def _batch_rows(pending: list[tuple[int, Entry, int | None]]) -> list[tuple[int, int, bytes, bytes]]:
    """The rows of `pending`: one, unless its entries cost more than `BATCH_BYTES` together."""
    if sum(entry[-1] for _, entry, _ in pending) <= BATCH_BYTES:
        return [_batch_row(pending)]
    rows = []
    start = used = 0
    for end, (_, entry, _) in enumerate(pending):
        if end > start and used + entry[-1] > BATCH_BYTES:
            rows.append(_batch_row(pending[start:end]))
            start, used = end, 0
        used += entry[-1]
    rows.append(_batch_row(pending[start:]))
    return rows


def _batch_row(pending: list[tuple[int, Entry, int | None]]) -> tuple[int, int, bytes, bytes]:
    times = tuple(at for at, _, _ in pending)
    costs = tuple(entry[-1] for _, entry, _ in pending)
    # marshal: our own flat tuples of str, bytes and numbers, and the fastest codec for them.
    data = marshal.dumps([entry for _, entry, _ in pending])
    return times[-1], len(times), marshal.dumps((times, costs)), data


def _stamps(conn: sqlite3.Connection) -> tuple[int, list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """The file's horizon and its entries' (times, costs), batch by batch, in one read."""
    with _Transaction(conn, "DEFERRED") as db:
        (horizon,) = db.execute("SELECT horizon FROM meta").fetchone()
        found = db.execute("SELECT stamps FROM batches").fetchall()
    return horizon, [marshal.loads(stamps) for (stamps,) in found]


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
        with _Transaction(self._conn) as db:
            (count,) = db.execute("SELECT count(*) FROM queue").fetchone()
            if count >= MAX_QUEUED:
                raise ValueError(f"{MAX_QUEUED} behaviours are queued already")
            db.execute("INSERT INTO queue (item) VALUES (?)", (_dump(item),))
            self._bump(db)
            self.hint = count + 1

    def take(self) -> Behaviour | None:
        if not self.hint:  # as of SqliteState.sync(), which the app calls before each request
            return None
        with _Transaction(self._conn) as db:
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
        rows = _patiently(lambda: self._conn.execute("SELECT item FROM queue ORDER BY id").fetchall())
        return [_load(data) for (data,) in rows]

    def clear(self) -> None:
        with _Transaction(self._conn) as db:
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
        self._control = _connect(directory / CONTROL)
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
        with _Transaction(self._control, "DEFERRED") as db:
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
        with _Transaction(self._control) as db:
            db.execute("UPDATE meta SET scenario = ?", (scenario,))
            self._bumped(db)
        engine.scenario = scenario

    def reset(self, engine: Scenic) -> None:
        """Every worker starts its seed's sequence again, on its next request."""
        with _Transaction(self._control) as db:
            db.execute("DELETE FROM queue")
            db.execute("UPDATE meta SET scenario = ?, epoch = epoch + 1", (self.default_scenario,))
            self._bumped(db)
        self._journal.clear()
        self._refresh(engine)

    def _bump(self) -> None:
        with _Transaction(self._control) as db:
            self._bumped(db)

    def _bumped(self, db: sqlite3.Connection) -> None:
        """In a write transaction: the next version, in the database and in shared memory (both
        under the write lock, so that versions are written in order)."""
        (version,) = db.execute("UPDATE meta SET version = version + 1 RETURNING version").fetchone()
        _VERSION.pack_into(self._shared_version, 0, version)
