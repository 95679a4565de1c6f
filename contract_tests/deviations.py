"""Known deviations: answers the document does not allow, but the service's framework always gives.

The real service is FastAPI with pydantic in lax mode. Against it a run sees, besides the
document's own answers:
- `undeclared-401`: 401 to a missing or unknown key (the document declares the key but no 401);
- `undecodable-400`: 400 to a body that is not UTF-8 (FastAPI's own answer, undeclared);
- `lax-coercion`: a body that breaks the document's types but that pydantic's lax mode repairs
  (`"retry_limit": false` accepted, and echoed as 0).
A conforming FastAPI service must not fail the gate for them, and a team must still see them:
each is counted, with one reproduction, and shown apart from the failures. With `strict` set
(`--strict`) none is excused. Nothing else is.

The unit is the answer: an answer that two checks excuse for the same deviation (an accepted
coerced body, and its coerced echo) counts once. Answers are told apart by their reproduction
within one case (`new_case` starts the next).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

LABELS = {
    "undeclared-401": "401 to a missing or unknown key (the document declares no 401)",
    "undecodable-400": "400 to a body that is not UTF-8 (FastAPI's answer; the document declares no 400)",
    "lax-coercion": "a body with the wrong JSON types accepted after pydantic's lax coercion",
}


@dataclass
class Deviations:
    strict: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _case: threading.local = field(default_factory=threading.local, repr=False)

    def new_case(self) -> None:
        """The answers excused from here on belong to the next case (of this thread)."""
        self._case.seen = set()

    def reset(self, *, strict: bool = False) -> None:
        with self._lock:
            self.strict = strict
            self.counts.clear()
            self.examples.clear()

    def excuse(self, kind: str, example: str) -> bool:
        """Count one answer of `kind`; True when it is allowed (not under --strict)."""
        if self.strict:
            return False
        seen: set[tuple[str, str]] | None = getattr(self._case, "seen", None)
        if seen is not None:
            if (kind, example) in seen:
                return True  # this answer is counted already
            seen.add((kind, example))
        with self._lock:
            self.counts[kind] += 1
            self.examples.setdefault(kind, example)
        return True

    def describe(self) -> list[tuple[str, str, int, str]]:
        """(kind, label, count, example) for every deviation seen."""
        return [
            (kind, LABELS[kind], n, self.examples.get(kind, "")) for kind, n in sorted(self.counts.items())
        ]


DEVIATIONS = Deviations()
