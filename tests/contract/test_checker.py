"""Check the checker: the contract suite, run against one deliberately broken server per
defect, fails through the check meant to catch it, while the real mock passes (`warm`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import contract_tests.run as run_module
import contract_tests.target as target_module
from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS
from contract_tests.domain_checks import SEEN_IDS
from tests.broken import DEFECTS, KEY

ROOT = Path(__file__).resolve().parents[2]
# How each check names itself in a failure report.
TITLES = {
    "status_code_conformance": "Undocumented status code",
    "response_schema_conformance": "Response violates schema",
    "content_type_conformance": "Undocumented Content-Type",
    "ignored_auth": "API accepts",
    "negative_data_rejection": "Schema-violating request accepted",
    "positive_data_acceptance": "Schema-valid request rejected",
    "not_a_server_error": "Server error",
}


@contextmanager
def outer_run_kept() -> Iterator[None]:
    """Inner runs share this process's module state; the outer run's must survive them."""
    saved_context = {name: getattr(CONTEXT, name) for name in ("contract", "judge", "api_key", "unknown_key")}
    saved_counts = (CONTEXT.auth_probes.copy(), CONTEXT.success_answers_checked)
    saved_deviations = (DEVIATIONS.strict, DEVIATIONS.counts.copy(), dict(DEVIATIONS.examples))
    saved = (target_module._current, run_module._current, set(SEEN_IDS.ids))
    try:
        yield
    finally:
        target_module._current, run_module._current = saved[:2]
        SEEN_IDS.ids = saved[2]
        for name, value in saved_context.items():
            setattr(CONTEXT, name, value)
        CONTEXT.auth_probes, CONTEXT.success_answers_checked = saved_counts
        DEVIATIONS.strict, DEVIATIONS.counts, DEVIATIONS.examples = saved_deviations


@pytest.fixture(scope="module")
def warm() -> None:
    """The suite against the real mock, which must pass. Run outside pytester, it also imports
    what a run imports once: each in-process pytester run drops the modules it imported, and
    re-importing six hundred of them per run (without bytecode caching) took three seconds each."""
    with outer_run_kept():
        code = pytest.main(
            [
                str(ROOT / "contract_tests"),
                "-q",
                "-p",
                "no:cacheprovider",
                "--assert=plain",
                "--max-examples=5",
                f"--rootdir={ROOT}",
            ]
        )
    assert code == 0


@pytest.fixture
def suite(pytester: pytest.Pytester, warm: None) -> Iterator[pytest.Pytester]:
    # The suite exactly as users run it: its conftest and test module, copied beside each other.
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_suite=(ROOT / "contract_tests" / "test_contract.py").read_text())
    with outer_run_kept():
        yield pytester


@pytest.mark.parametrize(("defect", "check"), sorted(DEFECTS.items()))
def test_each_defect_fails_through_its_check(suite: pytest.Pytester, defect: str, check: str) -> None:
    result = suite.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        f"--app=tests.broken:{defect}",
        f"--api-key={KEY}",
        "--no-shrink",
        "--max-examples=30",
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert TITLES.get(check, f"Custom check failed: `{check}`") in output
    assert KEY not in output  # the key is redacted from every reproduction
