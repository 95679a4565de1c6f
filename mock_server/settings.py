"""The mock's settings: what it is started with, by `create_app` or the command line.

The accepted keys, the body's limits, CORS origins, the scenario, seed and chaos, the journal's
size, the control endpoints and the recordings to replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.http.limits import BODY_TIMEOUT

DEV_KEY = "meibel-mock-key"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    api_keys: tuple[str, ...] = ()  # none given: the development key is accepted
    max_body: int = MiB
    body_timeout: float = BODY_TIMEOUT
    cors_origins: tuple[str, ...] = ()  # none given: any origin
    scenario: str | None = None
    seed: int | None = None
    latency: tuple[float, float] | None = None  # seconds, low and high
    fail_rate: float = 0.0
    fail_code: int = 503
    journal_size: int = 1000  # entries kept at most
    journal_bytes: int = 8 * MiB  # and bytes kept at most, all entries together
    control: bool = True  # False: `/__mock/` answers 404
    control_token: str | None = None  # `/__mock/` needs it in X-Mock-Control-Token (control.py)
    recordings: str | None = None  # a folder of recorded answers to replay (recordings.py)
    match: str = "exact"  # how a recording's body must match: "exact" or "partial"

    @property
    def accepted_keys(self) -> tuple[str, ...]:
        return self.api_keys or (DEV_KEY,)
