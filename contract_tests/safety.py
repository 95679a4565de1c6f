"""Which requests of a live run are writes, judged from the request actually sent.

A live `POST /batch-executions` starts real, billable work. The rule: a request to a write
operation that a target *could* act on is a write, judged against the most lenient plausible
target — one that coerces types like pydantic's lax mode, accepts any key, or ignores the key.
So the key does not matter, and neither does how a case was generated (a "negative" case is
often a valid body). What matters is the method, the path and the body as they go out:

- a method the path does not declare, or a path the document does not have: nothing to act on;
- a read operation (GET, HEAD, OPTIONS, TRACE): not a write;
- a write operation whose request no lenient validator accepts (malformed JSON, not UTF-8, a
  required property or parameter missing, a JSON type no coercion repairs, a bound broken):
  refused for certain, so it may be sent, with or without the key;
- any other request to a write operation: a write.

The judge is pure; `contract_tests.gate` applies it to every request a run sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from contract_tests.lax import Lax
from mock_server.contract import Contract, Operation
from mock_server.document.refs import resolve

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Kind = Literal["read", "refused", "write"]


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str
    operation: Operation | None = None
    coercible: bool = False  # a write whose body a service accepts only after lax coercion

    @property
    def is_write(self) -> bool:
        return self.kind == "write"


class WriteJudge:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.lax = Lax(contract.document)

    def judge(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> Verdict:
        """`path` is relative to the API's base (`/batch-executions`), as the document writes it."""
        method = method.upper()
        found = self.contract.match(method, self.contract.base_path + path)
        if found is None or found.operation is None:
            return Verdict("read", "no such operation: the target answers 404 or 405")
        op = found.operation
        if method not in WRITE_METHODS:
            return Verdict("read", f"{method} is a read", op)
        problem = self._missing_parameter(op, query, headers) or self._body_problem(op, headers, body)
        if problem:
            return Verdict("refused", problem, op)
        return Verdict("write", "a lenient target could act on it", op, self._needs_coercion(op, body))

    def _needs_coercion(self, op: Operation, body: bytes | None) -> bool:
        """A body a conforming (strict) service refuses, which only lax coercion repairs."""
        if not body or self._body_schema(op) is None:
            return False
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            return False
        # Compared as JSON: in Python False == 0, and the coercion is exactly that difference.
        coerced = self.coerce(op, parsed)
        return json.dumps(coerced, sort_keys=True) != json.dumps(parsed, sort_keys=True)

    def body_problems(self, op: Operation, body: Any) -> list[str]:
        """Why a lenient target refuses this (parsed) body; empty when it could accept it."""
        schema = self._body_schema(op)
        if schema is None:
            return []
        return self.lax.problems(schema, body)

    def coerce(self, op: Operation, body: Any) -> Any:
        schema = self._body_schema(op)
        return body if schema is None else self.lax.coerce(schema, body)

    @staticmethod
    def _missing_parameter(op: Operation, query: str, headers: Mapping[str, str]) -> str | None:
        names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
        lowered = {name.lower() for name in headers}
        for parameter in op.parameters:
            if not parameter.required:
                continue
            if parameter.location == "query" and parameter.name not in names:
                return f"required query parameter {parameter.name!r} missing"
            if parameter.location == "header" and parameter.name.lower() not in lowered:
                return f"required header {parameter.name!r} missing"
        return None

    def _body_problem(self, op: Operation, headers: Mapping[str, str], body: bytes | None) -> str | None:
        raw = _deref(self.contract.document, op.raw.get("requestBody"))
        if not isinstance(raw, Mapping):
            return None  # no declared body: whatever is sent, the operation can run
        content = raw.get("content") or {}
        if not body:
            return "the required body is missing" if raw.get("required") else None
        if not content or not all(_is_json(media_type) for media_type in content):
            return None  # forms, files, text: a lenient target may take anything
        try:
            # Bytes in: json.loads detects UTF-8/16/32 itself and, like the service, takes NaN.
            parsed = json.loads(body)
        except UnicodeDecodeError:
            return "the body is not UTF-8"
        except ValueError:
            return "the body is not JSON"
        except RecursionError:
            return "the body nests too deeply to parse"
        problems = self.body_problems(op, parsed)
        return problems[0] if problems else None

    def _body_schema(self, op: Operation) -> Any:
        raw = _deref(self.contract.document, op.raw.get("requestBody"))
        if not isinstance(raw, Mapping):
            return None
        for media_type, entry in (raw.get("content") or {}).items():
            if _is_json(media_type) and isinstance(entry, Mapping) and "schema" in entry:
                return entry["schema"]
        return None


def _is_json(media_type: str) -> bool:
    main = media_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or main.endswith("+json")


def _deref(document: Mapping[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            return node
        try:
            node = resolve(document, node["$ref"])
        except KeyError:
            return None
    return None
