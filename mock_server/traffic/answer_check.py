"""Whether an answer keeps to the document: its status declared, its content type, its body's schema.

Used by the proxy on every answer it passes on, and by recording (an answer that breaks the
document is recorded with a note).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mock_server.contract import Contract, Operation, is_json_media_type
from mock_server.schema.validation import SchemaCompiler


class ResponseChecker:
    """The declared statuses, content types and schemas of each operation, compiled once."""

    def __init__(self, contract: Contract) -> None:
        self._validators: dict[tuple[int, str], Any] = {}
        compiler = SchemaCompiler(contract.schema_root)  # components shared, not copied per schema
        for op in contract.operations:
            for status, spec in op.responses.items():
                if spec.schema is not None:
                    self._validators[(id(op), status)] = compiler.fast(spec.schema)

    def violations(self, op: Operation, status: int, content_type: str, body: bytes) -> list[str]:
        declared = _declared(op, status)
        if declared is None:
            return [f"status {status} is not documented (documented: {', '.join(op.responses)})"]
        spec = op.responses[declared]
        if spec.schema is None:
            return []
        if not is_json_media_type(content_type):
            return [f"content type {content_type or 'none'!r} where the document declares JSON"]
        try:
            value = json.loads(body)
        except ValueError:
            return ["the body is not valid JSON"]
        validator = self._validators[(id(op), declared)]
        return [
            f"body{_pointer(error.instance_path)}: {error.message}"
            for error in list(validator.iter_errors(value))[:5]
        ]


def _declared(op: Operation, status: int) -> str | None:
    for candidate in (str(status), f"{str(status)[0]}XX", "default"):
        if candidate in op.responses:
            return candidate
    return None


def _pointer(path: Sequence[Any]) -> str:
    return "".join(f"/{part}" for part in path)
