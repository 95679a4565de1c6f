"""One operation in two documents: its parameters, request body, responses and security."""

from __future__ import annotations

import re
from typing import Any

from contract_tests.diff.findings import Finding, Level
from contract_tests.diff.parameters import compare_parameters, param_schema
from contract_tests.diff.resolve import Document, Op, child, text
from contract_tests.diff.schemas.change import Change, Side, show
from contract_tests.diff.schemas.compare import SchemaDiff
from contract_tests.diff.security import compare_security


class OperationDiff:
    def __init__(
        self,
        old: Document,
        new: Document,
        operation: str,
        shared: dict[tuple[Side, bool], SchemaDiff] | None = None,
    ) -> None:
        self.old, self.new = old, new
        # Schema comparisons shared across operations (a document's operations share components).
        self.shared: dict[tuple[Side, bool], SchemaDiff] = {} if shared is None else shared
        for schemas in self.shared.values():
            schemas.begin()
        self.operation = operation
        self.out: list[Finding] = []
        self.seen: set[tuple[str, ...]] = set()

    def add(self, level: Level, rule: str, message: str, old_pointer: str, new_pointer: str) -> None:
        self.out.append(Finding(level, self.operation, old_pointer, new_pointer, message, rule))

    def changes(self, changes: list[Change], where: str, rule_prefix: str) -> None:
        # A schema reached along several paths (shared, or recursive) changed once: report it once,
        # under its shortest path.
        for c in sorted(changes, key=lambda c: len(c.field)):
            seen = (self.operation, where, rule_prefix, c.rule, c.old_pointer, c.new_pointer)
            if seen in self.seen:
                continue
            self.seen.add(seen)
            name = "".join(s if s == "[]" else "." + s for s in c.field).lstrip(".")
            subject = f"{where} property `{name}`" if name else where
            self.add(
                c.level, f"{rule_prefix}-{c.rule}", f"{subject}: {c.detail}.", c.old_pointer, c.new_pointer
            )

    def schemas(self, side: Side, *, wire: bool = False) -> SchemaDiff:
        # One comparer per side for the whole document: its results are shared, and `changes`
        # still reports a shared schema's changes under every operation that reaches it.
        if (side, wire) not in self.shared:
            self.shared[(side, wire)] = SchemaDiff(self.old, self.new, side, wire=wire)
        return self.shared[(side, wire)]

    def compare(self, o: Op, n: Op) -> list[Finding]:
        for key in ("summary", "description"):
            if o.node.get(key) != n.node.get(key):
                self.add(
                    "info",
                    f"operation-{key}-changed",
                    f"the operation's {key} changed.",
                    child(o.pointer, key),
                    child(n.pointer, key),
                )
        if op_id(o) != op_id(n):
            self.add(
                "warning",
                "operation-id-changed",
                f"operationId changed from {show(op_id(o))} to {show(op_id(n))}: generated clients may rename the method.",
                child(o.pointer, "operationId"),
                child(n.pointer, "operationId"),
            )
        if n.node.get("deprecated") is True and o.node.get("deprecated") is not True:
            self.add(
                "info",
                "operation-deprecated",
                f"{o.name} is now deprecated.",
                o.pointer,
                child(n.pointer, "deprecated"),
            )
        compare_parameters(self, o, n)
        self.request_body(o, n)
        self.responses(o, n)
        compare_security(self, o.node, o.pointer, n.node, n.pointer)
        return self.out

    def request_body(self, o: Op, n: Op) -> None:
        (ob, obp), (nb, nbp) = self._body(self.old, o), self._body(self.new, n)
        if ob is None and nb is None:
            return
        if ob is None:
            assert nb is not None
            required = nb.get("required") is True
            self.add(
                "breaking" if required else "info",
                "request-body-added-required" if required else "request-body-added",
                "a request body is now required." if required else "an optional request body was added.",
                o.pointer,
                nbp,
            )
            return
        if nb is None:
            self.add(
                "warning",
                "request-body-removed",
                "the request body was removed: the server may ignore it.",
                obp,
                n.pointer,
            )
            return
        if nb.get("required") is True and ob.get("required") is not True:
            self.add(
                "breaking",
                "request-body-became-required",
                "the request body is now required.",
                obp,
                child(nbp, "required"),
            )
        elif ob.get("required") is True and nb.get("required") is not True:
            self.add("info", "request-body-became-optional", "the request body is now optional.", obp, nbp)
        ocontent, ncontent = _content(ob), _content(nb)
        schemas = self.schemas("request")
        matched: set[str] = set()
        for media, (raw, _) in ocontent.items():
            found = _accepting(media, ncontent)
            if found is None:
                self.add(
                    "breaking",
                    "request-media-type-removed",
                    f"the request body can no longer be sent as {raw} (now: {_list(ncontent)}).",
                    child(obp, "content", raw),
                    child(nbp, "content"),
                )
                continue
            matched.add(found)
            where = "request body" if len(ocontent) == 1 else f"request body ({raw})"
            self._media_schemas(schemas, ocontent[media], ncontent[found], obp, nbp, where, "request-body")
        for media, (raw, _) in ncontent.items():
            if media not in matched:
                self.add(
                    "info",
                    "request-media-type-added",
                    f"the request body may now also be sent as {raw}.",
                    child(obp, "content"),
                    child(nbp, "content", raw),
                )

    def _media_schemas(
        self,
        schemas: SchemaDiff,
        o: tuple[str, Any],
        n: tuple[str, Any],
        obp: str,
        nbp: str,
        where: str,
        rule_prefix: str,
    ) -> None:
        (oraw, omedia), (nraw, nmedia) = o, n
        opointer, npointer = child(obp, "content", oraw), child(nbp, "content", nraw)
        oschema = omedia.get("schema") if isinstance(omedia, dict) else None
        nschema = nmedia.get("schema") if isinstance(nmedia, dict) else None
        if oschema is None and nschema is None:
            return
        self.changes(
            schemas.compare(
                oschema if oschema is not None else {},
                child(opointer, "schema"),
                nschema if nschema is not None else {},
                child(npointer, "schema"),
            ),
            where,
            rule_prefix,
        )

    def _body(self, doc: Document, op: Op) -> tuple[dict[str, Any] | None, str]:
        raw = op.node.get("requestBody")
        if raw is None:
            return None, ""
        body, pointer = doc.deref(raw, child(op.pointer, "requestBody"))
        return (body if isinstance(body, dict) else None), pointer

    def responses(self, o: Op, n: Op) -> None:
        olds, news = self._responses(self.old, o), self._responses(self.new, n)
        old_success = [s for s in olds if s.startswith("2")]
        new_success = [s for s in news if s.startswith("2")]
        replacing = [s for s in new_success if s not in olds]
        for status, (_, pointer) in olds.items():
            if status in news:
                continue
            if status.startswith("2"):
                covering = f"{status[0]}XX"
                if covering in news:
                    self.response(status, olds[status], news[covering])
                    continue
                if replacing:
                    self.add(
                        "breaking",
                        "response-success-status-changed",
                        f"the success status changed from {status} to {', '.join(replacing)}.",
                        pointer,
                        news[replacing[0]][1],
                    )
                else:
                    self.add(
                        "breaking",
                        "response-success-status-removed",
                        f"the success status {status} was removed.",
                        pointer,
                        child(n.pointer, "responses"),
                    )
            else:
                self.add(
                    "info",
                    "response-status-removed",
                    f"response {status} is no longer documented.",
                    pointer,
                    child(n.pointer, "responses"),
                )
        for status, (_, pointer) in news.items():
            if status in olds:
                self.response(status, olds[status], news[status])
            elif status.startswith("2"):
                if not [s for s in old_success if s not in news]:
                    self.add(
                        "warning",
                        "response-success-status-added",
                        f"new success status {status}: clients may not expect it.",
                        child(o.pointer, "responses"),
                        pointer,
                    )
            else:
                self.add(
                    "info",
                    "response-status-added",
                    f"new response status {status}.",
                    child(o.pointer, "responses"),
                    pointer,
                )

    def _responses(self, doc: Document, op: Op) -> dict[str, tuple[dict[str, Any], str]]:
        raw = op.node.get("responses")
        out: dict[str, tuple[dict[str, Any], str]] = {}
        if isinstance(raw, dict):
            for status, response in raw.items():
                node, pointer = doc.deref(response, child(op.pointer, "responses", status))
                if isinstance(node, dict):
                    out[status.upper()] = (node, pointer)
        return out

    def response(self, status: str, old: tuple[dict[str, Any], str], new: tuple[dict[str, Any], str]) -> None:
        (ob, obp), (nb, nbp) = old, new
        where = f"response {status}"
        ocontent, ncontent = _content(ob), _content(nb)
        if ocontent and not ncontent:
            self.add(
                "breaking",
                "response-body-removed",
                f"{where} no longer has a body ({_list(ocontent)}).",
                child(obp, "content"),
                nbp,
            )
        elif ncontent and not ocontent:
            self.add(
                "info",
                "response-body-added",
                f"{where} now has a body ({_list(ncontent)}).",
                obp,
                child(nbp, "content"),
            )
        else:
            schemas = self.schemas("response")
            for media, (raw, _) in ocontent.items():
                if media not in ncontent:
                    self.add(
                        "breaking",
                        "response-media-type-changed",
                        f"{where} is no longer sent as {raw} (now: {_list(ncontent)}).",
                        child(obp, "content", raw),
                        child(nbp, "content"),
                    )
                    continue
                label = f"{where} body" if len(ocontent) == 1 else f"{where} body ({raw})"
                self._media_schemas(
                    schemas, ocontent[media], ncontent[media], obp, nbp, label, "response-body"
                )
            for media, (raw, _) in ncontent.items():
                if media not in ocontent:
                    self.add(
                        "info",
                        "response-media-type-added",
                        f"{where} may now also be sent as {raw}.",
                        child(obp, "content"),
                        child(nbp, "content", raw),
                    )
        self.response_headers(status, ob, obp, nb, nbp)

    def response_headers(
        self, status: str, ob: dict[str, Any], obp: str, nb: dict[str, Any], nbp: str
    ) -> None:
        def headers(
            doc: Document, node: dict[str, Any], pointer: str
        ) -> dict[str, tuple[str, dict[str, Any], str]]:
            out: dict[str, tuple[str, dict[str, Any], str]] = {}
            raw = node.get("headers")
            if isinstance(raw, dict):
                for name, header in raw.items():
                    value, where = doc.deref(header, child(pointer, "headers", name))
                    if isinstance(value, dict) and name.lower() != "content-type":
                        out[name.lower()] = (name, value, where)
            return out

        olds, news = headers(self.old, ob, obp), headers(self.new, nb, nbp)
        schemas = {False: self.schemas("response"), True: self.schemas("response", wire=True)}
        for key, (name, header, pointer) in olds.items():
            where = f"response {status} header `{name}`"
            if key not in news:
                level: Level = "breaking" if header.get("required") is True else "warning"
                self.add(level, "response-header-removed", f"{where} was removed.", pointer, nbp)
                continue
            _, nheader, npointer = news[key]
            if header.get("required") is True and nheader.get("required") is not True:
                self.add(
                    "breaking",
                    "response-header-became-optional",
                    f"{where} is no longer always sent.",
                    pointer,
                    npointer,
                )
            (os_, osp), (ns, nsp) = param_schema(header, pointer), param_schema(nheader, npointer)
            wire = "schema" in header and "schema" in nheader
            self.changes(schemas[wire].compare(os_, osp, ns, nsp), where, "response-header")
        for key, (name, _, pointer) in news.items():
            if key not in olds:
                self.add(
                    "info",
                    "response-header-added",
                    f"response {status} has a new header `{name}`.",
                    obp,
                    pointer,
                )


def op_id(op: Op) -> str | None:
    value = op.node.get("operationId")
    return text(value) if value is not None else None


def _media(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def _content(node: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    content = node.get("content")
    if not isinstance(content, dict):
        return {}
    return {_media(name): (name, value) for name, value in content.items()}


def _accepting(media: str, offered: dict[str, tuple[str, Any]]) -> str | None:
    """The new media type that accepts a body the client sends as `media` (exact, then a range)."""
    if media in offered:
        return media
    main = media.split(";", 1)[0]
    for candidate in (main, main.split("/", 1)[0] + "/*", "*/*"):
        if candidate in offered:
            return candidate
    return None


def _list(content: dict[str, tuple[str, Any]]) -> str:
    return ", ".join(raw for raw, _ in content.values()) or "nothing"
