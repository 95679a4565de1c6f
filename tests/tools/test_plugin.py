"""The pytest plugin, from the outside: a user's test files run with pytester."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpcore  # noqa: F401  # imported before pytester's in-process runs, which would import it
import pytest  # afresh each time: httpx would then no longer recognise its timeouts

ROOT = Path(__file__).resolve().parents[2]
RUN = ("-p", "no:cacheprovider", "--strict-markers")
CREATE = """
import httpx

BODY = {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}

def create(mock, **headers):
    return httpx.post(mock.url + "/batch-executions", json=BODY, timeout=10,
                      headers={"Meibel-API-Key": mock.api_key, **headers})
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(helpers=CREATE)
    pytester.syspathinsert()
    return pytester


def test_fixture_marker_method_and_reset(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from helpers import create

        def test_default(meibel_mock):
            assert meibel_mock.url.endswith("/v2")
            assert create(meibel_mock).json()["status"] == "pending"
            assert len(meibel_mock.requests) == 1

        @pytest.mark.meibel_scenario("failed")
        def test_marker(meibel_mock):
            assert meibel_mock.requests == []  # reset before each test
            assert create(meibel_mock).json()["status"] == "failed"

        def test_method(meibel_mock):
            meibel_mock.set_scenario("cancelled")
            assert create(meibel_mock).json()["status"] == "cancelled"

        def test_scenario_does_not_leak(meibel_mock):
            assert create(meibel_mock).json()["status"] == "pending"

        def test_same_seed_after_a_reset(meibel_mock):
            first = create(meibel_mock).json()["id"]
            meibel_mock.reset()
            assert create(meibel_mock).json()["id"] == first

        def test_unknown_scenario(meibel_mock):
            with pytest.raises(ValueError, match="unknown scenario"):
                meibel_mock.set_scenario("exploded")
        """
    )
    suite.runpytest_inprocess(*RUN).assert_outcomes(passed=6)


def test_the_journal_helpers(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import httpx, pytest
        from helpers import BODY, create

        def test_helpers(meibel_mock):
            with pytest.raises(LookupError, match="no request reached the mock"):
                meibel_mock.requests.last
            create(meibel_mock)
            httpx.get(meibel_mock.url + "/batch-executions?page=2")
            create(meibel_mock, **{"Prefer": "example=failed"})
            journal = meibel_mock.requests
            assert journal.last.response["status"] == "failed" and journal.last.body == BODY
            assert journal.count() == 3 and journal.count("post") == 2
            assert journal.count(path="/batch-executions") == 3 == journal.count(path="/v2/batch-*")
            [listed] = journal.filter("GET")
            assert listed.query == {"page": ["2"]} and listed.status == 405
            assert journal.count(path="/elsewhere") == 0
        """
    )
    suite.runpytest_inprocess(*RUN).assert_outcomes(passed=1)


def test_queued_faults_latency_and_scenarios(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import httpx, pytest
        from helpers import create

        def test_fail_next(meibel_mock):
            meibel_mock.fail_next(503, times=2)
            answers = [create(meibel_mock) for _ in range(3)]
            assert [a.status_code for a in answers] == [503, 503, 201]
            assert answers[0].headers["x-mock-injected"] == "fault"
            assert "queued by the test" in answers[0].json()["detail"]

        def test_the_queue_is_reset_between_tests(meibel_mock):
            meibel_mock.fail_next(500, times=5)
            create(meibel_mock)

        def test_nothing_left_from_the_last_test(meibel_mock):
            assert meibel_mock.queued == [] and create(meibel_mock).status_code == 201

        def test_order_and_mixes(meibel_mock):
            meibel_mock.fail_next(429)
            meibel_mock.scenario_next("completed", times=2)
            meibel_mock.queue(fault=502, latency="10ms")
            answers = [create(meibel_mock) for _ in range(5)]
            assert [a.status_code for a in answers] == [429, 201, 201, 502, 201]
            assert answers[0].headers["retry-after"] == "1"
            assert [a.json().get("status") for a in answers[1:3]] == ["completed", "completed"]
            assert answers[4].json()["status"] == "pending"

        def test_queue_wins_over_prefer(meibel_mock):
            meibel_mock.scenario_next("failed")
            assert create(meibel_mock, Prefer="example=completed").json()["status"] == "failed"

        def test_delay_next_times_a_client_out(meibel_mock):
            meibel_mock.delay_next("1s")
            with pytest.raises(httpx.TimeoutException):
                httpx.post(meibel_mock.url + "/batch-executions", timeout=0.1)
            assert create(meibel_mock).status_code == 201

        @pytest.mark.meibel_queue(fault=503, times=2)
        @pytest.mark.meibel_queue(scenario="cancelled")
        def test_markers_apply_top_to_bottom(meibel_mock):
            statuses = [create(meibel_mock) for _ in range(4)]
            assert [a.status_code for a in statuses] == [503, 503, 201, 201]
            assert [a.json()["status"] for a in statuses[2:]] == ["cancelled", "pending"]

        @pytest.mark.parametrize("bad", [dict(fault=418), dict(times=0), dict(latency="soon"),
                                         dict(scenario="exploded"), dict()])
        def test_bad_behaviours_are_refused(meibel_mock, bad):
            with pytest.raises(ValueError):
                meibel_mock.queue(**bad)

        @pytest.mark.meibel_queue(fault=418)
        def test_a_bad_marker_is_a_setup_error(meibel_mock):
            pass
        """
    )
    result = suite.runpytest_inprocess(*RUN)
    result.assert_outcomes(passed=12, errors=1)
    result.stdout.fnmatch_lines(["*meibel_mock marker: fault 418 is not one of 429, 500, 502, 503, 504*"])
    # Said once, without pytest's "During handling of the above exception" and a second copy.
    out = result.stdout.str()
    lines = out.splitlines()
    assert sum(line.startswith("meibel_mock marker: fault 418") for line in lines) == 1
    assert "fault 418 is not one of 429, 500, 502, 503, 504" not in lines  # the first copy, bare
    assert "During handling" not in out


def test_a_timed_out_request_never_reaches_the_next_tests_journal(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import time
        import httpx, pytest

        def test_times_out(meibel_mock):
            meibel_mock.delay_next("1s")
            with pytest.raises(httpx.TimeoutException):
                httpx.post(meibel_mock.url + "/batch-executions", timeout=0.2)

        def test_next(meibel_mock):
            journal = meibel_mock.app.state.journal
            deadline = time.monotonic() + 10
            while not (journal.late or journal.entries()) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the server has answered the earlier request
            assert journal.late == 1 and meibel_mock.requests == []
        """
    )
    suite.runpytest_inprocess(*RUN).assert_outcomes(passed=2)


