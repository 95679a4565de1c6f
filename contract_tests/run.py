"""The state of one contract run: what may be sent, what was sent, and what each check said.

Safety against a live deployment lives here. A live `POST /batch-executions` starts real,
billable work, so by default the run sends no request that could be accepted: a case that
could be (schema-valid data for a write operation, with the run's key) goes out without the
key and must be refused. `max_writes` lets at most that many through, counted over the whole
run. Against the in-process mock nothing is withheld.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemathesis import GenerationMode
from schemathesis.generation.case import Case

from contract_tests.target import API_KEY_HEADER, Target

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Failure:
    check: str
    title: str
    message: str
    reproduction: str


@dataclass
class Run:
    target: Target
    progress: bool = False
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    writes: int = 0
    withheld: int = 0
    not_sent: int = 0
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def headers_for(self, case: Case[Any]) -> dict[str, str] | None:
        """The headers this case is sent with, or None when it must not be sent at all."""
        with self._lock:
            if self.target.live and time.monotonic() - self.started > self.target.budget:
                self.not_sent += 1
                return None
            self.sent += 1
            self._report_progress()
            key = {API_KEY_HEADER: self.target.api_key} if self.target.api_key else {}
            if not (self.target.live and could_be_accepted(case)):
                return key
            if self.writes < self.target.max_writes:
                self.writes += 1
                self._point_at_real_things(case)
                return key
            self.withheld += 1
            return {}

    def _point_at_real_things(self, case: Case[Any]) -> None:
        spec = case.body.get("batch_spec_json") if isinstance(case.body, dict) else None
        if not isinstance(spec, dict):
            return
        if self.target.agent_id:
            spec["agent"] = self.target.agent_id
        source = spec.get("input")
        if self.target.datasource_id and isinstance(source, dict):
            source["datasource_id"] = self.target.datasource_id

    def _report_progress(self) -> None:
        if self.progress and self.sent % 25 == 0:
            elapsed = time.monotonic() - self.started
            print(
                f"  … {self.sent} requests in {elapsed:.0f} s ({self.writes} that could be accepted, "
                f"{sum(self.failed.values())} check failures so far)",
                file=sys.stderr,
                flush=True,
            )

    def record(self, case: Case[Any], results: list[Any]) -> None:
        with self._lock:
            for result in results:
                if result.failure is None:
                    self.passed[result.name] += 1
                    continue
                self.failed[result.name] += 1
                title = str(getattr(result.failure, "title", "") or type(result.failure).__name__)
                key = (result.name, title)
                if key not in self.failures:
                    self.failures[key] = Failure(
                        result.name,
                        title,
                        self.redact(str(getattr(result.failure, "message", ""))),
                        self.redact(_reproduction(case)),
                    )

    def redact(self, text: str) -> str:
        key = self.target.api_key
        return text.replace(key, "[Filtered]") if key else text


def could_be_accepted(case: Case[Any]) -> bool:
    """Schema-valid data for a write operation: a conforming service would act on it."""
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    same_method = str(case.method).upper() == str(case.operation.method).upper()
    return positive and same_method and str(case.method).upper() in WRITE_METHODS


def _reproduction(case: Case[Any]) -> str:
    try:
        return str(case.as_curl_command())
    except Exception as exc:  # a reproduction is a courtesy; its absence must not hide the failure
        return f"(no reproduction: {exc})"


_current: Run | None = None


def start_run(target: Target, *, progress: bool = False) -> Run:
    global _current
    _current = Run(target, progress=progress)
    return _current


def current_run() -> Run:
    if _current is None:
        raise RuntimeError("no contract run is in progress")
    return _current
