"""The pytest plugin, from the outside: a user's test file run with pytester."""

from __future__ import annotations

import pytest


def test_fixture_marker_method_and_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        BODY = {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}

        def create(mock, **headers):
            return httpx.post(mock.url + "/batch-executions", json=BODY,
                              headers={"Meibel-API-Key": mock.api_key, **headers}).json()

        def test_default(meibel_mock):
            assert meibel_mock.url.endswith("/v2")
            assert create(meibel_mock)["status"] == "pending"
            assert len(meibel_mock.requests) == 1

        @pytest.mark.meibel_scenario("failed")
        def test_marker(meibel_mock):
            assert meibel_mock.requests == []  # reset before each test
            assert create(meibel_mock)["status"] == "failed"

        def test_method(meibel_mock):
            meibel_mock.set_scenario("cancelled")
            assert create(meibel_mock)["status"] == "cancelled"

        def test_scenario_does_not_leak(meibel_mock):
            assert create(meibel_mock)["status"] == "pending"

        def test_same_seed_each_test(meibel_mock):
            first = create(meibel_mock)["id"]
            meibel_mock.reset()
            assert create(meibel_mock)["id"] == first

        def test_unknown_scenario(meibel_mock):
            with pytest.raises(ValueError, match="unknown scenario"):
                meibel_mock.set_scenario("exploded")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=6)


def test_settings_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from mock_server import Settings

        @pytest.fixture(scope="session")
        def meibel_mock_settings():
            return Settings(api_keys=("team-key",), scenario="completed")
        """
    )
    pytester.makepyfile(
        """
        import httpx

        def test_key_and_scenario(meibel_mock):
            assert meibel_mock.api_key == "team-key"
            answer = httpx.post(meibel_mock.url + "/batch-executions", headers={"Meibel-API-Key": "team-key"},
                                json={"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}})
            assert answer.json()["status"] == "completed"
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
