"""Record through the proxy, replay as the mock: the commands as a user runs them.

A stand-in service (another meibel-mock, with a key of its own and a fixed scenario) behind
`meibel-mock proxy --record DIR`; then `meibel-mock --recordings DIR` answers the recorded
requests with the recorded answers, and everything else as it always does."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Served
from mock_server import load_contract
from mock_server.traffic.answer_check import ResponseChecker
from tests.conftest import PATH

UPSTREAM_KEY = "staging-key-7f3c9a2e51d4"
HEADERS = {"Meibel-API-Key": UPSTREAM_KEY, "content-type": "application/json"}


def create(name: str, **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "agent": "agent_invoices", "input": {"datasource_id": f"ds_{name.lower()}"}}
    return {"batch_spec_json": {**spec, **extra}}


CREATES = [create("Invoices"), create("Receipts", concurrency=3), create("Contracts")]
# A key in the query too (as some clients send one): hidden in the file, and matched by any value.
QUERIES = ["", "?trace=1", f"?api_key={UPSTREAM_KEY}"]
INVALID = {"batch_spec_json": {"name": 5}}


def test_record_through_the_proxy_then_replay(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    recorded: list[httpx.Response] = []
    with Served("--api-key", UPSTREAM_KEY, "--scenario", "completed") as upstream:
        proxy = Served("proxy", "--upstream", upstream.origin + "/v2", "--record", str(folder))
        with proxy:
            for body, query in zip(CREATES, QUERIES, strict=True):
                url = proxy.origin + PATH + query
                recorded.append(httpx.post(url, json=body, headers=HEADERS, timeout=10))
            # A repeat is recorded once; a request that breaks the document not at all.
            again = httpx.post(proxy.origin + PATH, json=CREATES[0], headers=HEADERS, timeout=10)
            invalid = httpx.post(proxy.origin + PATH, json=INVALID, headers=HEADERS, timeout=10)
            proxy.stop(signal.SIGTERM)
    assert [r.status_code for r in recorded] == [201, 201, 201] and again.status_code == 201
    assert all(r.json()["status"] == "completed" for r in recorded)  # the stand-in's fixed scenario
    assert invalid.status_code == 422
    assert UPSTREAM_KEY not in proxy.stderr  # (httpx logged URLs, query and all)
    summary = [line for line in proxy.stderr.splitlines() if "recorded" in line]
    assert summary == [
        f"meibel-mock proxy: recorded 3 exchanges in {folder}; 1 repeat skipped (--record-all keeps "
        "them); 1 invalid request not recorded"
    ]
    files = sorted(folder.rglob("*.json"))
    assert [f.relative_to(folder).parts[0] for f in files] == ["createExecution"] * 3
    names = {f.stem.split("-")[1] for f in files}
    assert names == {"invoices", "receipts", "contracts"}  # readable: status, then the request's name
    # The upstream key is in no file: every byte of every file under the folder.
    for path in folder.rglob("*"):
        if path.is_file():
            assert UPSTREAM_KEY.encode() not in path.read_bytes(), path
    contents = [json.loads(f.read_text()) for f in files]
    assert all(c["request"]["headers"]["meibel-api-key"] == "[redacted]" for c in contents)
    assert all("violations" not in c for c in contents)  # the stand-in keeps to the document

    with Served("--api-key", "local-key", "--recordings", str(folder)) as mock:
        local = {**HEADERS, "Meibel-API-Key": "local-key"}
        replay_queries = ["", "?trace=1", "?api_key=local-key"]
        for body, query, answer in zip(CREATES, replay_queries, recorded, strict=True):
            replayed = httpx.post(mock.origin + PATH + query, json=body, headers=local, timeout=10)
            assert replayed.status_code == answer.status_code
            assert replayed.json() == answer.json()  # the recorded ids, times, counts
            assert replayed.headers["x-mock-recording"].startswith("createExecution/201-")
        # Not recorded: a generated answer, valid against the document.
        fresh = httpx.post(mock.origin + PATH, json=create("Payroll"), headers=local, timeout=10)
        assert fresh.status_code == 201 and "x-mock-recording" not in fresh.headers
        assert fresh.json()["status"] == "pending"  # this mock's default scenario, not the stand-in's
        contract = load_contract()
        op = contract.find("post", "/batch-executions")
        ct = fresh.headers["content-type"]
        assert ResponseChecker(contract).violations(op, 201, ct, fresh.content) == []
        # Validation first: invalid gets the 422, and the key check still applies.
        refused = httpx.post(mock.origin + PATH, json=INVALID, headers=local, timeout=10)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "batch_spec_json", "name"]
        no_key = httpx.post(mock.origin + PATH, json=CREATES[0], headers=HEADERS, timeout=10)
        assert no_key.status_code == 401
        listing = httpx.get(mock.origin + "/__mock/recordings", timeout=10).json()
        journal = httpx.get(mock.origin + "/__mock/requests", timeout=10).json()["requests"]
    assert listing["count"] == 3 and sorted(r["uses"] for r in listing["recordings"]) == [1, 1, 1]
    assert [e.get("recording", "").split("-")[1] if "recording" in e else None for e in journal] == [
        "invoices",
        "receipts",
        "contracts",
        None,
        None,
        None,
    ]
