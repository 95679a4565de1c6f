"""meibel-contract diff reads documents as the mock does: several files, from a folder or a git revision;
and its command imports only what a diff needs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_tests.diff import assert_no_breaking_changes, diff_documents
from contract_tests.diff.source import read_document
from contract_tests.entry import main
from mock_server.document.loader import read_document as load

ROOT = Path(__file__).resolve().parents[2]

ROOT_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "pets", "version": "1"},
    "paths": {
        "/pets/{id}": {
            "parameters": [{"$ref": "parameters.yaml#/PetId"}],
            "get": {
                "responses": {
                    "200": {
                        "description": "a pet",
                        "content": {"application/json": {"schema": {"$ref": "./schemas/pet.yaml"}}},
                    }
                }
            },
        }
    },
}
PET: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "owner": {"$ref": "owner.yaml"}},
}
OWNER: dict[str, Any] = {"type": "object", "properties": {"email": {"type": "string"}}}
PARAMETERS: dict[str, Any] = {
    "PetId": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
}


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def multi_file(folder: Path, pet: dict[str, Any] = PET) -> Path:
    _dump(folder / "openapi.yaml", ROOT_DOCUMENT)
    _dump(folder / "parameters.yaml", PARAMETERS)
    _dump(folder / "schemas" / "pet.yaml", pet)
    _dump(folder / "schemas" / "owner.yaml", OWNER)
    return folder / "openapi.yaml"


def without(pet: dict[str, Any], name: str) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(pet))
    del changed["properties"][name]
    changed["required"] = [n for n in changed["required"] if n != name]
    return changed


def test_a_multi_file_document_diffs_against_its_bundled_form_with_no_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = multi_file(tmp_path / "api")
    bundled = tmp_path / "bundled.json"
    bundled.write_text(json.dumps(load(document).document), encoding="utf-8")
    assert "x-referenced-files" in bundled.read_text()  # the bundled form really is one file
    for old, new in ((document, bundled), (bundled, document), (document, document)):
        assert main(["diff", str(old), str(new)]) == 0
        assert "No changes a client could notice." in capsys.readouterr().out


def test_a_change_in_a_referenced_file_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = multi_file(tmp_path / "old")
    new = multi_file(tmp_path / "new", pet=without(PET, "name"))
    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [finding] = [f for f in report["findings"] if f["level"] == "breaking"]
    assert finding["rule"] == "response-body-property-removed" and "`name`" in finding["message"]
    # A change two files deep (pet.yaml → owner.yaml) is found as well.
    _dump(tmp_path / "new" / "schemas" / "pet.yaml", PET)
    _dump(
        tmp_path / "new" / "schemas" / "owner.yaml",
        {"type": "object", "properties": {"email": {"type": "integer"}}},
    )
    with pytest.raises(AssertionError, match=r"owner\.email"):
        assert_no_breaking_changes(old, new)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=30,
    )


def test_git_sources_read_referenced_files_from_the_same_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    multi_file(repo / "spec")
    (repo / "README.md").write_text("not a document\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    _dump(repo / "spec" / "schemas" / "pet.yaml", without(PET, "name"))  # the working tree moves on
    monkeypatch.chdir(repo)
    document, label = read_document("git:HEAD:spec/openapi.yaml")
    assert label == "git:HEAD:spec/openapi.yaml"
    assert document["x-referenced-files"]["schemas/pet.yaml"]["required"] == [
        "id",
        "name",
    ]  # HEAD's, not the tree's
    assert main(["diff", "git:HEAD:spec/openapi.yaml", "git:HEAD:spec/openapi.yaml"]) == 0
    capsys.readouterr()
    assert main(["diff", "git:HEAD:spec/openapi.yaml", "spec/openapi.yaml"]) == 1
    assert "response-body-property-removed" in capsys.readouterr().out
    assert main(["diff", "spec/openapi.yaml", "git:HEAD:spec/openapi.yaml"]) == 0
    capsys.readouterr()
    # PATH is from the repository's root, wherever the command runs.
    monkeypatch.chdir(repo / "spec" / "schemas")
    assert main(["diff", "git:HEAD:spec/openapi.yaml", "git:HEAD:spec/openapi.yaml"]) == 0


def test_a_git_source_at_the_repository_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    multi_file(repo)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    _dump(repo / "schemas" / "pet.yaml", without(PET, "name"))
    monkeypatch.chdir(repo)
    assert main(["diff", "git:HEAD:openapi.yaml", "openapi.yaml"]) == 1
    assert "response-body-property-removed" in capsys.readouterr().out


def test_a_git_source_whose_referenced_file_is_missing_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    multi_file(repo / "spec")
    (repo / "spec" / "schemas" / "owner.yaml").unlink()
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    monkeypatch.chdir(repo)
    assert main(["diff", "git:HEAD:spec/openapi.yaml", "git:HEAD:spec/openapi.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "owner.yaml" in err
    assert "/tmp/" not in err.split("error: ", 1)[1].split(":")[0]  # the side is named as the user wrote it


def test_the_diff_command_imports_neither_the_mock_nor_http(tmp_path: Path) -> None:
    old = multi_file(tmp_path / "api")
    script = (
        "import sys\n"
        "from contract_tests.entry import main\n"
        f"code = main(['diff', {str(old)!r}, {str(old)!r}])\n"
        "heavy = ('httpx', 'starlette', 'uvicorn', 'schemathesis', 'hypothesis', 'jsonschema_rs',\n"
        "         'mock_server.app', 'mock_server.contract', 'mock_server.engine', 'contract_tests.cli')\n"
        "print(code, sorted(m for m in sys.modules if m in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_diff_of_json_documents_does_not_import_yaml(tmp_path: Path) -> None:
    bundled = tmp_path / "bundled.json"
    bundled.write_text(json.dumps(load(multi_file(tmp_path / "api")).document), encoding="utf-8")
    script = (
        "import sys\n"
        "from contract_tests.entry import main\n"
        f"code = main(['diff', {str(bundled)!r}, {str(bundled)!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'yaml'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_the_document_layer_imports_without_starlette() -> None:
    script = "import sys, mock_server.document.loader; print(sorted(m for m in sys.modules if m.startswith(('starlette', 'mock_server.app'))))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    # The package's public names are still there, imported on first use.
    import mock_server

    assert mock_server.create_app.__module__ == "mock_server.app"
    with pytest.raises(AttributeError):
        mock_server.no_such_name  # noqa: B018


def test_diff_documents_takes_a_bundled_document_as_a_dict(tmp_path: Path) -> None:
    document = load(multi_file(tmp_path / "api")).document
    assert diff_documents(document, json.loads(json.dumps(document))) == []


def _shared_document(leaf: dict[str, Any]) -> dict[str, Any]:
    def op(name: str) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/Outer"}
        return {
            "operationId": name,
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}},
        }

    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "security": [{"key": []}],
        "paths": {
            "/a": {"get": op("a")},
            "/b": {"get": op("b")},
            "/c": {"get": {"responses": {"204": {"description": "none"}}}},
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            "schemas": {
                "Outer": {
                    "type": "object",
                    "properties": {"inner": {"$ref": "#/components/schemas/Inner"}},
                    "required": ["inner"],
                },
                "Inner": {
                    "type": "object",
                    "properties": {"leaf": {"$ref": "#/components/schemas/Leaf"}},
                    "required": ["leaf"],
                },
                "Leaf": leaf,
            },
        },
    }


def test_operations_written_alike_are_still_compared_through_what_they_reach() -> None:
    old = _shared_document({"type": "string"})
    new = _shared_document({"type": "integer"})
    assert sorted(f.operation for f in diff_documents(old, new) if f.level == "breaking") == [
        "GET /a",
        "GET /b",
    ]
    moved = _shared_document({"type": "string"})
    moved["components"]["securitySchemes"]["key"]["name"] = "X-Other"  # every operation's credentials
    assert sorted(f.operation for f in diff_documents(old, moved) if f.level == "breaking") == [
        "GET /a",
        "GET /b",
        "GET /c",
    ]


def test_a_large_document_with_one_change_reports_exactly_it() -> None:
    old = _shared_document({"type": "string"})
    for i in range(300):
        old["paths"][f"/x{i}"] = copy.deepcopy(old["paths"]["/a"])
    new = copy.deepcopy(old)
    new["paths"]["/x7"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "string"
    }
    [finding] = [f for f in diff_documents(old, new) if f.level == "breaking"]
    assert finding.operation == "GET /x7"
