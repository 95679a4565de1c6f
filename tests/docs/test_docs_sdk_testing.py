"""docs/sdk-testing.md is run, so it cannot rot: its Python blocks as test modules, its curl lines
against a running mock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpcore  # noqa: F401  # before pytester's in-process run (see test_plugin.py)
import httpx
import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.testing import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "sdk-testing.md"
BLOCK = re.compile(r"```(python|sh)\n(.*?)```", re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(GUIDE.read_text()) if lang == language]


def test_the_guides_python_blocks_pass(pytester: pytest.Pytester) -> None:
    """Each block is a module in a folder of its own, with the conftest block just before it."""
    conftest = None
    expected = 0
    for number, code in enumerate(blocks("python")):
        if code.startswith("# conftest.py"):
            conftest = code
            continue
        folder = pytester.path / f"block_{number}"
        folder.mkdir()
        (folder / f"test_block_{number}.py").write_text(code)
        if conftest is not None:
            (folder / "conftest.py").write_text(conftest)
            conftest = None
        expected += len(re.findall(r"^\s*def test_", code, re.MULTILINE))
    assert expected >= 8
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--strict-markers", "--import-mode=importlib"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= expected and set(outcomes) <= {"passed", "seconds"}, outcomes


def test_the_guides_curl_lines_work() -> None:
    lines = [line for code in blocks("sh") for line in code.splitlines() if line.startswith("curl")]
    assert len(lines) >= 5
    with serve_in_thread(create_app(load_contract(), settings=Settings())) as server:
        for line in lines:
            words = shlex.split(line.split(" #")[0])
            method = words[words.index("-X") + 1] if "-X" in words else "GET"
            data = words[words.index("-d") + 1] if "-d" in words else None
            url = next(w for w in words if w.startswith("http://")).replace(
                "http://127.0.0.1:8000", server.origin
            )
            answer = httpx.request(method, url, content=data, timeout=10)
            assert answer.status_code in (200, 204), (line, answer.text)
