"""The write judge and the gate, request by request: what a lenient service could act on."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from contract_tests.gate import SENDER, Gate, NotSent, installed
from contract_tests.lax import Lax
from contract_tests.safety import WriteJudge
from mock_server import load_contract

VALID = {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def judge() -> WriteJudge:
    return WriteJudge(load_contract())


def with_spec(**fields: Any) -> dict[str, Any]:
    return {"batch_spec_json": {**VALID["batch_spec_json"], **fields}}


def kind(judge: WriteJudge, body: Any, *, method: str = "POST", path: str = "/batch-executions") -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return judge.judge(method, path, "", JSON, raw).kind


@pytest.mark.parametrize(
    "body",
    [
        VALID,
        with_spec(execution={"retry_limit": False}),  # lax: false -> 0
        with_spec(execution={"retry_limit": "5"}),  # lax: "5" -> 5
        with_spec(execution={"concurrency": 1.0}),  # lax: 1.0 -> 1
        with_spec(execution={"concurrency": " 7 "}),
        with_spec(name=1),  # pydantic refuses; laxer services take numbers for strings
        with_spec(unknown="extra properties are ignored"),
        {**VALID, "extra": [1, 2]},
        with_spec(execution=None, output=None),
    ],
    ids=lambda b: json.dumps(b)[:60],
)
def test_bodies_a_lenient_service_accepts_are_writes(judge: WriteJudge, body: Any) -> None:
    assert kind(judge, body) == "write"


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        [VALID],
        None,
        {"batch_spec_json": None},
        with_spec(agent=None),
        with_spec(name={"a": 1}),
        with_spec(input={"filters": None}),  # datasource_id missing
        with_spec(execution={"concurrency": 0}),
        with_spec(execution={"concurrency": "1000"}),  # coerced, still past the bound
        with_spec(execution={"concurrency": 1.5}),
        with_spec(execution={"retry_limit": "many"}),
        with_spec(execution=[]),
        with_spec(input={"datasource_id": "d", "filters": {"element_ids": [{}]}}),
        with_spec(input={"datasource_id": "d", "filters": {"media_types": "pdf"}}),
        b"{not json",
        b'{"batch_spec_json": {"name": "\xff"}}',  # not UTF-8
        b"",
        b"[" * 100_000,  # deeper than any parser goes
    ],
    ids=lambda b: (b if isinstance(b, bytes) else json.dumps(b).encode())[:60].decode("latin-1"),
)
def test_bodies_no_lenient_service_accepts_are_refused(judge: WriteJudge, body: Any) -> None:
    assert kind(judge, body) == "refused"


def test_reads_and_unknown_routes_are_not_writes(judge: WriteJudge) -> None:
    assert kind(judge, VALID, method="GET") == "read"
    assert kind(judge, VALID, method="DELETE") == "read"  # undeclared: 405
    assert kind(judge, VALID, path="/nowhere") == "read"


def test_lax_coercion_follows_pydantic() -> None:
    lax = Lax({})
    assert lax.coerce({"type": "integer"}, False) == 0 and lax.coerce({"type": "integer"}, "5") == 5
    assert lax.coerce({"type": "boolean"}, "true") is True
    assert lax.coerce({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "7") == 7
    assert lax.problems({"type": "integer", "maximum": 9}, 10**5000)  # huge, and still refused
    assert not lax.problems({"type": "object", "required": ["a"]}, {"a": None})
    assert lax.problems({"type": "object", "required": ["a"]}, {"b": 1})


def _gate(judge: WriteJudge, *, max_writes: int = 0, budget: float = 60.0) -> Gate:
    return Gate(
        base_url="http://127.0.0.1:9/v2",
        judge=judge,
        max_writes=max_writes,
        rate_limit=1e6,
        timeout=1.0,
        budget=budget,
    )


URL = "http://127.0.0.1:9/v2/batch-executions"


def test_the_gate_lets_no_write_out_past_the_budget(judge: WriteJudge) -> None:
    gate = _gate(judge, max_writes=2)
    valid = json.dumps(VALID).encode()
    gate.admit("POST", URL, {}, valid)
    gate.admit("POST", URL, {}, valid)
    with pytest.raises(NotSent, match="write budget"):
        gate.admit("POST", URL, {}, valid)
    gate.admit("POST", URL, {}, b"{}")  # refused for certain: still goes out
    assert (gate.writes, gate.sent) == (2, 3)


def test_bodies_only_coercion_makes_valid_take_at_most_a_tenth_of_the_budget(judge: WriteJudge) -> None:
    gate = _gate(judge, max_writes=20)
    coercible = json.dumps(with_spec(execution={"retry_limit": "5"})).encode()
    gate.admit("POST", URL, {}, coercible)
    gate.admit("POST", URL, {}, coercible)
    with pytest.raises(NotSent, match="write budget"):
        gate.admit("POST", URL, {}, coercible)  # a third: past 20 // 10
    for _ in range(18):  # the rest goes to bodies any conforming service accepts
        gate.admit("POST", URL, {}, json.dumps(VALID).encode())
    assert (gate.writes, gate.coercible_writes) == (20, 2)
    assert gate.not_sent == {"writes withheld (--max-writes)": 1}


def test_probes_are_counted_under_their_check(judge: WriteJudge) -> None:
    gate = _gate(judge, max_writes=1)
    gate.admit("POST", URL, {}, b"{}")
    token = SENDER.set("ignored_auth")
    try:
        gate.admit("POST", URL, {}, json.dumps(VALID).encode())
        with pytest.raises(NotSent):
            gate.admit("POST", URL, {}, json.dumps(VALID).encode())
    finally:
        SENDER.reset(token)
    assert gate.sent_by == {"case": 1, "ignored_auth": 1}
    assert gate.withheld_by == {"ignored_auth": 1}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:10/v2/batch-executions",  # another port
        "http://localhost:9/v2/batch-executions",  # another host name
        "https://127.0.0.1:9/v2/batch-executions",  # another scheme
        "http://127.0.0.1:9/v3/batch-executions",  # outside the base path
        "http://127.0.0.1:9/v2x/batch-executions",
    ],
)
def test_the_gate_keeps_requests_on_the_target(judge: WriteJudge, url: str) -> None:
    with pytest.raises(NotSent, match="outside the target"):
        _gate(judge).admit("GET", url, {}, None)


def test_a_spent_time_budget_stops_everything(judge: WriteJudge) -> None:
    gate = _gate(judge, budget=1.0)
    gate.started -= 5
    with pytest.raises(NotSent, match="time budget"):
        gate.admit("POST", URL, {}, b"{}")


def test_a_streamed_body_is_a_write(judge: WriteJudge) -> None:
    with pytest.raises(NotSent, match="write budget"):
        _gate(judge).admit("POST", URL, {}, None, streamed=True)


def test_the_gate_sits_under_every_requests_session(judge: WriteJudge) -> None:
    """Even a request sent by hand through `requests` (as Schemathesis's probes are) meets it."""
    with installed(_gate(judge)), pytest.raises(NotSent, match="write budget"):
        requests.post(URL, data=json.dumps(VALID), timeout=1)
    with installed(_gate(judge)), pytest.raises(NotSent, match="outside the target"):
        requests.get("http://127.0.0.1:9/elsewhere", timeout=1)


def test_the_gate_is_under_requests_only_while_a_case_is_sent() -> None:
    """Other tests in the same session (a user's own, using `requests`) are not the gate's concern."""
    from contract_tests import run as run_module
    from contract_tests.target import Target
    from tests.contract.test_checker import outer_run_kept

    original = requests.adapters.HTTPAdapter.send
    with outer_run_kept():
        run = run_module.start_run(Target(base_url="http://127.0.0.1:9/v2", api_key="k"))
        assert requests.adapters.HTTPAdapter.send is original
        with run._gated():
            assert requests.adapters.HTTPAdapter.send is not original
            with pytest.raises(NotSent, match="outside the target"):
                requests.get("http://127.0.0.1:9/elsewhere", timeout=1)
        assert requests.adapters.HTTPAdapter.send is original
