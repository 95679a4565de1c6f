"""`meibel-mock recordings import FILE.har`: a HAR 1.2 as browsers save it, turned into recordings."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.cli import main
from tests.conftest import JSON_CT, KEY, PATH, Client

SECRET = "har-key-5e1f0c77aa"
SESSION = "session-cookie-91bd2f"
BODY = {"batch_spec_json": {"name": "Statements", "agent": "agent_1", "input": {"datasource_id": "ds_9"}}}
ANSWER = {"id": "exec_from_har", "status": "running", "total_items": 4}


def entry(
    url: str, answer: Any = ANSWER, *, encoding: str | None = None, text: bool = True
) -> dict[str, Any]:
    """One entry as Chrome's devtools write it (HTTP/2 pseudo-headers, both cookie spellings)."""
    body_text = json.dumps(answer)
    content: dict[str, Any] = {"size": len(body_text), "mimeType": "application/json"}
    if text:
        content["text"] = base64.b64encode(body_text.encode()).decode() if encoding else body_text
    if encoding:
        content["encoding"] = encoding
    return {
        "startedDateTime": "2026-12-02T10:00:00.000Z",
        "time": 120.5,
        "request": {
            "method": "POST",
            "url": url,
            "httpVersion": "http/2.0",
            "headers": [
                {"name": ":authority", "value": "staging.example.com"},
                {"name": "content-type", "value": "application/json"},
                {"name": "meibel-api-key", "value": SECRET},
                {"name": "cookie", "value": f"sid={SESSION}; theme=dark"},
            ],
            "queryString": [{"name": n, "value": v} for n, v in parse_qsl(urlsplit(url).query)],
            "cookies": [{"name": "sid", "value": SESSION}, {"name": "theme", "value": "dark"}],
            "headersSize": -1,
            "bodySize": 100,
            "postData": {"mimeType": "application/json", "text": json.dumps(BODY)},
        },
        "response": {
            "status": 201,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": [
                {"name": "content-type", "value": "application/json"},
                {"name": "set-cookie", "value": f"sid={SESSION}"},
            ],
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 100, "receive": 1},
    }


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [],
            "entries": list(entries),
        }
    }


def test_a_browsers_har_becomes_recordings_with_every_key_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "staging.har"
    other = {**BODY, "batch_spec_json": {**BODY["batch_spec_json"], "name": "Gateway"}}
    gateway = entry("https://gw.example.com/meibel/v2/batch-executions", {**ANSWER, "id": "via_gw"})
    gateway["request"]["postData"]["text"] = json.dumps(other)
    source.write_text(
        json.dumps(
            har(
                entry(f"https://staging.example.com/v2/batch-executions?api_key={SECRET}"),
                entry("https://staging.example.com/v2/batch-executions?api_key=again"),  # a repeat
                entry("https://staging.example.com/v2/elsewhere"),  # no operation of the document
                entry("https://staging.example.com/v2/batch-executions?page=2", text=False),  # no body kept
                gateway,
                entry("https://cdn.example.com/app.js"),
            )
        )
    )
    out = tmp_path / "recordings"
    assert main(["recordings", "import", str(source), "--out", str(out)]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary == (
        f"{source}: 6 entries; recorded 2 exchanges in {out}; 2 of them break the document (noted in the "
        "files); 1 repeat skipped (--record-all keeps them); "
        "2 to no operation of the document left out; 1 whose answer's body the HAR does not hold left out"
    )
    files = sorted(out.rglob("*.json"))
    assert sorted(f.stem.split("-")[1] for f in files) == ["gateway", "statements"]
    for path in out.rglob("*"):
        data = path.read_bytes() if path.is_file() else b""
        assert SECRET.encode() not in data and SESSION.encode() not in data, path
    [recorded] = [json.loads(f.read_text()) for f in files if "statements" in f.name]
    assert recorded["request"]["query"] == {"api_key": ["[redacted]"]}
    assert recorded["request"]["headers"]["meibel-api-key"] == "[redacted]"
    # (ANSWER is short of the document's required fields: recorded as it came, with a note.)
    assert 'body: "batch_definition_id" is a required property' in recorded["violations"]
    assert recorded["response"] == {
        "status": 201,
        "headers": {"content-type": "application/json"},
        "body": ANSWER,
    }
    # And they replay.
    with Client(create_app(load_contract(), settings=Settings(recordings=str(out)))) as client:
        url = PATH + "?api_key=mine"
        answer = client.post(url, content=json.dumps(BODY).encode(), headers={**KEY, **JSON_CT})
        assert answer.json() == ANSWER
        assert client.create(other).json()["id"] == "via_gw"


def test_a_base64_body_is_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "a.har"
    source.write_text(json.dumps(har(entry("http://h/v2/batch-executions", encoding="base64"))))
    assert main(["recordings", "import", str(source), "--out", str(tmp_path / "out")]) == 0
    [path] = (tmp_path / "out").rglob("*.json")
    assert json.loads(path.read_text())["response"]["body"] == ANSWER


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a HAR file (not JSON: "),
        ("[]", "not a HAR file (no log.entries list)"),
        (
            '{"log": {"entries": [{"request": {"method": "GET"}, "response": {"status": 200}}]}}',
            "not a HAR 1.2 entry: log.entries[0].request has no 'url'",
        ),
        (
            '{"log": {"entries": [{"request": {"method": "GET", "url": "http://h/"}, "response": {"status": "x"}}]}}',
            "not a HAR 1.2 entry: log.entries[0].response.status is not a status code",
        ),
        ('{"log": {"entries": [7]}}', "not a HAR 1.2 entry: log.entries[0] has no 'request' object"),
    ],
)
def test_a_bad_har_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    source = tmp_path / "bad.har"
    source.write_text(content)
    assert main(["recordings", "import", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meibel-mock: error: ") and expected in err and err.count("\n") == 1, err


def test_a_missing_har_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recordings", "import", str(tmp_path / "none.har")]) == 2
    assert "cannot read it" in capsys.readouterr().err
