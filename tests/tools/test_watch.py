"""--watch: edits to the document are served; a broken edit keeps the last good document."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.testing import serve_in_thread


def _wait_for(predicate: object, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_reload_and_keep_last_good(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spec = tmp_path / "api.json"
    document = json.loads((Path(__file__).parents[2] / "spec" / "api-v2.json").read_text())
    spec.write_text(json.dumps(document))
    app = create_app(load_contract(spec), settings=Settings(), watch=spec)
    with serve_in_thread(app) as server, caplog.at_level(logging.INFO, logger="mock_server.watch"):
        url = server.origin + "/v2/batch-executions"
        assert httpx.get(url).status_code == 405
        document["paths"]["/batch-executions"]["get"] = {
            "operationId": "listExecutions",
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}
            },
        }
        spec.write_text(json.dumps(document))
        assert _wait_for(lambda: httpx.get(url).status_code == 200), "the edit was not picked up"
        spec.write_text("{ broken")
        assert _wait_for(lambda: "still serving the last good document" in caplog.text)
        assert httpx.get(url).status_code == 200  # the last good document, still served
        assert "not valid JSON" in caplog.text


def test_watch_needs_a_spec(capsys: pytest.CaptureFixture[str]) -> None:
    from mock_server.cli import main

    assert main(["--watch", "--port", "0"]) == 2
    assert "--watch needs --spec" in capsys.readouterr().err
