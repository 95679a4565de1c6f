"""The request journal: what the mock was sent and what it answered, for tests to assert on.

Bounded in entries (`size`) and in bytes (`max_bytes`, all entries together; each entry's path,
query, header values, body and answer are capped too). Keys never enter it (`redaction.py`).
Each `clear()` starts a new generation: a request that arrived before it and is answered after
it (a client that timed out under `Prefer: latency`) is not journaled, so it cannot show in the
next test's journal.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mock_server.state.redaction import REDACTED, Redactor

MiB = 1024 * 1024
_now = time.time  # (looked up once)
DEFAULT_MAX_BYTES = 8 * MiB
MAX_BODY_KEPT = 64 * 1024  # bytes of each request body kept
MAX_RESPONSE_KEPT = 64 * 1024  # bytes of each answer kept
MAX_HEADER_VALUE = 4 * 1024  # bytes of each header value kept
MAX_HEADER_BYTES = 32 * 1024  # bytes of all the headers of one request kept
MAX_URL_PART = 8 * 1024  # bytes of the path, and of the query string, kept
MIN_HIDDEN = 4  # characters a credential parameter's value needs to be hidden in bodies too
_ENTRY_OVERHEAD = 512  # bytes an entry costs beyond its text: the tuple, the objects, the deque


@dataclass(frozen=True)
class JournalEntry:
    """One request, as the mock saw it, and its answer."""

    time: float  # seconds since the epoch, when it was answered
    method: str
    path: str
    query_string: str  # as sent, credentials `[redacted]`
    query: dict[str, list[str]]  # parsed: every value of each parameter, in order
    headers: dict[str, str]  # lower-case names; credentials `[redacted]`
    body: Any  # the parsed JSON body; the text when it is not JSON (or cut); None when none
    body_text: str | None
    body_truncated: bool
    status: int
    response: Any  # the parsed JSON answer; None when empty
    response_truncated: bool
    headers_truncated: bool = False
    worker: int = 0  # the process id of the worker that answered (`--workers`)
    recording: str | None = None  # the recording replayed as the answer (`--recordings`)

    def to_json(self) -> dict[str, Any]:
        marked = {"recording": self.recording} if self.recording is not None else {}
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "query_string": self.query_string,
            "headers": self.headers,
            "headers_truncated": self.headers_truncated,
            "body": self.body,
            "body_text": self.body_text,
            "body_truncated": self.body_truncated,
            "status": self.status,
            "response": self.response,
            "response_truncated": self.response_truncated,
            "worker": self.worker,
            **marked,
        }

    # Until 0.2.0, `meibel_mock.requests` was a list of dicts. Reading an entry as one still works
    # for the 0.2 releases, with a DeprecationWarning, and gives what the dict held: `query` and
    # `body` were the text as sent (now `query_string` and `body_text`; `query` and `body` are
    # parsed). Removed in 0.3.0 (CHANGELOG.md).
    def __getitem__(self, key: str) -> Any:
        return self._legacy(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated, as `entry[key]`."""
        return self._legacy(key) if key in _LEGACY_KEYS else default

    def _legacy(self, key: str) -> Any:
        attribute = _LEGACY_KEYS.get(key)
        if attribute is None:
            raise KeyError(key)
        advice = f"entry.{attribute}"
        if attribute != key:
            advice += f" (entry.{key} is now the parsed {'query' if key == 'query' else 'body'})"
        warnings.warn(
            f"journal entries are objects since meibel-contract-kit 0.2.0: entry[{key!r}] is deprecated "
            f"and will be removed in 0.3.0; use {advice}",
            DeprecationWarning,
            stacklevel=3,  # the caller of entry[key] or entry.get(key)
        )
        return getattr(self, attribute)


# The keys of the 0.1 dict entries, and the attribute that holds what each held.
_LEGACY_KEYS = {
    "time": "time",
    "method": "method",
    "path": "path",
    "query": "query_string",
    "headers": "headers",
    "body": "body_text",
    "body_truncated": "body_truncated",
    "status": "status",
}


# Entries are kept as flat tuples of strings, bytes and numbers: the garbage collector stops
# tracking such tuples, so a full journal adds nothing to its work; the typed entries are
# built (and bodies parsed) only when read.
# The headers are two tuples, names and values, in order (cheaper to build than one pair each).
# The last item is the entry's cost in bytes. An answer replayed from a recording has its name
# before the cost (`marked`): every other entry keeps the shape, and the cost, it had before.
_Stored = tuple[
    float,
    str,
    str,
    str,
    tuple[str, ...],
    tuple[str, ...],
    bool,
    "bytes | None",
    bool,
    int,
    bytes,
    bool,
    int,
    int,
]


