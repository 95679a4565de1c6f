"""Security from the client's side: can every client that authenticated before still do so?

A requirement is a set of credentials (an API key in a header named X, HTTP bearer, ...); a client
presenting an old requirement's credentials must meet at least one new requirement. Scheme names do
not matter (a renamed scheme with the same header is the same), header names are case-insensitive.
"""

from __future__ import annotations

from typing import Any, Protocol

from contract_tests.diff.findings import Level
from contract_tests.diff.resolve import Document, child, text


class Reporter(Protocol):
    old: Document
    new: Document

    def add(self, level: Level, rule: str, message: str, old_pointer: str, new_pointer: str) -> None: ...


# One way to authenticate: credentials (with their scopes), and for each, where it is written and its name.
_Alternative = tuple[dict[tuple[str, ...], set[str]], dict[tuple[str, ...], tuple[str, str]]]


def compare_security(report: Reporter, o: Any, o_pointer: str, n: Any, n_pointer: str) -> None:
    """Can every client that authenticated before still do so? `o`/`n`: the operations' nodes."""
    (olds, op), (news, np_) = _security(report.old, o, o_pointer), _security(report.new, n, n_pointer)
    old_open = not olds or any(not creds for creds, _ in olds)
    new_open = not news or any(not creds for creds, _ in news)
    if new_open:
        if not old_open:
            report.add("info", "security-removed", "authentication is no longer required.", op, np_)
        return
    if old_open:
        report.add(
            "breaking", "security-added", f"authentication is now required ({_creds(news[0])}).", op, np_
        )
        return
    refused = False
    for alternative in olds:
        if any(_satisfies(alternative[0], ncreds) for ncreds, _ in news):
            continue
        refused = True
        if not _renamed_key(report, alternative, news):
            report.add(
                "breaking",
                "security-changed",
                f"clients authenticating with {_creds(alternative)} are refused: it now takes "
                f"{' or '.join(_creds(a) for a in news)}.",
                op,
                np_,
            )
    for alternative in news:
        if not refused and not any(_satisfies(ocreds, alternative[0]) for ocreds, _ in olds):
            report.add(
                "info",
                "security-alternative-added",
                f"clients may now also authenticate with {_creds(alternative)}.",
                op,
                np_,
            )


def _renamed_key(report: Reporter, alternative: _Alternative, news: list[_Alternative]) -> bool:
    """An API key whose header (or query/cookie) name changed: say which name, point at it."""
    creds, shown = alternative
    keys = [c for c in creds if c[0] == "apiKey"]
    for ncreds, nshown in news:
        nkeys = [c for c in ncreds if c[0] == "apiKey"]
        if len(keys) == 1 and len(nkeys) == 1 and len(creds) == len(ncreds):
            (old_pointer, old_name), (new_pointer, new_name) = shown[keys[0]], nshown[nkeys[0]]
            what, now = f"the API key {keys[0][1]} `{old_name}`", f"{nkeys[0][1]} `{new_name}`"
            detail = f"{what} changed to {now}" if keys[0][1] == nkeys[0][1] else f"{what} moved to the {now}"
            report.add(
                "breaking",
                "security-api-key-changed",
                f"{detail}: clients sending the old one are refused.",
                old_pointer,
                new_pointer,
            )
            return True
    return False


def _security(doc: Document, node: Any, op_pointer: str) -> tuple[list[_Alternative], str]:
    if "security" in node:
        raw, pointer = node["security"], child(op_pointer, "security")
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
