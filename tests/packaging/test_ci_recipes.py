"""Every CI recipe in the guides and the README, and the kit's action, run as written.

Each ```yaml block of docs/*.md and README.md is a GitHub workflow, a list of GitHub steps or a GitLab
job; its shell runs (tests/ci_emulator.py says what is run and what is emulated) in a repository
that is not the kit: a clone of a bare `origin` holding a small OpenAPI document at spec/api-v2.json,
with a pull-request commit on top. Each run gets a fresh virtualenv first on PATH, as a fresh CI
machine's Python. The recipe's install line runs as written, `MEIBEL_KIT` pointing at the built
wheel; its base URL points at a mock on 127.0.0.1 that accepts only the test's secret key, which must
appear in no output, summary or report. A recipe that runs the document diff runs again on a
breaking change, and must fail there with exit 1.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server import Settings, create_app, load_contract
from mock_server.testing import ThreadedServer, serve_in_thread
from tests.ci_emulator import Emulator, Run, kind, yaml_blocks
from tests.kit_install import ROOT, action_checkout, git, make_venv

SECRET = "sk-recipe-secret-5d1e77"
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
BLOCKS = [(path, line, text) for path in SOURCES for line, text in yaml_blocks(path)]
# Blocks known not to run yet, with why. Strict: once such a block runs, the mark must go.
KNOWN_BROKEN = {
    "README.md": "the README's diff recipe has no install step (docs/diff.md has the recipe in full)"
}

OLD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pets", "version": "1"},
    "paths": {
        "/pets/{id}": {
            "get": {
                "operationId": "getPet",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "a pet",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "name"],
                                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


def _changed(breaking: bool) -> dict[str, Any]:
    new = copy.deepcopy(OLD)
    schema = new["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    if breaking:
        schema["required"] = ["id"]  # a client that reads `name` may now get none
    else:
        schema["properties"]["tag"] = {"type": "string"}  # a new optional property: info
    return new


def _param(path: Path, line: int, text: str) -> object:
    name = path.relative_to(ROOT).as_posix()
    marks = [pytest.mark.xfail(reason=KNOWN_BROKEN[name], strict=True)] if name in KNOWN_BROKEN else []
    return pytest.param(text, id=f"{name}:{line}", marks=marks)


@pytest.fixture(scope="module")
def mock() -> Iterator[ThreadedServer]:
    app = create_app(load_contract(), settings=Settings(api_keys=(SECRET,)))
    with serve_in_thread(app) as server:
        yield server


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return action_checkout(tmp_path_factory.mktemp("action") / "meibel-contract-kit")


def repository(base: Path, *, breaking: bool) -> Path:
    """A team's repository after `actions/checkout` with fetch-depth 0: origin/main has the old
    document, the checked-out pull-request commit the new one."""
    origin, workspace = base / "origin.git", base / "workspace"
    base.mkdir(parents=True)
    git("init", "--quiet", "--bare", "--initial-branch=main", origin, cwd=base)
    git("clone", "--quiet", origin, workspace, cwd=base)
    (workspace / "spec").mkdir()
    (workspace / "spec" / "api-v2.json").write_text(json.dumps(OLD, indent=2))
    git("checkout", "--quiet", "-b", "main", cwd=workspace)
    git("add", ".", cwd=workspace)
    git("commit", "--quiet", "-m", "the document", cwd=workspace)
    git("push", "--quiet", "origin", "main", cwd=workspace)
    git("checkout", "--quiet", "-b", "change", cwd=workspace)
    (workspace / "spec" / "api-v2.json").write_text(json.dumps(_changed(breaking), indent=2))
    git("commit", "--quiet", "-am", "a change of the document", cwd=workspace)
    return workspace


def emulator(
    base: Path, workspace: Path, *, wheelhouse: Path, kit: str, mock: str, action_path: Path
) -> Emulator:
    venv = make_venv(base / "python", wheelhouse)
    runner_temp = base / "runner-temp"
    runner_temp.mkdir()
    home = base / "home"
    home.mkdir()
    env = venv.env(
        {
            "HOME": str(home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md"),
        }
    )
    env.pop("VIRTUAL_ENV")  # setup-python puts its bin/ on PATH; it activates nothing
    return Emulator(
        workspace,
        env,
        overrides={"MEIBEL_KIT": kit, "MEIBEL_BASE_URL": f"{mock}/v2"},
        contexts={
            "secrets": {"MEIBEL_STAGING_KEY": SECRET},
            "vars": {"MEIBEL_AGENT_ID": "agent_1", "MEIBEL_DATASOURCE_ID": "ds_1"},
            "github": {"base_ref": "main", "workspace": str(workspace)},
            "runner": {"temp": str(runner_temp)},
        },
        action_path=action_path,
        python=venv.bin / "python",
    )


def run_block(text: str, emulate: Emulator) -> Run:
    document = yaml.safe_load(text)
    if kind(document) == "gitlab":
        # GitLab's masked CI/CD variables, set in the project's settings.
        emulate.overrides.update(
            MEIBEL_API_KEY=SECRET, MEIBEL_AGENT_ID="agent_1", MEIBEL_DATASOURCE_ID="ds_1"
        )
        return emulate.gitlab(document)
    return emulate.github(document)


def _everything_written(emulate: Emulator) -> str:
    files = [p for p in emulate.workspace.rglob("*") if p.is_file() and ".git" not in p.parts]
    summary = Path(emulate.env["GITHUB_STEP_SUMMARY"])
    return "\n".join(
        p.read_text(errors="replace") for p in [*files, *([summary] if summary.exists() else [])]
    )


def test_every_yaml_block_is_a_recipe() -> None:
    assert {p.name for p, _, _ in BLOCKS} >= {"live-checks.md", "diff.md"}
    for _, _, text in BLOCKS:
        kind(yaml.safe_load(text))  # raises for a block the emulator cannot run
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"


@pytest.mark.parametrize("text", [_param(*block) for block in BLOCKS])
def test_the_recipe_runs_as_written(
    text: str,
    tmp_path: Path,
    kit_wheel: Path,
    wheelhouse: Path,
    mock: ThreadedServer,
    action_path: Path,
) -> None:
    def run(breaking: bool) -> tuple[Run, Emulator]:
        base = tmp_path / ("breaking" if breaking else "compatible")
        workspace = repository(base, breaking=breaking)
        emulate = emulator(
            base,
            workspace,
            wheelhouse=wheelhouse,
            kit=kit_wheel.as_uri(),
            mock=mock.origin,
            action_path=action_path,
        )
        return run_block(text, emulate), emulate

    done, emulate = run(breaking=False)
    assert not done.failed, done.output
    assert SECRET not in done.output + _everything_written(emulate)
    if "base-url" in text or "--base-url" in text:
        assert "Verdict: pass" in done.output, done.output
        assert (emulate.workspace / "contract.xml").is_file()
    if "diff" in text:
        broken, emulate = run(breaking=True)
        assert broken.failed, broken.output
        [failing] = [s for s in broken.steps if s.code not in (None, 0)]
        assert failing.code == 1 and "response-body-property-became-optional" in failing.output, broken.output
        if "diff.md" in text:  # the comment step still writes its Markdown (if: always())
            assert "breaking" in (emulate.workspace / "diff.md").read_text().lower()


def test_the_action_puts_the_verdict_on_the_summary_page(
    tmp_path: Path, kit_wheel: Path, wheelhouse: Path, mock: ThreadedServer, action_path: Path
) -> None:
    workspace = repository(tmp_path / "run", breaking=True)
    emulate = emulator(
        tmp_path / "run",
        workspace,
        wheelhouse=wheelhouse,
        kit=kit_wheel.as_uri(),
        mock=mock.origin,
        action_path=action_path,
    )
    step: dict[str, Any] = {
        "uses": "./",
        "with": {
            "base-url": f"{mock.origin}/v2",
            "api-key": "${{ secrets.MEIBEL_STAGING_KEY }}",
            "max-examples": "5",
            "diff-base": "origin/main",
            "spec": "spec/api-v2.json",
        },
    }
    with pytest.raises(ValueError, match="no input"):  # inputs the action does not declare are refused
        emulate.github([step])
    del step["with"]["max-examples"]
    done = emulate.github([step])
    # Both checks ran in the one step: the diff failed (exit 1), the live check still ran and passed.
    assert done.step("Does the document break clients?").code == 1, done.output
    assert done.step("Check the deployment against the contract").code == 0, done.output
    summary = Path(emulate.env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "response-body-property-became-optional" in summary
    # The live check's verdict, after the diff's findings (its words are meibel-contract's own,
    # whether it writes the summary itself with --report-md or the action adds its closing lines).
    live = summary[summary.index("response-body-property-became-optional") :]
    assert "verdict: pass" in live.lower() or "pass" in live.lower().split("verdict")[-1]
    assert SECRET not in done.output + summary


def test_the_action_without_a_check_to_run_says_so(
    tmp_path: Path, wheelhouse: Path, kit_wheel: Path, mock: ThreadedServer, action_path: Path
) -> None:
    workspace = repository(tmp_path / "run", breaking=False)
    emulate = emulator(
        tmp_path / "run",
        workspace,
        wheelhouse=wheelhouse,
        kit=kit_wheel.as_uri(),
        mock=mock.origin,
        action_path=action_path,
    )
    done = emulate.github([{"uses": "./"}])
    first = done.step("Check the inputs")
    assert first.code == 2 and "give base-url" in first.output
    assert all(s.code is None for s in done.steps[1:])  # nothing else ran
    done = emulate.github([{"uses": "./", "with": {"diff-base": "origin/main"}}])
    assert done.step("Check the inputs").code == 2 and "diff-base needs spec" in done.output
