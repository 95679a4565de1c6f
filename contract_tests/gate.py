"""The one door every request of a live run goes through.

Schemathesis sends requests from several places: the case itself, retries after a dropped
connection, the probes some checks send on their own (`ignored_auth` re-sends a valid body
without the key), redirects it follows. A rule applied to cases alone misses some of them, so
the gate sits under all of them, at `requests`' transport adapter, and sees each request as it
goes out: method, URL, headers and body bytes. For each one it
- refuses any host or path outside the target (a redirect elsewhere is not followed);
- refuses anything once the run's time budget is spent;
- judges the request (`contract_tests.safety`): a write goes out only while the run's write
  budget (`--max-writes`) lasts, and is counted. A case's write that a conforming service
  refuses anyway (a body only lax coercion makes acceptable, or a request without the run's key)
  may take at most a tenth of it, so that the rest goes to requests any conforming service
  accepts: success answers are what the writes are spent for;
- keeps the rate limit (requests per second, over the whole run) and the per-request timeout.
A refused request raises `NotSent`, which the test and the checks treat as "not exercised".

Each request is counted under who sent it (`SENDER`: the case, or the check whose probe it is),
each write under the status it got, and, when a recorder is given (`--report-har`), the request
and its answer are kept for the report.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests.adapters

from contract_tests.safety import Verdict, WriteJudge

# Who is sending: "case" for a case's own request, else the name of the check whose probe it is.
SENDER: ContextVar[str] = ContextVar("meibel_contract_sender", default="case")
CASE = "case"
# Why a request was not sent, as the summary names it.
OUTSIDE = "outside the target"
TIME_SPENT = "time budget spent"
WRITES_WITHHELD = "writes withheld (--max-writes)"


class NotSent(Exception):
    """A request the gate did not let out; `reason` says why, `kind` names the rule."""

    def __init__(self, reason: str, kind: str = "") -> None:
        self.reason = reason
        self.kind = kind
        super().__init__(reason)


class Recorder(Protocol):
    def add_requests(self, request: Any, response: Any, started: float, elapsed: float) -> None: ...


class _LastAnswer(threading.local):
    answer: Any = None
    count: int = 0


# The last answer this thread received through the gate: a failing probe's answer, for its report.
LAST_ANSWER = _LastAnswer()


@dataclass
class Gate:
    base_url: str  # the resolved base URL: requests must stay under it
    judge: WriteJudge
    max_writes: int
    rate_limit: float
    timeout: float
    budget: float
    started: float = field(default_factory=time.monotonic)
    recorder: Recorder | None = None
    api_key: str = ""  # the run's key: a write without it is not expected to succeed
    sent: int = 0
    writes: int = 0
    refused_sent: int = 0  # certainly refused requests to write operations, sent
    coercible_writes: int = 0  # writes of cases a conforming service refuses (coercible, or keyless)
    not_sent: Counter[str] = field(default_factory=Counter)
    sent_by: Counter[str] = field(default_factory=Counter)  # requests sent, by sender
    withheld_by: Counter[str] = field(default_factory=Counter)  # requests not sent, by sender
    write_answers: Counter[str] = field(default_factory=Counter)  # writes, by the status they got
    write_senders: Counter[str] = field(default_factory=Counter)  # writes, by sender
    _next_slot: float = 0.0
    # Re-entrant: `_count` is called with it held (inside `admit`) and without.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def admit(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, *, streamed: bool = False
    ) -> Verdict:
        """Decide on one request; raises NotSent, or returns the verdict once it may go out."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        base_path = base.path.rstrip("/")
        if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()) or not (
            parts.path == base_path or parts.path.startswith(base_path + "/")
        ):
            self._count(OUTSIDE)
            raise NotSent(f"{url.split('?')[0]} is outside the target {self.base_url}", OUTSIDE)
        verdict = self.judge.judge(method, parts.path[len(base_path) :], parts.query, headers, body)
        if streamed and verdict.kind == "refused":
            # A streamed body cannot be read before it goes: whatever it holds, it may be valid.
            verdict = Verdict("write", "a streamed body to a write operation", verdict.operation)
        sender = SENDER.get()
        with self._lock:
            now = time.monotonic()
            if now - self.started > self.budget:
                self._count(TIME_SPENT, sender)
                raise NotSent("the run's time budget is spent", TIME_SPENT)
            if verdict.is_write:
                # A case's write that a conforming service refuses anyway (a body only lax coercion
                # repairs, or no run's key on it) is spent from a tenth of the budget at most.
                unlikely = verdict.coercible or bool(self.api_key and self.api_key not in headers.values())
                coercible = unlikely and sender == CASE
                if self.writes >= self.max_writes or (
                    coercible and self.coercible_writes >= self.max_writes // 10
                ):
                    self._count(WRITES_WITHHELD, sender)
                    raise NotSent(
                        "a write: a lenient target could act on it, and the run's write budget "
                        f"(--max-writes {self.max_writes}) is spent",
                        WRITES_WITHHELD,
                    )
                self.writes += 1
                self.coercible_writes += coercible
                self.write_senders[sender] += 1
            elif verdict.kind == "refused":
                self.refused_sent += 1
            self.sent += 1
            self.sent_by[sender] += 1
            # One slot per request over the whole run, whichever thread or check sends it.
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            time.sleep(wait)
        return verdict

    def answered(self, verdict: Verdict, status: int | None) -> None:
        """A request the gate let out got `status` (None: no answer); writes are counted by it."""
        if verdict.is_write:
            with self._lock:
                self.write_answers["no answer" if status is None else str(status)] += 1

    def _count(self, reason: str, sender: str | None = None) -> None:
        with self._lock:
            self.not_sent[reason] += 1
            self.withheld_by[sender or SENDER.get()] += 1


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
        verdict = gate.admit(
            str(request.method), str(request.url), headers, None if streamed else body, streamed=streamed
        )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = gate.timeout
        started, clock = time.time(), time.monotonic()
        try:
            response = original(adapter, request, *args, **kwargs)
        except Exception:
            gate.answered(verdict, None)
            if gate.recorder is not None:
                gate.recorder.add_requests(request, None, started, time.monotonic() - clock)
            raise
        gate.answered(verdict, int(response.status_code))
        LAST_ANSWER.answer = response
        LAST_ANSWER.count += 1
        if gate.recorder is not None:
            gate.recorder.add_requests(request, response, started, time.monotonic() - clock)
        return response

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
    try:
        yield gate
    finally:
        requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]
