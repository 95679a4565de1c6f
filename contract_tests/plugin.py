"""The contract suite's pytest plugin: target options, safe defaults, and the run's summary.

pytest                                   the mock, in process (no socket)
pytest --base-url https://host           a deployment (or MEIBEL_BASE_URL), with safe defaults
       --api-key KEY                     its key (or MEIBEL_API_KEY); never printed
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from contract_tests.checks import SEEN_IDS, SPEC_GAPS
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


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin reads the seed
def pytest_configure(config: pytest.Config) -> None:
    # Every run has a seed, so that any failure can be replayed exactly.
    if getattr(config.option, "hypothesis_seed", "absent") is None:
        config.option.hypothesis_seed = str(secrets.randbelow(2**32))
    SPEC_GAPS.reset()
    SEEN_IDS.reset()
    # Chosen before collection: Schemathesis builds the tests from the schema at import time.
    try:
        target = target_from({name: config.getoption(name) for name in OPTIONS})
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    set_target(target)
    start_run(target, progress=os.environ.get("MEIBEL_CONTRACT_PROGRESS") == "1")


@pytest.fixture(scope="session")
def contract_target() -> Target:
    return current_target()


def pytest_report_header(config: pytest.Config) -> str:
    target = current_target()
    seed = getattr(config.option, "hypothesis_seed", None)
    line = f"meibel contract target: {target.label}; hypothesis seed: {seed}"
    if target.live:
        line += (
            f"; at most {target.max_writes} request(s) that could be accepted, "
            f"{target.rate_limit:g} req/s, {target.timeout:g} s per request, {target.budget:g} s in all"
        )
    return line


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = current_run()
    write = terminalreporter.write_line
    if run.passed or run.failed:
        terminalreporter.section(
            "checks (answers passed / failed; a check passes answers it does not apply to)"
        )
        for name in sorted(set(run.passed) | set(run.failed)):
            write(f"{name:42} {run.passed[name]:6d} passed {run.failed[name]:6d} failed")
        write(
            f"{run.sent} requests sent; {run.writes} could be accepted; {run.withheld} sent without the key "
            f"(write budget spent); {run.not_sent} not sent (time budget spent)"
        )
    if run.failures:
        terminalreporter.section(f"{len(run.failures)} distinct failure(s)")
        for number, failure in enumerate(run.failures.values(), 1):
            write(f"{number}. [{failure.check}] {failure.title}")
            for line in failure.message.strip().splitlines()[:12]:
                write(f"     {line}")
            write("   Reproduce with:")
            for line in failure.reproduction.splitlines():
                write(f"     {line}")
    gaps = SPEC_GAPS.describe()
    if gaps:
        terminalreporter.section("known gaps in the document (allowed, not hidden)")
        for line in gaps:
            write(line)
    if exitstatus == pytest.ExitCode.TESTS_FAILED:
        seed = getattr(config.option, "hypothesis_seed", None)
        terminalreporter.section("replay")
        write(
            f"Run again with --hypothesis-seed={seed} (and the same options) to replay these examples; "
            "each failure above shows its request as a curl command, with the key filtered."
        )
