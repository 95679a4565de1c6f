"""Why a value fails its schema: a walker compiled from the schema lists pydantic v2's errors.

The error model is pydantic's (`type`, `msg`, `loc`, `input`, `ctx`), in document order; the
compiled validators (validation.py) decide *whether* a value is valid, this walker only *why*.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mock_server.document.refs import resolve
from mock_server.schema.patterns import python_pattern

ErrorList = list[dict[str, Any]]
Loc = tuple[str | int, ...]
Check = Callable[[Any, Loc, ErrorList], None]

_ANY: Check = lambda value, loc, errors: None  # noqa: E731


def error(kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        out["ctx"] = ctx
    return out


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


class Explainer:
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

    def is_read_only(self, schema: Any) -> bool:
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
        read_only = {name for name, sub in (schema.get("properties") or {}).items() if self.is_read_only(sub)}
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
