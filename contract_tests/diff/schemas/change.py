"""What comparing two schemas finds (`Change`), and the small judgements every rule shares."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from contract_tests.diff.findings import Level
from contract_tests.diff.resolve import Flat

Side = Literal["request", "response"]
LOWER = ("minLength", "minItems", "minProperties")
TEXT_FORMS = ("integer", "number", "boolean")
KIND = {
    "minLength": "string",
    "maxLength": "string",
    "minItems": "array",
    "maxItems": "array",
    "minProperties": "object",
    "maxProperties": "object",
}
UPPER = ("maxLength", "maxItems", "maxProperties")


class OneSide:
    """A comparison from one side of the wire (shared by the mixins that make up SchemaDiff)."""

    side: Side

    @property
    def request(self) -> bool:
        """The server reads it (the new schema must accept more); else the client does."""
        return self.side == "request"


@dataclass(frozen=True)
class Change:
    level: Level
    rule: str  # without its side: "type-changed"
    detail: str  # "maximum lowered from 999 to 500"
    old_pointer: str
    new_pointer: str
    field: tuple[str, ...] = ()  # property path below the compared schema

    def under(self, segment: str) -> Change:
        return replace(self, field=(segment, *self.field))


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def covers(types: frozenset[str] | None, t: str, wire: bool = False) -> bool:
    """Does a schema of `types` accept every value of type `t`? On the wire (a parameter or a
    header, sent as text) a string also accepts the text of a number or a boolean."""
    if types is None or t in types or (t == "integer" and "number" in types):
        return True
    return wire and t in TEXT_FORMS and "string" in types


def overlap(a: frozenset[str] | None, b: frozenset[str] | None, wire: bool = False) -> bool:
    if a is None or b is None or not a or not b:
        return True
    return any(covers(b, t, wire) for t in a) or any(covers(a, t, wire) for t in b)


def applies(o: Flat, n: Flat, kind: str) -> bool:
    """Does a keyword about `kind` values (string, number, array, object) constrain either schema?
    `maxItems` on a string schema has no effect on any value."""
    ot, nt = o.types(), n.types()
    if ot is None or nt is None:
        return True
    kinds = ot | nt
    return kind in kinds or (kind == "number" and "integer" in kinds)


def names(types: frozenset[str] | None) -> str:
    return "any value" if types is None else " or ".join(sorted(types)) or "nothing"


def enum_values(flat: Flat, wire: bool = False) -> tuple[dict[str, Any] | None, str]:
    # On the wire `5` and `"5"` are the same text.
    def key(v: Any) -> str:
        return v if wire and isinstance(v, str) else show(v)

    values, pointer = flat.get("enum")
    if isinstance(values, list):
        return {key(v): v for v in values if v is not None}, pointer
    const, pointer = flat.get("const")
    if pointer and const is not None:
        return {key(const): const}, pointer
    return None, ""


def multiple(a: float, b: float) -> bool:
    ratio = a / b
    return abs(ratio - round(ratio)) < 1e-9


def breaking_count(changes: list[Change]) -> int:
    return sum(c.level == "breaking" for c in changes)


def flag(flat: Flat, keyword: str) -> bool:
    return flat.get(keyword)[0] is True


def lower_bound(flat: Flat) -> tuple[Any, bool, str] | None:
    return numeric_bound(flat, "minimum", "exclusiveMinimum", max)


def upper_bound(flat: Flat) -> tuple[Any, bool, str] | None:
    return numeric_bound(flat, "maximum", "exclusiveMaximum", min)


def numeric_bound(
    flat: Flat, inclusive: str, exclusive: str, pick: Callable[..., tuple[Any, bool, str]]
) -> tuple[Any, bool, str] | None:
    (value, pointer), (excl, excl_pointer) = flat.get(inclusive), flat.get(exclusive)
    if isinstance(excl, bool):  # OpenAPI 3.0: a flag on the inclusive bound
        return (value, excl, pointer) if number(value) else None
    candidates = [(value, False, pointer)] if number(value) else []
    if number(excl):
        candidates.append((excl, True, excl_pointer))
    if not candidates:
        return None
    # The tighter bound wins: for a lower bound the larger value (exclusive first on a tie), and so on.
    if pick is max:
        return max(candidates, key=lambda c: (c[0], c[1]))
    return min(candidates, key=lambda c: (c[0], not c[1]))


def bound_text(bound: tuple[Any, bool, str]) -> str:
    return f"{show(bound[0])} (exclusive)" if bound[1] else show(bound[0])
