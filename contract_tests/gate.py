"""The one door every request of a live run goes through.

Schemathesis sends requests from several places: the case itself, retries after a dropped
connection, the probes some checks send on their own (`ignored_auth` re-sends a valid body
without the key), redirects it follows. A rule applied to cases alone misses some of them, so
the gate sits under all of them, at `requests`' transport adapter, and sees each request as it
goes out: method, URL, headers and body bytes. For each one it
- refuses any host or path outside the target (a redirect elsewhere is not followed);
- refuses anything once the run's time budget is spent;
- judges the request (`contract_tests.safety`): a write goes out only while the run's write
  budget (`--max-writes`) lasts, and is counted. Writes of cases generated to break the document
  (bodies only a lax service accepts) may take at most half of it, so that the rest goes to
  valid bodies, which any conforming service acts on;
- keeps the rate limit (requests per second, over the whole run) and the per-request timeout.
A refused request raises `NotSent`, which the test and the checks treat as "not exercised".
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests.adapters

from contract_tests.safety import Verdict, WriteJudge


class NotSent(Exception):
    """A request the gate did not let out; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Gate:
    base_url: str  # the resolved base URL: requests must stay under it
    judge: WriteJudge
    max_writes: int
    rate_limit: float
    timeout: float
    budget: float
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    writes: int = 0
    refused_sent: int = 0  # certainly refused requests to write operations, sent
    lenient_writes: int = 0  # writes of cases generated to be invalid
    not_sent: Counter[str] = field(default_factory=Counter)
    _case: threading.local = field(default_factory=threading.local, repr=False)
    _next_slot: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, *, streamed: bool = False
    ) -> Verdict:
        """Decide on one request; raises NotSent, or returns the verdict once it may go out."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        base_path = base.path.rstrip("/")
        if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()) or not (
            parts.path == base_path or parts.path.startswith(base_path + "/")
        ):
            self._count("outside the target")
            raise NotSent(f"{url.split('?')[0]} is outside the target {self.base_url}")
        verdict = self.judge.judge(method, parts.path[len(base_path) :], parts.query, headers, body)
        if streamed and verdict.kind == "refused":
            # A streamed body cannot be read before it goes: whatever it holds, it may be valid.
            verdict = Verdict("write", "a streamed body to a write operation", verdict.operation)
        with self._lock:
            now = time.monotonic()
            if now - self.started > self.budget:
                self.not_sent["time budget spent"] += 1
                raise NotSent("the run's time budget is spent")
            if verdict.is_write:
                negative = getattr(self._case, "negative", False)
                if self.writes >= self.max_writes or (
                    negative and self.lenient_writes >= self.max_writes // 2
                ):
                    self.not_sent["writes withheld (--max-writes)"] += 1
                    raise NotSent(
                        "a write: a lenient target could act on it, and the run's write budget "
                        f"(--max-writes {self.max_writes}) is spent"
                    )
                self.writes += 1
                self.lenient_writes += negative
            elif verdict.kind == "refused":
                self.refused_sent += 1
            self.sent += 1
            # One slot per request over the whole run, whichever thread or check sends it.
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            time.sleep(wait)
        return verdict

    @contextmanager
    def case(self, *, negative: bool) -> Iterator[None]:
        """Requests sent in this block (the case and the probes of its checks) belong to a case
        generated to break the document (`negative`) or to follow it."""
        self._case.negative = negative
        try:
            yield
        finally:
            self._case.negative = False

    def _count(self, reason: str) -> None:
        with self._lock:
            self.not_sent[reason] += 1


@contextmanager
def installed(gate: Gate) -> Iterator[Gate]:
    """Put `gate` under every `requests` adapter for the duration (a live run)."""
    original = requests.adapters.HTTPAdapter.send

    def send(adapter: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        body = request.body
        streamed = body is not None and not isinstance(body, bytes | str)
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {str(k): str(v) for k, v in request.headers.items()}
        gate.admit(
            str(request.method), str(request.url), headers, None if streamed else body, streamed=streamed
        )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = gate.timeout
        return original(adapter, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
    try:
        yield gate
    finally:
        requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]
