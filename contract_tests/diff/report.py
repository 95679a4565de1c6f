"""The diff's findings as text (grouped by operation), JSON, or Markdown for a pull-request comment."""

from __future__ import annotations

import json
from itertools import groupby

from contract_tests.diff.findings import Finding, Level, counts, failing, sort_key

FORMATS = ("text", "json", "markdown")
_MARK = {"breaking": "BREAKING", "warning": "WARNING ", "info": "info    "}
_ICON = {"breaking": "🔴 breaking", "warning": "🟠 warning", "info": "⚪ info"}


def summary(findings: list[Finding], fail_on: Level) -> str:
    n = counts(findings)
    verdict = "breaks clients" if failing(findings, fail_on) else "does not break clients"
    if not findings:
        return "No changes a client could notice."
    return (
        f"{n['breaking']} breaking, {n['warning']} warning(s), {n['info']} info: the new document {verdict}."
    )


def render(findings: list[Finding], *, old: str, new: str, fmt: str, fail_on: Level) -> str:
    ordered = sorted(findings, key=sort_key)
    if fmt == "json":
        return (
            json.dumps(
                {
                    "old": old,
                    "new": new,
                    "fail_on": fail_on,
                    "breaks": bool(failing(ordered, fail_on)),
                    "counts": counts(ordered),
                    "findings": [f.as_dict() for f in ordered],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    if fmt == "markdown":
        return _markdown(ordered, old, new, fail_on)
    return _text(ordered, old, new, fail_on)


def _text(findings: list[Finding], old: str, new: str, fail_on: Level) -> str:
    lines = [f"{old} → {new}"]
    for operation, group in groupby(findings, key=lambda f: f.operation):
        lines += ["", operation]
        for f in group:
            lines.append(f"  {_MARK[f.level]} {f.message} [{f.rule}]")
            lines.append(f"           old: {f.old_pointer or '-'}  new: {f.new_pointer or '-'}")
    lines += ["", summary(findings, fail_on)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(findings: list[Finding], old: str, new: str, fail_on: Level) -> str:
    n = counts(findings)
    head = "breaks clients" if failing(findings, fail_on) else "no breaking change"
    lines = [
        f"### OpenAPI diff: {head}",
        "",
        f"`{_cell(old)}` → `{_cell(new)}` — "
        f"**{n['breaking']}** breaking, **{n['warning']}** warning(s), **{n['info']}** info",
        "",
    ]
    for operation, group in groupby(findings, key=lambda f: f.operation):
        lines += [f"#### `{_cell(operation)}`", "", "| level | change | old | new |", "|---|---|---|---|"]
        for f in group:
            lines.append(
                f"| {_ICON[f.level]} | {_cell(f.message)} <sub>{f.rule}</sub> | "
                f"`{_cell(f.old_pointer) or '-'}` | `{_cell(f.new_pointer) or '-'}` |"
            )
        lines.append("")
    if not findings:
        lines.append("No changes a client could notice.")
    return "\n".join(lines).rstrip("\n") + "\n"
