"""Recordings, written by the recorder and served by the mock: the matching rules, names, limits."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mock_server import DEV_KEY, Contract, Settings, create_app, load_contract
from mock_server.answer.recording import Exchange
from mock_server.answer.recordings import same
from mock_server.cli import main
from mock_server.traffic.recorder import Recorder
from tests.conftest import JSON_CT, KEY, PATH, Client
from tests.http.test_direct import Wrapped, exchange, post, without_date

PETSTORE = Path(__file__).resolve().parents[1] / "documents" / "petstore-errors.yaml"
BODY: dict[str, Any] = {
    "batch_spec_json": {
        "name": "Invoices",
        "agent": "agent_1",
        "input": {"datasource_id": "ds_1", "filters": {"element_ids": ["a", "b"]}},
    }
}
ANSWER: dict[str, Any] = {"id": "exec_recorded", "status": "completed", "total_items": 2}


def record(
    contract: Contract,
    folder: Path,
    body: Any = BODY,
    answer: Any = ANSWER,
    *,
    status: int = 201,
    query: str = "",
    path: str = PATH,
    method: str = "POST",
    recorder: Recorder | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> str:
    """A recording of one exchange, as the proxy writes it; its name."""
    recorder = recorder or Recorder(contract, folder)
    routed = contract.match(method, path)
    assert routed is not None and routed.operation is not None
    sent = [("content-type", "application/json"), ("Meibel-API-Key", "upstream-secret"), *headers]
    raw = None if body is None else json.dumps(body).encode()
    answer_headers = [("content-type", "application/json"), ("x-request-id", "r1"), ("etag", '"v1"')]
    exchange_ = Exchange(method, path, query, sent, raw, status, answer_headers, json.dumps(answer).encode())
    written = recorder.record(routed.operation, routed.path_params, exchange_, [])
    assert written is not None
    return written.name


def mock(folder: Path, **settings: Any) -> Client:
    return Client(create_app(load_contract(), settings=Settings(recordings=str(folder), **settings)))


def test_a_matching_request_gets_the_recording_and_others_are_generated(
    contract: Contract, tmp_path: Path
) -> None:
    name = record(contract, tmp_path)
    assert name.startswith("createExecution/201-invoices-")
    with mock(tmp_path) as client:
        replayed = client.create(BODY)
        assert (replayed.status_code, replayed.json()) == (201, ANSWER)
        assert replayed.headers["etag"] == '"v1"' and "x-request-id" not in replayed.headers  # what matters
        assert replayed.headers["x-mock-recording"] == name
        # Key order does not matter; a value, a field more or a field less does.
        reordered = {"batch_spec_json": dict(reversed(list(BODY["batch_spec_json"].items())))}
        assert client.create(reordered).json() == ANSWER
        other = json.loads(json.dumps(BODY))
        other["batch_spec_json"]["input"]["filters"]["element_ids"] = ["a"]
        assert client.create(other).json()["status"] == "pending"  # generated
        more = json.loads(json.dumps(BODY))
        more["batch_spec_json"]["version"] = "1"
        assert client.create(more).json()["status"] == "pending"
        # A query the recording did not have is another request.
        asked = client.post(PATH + "?x=1", content=json.dumps(BODY).encode(), headers={**KEY, **JSON_CT})
        assert asked.json()["status"] == "pending"
        listing = client.request("GET", "/__mock/recordings").json()
        assert [(r["name"], r["uses"]) for r in listing["recordings"]] == [(name, 2)]
        journal = client.request("GET", "/__mock/requests").json()["requests"]
        assert [e.get("recording") for e in journal] == [name, name, None, None, None]


def test_partial_matching_finds_the_recorded_fields_at_every_depth(
    contract: Contract, tmp_path: Path
) -> None:
    record(contract, tmp_path)
    more = json.loads(json.dumps(BODY))
    more["batch_spec_json"]["version"] = "1"
    more["batch_spec_json"]["input"]["filters"]["media_types"] = ["pdf"]
    with mock(tmp_path, match="partial") as client:
        assert client.create(more).json() == ANSWER
        fewer = json.loads(json.dumps(BODY))
        fewer["batch_spec_json"]["input"]["filters"]["element_ids"] = ["a", "b", "c"]  # an item more
        assert client.create(fewer).json()["status"] == "pending"


@pytest.mark.parametrize(
    ("recorded", "sent", "exact", "partial"),
    [
        ({"a": 1}, {"a": 1.0}, True, True),
        ({"a": 1}, {"a": True}, False, False),
        ({"a": True}, {"a": 1}, False, False),
        ({"a": None}, {"a": False}, False, False),
        ({"a": {"b": [1, {"c": 2}]}}, {"a": {"b": [1, {"c": 2, "d": 3}]}}, False, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False, False),
        ({"a": [1]}, {"a": [1, 2]}, False, False),
        ({"a": "[redacted]"}, {"a": "any-key"}, True, True),
        ("x", "x", True, True),
    ],
)
def test_json_matching(recorded: Any, sent: Any, exact: bool, partial: bool) -> None:
    assert same(recorded, sent, partial=False) is exact
    assert same(recorded, sent, partial=True) is partial


def test_validation_and_the_key_check_come_first(contract: Contract, tmp_path: Path) -> None:
    record(contract, tmp_path)
    with mock(tmp_path) as client:
        assert client.post(PATH, content=json.dumps(BODY).encode(), headers=JSON_CT).status_code == 401
        assert client.create({"batch_spec_json": {"name": 5}}).status_code == 422


def test_prefer_picks_by_name_and_faults_and_latency_apply(contract: Contract, tmp_path: Path) -> None:
    name = record(contract, tmp_path)
    other = {"batch_spec_json": {"name": "Other", "agent": "a", "input": {"datasource_id": "d"}}}
    with mock(tmp_path) as client:
        stem = name.split("/")[1]
        for wanted in (stem, name):
            assert client.create(other, {"prefer": f"example={wanted}"}).json() == ANSWER
        assert client.create(BODY, {"prefer": "example=failed"}).json()["status"] == "failed"  # a scenario
        assert client.create(BODY, {"prefer": "code=422"}).status_code == 422  # asked for, not recorded
        assert client.create(BODY, {"prefer": "fault=503"}).status_code == 503
        slow = client.create(BODY, {"prefer": "latency=10ms"})
        assert slow.json() == ANSWER
        client.post("/__mock/queue", json={"fault": 429})
        assert client.create(BODY).status_code == 429


def test_repeats_recorded_with_record_all_are_served_in_order(contract: Contract, tmp_path: Path) -> None:
    recorder = Recorder(contract, tmp_path, record_all=True)
    names = [record(contract, tmp_path, answer={"turn": turn}, recorder=recorder) for turn in range(3)]
    assert [n.rsplit("-", 1)[-1] for n in names[1:]] == ["2", "3"]
    with mock(tmp_path) as client:
        turns = [client.create(BODY).json()["turn"] for _ in range(5)]
        assert turns == [0, 1, 2, 2, 2]
        client.post("/__mock/reset")
        assert client.create(BODY).json()["turn"] == 0


def test_recording_again_replaces_the_file_whatever_its_status(contract: Contract, tmp_path: Path) -> None:
    first = record(contract, tmp_path, status=201)
    second = record(contract, tmp_path, status=500, answer={"detail": "down"})
    assert first != second
    assert [p.stem for p in tmp_path.rglob("*.json")] == [second.split("/")[1]]


def test_record_max_and_repeats(contract: Contract, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(contract, tmp_path, max_files=2)
    record(contract, tmp_path, recorder=recorder)
    with pytest.raises(AssertionError):
        record(contract, tmp_path, recorder=recorder)  # the same request: skipped
    with caplog.at_level(logging.WARNING, logger="mock_server.traffic.recorder"):
        record(contract, tmp_path, body={**BODY, "x": 1}, recorder=recorder)
        for extra in range(3):
            with pytest.raises(AssertionError):
                record(contract, tmp_path, body={**BODY, "y": extra}, recorder=recorder)
    assert [r.message for r in caplog.records] == [
        "recording stopped: 2 files written (--record-max); later exchanges are not recorded"
    ]
    assert recorder.summary() == (
        f"recorded 2 exchanges in {tmp_path}; 1 repeat skipped (--record-all keeps them); "
        "3 past --record-max not recorded"
    )


def test_a_write_that_fails_is_one_line(
    contract: Contract, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "createExecution").write_text("a file where the folder goes")
    recorder = Recorder(contract, tmp_path)
    with (
        caplog.at_level(logging.WARNING, logger="mock_server.traffic.recorder"),
        pytest.raises(AssertionError),
    ):
        record(contract, tmp_path, recorder=recorder)
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("cannot write recording createExecution/201-invoices-")
    assert recorder.failed == 1


def test_keys_are_hidden_everywhere_they_travel(contract: Contract, tmp_path: Path) -> None:
    echoed = {**ANSWER, "note": "called with upstream-secret", "token": "tok-123456"}
    record(
        contract,
        tmp_path,
        answer=echoed,
        query="api_key=query-secret-1&page=2",
        headers=(("Authorization", "Bearer bearer-secret-9"), ("Cookie", "session=cookie-secret-5")),
    )
    [path] = tmp_path.rglob("*.json")
    text = path.read_text()
    for secret in ("upstream-secret", "query-secret-1", "bearer-secret-9", "cookie-secret-5"):
        assert secret not in text
    content = json.loads(text)
    assert content["request"]["query"] == {"api_key": ["[redacted]"], "page": ["2"]}
    assert content["response"]["body"]["note"] == "called with [redacted]"


def test_a_malformed_recording_stops_the_start_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "createExecution" / "201-x.json"
    bad.parent.mkdir()
    for text in (
        "{not json",
        '{"request": {}}',
        '{"request": {"method": "POST", "path": "/v2/x"}, "response": {"status": 99}}',
    ):
        bad.write_text(text)
        assert main(["--recordings", str(tmp_path), "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"meibel-mock: error: {bad}: not a recording (") and err.count("\n") == 1
    assert main(["--recordings", str(tmp_path / "nothing"), "--port", "0"]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_a_recording_of_another_documents_operation_is_skipped(
    contract: Contract, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record(contract, tmp_path)
    with caplog.at_level(logging.WARNING, logger="mock_server.answer.recordings"):
        client = Client(create_app(load_contract(PETSTORE), settings=Settings(recordings=str(tmp_path))))
    client.close()
    assert "skipped, a recording of no operation of the document" in caplog.text


def test_any_document_replays_its_recordings(tmp_path: Path) -> None:
    petstore = load_contract(PETSTORE)
    pets = [{"id": 7, "name": "Rex"}]
    record(
        petstore,
        tmp_path,
        None,
        pets,
        status=200,
        method="GET",
        path="/pets",
        query="limit=1&api_key=k3y-1234",
    )
    settings = Settings(recordings=str(tmp_path), api_keys=("local-key",))
    with Client(create_app(petstore, settings=settings)) as client:
        assert client.request("GET", "/pets?limit=1&api_key=local-key").json() == pets
        assert client.request("GET", "/pets?limit=2&api_key=local-key").json() != pets
        assert client.request("GET", "/pets?limit=1").status_code == 401


def test_direct_and_asgi_paths_send_the_same_bytes(contract: Contract, tmp_path: Path) -> None:
    from mock_server.testing import serve_in_thread

    record(contract, tmp_path)
    settings = Settings(recordings=str(tmp_path), seed=3)
    direct, asgi = create_app(contract, settings=settings), create_app(contract, settings=settings)
    raw = post(json.dumps(BODY).encode())
    with serve_in_thread(direct) as one, serve_in_thread(Wrapped(asgi)) as other:
        mine, theirs = exchange(one, raw)[0], exchange(other, raw)[0]
    assert without_date(mine) == without_date(theirs)
    assert mine.endswith(json.dumps(ANSWER, separators=(",", ":")).encode())
    assert b"x-mock-recording: createExecution/201-invoices-" in mine


def test_without_recordings_the_listing_is_empty(client: Client) -> None:
    assert client.request("GET", "/__mock/recordings").json() == {"count": 0, "recordings": []}


def test_the_listing_keeps_the_control_rules(contract: Contract, tmp_path: Path) -> None:
    record(contract, tmp_path)
    with mock(tmp_path, control_token="tok") as client:
        assert client.request("GET", "/__mock/recordings").status_code == 401
        listed = client.request("GET", "/__mock/recordings", headers={"X-Mock-Control-Token": "tok"})
        assert listed.json()["count"] == 1
    with mock(tmp_path, control=False) as client:
        assert client.request("GET", "/__mock/recordings").status_code == 404


def test_a_key_known_to_the_recorder_is_hidden_even_where_the_request_did_not_carry_it(
    contract: Contract, tmp_path: Path
) -> None:
    recorder = Recorder(contract, tmp_path, keys=["env-key-7d1e0b"])
    record(contract, tmp_path, answer={**ANSWER, "owner": "env-key-7d1e0b"}, recorder=recorder)
    [path] = tmp_path.rglob("*.json")
    assert b"env-key-7d1e0b" not in path.read_bytes()


def test_match_needs_recordings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--match", "partial", "--port", "0"]) == 2
    assert capsys.readouterr().err == "meibel-mock: error: --match needs --recordings DIR\n"


def test_both_journals_mark_a_replayed_answer_alike(tmp_path: Path) -> None:
    import asyncio

    from mock_server.state.journal import Journal
    from mock_server.state.redaction import Redactor
    from mock_server.state.sqlite_journal import SqliteJournal
    from mock_server.state.sqlite_state import create_store

    local = Journal(10)
    create_store(tmp_path, workers=1)
    shared = SqliteJournal(
        tmp_path, 0, 1, size=10, max_bytes=10**6, redactor=Redactor(), cleared=lambda: None
    )

    async def run() -> None:
        for journal in (local, shared):
            for recording in ("createExecution/201-x-abc123", None):
                done = journal.record("POST", PATH, "", {}, b"{}", 201, b"{}", journal.generation, recording)
                if done is not None:
                    await done

    asyncio.run(run())
    for journal in (local, shared):
        entries = [e.to_json() for e in journal.entries()]
        assert [e.get("recording") for e in entries] == ["createExecution/201-x-abc123", None]
        assert "recording" not in entries[1]  # an entry not replayed keeps its shape
    assert local.snapshot().used_bytes == shared.snapshot().used_bytes


KEYS_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "keys", "version": "1"},
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
    "security": [{"key": []}],
    "paths": {
        "/keys/{key_id}": {
            "get": {
                "operationId": "getKey",
                "parameters": [
                    {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"owner": {"type": "string"}}}
                            }
                        },
                    }
                },
            }
        }
    },
}


def test_a_key_hidden_in_the_path_matches_any_value_there(tmp_path: Path) -> None:
    # A client that names its own key in the path (`/keys/{key}`): the file says `[redacted]` there,
    # and replay answers that recording whatever key a later client names in that place.
    from mock_server.contract import contract_from_dict

    contract = contract_from_dict(KEYS_DOCUMENT)
    recorder = Recorder(contract, tmp_path)
    for key_id, owner, key in (
        ("secret-key-123", "ann", "secret-key-123"),
        ("plain-id", "bob", "other-key-9"),
    ):
        path = f"/keys/{key_id}"
        routed = contract.match("GET", path)
        assert routed is not None and routed.operation is not None
        sent = [("X-Key", key)]
        answer = [("content-type", "application/json")]
        written = recorder.record(
            routed.operation,
            routed.path_params,
            Exchange("GET", path, "", sent, None, 200, answer, json.dumps({"owner": owner}).encode()),
            [],
        )
        assert written is not None
    files = sorted(tmp_path.rglob("*.json"))
    texts = [path.read_text() for path in files]
    for secret in ("secret-key-123", "other-key-9"):
        assert not any(secret in text or secret in str(path) for text, path in zip(texts, files, strict=True))
    assert sum('"/keys/[redacted]"' in text for text in texts) == 1
    with Client(create_app(contract, settings=Settings(recordings=str(tmp_path)))) as client:
        for key_id in ("another-key-456", "secret-key-123", "other-id"):
            found = client.request("GET", f"/keys/{key_id}", headers={"X-Key": DEV_KEY})
            assert (found.status_code, found.json()) == (200, {"owner": "ann"}), key_id
        for _ in range(2):  # the recording that names the value, every time: the more specific
            named = client.request("GET", "/keys/plain-id", headers={"X-Key": DEV_KEY})
            assert named.json() == {"owner": "bob"}
            assert named.headers["x-mock-recording"].startswith("getKey/200-plain-id-")
