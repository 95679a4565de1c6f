"""What the checks know about the run they are part of: the document, the key, the judge.

Set once per run by the target (`contract_tests.target.load_schema`); the checks read it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contract_tests.safety import WriteJudge
from mock_server.contract import Contract, Operation


@dataclass
class RunContext:
    contract: Contract | None = None
    judge: WriteJudge | None = None
    api_key: str = ""
    unknown_key: str = "contract-unknown-key"
    max_auth_probes: int = 2  # per operation: each costs two requests
    auth_probes: Counter[str] = field(default_factory=Counter)
    success_answers_checked: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, contract: Contract, api_key: str, unknown_key: str) -> None:
        self.contract = contract
        self.judge = WriteJudge(contract)
        self.api_key = api_key
        self.unknown_key = unknown_key
        self.auth_probes.clear()
        self.success_answers_checked = 0

    def operation(self, case: Any) -> Operation | None:
        if self.contract is None:
            return None
        try:
            return self.contract.find(str(case.operation.method), str(case.operation.path))
        except KeyError:
            return None

    def take_auth_probe(self, label: str) -> bool:
        return self.take_probe(label, self.max_auth_probes)

    def take_probe(self, label: str, limit: int) -> bool:
        """One more probe of this kind for this operation, within `limit`?"""
        with self._lock:
            if self.auth_probes[label] >= limit:
                return False
            self.auth_probes[label] += 1
            return True

    def success_checked(self) -> None:
        with self._lock:
            self.success_answers_checked += 1


CONTEXT = RunContext()
