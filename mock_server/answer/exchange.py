"""What the engine takes and gives: a request's parts, already read, and the answer decided for it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(slots=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    empty: bool = False  # no body at all (a 204, or a schema-less response)
    delay: float = 0.0  # seconds to wait before answering (simulated latency)
    media_type: str = "application/json"  # the Content-Type sent with a body
    raw: bytes | None = None  # the body already rendered (a non-JSON media type)
    recording: str | None = None  # the recording replayed (its name), for the journal

    def encode(self) -> bytes:
        if self.empty:
            return b""
        if self.raw is not None:
            return self.raw
        try:
            return orjson.dumps(self.body)
        except TypeError:  # lone surrogates in an echoed `input`, integers past 64 bits: escape them
            return json.dumps(self.body, separators=(",", ":"), allow_nan=False).encode()


@dataclass(slots=True)
class Request:
    headers: Mapping[str, str]  # lower-case names
    query_string: str = ""
    body: bytes | None = None  # None: no body was sent
    path_params: Mapping[str, str] = field(default_factory=dict)


NOT_FOUND = Answer(404, {"detail": "Not Found"})
UNAUTHENTICATED_HEADERS = {"www-authenticate": "APIKey"}
