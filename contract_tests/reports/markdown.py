"""The run's summary as Markdown (`--report-md PATH`), also appended to `$GITHUB_STEP_SUMMARY`.

The same content as the terminal's summary: the checks table, the counts, the known deviations,
the failures with their reproductions, and the Verdict, in a form a CI page renders and a pull
request takes pasted. GitHub Actions shows a job's `$GITHUB_STEP_SUMMARY` file on the run's page.
The run's key is never in it: every text passes through the run's redaction once more at the end.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from contract_tests.checks import CHECKS
from contract_tests.deviations import DEVIATIONS
from contract_tests.reports.summary import NO_SUCCESS, count_lines, verdict_line

if TYPE_CHECKING:
    from contract_tests.run import Run
    from contract_tests.target import Target

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def markdown(run: Run, code: int, *, replay: str) -> str:
    target = run.target
    verdict = verdict_line(run, code)
    out = [
        f"## meibel-contract: {verdict.split(' ', 2)[1]}",
        "",
        f"Target `{target.label}`, seed {target.seed}, at most {target.max_writes} write(s).",
        "",
        "| check | passed | failed | |",
        "|---|---:|---:|---|",
    ]
    for check in CHECKS:
        passed, failed = run.passed[check.name], run.failed[check.name]
        if passed or failed:
            out.append(f"| `{check.name}` | {passed} | {failed} | {'**FAIL**' if failed else ''} |")
        else:
            out.append(f"| `{check.name}` | | | not exercised: {_cell(check.unexercised)} |")
    out += ["", *[f"- {line}" for line in count_lines(run)]]
    deviations = DEVIATIONS.describe()
    if deviations:
        out += ["", "### Known deviations of the service's framework (allowed; `--strict` fails them)", ""]
        for _, label, count, example in deviations:
            out.append(f"- {label}: {count} answer{'s' if count != 1 else ''}")
            if example:
                out += ["", "  ```sh", f"  {run.redact(example)}", "  ```"]
    if run.failures:
        out += ["", f"### {len(run.failures)} distinct failure{'s' if len(run.failures) != 1 else ''}", ""]
        for number, failure in enumerate(run.failures.values(), 1):
            out += [
                f"{number}. **`{failure.check}`**: {_cell(failure.title)} ({failure.operation})",
                "",
                "   ```text",
                *[f"   {line}" for line in failure.message.strip().splitlines()[:12]],
                "   ```",
                "",
                "   Answer:",
                "",
                "   ```text",
                *[f"   {line}" for line in failure.answer.splitlines()[:12]],
                "   ```",
                "",
                "   Reproduce with:",
                "",
                "   ```sh",
                *[f"   {line}" for line in failure.reproduction.splitlines()],
                "   ```",
                "",
            ]
        out += [f"Replay this run: `{replay}`"]
    out += ["", f"**{verdict}**", ""]
    return run.redact("\n".join(out))


def error_markdown(message: str, target: Target | None, base_url: str) -> str:
    label = target.label if target is not None else base_url
    text = f"## meibel-contract: ERROR\n\nTarget `{label}`: the run could not start.\n\n**{message}**\n"
    if target is not None and target.api_key:
        text = text.replace(target.api_key, "[Filtered]")
    return text


def write_markdown(path: str | None, text: str, *, step_summary: bool = True) -> list[str]:
    """Write `text` to `path` (if given) and append it to $GITHUB_STEP_SUMMARY (if set and
    `step_summary`); the problems, one line each (a report not written does not change the verdict)."""
    problems = []
    if path:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            problems.append(f"cannot write {path}: {exc.strerror or exc}")
    summary = os.environ.get(STEP_SUMMARY) if step_summary else None
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as exc:
            problems.append(f"cannot append to ${STEP_SUMMARY} ({summary}): {exc.strerror or exc}")
    return problems


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = ["NO_SUCCESS", "error_markdown", "markdown", "write_markdown"]
