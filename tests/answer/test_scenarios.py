"""Coherent, scenario-driven, deterministic createExecution answers (scenarios.py)."""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.invariants import echo_violations, execution_violations
from mock_server import Contract, Settings, create_app
from mock_server.answer import scenarios
from mock_server.answer.scenarios import SCENARIOS
from tests.conftest import PATH, VALID, Client
from tests.oracle import Oracle

FULL: dict[str, Any] = {
    "batch_spec_json": {
        "name": "Invoices",
        "agent": "agent_1",
        "version": "3",
        "user_message": "extract totals",
        "input": {
            "datasource_id": "ds_in",
            "filters": {
                "regex": ".*",
                "media_types": ["text/csv"],
                "element_ids": ["el_1", "el_2", "el_3"],
                "additional_properties": {},
            },
        },
        "output": {"datasource_id": "ds_out"},
        "execution": {"concurrency": 3, "retry_limit": 4},
        "additional_properties": {"priority": "high"},
    }
}


@pytest.fixture(scope="module")
def oracle(contract: Contract) -> Oracle:
    return Oracle(contract.document)


def coherent(request: Any, response: Any) -> list[str]:
    return execution_violations(response) + echo_violations(request, response)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("body", [VALID, FULL], ids=["minimal", "full"])
def test_every_scenario_is_valid_and_coherent(
    client: Client, oracle: Oracle, scenario: str, body: dict[str, Any]
) -> None:
    response = client.create(body, headers={"Prefer": f"example={scenario}"})
    assert response.status_code == 201
    oracle.check_response(PATH, body, 201, response.content)
    answer = response.json()
    assert coherent(body, answer) == []
    expected_status = "completed" if scenario == "completed_with_failures" else scenario
    assert answer["status"] == expected_status


def test_scenarios_say_what_their_names_say(client: Client) -> None:
    def ask(name: str) -> dict[str, Any]:
        return client.create(FULL, headers={"Prefer": f"example={name}"}).json()  # type: ignore[no-any-return]

    pending, running = ask("pending"), ask("running")
    assert pending["end_time"] is None and pending["succeeded"] == pending["failed"] == 0
    assert running["end_time"] is None and running["succeeded"] + running["failed"] < running["total_items"]
    completed = ask("completed")
    assert completed["succeeded"] == completed["total_items"] == 3 and completed["failed"] == 0
    assert [item["input_data_element_id"] for item in completed["items"]] == ["el_1", "el_2", "el_3"]
    assert all(item["filename"].endswith(".csv") for item in completed["items"])
    partial = ask("completed_with_failures")
    assert partial["status"] == "completed" and partial["failed"] >= 1 and partial["error"] is None
    failed = ask("failed")
    assert failed["status"] == "failed" and failed["error"]
    assert all(
        item["attempts"] == 5 for item in failed["items"] if item["status"] == "failed"
    )  # retry_limit + 1
    cancelled = ask("cancelled")
    assert any(item["status"] == "cancelled" for item in cancelled["items"])


def test_the_request_shows_in_the_answer(client: Client) -> None:
    answer = client.create(FULL).json()
    assert answer["input_datasource_id"] == "ds_in"
    assert answer["output_datasource_id"] == "ds_out"
    assert answer["agent_urn"] == "urn:meibel:agent:agent_1"
    assert answer["batch_spec_json"] == FULL["batch_spec_json"]
    minimal = client.create(VALID).json()
    # Defaults of the document filled in, absent optionals null, as the real service answers.
    assert minimal["batch_spec_json"] == {
        "name": "n",
        "version": None,
        "agent": "a",
        "user_message": None,
        "input": {"datasource_id": "d", "filters": None},
        "output": None,
        "execution": None,
        "additional_properties": {},
    }
    assert minimal["output_datasource_id"] is None


def test_execution_defaults_are_filled(client: Client) -> None:
    body = {"batch_spec_json": {**VALID["batch_spec_json"], "execution": {}}}
    echoed = client.create(body).json()["batch_spec_json"]
    assert echoed["execution"] == {"concurrency": 10, "retry_limit": 2}


def test_ids_fresh_per_request_and_stable_where_they_should_be(client: Client) -> None:
    first, second = client.create(FULL).json(), client.create(FULL).json()
    assert first["id"] != second["id"]
    assert first["batch_definition_id"] == second["batch_definition_id"]
    other_spec = {"batch_spec_json": {**FULL["batch_spec_json"], "name": "Other"}}
    assert client.create(other_spec).json()["batch_definition_id"] != first["batch_definition_id"]
    assert first["customer_id"] == second["customer_id"] and first["project_id"] == second["project_id"]


@pytest.mark.parametrize("settings", [Settings(api_keys=("key-a", "key-b"))])
def test_tenant_ids_follow_the_key(client: Client) -> None:
    a = client.create(headers={"Meibel-API-Key": "key-a"}).json()
    b = client.create(headers={"Meibel-API-Key": "key-b"}).json()
    assert (a["customer_id"], a["project_id"]) != (b["customer_id"], b["project_id"])
    assert "key-a" not in json.dumps(a)


def test_default_answer_is_just_started(client: Client) -> None:
    answer = client.create().json()
    assert answer["status"] in ("pending", "running")
    assert answer["end_time"] is None


@pytest.mark.parametrize("settings", [Settings(scenario="failed")])
def test_server_wide_scenario(client: Client) -> None:
    assert client.create().json()["status"] == "failed"
    assert client.create(headers={"Prefer": "example=completed"}).json()["status"] == "completed"