OVERRIDE = """
import pytest
from mock_server import Settings

@pytest.fixture(scope="session")
def meibel_mock_settings():
    return Settings(fail_rate=1.0, fail_code=429, seed=0)
"""
PLAIN = """
from helpers import create

def test_plain_one(meibel_mock):
    assert create(meibel_mock).status_code == 201, "an unrelated test got another test's settings"

def test_plain_two(meibel_mock):
    assert create(meibel_mock).status_code == 201, "an unrelated test got another test's settings"
"""
OVERRIDDEN = """
import pytest
from mock_server import Settings
from helpers import create

def test_override_took_effect(meibel_mock):
    assert create(meibel_mock).status_code == 429, "override did not take effect"

class TestClassOverride:
    @pytest.fixture
    def meibel_mock_settings(self):
        return Settings(api_keys=("class-key",))

    def test_class_settings(self, meibel_mock):
        assert meibel_mock.api_key == "class-key" and create(meibel_mock).status_code == 201
"""
SHUFFLE = """
import os, random

def pytest_collection_modifyitems(items):
    random.Random(int(os.environ["SHUFFLE_SEED"])).shuffle(items)
"""


@pytest.fixture
def override_layout(suite: pytest.Pytester) -> pytest.Pytester:
    (suite.path / "suite").mkdir()
    (suite.path / "suite" / "test_plain.py").write_text(PLAIN)
    (suite.path / "override_leak").mkdir()
    (suite.path / "override_leak" / "conftest.py").write_text(OVERRIDE)
    (suite.path / "override_leak" / "test_override.py").write_text(OVERRIDDEN)
    suite.makepyfile(shuffle=SHUFFLE)
    return suite


