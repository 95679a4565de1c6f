"""docs/recordings.md, run as written: every command of its shell blocks, in order, in a fresh folder
(a git repository), against a stand-in for staging (another meibel-mock with a key of its own)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.harness import Served, free_port
from mock_server.cli import main

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "recordings.md"
STAGING_KEY = "staging-key-for-the-guide-41c7"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(GUIDE.read_text()) if lang == language]


class Server:
    """A `meibel-mock` command of the guide, started as a user starts it (its ports mapped)."""

    def __init__(self, words: list[str], cwd: Path, staging: str, ports: dict[str, int]) -> None:
        words = [w.replace("https://staging.example.com", staging) for w in words]
        port = words[words.index("--port") + 1] if "--port" in words else "8000"
        ports[port] = free_port()
        if "--port" in words:
            words[words.index("--port") + 1] = str(ports[port])
        else:
            words += ["--port", str(ports[port])]
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115  # (closed by stop())
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MEIBEL_API_KEY": ""}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", *words[1:]], cwd=cwd, stderr=self.log, env=env, text=True
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.stop()
            try:
                httpx.get(f"http://127.0.0.1:{ports[port]}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "not serving within 30 s"
                time.sleep(0.1)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


def curl(words: list[str], ports: dict[str, int]) -> httpx.Response:
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    data = words[words.index("-d") + 1] if "-d" in words else None
    url = next(w for w in words if w.startswith("http://"))
    for port, real in ports.items():
        url = url.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{real}/")
    return httpx.request(method, url, headers=headers, content=data, timeout=10)


def har(answer: Any, body: str) -> dict[str, Any]:
    """What a browser saves: the guide's create, sent to staging with the key in the header."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "Firefox", "version": "133.0"},
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://staging.example.com/v2/batch-executions",
                        "headers": [
                            {"name": "Meibel-API-Key", "value": STAGING_KEY},
                            {"name": "Content-Type", "value": "application/json"},
                        ],
                        "postData": {"mimeType": "application/json", "text": body},
                    },
                    "response": {
                        "status": 201,
                        "headers": [{"name": "Content-Type", "value": "application/json"}],
                        "content": {"mimeType": "application/json", "text": json.dumps(answer)},
                    },
                }
            ],
        }
    }


def test_the_guide_runs_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pytester: pytest.Pytester,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEIBEL_API_KEY", STAGING_KEY)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    git_env["GIT_COMMITTER_EMAIL"] = "t@t"
    lines = [line for code in blocks("sh") for line in code.splitlines() if line.strip()]
    ports: dict[str, int] = {}
    server: Server | None = None
    logs: list[str] = []
    answers: dict[str, httpx.Response] = {}
    ran = []
    with Served("--api-key", STAGING_KEY, "--scenario", "running") as staging:
        try:
            for line in lines:
                words = shlex.split(line.replace("$MEIBEL_API_KEY", STAGING_KEY).rstrip("& "))
                if words[0] == "meibel-mock" and words[1] not in ("recordings", "fixtures"):
                    if server is not None:
                        logs.append(server.stop())
                    server = Server(words, tmp_path, staging.origin, ports)
                elif words[0] == "meibel-mock":
                    if words[1] == "recordings":  # a HAR as the browser saved it, of the guide's create
                        create = answers["proxy"]
                        body = next(w for w in shlex.split(lines[1]) if w.startswith("{"))
                        (tmp_path / words[3]).write_text(json.dumps(har(create.json(), body)))
                    assert main(words[1:]) == 0, line
                elif words[0] == "curl":
                    answer = curl(words, ports)
                    assert answer.status_code in (200, 201), (line, answer.text)
                    answers["proxy" if "proxy" not in answers else line] = answer
                elif words[0] == "git":
                    if server is not None and words[1] == "add":
                        # The guide stops the proxy before committing ("Stop it with Ctrl-C (or
                        # SIGTERM)"): what it recorded is all on disk once it has stopped.
                        assert "Stop it with Ctrl-C (or SIGTERM)" in GUIDE.read_text()
                        logs.append(server.stop())
                        server = None
                    subprocess.run(words, cwd=tmp_path, check=True, env=git_env, capture_output=True)
                else:
                    pytest.fail(f"a command the test does not run: {line}")
                ran.append(words[:2])
        finally:
            if server is not None:
                logs.append(server.stop())
    assert [w[0] for w in ran].count("meibel-mock") == 5 and ["git", "commit"] in ran
    # The proxy recorded the create; its summary line, as the guide shows it.
    assert "meibel-mock proxy: recorded 1 exchange in recordings\n" in logs[0]
    assert STAGING_KEY not in logs[0]
    for path in (tmp_path / "recordings").rglob("*"):
        assert not path.is_file() or STAGING_KEY.encode() not in path.read_bytes(), path
    # The replay answered the recorded create with staging's answer, and listed it as used.
    recorded = answers["proxy"]
    replayed, listing = (answers[line] for line in lines if line in answers)
    assert recorded.json()["status"] == "running"  # staging's scenario, not the mock's default
    assert replayed.json() == recorded.json()
    assert replayed.headers["x-mock-recording"].startswith("createExecution/201-invoices-")
    assert [r["uses"] for r in listing.json()["recordings"]] == [1]
    committed = subprocess.run(["git", "ls-files"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert committed.stdout.startswith("recordings/createExecution/201-invoices-")
    out = capsys.readouterr().out
    assert "staging.har: 1 entries; recorded 1 exchange in recordings" in out
    [fixture] = (tmp_path / "fixtures").glob("createExecution.recorded.*.json")
    assert json.loads(fixture.read_text()) == recorded.json()
    # The pytest plugin's settings, as the guide writes them, serve the recordings.
    [conftest] = blocks("python")
    pytester.makeconftest(conftest)
    (pytester.path / "recordings").mkdir()
    for path in (tmp_path / "recordings").rglob("*.json"):
        (pytester.path / "recordings" / path.parent.name).mkdir(exist_ok=True)
        (pytester.path / "recordings" / path.parent.name / path.name).write_bytes(path.read_bytes())
    body = next(w for w in shlex.split(lines[1]) if w.startswith("{"))
    pytester.makepyfile(
        f"""
        import httpx

        def test_replayed(meibel_mock):
            answer = httpx.post(meibel_mock.url + "/batch-executions", content={body!r},
                                headers={{"Meibel-API-Key": meibel_mock.api_key, "content-type": "application/json"}})
            assert answer.json()["id"] == {recorded.json()["id"]!r}
        """
    )
    pytester.chdir()  # (the guide ran in a folder of its own)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
