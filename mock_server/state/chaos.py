"""Latency and injected faults, for testing a client's timeouts and retries."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*")
FAULT_CODES = (429, 500, 502, 503, 504)
_REASONS = {
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def parse_duration(text: str) -> float:
    """`200ms`, `1.5s` or a bare number of milliseconds → seconds."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 200ms, 1.5s)")
    value = float(found.group(1))
    return value if found.group(2) == "s" else value / 1000


def parse_latency(text: str) -> tuple[float, float]:
    """`200ms` or a range `50ms-300ms` → (low, high) in seconds."""
    low, sep, high = text.partition("-")
    bounds = (parse_duration(low), parse_duration(high) if sep else parse_duration(low))
    if bounds[0] > bounds[1]:
        raise ValueError(f"latency range {text!r} runs backwards")
    if bounds[1] > 600:
        raise ValueError(f"latency {text!r} is over 10 minutes")
    return bounds


def parse_fault_code(text: str) -> int:
    if not text.isdigit() or int(text) not in FAULT_CODES:
        raise ValueError(f"fault code {text!r} is not one of {', '.join(map(str, FAULT_CODES))}")
    return int(text)


@dataclass(frozen=True)
class Fault:
    status: int
    body: dict[str, object]
    headers: dict[str, str]


def fault(status: int, reason: str) -> Fault:
    headers = {"x-mock-injected": "fault"}
    if status == 429:
        headers["retry-after"] = "1"
    body = {
        "detail": f"{_REASONS.get(status, 'Injected fault')} (injected by the mock: {reason})",
        "injected": True,
    }
    return Fault(status, body, headers)


class Chaos:
    """Decides per request: how long to wait, and whether to answer with an injected fault.

    Draws from its own generator, so that turning faults on does not change the fixtures a
    seeded run answers."""

    def __init__(
        self, latency: tuple[float, float] | None, fail_rate: float, fail_code: int, seed: int | None
    ) -> None:
        self.latency = latency
        self.fail_rate = fail_rate
        self.fail_code = fail_code
        self.rng = random.Random(f"chaos:{seed}") if seed is not None else random.Random()

    @property
    def idle(self) -> bool:
        return self.latency is None and self.fail_rate == 0

    def delay(self, preferred: str | None) -> float:
        bounds = parse_latency(preferred) if preferred else self.latency
        if bounds is None:
            return 0.0
        return bounds[0] if bounds[0] == bounds[1] else self.rng.uniform(*bounds)

    def fault(self, preferred: str | None, reason: str | None = None) -> Fault | None:
        """`preferred`: a fault asked for (by `Prefer: fault`, or `reason`) rather than drawn."""
        if preferred:
            return fault(parse_fault_code(preferred), reason or "Prefer: fault")
        if self.fail_rate and self.rng.random() < self.fail_rate:
            return fault(self.fail_code, f"--fail-rate {self.fail_rate:g}")
        return None
