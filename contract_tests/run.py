"""The state of one contract run: what went out, what was kept back, what each check said.

Safety against a live deployment is the gate's (`contract_tests.gate`): every request a live
case sends passes through it, and a write goes out only within `--max-writes`. Against the in-process
mock nothing is kept back. Every request carries the run's key; whether a request may go out
does not depend on it (a target may ignore the key).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case
from schemathesis.generation.meta import TestPhase

from contract_tests.checks import CHECKS, PROBE_ANSWERS
from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS
from contract_tests.gate import Gate, NotSent, installed
from contract_tests.reports.har import HarLog
from contract_tests.reports.reproduce import answer_summary, reproduction
from contract_tests.target import API_KEY_HEADER, Target
from mock_server.contract import load_contract

OVER_MAX_EXAMPLES = "over --max-examples"


@dataclass
class Failure:
    check: str
    title: str
    message: str
    reproduction: str
    operation: str
    answer: str  # status, content type and the start of the body of the answer that failed


@dataclass
class Run:
    target: Target
    progress: bool = False
    gate: Gate | None = None
    har: HarLog | None = None
    started: float = field(default_factory=time.monotonic)
    cases: int = 0  # cases within --max-examples, handed to the gate (sent or withheld)
    # Every case generated, by what became of it: "sent", OVER_MAX_EXAMPLES, or the gate's reason.
    case_outcomes: Counter[str] = field(default_factory=Counter)
    not_sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failed_answers: int = 0  # answers that failed at least one check
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    _coverage: Counter[tuple[str, str]] = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def failure_count(self) -> int:
        with self._lock:
            return sum(self.failed.values())

    def key_headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self.target.api_key} if self.target.api_key else {}

    def send(self, case: Case[Any], checks: list[Any]) -> None:
        """Send one case with the run's key and check the answer; a kept-back case is counted."""
        with self._lock:
            if not self._within_max_examples(case):
                self.not_sent[OVER_MAX_EXAMPLES] += 1
                self.case_outcomes[OVER_MAX_EXAMPLES] += 1
                return
            self.cases += 1
            self._report_progress()
        if self.gate is not None:
            self._point_at_real_things(case)
        PROBE_ANSWERS.by_check.clear()
        DEVIATIONS.new_case()
        outcome = "sent"
        try:
            # The gate sits under `requests` while a case is sent (its checks' probes, retries and
            # redirects included), and only then: other tests of the same session are not its concern.
            with self._gated():
                case.call_and_validate(headers=self.key_headers(), checks=checks)
        except NotSent as exc:
            # The case's own request was kept back (a check's probe kept back stays in the check).
            outcome = exc.kind or "not sent"
        except (AssertionError, FailureGroup):
            # Recorded already (the after_validate hook): the run goes on, so that one failure
            # does not hide the others, and the verdict is given once, at the end of the test.
            pass
        with self._lock:
            self.case_outcomes[outcome] += 1

    @contextmanager
    def _gated(self) -> Iterator[None]:
        if self.gate is None:
            yield
            return
        with installed(self.gate):
            yield

    def _point_at_real_things(self, case: Case[Any]) -> None:
        """A body a service could accept names the real agent and datasource given for the run.

        Only such bodies: rewriting an invalid one could make it valid behind the case's back."""
        target, judge, op = self.target, CONTEXT.judge, CONTEXT.operation(case)
        if not (target.agent_id or target.datasource_id) or judge is None or op is None:
            return
        if not isinstance(case.body, dict) or judge.body_problems(op, case.body):
            return
        spec = case.body.get("batch_spec_json")
        if not isinstance(spec, dict):
            return
        if target.agent_id:
            spec["agent"] = target.agent_id
        source = spec.get("input")
        if target.datasource_id and isinstance(source, dict):
            source["datasource_id"] = target.datasource_id

    def _within_max_examples(self, case: Case[Any]) -> bool:
        # Hypothesis bounds the generated (fuzzing) cases by max_examples itself; the boundary
        # cases Schemathesis derives from the schema (its coverage phase, run as explicit examples,
        # never replayed) are bounded here, so that --max-examples bounds the whole run.
        meta = case.meta
        if meta is None or meta.phase.name != TestPhase.COVERAGE:
            return True
        key = (str(case.operation.label), str(meta.generation.mode))
        self._coverage[key] += 1
        return self._coverage[key] <= self.target.max_examples

    @property
    def sent(self) -> int:
        return self.gate.sent if self.gate else sum(self.statuses.values())

    @property
    def writes(self) -> int:
        return self.gate.writes if self.gate else 0

    def not_exercised(self) -> list[tuple[str, str]]:
        return [
            (c.name, c.unexercised) for c in CHECKS if not self.passed[c.name] and not self.failed[c.name]
        ]

    def _report_progress(self) -> None:
        if self.progress and self.cases % 25 == 0:
            elapsed = time.monotonic() - self.started
            print(
                f"  … {self.cases} cases in {elapsed:.0f} s ({self.sent} requests sent, {self.writes} writes, "
                f"{self.failed_answers} answers failed a check so far)",
                file=sys.stderr,
                flush=True,
            )

    def record(self, case: Case[Any], response: Any, results: list[Any]) -> None:
        with self._lock:
            self.statuses[int(response.status_code)] += 1
            failed = False
            for result in results:
                if result.failure is None:
                    self.passed[result.name] += 1
                    continue
                failed = True
                self.failed[result.name] += 1
                title = str(getattr(result.failure, "title", "") or type(result.failure).__name__)
                key = (result.name, title)
                if key not in self.failures:
                    # The request that failed: a probe's, where the check sent one, else the case's.
                    # (`is None`: a `requests` answer with an error status is falsy.)
                    probe = PROBE_ANSWERS.by_check.get(result.name)
                    failing = response if probe is None else probe
                    self.failures[key] = Failure(
                        result.name,
                        title,
                        self.redact(str(getattr(result.failure, "message", "") or result.failure)),
                        self.redact(reproduction(failing)),
                        str(case.operation.label),
                        self.redact(answer_summary(failing)),
                    )
            self.failed_answers += failed

    def redact(self, text: str) -> str:
        # Only the run's key is a secret; the unknown key of the auth probes is made up, and shown.
        return text.replace(self.target.api_key, "[Filtered]") if self.target.api_key else text


_current: Run | None = None


def start_run(target: Target, *, progress: bool = False, har: HarLog | None = None) -> Run:
    """A new run for `target`; for a live one, with the gate its cases are sent through."""
    global _current
    contract = load_contract()
    # The unknown key of the auth probes follows the seed, so that runs stay identical.
    unknown = f"contract-unknown-{target.seed:x}"
    CONTEXT.start(contract, target.api_key, unknown)
    DEVIATIONS.reset(strict=target.strict)
    run = Run(target, progress=progress, har=har)
    if target.base_url is not None:
        assert CONTEXT.judge is not None
        run.gate = Gate(
            base_url=target.base_url,
            judge=CONTEXT.judge,
            max_writes=target.max_writes,
            rate_limit=target.rate_limit,
            timeout=target.timeout,
            budget=target.budget,
            recorder=har,
            api_key=target.api_key,
        )
    _current = run
    return run


def current_run() -> Run:
    if _current is None:
        raise RuntimeError("no contract run is in progress")
    return _current
