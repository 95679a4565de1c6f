"""What a lenient service would accept: pydantic's lax mode, over-approximated.

The real service is FastAPI with pydantic in lax mode: it turns `"5"` into 5, `false` into 0,
`1.0` into 1 and `"true"` into true before it validates. Two parts of the suite need to know
what such a service accepts:

- the safety rule of a live run (a request a lenient service *could* act on is a write), which
  must never say "rejected" for something a lenient service accepts; and
- the known deviations of the framework (an accepted `"retry_limit": false`, echoed as 0), which
  are shown apart instead of failing the run.

So every rule here errs towards acceptance: where pydantic's behaviour is uncertain, the value
is taken as accepted. Only what no lax coercion repairs is refused: a missing required property,
a JSON type that no coercion turns into the declared one, a number outside its bounds, a length
outside its limits. Patterns, formats and unknown properties are not checked (pydantic ignores
extra properties, and a lenient service may skip the rest).

`lax_problems(schema, value)` lists the reasons a value is refused (empty: it could be accepted),
`lax_coerce(schema, value)` gives the value as such a service would see it. Schemas are the
document's JSON Schemas; `$ref`s are resolved against `root`, the whole document.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mock_server.document.refs import resolve

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})
_MAX_DEPTH = 64  # a document's own recursion, or a hostile value, stops here (taken as accepted)
_ANY = object()  # "could not coerce": never equal to a JSON value


class Lax:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def problems(self, schema: Any, value: Any, where: str = "") -> list[str]:
        out: list[str] = []
        self._check(schema, value, where or "/", out, 0)
        return out

    def coerce(self, schema: Any, value: Any) -> Any:
        """`value` as a lax service sees it; unchanged where nothing applies or it is refused."""
        return self._coerce(schema, value, 0)

    # -- resolution ------------------------------------------------------------------------

    def _resolve(self, schema: Any, depth: int = 0) -> Any:
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and depth < _MAX_DEPTH:
            ref = schema["$ref"]
            if not ref.startswith("#"):
                return {}  # another file: unknown, so anything goes
            try:
                node: Any = resolve(self.root, ref)
            except KeyError:
                return {}
            if len(schema) > 1:  # 3.1: siblings of $ref apply too
                node = {"allOf": [node, {k: v for k, v in schema.items() if k != "$ref"}]}
            schema = node
            depth += 1
        return schema

    # -- acceptance ------------------------------------------------------------------------

    def _check(self, schema: Any, value: Any, where: str, out: list[str], depth: int) -> None:
        schema = self._resolve(schema)
        if depth > _MAX_DEPTH or not isinstance(schema, Mapping):
            return
        for branch in schema.get("allOf") or ():
            self._check(branch, value, where, out, depth + 1)
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if branches:
                # oneOf taken as anyOf: a value matching two branches is still accepted by many.
                tried = [self._sub(branch, value, where, depth) for branch in branches]
                if all(tried):
                    out.append(min(tried, key=len)[0])
        if value is None:
            if not _allows_null(schema):
                types = _types(schema)
                if types and "null" not in types:
                    out.append(f"{where}: null where {'/'.join(sorted(types))} is required")
            return
        types = _types(schema)
        if types:
            kinds = [t for t in types if _coerce_scalar(t, value) is not _ANY]
            if not kinds:
                out.append(f"{where}: {_json_type(value)} cannot become {'/'.join(sorted(types))}")
                return
            value = _coerce_scalar(kinds[0], value)
        if "enum" in schema and not any(_same(value, member) for member in schema["enum"] or ()):
            out.append(f"{where}: {value!r} is not one of the allowed values")
        if "const" in schema and not _same(value, schema["const"]):
            out.append(f"{where}: {value!r} is not the required constant")
        if _is_number(value):
            self._bounds(schema, value, where, out)
        if isinstance(value, str):
            if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
                out.append(f"{where}: shorter than {schema['minLength']}")
            if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
                out.append(f"{where}: longer than {schema['maxLength']}")
        if isinstance(value, list):
            if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
                out.append(f"{where}: fewer than {schema['minItems']} items")
            if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
                out.append(f"{where}: more than {schema['maxItems']} items")
            items = schema.get("items")
            prefix = schema.get("prefixItems") or []
            for index, item in enumerate(value):
                sub = prefix[index] if index < len(prefix) else items
                if isinstance(sub, Mapping):
                    self._check(sub, item, f"{where.rstrip('/')}/{index}", out, depth + 1)
        if isinstance(value, dict):
            for name in schema.get("required") or ():
                if name not in value:
                    out.append(f"{where.rstrip('/')}/{_escape(str(name))}: required property missing")
            properties = schema.get("properties") or {}
            for name, sub in properties.items():
                if name in value:
                    self._check(sub, value[name], f"{where.rstrip('/')}/{_escape(name)}", out, depth + 1)

    def _sub(self, schema: Any, value: Any, where: str, depth: int) -> list[str]:
        out: list[str] = []
        self._check(schema, value, where, out, depth + 1)
        return out

    @staticmethod
    def _bounds(schema: Mapping[str, Any], value: float, where: str, out: list[str]) -> None:
        # (keyword, is the value out of bounds, wording); 3.0's boolean exclusive* are not bounds
        # Comparisons, not subtraction: a 5000-digit integer against a float bound stays exact.
        bound: Any
        for keyword, words in (
            ("minimum", "is less than"),
            ("maximum", "is greater than"),
            ("exclusiveMinimum", "is not greater than"),
            ("exclusiveMaximum", "is not less than"),
        ):
            bound = schema.get(keyword)
            if not _is_number(bound):
                continue  # 3.0's boolean exclusive* are flags, not bounds
            beyond = {
                "minimum": value < bound,
                "maximum": value > bound,
                "exclusiveMinimum": value <= bound,
                "exclusiveMaximum": value >= bound,
            }[keyword]
            if beyond:
                out.append(f"{where}: {_short(value)} {words} {bound}")

    # -- coercion ----------------------------------------------------------------------------

    def _coerce(self, schema: Any, value: Any, depth: int) -> Any:
        schema = self._resolve(schema)
        if depth > _MAX_DEPTH or not isinstance(schema, Mapping) or value is None:
            return value
        for keyword in ("anyOf", "oneOf"):
            for branch in schema.get(keyword) or ():
                if not self.problems(branch, value):
                    return self._coerce(branch, value, depth + 1)
        for branch in schema.get("allOf") or ():
            value = self._coerce(branch, value, depth + 1)
        types = _types(schema)
        exact = _json_type(value) in types and not (isinstance(value, float) and "number" not in types)
        if types and not exact:
            for kind in sorted(types):
                coerced = _coerce_scalar(kind, value)
                if coerced is not _ANY:
                    value = coerced
                    break
        if isinstance(value, dict):
            properties = schema.get("properties") or {}
            return {
                k: self._coerce(properties[k], v, depth + 1) if k in properties else v
                for k, v in value.items()
            }
        if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            return [self._coerce(schema["items"], item, depth + 1) for item in value]
        return value


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {str(t) for t in declared}
    return set()


def _allows_null(schema: Mapping[str, Any]) -> bool:
    if schema.get("nullable") is True:
        return True
    types = _types(schema)
    return not types or "null" in types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _coerce_scalar(kind: str, value: Any) -> Any:
    """`value` turned into JSON type `kind` as pydantic's lax mode (or something laxer) would."""
    if kind == "object":
        return value if isinstance(value, dict) else _ANY
    if kind == "array":
        return value if isinstance(value, list) else _ANY
    if kind == "null":
        return value if value is None else _ANY
    if isinstance(value, dict | list) or value is None:
        return _ANY
    if kind == "string":
        # pydantic refuses numbers for strings; laxer services accept them, so they count as accepted.
        return (
            value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        )
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if _is_number(value) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        return _ANY
    number = _as_number(value)
    if number is _ANY:
        return _ANY
    if kind == "integer":
        if isinstance(number, float):
            if not math.isfinite(number) or not number.is_integer():
                return _ANY
            return int(number)
        return number
    if kind == "number":
        return number
    return _ANY


def _as_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if _is_number(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return _ANY
    return _ANY


def _same(value: Any, member: Any) -> bool:
    if value == member and type(value) is type(member):
        return True
    if isinstance(value, str) and isinstance(member, str):
        return value.strip().lower() == member.strip().lower()
    return _is_number(value) and _is_number(member) and value == member


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"  # repr() refuses past 4300 digits
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")