@dataclass(frozen=True)
class Snapshot:
    """The journal as `GET /__mock/requests` shows it, read at one instant."""

    used_bytes: int
    evicted: int
    late: int
    entries: list[JournalEntry]


class Journal:
    def __init__(
        self, size: int, *, max_bytes: int = DEFAULT_MAX_BYTES, redactor: Redactor | None = None
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.redactor = redactor or Redactor()
        self._entries: deque[_Stored] = deque()
        self._bytes = 0
        self.generation = 0  # taken by a request when it arrives; bumped by clear()
        self.late = 0  # requests since the last clear() that arrived before it: not journaled
        self.evicted = 0  # entries dropped since the last clear() to stay within the limits
        # Appended from the server's event loop, read and cleared from a test's thread.
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @property
    def enabled(self) -> bool:
        return self.size > 0

    @property
    def used_bytes(self) -> int:
        return self._bytes

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
    ) -> None:
        """Journal a request (`generation`: `self.generation` when it arrived; an entry from
        before the last clear() is dropped; `recording`: the recording that answered it)."""
        if not self.size:
            return
        if generation is not None and generation != self.generation:
            with self._lock:
                if generation != self.generation:
                    self.late += 1
                    return
        entry = prepare(self.redactor, method, path, query, headers, body, status, response, self._pid)
        if recording is not None:
            entry = marked(entry, recording)
        entries = self._entries
        lock = self._lock
        lock.acquire()  # (not `with`, which costs twice as much, on every request)
        try:
            if generation is not None and generation != self.generation:
                self.late += 1
                return
            entries.append(entry)
            used = self._bytes + entry[-1]
            # The newest entry always stays: its own size is capped well below any sane budget.
            size, max_bytes = self.size, self.max_bytes
            while (len(entries) > size or used > max_bytes) and len(entries) > 1:
                used -= entries.popleft()[-1]
                self.evicted += 1
            self._bytes = used
        finally:
            lock.release()

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            kept = list(self._entries)
        return [typed(stored) for stored in kept]

    def snapshot(self) -> Snapshot:
        with self._lock:
            kept = list(self._entries)
            used, evicted, late = self._bytes, self.evicted, self.late
        return Snapshot(used, evicted, late, [typed(stored) for stored in kept])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.generation += 1
            self.late = 0
            self.evicted = 0


def prepare(
    redactor: Redactor,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes | None,
    status: int,
    response: bytes,
    pid: int,
) -> _Stored:
    """What the journal keeps of one request: redacted, each part capped, with its cost in bytes
    (shared by every journal store, so that limits and redaction are the same whichever keeps it)."""
    # Every part takes the common case first, in a few C-level steps, and the exact path (header
    # by header, value by value) only when a key, an escape or a cap might be involved. This runs
    # on every answered request, so it is written for speed: inline, no call it can do without.
    names: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    header_bytes = -1  # (-1: the exact path)
    if type(headers) is dict:  # (a multi-dict's items may repeat a name: the exact path)
        kept = headers.copy()
        for name in redactor.headers.intersection(headers):
            if len(kept[name]) > MAX_HEADER_VALUE:
                break  # a cut value: the exact path says so
            kept[name] = REDACTED
        else:
            names = tuple(kept)
            values = tuple(kept.values())
            probe = "".join(names + values)  # (a key across two parts is only a false alarm)
            header_bytes = len(probe)
            if (
                len(path) > MAX_URL_PART
                or header_bytes > MAX_HEADER_BYTES
                or (header_bytes > MAX_HEADER_VALUE and max(map(len, values)) > MAX_HEADER_VALUE)
            ):
                header_bytes = -1
            else:
                for key in redactor.keys:
                    if key in probe or key in path:
                        header_bytes = -1
                        break
    headers_cut = False
    if header_bytes < 0:
        names, values, header_bytes, headers_cut = _headers(redactor, headers)
        path = redactor.text(path[: MAX_URL_PART + redactor.reach])[:MAX_URL_PART]
    if query or (body is not None and "x-www-form-urlencoded" in headers.get("content-type", "")):
        hidden: list[str] = []  # credential-like parameters' values: hidden in the bodies too
        if query:
            query = redactor.params(query[: MAX_URL_PART + redactor.reach], hidden)[:MAX_URL_PART]
        if body is not None and "x-www-form-urlencoded" in headers.get("content-type", ""):
            redactor.params(body[:MAX_BODY_KEPT].decode("latin-1"), hidden)
        # Short values would hide too much that is not a secret (`?token=1`).
        also = [value for value in hidden if len(value) >= MIN_HIDDEN]
        kept_body, body_cut, kept_response, response_cut = _bodies(redactor, body, response, also)
    else:
        # Both bodies are kept whole when within their caps, with no key in either and no
        # backslash that could start an escape spelling one. (`92 in raw` is a memchr. For a
        # key, `partition` rather than `in`: on bytes, `in` first tries the needle as an
        # integer, and that failure costs more than scanning a small body.)
        kept_body, body_cut, kept_response, response_cut = body, False, response, False
        raw = body or b""
        if (
            len(raw) > MAX_BODY_KEPT
            or len(response) > MAX_RESPONSE_KEPT
            or (92 in raw and (b"\\u00" in raw or b"\\/" in raw))
            or (92 in response and (b"\\u00" in response or b"\\/" in response))
        ):
            kept_body, body_cut, kept_response, response_cut = _bodies(redactor, body, response, ())
        else:
            for form in redactor.key_bytes:
                if raw.partition(form)[1] or response.partition(form)[1]:
                    kept_body, body_cut, kept_response, response_cut = _bodies(redactor, body, response, ())
                    break
    cost = (
        _ENTRY_OVERHEAD
        + len(method)
        + len(path)
        + len(query)
        + header_bytes
        + len(kept_body or b"")
        + len(kept_response)
    )
    return (
        _now(),
        method,
        path,
        query,
        names,
        values,
        headers_cut,
        kept_body,
        body_cut,
        status,
        kept_response,
        response_cut,
        pid,
        cost,
    )


