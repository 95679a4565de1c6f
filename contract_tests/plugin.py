"""The contract suite's pytest plugin: target options, safe defaults, and the run's summary.

pytest                                   the mock, in process (no socket)
pytest --base-url https://host/v2        a deployment (or MEIBEL_BASE_URL), with safe defaults
       --api-key KEY                     its key (or MEIBEL_API_KEY); never printed
       --report-har PATH                 every request sent and its answer, as HAR 1.2
       --report-md PATH                  the summary as Markdown (and to $GITHUB_STEP_SUMMARY)
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from contract_tests.domain_checks import SEEN_IDS
from contract_tests.preflight import preflight
from contract_tests.reports.har import HarLog
from contract_tests.reports.summary import summary_lines
from contract_tests.run import current_run, start_run
from contract_tests.target import (
    DEFAULT_BUDGET,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    Target,
    current_target,
    set_target,
    target_from,
)
from mock_server.contract import load_contract
from mock_server.errors import UsageError

OPTIONS = (
    "base_url",
    "api_key",
    "max_examples",
    "app",
    "no_shrink",
    "max_writes",
    "rate_limit",
    "timeout",
    "budget",
    "agent_id",
    "datasource_id",
    "allow_insecure",
    "seed",
    "strict",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meibel-contract", "Meibel contract suite")
    group.addoption("--base-url", help="test a deployment at this URL instead of the in-process mock")
    group.addoption("--api-key", help="API key for --base-url (default: $MEIBEL_API_KEY); never printed")
    group.addoption(
        "--max-examples", type=int, help=f"examples per operation and mode (default {DEFAULT_MAX_EXAMPLES})"
    )
    group.addoption(
        "--max-writes", type=int, help="live targets: requests that could be accepted (default 0)"
    )
    group.addoption(
        "--rate-limit", type=float, help=f"live targets: requests per second (default {DEFAULT_RATE_LIMIT:g})"
    )
    group.addoption(
        "--timeout", type=float, help=f"live targets: seconds per request (default {DEFAULT_TIMEOUT:g})"
    )
    group.addoption(
        "--budget", type=float, help=f"live targets: seconds for the run (default {DEFAULT_BUDGET:g})"
    )
    group.addoption("--agent-id", help="a real agent id for the requests that could be accepted")
    group.addoption("--datasource-id", help="a real datasource id for the requests that could be accepted")
    group.addoption(
        "--allow-insecure", action="store_true", help="allow plain http:// to a non-loopback host"
    )
    group.addoption(
        "--app", metavar="MODULE:ATTR", help="test another ASGI app in process (an app or a factory)"
    )
    group.addoption("--no-shrink", action="store_true", help="report failures unshrunk (faster)")
    group.addoption("--seed", help="the run's seed (default 0: the same cases every run); 'random' explores")
    group.addoption(
        "--report-har", metavar="PATH", help="live targets: write every request and answer as HAR 1.2"
    )
    group.addoption(
        "--report-md", metavar="PATH", help="write the summary as Markdown (also to $GITHUB_STEP_SUMMARY)"
    )
    group.addoption(
        "--contract-strict",
        dest="strict",
        action="store_true",
        help="known deviations of the service's framework (undeclared 401/400, lax coercion) fail the run",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    SEEN_IDS.reset()
    # Chosen before collection: Schemathesis builds the tests from the schema at import time.
    try:
        target = target_from({name: config.getoption(name) for name in OPTIONS})
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    for name in ("report_har", "report_md"):
        if config.getoption(name) is not None and not str(config.getoption(name)).strip():
            raise pytest.UsageError(
                f"--{name.replace('_', '-')} is empty: give a path, or leave the option out"
            )
    har = HarLog(secrets=[target.api_key]) if config.getoption("report_har") and target.live else None
    # meibel-contract asked already (and exits 2 with a report); `pytest --base-url` asks here.
    if target.live and not os.environ.get("MEIBEL_CONTRACT_PROG"):
        problem = preflight(target, load_contract(), har=har)
        if problem:
            raise pytest.UsageError(problem)
    set_target(target)
    start_run(target, progress=os.environ.get("MEIBEL_CONTRACT_PROGRESS") == "1", har=har)
    # The suite's module builds its schema (and in-process app, with this run's key) when it is
    # imported: a run inside another run (the kit's own tests) must import it afresh.
    sys.modules.pop("contract_tests.test_contract", None)


class ContractViolation(AssertionError):
    """The target broke the contract; each distinct failure is in the run's summary."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    # Failing checks do not stop a run (every distinct failure is reported, as the Schemathesis
    # CLI does); the test that sent the failing requests fails here, once, at its end.
    run = current_run()  # this session's run: a test may start (and replace) runs of its own
    before = run.failure_count
    result = yield
    failed = run.failure_count - before
    if failed:
        raise ContractViolation(f"{failed} answer(s) failed a check: see the distinct failures below")
    return result


@pytest.fixture(scope="session")
def contract_target() -> Target:
    return current_target()


def pytest_report_header(config: pytest.Config) -> str:
    target = current_target()
    line = f"meibel contract target: {target.label}; seed: {target.seed}"
    if target.live:
        line += (
            f"; at most {target.max_writes} write(s), "
            f"{target.rate_limit:g} req/s, {target.timeout:g} s per request, {target.budget:g} s in all"
        )
    return line


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = current_run()
    if not run.cases and not run.not_sent:
        return  # the suite did not run in this session (other tests did)
    if os.environ.get("MEIBEL_CONTRACT_PROG"):
        return  # meibel-contract prints the summary and writes the reports itself
    replay = replay_command(run.target, "pytest contract_tests")
    for title, lines in summary_lines(run, replay=replay):
        if title:
            terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
    code = 0 if exitstatus == 0 else 1 if exitstatus == 1 else 2
    problems = []
    har, md = config.getoption("report_har"), config.getoption("report_md")
    if har and run.har is not None:
        try:
            run.har.write(har)
        except OSError as exc:
            problems.append(f"cannot write {har}: {exc.strerror or exc}")
    from contract_tests.reports.markdown import markdown, write_markdown

    if md:  # `pytest` runs the kit's own suite too: only a run asked for a report writes one
        problems += write_markdown(md, markdown(run, code, replay=replay))
    for problem in problems:
        terminalreporter.write_line(f"meibel-contract: error: {problem}")


def replay_command(target: Target, program: str) -> str:
    parts = [program]
    if target.base_url:
        parts.append(f"--base-url {target.base_url}")
    parts.append(f"--seed {target.seed}")
    if target.max_examples != DEFAULT_MAX_EXAMPLES:
        parts.append(f"--max-examples {target.max_examples}")
    if target.max_writes:
        parts.append(f"--max-writes {target.max_writes}")
    return " ".join(parts)
