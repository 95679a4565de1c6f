"""Compare two schemas from one side of the wire.

A request schema is read by the server: the new one must accept every value the old one accepted
(narrowing breaks, widening is fine). A response schema is read by the client: the new one must
only produce values the old one could produce (widening breaks or warns, narrowing is fine).
Results are memoised by the pair of schema pointers, which also cuts recursive schemas short.
The rules live by concept: the keywords of one value (diff_keywords), objects (diff_object),
alternatives (diff_variants, with the pairing here); this class walks the two schemas.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from typing import Any

from contract_tests.diff.findings import Level
from contract_tests.diff.resolve import Document, Flat, flatten
from contract_tests.diff.schemas.change import (
    Change,
    Side,
    applies,
    breaking_count,
    covers,
    names,
    overlap,
)
from contract_tests.diff.schemas.keywords import KeywordRules
from contract_tests.diff.schemas.objects import ObjectRules
from contract_tests.diff.schemas.variants import disjoint, identity, pair


class SchemaDiff(KeywordRules, ObjectRules):
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
            if applies(o, n, "object"):
                self._object(o, n, out)
            if applies(o, n, "array"):
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
        lost = [t for t in lost if not covers(nt, t, self.wire)]
        gained = [t for t in sorted(nt or ())] if nt is not None else []
        gained = [t for t in gained if not covers(ot, t, self.wire)]
        if ot is None:
            lost = ["any value"]
        if nt is None:
            gained = ["any value"]
        if not overlap(ot, nt, self.wire):
            out.append(
                Change("breaking", "type-changed", f"type changed from {names(ot)} to {names(nt)}", op, np_)
            )
            return False
        narrowed, widened = " or ".join(lost), " or ".join(gained)
        if self.request:
            if lost:
                out.append(
                    Change(
                        "breaking",
                        "type-narrowed",
                        f"type narrowed from {names(ot)} to {names(nt)}: {narrowed} is no longer accepted",
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
                        f"type changed from {names(ot)} to {names(nt)}: it may now be {widened}",
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
                best = ((breaking_count(changes), len(changes), False), j, changes)
            if best is None or best[0][0]:  # else the closest one (another may accept what this one lost)
                for j, w in enumerate(wanted):
                    if not overlap(g.types(), w.types()) or (best is not None and j == best[1]):
                        continue
                    changes = self._pair(g, w)
                    score = (breaking_count(changes), len(changes), j in used or j in same.values())
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
                            f"no longer accepts {names(g.types())} (an anyOf/oneOf alternative was removed)",
                            g.pointer,
                            n.body,
                        )
                    )
                else:
                    out.append(
                        Change(
                            "breaking",
                            "variant-added",
                            f"may now be {names(g.types())} (a new anyOf/oneOf alternative)",
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
                            f"now also accepts {names(w.types())}",
                            o.body,
                            w.pointer,
                        )
                    )
                else:
                    out.append(
                        Change(
                            "info", "variant-removed", f"is no longer {names(w.types())}", w.pointer, n.body
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
            # Each old oneOf: its alternatives, and which new alternative is which old one.
            before = []
            for _, old in o.exclusive:
                old_flats = [flatten(self.old, r, p) for r, p in old]
                old_keys = [
                    identity(self.old, r, f, o.discriminator)
                    for (r, _), f in zip(old, old_flats, strict=True)
                ]
                before.append((old_flats, pair(keys, old_keys)))
            for i, j in combinations(range(len(flats)), 2):
                a, b = flats[i][1], flats[j][1]
                if disjoint(self.new, a, self.new, b):
                    continue
                if any(
                    i in same and j in same and not disjoint(self.old, olds[same[i]], self.old, olds[same[j]])
                    for olds, same in before
                ):
                    continue  # the old oneOf already held both, and they could overlap then too
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
