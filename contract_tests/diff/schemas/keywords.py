"""Keyword rules of a schema comparison: enum, bounds, pattern, format, multipleOf, uniqueItems, default."""

from __future__ import annotations

from typing import Any

from contract_tests.diff.findings import Level
from contract_tests.diff.resolve import Flat
from contract_tests.diff.schemas.change import (
    KIND,
    LOWER,
    UPPER,
    Change,
    OneSide,
    applies,
    bound_text,
    enum_values,
    kebab,
    lower_bound,
    multiple,
    number,
    show,
    upper_bound,
)
from contract_tests.diff.schemas.pattern import compare as compare_patterns


class KeywordRules(OneSide):
    """Mixed into SchemaDiff: the keywords that constrain one value."""

    wire: bool

    def _enum(self, o: Flat, n: Flat, out: list[Change]) -> None:
        (oe, op), (ne, np_) = enum_values(o, self.wire), enum_values(n, self.wire)
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
        if applies(o, n, "number"):
            self._bound(o, n, out, "minimum", lower_bound(o), lower_bound(n), lower=True)
            self._bound(o, n, out, "maximum", upper_bound(o), upper_bound(n), lower=False)
        for keyword in (*LOWER, *UPPER):
            if not applies(o, n, KIND[keyword]):
                continue
            (ov, op), (nv, np_) = o.get(keyword), n.get(keyword)
            ob = (ov, False, op) if number(ov) else None
            nb = (nv, False, np_) if number(nv) else None
            self._bound(o, n, out, keyword, ob, nb, lower=keyword in LOWER)

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
            detail = f"now has a {name} of {bound_text(nb)}"
        elif nb is None and ob is not None:
            detail = f"no longer has a {name} (was {bound_text(ob)})"
        else:
            assert ob is not None and nb is not None
            verb = "raised" if nb[0] > ob[0] or (nb[0] == ob[0] and lower == nb[1]) else "lowered"
            detail = f"{name} {verb} from {bound_text(ob)} to {bound_text(nb)}"
            if nb[0] == ob[0]:
                detail = f"{name} {show(nb[0])} is {'now' if nb[1] else 'no longer'} exclusive"
        rule = f"{kebab(name)}-{'narrowed' if tighter else 'widened'}"
        if self.request:
            level: Level = "breaking" if tighter else "info"
        else:
            level = "info" if tighter else "warning"
        out.append(Change(level, rule, detail, op, np_))

    def _keywords(self, o: Flat, n: Flat, out: list[Change]) -> None:
        if applies(o, n, "string"):
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
        if not applies(o, n, "number"):
            om = nm = None
        om, nm = (om if number(om) and om > 0 else None), (nm if number(nm) and nm > 0 else None)
        if om != nm:
            if self.request:
                bad = nm is not None and (om is None or not multiple(om, nm))
            else:
                bad = om is not None and (nm is None or not multiple(nm, om))
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
        if not applies(o, n, "array"):
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
