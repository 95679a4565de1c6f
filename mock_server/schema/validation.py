"""Request data → the error list a FastAPI/pydantic v2 service would answer.

Two layers per schema, both built once at start-up:
- a compiled `jsonschema_rs` validator decides *whether* a value is valid (about a microsecond);
- only when it is not, a walker compiled from the same schema explains *why*, with pydantic's
  error types, messages, `loc`, `input` and `ctx`, in document order (explain.py).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import orjson

from mock_server.document.refs import LITERAL_KEYS, NAME_MAPS, reachable
from mock_server.schema.document_patterns import for_validator
from mock_server.schema.explain import FORMAT_RANGES, Check, ErrorList, Explainer, Loc, error

ROOT_URI = "urn:meibel-mock:document"


class SchemaCompiler:
    """Compiles a document's schemas once, and shares what they reference.

    The document's `components` go once into a `jsonschema_rs.Registry`; each request schema is
    compiled against it, with its local `$ref`s pointed at the registry, rather than carrying a
    copy of every component (memory then grew with operations times components). The explaining walker
    is shared too, so each component is compiled once for all operations, and only when first
    needed. Identical schemas (every `{"type": "string"}` path parameter) share one validator.
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._registry: Any = None
        self._explain = Explainer(root)
        self._validators: dict[bytes, SchemaValidator] = {}
        self._checkers: dict[tuple[bool, bytes], Any] = {}
        self._traits: tuple[bool, frozenset[str]] | None = None
        self.large: set[str] = set()  # references that reach many others (see `SchemaValidator`)

    def validator(self, schema: Any) -> SchemaValidator:
        key = _canonical(schema)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = SchemaValidator(schema, self.root, compiler=self)
        return found

    def traits(self, schema: Any) -> tuple[bool, frozenset[str]]:
        """(the document or this schema uses a ranged `format`; the readOnly names in `required`)."""
        if self._traits is None:
            self._traits = _traits(self.root, self._explain)
        ranged, read_only = _traits(schema, self._explain, follow_refs=False)
        return ranged or self._traits[0], read_only | self._traits[1]

    def checker(self, schema: Any, *, formats: bool = True) -> Any:
        """A plain `jsonschema_rs` validator of `schema` against the shared components, kept by
        content: generation's checks and the kit-shape test use it as JSON Schema says, no more."""
        key = (formats, _canonical(schema))
        found = self._checkers.get(key)
        if found is None:
            found = self._checkers[key] = self.fast(schema, formats=formats)
        return found

    def fast(self, schema: Any, *, formats: bool = True) -> Any:
        if not isinstance(schema, dict):
            return jsonschema_rs.validator_for(schema, validate_formats=formats)
        if self._registry is None:
            # Patterns in the validator's dialect (patterns.py): a copy only on the way to them.
            self._registry = jsonschema_rs.Registry(
                [(ROOT_URI, for_validator(self.root))],
                draft=jsonschema_rs.Draft202012,
                retriever=_never_fetch,
            )
        return jsonschema_rs.validator_for(
            for_validator(rebase(schema)),
            registry=self._registry,
            retriever=_never_fetch,
            validate_formats=formats,
        )


def _traits(node: Any, compiler: Explainer, *, follow_refs: bool = True) -> tuple[bool, frozenset[str]]:
    """One pass over `node` (a schema, or the whole document): whether an integer or number uses
    a ranged `format`, and which required properties are readOnly. Iterative: documents nest deep."""
    ranged = False
    read_only: set[str] = set()
    stack: list[tuple[Any, bool]] = [(node, False)]  # (node, is a map of names to schemas)
    while stack:
        item, names = stack.pop()
        if isinstance(item, list):
            stack.extend((value, False) for value in item)
            continue
        if not isinstance(item, dict):
            continue
        if names:
            stack.extend((value, False) for value in item.values())
            continue
        if isinstance(item.get("format"), str) and item["format"] in FORMAT_RANGES:
            ranged = True
        properties, required = item.get("properties"), item.get("required")
        if isinstance(properties, dict) and isinstance(required, list):
            read_only.update(
                name
                for name in required
                if isinstance(name, str) and name in properties and compiler.is_read_only(properties[name])
            )
        for key, value in item.items():
            if key in LITERAL_KEYS or (key == "$ref" and not follow_refs):
                continue
            stack.append((value, key in NAME_MAPS))
    return ranged, frozenset(read_only)


def _never_fetch(uri: str) -> Any:
    # Every file a document names was bundled by the loader; nothing is fetched while compiling.
    raise ValueError(f"{uri} is not part of the document; references are not fetched")


