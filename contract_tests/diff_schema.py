"""Compare two schemas from one side of the wire.

A request schema is read by the server: the new one must accept every value the old one accepted
(narrowing breaks, widening is fine). A response schema is read by the client: the new one must
only produce values the old one could produce (widening breaks or warns, narrowing is fine).
Results are memoised by the pair of schema pointers, which also cuts recursive schemas short.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any, Literal

from contract_tests.diff_findings import Level
from contract_tests.diff_pattern import compare as compare_patterns
from contract_tests.diff_resolve import Document, Flat, flatten
from contract_tests.diff_variants import disjoint, identity, pair

Side = Literal["request", "response"]
_LOWER = ("minLength", "minItems", "minProperties")
_TEXT_FORMS = ("integer", "number", "boolean")
_KIND = {
    "minLength": "string",
    "maxLength": "string",
    "minItems": "array",
    "maxItems": "array",
    "minProperties": "object",
    "maxProperties": "object",
}
_UPPER = ("maxLength", "maxItems", "maxProperties")


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


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _covers(types: frozenset[str] | None, t: str, wire: bool = False) -> bool:
    """Does a schema of `types` accept every value of type `t`? On the wire (a parameter or a
    header, sent as text) a string also accepts the text of a number or a boolean."""
    if types is None or t in types or (t == "integer" and "number" in types):
        return True
    return wire and t in _TEXT_FORMS and "string" in types


def _overlap(a: frozenset[str] | None, b: frozenset[str] | None, wire: bool = False) -> bool:
    if a is None or b is None or not a or not b:
        return True
    return any(_covers(b, t, wire) for t in a) or any(_covers(a, t, wire) for t in b)


def _applies(o: Flat, n: Flat, kind: str) -> bool:
    """Does a keyword about `kind` values (string, number, array, object) constrain either schema?
    `maxItems` on a string schema has no effect on any value."""
    ot, nt = o.types(), n.types()
    if ot is None or nt is None:
        return True
    kinds = ot | nt
    return kind in kinds or (kind == "number" and "integer" in kinds)


def _names(types: frozenset[str] | None) -> str:
    return "any value" if types is None else " or ".join(sorted(types)) or "nothing"


def _enum(flat: Flat, wire: bool = False) -> tuple[dict[str, Any] | None, str]:
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


def _multiple(a: float, b: float) -> bool:
    ratio = a / b
    return abs(ratio - round(ratio)) < 1e-9


class SchemaDiff:
    def __init__(self, old: Document, new: Document, side: Side, *, wire: bool = False) -> None:
        self.old, self.new, self.side = old, new, side
        self.wire = wire  # values travel as text (parameters, headers), not as JSON
        # Results by pair of schemas, shared by every operation that reaches the pair. A result
        # that a recursive schema cut short below where the cycle was entered depends on that
        # entry point: it is kept for the current operation only (`_local`, see `begin`).
        self._cache: dict[tuple[Any, ...], list[Change]] = {}
        self._local: dict[tuple[Any, ...], list[Change]] = {}
        self._stack: list[tuple[tuple[Any, ...], set[tuple[Any, ...]]]] = []
        self._active: set[tuple[Any, ...]] = set()

    def begin(self) -> None:
        """A new operation: results that depended on the last one's entry points are forgotten."""
        self._local.clear()

    def compare(self, old_node: Any, old_pointer: str, new_node: Any, new_pointer: str) -> list[Change]:
        return self._flats(flatten(self.old, old_node, old_pointer), flatten(self.new, new_node, new_pointer))

    @property
    def request(self) -> bool:
        return self.side == "request"

    def _flats(self, o: Flat, n: Flat) -> list[Change]:
        key = (o.key(), o.nullable, n.key(), n.nullable)
        found = self._cache.get(key)
        if found is None:
            found = self._local.get(key)
        if found is not None:
            return found
        if key in self._active:  # a recursive schema: this pair is being compared further up
            below = False
            for frame, cuts in self._stack:  # every pair between there and here is cut short
                if below:
                    cuts.add(key)
                below = below or frame == key
            return []
        self._active.add(key)
        self._stack.append((key, set()))
        try:
            result = self._compare(o, n)
        finally:
            self._active.discard(key)
            _, cuts = self._stack.pop()
        (self._local if cuts else self._cache)[key] = result
        return result

    def _compare(self, o: Flat, n: Flat) -> list[Change]:
        out: list[Change] = []
        if o.never or n.never:
            if n.never and not o.never and self.request:
                out.append(Change("breaking", "schema-closed", "no longer accepts any value", o.body, n.body))
            return out
        self._nullable(o, n, out)
        if self.request and n.exclusive:
            self._exclusive(o, n, out)
        if o.variants or n.variants:
            self._variants(o, n, out)
        elif self._types(o, n, out):
            self._enum(o, n, out)
            self._bounds(o, n, out)
            self._keywords(o, n, out)
            if _applies(o, n, "object"):
                self._object(o, n, out)
            if _applies(o, n, "array"):
                self._items(o, n, out)
        self._annotations(o, n, out)
        return out

    def _nullable(self, o: Flat, n: Flat, out: list[Change]) -> None:
        if o.nullable and not n.nullable:
            level: Level = "breaking" if self.request else "info"
            out.append(
                Change(
                    level,
                    "nullable-removed",
                    "no longer accepts null" if self.request else "is no longer null",
                    o.null_pointer,
                    n.body,
                )
            )
        elif n.nullable and not o.nullable:
            level = "info" if self.request else "breaking"
            out.append(
                Change(
                    level,
                    "nullable-added",
                    "now accepts null" if self.request else "may now be null",
                    o.body,
                    n.null_pointer,
                )
            )

    def _types(self, o: Flat, n: Flat, out: list[Change]) -> bool:
        """Compare types; False when they no longer overlap (further keywords would be noise)."""
        ot, nt = o.types(), n.types()
        if ot == nt:
            return True
        _, op = o.get("type")
        _, np_ = n.get("type")
        op, np_ = op or o.body, np_ or n.body
        lost = [t for t in sorted(ot or ())] if ot is not None else []
        lost = [t for t in lost if not _covers(nt, t, self.wire)]
        gained = [t for t in sorted(nt or ())] if nt is not None else []
        gained = [t for t in gained if not _covers(ot, t, self.wire)]
        if ot is None:
            lost = ["any value"]
        if nt is None:
            gained = ["any value"]
        if not _overlap(ot, nt, self.wire):
            out.append(
                Change("breaking", "type-changed", f"type changed from {_names(ot)} to {_names(nt)}", op, np_)
            )
            return False
        narrowed, widened = " or ".join(lost), " or ".join(gained)
        if self.request:
            if lost:
                out.append(
                    Change(
                        "breaking",
                        "type-narrowed",
                        f"type narrowed from {_names(ot)} to {_names(nt)}: {narrowed} is no longer accepted",
                        op,
                        np_,
                    )
                )
            if gained:
                out.append(Change("info", "type-widened", f"type widened to also accept {widened}", op, np_))
        else:
            if gained:
                out.append(
                    Change(
                        "breaking",
                        "type-changed",
                        f"type changed from {_names(ot)} to {_names(nt)}: it may now be {widened}",
                        op,
                        np_,
                    )
                )
            if lost:
                out.append(
                    Change("info", "type-narrowed", f"type narrowed: it is no longer {narrowed}", op, np_)
                )
        return True

    def _variants(self, o: Flat, n: Flat, out: list[Change]) -> None:
        olds = [(v[0], flatten(self.old, *v)) for v in o.variants] or [(None, replace(o, nullable=False))]
        news = [(v[0], flatten(self.new, *v)) for v in n.variants] or [(None, replace(n, nullable=False))]
        old_keys = [identity(self.old, raw, f, o.discriminator) for raw, f in olds]
        new_keys = [identity(self.new, raw, f, n.discriminator) for raw, f in news]
        # Request: every old alternative must still be accepted; response: every new one understood.
        if self.request:
            given, wanted, same = [f for _, f in olds], [f for _, f in news], pair(old_keys, new_keys)
        else:
            given, wanted, same = [f for _, f in news], [f for _, f in olds], pair(new_keys, old_keys)
        used: set[int] = set()
        for i, g in enumerate(given):
            best: tuple[tuple[int, int, bool], int, list[Change]] | None = None
            if i in same:  # the same alternative on both sides: compared with each other
                j = same[i]
                changes = self._pair(g, wanted[j])
                best = ((_breaking(changes), len(changes), False), j, changes)
            if best is None or best[0][0]:  # else the closest one (another may accept what this one lost)
                for j, w in enumerate(wanted):
                    if not _overlap(g.types(), w.types()) or (best is not None and j == best[1]):
                        continue
                    changes = self._pair(g, w)
                    score = (_breaking(changes), len(changes), j in used or j in same.values())
                    if best is None or (score < best[0] and (i not in same or not score[0])):
                        best = (score, j, changes)
            if best is not None and not self.request and i not in same and best[0][0]:
                best = None  # a new response alternative no old one covers: the client does not know it
            if best is None:
                if self.request:
                    out.append(
                        Change(
                            "breaking",
                            "variant-removed",
                            f"no longer accepts {_names(g.types())} (an anyOf/oneOf alternative was removed)",
                            g.pointer,
                            n.body,
                        )
                    )
                else:
                    out.append(
                        Change(
                            "breaking",
                            "variant-added",
                            f"may now be {_names(g.types())} (a new anyOf/oneOf alternative)",
                            o.body,
                            g.pointer,
                        )
                    )
                continue
            used.add(best[1])
            out.extend(best[2])
        for j, w in enumerate(wanted):
            if j not in used:
                if self.request:
                    out.append(
                        Change(
                            "info",
                            "variant-added",
                            f"now also accepts {_names(w.types())}",
                            o.body,
                            w.pointer,
                        )
                    )
                else:
                    out.append(
                        Change(
                            "info", "variant-removed", f"is no longer {_names(w.types())}", w.pointer, n.body
                        )
                    )

    def _pair(self, given: Flat, wanted: Flat) -> list[Change]:
        return self._flats(given, wanted) if self.request else self._flats(wanted, given)

    def _exclusive(self, o: Flat, n: Flat, out: list[Change]) -> None:
        """A request `oneOf` refuses a value that matches two of its alternatives: can an old one?"""
        for where, branches in n.exclusive:
            flats = [(raw, flatten(self.new, raw, p)) for raw, p in branches]
            keys = [identity(self.new, raw, f, n.discriminator) for raw, f in flats]
            if n.discriminator:
                continue  # the discriminator's value picks one alternative
            before = [
                set(
                    pair(
                        keys,
                        [identity(self.old, r, flatten(self.old, r, p), o.discriminator) for r, p in old],
                    )
                )
                for _, old in o.exclusive
            ]
            for i, j in combinations(range(len(flats)), 2):
                a, b = flats[i][1], flats[j][1]
                if disjoint(self.new, a, self.new, b):
                    continue
                if any(i in group and j in group for group in before):
                    continue  # the old document's oneOf already held both: nothing new for a client
                if disjoint(self.old, o, self.new, a) or disjoint(self.old, o, self.new, b):
                    continue  # no old value can match one of them
                out.append(
                    Change(
                        "breaking",
                        "one-of-ambiguous",
                        f"a value may match both alternatives {i} and {j} of the new oneOf, "
                        "which then refuses it (oneOf accepts exactly one)",
                        o.body,
                        where,
                    )
                )
                break

    def _enum(self, o: Flat, n: Flat, out: list[Change]) -> None:
        (oe, op), (ne, np_) = _enum(o, self.wire), _enum(n, self.wire)
        if oe is None and ne is None:
            return
        op, np_ = op or o.body, np_ or n.body
        if oe is None and ne is not None:
            level: Level = "breaking" if self.request else "info"
            out.append(Change(level, "enum-added", f"now limited to the values {', '.join(ne)}", op, np_))
        elif ne is None and oe is not None:
            level = "info" if self.request else "warning"
            out.append(Change(level, "enum-removed", "no longer limited to a list of values", op, np_))
        elif oe is not None and ne is not None:
            removed = [k for k in oe if k not in ne]
            added = [k for k in ne if k not in oe]
            if removed:
                level = "breaking" if self.request else "info"
                out.append(
                    Change(
                        level,
                        "enum-value-removed",
                        f"value {', '.join(removed)} removed from the enum",
                        op,
                        np_,
                    )
                )
            if added:
                level = "info" if self.request else "warning"
                out.append(Change(level, "enum-value-added", f"new enum value {', '.join(added)}", op, np_))

    def _bounds(self, o: Flat, n: Flat, out: list[Change]) -> None:
        if _applies(o, n, "number"):
            self._bound(o, n, out, "minimum", _lower(o), _lower(n), lower=True)
            self._bound(o, n, out, "maximum", _upper(o), _upper(n), lower=False)
        for keyword in (*_LOWER, *_UPPER):
            if not _applies(o, n, _KIND[keyword]):
                continue
            (ov, op), (nv, np_) = o.get(keyword), n.get(keyword)
            ob = (ov, False, op) if _number(ov) else None
            nb = (nv, False, np_) if _number(nv) else None
            self._bound(o, n, out, keyword, ob, nb, lower=keyword in _LOWER)

    def _bound(
        self,
        o: Flat,
        n: Flat,
        out: list[Change],
        name: str,
        ob: tuple[Any, bool, str] | None,
        nb: tuple[Any, bool, str] | None,
        *,
        lower: bool,
    ) -> None:
        if ob is None and nb is None:
            return
        if ob is not None and nb is not None and ob[:2] == nb[:2]:
            return
        op, np_ = (ob[2] if ob else o.body), (nb[2] if nb else n.body)
        if nb is None:
            tighter = False
        elif ob is None:
            tighter = True
        elif lower:
            tighter = nb[0] > ob[0] or (nb[0] == ob[0] and nb[1] and not ob[1])
        else:
            tighter = nb[0] < ob[0] or (nb[0] == ob[0] and nb[1] and not ob[1])
        if ob is None and nb is not None:
            detail = f"now has a {name} of {_bound_text(nb)}"
        elif nb is None and ob is not None:
            detail = f"no longer has a {name} (was {_bound_text(ob)})"
        else:
            assert ob is not None and nb is not None
            verb = "raised" if nb[0] > ob[0] or (nb[0] == ob[0] and lower == nb[1]) else "lowered"
            detail = f"{name} {verb} from {_bound_text(ob)} to {_bound_text(nb)}"
            if nb[0] == ob[0]:
                detail = f"{name} {show(nb[0])} is {'now' if nb[1] else 'no longer'} exclusive"
        rule = f"{_kebab(name)}-{'narrowed' if tighter else 'widened'}"
        if self.request:
            level: Level = "breaking" if tighter else "info"
        else:
            level = "info" if tighter else "warning"
        out.append(Change(level, rule, detail, op, np_))

    def _keywords(self, o: Flat, n: Flat, out: list[Change]) -> None:
        if _applies(o, n, "string"):
            self._pattern(o, n, out)
        (ov, op), (nv, np_) = o.get("format"), n.get("format")
        if ov != nv:
            op, np_ = op or o.body, np_ or n.body
            if ov is None:
                level: Level = "warning" if self.request else "info"
                out.append(Change(level, "format-added", f"now has the format {show(nv)}", op, np_))
            elif nv is None:
                level = "info" if self.request else "warning"
                out.append(Change(level, "format-removed", f"no longer has the format {show(ov)}", op, np_))
            else:
                out.append(
                    Change(
                        "warning", "format-changed", f"format changed from {show(ov)} to {show(nv)}", op, np_
                    )
                )
        (om, op), (nm, np_) = o.get("multipleOf"), n.get("multipleOf")
        if not _applies(o, n, "number"):
            om = nm = None
        om, nm = (om if _number(om) and om > 0 else None), (nm if _number(nm) and nm > 0 else None)
        if om != nm:
            if self.request:
                bad = nm is not None and (om is None or not _multiple(om, nm))
            else:
                bad = om is not None and (nm is None or not _multiple(nm, om))
            level = ("breaking" if self.request else "warning") if bad else "info"
            out.append(
                Change(
                    level,
                    "multiple-of-changed",
                    f"multipleOf changed from {show(om)} to {show(nm)}",
                    op or o.body,
                    np_ or n.body,
                )
            )
        (ou, op), (nu, np_) = o.get("uniqueItems"), n.get("uniqueItems")
        if not _applies(o, n, "array"):
            ou = nu = None
        if bool(ou) != bool(nu):
            tighter = bool(nu)
            level = (
                ("breaking" if tighter else "info") if self.request else ("info" if tighter else "warning")
            )
            detail = "items must now be unique" if tighter else "items no longer have to be unique"
            out.append(Change(level, "unique-items-changed", detail, op or o.body, np_ or n.body))
        if self.request:
            (od, op), (nd, np_) = o.get("default"), n.get("default")
            if op and np_ and od != nd:
                out.append(
                    Change(
                        "warning",
                        "default-changed",
                        f"default changed from {show(od)} to {show(nd)}: "
                        "clients that leave it out get a different behaviour",
                        op,
                        np_,
                    )
                )

    def _pattern(self, o: Flat, n: Flat, out: list[Change]) -> None:
        (ov, op), (nv, np_) = o.get("pattern"), n.get("pattern")
        ov, nv = (ov if isinstance(ov, str) else None), (nv if isinstance(nv, str) else None)
        verdict = compare_patterns(ov, nv)
        if verdict == "same":
            return
        op, np_ = op or o.body, np_ or n.body
        if ov is None:
            rule, detail = "pattern-added", f"now has the pattern {show(nv)}"
        elif nv is None:
            rule, detail = "pattern-removed", f"no longer has the pattern {show(ov)}"
        else:
            rule, detail = "pattern-changed", f"pattern changed from {show(ov)} to {show(nv)}"
        tighter = {"narrower": True, "wider": False}.get(verdict)
        if tighter is None:
            level: Level = "warning"
            detail += ": whether it still accepts every value it did cannot be decided"
        elif self.request:
            level = "breaking" if tighter else "info"
        else:
            level = "info" if tighter else "warning"
        if verdict == "narrower" and self.request:
            detail += ": some values it accepted are now refused"
        out.append(Change(level, rule, detail, op, np_))

    def _object(self, o: Flat, n: Flat, out: list[Change]) -> None:
        oprops, nprops = o.properties(), n.properties()
        oreq, nreq = o.required(), n.required()
        (oadd, oadd_p), (nadd, nadd_p) = o.get("additionalProperties"), n.get("additionalProperties")
        names = sorted(set(oprops) | set(nprops) | set(oreq) | set(nreq))
        for name in names:
            oprop, nprop = oprops.get(name), nprops.get(name)
            if oprop is None and name in oreq and name not in nprops and name in nreq:
                oprop = (True, oreq[name])
            if nprop is None and name in nreq and oprop is not None:
                nprop = (True, nreq[name])
            if oprop is not None and nprop is not None:
                self._property_pair(name, oprop, nprop, o, n, oreq, nreq, out)
            elif nprop is not None:
                self._property_added(name, nprop, nreq, o, out)
            elif oprop is not None:
                self._property_removed(name, oprop, nadd, n, name in oreq, out)
            elif name in nreq and name not in oreq and self.request:
                out.append(
                    Change(
                        "breaking", "property-became-required", "is now required", o.body, nreq[name], (name,)
                    )
                )
        if self.request:
            if nadd is False and oadd is not False:
                out.append(
                    Change(
                        "breaking",
                        "additional-properties-closed",
                        "no longer accepts properties it does not list (additionalProperties: false)",
                        oadd_p or o.body,
                        nadd_p,
                    )
                )
            elif oadd is False and nadd is not False:
                out.append(
                    Change(
                        "info",
                        "additional-properties-opened",
                        "now accepts other properties",
                        oadd_p,
                        nadd_p or n.body,
                    )
                )
        elif oadd is False and nadd is not False:
            out.append(
                Change(
                    "warning",
                    "additional-properties-opened",
                    "may now carry properties it does not list",
                    oadd_p,
                    nadd_p or n.body,
                )
            )
        elif nadd is False and oadd is not False:
            out.append(
                Change(
                    "info",
                    "additional-properties-closed",
                    "no longer carries unlisted properties",
                    oadd_p or o.body,
                    nadd_p,
                )
            )
        if (isinstance(oadd, dict) or isinstance(nadd, dict)) and oadd is not False and nadd is not False:
            sub = self._flats(
                flatten(self.old, oadd if isinstance(oadd, dict) else {}, oadd_p or o.body),
                flatten(self.new, nadd if isinstance(nadd, dict) else {}, nadd_p or n.body),
            )
            out.extend(c.under("*") for c in sub)

    def _property_pair(
        self,
        name: str,
        oprop: tuple[Any, str],
        nprop: tuple[Any, str],
        o: Flat,
        n: Flat,
        oreq: dict[str, str],
        nreq: dict[str, str],
        out: list[Change],
    ) -> None:
        oflat, nflat = flatten(self.old, *oprop), flatten(self.new, *nprop)
        out.extend(c.under(name) for c in self._flats(oflat, nflat))
        if self.request:
            if name in nreq and name not in oreq and not _flag(nflat, "readOnly"):
                out.append(
                    Change(
                        "breaking",
                        "property-became-required",
                        "is now required",
                        oprop[1],
                        nreq[name],
                        (name,),
                    )
                )
            elif name in oreq and name not in nreq:
                out.append(
                    Change(
                        "info", "property-became-optional", "is now optional", oreq[name], nprop[1], (name,)
                    )
                )
        elif name in oreq and name not in nreq and not _flag(oflat, "writeOnly"):
            out.append(
                Change(
                    "breaking",
                    "property-became-optional",
                    "is no longer required: it may be absent",
                    oreq[name],
                    nprop[1],
                    (name,),
                )
            )
        elif name in nreq and name not in oreq:
            out.append(
                Change(
                    "info", "property-became-required", "is now always present", oprop[1], nreq[name], (name,)
                )
            )
        if _flag(nflat, "deprecated") and not _flag(oflat, "deprecated"):
            out.append(
                Change("info", "property-deprecated", "is now deprecated", oprop[1], nprop[1], (name,))
            )

    def _property_added(
        self, name: str, nprop: tuple[Any, str], nreq: dict[str, str], o: Flat, out: list[Change]
    ) -> None:
        nflat = flatten(self.new, *nprop)
        if self.request:
            if name in nreq and not _flag(nflat, "readOnly"):
                out.append(
                    Change(
                        "breaking",
                        "property-added-required",
                        "new required property",
                        o.body,
                        nprop[1],
                        (name,),
                    )
                )
            else:
                out.append(
                    Change("info", "property-added", "new optional property", o.body, nprop[1], (name,))
                )
        elif not _flag(nflat, "writeOnly"):
            out.append(Change("info", "property-added", "new property", o.body, nprop[1], (name,)))

    def _property_removed(
        self, name: str, oprop: tuple[Any, str], nadd: Any, n: Flat, required: bool, out: list[Change]
    ) -> None:
        oflat = flatten(self.old, *oprop)
        if self.request:
            if _flag(oflat, "readOnly"):
                return
            if nadd is False:
                out.append(
                    Change(
                        "breaking",
                        "property-removed",
                        "removed, and the object no longer accepts unlisted properties",
                        oprop[1],
                        n.body,
                        (name,),
                    )
                )
            else:
                out.append(
                    Change(
                        "warning",
                        "property-removed",
                        "removed: the server may ignore it from now on",
                        oprop[1],
                        n.body,
                        (name,),
                    )
                )
        elif required and not _flag(oflat, "writeOnly"):
            out.append(Change("breaking", "property-removed", "removed", oprop[1], n.body, (name,)))
        elif not _flag(oflat, "writeOnly"):  # the client copes with its absence already
            detail = "removed (it was optional: clients already cope without it)"
            out.append(Change("warning", "property-removed", detail, oprop[1], n.body, (name,)))

    def _items(self, o: Flat, n: Flat, out: list[Change]) -> None:
        (oi, op), (ni, np_) = o.get("items"), n.get("items")
        if oi is None and ni is None:
            return
        oflat = flatten(self.old, oi if oi is not None else {}, op or o.body)
        nflat = flatten(self.new, ni if ni is not None else {}, np_ or n.body)
        out.extend(c.under("[]") for c in self._flats(oflat, nflat))

    def _annotations(self, o: Flat, n: Flat, out: list[Change]) -> None:
        (od, op), (nd, np_) = o.get("description"), n.get("description")
        if od != nd:
            out.append(
                Change("info", "description-changed", "description changed", op or o.body, np_ or n.body)
            )


