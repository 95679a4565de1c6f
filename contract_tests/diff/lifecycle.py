"""Deprecation and stability: when a client was told something would go, or might change.

Operations and parameters carry their lifecycle in the document (as oasdiff reads it):
`deprecated: true`, `x-sunset` (an RFC 3339 date, or date-time: the day it may go) and
`x-stability-level` (`draft` → `alpha` → `beta` → `stable`). Given the day the check runs (`today`)
and the notice a team promises (`deprecation_days`), this pass adjusts the document diff's findings:

- an operation or parameter removed after it was deprecated and its sunset has come (or, with no
  minimum notice, deprecated with no sunset at all) goes as announced: info;
- removed while deprecated but before its sunset (or, with a minimum notice, with no sunset): breaking;
- an operation removed without a deprecation stays breaking; a parameter removed without one keeps
  the diff's own verdict (a warning: the server may ignore it), since nothing was promised about it;
- with `deprecation_days` N, deprecating without a sunset, or with one less than N days ahead, breaks;
  so does moving a sunset earlier;
- the old document's stability level says what a client was promised: a `draft` or `alpha` operation
  or parameter may change freely (its findings become info), a `beta` one's breaking changes become
  warnings; lowering a level (`stable` → `beta`) breaks;
- a malformed `x-sunset` or `x-stability-level` in the new document is itself reported, as a breaking
  finding (exit 1): the lifecycle it was meant to state cannot be judged.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from contract_tests.diff.findings import Finding, Level
from contract_tests.diff.resolve import Document, child, text

STABILITY = ("draft", "alpha", "beta", "stable")
LIFECYCLE_KEYS = ("deprecated", "x-sunset", "x-stability-level")
_SUNSET = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?")
# Findings this pass writes: the stability of what they are about does not soften them.
_OWN = frozenset(
    {
        "lifecycle-sunset-invalid",
        "lifecycle-stability-invalid",
        "operation-stability-decreased",
        "request-parameter-stability-decreased",
        "operation-sunset-earlier",
        "request-parameter-sunset-earlier",
        "operation-deprecated-without-sunset",
        "request-parameter-deprecated-without-sunset",
        "operation-sunset-too-soon",
        "request-parameter-sunset-too-soon",
    }
)


@dataclass(frozen=True)
class Lifecycle:
    today: datetime.date
    deprecation_days: int = 0

    @classmethod
    def now(cls, deprecation_days: int = 0) -> Lifecycle:
        return cls(datetime.datetime.now(datetime.UTC).date(), deprecation_days)


@dataclass(frozen=True)
class Subject:
    """An operation or a parameter in both documents (`new` None when it was removed)."""

    kind: str  # "operation" or "request-parameter"
    operation: str  # the operation name findings carry
    name: str  # how a message names it
    old: dict[str, Any] | None
    old_pointer: str
    new: dict[str, Any] | None
    new_pointer: str


def parse_sunset(value: Any) -> datetime.date | None:
    """The day in an `x-sunset` value, or None when it holds no valid date."""
    if not isinstance(value, str):
        return None
    found = _SUNSET.fullmatch(value.strip())
    if found is None:
        return None
    try:
        return datetime.date.fromisoformat(found.group(1))
    except ValueError:
        return None


def _stability(node: dict[str, Any] | None) -> str | None:
    value = node.get("x-stability-level") if node is not None else None
    return value if value in STABILITY else None


def _deprecated(node: dict[str, Any] | None) -> bool:
    return node is not None and node.get("deprecated") is True


class LifecyclePass:
    def __init__(self, policy: Lifecycle, old: Document, new: Document) -> None:
        self.policy, self.old, self.new = policy, old, new
        self.out: list[Finding] = []

    def add(self, s: Subject, level: Level, rule: str, message: str, old: str, new: str) -> None:
        self.out.append(Finding(level, s.operation, old, new, message, rule))

    def run(self, findings: list[Finding], subjects: Iterable[Subject]) -> list[Finding]:
        subjects = list(subjects)
        removed = {(s.kind, s.operation, s.old_pointer): s for s in subjects if s.new is None}
        adjusted = [self.removal(f, removed) for f in findings]
        for s in subjects:
            self.check(s)
        by_operation: dict[str, list[Subject]] = {}
        for s in subjects:
            if s.old is not None:
                by_operation.setdefault(s.operation, []).append(s)
        adjusted = [self.soften(f, by_operation.get(f.operation, [])) for f in adjusted]
        return adjusted + self.out

    # -- removals ---------------------------------------------------------------------------------

    def removal(self, f: Finding, removed: dict[tuple[str, str, str], Subject]) -> Finding:
        kind = {
            "operation-removed": "operation",
            "operation-path-changed": "operation",
            "request-parameter-removed": "request-parameter",
        }.get(f.rule)
        s = removed.get((kind or "", f.operation, f.old_pointer))
        if kind is None or s is None or not _deprecated(s.old):
            return f
        assert s.old is not None
        raw = s.old.get("x-sunset")
        day = parse_sunset(raw)
        where = child(s.old_pointer, "x-sunset")
        if raw is not None and day is None:
            message = f"{s.name} was removed while deprecated; its x-sunset {text(raw)!r} is not a date, so no notice was given."
            return replace(
                f, level="breaking", rule=f"{kind}-removed-before-sunset", message=message, old_pointer=where
            )
        if day is None:
            if self.policy.deprecation_days > 0:
                message = (
                    f"{s.name} was removed while deprecated with no x-sunset: "
                    f"clients were promised {self.policy.deprecation_days} days' notice."
                )
                return replace(f, level="breaking", rule=f"{kind}-removed-without-sunset", message=message)
            message = f"{s.name} was removed after being deprecated."
            return replace(f, level="info", rule=f"{kind}-removed-deprecated", message=message)
        if day > self.policy.today:
            message = (
                f"{s.name} was removed before its sunset ({day.isoformat()}): clients may use it until then."
            )
            return replace(
                f, level="breaking", rule=f"{kind}-removed-before-sunset", message=message, old_pointer=where
            )
        message = f"{s.name} was removed after its sunset ({day.isoformat()}), as announced."
        return replace(
            f, level="info", rule=f"{kind}-removed-after-sunset", message=message, old_pointer=where
        )

    # -- the new document's lifecycle ---------------------------------------------------------------

    def check(self, s: Subject) -> None:
        if s.new is None:
            return
        raw_sunset, raw_level = s.new.get("x-sunset"), s.new.get("x-stability-level")
        new_day = parse_sunset(raw_sunset)
        if raw_sunset is not None and new_day is None:
            self.add(
                s,
                "breaking",
                "lifecycle-sunset-invalid",
                f"{s.name}: x-sunset {text(raw_sunset)!r} is not a date (RFC 3339, e.g. 2026-12-31).",
                "",
                child(s.new_pointer, "x-sunset"),
            )
        if raw_level is not None and raw_level not in STABILITY:
            self.add(
                s,
                "breaking",
                "lifecycle-stability-invalid",
                f"{s.name}: x-stability-level {text(raw_level)!r} is not one of {', '.join(STABILITY)}.",
                "",
                child(s.new_pointer, "x-stability-level"),
            )
        if s.old is None:
            return
        before, after = _stability(s.old), _stability(s.new)
        if before and after and STABILITY.index(after) < STABILITY.index(before):
            self.add(
                s,
                "breaking",
                f"{s.kind}-stability-decreased",
                f"{s.name}: stability lowered from {before} to {after}.",
                child(s.old_pointer, "x-stability-level"),
                child(s.new_pointer, "x-stability-level"),
            )
        if not _deprecated(s.new) or (new_day is None and raw_sunset is not None):
            return
        old_day = parse_sunset(s.old.get("x-sunset"))
        days = self.policy.deprecation_days
        if _deprecated(s.old) and old_day is not None and new_day is not None and new_day < old_day:
            self.add(
                s,
                "breaking",
                f"{s.kind}-sunset-earlier",
                f"{s.name}: sunset moved earlier, from {old_day.isoformat()} to {new_day.isoformat()}.",
                child(s.old_pointer, "x-sunset"),
                child(s.new_pointer, "x-sunset"),
            )
            return
        if days <= 0 or (_deprecated(s.old) and (old_day == new_day)):
            return
        if new_day is None:
            self.add(
                s,
                "breaking",
                f"{s.kind}-deprecated-without-sunset",
                f"{s.name} is deprecated with no x-sunset: clients are owed {days} days' notice.",
                s.old_pointer,
                child(s.new_pointer, "deprecated"),
            )
        elif (new_day - self.policy.today).days < days:
            self.add(
                s,
                "breaking",
                f"{s.kind}-sunset-too-soon",
                f"{s.name} is deprecated with a sunset on {new_day.isoformat()}, less than {days} days ahead.",
                s.old_pointer,
                child(s.new_pointer, "x-sunset"),
            )

    # -- stability ---------------------------------------------------------------------------------

    def soften(self, f: Finding, subjects: list[Subject]) -> Finding:
        if f.rule in _OWN or f.level == "info":
            return f
        level = None
        for s in subjects:  # those of the finding's operation, in the old document
            if s.kind == "operation" or _under(f, s):
                found = _stability(s.old)
                if found in ("draft", "alpha") or (found == "beta" and level is None):
                    level = found
        if level in ("draft", "alpha"):
            return replace(f, level="info", message=f"{f.message} (it is {level}: it may change freely)")
        if level == "beta" and f.level == "breaking":
            return replace(f, level="warning", message=f"{f.message} (it is beta: changes are warnings)")
        return f


def _under(f: Finding, s: Subject) -> bool:
    def inside(pointer: str, root: str) -> bool:
        return bool(root) and (pointer == root or pointer.startswith(root + "/"))

    return inside(f.old_pointer, s.old_pointer) or inside(f.new_pointer, s.new_pointer)
