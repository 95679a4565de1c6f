"""Request data → the error list a FastAPI/pydantic v2 service would answer.

Two layers per schema, both built once at start-up:
- a compiled `jsonschema_rs` validator decides *whether* a value is valid (about a microsecond);
- only when it is not, a walker compiled from the same schema explains *why*, with pydantic's
  error types, messages, `loc`, `input` and `ctx`, in document order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import jsonschema_rs
import orjson

from mock_server.document_patterns import for_validator
from mock_server.patterns import python_pattern
from mock_server.refs import LITERAL_KEYS, NAME_MAPS, reachable, resolve

ErrorList = list[dict[str, Any]]
Loc = tuple[str | int, ...]
Check = Callable[[Any, Loc, ErrorList], None]

# Deeper documents are refused before parsing: the stdlib decoder and encoder recurse.
MAX_DEPTH = 200
MAX_INT_DIGITS = 4300  # CPython's int/str conversion limit
_ANY: Check = lambda value, loc, errors: None  # noqa: E731


def error(kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        out["ctx"] = ctx
    return out


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
        self._explain = _Compiler(root)
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


def _traits(node: Any, compiler: _Compiler, *, follow_refs: bool = True) -> tuple[bool, frozenset[str]]:
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
                if isinstance(name, str) and name in properties and compiler._is_read_only(properties[name])
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


# --- JSON bodies ---------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, reason: str, pattern: bytes) -> None:
        self.reason = reason
        self.pattern = pattern


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused("Out of range float values are not JSON compliant", rb"-?\d[\d.]*[eE]\+?\d{3,}")
    return value


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _Refused(f"Integer literal longer than {MAX_INT_DIGITS} digits", rb"\d{%d,}" % MAX_INT_DIGITS)
    return int(text)


def _parse_constant(text: str) -> float:
    raise _Refused("Expecting value", rb"(?<![\w\"])-?(?:NaN|Infinity)")


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# orjson reads integers past 64 bits as floats: such bodies (19 digits in a row, somewhere) take
# the stdlib path. Found by mapping every ASCII digit to one byte and searching for a run of it:
# a fifth of what the regular expression `\d{19}` costs on a request body (bench/stages.py).
_DIGITS_AS_NINES = bytes(ord("9") if ord("0") <= i <= ord("9") else ord(" ") for i in range(256))
_LONG_RUN = b"9" * 19


def has_long_number(raw: bytes) -> bool:
    return _LONG_RUN in raw.translate(_DIGITS_AS_NINES)


_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _json_invalid(position: int, reason: str) -> ErrorList:
    return [error("json_invalid", ("body", position), "JSON decode error", {}, {"error": reason})]


def parse_json(raw: bytes) -> tuple[Any, ErrorList]:
    """Decode a JSON body as FastAPI does, refusing what it would crash on (NaN, Infinity,
    5000-digit integers, deep nesting, invalid UTF-8) with a `json_invalid` error instead."""
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        where = _too_deep(raw)
        if where is not None:
            return None, _json_invalid(where, f"Nesting deeper than {MAX_DEPTH} levels")
    if not has_long_number(raw):
        try:
            # orjson is ~3x faster; whatever it refuses gets the stdlib's exact error below.
            return orjson.loads(raw), []
        except orjson.JSONDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, _json_invalid(exc.start, f"Invalid UTF-8 byte 0x{raw[exc.start]:02x}")
    try:
        return _DECODER.decode(text), []
    except json.JSONDecodeError as exc:
        return None, _json_invalid(exc.pos, exc.msg)
    except _Refused as exc:
        found = re.search(exc.pattern, raw)
        return None, _json_invalid(found.start() if found else 0, exc.reason)
    except RecursionError:
        return None, _json_invalid(0, f"Nesting deeper than {MAX_DEPTH} levels")


def _too_deep(raw: bytes) -> int | None:
    brackets = _STRINGS.sub(b'""', raw)
    depths = accumulate(_STEP[b] for b in brackets.translate(None, _BRACKETS))
    for index, depth in enumerate(depths):
        if depth > MAX_DEPTH:
            # Report an offset into the original text: the (index+1)-th bracket outside strings.
            return _bracket_offset(raw, index)
    return None


def _bracket_offset(raw: bytes, index: int) -> int:
    seen = -1
    position = 0
    for match in re.finditer(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', raw, re.DOTALL):
        if match.group().startswith(b'"'):
            continue
        seen += 1
        if seen == index:
            position = match.start()
            break
    return position


def unicode_errors(raw: bytes, value: Any, loc: Loc) -> ErrorList:
    """Lone surrogate escapes (`"\\ud800"`) parse into strings that cannot be encoded back."""
    if not _SURROGATE.search(raw):
        return []
    found: ErrorList = []
    _find_surrogates(value, loc, found)
    return found


def _find_surrogates(value: Any, loc: Loc, found: ErrorList) -> None:
    if isinstance(value, str):
        if not _encodable(value):
            found.append(
                error(
                    "string_unicode",
                    loc,
                    "Input should be a valid string, unable to parse raw data as a unicode string",
                    value.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
                )
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if _encodable(key) else key.encode("utf-8", "backslashreplace").decode()
            _find_surrogates(item, (*loc, name), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_surrogates(item, (*loc, index), found)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- the explaining walker -----------------------------------------------------------------------


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _number(n: Any) -> Any:
    return int(n) if isinstance(n, float) and n.is_integer() and abs(n) < 2**53 else n


def _expected(values: list[Any]) -> str:
    shown = [repr(v) if isinstance(v, str) else json.dumps(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "unknown"


def _is_type(value: Any, kind: str) -> bool:
    actual = json_type(value)
    if kind == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    if kind == "number":
        return actual in ("integer", "number")
    return actual == kind


_TYPE_ERRORS = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
    "null": ("none_required", "Input should be None"),
}
_LAX_BOOLEANS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}


def _type_error(kind: str, value: Any, code: str, message: str) -> tuple[str, str]:
    """pydantic's type error for `value`. Where its lax mode would have converted the value
    (`"5"` for an integer), the mock is strict and answers with strict mode's error instead."""
    if kind == "integer":
        if isinstance(value, float):
            return "int_from_float", "Input should be a valid integer, got a number with a fractional part"
        if isinstance(value, str) and not _lax_number(value, integer=True):
            return "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
    elif kind == "number":
        if isinstance(value, str) and not _lax_number(value, integer=False):
            return "float_parsing", "Input should be a valid number, unable to parse string as a number"
    elif kind == "boolean":
        unparsable_str = isinstance(value, str) and value.strip().lower() not in _LAX_BOOLEANS
        unparsable_int = isinstance(value, int) and not isinstance(value, bool) and value not in (0, 1)
        if unparsable_str or unparsable_int:
            return "bool_parsing", "Input should be a valid boolean, unable to interpret input"
    return code, message


