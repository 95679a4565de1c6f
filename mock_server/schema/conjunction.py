"""allOf as one schema: two schemas that must both hold, merged, and where the merge is not exact."""

from __future__ import annotations

from typing import Any

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EITHER = ("uniqueItems", "readOnly", "writeOnly", "deprecated")


def combines(schema: dict[str, Any]) -> bool:
    """Whether a schema needs generated instances checked: what merging cannot make exact."""
    if any(key in schema for key in ("allOf", "oneOf", "not", "uniqueItems", "x-patterns")):
        return True
    if "$ref" in schema and len(schema) > 1:
        return True
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        # The 3.0 dialect's `nullable` becomes anyOf [X, null]: exact already, no check needed.
        plain = [b for b in branches if not (isinstance(b, dict) and b == {"type": "null"})]
        return len(plain) > 1 or bool(without(schema, "anyOf"))
    return "enum" in schema and len(schema.keys() - {"enum", "type", "description", "title", "default"}) > 0


def _types(kind: Any) -> set[str] | None:
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return None


class Made(dict[str, Any]):
    """A schema the generator made (a conjunction), not one the document wrote. Conjunctions of
    references can unfold into new ones without end (two `anyOf`s of recursive types make their
    product, whose properties make theirs…): how many are open on the stack is bounded."""

    __slots__ = ()


def conjoin(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """Two schemas that must both hold, as one; None when they plainly contradict (types, enums)."""
    out = Made(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
            continue
        mine = out[key]
        if mine == value:
            continue
        if key == "properties" and isinstance(mine, dict) and isinstance(value, dict):
            props = dict(mine)
            for name, sub in value.items():
                props[name] = Made(allOf=[props[name], sub]) if name in props and props[name] != sub else sub
            out[key] = props
        elif key == "required" and isinstance(mine, list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*mine, *value]))
        elif key == "type":
            left, right = _types(mine), _types(value)
            if left is None or right is None:
                continue
            both = left & right
            if "integer" in left | right and "number" in left | right:
                both |= {"integer"} & (left | right)
            if not both:
                return None
            ordered = (
                [k for k in (_types(mine) or set()) if k in both] if isinstance(mine, list) else sorted(both)
            )
            out[key] = ordered[0] if len(ordered) == 1 else ordered
        elif key in _LOWER and _is_number(mine) and _is_number(value):
            out[key] = max(mine, value)
        elif key in _UPPER and _is_number(mine) and _is_number(value):
            out[key] = min(mine, value)
        elif key in _EITHER:
            out[key] = bool(mine) or bool(value)
        elif key == "pattern":
            out["x-patterns"] = list(dict.fromkeys([*out.get("x-patterns", [mine]), value]))
        elif key == "x-patterns":
            out[key] = list(dict.fromkeys([*mine, *value]))
        elif key == "enum" and isinstance(mine, list) and isinstance(value, list):
            both_values = [v for v in mine if v in value]
            if not both_values:
                return None
            out[key] = both_values
        elif (
            key in ("items", "additionalProperties", "not")
            and isinstance(mine, dict)
            and isinstance(value, dict)
        ):
            out[key] = Made(allOf=[mine, value]) if key != "not" else Made(anyOf=[mine, value])
        elif key == "additionalProperties":
            out[key] = False if False in (mine, value) else mine
        elif key in ("anyOf", "oneOf", "allOf"):
            # A second combinator of the same kind: kept as a conjunction, checked after generation.
            out["allOf"] = [*out.get("allOf", []), {key: value}] if key != "allOf" else [*mine, *value]
        # anything else (title, description, format, example…): the first one stays
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}
