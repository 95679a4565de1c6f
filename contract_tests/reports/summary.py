"""What a run says at the end: the summary on the terminal, and JUnit XML that CI systems render.

One testcase per check (passed, failed, or skipped as not exercised), so a CI page lists what
was checked. Properties carry the seed, the target (never the key), the counts and the command
that replays the run. A run that could not start (exit 2) still writes a report, with one
testcase in error, so that a CI step publishing the file finds it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from contract_tests.checks import CHECKS
from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS
from contract_tests.gate import CASE, OUTSIDE, TIME_SPENT, WRITES_WITHHELD
from contract_tests.run import OVER_MAX_EXAMPLES

if TYPE_CHECKING:
    from contract_tests.run import Run
    from contract_tests.target import Target

Section = tuple[str, list[str]]
NO_SUCCESS = (
    "No success answer was checked: valid data, the success schema and the domain invariants were "
    "not exercised. Allow writes with --max-writes N to check them."
)


def summary_lines(run: Run, *, replay: str, verdict_follows: bool = False) -> list[Section]:
    """The summary's sections. `verdict_follows`: the Verdict line comes after them (meibel-contract),
    and it says what was not checked, so the sections do not say it too."""
    sections: list[Section] = []
    rows = []
    for check in CHECKS:
        passed, failed = run.passed[check.name], run.failed[check.name]
        if passed or failed:
            rows.append(f"{check.name:32} {passed:6d} passed {failed:6d} failed")
        else:
            rows.append(f"{check.name:32} not exercised: {check.unexercised}")
    sections.append(("checks (answers each check applied to)", rows))
    sections.append(("", count_lines(run)))
    deviations = DEVIATIONS.describe()
    if deviations:
        lines = []
        for _, label, count, example in deviations:
            lines.append(f"{label}: {_n(count, 'answer')} (allowed; --strict fails them)")
            if example:
                lines.append(f"     e.g. {run.redact(example)}")
        sections.append(("known deviations of the service's framework", lines))
    if run.failures:
        lines = []
        for number, failure in enumerate(run.failures.values(), 1):
            lines.append(f"{number}. [{failure.check}] {failure.title} ({failure.operation})")
            lines += [f"     {line}" for line in failure.message.strip().splitlines()[:12]]
            lines.append("   Answer:")
            lines += [f"     {line}" for line in failure.answer.splitlines()[:12]]
            lines.append("   Reproduce with:")
            lines += [f"     {line}" for line in failure.reproduction.splitlines()]
        lines.append(f"Replay this run: {replay}")
        sections.append((f"{_n(len(run.failures), 'distinct failure')}", lines))
    if run.statuses and set(run.statuses) == {401}:
        sections.append(
            ("", ["Every answer was 401: the target refused the run's key (--api-key, $MEIBEL_API_KEY)."])
        )
    checked = CONTEXT.success_answers_checked
    if checked:
        sections.append(("", [f"{_n(checked, 'success answer')} checked against the document."]))
    elif not verdict_follows:
        sections.append(("", [NO_SUCCESS]))
    return sections


def render_text(sections: list[Section], width: int = 80) -> str:
    """The sections as the terminal shows them: a ruled title over each titled section."""
    out = []
    for title, lines in sections:
        if title:
            out.append(f" {title} ".center(width, "="))
        out += lines
    return "\n".join(out)


def verdict_line(run: Run, code: int) -> str:
    """The last line of a meibel-contract run: the verdict, and what it did not cover.

    Failures and deviations are counted in the same unit, answers (one answer failing two checks
    is one answer); the distinct failures listed above are kinds of failure."""
    verdict = {0: "pass", 1: "FAIL"}.get(code, "ERROR")
    deviations = sum(count for _, _, count, _ in DEVIATIONS.describe())
    failed = f"{_n(run.failed_answers, 'answer')} failed a check"
    if run.failures:
        failed += f", {_n(len(run.failures), 'distinct failure')}"
    line = f"Verdict: {verdict} ({failed}; {_n(deviations, 'answer')} with a known deviation, allowed)."
    if not CONTEXT.success_answers_checked:
        line += " " + NO_SUCCESS
    return line


def count_lines(run: Run) -> list[str]:
    """What became of every case and every request: each line adds up (docs/live-checks.md)."""
    target = run.target
    outcomes = run.case_outcomes
    parts = [f"{outcomes['sent']} sent"]
    names = {
        WRITES_WITHHELD: f"withheld as writes (--max-writes {target.max_writes})",
        TIME_SPENT: f"not sent, the time budget spent (--budget {target.budget:g})",
        OUTSIDE: "not sent, outside the target",
    }
    for outcome, count in sorted(outcomes.items()):
        if outcome not in ("sent", OVER_MAX_EXAMPLES) and count:
            parts.append(f"{count} {names.get(outcome, outcome)}")
    if outcomes[OVER_MAX_EXAMPLES]:
        parts.append(
            f"{outcomes[OVER_MAX_EXAMPLES]} boundary cases over --max-examples {target.max_examples}, not sent"
        )
    lines = [f"cases: {sum(outcomes.values())} generated = " + " + ".join(parts)]
    gate = run.gate
    if gate is None:
        return lines
    by_case = gate.sent_by[CASE]
    probes = sorted((name, n) for name, n in gate.sent_by.items() if name != CASE)
    line = f"requests: {gate.sent} sent = {by_case} for the cases"
    if probes:
        line += (
            f" + {sum(n for _, n in probes)} probes by checks ("
            + ", ".join(f"{n} {name}" for name, n in probes)
            + ")"
        )
    withheld = sum(n for name, n in gate.withheld_by.items() if name != CASE)
    if withheld:
        line += f"; {_n(withheld, 'probe')} by checks withheld"
    lines.append(line)
    lines.append(writes_line(run))
    return lines


def writes_line(run: Run) -> str:
    """How the write budget was spent: "5 writes (--max-writes 5): 3 accepted (201), 2 refused (401)"."""
    gate = run.gate
    assert gate is not None
    line = f"writes: {gate.writes} of --max-writes {run.target.max_writes}"
    if not gate.writes:
        return line
    accepted = sorted((s, n) for s, n in gate.write_answers.items() if s.isdigit() and 200 <= int(s) < 300)
    other = sorted((s, n) for s, n in gate.write_answers.items() if (s, n) not in accepted)
    parts = []
    if accepted:
        parts.append(f"{sum(n for _, n in accepted)} accepted ({_statuses(accepted)})")
    if other:
        parts.append(f"{sum(n for _, n in other)} refused or failed ({_statuses(other)})")
    line += ": " + ", ".join(parts)
    probes = sorted((name, n) for name, n in gate.write_senders.items() if name != CASE)
    if probes:
        line += "; " + ", ".join(f"{n} of them re-sent by {name}" for name, n in probes)
    if gate.coercible_writes:
        line += (
            f"; {gate.coercible_writes} of them requests a conforming service refuses "
            "(a body only lax coercion repairs, or without the run's key)"
        )
    return line


def _statuses(items: list[tuple[str, int]]) -> str:
    return ", ".join(status if n == 1 else f"{n}x {status}" for status, n in items)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
                message = f"{failed} of {_n(passed + failed, 'answer')} failed"
                if first:
                    message += f": {first[0].title}"
                text = "\n\n".join(
                    f"{f.title} ({f.operation})\n{f.message.strip()}\n\nAnswer: {f.answer}"
                    f"\n\nReproduce with:\n{f.reproduction}"
                    for f in first
                )
                ET.SubElement(
                    case, "failure", message=message, type=check.name
                ).text = f"{text}\n\nReplay this run: {replay}"
            elif not passed:
                skipped += 1
                ET.SubElement(case, "skipped", message=f"not exercised: {check.unexercised}")
            else:
                ET.SubElement(case, "system-out").text = f"{_n(passed, 'answer')} passed"
        out = [*count_lines(run)] + [
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