@pytest.mark.parametrize("order", [("suite", "override_leak"), ("override_leak", "suite")])
def test_settings_overrides_never_leak(override_layout: pytest.Pytester, order: tuple[str, str]) -> None:
    override_layout.runpytest_inprocess(*RUN, *order).assert_outcomes(passed=4)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_settings_overrides_never_leak_in_any_order(
    override_layout: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setenv("SHUFFLE_SEED", str(seed))
    result = override_layout.runpytest_inprocess(*RUN, "-p", "shuffle", "-v", "suite", "override_leak")
    result.assert_outcomes(passed=4)


def test_a_settings_mistake_is_one_clear_error(suite: pytest.Pytester) -> None:
    suite.makeconftest(
        """
        import pytest
        from mock_server import Settings

        @pytest.fixture(scope="session")
        def meibel_mock_settings():
            return Settings(scenario="exploded")
        """
    )
    suite.makepyfile("def test_it(meibel_mock): pass")
    result = suite.runpytest_inprocess(*RUN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*meibel_mock_settings: unknown scenario 'exploded'; available: *"])


SEEDS = """
import json, pathlib
from helpers import create

def record(name, mock):
    with pathlib.Path("ids.jsonl").open("a") as out:
        out.write(json.dumps([name, create(mock).json()["id"]]) + "\\n")

def test_a(meibel_mock): record("a", meibel_mock)
def test_b(meibel_mock): record("b", meibel_mock)
"""


def test_each_test_has_a_seed_of_its_own(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_seeds=SEEDS)
    suite.makepyfile(shuffle=SHUFFLE)
    suite.runpytest_inprocess(*RUN).assert_outcomes(passed=2)
    for seed in ("5", "6"):  # other orders: at least one of them puts b first
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SHUFFLE_SEED", seed)
            suite.runpytest_inprocess(*RUN, "-p", "shuffle").assert_outcomes(passed=2)
    runs = [json.loads(line) for line in (suite.path / "ids.jsonl").read_text().splitlines()]
    ids = {name: {i for n, i in runs if n == name} for name in ("a", "b")}
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1, "the same test got different ids"
    assert ids["a"] != ids["b"], "two tests got the same first id"


def test_every_fixture_has_a_docstring(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    ours = text[text.index("fixtures defined from pytest_meibel_mock") :]
    assert [line.split()[0] for line in ours.splitlines()[1:] if line.startswith("meibel")] == [
        "meibel_mock",
        "meibel_mock_settings",
        "meibel_mock_server",
    ]
    assert "no docstring available" not in ours
    assert "Override" in ours and ".fail_next(503, times=2)" in ours and "docs/sdk-testing.md" in ours


def test_a_project_with_its_own_mock_server_package_still_runs(pytester: pytest.Pytester) -> None:
    """Its own tests run; a test that asks for the fixture gets one clear line saying why not."""
    (pytester.path / "mock_server").mkdir()
    (pytester.path / "mock_server" / "__init__.py").write_text("ANSWER = 42\n")
    pytester.makefile(".toml", pyproject='[tool.pytest.ini_options]\npythonpath = ["."]\n')
    pytester.makepyfile(
        """
        from mock_server import ANSWER

        def test_own_package():
            assert ANSWER == 42

        def test_wants_the_mock(meibel_mock):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    lines = [line for line in result.stdout.lines if "another package named mock_server shadows it" in line]
    assert len(lines) >= 1 and str(pytester.path / "mock_server" / "__init__.py") in lines[0]
    assert "Traceback" not in result.stdout.str() and result.ret == 1


def loaded_by(statement: str) -> list[str]:
    """The heavy or contract-suite modules that `statement` imports, in a fresh interpreter."""
    code = (
        f"import sys; {statement}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mock_server', 'starlette', 'uvicorn', "
        "'schemathesis', 'hypothesis', 'openapi_core', 'pytest', '_pytest', 'contract_tests'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(out.stdout.replace("'", '"')))


def test_the_plugin_module_imports_nothing_of_the_mock() -> None:
    """What makes a session that does not use the mock pay nothing for it."""
    assert loaded_by("import pytest_meibel_mock") == ["_pytest", "pytest"]


def test_the_mock_needs_nothing_of_the_contract_suite() -> None:
    """`pip install .` (no [contract] extra) must serve and test: no Schemathesis, Hypothesis or pytest."""
    loaded = loaded_by(
        "import mock_server.cli, mock_server.app, mock_server.testing, mock_server.traffic.proxy"
    )
    assert not {"schemathesis", "hypothesis", "pytest", "_pytest", "contract_tests"} & set(loaded)


def test_the_packaging_keeps_the_plugin_light() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    base = {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in project["project"]["dependencies"]}
    assert not base & {"schemathesis", "hypothesis", "pytest"}, "they would load pytest plugins everywhere"
    extras = project["project"]["optional-dependencies"]
    assert {"schemathesis", "hypothesis"} <= {re.split(r"[<>=\[ ]", d)[0] for d in extras["contract"]}
    assert "meibel-contract-kit[contract]" in extras["dev"]
    assert project["project"]["entry-points"]["pytest11"] == {"meibel_mock": "pytest_meibel_mock"}
    assert "pytest_meibel_mock.py" in project["tool"]["hatch"]["build"]["targets"]["wheel"]["only-include"]


def test_a_suite_written_for_dict_entries_still_passes_with_a_deprecation_warning(
    suite: pytest.Pytester,
) -> None:
    # Written against 0.1.0, where the journal was a list of dicts with `query` and `body` as sent.
    suite.makepyfile(
        """
        import httpx
        from helpers import create

        def test_old_style(meibel_mock):
            create(meibel_mock)
            httpx.get(meibel_mock.url + "/batch-executions?page=2", timeout=10)
            first, second = meibel_mock.requests
            assert first["method"] == "POST" and first["status"] == 201
            assert first["body"].startswith('{"batch_spec_json"')
            assert second["query"] == "page=2" and second.get("status") == 405
            assert second.get("no-such-key", "default") == "default"
            assert meibel_mock.requests[-1]["path"] == "/v2/batch-executions"
        """
    )
    result = suite.runpytest_inprocess(*RUN, "-W", "always::DeprecationWarning")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert (
        "entry['query'] is deprecated and will be removed in 0.3.0; use entry.query_string "
        "(entry.query is now the parsed query)" in out
    )
    # The warning points at the user's line, not at the kit.
    assert re.search(r"dict_entries\w*\.py:10: DeprecationWarning: [^\n]*entry\['query'\]", out), out
