"""The journal: typed entries, bounded in bytes, never a key, and one generation per reset."""

from __future__ import annotations

import base64
import json
import time
import tracemalloc
from typing import Any

import httpx
import pytest

from mock_server import DEV_KEY, Contract, Settings, create_app
from mock_server.cli import _serve_parser
from mock_server.state.journal import MAX_BODY_KEPT, MAX_HEADER_BYTES, MAX_HEADER_VALUE, Journal
from mock_server.state.redaction import REDACTED, Redactor
from mock_server.testing import serve_in_thread
from tests.conftest import KEY, PATH, VALID, Client


def journal_of(client: Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.request("GET", "/__mock/requests").json()["requests"]
    return entries


@pytest.mark.parametrize(
    ("where", "request_kwargs"),
    [
        ("query api_key", {"params": {"api_key": DEV_KEY}}),
        ("query token", {"params": {"token": "whatever-it-is"}}),
        ("query access_token", {"params": {"access_token": "whatever-it-is"}}),
        ("query X-Api-Key", {"params": {"X-Api-Key": "whatever-it-is"}}),
        ("query under any name", {"params": {"q": DEV_KEY}}),
        ("query, percent-encoded", {"path": PATH + "?q=meibel%2Dmock%2Dkey"}),
        ("header under any name", {"headers": {"X-Trace": f"user {DEV_KEY}"}}),
        ("as a header's name", {"headers": {DEV_KEY: "1"}}),
        ("bearer", {"headers": {"Authorization": f"Bearer {DEV_KEY}"}}),
        ("basic", {"headers": {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}}),
        ("cookie", {"headers": {"Cookie": f"session={DEV_KEY}"}}),
        ("body", {"json": {"batch_spec_json": {**VALID["batch_spec_json"], "name": DEV_KEY}}}),
        (
            "body, JSON-escaped",
            {
                "content": b'{"x": "\\u006deibel\\u002dmock-key"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        ("form body", {"data": {"password": "hunter2", "note": DEV_KEY}}),
        ("path", {"path": f"/v2/{DEV_KEY}"}),
    ],
)
def test_the_journal_never_holds_a_key(client: Client, where: str, request_kwargs: dict[str, Any]) -> None:
    path = request_kwargs.pop("path", PATH)
    headers = {**KEY, **request_kwargs.pop("headers", {})}
    client.request("POST", path, headers=headers, **request_kwargs)
    text = json.dumps(journal_of(client))
    for secret in (DEV_KEY, "whatever-it-is", "hunter2", "meibel%2Dmock%2Dkey", "dTpw"):
        assert secret not in text, where
    assert REDACTED in text, where


def test_the_journal_json_is_typed(client: Client) -> None:
    client.create(headers={"Prefer": "example=failed"})
    client.request("GET", PATH + "?a=1&a=2&token=t&b=")
    created, listed = journal_of(client)
    assert created["body"] == VALID and created["response"]["status"] == "failed"
    assert listed["query"] == {"a": ["1", "2"], "token": [REDACTED], "b": [""]}
    assert listed["query_string"] == f"a=1&a=2&token={REDACTED}&b="


def test_a_body_that_is_not_json_is_kept_as_text(client: Client) -> None:
    client.post(content=b"plain words", headers={**KEY, "content-type": "text/plain"})
    client.post(content=b"{not json", headers={**KEY, "content-type": "application/json"})
    plain, broken = journal_of(client)
    assert plain["body"] == plain["body_text"] == "plain words"
    assert broken["body"] == "{not json" and broken["status"] == 422


def test_a_key_cut_in_two_by_the_body_limit_is_still_hidden() -> None:
    journal = Journal(10, redactor=Redactor([DEV_KEY]))
    body = b"x" * (MAX_BODY_KEPT - 5) + DEV_KEY.encode() + b"tail"
    journal.record("POST", "/p", "", {}, body, 201)
    [entry] = journal.entries()
    assert entry.body_text is not None and entry.body_truncated
    assert len(entry.body_text) == MAX_BODY_KEPT and entry.body_text.endswith("x[reda")


B64_KEY = "Zm9v+YmFy/YmF6&x=="  # a key with characters that mean something in a URL and in JSON


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (f"q={B64_KEY}", None),  # unencoded: split by its own `&`, `+` read as a space
        (f"a=1&{B64_KEY}", None),
        ("", b'{"k": "' + B64_KEY.replace("/", "\\/").encode() + b'"}'),  # slashes escaped
        ("", b'{"k": "Zm9v\\u002bYmFy\\/YmF6\\u0026x=="}'),
    ],
)
def test_a_key_is_hidden_however_a_url_or_json_spells_it(query: str, body: bytes | None) -> None:
    journal = Journal(10, redactor=Redactor([B64_KEY]))
    journal.record("POST", "/p", query, {"content-type": "application/json"}, body, 201, body or b"")
    text = json.dumps([entry.to_json() for entry in journal.entries()])
    assert "YmFy" not in text and REDACTED in text


def test_header_values_and_counts_are_capped() -> None:
    journal = Journal(10)
    big = {"x-big": "v" * (2 * 1024 * 1024)}
    many = {f"x-h{i}": "v" * 100 for i in range(10_000)}
    journal.record("GET", "/p", "", big, None, 200)
    journal.record("GET", "/p", "", many, None, 200)
    first, second = journal.entries()
    assert len(first.headers["x-big"]) == MAX_HEADER_VALUE and first.headers_truncated
    assert sum(len(k) + len(v) for k, v in second.headers.items()) <= MAX_HEADER_BYTES
    assert second.headers_truncated and len(second.headers) < 10_000


def test_the_journal_is_bounded_in_bytes() -> None:
    """2,000 requests with 1 MiB bodies and 2 MiB headers: the journal holds at most its
    budget (its own count of bytes, checked against what Python really allocated)."""
    budget = 4 * 1024 * 1024
    journal = Journal(100_000, max_bytes=budget)
    body = b"b" * (1024 * 1024)
    headers = {"x-big": "h" * (2 * 1024 * 1024), "content-type": "application/json"}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            journal.record("POST", f"/p/{i}", f"i={i}", headers, body, 201, response=body)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert journal.used_bytes <= budget
    assert held < 1.5 * budget, f"{held} bytes allocated for a {budget}-byte journal"
    assert 10 < len(journal.entries()) < 2000 and journal.evicted == 2000 - len(journal.entries())
    assert journal.entries()[-1].path == "/p/1999"  # the newest are kept


def test_the_byte_budget_is_an_option() -> None:
    assert _serve_parser().parse_args(["--journal-bytes", "512k"]).journal_bytes == 512 * 1024
    assert _serve_parser().parse_args([]).journal_bytes == Settings().journal_bytes == 8 * 1024 * 1024


def test_the_count_limit_still_applies() -> None:
    journal = Journal(3)
    for i in range(10):
        journal.record("GET", f"/{i}", "", {}, None, 200)
    assert [e.path for e in journal.entries()] == ["/7", "/8", "/9"]


def test_a_request_from_before_a_clear_is_not_journaled() -> None:
    journal = Journal(10)
    arrived = journal.generation
    journal.clear()
    journal.record("GET", "/late", "", {}, None, 200, generation=arrived)
    journal.record("GET", "/now", "", {}, None, 200, generation=journal.generation)
    assert [e.path for e in journal.entries()] == ["/now"] and journal.late == 1


def test_a_timed_out_request_never_reaches_the_journal_after_a_reset(contract: Contract) -> None:
    app = create_app(contract, settings=Settings())
    with serve_in_thread(app) as server:
        url = server.origin + PATH
        with pytest.raises(httpx.TimeoutException):  # the client gives up; the server still answers
            httpx.post(url, json=VALID, headers={**KEY, "Prefer": "latency=1s"}, timeout=0.2)
        httpx.delete(server.origin + "/__mock/requests")  # the next test starts here
        deadline = time.monotonic() + 10
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:  # until the server has answered the request
            state = httpx.get(server.origin + "/__mock/requests").json()
            if state["late"] or state["requests"]:
                break
            time.sleep(0.05)
        assert state["requests"] == [] and state["late"] == 1
