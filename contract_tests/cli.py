"""meibel-contract: the contract suite against a live deployment, safely, with a report.

    meibel-contract --base-url URL [--api-key KEY] [--max-writes N] [--rate-limit R]
                    [--max-examples N] [--timeout S] [--budget S] [--junit-xml PATH]
                    [--seed N|random] [--strict] [--agent-id ID] [--datasource-id ID]
                    [--allow-insecure]
    meibel-contract diff OLD NEW [--format text|json|markdown] [--fail-on breaking|warning]

Runs exactly the pytest suite of `contract_tests` (same tests, same checks), with no third-party
pytest plugin loaded and no file left behind. Exit 0 when the target conforms, 1 on any
violation, 2 for usage errors, an unreachable target or a refused key (the JUnit file, when
asked for, is written in every case).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from contract_tests.preflight import preflight
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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["diff"]:  # `meibel-contract diff OLD NEW`: the document diff (contract_tests/diff_cli.py)
        from contract_tests import diff_cli

        return diff_cli.main(args[1:])
    options = _parser().parse_args(argv)
    api_key = options.api_key or os.environ.get("MEIBEL_API_KEY", "")
    try:
        target = target_from({**vars(options), "api_key": api_key})
        problem = preflight(target, load_contract())
    except MockError as exc:
        return _fail(str(exc), options, None)
    if problem:
        return _fail(problem, options, target)
    missing = _missing_extra()
    if missing:
        return _fail(missing, options, target)
    return _run_suite(target, options)


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


def _fail(message: str, options: argparse.Namespace, target: Target | None) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if options.junit_xml:
        _write_error_report(options.junit_xml, message, target, options)
    return 2


def _write_error_report(path: str, message: str, target: Target | None, options: argparse.Namespace) -> None:
    from contract_tests.plugin import replay_command
    from contract_tests.report import write_junit

    if target is None:
        target = Target(base_url=options.base_url, api_key="")
    try:
        write_junit(path, None, target, replay=replay_command(target, PROG), error=message)
    except OSError as exc:
        print(f"{PROG}: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


def _run_suite(target: Target, options: argparse.Namespace) -> int:
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
        "-q",
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
    # The key travels in the environment: command lines show up in process listings.
    names = (
        "MEIBEL_API_KEY",
        "MEIBEL_CONTRACT_PROGRESS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "MEIBEL_CONTRACT_PROG",
    )
    saved = {name: os.environ.get(name) for name in names}
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
            code = pytest.main(args)
    finally:
        sys.modules.pop("contract_tests.test_contract", None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    from contract_tests.report import verdict_line
    from contract_tests.run import current_run

    result = 0 if code == pytest.ExitCode.OK else 1 if code == pytest.ExitCode.TESTS_FAILED else 2
    if options.junit_xml:
        _write_report(options.junit_xml, target)
    print(verdict_line(current_run(), result), flush=True)
    return result


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
    from contract_tests.report import write_junit
    from contract_tests.run import current_run

    try:
        write_junit(path, current_run(), target, replay=replay_command(target, PROG))
    except OSError as exc:
        print(f"{PROG}: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
