"""Operations that did not change at all, found cheaply so the comparison can skip them.

An operation is unchanged when it is written the same in both documents (same path as written,
same path-level parameters) and everything it reaches through `$ref`s is written the same too,
transitively. Deep equality of parsed JSON is fast; comparing schema by schema is not: a
document of 34,000 operations where one component changed compares only those that reach it.
Anything that could change what an identical operation means (the OpenAPI version, the document's
security requirement, its security schemes) turns the shortcut off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from contract_tests.diff.resolve import Document
from mock_server.document.refs import TooDeep, ref_holders
from mock_server.errors import ContractError


class Unchanged:
    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self.enabled = all(
            _get(old.root, *keys) == _get(new.root, *keys)
            for keys in (("openapi",), ("security",), ("components", "securitySchemes"))
        )
        self._clean: dict[str, bool] = {}

    def same(self, old_parts: list[Any], new_parts: list[Any]) -> bool:
        """Are these parts of an operation, and all they reach, written the same on both sides?"""
        if not self.enabled or old_parts != new_parts:
            return False
        return all(self._target(ref) for ref in _refs(old_parts))

    def _target(self, ref: str) -> bool:
        if not ref.startswith("#"):
            return False
        target = unquote(ref[1:])
        if target in self._clean:
            return self._clean[target]
        self._clean[target] = True  # a cycle back here: judged by the rest of its members
        try:
            old, new = self.old.lookup(target, ""), self.new.lookup(target, "")
        except ContractError:
            self._clean[target] = False
            return False
        clean = old == new and all(self._target(r) for r in _refs(old))
        self._clean[target] = clean
        return clean


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _refs(node: Any) -> set[str]:
    try:
        return {h["$ref"] for h, _ in ref_holders(node) if isinstance(h.get("$ref"), str)}
    except TooDeep:
        return {"(too deep)"}  # not a local reference: never judged the same
