"""Connections to the SQLite databases of `--workers N`: no fsync, short explicit transactions, bounded waits.

Every wait has a bound: a worker that finds the database locked by another retries for at most
`BUSY_TIMEOUT` seconds, first yielding its core (a write here takes microseconds), then sleeping
briefly — rather than SQLite's own busy handler, whose first sleep is a whole millisecond.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

BUSY_TIMEOUT = 5.0  # seconds a worker waits for another's write transaction, at most
T = TypeVar("T")


def connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode, transactions explicit and short; no SQLite busy handler (see `patiently`).
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    # A temporary store that dies with the server: no fsync. It must survive a worker that crashes
    # (or is killed) mid-write, which WAL mode ensures without any sync (what a process wrote is in
    # the OS's page cache); not a crash of the OS, after which nothing of the mock's state matters.
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def patiently(action: Callable[[], T]) -> T:
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


class Transaction:
    """`BEGIN IMMEDIATE … COMMIT` (ROLLBACK on an error): the write lock from the start, so two
    workers never both read and then both try to write."""

    def __init__(self, conn: sqlite3.Connection, kind: str = "IMMEDIATE") -> None:
        self.conn = conn
        self.kind = kind

    def __enter__(self) -> sqlite3.Connection:
        patiently(lambda: self.conn.execute(f"BEGIN {self.kind}"))
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            patiently(lambda: self.conn.execute("COMMIT"))
        else:
            self.conn.execute("ROLLBACK")
