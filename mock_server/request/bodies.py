"""YAML, XML and text request bodies → values to validate against their media type's schema.

JSON bodies are `json_body.parse_json`'s, forms are `forms.py`'s. The others are read here:

- YAML (`application/yaml`, `text/yaml`, any `+yaml`): the safe loader, without aliases (a few
  bytes of `&a [*a, *a]` expand exponentially in any walk) and within the body limit, so the
  value is what the same document would be as JSON.
- XML (`application/xml`, `text/xml`, any `+xml`): expat without a DTD (no entity, internal or
  external, is ever expanded), then mapped to a value by the schema as OpenAPI's `xml` object
  says: a property is a child element (or an attribute with `xml.attribute`), named by
  `xml.name` or the property's name; an array's items are repeated elements, inside a wrapper
  with `xml.wrapped`; text becomes an integer, number or boolean where the schema says so. The root
  element's name is not checked. A schema this mapping cannot follow faithfully (`oneOf`, `anyOf`,
  `not`, `patternProperties`, an object's `additionalProperties` schema) is not checked beyond
  well-formedness, and `unchecked` names those operations (the banner prints them in one line).
- Other text types (`text/plain`, `text/csv`, …) with a schema: the text, converted to the
  schema's scalar type as a parameter is.
- Anything else is not read: binary bodies (`format: binary`) have nothing to check, and a body of
  another media type with an object or array schema (protobuf, msgpack) is named in `unchecked`.

Each reader is built once per operation and media type at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from xml.parsers import expat

import yaml

from mock_server.document.refs import schema_at
from mock_server.request.json_body import MAX_DEPTH
from mock_server.request.negotiation import essence
from mock_server.request.parameters import kind_of, scalar
from mock_server.schema.explain import ErrorList, Loc, error
from mock_server.schema.generation import Generator

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
# What a JSON Schema keyword means for an XML mapping this module does not follow.
_UNMAPPED = ("oneOf", "anyOf", "not", "patternProperties", "if", "dependentSchemas")


def is_yaml(media_type: str) -> bool:
    main = essence(media_type)
    return main in YAML_TYPES or main.endswith("+yaml")


def is_xml(media_type: str) -> bool:
    main = essence(media_type)
    return main in XML_TYPES or main.endswith("+xml")


def is_text(media_type: str) -> bool:
    return essence(media_type).startswith("text/")


class Validates(Protocol):
    def errors(self, value: Any, loc: Loc) -> ErrorList: ...


@dataclass(frozen=True, slots=True)
class BodyReader:
    media_type: str
    validator: Validates
    read_value: Callable[[bytes], tuple[Any, str | None]]  # (value, why it could not be read)
    # An empty text body sent as such (with its Content-Type) is the empty string, not a body left out.
    empty_is_a_value: bool = False

    def read(self, raw: bytes) -> tuple[Any, ErrorList]:
        value, problem = self.read_value(raw)
        if problem is not None:
            return None, [error("value_error", ("body",), f"Value error, {problem}", None)]
        return value, self.validator.errors(value, ("body",))


def body_reader(
    media_type: str, schema: Any, validator: Validates, generator: Generator
) -> tuple[BodyReader | None, str | None]:
    """The reader of one declared media type, or (None, why) when its bodies cannot be checked
    against the schema (None, None: a media type this module does not read, e.g. binary)."""
    if is_yaml(media_type):
        return BodyReader(media_type, validator, read_yaml), None
    if is_xml(media_type):
        mapping = _XmlMapping(generator)
        unmapped = mapping.unmapped(schema)
        if unmapped is not None:
            return BodyReader(media_type, _WellFormed(), mapping.reader(schema)), unmapped
        return BodyReader(media_type, validator, mapping.reader(schema)), None
    if is_text(media_type):
        kind = kind_of(schema_at(generator.root, schema))
        if kind in ("object", "array"):
            return None, f"{kind} schema for text"
        return BodyReader(media_type, validator, _text_reader(kind), empty_is_a_value=True), None
    if kind_of(schema_at(generator.root, schema)) in ("object", "array"):
        return None, "a media type the mock does not read"  # (protobuf, msgpack, …)
    return None, None  # binary: `format: binary`, or no type at all


class _WellFormed:
    """The validator of an XML body whose schema is not mapped: it is parsed, not checked."""

    def errors(self, value: Any, loc: Loc) -> ErrorList:
        return []


def _text_reader(kind: str) -> Callable[[bytes], tuple[Any, str | None]]:
    def read(raw: bytes) -> tuple[Any, str | None]:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"the body is not UTF-8 (byte {exc.start})"
        return scalar(kind, text)[0], None

    return read


# --- YAML ----------------------------------------------------------------------------------------

_YAML_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoAlias(Exception):
    pass


def read_yaml(raw: bytes) -> tuple[Any, str | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"the body is not UTF-8 (byte {exc.start})"
    if text.count("[") + text.count("{") + text.count("\n") > 4 * MAX_DEPTH and _too_deep(text):
        return None, f"the body is nested deeper than {MAX_DEPTH} levels"
    try:
        loader = _YAML_BASE(text)
        try:
            value = loader.get_single_data()
        finally:
            loader.dispose()
        return _jsonable(value, set()), None
    except _NoAlias:
        return None, "YAML aliases (*name) are not accepted in a request body"
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return None, f"the body is not valid YAML: {exc.problem or 'unreadable'}{where}"
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None, "the body is not valid YAML"


def _too_deep(text: str) -> bool:
    # Flow collections open with brackets, block ones with indentation: either bounds the depth.
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    widest = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    return widest > 2 * MAX_DEPTH


def _jsonable(value: Any, seen: set[int]) -> Any:
    """YAML's own types (dates, binary, non-string keys) as JSON would hold them. A collection
    met twice came from an alias (`&a [x]`, then `*a`): refused, as the loader shares it and a walk
    of `&a [x, x]`, `&b [*a, *a]`, … doubles at each level."""
    if isinstance(value, dict | list):
        if id(value) in seen:
            raise _NoAlias
        seen.add(id(value))
        if isinstance(value, dict):
            return {str(key): _jsonable(item, seen) for key, item in value.items()}
        return [_jsonable(item, seen) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)  # dates and times: their ISO text


# --- XML -----------------------------------------------------------------------------------------


class _Element:
    __slots__ = ("attributes", "children", "name", "text")

    def __init__(self, name: str, attributes: dict[str, str]) -> None:
        self.name = _local(name)
        self.attributes = {_local(key): value for key, value in attributes.items()}
        self.children: list[_Element] = []
        self.text: list[str] = []


def _local(name: str) -> str:
    """`{urn:x}pet` or `x:pet` → `pet`: names are compared without their namespace."""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


class _Refused(Exception):
    pass


def parse_xml(raw: bytes) -> tuple[_Element | None, str | None]:
    parser = expat.ParserCreate()
    stack: list[_Element] = []
    root: list[_Element] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise _Refused(f"the body is nested deeper than {MAX_DEPTH} levels")
        element = _Element(name, attributes)
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    def doctype(*args: Any) -> None:
        raise _Refused("a DOCTYPE is not accepted in a request body (no entity is expanded)")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(raw, True)
    except _Refused as exc:
        return None, str(exc)
    except expat.ExpatError as exc:
        return None, f"the body is not well-formed XML: {expat.ErrorString(exc.code)} (line {exc.lineno})"
    return (root[0] if root else None), None if root else "the body is not XML"


class _XmlMapping:
    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        resolved = schema_at(self.generator.root, schema)
        if not isinstance(resolved, dict):
            return {}
        parts = resolved.get("allOf")
        if not isinstance(parts, list) or depth > 20:  # (`allOf: [{$ref: <itself>}]` is legal)
            return resolved
        merged: dict[str, Any] = {k: v for k, v in resolved.items() if k != "allOf"}
        for part in parts:
            found = self.resolve(part, depth + 1)
            merged["properties"] = {**(merged.get("properties") or {}), **(found.get("properties") or {})}
            for key, value in found.items():
                merged.setdefault(key, value)
        return merged

    def unmapped(self, schema: Any) -> str | None:
        """The first keyword on the way that this mapping cannot follow, or None."""
        seen: set[int] = set()
        stack = [schema]
        while stack:
            node = self.resolve(stack.pop())
            if id(node) in seen:
                continue
            seen.add(id(node))
            for key in _UNMAPPED:
                if key in node:
                    return key
            if isinstance(node.get("additionalProperties"), dict) and node["additionalProperties"]:
                return "additionalProperties"
            stack.extend((node.get("properties") or {}).values())
            if isinstance(node.get("items"), dict):
                stack.append(node["items"])
        return None

    def reader(self, schema: Any) -> Callable[[bytes], tuple[Any, str | None]]:
        def read(raw: bytes) -> tuple[Any, str | None]:
            root, problem = parse_xml(raw)
            if root is None:
                return None, problem
            return self.value(root, schema), None

        return read

    def value(self, element: _Element, schema: Any) -> Any:
        resolved = self.resolve(schema)
        kind = kind_of(resolved)
        if kind == "object" or (not kind and (element.children or element.attributes)):
            return self._object(element, resolved)
        if kind == "array":
            items = resolved.get("items", {})
            return [self.value(child, items) for child in element.children]
        text = "".join(element.text)
        return scalar(kind, text.strip() if kind in ("integer", "number", "boolean") else text)[0]

    def _object(self, element: _Element, schema: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        known: set[str] = set()
        for name, sub in (schema.get("properties") or {}).items():
            prop = self.resolve(sub)
            xml: dict[str, Any] = prop["xml"] if isinstance(prop.get("xml"), dict) else {}
            tag = str(xml.get("name") or name)
            known.add(tag)
            if xml.get("attribute") is True:
                if tag in element.attributes:
                    out[name] = self._scalar(element.attributes[tag], prop)
                continue
            if kind_of(prop) == "array":
                items = self.resolve(prop.get("items", {}))
                item_xml: dict[str, Any] = items["xml"] if isinstance(items.get("xml"), dict) else {}
                if xml.get("wrapped") is True:
                    wrapper = next((c for c in element.children if c.name == tag), None)
                    if wrapper is not None:
                        out[name] = [self.value(c, items) for c in wrapper.children]
                    continue
                item_tag = str(item_xml.get("name") or tag)
                known.add(item_tag)
                found = [c for c in element.children if c.name == item_tag]
                if found:
                    out[name] = [self.value(c, items) for c in found]
                continue
            child = next((c for c in element.children if c.name == tag), None)
            if child is not None:
                out[name] = self.value(child, prop)
        for child in element.children:  # elements the schema does not name: kept, as text
            if child.name not in known:
                out.setdefault(child.name, "".join(child.text))
        return out

    def _scalar(self, text: str, schema: dict[str, Any]) -> Any:
        kind = kind_of(schema)
        return scalar(kind, text.strip() if kind in ("integer", "number", "boolean") else text)[0]
