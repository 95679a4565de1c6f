"""materialize.py: the generated functions do what the plain closures they replaced did.

`Reference` below is the Materializer as it was before its functions were generated (commit
324d96e, closures over a field table). Both run on values of every component schema of five
documents and of hand-made schemas (recursive, deep, wide, unions of objects and arrays), valid
and broken, and must give equal values with keys in the same order.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from mock_server import Contract, load_contract
from mock_server.answer.materialize import _INLINE_DEPTH, _INLINE_FIELDS, Materializer
from mock_server.document.refs import schema_at
from mock_server.schema.generation import Generator

DATA = Path(__file__).parents[1] / "data"
DOCS = Path(__file__).parents[1] / "documents"
Shape = Any


class Reference:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._refs: dict[str, Shape] = {}

    def compile(self, schema: Any) -> Shape:
        if isinstance(schema, dict) and set(schema) == {"$ref"}:
            ref = schema["$ref"]
            if ref in self._refs:
                return lambda value: self._refs[ref](value)
            self._refs[ref] = _identity
            compiled = self.compile(schema_at(self.root, schema))
            self._refs[ref] = compiled
            return compiled
        schema = schema_at(self.root, schema)
        if not isinstance(schema, dict):
            return _identity
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return self._union(branches)
        if schema.get("properties"):
            return self._model(schema)
        if isinstance(schema.get("items"), dict):
            item = self.compile(schema["items"])
            if item is _identity:
                return _identity
            return lambda value: [item(v) for v in value] if isinstance(value, list) else value
        return _identity

    def _union(self, branches: list[Any]) -> Shape:
        by_kind: list[tuple[str, Shape]] = []
        for branch in branches:
            resolved = schema_at(self.root, branch)
            if isinstance(resolved, dict) and resolved.get("type") != "null":
                kind = "object" if "properties" in resolved else str(resolved.get("type", ""))
                by_kind.append((kind, self.compile(branch)))
        if all(branch is _identity for _, branch in by_kind):
            return _identity

        def shape(value: Any) -> Any:
            kind = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else ""
            for branch_kind, branch in by_kind:
                if branch_kind == kind:
                    return branch(value)
            return value

        return shape

    def _model(self, schema: dict[str, Any]) -> Shape:
        fields: list[tuple[str, Shape | None, bool, Any]] = []
        for name, sub in schema["properties"].items():
            resolved = schema_at(self.root, sub)
            has_default = isinstance(resolved, dict) and "default" in resolved
            if has_default:
                fill: Any = resolved["default"]
            elif _nullable(resolved, self.root):
                fill, has_default = None, True
            else:
                fill = None
            compiled = self.compile(sub)
            fields.append((name, None if compiled is _identity else compiled, has_default, fill))
        keep_extra = schema.get("additionalProperties") not in (None, False)
        declared = set(schema["properties"])

        def shape(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out: dict[str, Any] = {}
            for name, sub, has_default, fill in fields:
                if name in value:
                    out[name] = value[name] if sub is None else sub(value[name])
                elif has_default:
                    out[name] = (
                        (copy.deepcopy(fill) if fill else type(fill)())
                        if isinstance(fill, dict | list)
                        else fill
                    )
            if keep_extra:
                out.update((k, v) for k, v in value.items() if k not in declared)
            return out

        return shape


def _identity(value: Any) -> Any:
    return value


def _nullable(schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return any(isinstance(b := schema_at(root, x), dict) and b.get("type") == "null" for x in branches)


def ordered(value: Any) -> str:
    # Equal values with keys in the same order: the text of each, keys as they come.
    return json.dumps(value, default=repr)


def broken(value: Any, draw: random.Random, depth: int = 0) -> Any:
    """`value` with keys left out, undeclared ones added, and some values of another kind."""
    if isinstance(value, dict):
        out = {k: broken(v, draw, depth + 1) for k, v in value.items() if draw.random() > 0.2}
        if draw.random() < 0.3:
            out[f"undeclared_{depth}"] = {"kept": draw.random() < 0.5}
        if draw.random() < 0.1:
            out = dict(reversed(list(out.items())))
        return out
    if isinstance(value, list):
        return [broken(v, draw, depth + 1) for v in value]
    return draw.choice([value, value, value, None, [value], {"x": value}])


def _deep(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {"end": {"type": "string", "default": "x"}}}
    for level in range(levels):
        schema = {
            "type": "object",
            "properties": {"down": schema, f"n{level}": {"type": ["integer", "null"]}},
            "additionalProperties": level % 2 == 0,
        }
    return schema


EDGE: dict[str, Any] = {
    "components": {
        "schemas": {
            "Tree": {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "default": "root"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
                    "parent": {"anyOf": [{"$ref": "#/components/schemas/Tree"}, {"type": "null"}]},
                },
            },
            "Either": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "pick": {
                        "anyOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}},
                            {"$ref": "#/components/schemas/Leaf"},
                            {"type": "object", "properties": {"other": {"type": "integer", "default": 3}}},
                        ]
                    },
                    "arrays": {"oneOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}}]},
                    "tags": {"type": "array", "default": ["a", {"b": [1]}]},
                    "meta": {"type": "object", "default": {"deep": {"list": [1, 2]}}},
                    "empty_list": {"type": "array", "default": []},
                    "maybe": {"type": ["string", "null"]},
                    "plain": {"type": "string"},
                },
            },
            "Leaf": {
                "type": "object",
                "properties": {"v": {"type": "integer", "default": 0}, "w": {"oneOf": [{"type": "null"}]}},
            },
            "Deep": _deep(_INLINE_DEPTH + 3),
            "Wide": {
                "type": "object",
                "properties": {
                    f"f{i}": {"$ref": "#/components/schemas/Leaf"} for i in range(_INLINE_FIELDS // 2 + 5)
                },
            },
        }
    }
}


DOCUMENTS = {
    "shop": DATA / "shop-3.0.yaml",
    "real-world": DOCS / "real-world-excerpts.yaml",
    "petstore-errors": DOCS / "petstore-errors.yaml",
    "oneof-overlap": DOCS / "oneof-overlap.yaml",
}


@pytest.fixture(scope="module", params=["bundled", *DOCUMENTS, "edge"])
def document(request: pytest.FixtureRequest, contract: Contract) -> dict[str, Any]:
    if request.param == "bundled":
        return contract.schema_root
    if request.param == "edge":
        return EDGE
    return load_contract(DOCUMENTS[request.param]).schema_root


def test_generated_shapes_equal_the_closures_they_replaced(document: dict[str, Any]) -> None:
    names = list((document.get("components") or {}).get("schemas") or {})
    assert names
    draw = random.Random(4)
    compared = 0
    for name in names:
        schema = {"$ref": f"#/components/schemas/{name}"}
        # Each side gets its own generator and compiler state, as an engine would.
        new = Materializer(document).compile(schema)
        old = Reference(document).compile(schema)
        values = Generator(document, response=False, optional=0.5)
        for seed in range(25):
            value = values.instance(schema, random.Random(seed))
            for candidate in (value, broken(value, draw), None, [value], "text"):
                assert ordered(new(candidate)) == ordered(old(candidate)), (name, candidate)
                compared += 1
    assert compared >= 25 * 5 * len(names)


def test_a_default_is_a_fresh_copy_in_every_value() -> None:
    shape = Materializer(EDGE).compile({"$ref": "#/components/schemas/Either"})
    first, second = shape({}), shape({})
    assert first["tags"] == ["a", {"b": [1]}] and first["meta"] == {"deep": {"list": [1, 2]}}
    first["tags"][1]["b"].append(2)
    first["meta"]["deep"]["list"].clear()
    first["empty_list"].append(1)
    assert second["tags"] == ["a", {"b": [1]}] and second["meta"] == {"deep": {"list": [1, 2]}}
    assert shape({})["empty_list"] == [] and second["empty_list"] is not first["empty_list"]


def test_names_and_values_never_become_code() -> None:
    # Property names that would break or inject code if they were written into the source.
    tricky = ["a'b", 'c"d', "e\\nf", "g\n)\nimport os  #", "__import__('os')", "", "é ü", "k" * 300]
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", "default": name + "!"} for name in tricky},
    }
    shape = Materializer({}).compile(schema)
    assert shape({}) == {name: name + "!" for name in tricky}
    assert shape({tricky[3]: "given"})[tricky[3]] == "given"
