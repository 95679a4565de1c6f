"""Answers queued for the next requests, in Python and over `/__mock/queue`."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.state.behaviour import MAX_QUEUED, BehaviourQueue, behaviour
from tests.conftest import Client


def test_the_queue_hands_out_one_step_per_request() -> None:
    queue = BehaviourQueue()
    queue.push(behaviour(fault=503, times=2))
    queue.push(behaviour(scenario="failed"))
    taken = [queue.take() for _ in range(4)]
    assert [(b.fault, b.scenario) if b else None for b in taken] == [
        (503, None),
        (503, None),
        (None, "failed"),
        None,
    ]


def test_the_queue_is_bounded() -> None:
    queue = BehaviourQueue()
    for _ in range(MAX_QUEUED):
        queue.push(behaviour(fault=500))
    with pytest.raises(ValueError, match="queued already"):
        queue.push(behaviour(fault=500))


def test_503_twice_then_201_over_http(client: Client) -> None:
    queued = client.request("POST", "/__mock/queue", json={"fault": 503, "times": 2})
    assert queued.status_code == 200
    assert queued.json() == {"queue": [{"fault": 503, "latency": None, "scenario": None, "times": 2}]}
    answers = [client.create() for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].headers["x-mock-injected"] == "fault" and answers[0].json()["injected"] is True
    assert client.request("GET", "/__mock/queue").json() == {"queue": []}


def test_latency_and_scenario_over_http(client: Client) -> None:
    client.request("POST", "/__mock/queue", json={"latency": "5ms-10ms", "scenario": "completed"})
    shown = client.request("GET", "/__mock/queue").json()["queue"]
    assert shown == [{"fault": None, "latency": "5ms-10ms", "scenario": "completed", "times": 1}]
    assert client.create().json()["status"] == "completed"
    assert client.create().json()["status"] == "pending"


def test_delete_and_reset_empty_the_queue(client: Client) -> None:
    client.request("POST", "/__mock/queue", json={"fault": 500, "times": 3})
    assert client.request("DELETE", "/__mock/queue").status_code == 204
    assert client.create().status_code == 201
    client.request("POST", "/__mock/queue", json={"fault": 500})
    assert client.request("POST", "/__mock/reset").status_code == 204
    assert client.create().status_code == 201


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"fault": 418}, "fault 418 is not one of"),
        ({"fault": 503, "times": 0}, "times must be"),
        ({"fault": 503, "times": "2"}, "times must be"),
        ({"latency": 200}, "latency must be a duration"),
        ({"latency": "soon"}, "not a duration"),
        ({"scenario": "exploded"}, "unknown scenario"),
        ({"fualt": 503}, "unknown field 'fualt'"),
        ({}, "queue at least one of"),
        ([1], "send an object"),
    ],
)
def test_bad_queue_requests_are_400(client: Client, body: Any, detail: str) -> None:
    answer = client.request("POST", "/__mock/queue", json=body)
    assert answer.status_code == 400 and detail in answer.json()["detail"]
    assert client.request("GET", "/__mock/queue").json() == {"queue": []}


def test_unparsable_queue_requests_are_400(client: Client) -> None:
    assert client.request("POST", "/__mock/queue", content=b"{nope").status_code == 400
    assert client.request("POST", "/__mock/queue", content=b"[" * 100_000).status_code == 400
    assert client.request("PUT", "/__mock/queue").headers["allow"] == "GET, POST, DELETE"
