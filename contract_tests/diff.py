"""Does a new version of an OpenAPI document break the clients of the old one?

    findings = diff_documents(old_dict, new_dict)      # pure: two parsed documents in, findings out
    assert_no_breaking_changes("git:origin/main:spec/api-v2.json", "spec/api-v2.json")   # in pytest

Changes are judged from the client's side with `$ref`s resolved, so a `$ref` inlined, key order and
JSON against YAML are never changes. Operations are matched by method and path template (path
variable names do not matter to a client), parameters by location and name, schemas structurally.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract_tests.diff_findings import DOCUMENT, Finding, Level, failing, sort_key
from contract_tests.diff_resolve import Document, child, text
from contract_tests.diff_schema import Change, SchemaDiff, Side, show
from mock_server.contract import HTTP_METHODS

__all__ = ["BreakingChangeError", "Finding", "assert_no_breaking_changes", "diff_documents"]

_IGNORED_HEADERS = {"accept", "content-type", "authorization"}  # OpenAPI: described elsewhere, ignored


class BreakingChangeError(AssertionError):
    """A new document breaks clients of the old one (an AssertionError: pytest reports a failure)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = [f"{len(findings)} change(s) break clients:"]
        lines += [f"  {f.level.upper()} {f.operation}: {f.message} [{f.rule}]" for f in findings]
        super().__init__("\n".join(lines))


def assert_no_breaking_changes(
    old: str | Path | Mapping[str, Any], new: str | Path | Mapping[str, Any], *, fail_on: Level = "breaking"
) -> list[Finding]:
    """Fail (AssertionError) with the findings if `new` breaks clients of `old`; returns all findings.

    Each side is a parsed document, a path to a JSON/YAML file, or "git:REV:PATH".
    """
    from contract_tests.diff_source import read_document

    documents = []
    for side in (old, new):
        if isinstance(side, Mapping):
            documents.append((dict(side), "<document>"))
        else:
            documents.append(read_document(str(side)))
    findings = diff_documents(
        documents[0][0], documents[1][0], old_source=documents[0][1], new_source=documents[1][1]
    )
    bad = failing(findings, fail_on)
    if bad:
        raise BreakingChangeError(bad)
    return findings


def diff_documents(
    old: Mapping[str, Any], new: Mapping[str, Any], *, old_source: str = "old", new_source: str = "new"
) -> list[Finding]:
    """Every change from `old` to `new` a client could notice, sorted by operation then level."""
    differ = _Differ(Document(dict(old), old_source), Document(dict(new), new_source))
    return sorted(differ.run(), key=sort_key)