def test_dynamic_answers_are_many_and_all_coherent(client: Client, oracle: Oracle) -> None:
    answers = [client.create(FULL, headers={"Prefer": "dynamic=true"}) for _ in range(40)]
    for response in answers:
        oracle.check_response(PATH, FULL, 201, response.content)
        assert coherent(FULL, response.json()) == []
    shapes = {(a.json()["status"], a.json()["succeeded"], a.json()["failed"]) for a in answers}
    assert len(shapes) >= 8
    assert len({a.json()["status"] for a in answers}) == 5


def test_prefer_code_422_is_a_valid_validation_error(client: Client, oracle: Oracle) -> None:
    response = client.create(headers={"Prefer": "code=422"})
    assert response.status_code == 422
    oracle.check_response(PATH, VALID, 422, response.content)
    assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [
        (
            "example=exploded",
            "available: pending, running, completed, completed_with_failures, failed, cancelled",
        ),
        ("code=500", "documented: 201, 422"),
        ("code=abc", "documented: 201, 422"),
        ("example=", "needs a value"),
    ],
)
def test_unknown_preferences_are_400_listing_what_exists(client: Client, prefer: str, expected: str) -> None:
    response = client.create(headers={"Prefer": prefer})
    assert response.status_code == 400
    assert expected in response.json()["detail"]


def test_unrelated_preferences_are_ignored(client: Client) -> None:
    assert client.create(headers={"Prefer": "return=minimal, respond-async"}).status_code == 201


def _sequence(contract: Contract, seed: int | None) -> list[bytes]:
    c = Client(create_app(contract, settings=Settings(seed=seed)))
    try:
        return [
            c.create(body, headers={"Prefer": prefer}).content
            for body, prefer in [
                (VALID, "example=pending"),
                (FULL, "example=completed"),
                (FULL, "dynamic=true"),
                (VALID, "example=failed"),
                (FULL, "dynamic=true"),
                (FULL, "example=running"),
            ]
        ]
    finally:
        c.close()


def test_same_seed_same_bytes(contract: Contract) -> None:
    assert _sequence(contract, 7) == _sequence(contract, 7)
    assert _sequence(contract, 7) != _sequence(contract, 8)


def test_without_a_seed_ids_are_random_and_time_is_now(contract: Contract) -> None:
    first, second = _sequence(contract, None), _sequence(contract, None)
    assert first != second
    start = json.loads(first[0])["start_time"]
    assert start.startswith(
        __import__("datetime").datetime.now(__import__("datetime").UTC).strftime("%Y-%m-%d")
    )


spec_text = st.text(max_size=8)
requests = st.fixed_dictionaries(
    {
        "batch_spec_json": st.fixed_dictionaries(
            {
                "name": spec_text,
                "agent": spec_text,
                "input": st.fixed_dictionaries(
                    {"datasource_id": spec_text},
                    optional={
                        "filters": st.none()
                        | st.fixed_dictionaries(
                            {},
                            optional={
                                "element_ids": st.none() | st.lists(spec_text, max_size=15),
                                "media_types": st.none()
                                | st.lists(
                                    st.sampled_from(["application/pdf", "image/png", "x"]), max_size=2
                                ),
                            },
                        )
                    },
                ),
            },
            optional={
                "output": st.none()
                | st.fixed_dictionaries({}, optional={"datasource_id": st.none() | spec_text}),
                "execution": st.none()
                | st.fixed_dictionaries(
                    {},
                    optional={
                        "concurrency": st.integers(1, 999),
                        "retry_limit": st.none() | st.integers(0, 999),
                    },
                ),
                "additional_properties": st.dictionaries(spec_text, st.integers() | spec_text, max_size=2),
            },
        )
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=requests, scenario=st.sampled_from([*(f"example={s}" for s in SCENARIOS), "dynamic=true"]))
def test_invariants_hold_for_any_valid_request(
    client: Client, oracle: Oracle, body: Any, scenario: str
) -> None:
    response = client.create(body, headers={"Prefer": scenario})
    assert response.status_code == 201, response.text
    oracle.check_response(PATH, body, 201, response.content)
    assert coherent(body, response.json()) == []


# --- the plan's arithmetic, spelled for speed: what the plain formulas give -------------------


def test_definition_ids_are_uuid5_of_name_and_agent() -> None:
    for name, agent in [("Invoices", "agent_1"), ("", ""), ("Relevés été", "agent-ü"), ("n" * 500, "a")]:
        expected = uuid.uuid5(scenarios._NAMESPACE, f"{name}\x00{agent}")
        assert scenarios._definition_id(name, agent) == str(expected)


def test_the_shape_seed_is_the_checksums_of_request_and_scenario() -> None:
    for data in (b"", b"{}", b'{"batch_spec_json":{}}' * 40):
        for suffix in (b"pending", b"completed_with_failures"):
            joined = data + suffix
            expected = (zlib.crc32(joined) << 32) | zlib.adler32(joined)
            assert scenarios._digest(data, suffix) == expected


def test_splitmix_draws_follow_its_one_step() -> None:
    # randint and uniform write the step out; they must draw what `_next` draws.
    fast, slow = scenarios.SplitMix(2026), scenarios.SplitMix(2026)
    for index in range(5_000):
        if index % 2:
            assert fast.randint(3, 12) == 3 + slow._next() % 10
        else:
            assert fast.uniform(2.0, 8.0) == 2.0 + 6.0 * ((slow._next() >> 11) * (1.0 / (1 << 53)))
    assert fast.state == slow.state
