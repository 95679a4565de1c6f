"""The live check's promise, against the targets that break it: no writes unless allowed.

Four FastAPI stand-ins of the service count the executions they create (`tests.stand_in`):
one that follows the document strictly, one that coerces as pydantic's lax mode does (as the
real service does), one that accepts any non-empty key, and one that ignores the key. A
default run, with the full default example count and several seeds, creates nothing on any
of them; `--max-writes 3` creates at least one and at most three on each.
"""

from __future__ import annotations

import re

import pytest

from contract_tests.cli import main
from mock_server.testing import serve_in_thread
from tests.broken import KEY
from tests.contract.test_checker import outer_run_kept
from tests.stand_in import Auth, StandIn

KINDS: dict[str, tuple[bool, Auth]] = {
    "strict": (False, "key"),
    "lax": (True, "key"),
    "any-key": (True, "any"),
    "no-auth": (True, "none"),
}


def run_against(kind: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, StandIn, str]:
    lax, auth = KINDS[kind]
    stand_in = StandIn(lax=lax, auth=auth)
    with serve_in_thread(stand_in.app) as server, outer_run_kept():
        code = main([f"--base-url={server.origin}/v2", f"--api-key={KEY}", "--rate-limit=2000", *args])
    out, err = capsys.readouterr()
    return code, stand_in, out + err


def _sent(output: str) -> int:
    found = re.search(r"requests: (\d+) sent", output)
    assert found, output
    return int(found.group(1))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_default_run_creates_nothing(kind: str, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, stand_in, output = run_against(kind, f"--seed={seed}", capsys=capsys)
    assert stand_in.created == 0, output
    assert _sent(output) >= 40  # it did test: requests that no service acts on
    assert "withheld as writes (--max-writes 0)" in output
    # The strict and lax services conform; the lenient-auth ones are caught by their refusals.
    assert code == (0 if kind in ("strict", "lax") else 1), output
    if code == 1:
        assert "[auth_refused_without_key]" in output


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_max_writes_caps_what_is_created(kind: str, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, stand_in, output = run_against(kind, "--max-writes=3", f"--seed={seed}", capsys=capsys)
    assert 1 <= stand_in.created <= 3, output
    assert code in (0, 1), output
