"""docs/mock.md and docs/other-documents.md, run as written: each `meibel-mock` line parses with the
command's own parser (and `fixtures` and `--spec` run), each curl line runs through bash against a mock."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.cli import _serve_parser
from mock_server.cli import main as mock_main
from mock_server.testing import serve_in_thread
from mock_server.traffic.proxy import proxy_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
ORIGIN = "http://127.0.0.1:8000"


def _lines(page: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (DOCS / page).read_text(encoding="utf-8"), re.S)
    return [line for code in blocks for line in code.splitlines() if line and not line.startswith("#")]


def _words(line: str) -> list[str]:
    return shlex.split(line, comments=True)


def test_every_mock_command_of_the_reference_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = [_words(line)[1:] for line in _lines("mock.md") if line.startswith("meibel-mock")]
    assert len(commands) == 3
    for args in commands:
        if args[0] == "fixtures":
            monkeypatch.chdir(tmp_path)
            assert mock_main(args) == 0
            assert (tmp_path / "fixtures" / "createExecution.completed.json").is_file()
        elif args[0] == "proxy":
            options = proxy_parser().parse_args(args[1:])
            assert (options.upstream, options.port) == ("https://api.meibel.ai/v2", 8001)
        else:
            options = _serve_parser().parse_args(args)
            assert options.fail_rate == 0.1 and options.fail_code == 429


def test_the_reference_curl_lines_run_as_written() -> None:
    lines = [line for line in _lines("mock.md") if line.startswith("curl")]
    assert len(lines) == 2
    with serve_in_thread(create_app(load_contract(), settings=Settings(seed=0))) as server:
        answers = []
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", line.replace(ORIGIN, server.origin)],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert done.returncode == 0, done.stderr
            answers.append(json.loads(done.stdout))
    journal, fault = answers
    assert set(journal) >= {"size", "requests"}
    assert (fault["injected"] is True and "503" in json.dumps(fault)) or fault["detail"]


def test_serving_another_document_runs_as_written(tmp_path: Path) -> None:
    [line] = [line for line in _lines("other-documents.md") if line.startswith("meibel-mock")]
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: Pets, version: '1'}\n"
        "paths:\n  /pets:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        "          content: {application/json: {schema: {type: array, items: {type: string}}}}\n"
    )
    args = [("0" if word == "8010" else word) for word in _words(line)[1:]]
    server = subprocess.Popen(
        [sys.executable, "-m", "mock_server", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("Pets mock — 1 operation from "), first
        base = server.stdout.readline().split()[-1]
        # The banner can come before the socket accepts: wait for it, within a bound.
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(base + "/pets", timeout=10)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the mock never accepted a connection"
                time.sleep(0.05)
        assert answer.status_code == 200 and isinstance(answer.json(), list)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
