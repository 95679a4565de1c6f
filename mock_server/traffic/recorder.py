"""`meibel-mock proxy --record DIR`: each exchange through the proxy written as a recording.

One file per distinct request (`recording.py` says what is in it and how it is named); a repeat
of a request already recorded in this run is skipped, unless `record_all` (then it gets `-2`,
`-3`… and replay serves them in order). Recording a request again in a later run replaces its
file (and any other status's file for the same request). Not recorded: a request that breaks the
document (replay answers it by validation, never from a file) or that is no operation of it, and
the proxy's own refusals. At most `max_files` files are written per run (then one warning).

Writes are atomic (a temporary file in the same folder, then a rename), so a replay never reads
half a file; a write that fails is one log line, and the proxy goes on.

The proxy hands exchanges over with `later()`: they are written together, within `BATCH_DELAY`
of the answer (sooner when `BATCH` of them or `BATCH_BYTES` wait), and all of them before the
shutdown's summary. A file built in a run of others costs about a third of the CPU of one built
alone between two requests, when the proxy's own work has pushed the recorder's code and data
out of the processor's caches (`bench/recording.py`: 30 µs against 100 µs and more).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mock_server import options as types
from mock_server.answer.recording import Exchange, Recording, Redaction, build
from mock_server.contract import Contract, Operation
from mock_server.errors import UsageError

log = logging.getLogger("mock_server.recorder")
DEFAULT_MAX_FILES = 1000
MAX_REMEMBERED = 1_000_000  # digests of recorded requests kept (16 bytes each) to skip repeats fast
BATCH = 64  # exchanges waiting to be written, at most
BATCH_BYTES = 4 * 1024 * 1024  # their bodies, at most (then written at once)
BATCH_DELAY = 0.1  # seconds an exchange waits to be written, at most


class Recorder:
    def __init__(
        self,
        contract: Contract,
        directory: Path,
        *,
        max_files: int = DEFAULT_MAX_FILES,
        record_all: bool = False,
        keys: Iterable[str] = (),
    ) -> None:
        self.contract = contract
        self.directory = directory
        self.max_files = max_files
        self.record_all = record_all
        self.redaction = Redaction(contract, keys)
        self._seen: dict[str, int] = {}  # request identity -> times recorded in this run
        self._sent: set[bytes] = set()  # digests of the requests recorded, as sent (`_digest`)
        self._index: dict[str, dict[str, set[str]]] = {}  # folder -> request's tail -> its files
        self.written = 0
        self.broken = 0  # recorded answers that break the document
        self.repeats = 0
        self.invalid = 0  # requests that break the document: not recorded
        self.over = 0  # past max_files: not recorded
        self.failed = 0  # writes that failed
        # Exchanges handed over by `later()`, not yet written, and the bytes of their bodies.
        self._pending: list[tuple[Operation, Mapping[str, str], Exchange, Sequence[str], bool]] = []
        self._pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def later(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        exchange: Exchange,
        violations: Sequence[str],
        *,
        request_broken: bool = False,
    ) -> None:
        """`record()` this exchange with others, soon (see the module's docstring); in the event loop."""
        self._pending.append((op, path_params, exchange, violations, request_broken))
        self._pending_bytes += len(exchange.body or b"") + len(exchange.response)
        if len(self._pending) >= BATCH or self._pending_bytes >= BATCH_BYTES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(BATCH_DELAY, self.flush)

    def flush(self) -> None:
        """Write every exchange `later()` was given, in the order given."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        for op, path_params, exchange, violations, request_broken in pending:
            try:
                self.record(op, path_params, exchange, violations, request_broken=request_broken)
            except Exception as exc:  # a bug in one exchange's file must not lose the others of its batch
                self.failed += 1
                # One line, and the exception's type only: its message may quote the request.
                log.error(
                    "cannot record %s %s: %s (a bug in the kit)", exchange.method, op.path, type(exc).__name__
                )

    def record(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        exchange: Exchange,
        violations: Sequence[str],
        *,
        request_broken: bool = False,
        extra_secrets: Iterable[str] = (),
    ) -> Recording | None:
        """Write `exchange` (`violations`: what its answer breaks in the document); the recording
        written, or None when it was not."""
        if request_broken:
            self.invalid += 1
            return None
        if self.written >= self.max_files:
            self.over += 1
            if self.over == 1:
                log.warning(
                    "recording stopped: %d files written (--record-max); later exchanges are not recorded",
                    self.max_files,
                )
            return None
        # The same bytes sent again: known without building the file (only a digest is kept).
        sent = _digest(exchange)
        if not self.record_all and sent in self._sent:
            self.repeats += 1
            return None
        recording = build(self.redaction, op, path_params, exchange, violations, extra_secrets)
        times = self._seen.get(recording.identity, 0)
        if times and not self.record_all:
            self.repeats += 1  # (the same request with another key, or headers that do not count)
            return None
        stem = recording.stem if not times else f"{recording.stem}-{times + 1}"
        try:
            folder = self._folder(recording.folder)
            if not times:
                self._forget_older(folder, recording.stem)
            path = f"{folder}/{stem}.json"
            _write_atomically(folder, f"{stem}.json", recording.data)
        except OSError as exc:
            self.failed += 1
            log.warning("cannot write recording %s/%s: %s", recording.folder, stem, exc.strerror or exc)
            return None
        self._index[folder].setdefault(_tail(recording.stem), set()).add(path)
        if len(self._sent) < MAX_REMEMBERED:
            self._sent.add(sent)
        self._seen[recording.identity] = times + 1
        self.written += 1
        if violations:
            self.broken += 1
        return Recording(recording.folder, stem, recording.identity, recording.content, recording.data)

    def _folder(self, name: str) -> str:
        """The operation's folder, created, and what an earlier run left in it indexed (once)."""
        folder = f"{self.directory}/{name}"
        if folder not in self._index:
            Path(folder).mkdir(parents=True, exist_ok=True)
            index: dict[str, set[str]] = {}
            for old in Path(folder).glob("*.json"):
                index.setdefault(_tail(_without_repeat(old.stem)), set()).add(str(old))
            self._index[folder] = index
        return folder

    def _forget_older(self, folder: str, stem: str) -> None:
        """A request recorded again replaces what an earlier run recorded for it, whatever its
        status then, and that run's repeats (`-2`, `-3`, …)."""
        for old in self._index[folder].pop(_tail(stem), ()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old)

    def describe(self) -> str:
        return f"into {self.directory} (at most {self.max_files} files; keys hidden)"

    def summary(self) -> str:
        self.flush()  # what waits is part of what was recorded
        parts = [f"recorded {self.written} exchange{'s' if self.written != 1 else ''} in {self.directory}"]
        if self.broken:
            verb = "breaks" if self.broken == 1 else "break"
            parts.append(f"{self.broken} of them {verb} the document (noted in the files)")
        if self.repeats:
            parts.append(f"{_count(self.repeats, 'repeat')} skipped (--record-all keeps them)")
        if self.invalid:
            parts.append(f"{_count(self.invalid, 'invalid request')} not recorded")
        if self.over:
            parts.append(f"{self.over} past --record-max not recorded")
        if self.failed:
            parts.append(f"{self.failed} could not be written")
        return "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tail(stem: str) -> str:
    """A recording's name without its status: the request's slug and hash."""
    return stem.split("-", 1)[1] if "-" in stem else stem


def _without_repeat(stem: str) -> str:
    """`201-invoices-3f2a9c-2` → `201-invoices-3f2a9c` (a repeat's number is never a hash of six)."""
    base, _, number = stem.rpartition("-")
    return base if base and number.isdigit() and len(number) < 6 else stem


def _digest(exchange: Exchange) -> bytes:
    """The request as sent, but for its headers: equal for a client's repeats."""
    text = f"{exchange.method} {exchange.path}?{exchange.query}".encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text + b"\0" + (exchange.body or b""), digest_size=16).digest()


def _write_atomically(folder: str, name: str, data: bytes) -> None:
    path = f"{folder}/{name}"
    temporary = f"{folder}/.{name}.{os.getpid()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def add_record_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record", metavar="DIR", help="write each exchange to DIR as a recording (keys hidden)"
    )
    parser.add_argument(
        "--record-max",
        type=types.positive_count,
        default=DEFAULT_MAX_FILES,
        metavar="N",
        help=f"files written at most in a run (default {DEFAULT_MAX_FILES})",
    )
    parser.add_argument(
        "--record-all", action="store_true", help="record repeats of a request too (replayed in order)"
    )


def recorder_from(options: argparse.Namespace, contract: Contract) -> Recorder | None:
    if options.record is None:
        if options.record_all or options.record_max != DEFAULT_MAX_FILES:
            raise UsageError("--record-max and --record-all need --record DIR")
        return None
    directory = Path(options.record)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {directory}: {exc.strerror or exc}") from None
    # The key the client's environment holds is hidden too, wherever it shows (a body echoing it).
    env_key = os.environ.get("MEIBEL_API_KEY", "")
    return Recorder(
        contract,
        directory,
        max_files=options.record_max,
        record_all=options.record_all,
        keys=[env_key] if env_key else [],
    )
