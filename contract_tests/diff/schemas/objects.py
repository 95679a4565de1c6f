"""Object rules of a schema comparison: properties, required, additionalProperties."""

from __future__ import annotations

from typing import Any

from contract_tests.diff.resolve import Document, Flat, flatten
from contract_tests.diff.schemas.change import (
    Change,
    OneSide,
    flag,
)


class ObjectRules(OneSide):
    """Mixed into SchemaDiff: an object's properties, each compared as a schema of its own."""

    old: Document
    new: Document

    def _flats(self, o: Flat, n: Flat) -> list[Change]:
        raise NotImplementedError  # SchemaDiff's

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
            if name in nreq and name not in oreq and not flag(nflat, "readOnly"):
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
        elif name in oreq and name not in nreq and not flag(oflat, "writeOnly"):
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
        if flag(nflat, "deprecated") and not flag(oflat, "deprecated"):
            out.append(
                Change("info", "property-deprecated", "is now deprecated", oprop[1], nprop[1], (name,))
            )

    def _property_added(
        self, name: str, nprop: tuple[Any, str], nreq: dict[str, str], o: Flat, out: list[Change]
    ) -> None:
        nflat = flatten(self.new, *nprop)
        if self.request:
            if name in nreq and not flag(nflat, "readOnly"):
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
        elif not flag(nflat, "writeOnly"):
            out.append(Change("info", "property-added", "new property", o.body, nprop[1], (name,)))

    def _property_removed(
        self, name: str, oprop: tuple[Any, str], nadd: Any, n: Flat, required: bool, out: list[Change]
    ) -> None:
        oflat = flatten(self.old, *oprop)
        if self.request:
            if flag(oflat, "readOnly"):
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
        elif required and not flag(oflat, "writeOnly"):
            out.append(Change("breaking", "property-removed", "removed", oprop[1], n.body, (name,)))
        elif not flag(oflat, "writeOnly"):  # the client copes with its absence already
            detail = "removed (it was optional: clients already cope without it)"
            out.append(Change("warning", "property-removed", detail, oprop[1], n.body, (name,)))