def _lax_number(text: str, *, integer: bool) -> bool:
    try:
        number = float(text.strip())
    except ValueError:
        return False
    if not integer:
        return True
    return number.is_integer() and "e" not in text.lower()


_UNION_TAGS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "none"}


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {} or not isinstance(schema, dict):
            return _ANY
        if schema is False:
            return lambda value, loc, errors: errors.append(error("value_error", loc, "Value error", value))
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"]))
        kinds = schema.get("type")
        if "enum" in schema or "const" in schema:
            # pydantic's Literal/Enum fields report the allowed values, not a type error
            allowed = schema["enum"] if "enum" in schema else [schema["const"]]
            checks.append(self._allowed(allowed, "enum" if "enum" in schema else "const"))
        elif isinstance(kinds, list):
            if len(kinds) == 1:
                checks.append(self._typed(schema, kinds[0]))
            else:
                branches = [{**schema, "type": kind} for kind in kinds]
                checks.append(self._union(branches, schema))
        elif isinstance(kinds, str):
            checks.append(self._typed(schema, kinds))
        else:
            checks.extend(self._untyped(schema))
        for part in schema.get("allOf", []):
            checks.append(self.compile(part))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                checks.append(self._union(schema[key], None))
        return _all(checks)

    def _ref(self, ref: str) -> Check:
        # Compiled on first use: shared by every schema that names it, and a long chain of
        # references costs no recursion at start-up.
        refs = self.refs

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            compiled = refs.get(ref)
            if compiled is None:
                refs[ref] = _ANY  # placeholder while compiling a recursive schema
                compiled = refs[ref] = self.compile(self._target(ref))
            compiled(value, loc, errors)

        return check

    def _target(self, ref: str) -> Any:
        return resolve(self.root, ref)

    def _is_read_only(self, schema: Any) -> bool:
        for _ in range(20):
            if not (isinstance(schema, dict) and "$ref" in schema):
                break
            if schema.get("readOnly") is True:
                return True
            try:
                schema = resolve(self.root, schema["$ref"])
            except KeyError:
                return False
        return isinstance(schema, dict) and schema.get("readOnly") is True

    def _union(self, branches: list[Any], parent: dict[str, Any] | None) -> Check:
        nullable = any(isinstance(b, dict) and b.get("type") == "null" and len(b) == 1 for b in branches)
        others = [
            b for b in branches if not (isinstance(b, dict) and b.get("type") == "null" and len(b) == 1)
        ]
        compiled = [(self._tag(b), self.compile(b)) for b in others]

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            if value is None and nullable:
                return
            if len(compiled) == 1:  # Optional[X]: pydantic reports X's errors as they are
                compiled[0][1](value, loc, errors)
                return
            collected: ErrorList = []
            for tag, branch in compiled:
                attempt: ErrorList = []
                branch(value, (*loc, tag), attempt)
                if not attempt:
                    return
                collected.extend(attempt)
            errors.extend(collected)

        return check

    def _tag(self, schema: Any) -> str:
        if not isinstance(schema, dict):
            return "any"
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[-1]
        kind = schema.get("type")
        if kind == "array":
            return f"list[{self._tag(schema.get('items', {}))}]"
        if kind == "object":
            return str(schema.get("title") or "dict[str,any]")
        return _UNION_TAGS.get(str(kind), "any")

    def _untyped(self, schema: dict[str, Any]) -> list[Check]:
        # Without `type`, JSON Schema applies each keyword only to values of its kind.
        out: list[Check] = []
        for kind, keys in (
            ("object", ("properties", "required", "additionalProperties")),
            ("array", ("items", "minItems", "maxItems")),
            ("string", ("minLength", "maxLength", "pattern", "format")),
            ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
        ):
            if any(key in schema for key in keys):
                out.append(_only_for(kind, self._typed(schema, kind)))
        return out

    def _allowed(self, values: list[Any], key: str) -> Check:
        kind, expected = (
            ("enum", _expected(values)) if key == "enum" else ("literal_error", _expected(values))
        )

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            if not any(value == v and json_type(value) == json_type(v) for v in values):
                errors.append(error(kind, loc, f"Input should be {expected}", value, {"expected": expected}))

        return check

    def _typed(self, schema: dict[str, Any], kind: str) -> Check:
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            return self._array(schema)
        code, message = _TYPE_ERRORS.get(kind, ("value_error", f"Input should be of type {kind}"))
        constraints = _constraints(schema, kind)

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            if not _is_type(value, kind):
                found_code, found_message = _type_error(kind, value, code, message)
                errors.append(error(found_code, loc, found_message, value))
                return
            if kind == "integer" and isinstance(value, float) and abs(value) >= 2**63:
                errors.append(
                    error(
                        "int_parsing_size",
                        loc,
                        "Unable to parse input string as an integer, exceeded maximum size",
                        value,
                    )
                )
                return
            for constraint in constraints:
                found = constraint(value)
                if found is not None:
                    errors.append(error(found[0], loc, found[1], value, found[2]))
                    return  # pydantic stops at a value's first failed constraint

        return check

    def _object(self, schema: dict[str, Any]) -> Check:
        properties = [(name, self.compile(sub)) for name, sub in (schema.get("properties") or {}).items()]
        read_only = {
            name for name, sub in (schema.get("properties") or {}).items() if self._is_read_only(sub)
        }
        required = set(schema.get("required") or []) - read_only
        extra = schema.get("additionalProperties", True)
        extra_check = self.compile(extra) if isinstance(extra, dict) else None
        known = {name for name, _ in properties}
        is_model = bool(properties or required)
        code, message = (
            ("model_attributes_type", "Input should be a valid dictionary or object to extract fields from")
            if is_model
            else ("dict_type", "Input should be a valid dictionary")
        )
        missing_required = [name for name in schema.get("required") or [] if name not in known]

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            if not isinstance(value, dict):
                errors.append(error(code, loc, message, value))
                return
            for name, prop in properties:
                if name in value:
                    prop(value[name], (*loc, name), errors)
                elif name in required:
                    errors.append(error("missing", (*loc, name), "Field required", value))
            for name in missing_required:
                if name not in value:
                    errors.append(error("missing", (*loc, name), "Field required", value))
            if extra is False:
                for name in value:
                    if name not in known:
                        errors.append(
                            error(
                                "extra_forbidden", (*loc, name), "Extra inputs are not permitted", value[name]
                            )
                        )
            elif extra_check is not None:
                for name in value:
                    if name not in known:
                        extra_check(value[name], (*loc, name), errors)

        return check

    def _array(self, schema: dict[str, Any]) -> Check:
        items = self.compile(schema.get("items", {}))
        low, high = schema.get("minItems"), schema.get("maxItems")

        def check(value: Any, loc: Loc, errors: ErrorList) -> None:
            if not isinstance(value, list):
                errors.append(error("list_type", loc, "Input should be a valid list", value))
                return
            for index, item in enumerate(value):
                items(item, (*loc, index), errors)
            n = len(value)
            if low is not None and n < low:
                msg = f"List should have at least {_plural(low, 'item')} after validation, not {n}"
                ctx = {"field_type": "List", "min_length": low, "actual_length": n}
                errors.append(error("too_short", loc, msg, value, ctx))
            if high is not None and n > high:
                msg = f"List should have at most {_plural(high, 'item')} after validation, not {n}"
                ctx = {"field_type": "List", "max_length": high, "actual_length": n}
                errors.append(error("too_long", loc, msg, value, ctx))

        return check


