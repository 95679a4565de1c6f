"""meibel-contract diff: the corpus of variants of the bundled document, formats, exit codes, git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_tests.cli import main as contract_main
from contract_tests.diff import BreakingChangeError, assert_no_breaking_changes, diff_documents
from contract_tests.diff.cli import main
from contract_tests.diff.resolve import Document
from tests.diff_corpus import BREAKING, BUNDLED, COMPATIBLE, OP, WARNINGS, Variant, bundled, schemas

ALL = BREAKING + WARNINGS + COMPATIBLE


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exited:  # argparse's own refusals
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    if name.endswith((".yaml", ".yml")):
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


def pair(tmp_path: Path, variant: Variant) -> list[str]:
    return [write(tmp_path, "old.json", variant.old()), write(tmp_path, "new.json", variant.new())]


@pytest.mark.parametrize("variant", BREAKING, ids=lambda v: v.id)
def test_breaking_variant_exits_1_and_names_the_change(
    variant: Variant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(pair(tmp_path, variant), capsys)
    assert (code, err) == (1, "")
    for name in variant.names:
        assert name in out, f"{name!r} missing from:\n{out}"
    assert "BREAKING" in out and OP in out
    code, out, _ = run([*pair(tmp_path, variant), "--format", "json"], capsys)
    report = json.loads(out)
    rules = {f["rule"] for f in report["findings"] if f["level"] == "breaking"}
    assert code == 1 and report["breaks"] is True
    assert variant.rule in rules, rules


@pytest.mark.parametrize("variant", COMPATIBLE, ids=lambda v: v.id)
def test_compatible_variant_exits_0(
    variant: Variant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(pair(tmp_path, variant), capsys)
    assert (code, err) == (0, "")
    assert "BREAKING" not in out
    for name in variant.names:
        assert name in out, f"{name!r} missing from:\n{out}"


@pytest.mark.parametrize("variant", WARNINGS, ids=lambda v: v.id)
def test_warning_fails_only_with_fail_on_warning(
    variant: Variant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(pair(tmp_path, variant), capsys)
    assert code == 0 and "WARNING" in out and "BREAKING" not in out
    for name in variant.names:
        assert name in out, f"{name!r} missing from:\n{out}"
    code, out, _ = run([*pair(tmp_path, variant), "--fail-on", "warning"], capsys)
    assert code == 1 and variant.rule in out


@pytest.mark.parametrize("variant", [v for v in COMPATIBLE if not v.names], ids=lambda v: v.id)
def test_rewritings_are_no_change_at_all(variant: Variant) -> None:
    # a $ref inlined, keys reordered, a component renamed, a type list for an anyOf: nothing to report
    assert diff_documents(variant.old(), variant.new()) == []


def test_json_against_yaml_is_no_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = bundled()
    code, out, _ = run([str(BUNDLED), write(tmp_path, "api-v2.yaml", document)], capsys)
    assert code == 0 and "No changes" in out


def test_yaml_as_people_write_it_is_no_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # unquoted status codes are integers to a YAML parser; the diff reads them as the strings they mean
    document = bundled()
    responses = document["paths"]["/batch-executions"]["post"]["responses"]
    document["paths"]["/batch-executions"]["post"]["responses"] = {int(k): v for k, v in responses.items()}
    text = yaml.safe_dump(document, sort_keys=False)
    assert "\n        201:" in text
    (tmp_path / "api.yml").write_text(text, encoding="utf-8")
    code, out, _ = run([str(BUNDLED), str(tmp_path / "api.yml")], capsys)
    assert code == 0 and "No changes" in out


def _minimal(version: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": schema}}},
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": schema}}}
                    },
                }
            }
        },
    }


NULLABLE_30 = {"type": "object", "properties": {"note": {"type": "string", "nullable": True}}}
NULLABLE_31_LIST = {"type": "object", "properties": {"note": {"type": ["string", "null"]}}}
NULLABLE_31_ANYOF = {
    "type": "object",
    "properties": {"note": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
}
NOT_NULLABLE = {"type": "object", "properties": {"note": {"type": "string"}}}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (("3.0.3", NULLABLE_30), ("3.1.0", NULLABLE_31_LIST)),
        (("3.0.3", NULLABLE_30), ("3.1.0", NULLABLE_31_ANYOF)),
        (("3.1.0", NULLABLE_31_ANYOF), ("3.1.0", NULLABLE_31_LIST)),
    ],
    ids=["3.0-nullable/3.1-type-list", "3.0-nullable/3.1-anyOf", "anyOf/type-list"],
)
def test_nullable_spellings_are_the_same(old: tuple[str, Any], new: tuple[str, Any]) -> None:
    assert diff_documents(_minimal(*old), _minimal(*new)) == []


def test_nullable_added_breaks_responses_and_removed_breaks_requests() -> None:
    added = diff_documents(_minimal("3.0.3", NOT_NULLABLE), _minimal("3.0.3", NULLABLE_30))
    assert [(f.level, f.rule) for f in added] == [
        ("info", "request-body-nullable-added"),
        ("breaking", "response-body-nullable-added"),
    ] or sorted((f.level, f.rule) for f in added) == [
        ("breaking", "response-body-nullable-added"),
        ("info", "request-body-nullable-added"),
    ]
    removed = diff_documents(_minimal("3.1.0", NULLABLE_31_LIST), _minimal("3.0.3", NOT_NULLABLE))
    assert sorted((f.level, f.rule) for f in removed) == [
        ("breaking", "request-body-nullable-removed"),
        ("info", "response-body-nullable-removed"),
    ]
    assert all("`note`" in f.message for f in removed)


def test_openapi_30_exclusive_bounds_are_compared_as_bounds() -> None:
    old = _minimal("3.0.3", {"type": "integer", "minimum": 1})
    new = _minimal("3.0.3", {"type": "integer", "minimum": 1, "exclusiveMinimum": True})
    findings = diff_documents(old, new)
    request = [f for f in findings if f.rule.startswith("request")]
    assert [(f.level, f.rule) for f in request] == [("breaking", "request-body-minimum-narrowed")]
    assert request[0].new_pointer.endswith("/exclusiveMinimum") or request[0].new_pointer.endswith("/minimum")


RECURSIVE = {
    "openapi": "3.1.0",
    "info": {"title": "tree", "version": "1"},
    "paths": {
        "/trees": {
            "post": {
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}
                },
                "responses": {"201": {"description": "ok"}},
            }
        }
    },
    "components": {
        "schemas": {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
                },
            }
        }
    },
}


def test_recursive_schemas_terminate_and_changes_inside_are_found() -> None:
    assert diff_documents(RECURSIVE, RECURSIVE) == []
    new = json.loads(json.dumps(RECURSIVE))
    new["components"]["schemas"]["Node"]["properties"]["name"]["maxLength"] = 10
    findings = diff_documents(RECURSIVE, new)
    assert [f.rule for f in findings] == ["request-body-max-length-narrowed"]
    assert findings[0].new_pointer == "/components/schemas/Node/properties/name/maxLength"


def test_pointers_point_into_each_document_as_written() -> None:
    for variant in BREAKING + WARNINGS:
        old, new = Document(variant.old(), "old"), Document(variant.new(), "new")
        for finding in diff_documents(old.root, new.root):
            for doc, pointer in ((old, finding.old_pointer), (new, finding.new_pointer)):
                if pointer:
                    doc.lookup(pointer, "")  # raises if the pointer leads nowhere
            assert finding.message.endswith(".") and "\n" not in finding.message, finding


def test_a_changed_field_reached_through_a_ref_points_at_the_component() -> None:
    variant = next(v for v in BREAKING if v.id == "maximum-lowered")
    (finding,) = diff_documents(variant.old(), variant.new())
    pointer = "/components/schemas/LegacyBatchExecutionParams/properties/concurrency/anyOf/0/maximum"
    assert (finding.old_pointer, finding.new_pointer, finding.operation) == (pointer, pointer, OP)
    assert "`batch_spec_json.execution.concurrency`" in finding.message


def test_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = next(v for v in BREAKING if v.id == "api-key-header-renamed")
    files = pair(tmp_path, variant)
    code, out, _ = run([*files, "--format", "markdown"], capsys)
    assert code == 1
    assert out.startswith("### OpenAPI diff: breaks clients")
    assert f"#### `{OP}`" in out and "| level | change | old | new |" in out
    assert "`Meibel-API-Key`" in out and "`X-API-Key`" in out
    code, out, _ = run([*files, "--format", "json"], capsys)
    report = json.loads(out)
    assert report["counts"] == {"breaking": 1, "warning": 0, "info": 0}
    (finding,) = report["findings"]
    assert set(finding) == {"level", "operation", "old_pointer", "new_pointer", "message", "rule"}
    assert finding["new_pointer"] == "/components/securitySchemes/APIKeyHeader/name"
    code, out, _ = run([*files], capsys)
    assert out.splitlines()[2] == OP  # text: grouped under the operation


def test_the_contract_command_dispatches_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = next(v for v in BREAKING if v.id == "operation-removed")
    assert contract_main(["diff", *pair(tmp_path, variant)]) == 1
    assert OP in capsys.readouterr().out
    assert contract_main(["diff", str(BUNDLED), str(BUNDLED)]) == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["missing.json", str(BUNDLED)], "missing.json: no such file"),
        ([str(BUNDLED), "missing.yaml"], "missing.yaml: no such file"),
        ([str(BUNDLED)], "the following arguments are required: NEW"),
        ([str(BUNDLED), str(BUNDLED), "--fail-on", "info"], "argument --fail-on: invalid choice"),
        ([str(BUNDLED), str(BUNDLED), "--format", "html"], "argument --format: invalid choice"),
        (["git:HEAD", str(BUNDLED)], "expected git:REV:PATH"),
    ],
    ids=["missing-old", "missing-new", "one-side", "bad-fail-on", "bad-format", "bad-git-spec"],
)
def test_usage_errors_and_missing_files_exit_2_with_one_line(
    args: list[str],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.startswith("meibel-contract diff: error: ") and err.count("\n") == 1
    assert says in err


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("bad.json", "{", "not valid JSON"),
        ("bad.yaml", "a: [", "not valid YAML"),
        ("list.json", "[1]", "must be an object"),
        ("swagger.json", '{"swagger": "2.0", "paths": {}}', "only OpenAPI 3.0 and 3.1"),
        (
            "dangling.json",
            json.dumps(_minimal("3.1.0", {"$ref": "#/components/schemas/Gone"})),
            "points nowhere",
        ),
        (
            "missing-file.json",
            json.dumps(_minimal("3.1.0", {"$ref": "other.json#/X"})),
            "$ref 'other.json#/X' at /paths/~1things/post/responses/200/content/application~1json/schema/$ref: no such file",
        ),
        (
            "outside.json",
            json.dumps(_minimal("3.1.0", {"$ref": "../outside.json#/X"})),
            "leaves the document's folder",
        ),
        (
            "remote.json",
            json.dumps(_minimal("3.1.0", {"$ref": "https://example.com/x.json"})),
            "on the network",
        ),
        (
            "loop.json",
            json.dumps(
                _minimal(
                    "3.1.0", {"$ref": "#/paths/~1things/post/requestBody/content/application~1json/schema"}
                )
            ),
            "circular $ref",
        ),
        ("latin1.json", '{"openapi": "3.1.0", "x": "\xe9"}', "not UTF-8"),
    ],
    ids=[
        "json",
        "yaml",
        "list",
        "swagger-2",
        "dangling-ref",
        "missing-file",
        "outside-folder",
        "remote-ref",
        "ref-loop",
        "not-utf8",
    ],
)
def test_unreadable_documents_exit_2_with_one_line(
    name: str, text: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if name == "latin1.json" else text.encode())
    code, out, err = run([str(BUNDLED), str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err
    assert "Traceback" not in err


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=kit",
            "-c",
            "user.email=kit@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


def test_git_rev_path_reads_the_committed_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spec").mkdir()
    spec = tmp_path / "spec" / "api-v2.json"
    spec.write_text(BUNDLED.read_text(encoding="utf-8"), encoding="utf-8")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "spec/api-v2.json")
    _git(tmp_path, "commit", "-q", "-m", "the document")
    monkeypatch.chdir(tmp_path)
    assert run(["git:main:spec/api-v2.json", "spec/api-v2.json"], capsys)[0] == 0
    document = bundled()
    schemas(document)["BatchExecutionResponse"]["properties"].pop("status")
    spec.write_text(json.dumps(document), encoding="utf-8")
    code, out, _ = run(["git:main:spec/api-v2.json", "spec/api-v2.json"], capsys)
    assert code == 1 and "`status`" in out and "git:main:spec/api-v2.json" in out
    _git(tmp_path, "commit", "-q", "-am", "status removed")
    assert run(["git:HEAD~1:spec/api-v2.json", "git:HEAD:spec/api-v2.json"], capsys)[0] == 1
    assert run(["git:HEAD:spec/api-v2.json", "spec/api-v2.json"], capsys)[0] == 0
    code, out, err = run(["git:origin/main:spec/api-v2.json", "spec/api-v2.json"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "origin/main" in err
    code, _, err = run(["git:main:spec/missing.json", "spec/api-v2.json"], capsys)
    assert code == 2 and "missing.json" in err and err.count("\n") == 1


def test_assert_no_breaking_changes_is_a_pytest_failure() -> None:
    variant = next(v for v in BREAKING if v.id == "response-property-removed")
    with pytest.raises(BreakingChangeError) as caught:
        assert_no_breaking_changes(variant.old(), variant.new())
    assert isinstance(caught.value, AssertionError)
    assert "customer_id" in str(caught.value) and OP in str(caught.value)
    warning = next(v for v in WARNINGS if v.id == "response-enum-value-added")
    assert assert_no_breaking_changes(warning.old(), warning.new())  # warnings pass by default...
    with pytest.raises(BreakingChangeError):
        assert_no_breaking_changes(warning.old(), warning.new(), fail_on="warning")  # ...but not when asked


def test_a_user_test_with_the_helper_fails_on_a_breaking_change(pytester: pytest.Pytester) -> None:
    variant = next(v for v in BREAKING if v.id == "new-required-header")
    (pytester.path / "old.json").write_text(json.dumps(variant.old()))
    (pytester.path / "new.json").write_text(json.dumps(variant.new()))
    (pytester.path / "same.json").write_text(json.dumps(variant.old()))
    pytester.makepyfile(
        """
        from contract_tests.diff import assert_no_breaking_changes

        def test_breaks():
            assert_no_breaking_changes("old.json", "new.json")

        def test_same():
            assert_no_breaking_changes("old.json", "same.json")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*new required header `Idempotency-Key`*"])


