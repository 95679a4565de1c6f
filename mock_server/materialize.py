"""A valid request as the service's models see it: what the answer echoes back.

A pydantic model round-trip fills declared defaults in, sets absent nullable properties to null
and drops undeclared keys of a model. `Materializer` compiles a schema once into a function that
does the same to a value that schema has already validated.

Each object schema becomes one Python function written for its own fields (`exec` of generated
source, as `dataclasses` makes its `__init__`): a loop over a field table costs about twice as
much per field, and a request whose body is new pays it on every answer (bench/stages.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from mock_server.generation import Generator

Shape = Callable[[Any], Any]


def identity(value: Any) -> Any:
    return value


class Materializer:
    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self._refs: dict[str, Shape] = {}

    def compile(self, schema: Any) -> Shape:
        if isinstance(schema, dict) and set(schema) == {"$ref"}:
            ref = schema["$ref"]
            if ref in self._refs:  # compiled, or being compiled: a recursive schema
                return lambda value: self._refs[ref](value)
            self._refs[ref] = identity  # placeholder while compiling
            compiled = self.compile(self.generator.resolve(schema))
            self._refs[ref] = compiled
            return compiled
        schema = self.generator.resolve(schema)
        if not isinstance(schema, dict):
            return identity
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return self._union(branches)
        if schema.get("properties"):
            return self._model(schema)
        if isinstance(schema.get("items"), dict):
            item = self.compile(schema["items"])
            if item is identity:
                return identity
            return lambda value: [item(v) for v in value] if isinstance(value, list) else value
        return identity

    def _union(self, branches: list[Any]) -> Shape:
        # The first non-null branch of the value's JSON kind shapes it, as pydantic's smart union
        # would. Only objects and arrays have a shape: a scalar value is never a branch's kind.
        obj: Shape | None = None
        arr: Shape | None = None
        for branch in branches:
            resolved = self.generator.resolve(branch)
            if isinstance(resolved, dict) and resolved.get("type") != "null":
                kind = "object" if "properties" in resolved else str(resolved.get("type", ""))
                compiled = self.compile(branch)  # compiled even when unused: a `$ref` is remembered
                if kind == "object" and obj is None:
                    obj = compiled
                elif kind == "array" and arr is None:
                    arr = compiled
        obj = None if obj is identity else obj
        arr = None if arr is identity else arr
        if obj is None and arr is None:
            return identity
        if arr is None:
            assert obj is not None
            only = obj
            return lambda value: only(value) if isinstance(value, dict) else value
        if obj is None:
            items = arr
            return lambda value: items(value) if isinstance(value, list) else value
        both_obj, both_arr = obj, arr
        return lambda value: (
            both_obj(value)
            if isinstance(value, dict)
            else both_arr(value)
            if isinstance(value, list)
            else value
        )

    def _model(self, schema: dict[str, Any]) -> Shape:
        namespace: dict[str, Any] = {"_ABSENT": _ABSENT, "_deepcopy": copy.deepcopy}
        lines = [
            "def shape(value):",
            "    if not isinstance(value, dict):",
            "        return value",
            "    get = value.get",
            "    out = {}",
        ]
        for index, (name, sub) in enumerate(schema["properties"].items()):
            resolved = self.generator.resolve(sub)
            compiled = self.compile(sub)
            key = f"_key{index}"
            namespace[key] = name  # names are data, never spliced into the source
            lines.append(f"    v = get({key}, _ABSENT)")
            if compiled is identity:
                lines.append(f"    if v is not _ABSENT: out[{key}] = v")
            else:
                namespace[f"_sub{index}"] = compiled
                lines.append(f"    if v is not _ABSENT: out[{key}] = _sub{index}(v)")
            if isinstance(resolved, dict) and "default" in resolved:
                fill = resolved["default"]
                namespace[f"_fill{index}"] = fill
                if isinstance(fill, dict | list):
                    # defaults are mutable and the answer is the caller's to change
                    made = f"_deepcopy(_fill{index})" if fill else f"_type{index}()"
                    namespace[f"_type{index}"] = type(fill)
                else:
                    made = f"_fill{index}"
                lines.append(f"    else: out[{key}] = {made}")
            elif _nullable(resolved, self.generator):
                lines.append(f"    else: out[{key}] = None")
        if schema.get("additionalProperties") not in (None, False):
            # pydantic drops undeclared keys unless the model says it keeps them
            namespace["_declared"] = frozenset(schema["properties"])
            lines += [
                "    for k, v in value.items():",
                "        if k not in _declared: out[k] = v",
            ]
        lines.append("    return out")
        exec("\n".join(lines), namespace)  # the source is fixed text: names and values are bound
        shape: Shape = namespace["shape"]
        return shape


_ABSENT = object()


def _nullable(schema: Any, generator: Generator) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return any(isinstance(b := generator.resolve(x), dict) and b.get("type") == "null" for x in branches)
