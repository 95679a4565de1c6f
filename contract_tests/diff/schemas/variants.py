"""`anyOf`/`oneOf` alternatives: which old one is which new one, and when two can both match a value.

Alternatives are paired by identity before anything else: the component a `$ref` names, the
`title`, the discriminator value, the shape (property names and types); only what is left is
matched by the closest comparison. Pairing by position compared a new `Fox` with an old `Cat`
as soon as a branch was inserted before it.

`oneOf` demands that a value match exactly one alternative. Two alternatives are provably
exclusive when their types cannot overlap, their enums or a shared required property's values
cannot, one requires a property the other (closed) object refuses, or the `oneOf` names a
discriminator. Otherwise a value may match both, and `oneOf` refuses it.
"""

from __future__ import annotations

from typing import Any

from contract_tests.diff.resolve import Document, Flat, flatten, text

_KINDS = 6  # ref, title, discriminator value, the schema as written, shape, position
_MAX_DEPTH = 4  # how deep `disjoint` follows required properties


def _refuses(closed: Flat, props: dict[str, Any], required: dict[str, str]) -> bool:
    """A closed object refuses a property the other schema requires."""
    return closed.get("additionalProperties")[0] is False and any(n not in props for n in required)


def _literals(flat: Flat) -> frozenset[str] | None:
    """The values a schema allows when it lists them (`enum`, `const`), as text; None otherwise."""
    values = flat.get("enum")[0]
    if isinstance(values, list):
        return frozenset(text(v) for v in values)
    const, where = flat.get("const")
    if where:
        return frozenset({text(const)})
    return None


def identity(doc: Document, raw: Any, flat: Flat, discriminator: str) -> tuple[str | None, ...]:
    """Keys that name an alternative, strongest first; None where a kind says nothing."""
    ref = raw.get("$ref") if isinstance(raw, dict) else None
    name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref.rsplit("/", 1)[-1] else None
    title = flat.get("title")[0]
    tag = None
    if discriminator:
        prop = flat.properties().get(discriminator)
        if prop is not None:
            values = _literals(flatten(doc, *prop))
            if values is not None and len(values) == 1:
                tag = next(iter(values))
    props = flat.properties()
    shape = None
    if props:
        kinds = sorted((n, text(sorted(flatten(doc, *p).types() or ()))) for n, p in props.items())
        shape = text(kinds)
    elif flat.types() is not None:
        shape = text(sorted(flat.types() or ()))
    exact = text([node for node, _ in flat.layers])
    return (name, text(title) if title is not None else None, tag, exact, shape)


def pair(given: list[tuple[str | None, ...]], wanted: list[tuple[str | None, ...]]) -> dict[int, int]:
    """given index → wanted index, for alternatives one kind of key names alike on both sides, uniquely."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    for kind in range(_KINDS):
        left: dict[str, list[int]] = {}
        right: dict[str, list[int]] = {}
        for i, keys in enumerate(given):
            key = keys[kind] if kind < len(keys) else str(i)
            if i not in out and key is not None:
                left.setdefault(key, []).append(i)
        for j, keys in enumerate(wanted):
            key = keys[kind] if kind < len(keys) else str(j)
            if j not in taken and key is not None:
                right.setdefault(key, []).append(j)
        for key, ii in left.items():
            jj = right.get(key, [])
            if len(ii) == 1 and len(jj) == 1:
                out[ii[0]] = jj[0]
                taken.add(jj[0])
    return out


def _strict_overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    if a is None or b is None:
        return True
    a2 = a | ({"integer"} if "number" in a else set())
    b2 = b | ({"integer"} if "number" in b else set())
    return bool(a2 & b2)


def disjoint(a_doc: Document, a: Flat, b_doc: Document, b: Flat, depth: int = 0) -> bool:
    """True only when no value can match both schemas (a proof, not a guess)."""
    if a.never or b.never:
        return True
    if depth > _MAX_DEPTH or a.variants or b.variants:
        return False
    if a.nullable and b.nullable:
        return False
    if not _strict_overlap(a.types(), b.types()):
        return True
    la, lb = _literals(a), _literals(b)
    if la is not None and lb is not None and not (la & lb):
        return True
    aprops, bprops = a.properties(), b.properties()
    areq, breq = a.required(), b.required()
    if _refuses(b, bprops, areq) or _refuses(a, aprops, breq):
        return True
    for name in set(areq) & set(breq):
        if name in aprops and name in bprops:
            pa, pb = flatten(a_doc, *aprops[name]), flatten(b_doc, *bprops[name])
            if disjoint(a_doc, pa, b_doc, pb, depth + 1):
                return True
    return False