def _headers(
    redactor: Redactor, headers: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...], int, bool]:
    """The exact path: the headers' names and values kept, their bytes, and whether any was cut."""
    names: list[str] = []
    values: list[str] = []
    header_bytes = 0
    headers_cut = False
    for name, value in headers.items():
        if len(value) > MAX_HEADER_VALUE:
            value = redactor.header(name, value[: MAX_HEADER_VALUE + redactor.reach])[:MAX_HEADER_VALUE]
            headers_cut = True
        else:
            value = redactor.header(name, value)
        name = redactor.text(name)  # a key sent as a header's name, however odd
        if header_bytes + len(name) + len(value) > MAX_HEADER_BYTES:
            headers_cut = True
            break
        header_bytes += len(name) + len(value)
        names.append(name)
        values.append(value)
    return tuple(names), tuple(values), header_bytes, headers_cut


def _bodies(
    redactor: Redactor, body: bytes | None, response: bytes, also: Sequence[str]
) -> tuple[bytes | None, bool, bytes, bool]:
    """The exact path: the request body and the answer kept, and whether each was cut."""
    kept_body, body_cut = (None, False) if body is None else redactor.body(body, MAX_BODY_KEPT, also)
    return (kept_body, body_cut, *redactor.body(response, MAX_RESPONSE_KEPT, also))


def marked(entry: _Stored, recording: str) -> _Stored:
    """`entry`, marked as answered by `recording` (its name before the cost, counted in it)."""
    return (*entry[:-1], recording, entry[-1] + len(recording))  # type: ignore[return-value]


def typed(stored: _Stored) -> JournalEntry:
    recording: str | None = None
    if len(stored) == 15:  # (marked)
        recording = str(stored[-2])
        stored = (*stored[:-2], stored[-1])  # type: ignore[assignment]
    (
        at,
        method,
        path,
        query,
        names,
        values,
        headers_cut,
        body,
        body_cut,
        status,
        response,
        response_cut,
        pid,
        _,
    ) = stored
    header_map = dict(zip(names, values, strict=True))
    text = None if body is None else body.decode("utf-8", "replace")
    parsed: Any = text
    if body and not body_cut and "json" in header_map.get("content-type", ""):
        parsed = _json_or(body, text)
    return JournalEntry(
        time=at,
        method=method,
        path=path,
        query_string=query,
        query=_multi(query),
        headers=header_map,
        headers_truncated=headers_cut,
        body=parsed,
        body_text=text,
        body_truncated=body_cut,
        status=status,
        response=_answer(response, response_cut),
        response_truncated=response_cut,
        worker=pid,
        recording=recording,
    )


def _answer(raw: bytes, cut: bool) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    return text if cut else _json_or(raw, text)


def _json_or(raw: bytes, fallback: str | None) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses and the mock accepts: integers past 64 bits
        return json.loads(raw)
    except (ValueError, RecursionError):
        return fallback


def _multi(query: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out
