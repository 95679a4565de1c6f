"""The request journal, /__mock/ control endpoints, latency and injected faults."""

from __future__ import annotations

import time

import pytest

from mock_server import Settings
from mock_server.state.chaos import parse_latency
from tests.conftest import KEY, PATH, VALID, Client


def test_journal_records_requests_with_keys_redacted(client: Client) -> None:
    client.create(headers={"Authorization": "Bearer secret-token"})
    client.post("/nope", headers=KEY)
    client.request("GET", PATH + "?x=1")
    entries = client.request("GET", "/__mock/requests").json()
    assert entries["size"] == 1000
    first, second, third = entries["requests"]
    assert (first["method"], first["path"], first["status"]) == ("POST", PATH, 201)
    assert first["headers"]["meibel-api-key"] == "[redacted]"
    assert first["headers"]["authorization"] == "[redacted]"
    assert first["body"] == VALID and '"datasource_id": "d"' in first["body_text"]
    assert first["response"]["status"] == "pending" and first["response_truncated"] is False
    assert (second["path"], second["status"], second["body"]) == ("/nope", 404, None)
    assert second["response"] == {"detail": "Not Found"}
    assert (third["query"], third["query_string"], third["status"]) == ({"x": ["1"]}, "x=1", 405)
    assert "meibel-mock-key" not in str(entries)
    assert client.request("DELETE", "/__mock/requests").status_code == 204
    assert client.request("GET", "/__mock/requests").json()["requests"] == []


@pytest.mark.parametrize("settings", [Settings(journal_size=5)])
def test_journal_is_bounded(client: Client) -> None:
    for _ in range(20):
        client.create()
    assert len(client.request("GET", "/__mock/requests").json()["requests"]) == 5


@pytest.mark.parametrize("settings", [Settings(journal_size=2)])
def test_journal_keeps_at_most_64kib_of_a_body(client: Client) -> None:
    big = {"batch_spec_json": {**VALID["batch_spec_json"], "user_message": "x" * 200_000}}
    assert client.create(big).status_code == 201
    [entry] = client.request("GET", "/__mock/requests").json()["requests"]
    assert len(entry["body_text"]) == 64 * 1024 and entry["body_truncated"] is True
    assert entry["body"] == entry["body_text"]  # cut: no longer JSON, kept as text
    assert len(entry["response"]) == 64 * 1024 and entry["response_truncated"] is True


@pytest.mark.parametrize("settings", [Settings(journal_size=0)])
def test_journal_can_be_turned_off(client: Client) -> None:
    client.create()
    assert client.request("GET", "/__mock/requests").json()["requests"] == []


def test_scenario_and_reset_over_http(client: Client) -> None:
    assert client.request("PUT", "/__mock/scenario", json={"scenario": "failed"}).json() == {
        "scenario": "failed"
    }
    assert client.create().json()["status"] == "failed"
    refused = client.request("PUT", "/__mock/scenario", json={"scenario": "exploded"})
    assert refused.status_code == 400 and "available" in refused.json()["detail"]
    assert client.request("PUT", "/__mock/scenario", content=b"nope").status_code == 400
    assert client.request("POST", "/__mock/reset").status_code == 204
    assert client.request("GET", "/__mock/scenario").json() == {"scenario": None}
    assert client.request("GET", "/__mock/nothing").status_code == 404
    assert client.request("POST", "/__mock/requests").headers["allow"] == "GET, DELETE"


@pytest.mark.parametrize("code", ["429", "500", "502", "503", "504"])
def test_prefer_fault_injects_a_marked_answer(client: Client, code: str) -> None:
    response = client.create(headers={"Prefer": f"fault={code}"})
    assert response.status_code == int(code)
    assert response.headers["x-mock-injected"] == "fault"
    assert response.json()["injected"] is True and "injected by the mock" in response.json()["detail"]
    if code == "429":
        assert response.headers["retry-after"] == "1"


def test_bad_chaos_preferences_are_400(client: Client) -> None:
    assert client.create(headers={"Prefer": "fault=418"}).status_code == 400
    assert client.create(headers={"Prefer": "latency=soon"}).status_code == 400


@pytest.mark.parametrize("settings", [Settings(fail_rate=0.5, fail_code=429, seed=1)])
def test_fail_rate_injects_about_that_share(client: Client) -> None:
    codes = [client.create().status_code for _ in range(200)]
    assert set(codes) == {201, 429}
    assert 60 <= codes.count(429) <= 140


@pytest.mark.parametrize("settings", [Settings(fail_rate=0.3, seed=9)])
def test_faults_do_not_change_a_seeded_runs_fixtures(client: Client, contract: object) -> None:
    bodies = [r.json() for r in (client.create() for _ in range(30)) if r.status_code == 201]
    from mock_server import create_app

    plain = Client(create_app(contract, settings=Settings(seed=9)))  # type: ignore[arg-type]
    try:
        same = [plain.create().json() for _ in range(len(bodies))]
    finally:
        plain.close()
    assert [b["id"] for b in bodies] == [b["id"] for b in same]


def test_prefer_latency_delays_the_answer(client: Client) -> None:
    started = time.monotonic()
    assert client.create(headers={"Prefer": "latency=300ms"}).status_code == 201
    assert time.monotonic() - started >= 0.3  # a lower bound: it cannot be faster, however busy the machine


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200ms", (0.2, 0.2)), ("1.5s", (1.5, 1.5)), ("50", (0.05, 0.05)), ("50ms-300ms", (0.05, 0.3))],
)
def test_latency_syntax(text: str, expected: tuple[float, float]) -> None:
    assert parse_latency(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["fast", "300ms-50ms", "20m", "-5ms"])
def test_bad_latency_syntax(text: str) -> None:
    with pytest.raises(ValueError):
        parse_latency(text)
