"""The built wheel, installed into a fresh virtualenv outside the clone, used as a user uses it.

Every entry point runs from the virtualenv's bin/ with a temporary directory as its working
directory: `meibel-mock`, `meibel-contract` (the live check and the diff) and the pytest plugin, the
last in a repository of its own that has only the wheel, pytest and the SDK.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit_install import ROOT, Venv, make_venv, requirement, running_mock

SPEC = ROOT / "spec" / "api-v2.json"
KEY = {"Meibel-API-Key": "meibel-mock-key"}
CREATE = {"batch_spec_json": {"name": "Invoices", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}}


@pytest.fixture(scope="module")
def kit(kit_wheel: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One virtualenv with the wheel and its [contract] extra, shared by this module's tests."""
    venv = make_venv(tmp_path_factory.mktemp("venv") / "kit", wheelhouse)
    venv.pip_install(requirement(kit_wheel.as_uri()), cwd=venv.root.parent)
    return venv


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory that is not the clone."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def test_the_kit_is_imported_from_the_virtualenv_not_the_clone(kit: Venv, elsewhere: Path) -> None:
    probe = "import sys, json, mock_server, contract_tests, pytest_meibel_mock; print(json.dumps([sys.path, mock_server.__file__, contract_tests.__file__, pytest_meibel_mock.__file__]))"
    result = kit.run("python", "-c", probe, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    path, *modules = json.loads(result.stdout)
    assert all(Path(m).is_relative_to(kit.root) for m in modules), modules
    assert not any(p and Path(p).resolve().is_relative_to(ROOT) for p in path), path


def test_meibel_mock_answers_a_create_and_serves_docs_with_its_assets(kit: Venv, elsewhere: Path) -> None:
    with running_mock(kit, elsewhere) as origin:
        created = httpx.post(f"{origin}/v2/batch-executions", json=CREATE, headers=KEY, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "pending"
        page = httpx.get(f"{origin}/docs", timeout=10)
        assert page.status_code == 200
        assets = re.findall(r'(?:href|src)="(/[^"]+\.(?:js|css|png))"', page.text)
        assert {Path(a).suffix for a in assets} == {".js", ".css", ".png"}, page.text
        for asset in assets:
            answer = httpx.get(origin + asset, timeout=10)
            assert answer.status_code == 200 and len(answer.content) > 100, asset
        assert httpx.get(f"{origin}/openapi.json", timeout=10).json()["servers"][0]["url"] == f"{origin}/v2"


def test_meibel_contract_checks_that_mock(kit: Venv, elsewhere: Path) -> None:
    with running_mock(kit, elsewhere) as origin:
        result = kit.run(
            "meibel-contract",
            "--base-url",
            f"{origin}/v2",
            "--max-examples=10",
            "--rate-limit=1000",
            "--junit-xml",
            "contract.xml",
            cwd=elsewhere,
            env={"MEIBEL_API_KEY": "meibel-mock-key"},
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verdict: pass" in result.stdout
    assert (elsewhere / "contract.xml").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["contract.xml"]  # nothing else left behind


def test_meibel_contract_diff_compares_two_files(kit: Venv, elsewhere: Path) -> None:
    old = json.loads(SPEC.read_text())
    new = json.loads(SPEC.read_text())
    new["paths"]["/batch-executions"]["post"]["operationId"] = "renamed"
    schema = new["components"]["schemas"]["BatchExecutionResponse"]
    removed = next(iter(schema["required"]))
    schema["required"].remove(removed)
    (elsewhere / "a.json").write_text(json.dumps(old))
    (elsewhere / "b.json").write_text(json.dumps(new))
    same = kit.run("meibel-contract", "diff", "a.json", "a.json", cwd=elsewhere)
    assert same.returncode == 0, same.stdout + same.stderr
    breaking = kit.run("meibel-contract", "diff", "a.json", "b.json", cwd=elsewhere)
    assert breaking.returncode == 1, breaking.stdout + breaking.stderr
    assert "BREAKING" in breaking.stdout and f"`{removed}`" in breaking.stdout
    assert "response-body-property-became-optional" in breaking.stdout
    assert "operation-id-changed" in breaking.stdout


PLUGIN_TEST = """
import pytest
from meibel import MeibelClient
from meibel.exceptions import ApiError
from meibel.models import CreateBatchExecutionRequest

BODY = {"batch_spec_json": {"name": "Invoices", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}}


def test_create(meibel_mock):
    client = MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key)
    execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.status == "pending"
    assert meibel_mock.requests.last.body["batch_spec_json"]["name"] == "Invoices"


@pytest.mark.meibel_scenario("completed")
def test_scenario_marker(meibel_mock):
    client = MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key)
    execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.status == "completed"


def test_a_fault(meibel_mock):
    meibel_mock.fail_next(503)
    client = MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key)
    with pytest.raises(ApiError):
        client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert meibel_mock.requests.count() == 1
"""


@pytest.fixture(scope="module")
def sdk_repository(
    kit_wheel: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Venv, Path]]:
    """An SDK team's repository: its own virtualenv with only the wheel (no extra), pytest and `meibel`."""
    base = tmp_path_factory.mktemp("sdk-team")
    venv = make_venv(base / ".venv", wheelhouse)
    venv.pip_install(requirement(kit_wheel.as_uri(), extras=""), "pytest", "meibel", cwd=base)
    repository = base / "repository"
    (repository / "tests").mkdir(parents=True)
    (repository / "tests" / "test_client.py").write_text(PLUGIN_TEST)
    yield venv, repository


def test_the_pytest_plugin_works_in_a_repository_with_only_the_wheel_pytest_and_the_sdk(
    sdk_repository: tuple[Venv, Path],
) -> None:
    venv, repository = sdk_repository
    installed = venv.run("python", "-m", "pip", "list", "--format=json", cwd=repository)
    names = {d["name"].lower() for d in json.loads(installed.stdout)}
    assert {"meibel-contract-kit", "pytest", "meibel"} <= names
    assert not names & {"schemathesis", "hypothesis"}, "the [contract] extra leaked into the base install"
    result = venv.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=repository)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_fixtures_help_points_at_nothing_the_wheel_lacks(sdk_repository: tuple[Venv, Path]) -> None:
    """What `pytest --fixtures` shows of the plugin names no file of the kit's repository as if it
    were at hand: a user who installed the wheel has no docs/ folder."""
    venv, repository = sdk_repository
    result = venv.run("python", "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", cwd=repository)
    assert result.returncode == 0, result.stderr
    assert "meibel_mock" in result.stdout
    assert _bare_repository_paths(result.stdout) == []


@pytest.mark.parametrize(
    "command",
    [
        ["meibel-mock", "--help"],
        ["meibel-mock", "fixtures", "--help"],
        ["meibel-mock", "proxy", "--help"],
        ["meibel-contract", "--help"],
        ["meibel-contract", "diff", "--help"],
    ],
    ids=" ".join,
)
def test_the_commands_help_points_at_nothing_the_wheel_lacks(
    kit: Venv, elsewhere: Path, command: list[str]
) -> None:
    result = kit.run(*command, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert _bare_repository_paths(result.stdout) == []


def _bare_repository_paths(text: str) -> list[str]:
    """References to the kit's README or docs/ that do not say they are in the kit's repository."""
    flat = " ".join(text.split())
    found = []
    for match in re.finditer(r"\b(?:README(?:\.md)?|docs/[\w.-]+\.md)", flat):
        before = flat[max(0, match.start() - 40) : match.start()]
        if "kit's" not in before:
            found.append(flat[max(0, match.start() - 40) : match.end()])
    return found


def test_the_wheel_holds_what_the_commands_and_guides_point_at(kit_wheel: Path) -> None:
    with zipfile.ZipFile(kit_wheel) as wheel:
        names = set(wheel.namelist())
        bundled = wheel.read("mock_server/_spec/api-v2.json")
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entries = wheel.read(entry_points).decode()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = wheel.read(metadata).decode()
    assert bundled == SPEC.read_bytes()  # the document, byte for byte
    assert {
        "pytest_meibel_mock.py",
        "contract_tests/test_contract.py",
        "mock_server/http/docs_ui.py",
    } <= names
    assert "meibel-mock = mock_server.cli:main" in entries
    assert "meibel-contract = contract_tests.entry:main" in entries
    assert "meibel_mock = pytest_meibel_mock" in entries
    # /docs's Swagger UI files come from this dependency, not from the wheel (see mock_server/http/docs_ui.py).
    assert "Requires-Dist: openapi-ui-bundles" in requires
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/", ".venv/"))]
