"""bench/prism_harness.py on scenarios written here in the harness's format (none of Prism's files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.prism_harness import main, parse_curl

SCENARIO = """====test====
A scenario of our own, in the harness's format
====spec====
openapi: 3.0.2
paths:
  /todos:
    get:
      responses:
        200:
          description: ok
          content:
            text/plain:
              example: hello
====server====
mock -p 4010 ${document}
====command====
curl -i http://localhost:4010/todos -H "accept: text/plain"
====expect====
HTTP/1.1 STATUS OK
content-type: text/plain

hello
"""


def _checkout(tmp_path: Path, status: int, version: str = "openapi: 3.0.2") -> Path:
    folder = tmp_path / "test-harness" / "specs" / "ours"
    folder.mkdir(parents=True)
    text = SCENARIO.replace("STATUS", str(status)).replace("openapi: 3.0.2", version)
    (folder / "case.oas3.txt").write_text(text)
    return tmp_path


def test_agreement_counted_after_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_checkout(tmp_path, 200)), "--repair"]) == 0
    assert "1 of 1 agree; 0 disagree; 0 documents not loaded" in capsys.readouterr().out


def test_a_disagreement_is_named_with_its_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(_checkout(tmp_path, 201)), "--repair"])
    out = capsys.readouterr().out
    assert "disagree ours/case.oas3.txt: Prism 201 text/plain; mock 200 text/plain" in out


def test_documents_the_loader_refuses_count_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(_checkout(tmp_path, 200, "swagger: '2.0'"))])  # no loader serves Swagger 2
    assert "0 of 1 agree; 0 disagree; 1 documents not loaded" in capsys.readouterr().out


def test_curl_parsing() -> None:
    curl = parse_curl("curl -i -X POST http://localhost:4010/a?b=1 -H 'X-A: 1' --data 'x=1' -u u:k")
    assert (curl.method, curl.url, curl.data) == ("POST", "http://localhost:4010/a?b=1", "x=1")
    assert curl.headers["X-A"] == "1" and curl.headers["Authorization"] == "Basic dTpr"
    assert parse_curl("curl -sIXGET http://localhost:4010/x").method == "GET"
    assert parse_curl("curl --head http://localhost:4010/x").method == "HEAD"
