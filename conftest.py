"""Target selection for the contract suite: the in-process mock by default, or a deployment.

pytest                                   the mock, in process (no socket)
pytest --base-url https://host           a deployment (or MEIBEL_BASE_URL)
       --api-key KEY                     its key (or MEIBEL_API_KEY); never printed
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from contract_tests.checks import SEEN_IDS, SPEC_GAPS
from contract_tests.target import DEFAULT_MAX_EXAMPLES, Target, current_target, set_target, target_from


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meibel-contract", "Meibel contract suite")
    group.addoption(
        "--base-url", default=None, help="test a deployment at this URL instead of the in-process mock"
    )
    group.addoption("--api-key", default=None, help="API key for --base-url (default: $MEIBEL_API_KEY)")
    group.addoption(
        "--max-examples",
        type=int,
        default=None,
        help=f"examples per operation and mode (default {DEFAULT_MAX_EXAMPLES})",
    )
    group.addoption(
        "--app",
        default=None,
        metavar="MODULE:ATTR",
        help="test another ASGI app in process (an app or a factory of one)",
    )
    group.addoption("--no-shrink", action="store_true", help="report failures unshrunk (faster)")


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin reads the seed
def pytest_configure(config: pytest.Config) -> None:
    # Every run has a seed, so that any failure can be replayed exactly.
    if config.getoption("--hypothesis-seed", default=None) is None and hasattr(
        config.option, "hypothesis_seed"
    ):
        config.option.hypothesis_seed = str(secrets.randbelow(2**32))
    # Chosen before collection: Schemathesis builds the tests from the schema at import time.
    SPEC_GAPS.reset()
    SEEN_IDS.reset()
    get = config.getoption
    set_target(
        target_from(
            {
                "base_url": get("--base-url"),
                "api_key": get("--api-key"),
                "max_examples": get("--max-examples"),
                "app": get("--app"),
                "no_shrink": get("--no-shrink"),
            }
        )
    )


@pytest.fixture(scope="session")
def contract_target() -> Target:
    return current_target()


def pytest_report_header(config: pytest.Config) -> str:
    seed = getattr(config.option, "hypothesis_seed", None)
    return f"meibel contract target: {current_target().label}; hypothesis seed: {seed}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if exitstatus == pytest.ExitCode.TESTS_FAILED:
        seed = getattr(config.option, "hypothesis_seed", None)
        terminalreporter.section("replay")
        terminalreporter.write_line(
            f"Run again with --hypothesis-seed={seed} (and the same options) to replay "
            "these examples; each failure above shows its request as a curl command."
        )
    gaps = SPEC_GAPS.describe()
    if gaps:
        terminalreporter.section("known gaps in the document (allowed, not hidden)")
        for line in gaps:
            terminalreporter.write_line(line)
