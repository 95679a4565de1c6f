"""meibel-contract: the contract suite against a live deployment, safely, with a report.

    meibel-contract --base-url URL [--api-key KEY] [--max-writes N] [--rate-limit R]
                    [--max-examples N] [--timeout S] [--budget S] [--junit-xml PATH]
                    [--report-har PATH] [--report-md PATH] [--seed N|random] [--strict]
                    [--agent-id ID] [--datasource-id ID] [--allow-insecure] [-v]
    meibel-contract diff OLD NEW [--format text|json|markdown] [--fail-on breaking|warning]

Runs exactly the pytest suite of `contract_tests` (same tests, same checks), with no third-party
pytest plugin loaded and no file left behind, and prints the kit's own report (pytest's lines
only with -v). Exit 0 when the target conforms, 1 on any violation, 2 for usage errors (an empty
option value among them: what an unset CI variable gives), an unreachable target or a refused
key (the reports asked for are written in every case).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import NoReturn

from contract_tests.preflight import preflight
from contract_tests.reports.har import HarLog
from contract_tests.target import (
    DEFAULT_BUDGET,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_SEED,
    Target,
    target_from,
)
from mock_server.contract import load_contract
from mock_server.errors import MockError

PROG = "meibel-contract"
HERE = Path(__file__).resolve().parent
# What pytest printed, kept only to be shown when the run breaks (-v shows it as it comes).
PYTEST_OUTPUT_LIMIT = 64 * 1024


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Check a live deployment against the Meibel API v2 contract, safely.",
        epilog="meibel-contract diff OLD NEW: does a new version of the document break clients? "
        "(meibel-contract diff --help)",
    )
    p.add_argument(
        "--base-url",
        required=True,
        help="the deployment's base URL as the document's servers write it, e.g. https://api.meibel.ai/v2 "
        "(a bare origin gets the document's base path; any other path is used as given)",
    )
    p.add_argument("--api-key", help="its API key (default: $MEIBEL_API_KEY); never printed or written")
    p.add_argument(
        "--max-writes",
        type=int,
        default=0,
        metavar="N",
        help="requests that could be accepted (and start real work), over the whole run (default 0)",
    )
    p.add_argument(
        "--rate-limit", type=float, default=10.0, metavar="R", help="requests per second (default 10)"
    )
    p.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"examples per operation and mode (default {DEFAULT_MAX_EXAMPLES})",
    )
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per request (default 10)"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        metavar="S",
        help=f"seconds for the whole run; later cases are not sent (default {DEFAULT_BUDGET:g})",
    )
    p.add_argument(
        "--junit-xml", metavar="PATH", help="write a JUnit XML report for CI (one testcase per check)"
    )
    p.add_argument(
        "--report-har",
        metavar="PATH",
        help="write every request the run sent and its answer as HAR 1.2 (the key filtered out)",
    )
    p.add_argument(
        "--report-md",
        metavar="PATH",
        help="write the summary as Markdown (also appended to $GITHUB_STEP_SUMMARY when that is set)",
    )
    p.add_argument(
        "--seed",
        default=str(DEFAULT_SEED),
        help=f"the run's seed: the same seed sends the same cases (default {DEFAULT_SEED}; 'random' explores)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on the framework's known deviations too (undeclared 401 and 400, lax coercion)",
    )
    p.add_argument("--agent-id", help="a real agent id for the requests that could be accepted")
    p.add_argument("--datasource-id", help="a real datasource id for the requests that could be accepted")
    p.add_argument("--allow-insecure", action="store_true", help="allow plain http:// to a non-loopback host")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's own lines too")
    return p


def _empty_option(argv: Sequence[str], parser: argparse.ArgumentParser) -> str | None:
    """The first option given an empty value (`--agent-id ""`, `--agent-id=`), as one line."""
    # Flags (store_true, --help) have nargs 0; an option that takes one value has nargs None.
    takes_value = {
        flag for action in parser._actions if action.nargs is None for flag in action.option_strings
    }
    for index, word in enumerate(argv):
        flag, equals, value = word.partition("=")
        if flag not in takes_value:
            continue
        if not equals:
            if index + 1 >= len(argv):
                continue  # argparse says "expected one argument"
            value = argv[index + 1]
        if not value.strip():
            return f"{flag} is empty: give a value, or leave the option out (an unset CI variable gives this)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["diff"]:  # `meibel-contract diff OLD NEW`: the document diff (contract_tests/diff/cli.py)
        from contract_tests.diff import cli as diff_cli

        return diff_cli.main(args[1:])
    parser = _parser()
    options = parser.parse_args(args)
    empty = _empty_option(args, parser)
    if empty:
        print(f"{PROG}: error: {empty}", file=sys.stderr)
        return 2  # no report either: its path may be the empty value
    har = (
        HarLog(secrets=[options.api_key or os.environ.get("MEIBEL_API_KEY", "")])
        if options.report_har
        else None
    )
    try:
        target = target_from(vars(options))
        problem = preflight(target, load_contract(), har=har)
    except MockError as exc:  # a usage error among them
        return _fail(str(exc), options, None, har)
    if problem:
        return _fail(problem, options, target, har)
    missing = _missing_extra()
    if missing:
        return _fail(missing, options, target, har)
    return _run_suite(target, options, har)


def _missing_extra() -> str | None:
    try:
        import hypothesis  # noqa: F401
        import pytest  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as exc:
        return (
            f"the contract suite needs {exc.name or 'schemathesis'}, from the [contract] extra: "
            "pip install 'meibel-contract-kit[contract] @ git+<the kit's repository>@<tag>' "
            "(see the kit's docs/install.md)"
        )
    return None


def _fail(message: str, options: argparse.Namespace, target: Target | None, har: HarLog | None) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if options.junit_xml:
        _write_error_report(options.junit_xml, message, target, options)
    from contract_tests.reports.markdown import error_markdown, write_markdown

    problems = write_markdown(options.report_md, error_markdown(message, target, options.base_url))
    if har is not None:  # what went out before the run stopped (the reachability check), if anything
        problems += _write_har(options.report_har, har)
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    return 2


def _write_har(path: str, har: HarLog) -> list[str]:
    try:
        har.write(path)
    except OSError as exc:
        return [f"cannot write {path}: {exc.strerror or exc}"]
    return []


def _write_error_report(path: str, message: str, target: Target | None, options: argparse.Namespace) -> None:
    from contract_tests.plugin import replay_command
    from contract_tests.reports.summary import write_junit

    if target is None:
        target = Target(base_url=options.base_url, api_key="")
    try:
        write_junit(path, None, target, replay=replay_command(target, PROG), error=message)
    except OSError as exc:
        print(f"{PROG}: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


def _run_suite(target: Target, options: argparse.Namespace, har: HarLog | None) -> int:
    import pytest

    assert target.base_url is not None
    args = [
        str(HERE / "test_contract.py"),
        "-p",
        "schemathesis.pytest.plugin",
        "-p",
        "contract_tests.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:warnings",
        "-c",
        os.devnull,  # the suite's own settings only, wherever it is run from
        f"--rootdir={HERE}",
        f"--confcutdir={HERE}",
        "--assert=plain",
        "--tb=no",
        "--no-summary",  # the suite prints its own, with reproductions, not pytest's file paths
        "--capture=no",  # progress lines go out as the run goes
        "-v" if options.verbose else "-q",
        f"--base-url={target.base_url}",
        f"--max-writes={target.max_writes}",
        f"--rate-limit={target.rate_limit:g}",
        f"--max-examples={target.max_examples}",
        f"--timeout={target.timeout:g}",
        f"--budget={target.budget:g}",
        f"--seed={target.seed}",
    ]
    if options.allow_insecure:
        args.append("--allow-insecure")
    if options.strict:
        args.append("--contract-strict")
    if target.agent_id:
        args.append(f"--agent-id={target.agent_id}")
    if target.datasource_id:
        args.append(f"--datasource-id={target.datasource_id}")
    if options.report_har:
        args.append(f"--report-har={options.report_har}")
    # The key travels in the environment: command lines show up in process listings.
    names = (
        "MEIBEL_API_KEY",
        "MEIBEL_CONTRACT_PROGRESS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "MEIBEL_CONTRACT_PROG",
        "PYTEST_ADDOPTS",
    )
    saved = {name: os.environ.get(name) for name in names}
    # A user's PYTEST_ADDOPTS (`-x`, `--lf`, `-p xdist`) is for their own test runs, not this one.
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ["MEIBEL_CONTRACT_PROGRESS"] = "1"
    os.environ["MEIBEL_CONTRACT_PROG"] = PROG  # the replay hint names this command's options
    # Only the plugins the suite needs: a user's own pytest plugins have no say in this run.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if target.api_key:
        os.environ["MEIBEL_API_KEY"] = target.api_key
    print(
        f"Checking {target.base_url} against the contract (seed {target.seed}; at most "
        f"{target.max_writes} write(s); replay with --seed {target.seed})",
        file=sys.stderr,
        flush=True,
    )
    # The suite's module builds its tests for the target at import: import it afresh for this one.
    sys.modules.pop("contract_tests.test_contract", None)
    try:
        # Hypothesis keeps caches in `.hypothesis/` of the working directory: not in the user's.
        with tempfile.TemporaryDirectory(prefix="meibel-contract-") as scratch, _hypothesis_home(scratch):
            if options.verbose:
                code = pytest.main(args)
            else:
                # pytest's own lines (a lone `.`, `1 passed in 9s`) say nothing about the checks:
                # kept aside, and shown only if the run broke down (a usage or internal error).
                kept = _Tail(PYTEST_OUTPUT_LIMIT)
                with redirect_stdout(kept):
                    code = pytest.main(args)
                if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
                    print(kept.text(), file=sys.stderr, flush=True)
    finally:
        sys.modules.pop("contract_tests.test_contract", None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    from contract_tests.plugin import replay_command
    from contract_tests.reports.markdown import markdown, write_markdown
    from contract_tests.reports.summary import render_text, summary_lines, verdict_line
    from contract_tests.run import current_run

    result = 0 if code == pytest.ExitCode.OK else 1 if code == pytest.ExitCode.TESTS_FAILED else 2
    run, replay = current_run(), replay_command(target, PROG)
    if run.cases or run.case_outcomes:
        print(render_text(summary_lines(run, replay=replay, verdict_follows=True)), flush=True)
    if options.junit_xml:
        _write_report(options.junit_xml, target)
    problems = write_markdown(options.report_md, markdown(run, result, replay=replay))
    if har is not None:
        if run.har is not None:
            har.extend(run.har)
        problems += _write_har(options.report_har, har)
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    print(verdict_line(run, result), flush=True)
    return result


class _Tail(io.StringIO):
    """A text stream that keeps only the last `limit` characters written to it."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.kept = ""

    def write(self, text: str) -> int:
        self.kept = (self.kept + text)[-self.limit :]
        return len(text)

    def text(self) -> str:
        return self.kept.rstrip("\n")


@contextmanager
def _hypothesis_home(directory: str) -> Iterator[None]:
    import hypothesis.configuration as configuration

    # The module keeps its choice in a module global; restored after, for a process that goes on.
    name = "__hypothesis_home_directory"
    saved = getattr(configuration, name, None)
    configuration.set_hypothesis_home_dir(directory)
    try:
        yield
    finally:
        setattr(configuration, name, saved)


def _write_report(path: str, target: Target) -> None:
    from contract_tests.plugin import replay_command
    from contract_tests.reports.summary import write_junit
    from contract_tests.run import current_run

    try:
        write_junit(path, current_run(), target, replay=replay_command(target, PROG))
    except OSError as exc:
        print(f"{PROG}: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
