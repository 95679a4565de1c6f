"""The request journal of `--workers N` in SQLite: one database per worker, merged when read.

The journal is one database per worker, written only by that worker, so that workers never wait for
each other's writes nor drop each other's page caches; a read merges them by the time each entry was
journaled (the system-wide monotonic clock). A worker writes the entries of the requests it answered
in an event-loop turn and the next as one row (one per `BATCH_BYTES`), in one statement (one
commit), and sends those answers once it is committed: still journaled before sent. A commit costs
its pages more than its statements, so a row per entry (and an index over them) cost twice what one
row per batch costs; the batch's times and costs sit in a small column ahead of its data, so a trim
reads them without reading the entries.

The journal in SQLite keeps what `Journal` keeps (`journal.prepare`: the same redaction, the same
per-part caps, the same cost per entry) and shows exactly what `Journal` would show: the newest
entries, across all workers, within `size` and `max_bytes`, the rest counted as evicted, with the
same generations (a request that arrived before a clear is not journaled after it). Rows
past the limits are deleted from time to time rather than at every request (a worker trims after
`TRIM_EVERY` entries or an eighth of `max_bytes`), and a row only once all its entries are past
them, so the files may hold up to that much per worker, and a row (`BATCH_BYTES`) per file, beyond
the limits.
"""

from __future__ import annotations

import asyncio
import marshal
import os
import sqlite3
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from itertools import accumulate, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from mock_server.state.journal import JournalEntry, Snapshot, marked, prepare, typed
from mock_server.state.redaction import Redactor
from mock_server.state.sqlite_db import Transaction, connect, patiently

# The most a row holds, in entries' costs (and one entry more): what a trim may keep of entries past
# the limits, for the newer ones in the same row, and a bound on one blob whatever a loop turn answers.
BATCH_BYTES = 1024 * 1024
Row = TypeVar("Row", bound=tuple[int, ...])  # an entry's (time, cost, …)
Entry = tuple[Any, ...]  # as `journal.prepare` makes it: flat, its cost last
TRIM_EVERY = 1024  # entries a worker journals between trims of the rows past the limits

JOURNAL_SCHEMA = """
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


def journal_file(directory: Path, index: int) -> Path:
    return directory / f"journal-{index}.db"


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
        self._files = [connect(journal_file(directory, other)) for other in range(workers)]
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
        row = patiently(lambda: self._own.execute("SELECT generation FROM meta").fetchone())
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
            added = patiently(
                lambda: (
                    self._own.execute(
                        "INSERT INTO batches SELECT ?, ?, ?, ? FROM meta WHERE ? IS NULL OR generation = ?",
                        (*row, generation, generation),
                    ).rowcount
                )
            )
            if added:
                return len(pending)
        with Transaction(self._own) as db:
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
            file_horizon, stamps = patiently(partial(_stamps, conn))
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
            with Transaction(conn) as db:
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
            with Transaction(conn, "DEFERRED") as db:  # one read per file: counts and rows agree
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
            with Transaction(conn) as db:
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
    with Transaction(conn, "DEFERRED") as db:
        (horizon,) = db.execute("SELECT horizon FROM meta").fetchone()
        found = db.execute("SELECT stamps FROM batches").fetchall()
    return horizon, [marshal.loads(stamps) for (stamps,) in found]
