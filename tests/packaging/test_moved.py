"""Old module paths keep working after the move into stage packages (0.3.0), until 0.4.0: the same
module object under both names, and a DeprecationWarning that names the new one."""

from __future__ import annotations

import json
import subprocess
import sys

import contract_tests
import mock_server
from tests.packaging.test_imports import ROOT, modules_of

# Every module of 0.2.0, as the wheel held them: each must still import, under its old name.
MODULES_0_2 = {
    "mock_server": [
        "answer_check",
        "app",
        "base_url",
        "behaviour",
        "bodies",
        "chaos",
        "cli",
        "contract",
        "control",
        "cors",
        "direct",
        "docs_ui",
        "document_patterns",
        "ecma_regex",
        "engine",
        "errors",
        "fixtures",
        "forms",
        "generation",
        "har",
        "journal",
        "limits",
        "loader",
        "lru",
        "materialize",
        "negotiation",
        "options",
        "parameters",
        "path_table",
        "patterns",
        "proxy",
        "recorder",
        "recording",
        "recordings",
        "redaction",
        "refs",
        "rendering",
        "scalars",
        "scenarios",
        "selection",
        "served_document",
        "server",
        "shared_state",
        "sqlite_state",
        "structure",
        "testing",
        "validation",
        "watch",
        "workers",
        "yaml_text",
    ],
    "contract_tests": [
        "checks",
        "cli",
        "context",
        "deviations",
        "diff",
        "diff_change",
        "diff_cli",
        "diff_findings",
        "diff_keywords",
        "diff_lifecycle",
        "diff_object",
        "diff_operation",
        "diff_pattern",
        "diff_report",
        "diff_resolve",
        "diff_schema",
        "diff_security",
        "diff_source",
        "diff_unchanged",
        "diff_variants",
        "entry",
        "gate",
        "har",
        "invariants",
        "lax",
        "plugin",
        "preflight",
        "report",
        "report_md",
        "reproduce",
        "run",
        "safety",
        "target",
        "test_contract",
    ],
}

_PROBE = """
import importlib, json, sys, warnings
out = {}
for old in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    out[old] = [module.__name__, module.__spec__.name, [str(w.message) for w in caught if w.category is DeprecationWarning]]
print(json.dumps(out))
"""


def test_every_module_of_0_2_still_imports() -> None:
    current = set(modules_of(ROOT, ("mock_server", "contract_tests")))
    moved = {**{f"mock_server.{k}": f"mock_server.{v}" for k, v in mock_server.MOVED.items()}}
    moved |= {f"contract_tests.{k}": f"contract_tests.{v}" for k, v in contract_tests.MOVED.items()}
    olds = [f"{package}.{name}" for package, names in MODULES_0_2.items() for name in names]
    assert all(old in current or old in moved for old in olds)
    assert all(new in current for new in moved.values())  # no alias points at nothing
    # A fresh interpreter, so that each old name is imported for the first time.
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", _PROBE, *olds], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
    )
    for old in olds:
        name, spec, warned = found[old]
        if old in moved:
            # The same module: its own name and spec, whichever name imported it.
            assert (name, spec) == (moved[old], moved[old]), old
            assert warned == [f"{old} is now {moved[old]}; the old name goes in 0.4.0"], old
        else:
            assert (name, spec, warned) == (old, old, []), old


def test_an_old_name_is_the_same_module_as_the_new_one() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mock_server import journal as old_journal  # the public path of 0.2.0's JournalEntry
        from mock_server.testing import JournalEntry

    assert old_journal.JournalEntry is JournalEntry
    assert sys.modules["mock_server.journal"] is sys.modules["mock_server.state.journal"]


def test_an_unknown_name_is_still_an_import_error() -> None:
    import pytest

    with pytest.raises(ModuleNotFoundError):
        __import__("mock_server.no_such_module")
    with pytest.raises(AttributeError):
        _ = mock_server.no_such_name