def _breaking(changes: list[Change]) -> int:
    return sum(c.level == "breaking" for c in changes)


def _flag(flat: Flat, keyword: str) -> bool:
    return flat.get(keyword)[0] is True


def _lower(flat: Flat) -> tuple[Any, bool, str] | None:
    return _numeric(flat, "minimum", "exclusiveMinimum", max)


def _upper(flat: Flat) -> tuple[Any, bool, str] | None:
    return _numeric(flat, "maximum", "exclusiveMaximum", min)


def _numeric(
    flat: Flat, inclusive: str, exclusive: str, pick: Callable[..., tuple[Any, bool, str]]
) -> tuple[Any, bool, str] | None:
    (value, pointer), (excl, excl_pointer) = flat.get(inclusive), flat.get(exclusive)
    if isinstance(excl, bool):  # OpenAPI 3.0: a flag on the inclusive bound
        return (value, excl, pointer) if _number(value) else None
    candidates = [(value, False, pointer)] if _number(value) else []
    if _number(excl):
        candidates.append((excl, True, excl_pointer))
    if not candidates:
        return None
    # The tighter bound wins: for a lower bound the larger value (exclusive first on a tie), and so on.
    if pick is max:
        return max(candidates, key=lambda c: (c[0], c[1]))
    return min(candidates, key=lambda c: (c[0], not c[1]))


def _bound_text(bound: tuple[Any, bool, str]) -> str:
    return f"{show(bound[0])} (exclusive)" if bound[1] else show(bound[0])