@dataclass(frozen=True)
class _Op:
    method: str
    path: str
    node: dict[str, Any]
    pointer: str
    shared: list[tuple[Any, str]]  # path-level parameters

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _media(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


class _Differ:
    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self.out: list[Finding] = []
        self.operation = DOCUMENT
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

    def schemas(self, side: Side) -> SchemaDiff:
        # One memo per operation and side, so a shared schema's changes appear under every operation.
        return SchemaDiff(self.old, self.new, side)

    # -- the document -------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        self.servers()
        olds, news = dict(self.operations(self.old)), dict(self.operations(self.new))
        for key, op in olds.items():
            self.operation = op.name
            if key in news:
                self.compare_operation(op, news[key])
                continue
            moved = [
                n
                for n in news.values()
                if n.method == op.method and _op_id(n) and _op_id(n) == _op_id(op) and n.path != op.path
            ]
            where = f"{moved[0].pointer}" if moved else ""
            if moved:
                message = f"operation {op.name} moved to {moved[0].path} (operationId {_op_id(op)}): clients still call the old path."
            elif not any(_template(n.path) == _template(op.path) for n in news.values()):
                message = f"path {op.path} was removed, and with it {op.name}."
            else:
                message = f"operation {op.name} was removed."
            self.add(
                "breaking",
                "operation-removed" if not moved else "operation-path-changed",
                message,
                op.pointer,
                where,
            )
        for key, op in news.items():
            if key not in olds:
                self.operation = op.name
                self.add("info", "operation-added", f"new operation {op.name}.", "", op.pointer)
        return self.out

    def servers(self) -> None:
        def first(doc: Document) -> tuple[str, str]:
            servers = doc.root.get("servers")
            if isinstance(servers, list) and servers and isinstance(servers[0], dict):
                return text(servers[0].get("url", "/")), "/servers/0/url"
            return "/", ""

        (old_url, op), (new_url, np_) = first(self.old), first(self.new)
        if old_url == new_url:
            return
        old_path, new_path = _url_path(old_url), _url_path(new_url)
        if old_path != new_path:
            self.add(
                "breaking",
                "server-base-path-changed",
                f"the base path of the first server changed from {old_path or '/'} to {new_path or '/'}: every operation moved.",
                op,
                np_,
            )
        else:
            self.add(
                "warning",
                "server-url-changed",
                f"the first server URL changed from {old_url} to {new_url}: clients configured with the old one keep calling it.",
                op,
                np_,
            )

    def operations(self, doc: Document) -> Iterator[tuple[tuple[str, str], _Op]]:
        paths = doc.root.get("paths")
        if not isinstance(paths, dict):
            return
        for path, raw in paths.items():
            item, item_pointer = doc.deref(raw, child("/paths", path))
            if not isinstance(item, dict):
                continue
            shared = [
                (p, child(item_pointer, "parameters", i)) for i, p in enumerate(item.get("parameters") or [])
            ]
            for method in HTTP_METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    yield (
                        (method, _template(path)),
                        _Op(method, path, node, child(item_pointer, method), shared),
                    )

    # -- one operation ---------------------------------------------------------------------------

    def compare_operation(self, o: _Op, n: _Op) -> None:
        for key in ("summary", "description"):
            if o.node.get(key) != n.node.get(key):
                self.add(
                    "info",
                    f"operation-{key}-changed",
                    f"the operation's {key} changed.",
                    child(o.pointer, key),
                    child(n.pointer, key),
                )
        if _op_id(o) != _op_id(n):
            self.add(
                "warning",
                "operation-id-changed",
                f"operationId changed from {show(_op_id(o))} to {show(_op_id(n))}: generated clients may rename the method.",
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
        self.parameters(o, n)
        self.request_body(o, n)
        self.responses(o, n)
        self.security(o, n)

    def parameters(self, o: _Op, n: _Op) -> None:
        olds, news = self.params(self.old, o), self.params(self.new, n)
        schemas = self.schemas("request")
        for key, (op, opp) in olds.items():
            where = _param_name(op)
            if key not in news:
                moved = [
                    (k, v)
                    for k, v in news.items()
                    if k[0] != key[0] and v[0].get("name") == op.get("name") and k not in olds
                ]
                if moved:
                    self.add(
                        "breaking",
                        "request-parameter-location-changed",
                        f"{where} moved to the {moved[0][0][0]}.",
                        opp,
                        moved[0][1][1],
                    )
                elif key[0] != "path":
                    self.add(
                        "warning",
                        "request-parameter-removed",
                        f"{where} was removed: the server may ignore it from now on.",
                        opp,
                        n.pointer,
                    )
                continue
            np_, npp = news[key]
            if key[0] == "path" and op.get("name") != np_.get("name"):
                self.add(
                    "info",
                    "request-parameter-renamed",
                    f"{where} is now named `{np_.get('name')}`.",
                    opp,
                    npp,
                )
            if np_.get("required") is True and op.get("required") is not True and key[0] != "path":
                self.add(
                    "breaking",
                    "request-parameter-became-required",
                    f"{where} is now required.",
                    opp,
                    child(npp, "required"),
                )
            elif op.get("required") is True and np_.get("required") is not True and key[0] != "path":
                self.add("info", "request-parameter-became-optional", f"{where} is now optional.", opp, npp)
            for keyword in ("style", "explode"):
                ov, nv = _style(op, key[0])[keyword], _style(np_, key[0])[keyword]
                if ov != nv:
                    self.add(
                        "breaking",
                        f"request-parameter-{keyword}-changed",
                        f"{where}: {keyword} changed from {show(ov)} to {show(nv)}, so clients serialise it differently.",
                        child(opp, keyword) if keyword in op else opp,
                        child(npp, keyword) if keyword in np_ else npp,
                    )
            if np_.get("allowEmptyValue") is not True and op.get("allowEmptyValue") is True:
                self.add(
                    "breaking",
                    "request-parameter-empty-value-refused",
                    f"{where} no longer accepts an empty value.",
                    child(opp, "allowEmptyValue"),
                    npp,
                )
            if np_.get("deprecated") is True and op.get("deprecated") is not True:
                self.add("info", "request-parameter-deprecated", f"{where} is now deprecated.", opp, npp)
            if op.get("description") != np_.get("description"):
                self.add(
                    "info",
                    "request-parameter-description-changed",
                    f"{where}: description changed.",
                    opp,
                    npp,
                )
            (os_, osp), (ns, nsp) = _param_schema(op, opp), _param_schema(np_, npp)
            self.changes(schemas.compare(os_, osp, ns, nsp), where, "request-parameter")
        for key, (np_, npp) in news.items():
            if key in olds:
                continue
            moved_here = any(
                k[0] != key[0] and v[0].get("name") == np_.get("name") and k not in news
                for k, v in olds.items()
            )
            if moved_here:
                continue
            if np_.get("required") is True:
                self.add(
                    "breaking",
                    "request-parameter-added-required",
                    f"new required {_param_name(np_)}.",
                    o.pointer,
                    npp,
                )
            else:
                self.add(
                    "info", "request-parameter-added", f"new optional {_param_name(np_)}.", o.pointer, npp
                )

    def params(self, doc: Document, op: _Op) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        variables = re.findall(r"\{([^}]*)\}", op.path)
        own = [(p, child(op.pointer, "parameters", i)) for i, p in enumerate(op.node.get("parameters") or [])]
        out: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for raw, pointer in [*op.shared, *own]:  # the operation's own parameters override the path's
            param, where = doc.deref(raw, pointer)
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                continue
            location, name = text(param.get("in", "")), param["name"]
            if location == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            if (
                location == "path" and name in variables
            ):  # matched by position: the client never sends the name
                key = ("path", str(variables.index(name)))
            else:
                key = (location, name.lower() if location == "header" else name)
            out[key] = (param, where)
        return out

    def request_body(self, o: _Op, n: _Op) -> None:
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

    def _body(self, doc: Document, op: _Op) -> tuple[dict[str, Any] | None, str]:
        raw = op.node.get("requestBody")
        if raw is None:
            return None, ""
        body, pointer = doc.deref(raw, child(op.pointer, "requestBody"))
        return (body if isinstance(body, dict) else None), pointer

    def responses(self, o: _Op, n: _Op) -> None:
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

    def _responses(self, doc: Document, op: _Op) -> dict[str, tuple[dict[str, Any], str]]:
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
        schemas = self.schemas("response")
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
            (os_, osp), (ns, nsp) = _param_schema(header, pointer), _param_schema(nheader, npointer)
            self.changes(schemas.compare(os_, osp, ns, nsp), where, "response-header")
        for key, (name, _, pointer) in news.items():
            if key not in olds:
                self.add(
                    "info",
                    "response-header-added",
                    f"response {status} has a new header `{name}`.",
                    obp,
                    pointer,
                )

    def security(self, o: _Op, n: _Op) -> None:
        (olds, op), (news, np_) = self._security(self.old, o), self._security(self.new, n)
        old_open = not olds or any(not creds for creds, _ in olds)
        new_open = not news or any(not creds for creds, _ in news)
        if new_open:
            if not old_open:
                self.add("info", "security-removed", "authentication is no longer required.", op, np_)
            return
        if old_open:
            self.add(
                "breaking", "security-added", f"authentication is now required ({_creds(news[0])}).", op, np_
            )
            return
        refused = False
        for alternative in olds:
            if any(_satisfies(alternative[0], ncreds) for ncreds, _ in news):
                continue
            refused = True
            if not self._renamed_key(alternative, news):
                self.add(
                    "breaking",
                    "security-changed",
                    f"clients authenticating with {_creds(alternative)} are refused: it now takes "
                    f"{' or '.join(_creds(a) for a in news)}.",
                    op,
                    np_,
                )
        for alternative in news:
            if not refused and not any(_satisfies(ocreds, alternative[0]) for ocreds, _ in olds):
                self.add(
                    "info",
                    "security-alternative-added",
                    f"clients may now also authenticate with {_creds(alternative)}.",
                    op,
                    np_,
                )

    def _renamed_key(self, alternative: _Alternative, news: list[_Alternative]) -> bool:
        """An API key whose header (or query/cookie) name changed: say which name, point at it."""
        creds, shown = alternative
        keys = [c for c in creds if c[0] == "apiKey"]
        for ncreds, nshown in news:
            nkeys = [c for c in ncreds if c[0] == "apiKey"]
            if len(keys) == 1 and len(nkeys) == 1 and len(creds) == len(ncreds):
                (old_pointer, old_name), (new_pointer, new_name) = shown[keys[0]], nshown[nkeys[0]]
                what, now = f"the API key {keys[0][1]} `{old_name}`", f"{nkeys[0][1]} `{new_name}`"
                detail = (
                    f"{what} changed to {now}" if keys[0][1] == nkeys[0][1] else f"{what} moved to the {now}"
                )
                self.add(
                    "breaking",
                    "security-api-key-changed",
                    f"{detail}: clients sending the old one are refused.",
                    old_pointer,
                    new_pointer,
                )
                return True
        return False

    def _security(self, doc: Document, op: _Op) -> tuple[list[_Alternative], str]:
        if "security" in op.node:
            raw, pointer = op.node["security"], child(op.pointer, "security")
        else:
            raw, pointer = doc.root.get("security"), "/security"
        schemes = (doc.root.get("components") or {}).get("securitySchemes") or {}
        out = []
        for requirement in raw if isinstance(raw, list) else []:
            if not isinstance(requirement, dict):
                continue
            creds: dict[tuple[str, ...], set[str]] = {}
            shown: dict[tuple[str, ...], tuple[str, str]] = {}
            for name, scopes in requirement.items():
                scheme, where = doc.deref(schemes.get(name), child("/components/securitySchemes", name))
                cred, label = _credential(name, scheme)
                creds[cred] = {text(s) for s in scopes} if isinstance(scopes, list) else set()
                shown[cred] = (child(where, "name") if cred[0] == "apiKey" else where, label)
            out.append((creds, shown))
        return out, pointer


# One way to authenticate: credentials (with their scopes), and for each, where it is written and its name.
_Alternative = tuple[dict[tuple[str, ...], set[str]], dict[tuple[str, ...], tuple[str, str]]]


def _credential(name: str, scheme: Any) -> tuple[tuple[str, ...], str]:
    if not isinstance(scheme, dict):
        return ("unknown", name), name
    kind = text(scheme.get("type", ""))
    if kind == "apiKey":
        location, key = text(scheme.get("in", "")), text(scheme.get("name", ""))
        return ("apiKey", location, key.lower() if location == "header" else key), key
    if kind == "http":
        return ("http", text(scheme.get("scheme", "")).lower()), name
    return (kind,), name


def _satisfies(creds: dict[tuple[str, ...], set[str]], needed: dict[tuple[str, ...], set[str]]) -> bool:
    """Does a client presenting `creds` (with their scopes) meet the requirement `needed`?"""
    return all(c in creds and scopes <= creds[c] for c, scopes in needed.items())


def _creds(alternative: _Alternative) -> str:
    creds, shown = alternative
    parts = []
    for cred in creds:
        if cred[0] == "apiKey":
            parts.append(f"an API key in {cred[1]} `{shown[cred][1]}`")
        elif cred[0] == "http":
            parts.append(f"HTTP {cred[1]} authentication")
        else:
            parts.append(f"{cred[0]} `{shown[cred][1]}`")
    return " and ".join(parts) or "no credentials"


def _op_id(op: _Op) -> str | None:
    value = op.node.get("operationId")
    return text(value) if value is not None else None


def _url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(re.sub(r"\{[^}]*\}", "x", url)).path.rstrip("/")


def _param_name(param: dict[str, Any]) -> str:
    location, name = param.get("in"), param.get("name")
    return f"header `{name}`" if location == "header" else f"{location} parameter `{name}`"


def _default_style(location: str) -> str:
    return "form" if location in ("query", "cookie") else "simple"


def _style(param: dict[str, Any], location: str) -> dict[str, Any]:
    style = param.get("style", _default_style(location))
    return {"style": style, "explode": param.get("explode", style == "form")}


def _param_schema(param: dict[str, Any], pointer: str) -> tuple[Any, str]:
    if "schema" in param:
        return param["schema"], child(pointer, "schema")
    content = param.get("content")
    if isinstance(content, dict):
        for media, value in content.items():
            if isinstance(value, dict) and "schema" in value:
                return value["schema"], child(pointer, "content", media, "schema")
    return {}, pointer


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
