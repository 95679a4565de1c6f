"""Parameters as they travel → values to validate: OpenAPI's `style`/`explode` decoded, then text
converted the way pydantic's lax mode converts it for FastAPI.

| style | in | array `[3,4]` | object `{a:1,b:2}` (explode=false / true) |
|---|---|---|---|
| form (query, cookie default) | query, cookie | `id=3,4` / `id=3&id=4` | `id=a,1,b,2` / `a=1&b=2` |
| simple (path, header default) | path, header | `3,4` | `a,1,b,2` / `a=1,b=2` |
| label | path | `.3,4` / `.3.4` | `.a,1,b,2` / `.a=1.b=2` |
| matrix | path | `;id=3,4` / `;id=3;id=4` | `;id=a,1,b,2` / `;a=1;b=2` |
| spaceDelimited, pipeDelimited | query | `id=3%204`, `id=3|4` | — |
| deepObject | query | — | `id[a]=1&id[b]=2` |

A decoder is built once per parameter at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.document.refs import schema_at

Coercer = Callable[[Any], "tuple[Any, tuple[str, str] | None]"]
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
_DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True, slots=True)
class Decoder:
    name: str
    location: str
    style: str
    explode: bool
    kind: str  # "array", "object", or a primitive's JSON type ("" when unknown)
    properties: tuple[str, ...]  # an exploded form object's keys
    json_content: bool  # described by `content: application/json`: the value is JSON text

    def query(self, pairs: Mapping[str, list[str]]) -> Any:
        """From the query's values by name; None: absent."""
        if self.kind == "object" and self.style == "deepObject":
            prefix = self.name + "["
            found = {
                k[len(prefix) : -1]: v[-1]
                for k, v in pairs.items()
                if k.startswith(prefix) and k.endswith("]")
            }
            return found or None
        if self.kind == "object" and self.explode and self.style == "form":
            found = {k: pairs[k][-1] for k in self.properties if k in pairs}
            return found or None
        values = pairs.get(self.name)
        if values is None:
            return None
        if self.json_content:
            return _json(values[-1])
        if self.kind == "array":
            if self.explode:
                return values
            delimiter = _DELIMITERS.get(self.style, ",")
            return [part for value in values for part in _split(value, delimiter)]
        if self.kind == "object":
            return _pairs(_split(values[-1], _DELIMITERS.get(self.style, ",")))
        return values[-1]

    def text(self, raw: str) -> Any:
        """A path, header or cookie value."""
        if self.json_content:
            return _json(raw)
        if self.location == "path" and self.style == "label":
            if not raw.startswith("."):
                return raw  # not label-encoded: left for validation to refuse
            raw = raw[1:]
            separator = "." if self.explode else ","
            return self._compound(raw.split(separator) if self.kind in ("array", "object") else [raw])
        if self.location == "path" and self.style == "matrix":
            if not raw.startswith(";"):
                return raw
            parts = raw[1:].split(";")
            if self.kind == "object" and self.explode:
                return dict(part.partition("=")[::2] for part in parts)
            values = [part.partition("=")[2] for part in parts if part.partition("=")[0] == self.name]
            if self.kind == "array":
                return values if self.explode else [v for value in values for v in _split(value, ",")]
            if self.kind == "object":
                return _pairs(_split(values[0], ",")) if values else {}
            return values[0] if values else raw
        if self.kind == "array":
            return _split(raw, ",")
        if self.kind == "object":
            parts = _split(raw, ",")
            return dict(p.partition("=")[::2] for p in parts) if self.explode else _pairs(parts)
        return raw

    def _compound(self, parts: list[str]) -> Any:
        if self.kind == "array":
            return parts
        if self.kind == "object":
            return (
                dict(p.partition("=")[::2] for p in parts)
                if self.explode
                else _pairs([x for p in parts for x in p.split(",")])
            )
        return parts[0]


def decoder(raw: Mapping[str, Any], schema: Any, root: Mapping[str, Any]) -> Decoder:
    """`root`: what the schema's references name (the document's normalized schemas)."""
    location = str(raw.get("in", "query"))
    style = str(raw.get("style") or _DEFAULT_STYLE.get(location, "form"))
    explode = raw.get("explode")
    resolved = schema_at(root, schema)
    content = raw.get("content")
    return Decoder(
        name=str(raw.get("name", "")),
        location=location,
        style=style,
        explode=bool(explode) if explode is not None else style == "form",
        kind=kind_of(resolved),
        properties=tuple((resolved.get("properties") or {}) if isinstance(resolved, dict) else ()),
        json_content=isinstance(content, Mapping) and any("json" in str(m) for m in content),
    )


def _split(value: str, delimiter: str) -> list[str]:
    return value.split(delimiter) if value else []


def _pairs(parts: list[str]) -> dict[str, str]:
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def _json(text: str) -> Any:
    try:
        return _Decoded(json.loads(text))
    except ValueError:
        return text


