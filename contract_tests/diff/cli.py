"""meibel-contract diff: does a new version of the OpenAPI document break clients of the old one?

    meibel-contract diff OLD NEW [--format text|json|markdown] [--fail-on breaking|warning]
                         [--deprecation-days N] [--today YYYY-MM-DD] [--ignore-lifecycle]

OLD and NEW are paths to JSON or YAML documents, or git:REV:PATH (read with `git show`).
Exit 0 when nothing breaks, 1 when a change breaks clients (or warns, with --fail-on warning),
2 for a usage error or an unreadable document (one line).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from contract_tests.diff.compare import diff_documents
from contract_tests.diff.findings import Level, failing
from contract_tests.diff.lifecycle import Lifecycle
from contract_tests.diff.report import FORMATS, render
from contract_tests.diff.source import read_document
from mock_server.errors import MockError

PROG = "meibel-contract diff"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Tell whether NEW breaks clients written against OLD.")
    p.add_argument("old", metavar="OLD", help="the document clients were built from: a path, or git:REV:PATH")
    p.add_argument("new", metavar="NEW", help="the new document: a path, or git:REV:PATH")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument(
        "--fail-on",
        choices=("breaking", "warning"),
        default="breaking",
        help="the lowest level that makes the exit status 1 (default breaking)",
    )
    p.add_argument(
        "--deprecation-days",
        type=_days,
        default=0,
        metavar="N",
        help="the notice clients are promised: deprecating or removing with a sunset less than N days "
        "ahead breaks (default 0: any sunset will do)",
    )
    p.add_argument(
        "--today",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day sunsets are judged against (default: today, UTC)",
    )
    p.add_argument(
        "--ignore-lifecycle",
        action="store_true",
        help="ignore deprecated, x-sunset and x-stability-level",
    )
    return p


def _days(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of days, not {value!r}")
    return int(value)


def _day(value: str) -> datetime.date:
    try:
        if len(value) != 10:
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    fail_on = cast(Level, options.fail_on)
    try:
        old, old_label = read_document(options.old)
        new, new_label = read_document(options.new)
        lifecycle = None
        if not options.ignore_lifecycle:
            lifecycle = Lifecycle(options.today or Lifecycle.now().today, options.deprecation_days)
        findings = diff_documents(old, new, old_source=old_label, new_source=new_label, lifecycle=lifecycle)
    except MockError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:  # a document nested beyond Python's stack: refuse it in one line
        print(f"{PROG}: error: a document is nested too deeply to compare", file=sys.stderr)
        return 2
    sys.stdout.write(render(findings, old=old_label, new=new_label, fmt=options.format, fail_on=fail_on))
    return 1 if failing(findings, fail_on) else 0
