"""What the document diff reports: one Finding per change a client could notice."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["breaking", "warning", "info"]
LEVELS: tuple[Level, ...] = ("breaking", "warning", "info")
DOCUMENT = "(document)"  # the operation name of findings about the whole document


@dataclass(frozen=True)
class Finding:
    level: Level
    operation: str  # "POST /batch-executions", or DOCUMENT
    old_pointer: str  # JSON pointer into the old document as written ("" when there is nothing to point at)
    new_pointer: str
    message: str  # one sentence naming the field, parameter or header
    rule: str  # a stable id, e.g. "request-property-required-added"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def severity(level: Level) -> int:
    return LEVELS.index(level)


def sort_key(finding: Finding) -> tuple[str, int, str, str]:
    return (finding.operation, severity(finding.level), finding.rule, finding.message)


def counts(findings: list[Finding]) -> dict[Level, int]:
    out: dict[Level, int] = dict.fromkeys(LEVELS, 0)
    for finding in findings:
        out[finding.level] += 1
    return out


def failing(findings: list[Finding], fail_on: Level) -> list[Finding]:
    """The findings that fail a run: breaking ones, or warnings too with fail_on="warning"."""
    limit = severity(fail_on)
    return [f for f in findings if severity(f.level) <= limit]
