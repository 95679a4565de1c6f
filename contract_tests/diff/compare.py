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
from pathlib import Path
from typing import Any

from contract_tests.diff.findings import DOCUMENT, Finding, Level, failing, sort_key
from contract_tests.diff.lifecycle import LIFECYCLE_KEYS, Lifecycle, LifecyclePass, Subject
from contract_tests.diff.operation import OperationDiff, op_id
from contract_tests.diff.parameters import param_name, params
from contract_tests.diff.resolve import Document, Op, child, text
from contract_tests.diff.schemas.change import Side
from contract_tests.diff.schemas.compare import SchemaDiff
from contract_tests.diff.unchanged import Unchanged
from mock_server.document.structure import HTTP_METHODS

__all__ = ["BreakingChangeError", "Finding", "Lifecycle", "assert_no_breaking_changes", "diff_documents"]
_TODAY = object()  # the default lifecycle: deprecations judged on the day the check runs


class BreakingChangeError(AssertionError):
    """A new document breaks clients of the old one (an AssertionError: pytest reports a failure)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = [f"{len(findings)} change(s) break clients:"]
        lines += [f"  {f.level.upper()} {f.operation}: {f.message} [{f.rule}]" for f in findings]
        super().__init__("\n".join(lines))


def assert_no_breaking_changes(
    old: str | Path | Mapping[str, Any],
    new: str | Path | Mapping[str, Any],
    *,
    fail_on: Level = "breaking",
    lifecycle: Lifecycle | object | None = _TODAY,
) -> list[Finding]:
    """Fail (AssertionError) with the findings if `new` breaks clients of `old`; returns all findings.

    Each side is a parsed document, a path to a JSON/YAML file, or "git:REV:PATH".
    """
    from contract_tests.diff.source import read_document

    documents = []
    for side in (old, new):
        if isinstance(side, Mapping):
            documents.append((dict(side), "<document>"))
        else:
            documents.append(read_document(str(side)))
    findings = diff_documents(
        documents[0][0],
        documents[1][0],
        old_source=documents[0][1],
        new_source=documents[1][1],
        lifecycle=lifecycle,
    )
    bad = failing(findings, fail_on)
    if bad:
        raise BreakingChangeError(bad)
    return findings


def diff_documents(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_source: str = "old",
    new_source: str = "new",
    lifecycle: Lifecycle | object | None = _TODAY,
) -> list[Finding]:
    """Every change from `old` to `new` a client could notice, sorted by operation then level.

    `lifecycle` judges deprecations and stability levels (contract_tests/diff/lifecycle.py) on a
    given day with a minimum notice; by default today with none; None leaves them out."""
    differ = _Differ(Document(dict(old), old_source), Document(dict(new), new_source))
    findings = differ.run()
    policy = Lifecycle.now() if lifecycle is _TODAY else lifecycle
    if isinstance(policy, Lifecycle):
        findings = LifecyclePass(policy, differ.old, differ.new).run(findings, differ.subjects())
    return sorted(findings, key=sort_key)


_NOWHERE = Op("get", "/", {}, "", [])


def _grouped(operations: Iterator[tuple[tuple[str, str], Op]]) -> dict[tuple[str, str], list[Op]]:
    out: dict[tuple[str, str], list[Op]] = {}
    for key, op in operations:
        out.setdefault(key, []).append(op)
    return out


def _pairs(olds: list[Op], news: list[Op]) -> list[tuple[Op, Op, str]]:
    """Operations that one URL reaches in each document, paired: the same path as written first,
    then in document order. One left over on either side is compared with the other side's first:
    the URL reaches it, and the client cannot tell which definition answers."""
    pairs: list[tuple[Op, Op, str]] = []
    left = list(news)
    rest: list[Op] = []
    for o in olds:
        same = next((n for n in left if n.path == o.path), None)
        if same is None:
            rest.append(o)
        else:
            left.remove(same)
            pairs.append((o, same, o.name))
    for o in rest:
        pairs.append((o, left.pop(0) if left else news[0], o.name))
    pairs += [(olds[0], n, n.name) for n in left]
    return pairs


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


class _Differ:
    """The whole document: servers, and operations matched by method and path template."""

    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self.out: list[Finding] = []
        self.operation = DOCUMENT
        self.matched: list[tuple[Op | None, Op | None, str]] = []  # (old, new, name); None: absent
        self.schemas: dict[tuple[Side, bool], SchemaDiff] = {}

    def add(self, level: Level, rule: str, message: str, old_pointer: str, new_pointer: str) -> None:
        self.out.append(Finding(level, self.operation, old_pointer, new_pointer, message, rule))

    def run(self) -> list[Finding]:
        self.servers()
        olds, news = _grouped(self.operations(self.old)), _grouped(self.operations(self.new))
        every_new = [op for ops in news.values() for op in ops]
        unchanged = Unchanged(self.old, self.new)
        for key, ops in olds.items():
            if key in news:
                for o, n, name in _pairs(ops, news[key]):
                    self.matched.append((o, n, name))
                    if o.path == n.path and unchanged.same([o.node, o.shared], [n.node, n.shared]):
                        continue
                    self.operation = name
                    self.out += OperationDiff(self.old, self.new, name, self.schemas).compare(o, n)
                continue
            for op in ops:
                self.matched.append((op, None, op.name))
                self.operation = op.name
                self.removed(op, every_new)
        for key, ops in news.items():
            if key not in olds:
                for op in ops:
                    self.matched.append((None, op, op.name))
                    self.operation = op.name
                    self.add("info", "operation-added", f"new operation {op.name}.", "", op.pointer)
            if len(ops) > 1:
                self.ambiguous(ops, len(olds.get(key, [])))
        return self.out

    def subjects(self) -> Iterator[Subject]:
        """Every operation and parameter, in both documents, for the lifecycle rules."""
        for o, n, name in self.matched:
            yield Subject(
                "operation",
                name,
                (o or n or _NOWHERE).name,
                o.node if o else None,
                o.pointer if o else "",
                n.node if n else None,
                n.pointer if n else "",
            )
            if not (o and self._has_lifecycle(self.old, o)) and not (n and self._has_lifecycle(self.new, n)):
                continue  # no parameter says anything about its lifecycle (the common case, and cheaper)
            olds = params(self.old, o) if o else {}
            news = params(self.new, n) if n else {}
            for key in {**olds, **news}:
                (op_, opp), (np_, npp) = olds.get(key, ({}, "")), news.get(key, ({}, ""))
                yield Subject(
                    "request-parameter",
                    name,
                    param_name(op_ or np_),
                    op_ or None,
                    opp,
                    np_ or None,
                    npp,
                )

    @staticmethod
    def _has_lifecycle(doc: Document, op: Op) -> bool:
        raw = [*(p for p, _ in op.shared), *(op.node.get("parameters") or [])]
        for param in raw:
            node = doc.deref(param, "")[0] if isinstance(param, dict) and "$ref" in param else param
            if isinstance(node, dict) and any(k in node for k in LIFECYCLE_KEYS):
                return True
        return False

    def removed(self, op: Op, every_new: list[Op]) -> None:
        moved = [
            n
            for n in every_new
            if n.method == op.method and op_id(n) and op_id(n) == op_id(op) and n.path != op.path
        ]
        where = f"{moved[0].pointer}" if moved else ""
        if moved:
            message = f"operation {op.name} moved to {moved[0].path} (operationId {op_id(op)}): clients still call the old path."
        elif not any(_template(n.path) == _template(op.path) for n in every_new):
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

    def ambiguous(self, ops: list[Op], before: int) -> None:
        """One URL, several operations: a client cannot tell which one answers it."""
        self.operation = ops[0].name
        paths = ", ".join(op.path for op in ops)
        self.add(
            "warning" if len(ops) > before else "info",
            "document-ambiguous-paths",
            f"{ops[0].method.upper()} is defined {len(ops)} times for one URL ({paths}): "
            "the document is ambiguous, each definition is compared with its counterpart.",
            ops[0].pointer if before else "",
            ops[1].pointer,
        )

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

    def operations(self, doc: Document) -> Iterator[tuple[tuple[str, str], Op]]:
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
                        Op(method, path, node, child(item_pointer, method), shared),
                    )


def _url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(re.sub(r"\{[^}]*\}", "x", url)).path.rstrip("/")