def _canonical(schema: Any) -> bytes:
    try:
        return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits
        return json.dumps(schema, sort_keys=True, default=str).encode()


def rebase(schema: Any, parent: str | None = None) -> Any:
    """A copy of `schema` whose local `$ref`s name the shared registry's document instead."""
    if isinstance(schema, list):
        return [rebase(item, parent) for item in schema]
    if not isinstance(schema, dict):
        return schema
    names = parent in NAME_MAPS
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and not names and isinstance(value, str) and value.startswith("#"):
            out[key] = ROOT_URI + value
        elif not names and (key in LITERAL_KEYS or key.startswith("x-")):
            out[key] = value  # data, not schema: kept as written
        else:
            out[key] = rebase(value, None if names else key)
    return out


class SchemaValidator:
    """Request validation. Beyond JSON Schema, as OpenAPI reads it for requests: the ranges of
    `format` int32/int64/float/double are enforced, and a `readOnly` property listed in `required`
    may be left out (one that is sent is accepted, as Prism does)."""

    def __init__(self, schema: Any, root: dict[str, Any], *, compiler: SchemaCompiler | None = None) -> None:
        self.schema = schema
        compiler = compiler or SchemaCompiler(root)
        self._explain = compiler._explain.compile(schema)
        small = reachable(root, schema, _EAGER_REFS, compiler.large) < _EAGER_REFS
        self._fast: Any = compiler.fast(schema) if small else _WalkerOnly(self._explain)
        # What the fast validator cannot know, from the document as a whole (references are
        # compiled lazily and shared, so one schema's compilation does not see them all):
        ranged, read_only = compiler.traits(schema)
        self._ranged = ranged  # format ranges: the walker must look at valid values too
        self._read_only = read_only  # readOnly names excused from `required`

    def is_valid(self, value: Any) -> bool:
        try:
            valid = bool(self._fast.is_valid(value))
        except (ValueError, OverflowError, TypeError):  # e.g. integers beyond 64 bits
            return False
        if valid and self._ranged:
            found: ErrorList = []
            self._explain(value, (), found)
            return not found
        return valid

    def errors(self, value: Any, loc: Loc) -> ErrorList:
        if self.is_valid(value):
            return []
        found: ErrorList = []
        try:
            self._explain(value, loc, found)
        except RecursionError:  # a value as deep as a body may be, in a schema of many levels each
            return [error("value_error", loc, "Value error, nested too deeply to be checked", None)]
        if found:
            return found
        # The walker knows pydantic's vocabulary, not every JSON Schema keyword: fall back.
        try:
            raw = list(self._fast.iter_errors(value))
        except (ValueError, OverflowError, TypeError) as exc:
            return [error("value_error", loc, f"Value error, {exc}", value)]
        if self._read_only:
            raw = [e for e in raw if not _excused(e, self._read_only)]
            if not raw:
                return []
        return [
            error("value_error", (*loc, *e.instance_path), f"Value error, {e.message}", e.instance)
            for e in raw
        ] or [error("value_error", loc, "Value error, invalid value", value)]


_EAGER_REFS = 64  # distinct references a schema may reach and still get a compiled validator


class _WalkerOnly:
    """In place of a `jsonschema_rs` validator, for a schema that reaches much of a large
    document: compiled, each of those took 0.4 s and 200 MiB (Graph's entities reach thousands
    of types, and every operation has its own), where the explaining walker shares each
    reference's compilation with every other schema. It judges the keywords pydantic has words
    for (types, enum, const, properties, required, additionalProperties, items, lengths, bounds,
    patterns, allOf, anyOf, oneOf as a union); JSON Schema's others go unchecked there."""

    def __init__(self, walker: Check) -> None:
        self._walker = walker

    def is_valid(self, value: Any) -> bool:
        found: ErrorList = []
        try:
            self._walker(value, (), found)
        except RecursionError:
            return False
        return not found

    def iter_errors(self, value: Any) -> Any:
        return iter(())


def _excused(found: Any, read_only: frozenset[str]) -> bool:
    kind = found.kind
    return type(kind).__name__ == "Required" and getattr(kind, "property", None) in read_only


def compile_validator(
    schema: Any, root: dict[str, Any], *, compiler: SchemaCompiler | None = None
) -> SchemaValidator:
    """One validator; a document's many validators come from its one `SchemaCompiler` (give it)."""
    return compiler.validator(schema) if compiler is not None else SchemaValidator(schema, root)