Found = tuple[str, str, dict[str, Any]] | None


def _constraints(schema: dict[str, Any], kind: str) -> list[Callable[[Any], Found]]:
    out: list[Callable[[Any], Found]] = []
    if kind == "string":
        if "minLength" in schema:
            n = schema["minLength"]
            out.append(
                lambda v: (
                    None
                    if len(v) >= n
                    else (
                        "string_too_short",
                        f"String should have at least {_plural(n, 'character')}",
                        {"min_length": n},
                    )
                )
            )
        if "maxLength" in schema:
            m = schema["maxLength"]
            out.append(
                lambda v: (
                    None
                    if len(v) <= m
                    else (
                        "string_too_long",
                        f"String should have at most {_plural(m, 'character')}",
                        {"max_length": m},
                    )
                )
            )
        if "pattern" in schema:
            pattern = schema["pattern"]
            translated = python_pattern(pattern) if isinstance(pattern, str) else None
            # (without a translation for `re`, the compiled validator still judges it)
            regex = re.compile(translated) if translated is not None else None
            if regex is not None:
                out.append(
                    lambda v: (
                        None
                        if regex.search(v)
                        else (
                            "string_pattern_mismatch",
                            f"String should match pattern '{pattern}'",
                            {"pattern": pattern},
                        )
                    )
                )
    if kind in ("integer", "number"):
        bounds = (
            ("multipleOf", "multiple_of", "a multiple of", lambda v, b: _multiple(v, b)),
            ("maximum", "less_than_equal", "less than or equal to", lambda v, b: v <= b),
            ("exclusiveMaximum", "less_than", "less than", lambda v, b: v < b),
            ("minimum", "greater_than_equal", "greater than or equal to", lambda v, b: v >= b),
            ("exclusiveMinimum", "greater_than", "greater than", lambda v, b: v > b),
        )
        ctx_names = {
            "multipleOf": "multiple_of",
            "maximum": "le",
            "exclusiveMaximum": "lt",
            "minimum": "ge",
            "exclusiveMinimum": "gt",
        }
        for key, code, words, ok in bounds:
            if key in schema and isinstance(schema[key], int | float) and not isinstance(schema[key], bool):
                out.append(_bound(code, words, ctx_names[key], _number(schema[key]), ok))
        if schema.get("format") in FORMAT_RANGES:
            low, high = FORMAT_RANGES[schema["format"]]
            out.append(
                _bound("greater_than_equal", "greater than or equal to", "ge", low, lambda v, b: v >= b)
            )
            out.append(_bound("less_than_equal", "less than or equal to", "le", high, lambda v, b: v <= b))
    return out


# OpenAPI's numeric formats, as ranges (float: IEEE single precision's largest finite value).
FORMAT_RANGES = {
    "int32": (-2147483648, 2147483647),
    "int64": (-9223372036854775808, 9223372036854775807),
    "float": (-3.4028234663852886e38, 3.4028234663852886e38),
    "double": (-1.7976931348623157e308, 1.7976931348623157e308),
}


def _only_for(kind: str, typed: Check) -> Check:
    def check(value: Any, loc: Loc, errors: ErrorList) -> None:
        if _is_type(value, kind):
            typed(value, loc, errors)

    return check


def _bound(
    code: str, words: str, name: str, bound: Any, ok: Callable[[Any, Any], bool]
) -> Callable[[Any], Found]:
    def check(value: Any) -> Found:
        return None if ok(value, bound) else (code, f"Input should be {words} {bound}", {name: bound})

    return check


def _multiple(value: Any, base: Any) -> bool:
    if base == 0:
        return True
    quotient = value / base
    return bool(abs(quotient - round(quotient)) < 1e-9)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _ANY
    if len(checks) == 1:
        return checks[0]

    def check(value: Any, loc: Loc, errors: ErrorList) -> None:
        for one in checks:
            one(value, loc, errors)

    return check
