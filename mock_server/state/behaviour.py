"""Answers queued for the next requests: "503 twice, then normal", per test.

A test (the `meibel_mock` fixture, or `POST /__mock/queue` from any language) queues
behaviours; each API request takes one step from the head of the queue, and when the queue is
empty the mock answers as configured again. A behaviour is an injected fault (the same answer
as `Prefer: fault`), a latency, a scenario, or a mix, for the next `times` requests.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from mock_server.state.chaos import FAULT_CODES, parse_latency

MAX_QUEUED = 1000  # behaviours waiting at once: the queue is bounded like everything else
MAX_TIMES = 1_000_000


@dataclass(frozen=True)
class Behaviour:
    fault: int | None = None  # an injected fault's status (429, 500, 502, 503, 504)
    latency: tuple[float, float] | None = None  # seconds, low and high
    scenario: str | None = None  # for the operations the scenarios know (or a named example)
    times: int = 1  # for this many requests

    def to_json(self) -> dict[str, Any]:
        latency = None
        if self.latency is not None:
            low, high = (f"{bound * 1000:g}ms" for bound in self.latency)
            latency = low if low == high else f"{low}-{high}"
        return {"fault": self.fault, "latency": latency, "scenario": self.scenario, "times": self.times}

    def preferences(self) -> dict[str, str]:
        """The behaviour as `Prefer` preferences, which the engine already knows how to apply."""
        out = {}
        if self.fault is not None:
            out["fault"] = str(self.fault)
        if self.latency is not None:
            out["latency"] = "{:.3f}ms-{:.3f}ms".format(*(bound * 1000 for bound in self.latency))
        if self.scenario is not None:
            out["example"] = self.scenario
        return out


def behaviour(
    *,
    fault: int | None = None,
    latency: float | str | None = None,
    scenario: str | None = None,
    times: int = 1,
) -> Behaviour:
    """A checked behaviour (`ValueError` saying what is wrong). `latency`: seconds, or a
    duration as the CLI takes it (`200ms`, `1.5s`, `50ms-300ms`)."""
    if fault is None and latency is None and scenario is None:
        raise ValueError("queue at least one of fault, latency or scenario")
    if fault is not None and (isinstance(fault, bool) or fault not in FAULT_CODES):
        raise ValueError(f"fault {fault!r} is not one of {', '.join(map(str, FAULT_CODES))}")
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
        raise ValueError(f"times must be a whole number from 1 to {MAX_TIMES}, not {times!r}")
    if scenario is not None and not isinstance(scenario, str):
        raise ValueError(f"scenario must be a name, not {scenario!r}")
    return Behaviour(fault=fault, latency=_latency(latency), scenario=scenario, times=times)


def _latency(value: float | str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_latency(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 600:
        raise ValueError(f"latency must be seconds from 0 to 600, or a duration such as 200ms, not {value!r}")
    return (float(value), float(value))


def behaviour_from_json(data: Any) -> Behaviour:
    """`{"fault": 503, "times": 2}`, as `POST /__mock/queue` takes it (latency as a string)."""
    if not isinstance(data, dict):
        raise ValueError('send an object such as {"fault": 503, "times": 2}')
    unknown = sorted(set(data) - {"fault", "latency", "scenario", "times"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}: use fault, latency, scenario and times")
    latency = data.get("latency")
    if latency is not None and not isinstance(latency, str):
        raise ValueError(f'latency must be a duration such as "200ms" or "1s", not {latency!r}')
    return behaviour(
        fault=data.get("fault"), latency=latency, scenario=data.get("scenario"), times=data.get("times", 1)
    )


class BehaviourQueue:
    """Thread-safe: filled from a test's thread, taken from the server's event loop."""

    def __init__(self) -> None:
        self._items: deque[Behaviour] = deque()
        self._lock = threading.Lock()

    def push(self, item: Behaviour) -> None:
        with self._lock:
            if len(self._items) >= MAX_QUEUED:
                raise ValueError(f"{MAX_QUEUED} behaviours are queued already")
            self._items.append(item)

    def take(self) -> Behaviour | None:
        """The behaviour for the request arriving now, if any."""
        if not self._items:  # the common case, without the lock
            return None
        with self._lock:
            if not self._items:
                return None
            head = self._items[0]
            if head.times > 1:
                self._items[0] = replace(head, times=head.times - 1)
            else:
                self._items.popleft()
            return replace(head, times=1)

    def pending(self) -> list[Behaviour]:
        """What is still queued, each with the requests it has left."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