def _op(**parts: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": {"description": "ok"}}}
    operation.update(parts)
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things/{id}": {"get": operation}},
    }


def _rules(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.level, f.rule) for f in diff_documents(old, new)]


JSON_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
HEADERED = {
    "description": "ok",
    "headers": {"X-Rate-Limit": {"required": True, "schema": {"type": "integer"}}},
}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            _op(),
            _op(requestBody={**JSON_BODY, "required": True}),
            [("breaking", "request-body-added-required")],
        ),
        (_op(), _op(requestBody=JSON_BODY), [("info", "request-body-added")]),
        (_op(requestBody=JSON_BODY), _op(), [("warning", "request-body-removed")]),
        (
            _op(requestBody=JSON_BODY),
            _op(requestBody={"content": {"application/*": {"schema": {}}}}),
            [("info", "request-body-type-widened")],
        ),
        (
            _op(responses={"200": HEADERED}),
            _op(responses={"200": {"description": "ok"}}),
            [("breaking", "response-header-removed")],
        ),
        (
            _op(responses={"200": {"description": "ok", **JSON_BODY}}),
            _op(responses={"200": {"description": "ok"}}),
            [("breaking", "response-body-removed")],
        ),
        (
            _op(),
            _op(responses={"200": {"description": "ok"}, "202": {"description": "later"}}),
            [("warning", "response-success-status-added")],
        ),
        (
            _op(parameters=[{"name": "q", "in": "query", "schema": {"type": "array"}}]),
            _op(
                parameters=[
                    {"name": "q", "in": "query", "style": "pipeDelimited", "schema": {"type": "array"}}
                ]
            ),
            [
                ("breaking", "request-parameter-explode-changed"),
                ("breaking", "request-parameter-style-changed"),
            ],
        ),
        (
            _op(parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]),
            {
                **_op(),
                "paths": {
                    "/things/{thing_id}": {
                        "get": {
                            "parameters": [
                                {
                                    "name": "thing_id",
                                    "in": "path",
                                    "required": True,
                                    "schema": {"type": "string"},
                                }
                            ],
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                },
            },
            [("info", "request-parameter-renamed")],
        ),
        (
            _op(),
            {
                **_op(security=[{"key": []}]),
                "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "K"}}},
            },
            [("breaking", "security-added")],
        ),
        (
            {**_op(), "servers": [{"url": "https://api.example.com/v2"}]},
            {**_op(), "servers": [{"url": "https://api.example.com/v3"}]},
            [("breaking", "server-base-path-changed")],
        ),
        (
            {**_op(), "servers": [{"url": "https://api.example.com/v2"}]},
            {**_op(), "servers": [{"url": "https://api2.example.com/v2"}]},
            [("warning", "server-url-changed")],
        ),
    ],
    ids=[
        "body-added-required",
        "body-added-optional",
        "body-removed",
        "media-range-accepts",
        "required-response-header-removed",
        "response-body-removed",
        "new-success-status",
        "parameter-style",
        "path-variable-renamed",
        "auth-now-required",
        "base-path-changed",
        "server-host-changed",
    ],
)
def test_operation_level_rules(
    old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _rules(old, new) == expected