class _Decoded:
    """A value that arrived as JSON (a `content` parameter): converted no further."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out


def kind_of(schema: Any, depth: int = 0) -> str:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    if kind is None:
        for branch in schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or []:
            found = kind_of(branch, depth + 1)
            if found and found != "null":
                return found
        if "properties" in schema:
            return "object"
    return str(kind or "")


_BOOLEAN = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


# Parameter values are flat text: a form's object or array holds one level of values, a JSON
# `content` value is not converted at all. Schemas nest deeper (and recursive ones without end);
# below this depth, values are left as the text they arrived as, for validation to judge.
_MAX_DEPTH = 8


def coercer(
    schema: Any, root: Mapping[str, Any], accepts: Callable[[Any], bool] | None = None, depth: int = 0
) -> Coercer:
    """Parameters arrive as text: a converter the way pydantic's lax mode converts them for
    FastAPI, built once per parameter (arrays item by item, objects property by property).
    `root`: what the schema's references name.

    A union of scalar types (`anyOf: [integer, string]`, `type: [integer, boolean]`) tries each
    branch's conversion in order: the first value `accepts` (the parameter's schema) takes,
    else the first that converts, so that its schema's errors are the ones reported."""
    if depth > _MAX_DEPTH:
        return _as_sent
    resolved = schema_at(root, schema)
    kinds = _union_kinds(resolved, root)
    if kinds is not None:
        return _union(kinds, accepts)
    kind = kind_of(resolved)
    items = (
        coercer(resolved.get("items", {}), root, depth=depth + 1)
        if kind == "array" and isinstance(resolved, dict)
        else None
    )
    fields = (
        {
            name: coercer(sub, root, depth=depth + 1)
            for name, sub in (resolved.get("properties") or {}).items()
        }
        if kind == "object" and isinstance(resolved, dict)
        else {}
    )

    def convert(raw: Any) -> tuple[Any, tuple[str, str] | None]:
        if isinstance(raw, _Decoded):
            return raw.value, None
        if isinstance(raw, list):
            values = []
            for item in raw:
                value, problem = items(item) if items else (item, None)
                if problem is not None:
                    return raw, problem
                values.append(value)
            return values, None
        if isinstance(raw, dict):
            out = {}
            for name, item in raw.items():
                value, problem = fields[name](item) if name in fields else (item, None)
                if problem is not None:
                    return raw, problem
                out[name] = value
            return out, None
        return scalar(kind, raw)

    return convert


_SCALARS = frozenset({"string", "integer", "number", "boolean"})


def _union_kinds(schema: Any, root: Mapping[str, Any], depth: int = 0) -> list[str] | None:
    """The scalar types a union allows, in the document's order (None: not such a union)."""
    if not isinstance(schema, dict) or depth > 8:  # (a union of itself names no type)
        return None
    kinds: list[str] = []
    declared = schema.get("type")
    if isinstance(declared, list):
        kinds = [str(k) for k in declared if k != "null"]
    else:
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list):
                for branch in branches:
                    resolved = schema_at(root, branch)
                    # (an untyped branch, an `enum` of strings, takes the text as it is)
                    found = _union_kinds(resolved, root, depth + 1) or [kind_of(resolved) or "string"]
                    kinds += [k for k in found if k != "null"]
                break
    unique = list(dict.fromkeys(kinds))
    if len(unique) < 2 or not all(kind in _SCALARS for kind in unique):
        return None
    return unique


def _union(kinds: list[str], accepts: Callable[[Any], bool] | None) -> Coercer:
    def convert(raw: Any) -> tuple[Any, tuple[str, str] | None]:
        if isinstance(raw, _Decoded):
            return raw.value, None
        if not isinstance(raw, str):
            return raw, None
        first: tuple[Any, tuple[str, str] | None] | None = None
        for kind in kinds:
            value, problem = scalar(kind, raw)
            if problem is None:
                if accepts is None or accepts(value):
                    return value, None
                if first is None or first[1] is not None:
                    first = (value, None)
            elif first is None:
                first = (value, problem)
        assert first is not None
        return first

    return convert


def _as_sent(raw: Any) -> tuple[Any, tuple[str, str] | None]:
    return (raw.value if isinstance(raw, _Decoded) else raw), None


def scalar(kind: str, raw: str) -> tuple[Any, tuple[str, str] | None]:
    if kind == "integer":
        try:
            return int(raw.strip()), None
        except ValueError:
            return raw, (
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            )
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw, (
                "float_parsing",
                "Input should be a valid number, unable to parse string as a number",
            )
        if number != number or number in (float("inf"), float("-inf")):
            return raw, ("finite_number", "Input should be a finite number")
        return number, None
    if kind == "boolean":
        if raw.lower() in _BOOLEAN:
            return _BOOLEAN[raw.lower()], None
        return raw, ("bool_parsing", "Input should be a valid boolean, unable to interpret input")
    return raw, None
