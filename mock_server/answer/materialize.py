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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.document.refs import follow, schema_at

Shape = Callable[[Any], Any]


def identity(value: Any) -> Any:
    return value


class Materializer:
    """`root`: what the schemas' references name (the document's normalized schemas)."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        # Each schema object is compiled once, by identity (kept alive with its shape); one being
        # compiled further up the stack (a recursive schema) is called through its entry when done.
        self._compiled: dict[int, tuple[Any, Shape]] = {}
        self._compiling: set[int] = set()
        self._depth = 0
        self._models: dict[Shape, _Model] = {}  # the shapes of object schemas, and what they do

    def compile(self, schema: Any) -> Shape:
        if not isinstance(schema, dict):
            return identity
        key = id(schema)
        found = self._compiled.get(key)
        if found is not None:
            return found[1]
        if key in self._compiling:  # a recursive schema: what it will be, called when it is
            return lambda value: self._compiled[key][1](value)
        if self._depth >= _MAX_DEPTH:
            return identity  # values nested deeper are kept as sent (validated all the same)
        self._compiling.add(key)
        self._depth += 1
        try:
            shape = self._compile_one(schema)
        finally:
            self._depth -= 1
            self._compiling.discard(key)
        self._compiled[key] = (schema, shape)
        return shape

    def _compile_one(self, schema: dict[str, Any]) -> Shape:
        if set(schema) == {"$ref"}:
            return self.compile(follow(self.root, schema))
        schema = schema_at(self.root, schema)
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
            resolved = schema_at(self.root, branch)
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
        if arr is None and obj in self._models:
            return obj  # a model's shape already leaves anything but an object as it is
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
        fields = []
        for name, sub in schema["properties"].items():
            resolved = schema_at(self.root, sub)
            compiled = self.compile(sub)
            if isinstance(resolved, dict) and "default" in resolved:
                fill = resolved["default"]
                # defaults are mutable and the answer is the caller's to change
                kind = ("copy" if fill else "empty") if isinstance(fill, dict | list) else "value"
                fields.append(_Field(name, compiled, kind, fill))
            elif _nullable(resolved, self.root):
                fields.append(_Field(name, compiled, "value", None))
            else:
                fields.append(_Field(name, compiled, "", None))
        # pydantic drops undeclared keys unless the model says it keeps them
        keep = schema.get("additionalProperties") not in (None, False)
        model = _Model(fields, frozenset(schema["properties"]) if keep else None)
        shape = _Source().function(model, self._models)
        self._models[shape] = model
        return shape


@dataclass(frozen=True)
class _Field:
    name: str
    shape: Shape
    fill: str  # "": none when absent; "value": `default` itself; "empty": a new empty one; "copy"
    default: Any


@dataclass(frozen=True)
class _Model:
    fields: list[_Field]
    declared: frozenset[str] | None  # None: undeclared keys are dropped


# How much of the models below a model is written into its own function (the rest is called):
# calls cost as much as the fields they shape, and a document's models may nest deep or wide.
_INLINE_DEPTH = 4
# Schemas compiled within one another; a request's values nest at most 200 levels (json_body.py)
# and models rarely more than a dozen: values below this depth are kept as sent.
_MAX_DEPTH = 64
_INLINE_FIELDS = 200


class _Source:
    """The text of one model's function. Values (names, defaults, other shapes) are bound in its
    namespace under generated names: nothing from the document is ever spliced into the text."""

    def __init__(self) -> None:
        self.lines = ["def shape(value):", "    if not isinstance(value, dict):", "        return value"]
        self.namespace: dict[str, Any] = {"_ABSENT": _ABSENT, "_deepcopy": copy.deepcopy}
        self.count = 0
        self.fields = 0

    def bind(self, value: Any) -> str:
        self.count += 1
        name = f"_c{self.count}"
        self.namespace[name] = value
        return name

    def function(self, model: _Model, models: dict[Shape, _Model]) -> Shape:
        self.emit(model, models, "value", "out", 1)
        self.lines.append("    return out")
        exec("\n".join(self.lines), self.namespace)  # the source is fixed text: values are bound
        shape: Shape = self.namespace["shape"]
        return shape

    def emit(self, model: _Model, models: dict[Shape, _Model], src: str, dst: str, depth: int) -> None:
        pad = "    " * depth
        add = self.lines.append
        add(f"{pad}{dst} = {{}}")
        for field in model.fields:
            self.fields += 1
            self.count += 1
            key, value = self.bind(field.name), f"v{self.count}"
            if field.shape is identity and field.fill == "value":  # the value as given, or the default
                default = "" if field.default is None else f", {self.bind(field.default)}"
                add(f"{pad}{dst}[{key}] = {src}.get({key}{default})")
                continue
            add(f"{pad}{value} = {src}.get({key}, _ABSENT)")
            add(f"{pad}if {value} is not _ABSENT:")
            inner = models.get(field.shape)
            if field.shape is identity:
                add(f"{pad}    {dst}[{key}] = {value}")
            elif inner is not None and depth < _INLINE_DEPTH and self.fields < _INLINE_FIELDS:
                shaped = f"o{self.count}"  # the model's own function, written out here
                add(f"{pad}    if isinstance({value}, dict):")
                self.emit(inner, models, value, shaped, depth + 2)
                add(f"{pad}        {value} = {shaped}")
                add(f"{pad}    {dst}[{key}] = {value}")
            else:
                add(f"{pad}    {dst}[{key}] = {self.bind(field.shape)}({value})")
            if field.fill == "value":
                add(f"{pad}else:")
                add(f"{pad}    {dst}[{key}] = {self.bind(field.default)}")
            elif field.fill:
                made = (
                    f"_deepcopy({self.bind(field.default)})"
                    if field.fill == "copy"
                    else f"{self.bind(type(field.default))}()"
                )
                add(f"{pad}else:")
                add(f"{pad}    {dst}[{key}] = {made}")
        if model.declared is not None:
            self.count += 1
            name, item = f"k{self.count}", f"x{self.count}"
            add(f"{pad}for {name}, {item} in {src}.items():")
            add(f"{pad}    if {name} not in {self.bind(model.declared)}:")
            add(f"{pad}        {dst}[{name}] = {item}")


_ABSENT = object()


def _nullable(schema: Any, root: Mapping[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return any(isinstance(b := schema_at(root, x), dict) and b.get("type") == "null" for x in branches)
