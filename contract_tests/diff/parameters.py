"""Parameters from the client's side: matched by location and name (a path one by its place in the URL)."""

from __future__ import annotations

import re
from typing import Any, Protocol

from contract_tests.diff.findings import Level
from contract_tests.diff.resolve import Document, Op, child, text
from contract_tests.diff.schemas.change import Change, Side, show
from contract_tests.diff.schemas.compare import SchemaDiff

_IGNORED_HEADERS = {"accept", "content-type", "authorization"}  # OpenAPI: described elsewhere, ignored


class Reporter(Protocol):
    """Where the findings go, with the schema comparers of the whole document (an `OperationDiff`)."""

    old: Document
    new: Document

    def add(self, level: Level, rule: str, message: str, old_pointer: str, new_pointer: str) -> None: ...

    def changes(self, changes: list[Change], where: str, rule_prefix: str) -> None: ...

    def schemas(self, side: Side, *, wire: bool = False) -> SchemaDiff: ...


def compare_parameters(report: Reporter, o: Op, n: Op) -> None:
    olds, news = params(report.old, o), params(report.new, n)
    # A parameter's value travels as text: `5` is the same text whether the schema says integer
    # or string. One described by `content` (JSON in a query string) keeps JSON's types.
    schemas = {False: report.schemas("request"), True: report.schemas("request", wire=True)}
    for key, (op, opp) in olds.items():
        where = param_name(op)
        if key not in news:
            moved = [
                (k, v)
                for k, v in news.items()
                if k[0] != key[0] and v[0].get("name") == op.get("name") and k not in olds
            ]
            if moved:
                report.add(
                    "breaking",
                    "request-parameter-location-changed",
                    f"{where} moved to the {moved[0][0][0]}.",
                    opp,
                    moved[0][1][1],
                )
            elif key[0] != "path":
                report.add(
                    "warning",
                    "request-parameter-removed",
                    f"{where} was removed: the server may ignore it from now on.",
                    opp,
                    n.pointer,
                )
            continue
        np_, npp = news[key]
        if key[0] == "path" and op.get("name") != np_.get("name"):
            report.add(
                "info",
                "request-parameter-renamed",
                f"{where} is now named `{np_.get('name')}`.",
                opp,
                npp,
            )
        if np_.get("required") is True and op.get("required") is not True and key[0] != "path":
            report.add(
                "breaking",
                "request-parameter-became-required",
                f"{where} is now required.",
                opp,
                child(npp, "required"),
            )
        elif op.get("required") is True and np_.get("required") is not True and key[0] != "path":
            report.add("info", "request-parameter-became-optional", f"{where} is now optional.", opp, npp)
        for keyword in ("style", "explode"):
            ov, nv = _style(op, key[0])[keyword], _style(np_, key[0])[keyword]
            if ov != nv:
                report.add(
                    "breaking",
                    f"request-parameter-{keyword}-changed",
                    f"{where}: {keyword} changed from {show(ov)} to {show(nv)}, so clients serialise it differently.",
                    child(opp, keyword) if keyword in op else opp,
                    child(npp, keyword) if keyword in np_ else npp,
                )
        if np_.get("allowEmptyValue") is not True and op.get("allowEmptyValue") is True:
            report.add(
                "breaking",
                "request-parameter-empty-value-refused",
                f"{where} no longer accepts an empty value.",
                child(opp, "allowEmptyValue"),
                npp,
            )
        if np_.get("deprecated") is True and op.get("deprecated") is not True:
            report.add("info", "request-parameter-deprecated", f"{where} is now deprecated.", opp, npp)
        if op.get("description") != np_.get("description"):
            report.add(
                "info",
                "request-parameter-description-changed",
                f"{where}: description changed.",
                opp,
                npp,
            )
        (os_, osp), (ns, nsp) = param_schema(op, opp), param_schema(np_, npp)
        wire = "schema" in op and "schema" in np_
        report.changes(schemas[wire].compare(os_, osp, ns, nsp), where, "request-parameter")
    for key, (np_, npp) in news.items():
        if key in olds:
            continue
        moved_here = any(
            k[0] != key[0] and v[0].get("name") == np_.get("name") and k not in news for k, v in olds.items()
        )
        if moved_here:
            continue
        if np_.get("required") is True:
            report.add(
                "breaking",
                "request-parameter-added-required",
                f"new required {param_name(np_)}.",
                o.pointer,
                npp,
            )
        else:
            report.add("info", "request-parameter-added", f"new optional {param_name(np_)}.", o.pointer, npp)


def params(doc: Document, op: Op) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    variables = re.findall(r"\{([^}]*)\}", op.path)
    own = [(p, child(op.pointer, "parameters", i)) for i, p in enumerate(op.node.get("parameters") or [])]
    out: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    unplaced: list[tuple[dict[str, Any], str]] = []
    for raw, pointer in [*op.shared, *own]:  # the operation's own parameters override the path's
        param, where = doc.deref(raw, pointer)
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            continue
        location, name = text(param.get("in", "")), param["name"]
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        if location == "path":
            # Matched by position: the client never sends the name, only the URL.
            if name in variables:
                out[("path", str(variables.index(name)))] = (param, where)
            else:
                unplaced.append((param, where))
            continue
        out[(location, name.lower() if location == "header" else name)] = (param, where)
    # A path parameter named unlike its template variable (`testId` on `/test/{id}`) still
    # describes a segment of the URL: the first one no other parameter describes. One for which
    # no segment is left describes nothing a client sends.
    free = [str(i) for i in range(len(variables)) if ("path", str(i)) not in out]
    for (param, where), position in zip(unplaced, free, strict=False):
        out[("path", position)] = (param, where)
    return out


def param_name(param: dict[str, Any]) -> str:
    location, name = param.get("in"), param.get("name")
    return f"header `{name}`" if location == "header" else f"{location} parameter `{name}`"


def _default_style(location: str) -> str:
    return "form" if location in ("query", "cookie") else "simple"


def _style(param: dict[str, Any], location: str) -> dict[str, Any]:
    style = param.get("style", _default_style(location))
    return {"style": style, "explode": param.get("explode", style == "form")}


def param_schema(param: dict[str, Any], pointer: str) -> tuple[Any, str]:
    if "schema" in param:
        return param["schema"], child(pointer, "schema")
    content = param.get("content")
    if isinstance(content, dict):
        for media, value in content.items():
            if isinstance(value, dict) and "schema" in value:
                return value["schema"], child(pointer, "content", media, "schema")
    return {}, pointer
