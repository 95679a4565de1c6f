"""`pytest contract_tests --base-url …` from the kit's checkout, in an environment that holds other
pytest plugins: pytest-asyncio (from the dev extra, so really installed), and one that warns as it
loads. The kit's warnings-as-errors must not turn their warnings into an INTERNALERROR."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest_asyncio

from mock_server.testing import serve_in_thread
from tests import broken

ROOT = Path(__file__).resolve().parents[2]


def _pytest_route(origin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**env, "MEIBEL_API_KEY": broken.KEY}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the user's environment: every plugin loads
    env.pop("PYTEST_ADDOPTS", None)  # and nothing set for it
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "contract_tests",
            f"--base-url={origin}/v2",
            "--max-examples=5",
            "--rate-limit=2000",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_pytest_route_runs_beside_pytest_asyncio() -> None:
    assert pytest_asyncio.__version__  # installed for real (the dev extra), and so loaded below
    with serve_in_thread(broken.mock()) as server:
        done = _pytest_route(server.origin, dict(os.environ))
    output = done.stdout + done.stderr
    assert "INTERNALERROR" not in output, output
    assert done.returncode == 0, output
    assert "asyncio-" in output  # pytest's header lists the plugin: it was loaded
    assert "1 passed" in output


PLUGIN = """
import warnings

import pytest

warnings.warn("imported with a deprecated API", DeprecationWarning)


def pytest_configure(config):
    warnings.warn(pytest.PytestDeprecationWarning("an option of this plugin is unset"))
"""


def test_a_plugin_that_warns_as_it_loads_does_not_break_the_route(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "warning_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "warning_plugin-1.0.dist-info" / "METADATA").write_text("Name: warning-plugin\nVersion: 1.0\n")
    (site / "warning_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pytest11]\nwarns = warning_plugin\n"
    )
    (site / "warning_plugin.py").write_text(textwrap.dedent(PLUGIN))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    with serve_in_thread(broken.mock()) as server:
        done = _pytest_route(server.origin, env)
    output = done.stdout + done.stderr
    assert "INTERNALERROR" not in output, output
    assert done.returncode == 0, output
    assert "an option of this plugin is unset" in output  # shown as a warning, not raised
