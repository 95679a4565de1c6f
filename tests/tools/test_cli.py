"""meibel-mock's command line: clear one-line errors with exit 2, and the real script on a socket."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_server.cli import banner, main
from mock_server.settings import Settings
from tests.conftest import PATH, VALID

SEED = Path(__file__).resolve().parents[2] / "spec" / "api-v2.json"


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exited:  # argparse's own refusals
        code = int(exited.code or 0)
    return code, capsys.readouterr().err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: str(d / "nope.json"), "nope.json: no such file"),
        (lambda d: str(d), "is a directory"),
        (
            lambda d: write(d, "bad.json", "{nope"),
            "not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (lambda d: write(d, "bad.yaml", "a: [1"), "not valid YAML"),
        (lambda d: write(d, "list.json", "[1]"), "an OpenAPI document must be an object"),
        (lambda d: write(d, "swagger.json", '{"swagger": "2.0"}'), "only OpenAPI 3.0, 3.1 and 3.2"),
        (
            lambda d: write(
                d, "invalid.json", json.dumps({"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}})
            ),
            "at /info/version: info has no version (refused under --strict)",
        ),
        (
            lambda d: write(
                d,
                "dangling.json",
                json.dumps(
                    {
                        "openapi": "3.1.0",
                        "info": {"title": "t", "version": "1"},
                        "paths": {
                            "/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}
                        },
                    }
                ),
            ),
            "at /paths/~1a/get/responses/200/$ref: $ref '#/components/responses/Nope' points nowhere",
        ),
    ],
    ids=[
        "missing",
        "directory",
        "bad-json",
        "bad-yaml",
        "not-object",
        "swagger-2",
        "invalid-with-pointer",
        "dangling-ref",
    ],
)
def test_bad_documents_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expected: str
) -> None:
    spec = make(tmp_path)  # type: ignore[operator]
    code, err = run_main(["--spec", spec, "--strict"], capsys)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("meibel-mock: error: ")
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "http"], "not a port"),
        (["--port", "70000"], "not a port"),
        (["--max-body", "lots"], "not a size in bytes"),
        (["--max-body", "0"], "not a size in bytes"),
        (["--journal-bytes", "lots"], "not a size in bytes"),
        (["--scenario", "exploded"], "unknown scenario 'exploded'"),
        (["--seed", "x"], "not an integer seed"),
        (["--log-level", "loud"], "invalid choice"),
        (["--bogus"], "unrecognized arguments"),
        (["--api-key", " "], "empty --api-key"),
        (["fixtures"], "the following arguments are required: --out"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, err = run_main(args, capsys)
    assert code == 2
    assert err.count("\n") == 1, err
    assert expected in err


def test_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, err = run_main(["--port", str(taken.getsockname()[1])], capsys)
    assert code == 2
    assert "cannot listen on 127.0.0.1:" in err
    assert err.count("\n") == 1


def test_banner_shows_the_dev_key_but_never_a_configured_one(contract: object) -> None:
    dev = banner(contract, Settings(), "127.0.0.1", 8123)  # type: ignore[arg-type]
    assert "http://127.0.0.1:8123/v2" in dev
    assert "meibel-mock-key" in dev
    assert "curl -sS -X POST http://127.0.0.1:8123/v2/batch-executions" in dev
    secret = banner(contract, Settings(api_keys=("sk-very-secret-0042",)), "127.0.0.1", 8123)  # type: ignore[arg-type]
    assert "sk-very-secret-0042" not in secret
    assert "$MEIBEL_API_KEY" in secret


def _script() -> str:
    found = shutil.which("meibel-mock", path=str(Path(sys.executable).parent)) or shutil.which("meibel-mock")
    if found is None:
        pytest.fail("the meibel-mock console script is not installed (pip install -e .)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_installed_script_serves_on_a_socket(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "MEIBEL_API_KEY": "sk-distinctive-7f3a9"}
    process = subprocess.Popen(
        [_script(), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(
                        f"meibel-mock did not start: {process.stderr.read() if process.stderr else ''}"
                    )
                time.sleep(0.1)
        created = httpx.post(base + PATH, json=VALID, headers={"Meibel-API-Key": "sk-distinctive-7f3a9"})
        assert created.status_code == 201
        refused = httpx.post(base + PATH, json=VALID, headers={"Meibel-API-Key": "meibel-mock-key"})
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert f"Base URL:  {base}/v2" in err
    assert '"POST /v2/batch-executions" 201' in err  # the access log
    assert '"POST /v2/batch-executions" 401' in err
    assert "sk-distinctive-7f3a9" not in out + err


def test_python_dash_m_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--port", "nope"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("not a port: 'nope' (see --help)")
