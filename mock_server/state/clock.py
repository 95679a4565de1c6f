"""The time the mock's answers are stamped with: the wall clock, or a seeded one that repeats."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall time, or with a seed a clock that starts at a seed-derived instant and advances a
    seed-derived step per request: runs with the same seed see the same timestamps."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(f"clock:{seed}") if seed is not None else None
        self._now = (
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=self._rng.randint(0, 364))
            if self._rng
            else None
        )

    def now(self) -> datetime:
        if self._rng is None or self._now is None:
            return datetime.now(UTC)
        self._now += timedelta(milliseconds=self._rng.randint(500, 5000))
        return self._now
