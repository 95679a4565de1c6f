"""What a run says at the end: the summary on the terminal, and JUnit XML that CI systems render.

One testcase per check (passed, failed, or skipped as not exercised), so a CI page lists what
was checked. Properties carry the seed, the target (never the key), the counts and the command
that replays the run. A run that could not start (exit 2) still writes a report, with one
testcase in error, so that a CI step publishing the file finds it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from contract_tests.checks import CHECKS
from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS

if TYPE_CHECKING:
    from contract_tests.run import Run
    from contract_tests.target import Target

Section = tuple[str, list[str]]
NO_SUCCESS = (
    "No success answer was checked: valid data, the success schema and the domain invariants were "
    "not exercised. Allow writes with --max-writes N to check them."
)


def summary_lines(run: Run, *, replay: str) -> list[Section]:
    sections: list[Section] = []
    rows = []
    for check in CHECKS:
        passed, failed = run.passed[check.name], run.failed[check.name]
        if passed or failed:
            rows.append(f"{check.name:32} {passed:6d} passed {failed:6d} failed")
        else:
            rows.append(f"{check.name:32} not exercised: {check.unexercised}")
    sections.append(("checks (answers each check applied to)", rows))
    sections.append(("", [requests_line(run)]))
    deviations = DEVIATIONS.describe()
    if deviations:
        lines = []
        for _, label, count, example in deviations:
            lines.append(f"{label}: {count} answer{'s' if count != 1 else ''} (allowed; --strict fails them)")
            if example:
                lines.append(f"     e.g. {run.redact(example)}")
        sections.append(("known deviations of the service's framework", lines))
    if run.failures:
        lines = []
        for number, failure in enumerate(run.failures.values(), 1):
            lines.append(f"{number}. [{failure.check}] {failure.title} ({failure.operation})")
            lines += [f"     {line}" for line in failure.message.strip().splitlines()[:12]]
            lines.append("   Reproduce with:")
            lines += [f"     {line}" for line in failure.reproduction.splitlines()]
        lines.append(f"Replay this run: {replay}")
        sections.append((f"{len(run.failures)} distinct failure(s)", lines))
    if run.statuses and set(run.statuses) == {401}:
        sections.append(
            ("", ["Every answer was 401: the target refused the run's key (--api-key, $MEIBEL_API_KEY)."])
        )
    checked = CONTEXT.success_answers_checked
    sections.append(
        ("", [NO_SUCCESS if not checked else f"{checked} success answer(s) checked against the document."])
    )
    return sections


def verdict_line(run: Run, code: int) -> str:
    """The last line of a meibel-contract run: the verdict, and what it did not cover."""
    verdict = {0: "pass", 1: "FAIL"}.get(code, "ERROR")
    deviations = sum(count for _, _, count, _ in DEVIATIONS.describe())
    line = f"Verdict: {verdict} ({len(run.failures)} distinct failure(s), {deviations} known deviation(s))."
    if not CONTEXT.success_answers_checked:
        line += " " + NO_SUCCESS
    return line


def requests_line(run: Run) -> str:
    line = f"{run.cases} cases, {run.sent} requests sent, {run.writes} of them writes"
    if run.gate is not None:
        line += f" (--max-writes {run.target.max_writes})"
    reasons = run.not_sent + (run.gate.not_sent if run.gate else Counter())
    if reasons:
        line += f"; {sum(reasons.values())} kept back: " + ", ".join(
            f"{n} {reason}" for reason, n in sorted(reasons.items())
        )
    return line


def write_junit(
    path: str | Path, run: Run | None, target: Target, *, replay: str, error: str | None = None
) -> None:
    suite = ET.Element("testsuite", name="meibel-contract")
    properties = ET.SubElement(suite, "properties")
    _properties(
        properties,
        [
            ("target", target.label),
            ("seed", str(target.seed)),
            ("max-writes", str(target.max_writes)),
            ("replay", replay),
        ],
    )
    tests = failures = skipped = errors = 0
    if error is not None:
        case = ET.SubElement(suite, "testcase", classname="meibel-contract", name="target")
        ET.SubElement(case, "error", message=error, type="error").text = error
        tests, errors = 1, 1
    elif run is not None:
        _properties(
            properties,
            [
                ("cases", str(run.cases)),
                ("requests", str(run.sent)),
                ("writes", str(run.writes)),
                ("success-answers-checked", str(CONTEXT.success_answers_checked)),
            ]
            + [(f"deviation:{kind}", str(count)) for kind, _, count, _ in DEVIATIONS.describe()],
        )
        for check in CHECKS:
            tests += 1
            passed, failed = run.passed[check.name], run.failed[check.name]
            case = ET.SubElement(suite, "testcase", classname="meibel-contract.checks", name=check.name)
            if failed:
                failures += 1
                first = [f for f in run.failures.values() if f.check == check.name]
                message = f"{failed} of {passed + failed} answers failed"
                if first:
                    message += f": {first[0].title}"
                text = "\n\n".join(
                    f"{f.title} ({f.operation})\n{f.message.strip()}\n\nReproduce with:\n{f.reproduction}"
                    for f in first
                )
                ET.SubElement(
                    case, "failure", message=message, type=check.name
                ).text = f"{text}\n\nReplay this run: {replay}"
            elif not passed:
                skipped += 1
                ET.SubElement(case, "skipped", message=f"not exercised: {check.unexercised}")
            else:
                ET.SubElement(case, "system-out").text = f"{passed} answers passed"
        out = [requests_line(run)] + [
            f"known deviation: {label}: {count}" for _, label, count, _ in DEVIATIONS.describe()
        ]
        ET.SubElement(suite, "system-out").text = "\n".join(out)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    Path(path).write_bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True))


def _properties(parent: ET.Element, items: Iterable[tuple[str, str]]) -> None:
    for name, value in items:
        ET.SubElement(parent, "property", name=name, value=value)
