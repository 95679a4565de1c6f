"""Documents as people write them: lenient YAML, warnings, broken documents, several files."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.cli import main
from mock_server.document import loader as loader_module
from mock_server.document.path_table import PathTable
from mock_server.engine import Engine
from mock_server.errors import ContractError
from mock_server.schema.validation import SchemaCompiler
from tests.conftest import Client

DOCUMENTS = Path(__file__).resolve().parents[1] / "documents"
MULTI = DOCUMENTS / "multi" / "openapi.yaml"
# Put in every broken document: an error line must never echo the document back.
MARKER = "do-not-echo-7f3a"


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "description": MARKER},
        "paths": {},
        **extra,
    }


def op(**fields: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok"}}, **fields}


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document)


# (id, file name, text, what the one line must say: the pointer, or the line and column)
BROKEN: list[tuple[str, str, str, list[str]]] = [
    ("bad-json", "a.json", '{"openapi": "3.1.0",\n  "info": {,}}', ["not valid JSON", "line 2, column 12"]),
    (
        "bad-yaml",
        "a.yaml",
        f"openapi: 3.1.0\ninfo:\n  title: [{MARKER}\n",
        ["not valid YAML", "(line 4, column 1)"],
    ),
    ("tab-yaml", "a.yaml", "openapi: 3.1.0\npaths:\n\t/a: {}\n", ["not valid YAML", "line 3, column 1"]),
    ("empty", "a.yaml", "", ["must be an object"]),
    ("not-object", "a.json", "[1, 2]", ["must be an object"]),
    (
        "swagger-2",
        "a.json",
        as_json({"swagger": "2.0", "info": {"description": MARKER}}),
        ["at /swagger:", "Swagger 2.0"],
    ),
    ("openapi-4", "a.json", as_json({**minimal(), "openapi": "4.0.0"}), ["at /openapi:", "'4.0.0'"]),
    (
        "missing-ref",
        "a.json",
        as_json(
            minimal(paths={"/a": {"get": op(responses={"200": {"$ref": "#/components/responses/Gone"}})}})
        ),
        ["at /paths/~1a/get/responses/200/$ref:", "'#/components/responses/Gone' points nowhere"],
    ),
    (
        "ref-cycle",
        "a.json",
        as_json(
            minimal(
                paths={
                    "/a": {
                        "get": op(
                            requestBody={
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/A"}}
                                }
                            }
                        )
                    }
                },
                components={
                    "schemas": {
                        "A": {"$ref": "#/components/schemas/B"},
                        "B": {"$ref": "#/components/schemas/A"},
                    }
                },
            )
        ),
        [
            "at /components/schemas/A/$ref:",
            "$ref cycle: #/components/schemas/A -> #/components/schemas/B -> #/components/schemas/A",
        ],
    ),
    (
        "self-ref",
        "a.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Loop: {$ref: '#/components/schemas/Loop'}\n",
        [
            "$ref cycle: #/components/schemas/Loop -> #/components/schemas/Loop",
            "at /components/schemas/Loop/$ref",
        ],
    ),
    (
        "parameters-not-list",
        "a.json",
        as_json(minimal(paths={"/a": {"get": op(parameters={"name": "x"})}})),
        ["at /paths/~1a/get/parameters:", "must be a list"],
    ),
    (
        "parameter-without-name",
        "a.json",
        as_json(minimal(paths={"/a": {"get": op(parameters=[{"in": "query", "schema": {}}])}})),
        ["at /paths/~1a/get/parameters/0:", "needs a name"],
    ),
    (
        "parameter-bad-in",
        "a.json",
        as_json(minimal(paths={"/a": {"get": op(parameters=[{"name": "x", "in": "body"}])}})),
        ["at /paths/~1a/get/parameters/0:", "'in' must be one of"],
    ),
    (
        "responses-list",
        "a.json",
        as_json(minimal(paths={"/a": {"get": {"responses": [200]}}})),
        ["at /paths/~1a/get/responses:", "must be an object, not a list"],
    ),
    (
        "path-without-slash",
        "a.json",
        as_json(minimal(paths={"pets": {}})),
        ["at /paths/pets:", "must begin with '/'"],
    ),
    (
        "unknown-security-scheme",
        "a.json",
        as_json(minimal(paths={"/a": {"get": op(security=[{"nope": []}])}})),
        ["at /paths/~1a/get/security/0:", "unknown security scheme 'nope'"],
    ),
    (
        "schema-not-object",
        "a.json",
        as_json(
            minimal(paths={"/a": {"get": op(parameters=[{"name": "x", "in": "query", "schema": "string"}])}})
        ),
        ["at /paths/~1a/get/parameters/0/schema:", "a schema must be an object, not a string"],
    ),
    (
        "network-ref",
        "a.json",
        as_json(minimal(components={"schemas": {"A": {"$ref": "https://example.invalid/s.json"}}})),
        ["at /components/schemas/A/$ref:", "on the network"],
    ),
    (
        "ref-outside-folder",
        "a.json",
        as_json(minimal(components={"schemas": {"A": {"$ref": "../outside/shared.yaml#/Name"}}})),
        ["at /components/schemas/A/$ref:", "leaves the document's folder", "--allow-external-refs"],
    ),
    (
        "ref-to-missing-file",
        "a.json",
        as_json(minimal(components={"schemas": {"A": {"$ref": "gone.yaml#/A"}}})),
        ["$ref 'gone.yaml#/A' at /components/schemas/A/$ref", "no such file"],
    ),
    (
        "yaml-alias-bomb",
        "a.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
        ),
        ["aliases expand to more than"],
    ),
    ("deep-json", "a.json", "[" * 100_000 + "]" * 100_000, ["not valid JSON: nested too deeply"]),
    (
        "deep-schema",
        "a.json",
        '{"openapi": "3.1.0", "components": {"schemas": {"A": '
        + '{"items": ' * 200
        + "{}"
        + "}" * 200
        + "}}}",
        ["at /components/schemas/A/items/items/", "nested deeper than 150 levels"],
    ),
    (
        "unknown-schema-identifier",
        "a.json",
        as_json(
            minimal(
                paths={
                    "/a": {
                        "post": op(
                            requestBody={
                                "content": {"application/json": {"schema": {"$ref": "urn:example:pet"}}}
                            }
                        )
                    }
                }
            )
        ),
        ["at /paths/~1a/post/requestBody:", "schema cannot be compiled", "urn:example:pet", "not fetched"],
    ),
    (
        "api-key-without-name",
        "a.json",
        as_json(minimal(components={"securitySchemes": {"k": {"type": "apiKey", "in": "header"}}})),
        ["at /components/securitySchemes/k:", "needs 'in'"],
    ),
]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exited:
        code = int(exited.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "text", "expected"), [(b[1], b[2], b[3]) for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_document_is_one_line_with_its_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, expected: list[str]
) -> None:
    folder = tmp_path / "doc"
    folder.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "shared.yaml").write_text("Name: {type: string}\n")
    spec = folder / name
    spec.write_text(text)
    code, err = run_cli(["--spec", str(spec), "--port", "0"], capsys)
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("meibel-mock: error: "), err
    for part in expected:
        assert part in err
    assert "Traceback" not in err
    assert MARKER not in err
    assert len(err) < 400


def test_the_corpus_has_ten_kinds_at_least() -> None:
    assert len({b[0] for b in BROKEN}) >= 10


def test_the_installed_script_refuses_a_cycle_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "cycle.json"
    spec.write_text(next(b[2] for b in BROKEN if b[0] == "ref-cycle"))
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "--spec", str(spec), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "#/components/schemas/A -> #/components/schemas/B -> #/components/schemas/A" in done.stderr


# --- YAML as people write it -------------------------------------------------------------------

LENIENT_YAML = """\
openapi: 3.0.3
info: {title: Lenient, version: 1.0}
paths:
  /things/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: one thing
          content:
            application/json:
              schema:
                type: object
                required: [id, since]
                properties:
                  id: {type: integer}
                  since: {type: string, format: date, example: 2020-01-01, default: 2021-02-03T04:05:06Z}
              example: {id: 1, since: 2020-01-01}
        2XX:
          description: other successes
        404:
          description: not found
        default:
          description: anything else
"""


def test_integer_status_keys_and_dates_load_as_written(tmp_path: Path) -> None:
    spec = tmp_path / "lenient.yaml"
    spec.write_text(LENIENT_YAML)
    contract = load_contract(spec)
    operation = contract.find("get", "/things/{id}")
    assert list(operation.responses) == ["200", "2XX", "404", "default"]
    schema = operation.responses["200"].schema
    assert schema is not None
    since = schema["properties"]["since"]
    assert since["example"] == "2020-01-01"
    assert since["default"] == "2021-02-03T04:05:06Z"
    assert contract.warnings == ()
    client = Client(create_app(contract, settings=Settings(seed=1)))
    try:
        answer = client.request("GET", "/things/3")
        assert answer.status_code == 200
        assert isinstance(answer.json()["since"], str)
        served = client.request("GET", "/openapi.json").json()
        assert served["paths"]["/things/{id}"]["get"]["responses"]["200"]["content"]["application/json"][
            "example"
        ] == {"id": 1, "since": "2020-01-01"}
    finally:
        client.close()


SLOPPY = {
    "openapi": "3.0",
    "paths": {
        "/a": {
            "get": {
                "parameters": [
                    {"name": "q", "in": "query"},
                    {"name": "id", "in": "path", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"content": {"application/json": {"schema": {"type": "string"}}}}},
            },
            "post": {"responses": {}, "requestBody": {"description": "no content"}},
        }
    },
}


def test_problems_that_do_not_stop_serving_are_one_warning_each(tmp_path: Path) -> None:
    spec = tmp_path / "sloppy.json"
    spec.write_text(json.dumps(SLOPPY))
    contract = load_contract(spec)
    assert [(w.pointer, w.message) for w in contract.warnings] == [
        ("/openapi", "openapi '3.0' has no patch number; read as 3.0.x"),
        ("/info", "no info object (title and version); served without one"),
        ("/paths/~1a/get/parameters/0", "parameter 'q' has no schema; any value is accepted"),
        ("/paths/~1a/get/parameters/1", "path parameter 'id' is not in the path; ignored"),
        ("/paths/~1a/get/responses/200", "a response without description"),
        ("/paths/~1a/post/requestBody", "a request body without content; any body is accepted"),
        ("/paths/~1a/post/responses", "no responses; answers 200 with no body"),
    ]
    assert (
        contract.warning_lines()[0] == f"{spec} at /openapi: openapi '3.0' has no patch number; read as 3.0.x"
    )
    client = Client(create_app(contract, settings=Settings(seed=1)))
    try:
        assert client.request("GET", "/a?q=anything").status_code == 200
        assert client.request("POST", "/a").status_code == 200
    finally:
        client.close()


def test_strict_refuses_what_would_only_be_warned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "sloppy.json"
    spec.write_text(json.dumps(SLOPPY))
    with pytest.raises(ContractError, match=r"and 6 more\) \(refused under --strict\)"):
        load_contract(spec, strict=True)
    code, err = run_cli(["--spec", str(spec), "--strict"], capsys)
    assert code == 2
    assert err == (
        f"meibel-mock: error: {spec} at /openapi: openapi '3.0' has no patch number; read as 3.0.x "
        "(and 6 more) (refused under --strict)\n"
    )


def test_warnings_are_printed_once_each_by_every_command_that_reads_a_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "sloppy.json"
    spec.write_text(json.dumps(SLOPPY))
    # fixtures then refuses (no createExecution operation): the warnings came first, one line each.
    code, err = run_cli(["fixtures", "--spec", str(spec), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    lines = err.splitlines()
    assert [line.split(" at ")[1].split(":")[0] for line in lines[:-1]] == [
        "/openapi",
        "/info",
        "/paths/~1a/get/parameters/0",
        "/paths/~1a/get/parameters/1",
        "/paths/~1a/get/responses/200",
        "/paths/~1a/post/requestBody",
        "/paths/~1a/post/responses",
    ]
    assert all(line.startswith("meibel-mock: warning: ") for line in lines[:-1])
    assert lines[-1].startswith("meibel-mock: error: ")


def test_openapi_3_2_is_served_with_its_query_method(tmp_path: Path) -> None:
    document = {
        "openapi": "3.2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/search": {"query": {"responses": {"200": {"description": "ok"}}}}},
    }
    spec = tmp_path / "v32.json"
    spec.write_text(json.dumps(document))
    contract = load_contract(spec, strict=True)
    assert [(o.method, o.path) for o in contract.operations] == [("query", "/search")]


def test_a_ref_inside_example_data_is_data(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "example": {"$ref": "#/not/a/reference"},
        "properties": {"example": {"$ref": "#/components/schemas/S"}},
    }
    document = minimal(components={"schemas": {"S": {"type": "string"}, "T": schema}})
    spec = tmp_path / "data.json"
    spec.write_text(json.dumps(document))
    load_contract(spec)  # no error: the example is data, but the property named "example" is checked
    document["components"]["schemas"]["T"]["properties"]["example"]["$ref"] = "#/components/schemas/Gone"
    spec.write_text(json.dumps(document))
    with pytest.raises(ContractError, match=re.escape("at /components/schemas/T/properties/example/$ref")):
        load_contract(spec)


# --- several files -----------------------------------------------------------------------------


def test_references_to_other_files_are_followed_and_bundled() -> None:
    contract = load_contract(MULTI)
    assert sorted((o.method, o.path) for o in contract.operations) == [
        ("get", "/pets"),
        ("get", "/pets/{pet_id}"),
        ("post", "/pets"),
    ]
    assert [Path(f).name for f in contract.files] == [
        "openapi.yaml",
        "pet.yaml",
        "common.json",
        "pets.yaml",
        "ids.json",
    ]
    bundled = contract.document["x-referenced-files"]
    assert sorted(bundled) == ["common.json", "paths/pets.yaml", "schemas/ids.json", "schemas/pet.yaml"]
    # Every reference is local now: the document is served whole, as one file.
    text = json.dumps(contract.document)
    assert '"$ref": "#/x-referenced-files/schemas~1pet.yaml/NewPet"' in text
    assert ".yaml#" not in text
    assert bundled["schemas/pet.yaml"]["NewPet"]["properties"]["born"]["example"] == "2020-01-01"


def test_a_bundled_document_validates_and_answers() -> None:
    client = Client(create_app(load_contract(MULTI), settings=Settings(seed=2)))
    try:
        bad = client.request("POST", "/v1/pets", json={"name": "", "born": "2020-01-01", "tag": "bird"})
        # Refused in the document's own shape: its `default` response (a Problem with a message).
        assert bad.status_code == 422
        assert isinstance(bad.json()["message"], str)
        good = client.request("POST", "/v1/pets", json={"name": "Rex", "born": "2020-01-01", "tag": "dog"})
        assert good.status_code == 201
        assert isinstance(good.json()["id"], int) and good.json()["id"] >= 1
        assert client.request("GET", "/v1/pets?limit=51").status_code == 422
        assert client.request("GET", "/v1/pets/0").status_code == 422  # ids.json: minimum 1
        assert client.request("GET", "/v1/pets/7").status_code == 200
    finally:
        client.close()


def test_a_folder_outside_is_read_only_when_allowed(tmp_path: Path) -> None:
    spec = tmp_path / "doc" / "api.json"
    spec.parent.mkdir()
    outside = DOCUMENTS / "outside"
    ref = Path(os.path.relpath(outside, spec.parent)) / "shared.yaml"
    spec.write_text(json.dumps(minimal(components={"schemas": {"A": {"$ref": f"{ref.as_posix()}#/Name"}}})))
    with pytest.raises(ContractError, match="leaves the document's folder"):
        load_contract(spec)
    contract = load_contract(spec, allow_external_refs=[outside])
    assert contract.files[-1] == str(outside / "shared.yaml")


def test_the_number_and_size_of_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "MAX_FILES", 2)
    with pytest.raises(ContractError, match="more than 2 files referenced"):
        load_contract(MULTI)
    monkeypatch.setattr(loader_module, "MAX_FILES", 500)
    monkeypatch.setattr(loader_module, "MAX_TOTAL_BYTES", MULTI.stat().st_size + 300)
    with pytest.raises(ContractError, match="MiB a document may total"):
        load_contract(MULTI)


# --- shared compilation, routing ---------------------------------------------------------------


def test_identical_schemas_share_one_validator_and_components_are_not_copied() -> None:
    root = {
        "components": {
            "schemas": {
                "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
            }
        }
    }
    compiler = SchemaCompiler(root)
    first = compiler.validator({"$ref": "#/components/schemas/Pet"})
    assert compiler.validator({"$ref": "#/components/schemas/Pet"}) is first
    assert first.is_valid({"name": "Rex"})
    assert not first.is_valid({"name": 1})
    assert first.errors({}, ("body",))[0]["type"] == "missing"


def test_many_operations_over_big_components_stay_small(tmp_path: Path) -> None:
    # Box-sized: 300 operations over ~430 KiB of components. Copying the components into every
    # validator took this to 2.1 GiB; the bound is generous for a shared machine.
    probe = (
        "import json, sys\n"
        "from bench.large_document import build\n"
        "from mock_server.contract import load_contract\n"
        "from mock_server.engine import Engine\n"
        "from mock_server.settings import Settings\n"
        "path = sys.argv[1]\n"
        "open(path, 'w').write(json.dumps(build(150, 260, 1150)))\n"
        "with open('/proc/self/status') as f:\n"
        "    before = next(int(l.split()[1]) for l in f if l.startswith('VmRSS:'))\n"
        "contract = load_contract(path)\n"
        "Engine(contract, Settings())\n"
        "with open('/proc/self/status') as f:\n"
        "    after = next(int(l.split()[1]) for l in f if l.startswith('VmRSS:'))\n"
        "print(len(contract.operations), (after - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "shared.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    operations, growth_mib = map(int, done.stdout.split())
    assert operations == 300
    assert growth_mib < 200, f"loading grew RSS by {growth_mib} MiB"


def test_generation_checks_share_the_documents_compiled_components(tmp_path: Path) -> None:
    # Box's answers: the same oneOf/allOf wrappers over ~430 KiB of components in many operations,
    # each generated, then checked. Each check compiled with its own copy of every component took
    # Box to 1 GiB under Schemathesis (bench/real_contract.py); now identical checks share one
    # validator, compiled against the document's one registry.
    wide = {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Thing"}}}
    checked = {"oneOf": [wide, {"type": "object", "required": ["b"]}]}
    thing = {"type": "object", "properties": {"id": {"type": "string"}}}
    answer = {"200": {"description": "OK", "content": {"application/json": {"schema": checked}}}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Shared", "version": "1"},
        "paths": {f"/things{i}": {"get": {"responses": copy.deepcopy(answer)}} for i in range(5)},
        "components": {"schemas": {"Thing": thing}},
    }
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(document))
    contract = load_contract(path)
    generator = Engine(contract, Settings()).generator
    assert generator.compiler is contract.compiler
    for op in contract.operations:
        schema = op.raw["responses"]["200"]["content"]["application/json"]["schema"]
        value = generator.instance(schema, random.Random(0))
        assert isinstance(value, dict)
    assert len(contract.compiler._checkers) == 1


def test_path_table_prefers_concrete_paths_then_fewer_variables() -> None:
    table: PathTable[str] = PathTable()
    for template in ["/a/{x}/{y}", "/a/{x}/c", "/a/b/c", "/{any}/b/c", "/files/{name}.{ext}", "/a/{x}"]:
        table.add(template, template)
    assert table.match("/a/b/c") == ("/a/b/c", {})
    assert table.match("/a/z/c") == ("/a/{x}/c", {"x": "z"})
    assert table.match("/a/z/q") == ("/a/{x}/{y}", {"x": "z", "y": "q"})
    assert table.match("/q/b/c") == ("/{any}/b/c", {"any": "q"})
    assert table.match("/files/report.tar.gz") == ("/files/{name}.{ext}", {"name": "report.tar", "ext": "gz"})
    assert table.match("/a/z/") is None  # an empty segment fills no variable
    assert table.match("/files/report") is None  # the mixed segment's pattern must fit
    assert table.match("/a/z/c/d") is None
    assert table.match("/b") is None


def test_a_ref_standing_for_a_properties_map_is_inlined_with_a_warning(tmp_path: Path) -> None:
    # As DigitalOcean's files write it: `properties: {$ref: 'attributes.yml#/ids'}`.
    (tmp_path / "attributes.yml").write_text("ids:\n  droplet_ids: {type: array, items: {type: integer}}\n")
    body = {"type": "object", "required": ["droplet_ids"], "properties": {"$ref": "attributes.yml#/ids"}}
    document = minimal(
        paths={"/lb": {"post": op(requestBody={"content": {"application/json": {"schema": body}}})}}
    )
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(document))
    contract = load_contract(spec)
    assert [(w.pointer, w.message) for w in contract.warnings] == [
        (
            "/paths/~1lb/post/requestBody/content/application~1json/schema/properties",
            "a $ref in place of the properties map; its target inlined",
        )
    ]
    validator = contract.find("post", "/lb").body.validator  # type: ignore[union-attr]
    assert validator is not None
    assert validator.is_valid({"droplet_ids": [1, 2]})
    assert validator.errors({"droplet_ids": ["x"]}, ("body",))[0]["loc"] == ["body", "droplet_ids", 0]


def test_a_referenced_file_must_be_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would wait for a writer forever
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(minimal(components={"schemas": {"A": {"$ref": "pipe.yaml#/A"}}})))
    with pytest.raises(
        ContractError, match=re.escape("pipe.yaml#/A' at /components/schemas/A/$ref: not a regular file")
    ):
        load_contract(spec)


def test_a_content_entry_that_is_not_a_media_type_is_ignored_with_a_warning(tmp_path: Path) -> None:
    # A `description` written one level too deep, as in some of Prism's own test documents.
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.0.2\npaths:\n  /pets/100% {id}:\n    get:\n      parameters:\n"
        "        - {in: path, name: id, required: true, schema: {type: number}}\n"
        "      responses:\n        200:\n          content:\n            description: ok\n"
        "            application/json:\n              schema: {type: string, enum: [ok]}\n"
    )
    contract = load_contract(spec)
    assert [(w.pointer, w.message) for w in contract.warnings][1:] == [
        ("/paths/~1pets~1100% {id}/get/responses/200", "a response without description"),
        (
            "/paths/~1pets~1100% {id}/get/responses/200/content/description",
            "'description' in content is not a media type object; ignored",
        ),
    ]
    client = Client(create_app(contract, settings=Settings(seed=1)))
    try:
        answer = client.request("GET", "/pets/100%25%207")
        assert (answer.status_code, answer.json()) == (200, "ok")
    finally:
        client.close()


def test_path_table_ties_go_to_the_document_order() -> None:
    table: PathTable[str] = PathTable()
    for template in ["/a/{x}/c", "/a/b/{y}"]:
        table.add(template, template)
    assert table.match("/a/b/c") == ("/a/{x}/c", {"x": "b"})
    reverse: PathTable[str] = PathTable()
    for template in ["/a/b/{y}", "/a/{x}/c"]:
        reverse.add(template, template)
    assert reverse.match("/a/b/c") == ("/a/b/{y}", {"y": "c"})


def test_a_shared_response_named_with_percent_encoding_is_checked_and_served(tmp_path: Path) -> None:
    document = minimal(
        paths={"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Just%20OK"}}}}},
        components={
            "responses": {
                "Just OK": {
                    "description": "ok",
                    "content": {"description": "misplaced", "application/json": {}},
                }
            }
        },
    )
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(document))
    contract = load_contract(spec)
    assert [w.pointer for w in contract.warnings] == ["/components/responses/Just OK/content/description"]
    assert list(contract.find("get", "/a").responses) == ["200"]


@pytest.mark.parametrize(
    ("args", "prog"),
    [
        (["fixtures", "--out", "OUT"], "meibel-mock"),
        (["proxy", "--upstream", "http://127.0.0.1:9", "--port", "0"], "meibel-mock proxy"),
    ],
    ids=["fixtures", "proxy"],
)
def test_every_command_that_reads_a_document_takes_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], prog: str
) -> None:
    spec = tmp_path / "sloppy.json"
    spec.write_text(json.dumps(SLOPPY))
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    code, err = run_cli([*argv, "--spec", str(spec), "--strict"], capsys)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"{prog}: error: {spec} at /openapi: ")
    assert err.endswith("(and 6 more) (refused under --strict)\n")


def test_a_repeated_yaml_key_is_warned_but_a_merge_override_is_not(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("Name:\n  type: string\n  type: integer\n")
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n"
        "    Base: &base {type: object, description: base}\n"
        "    Derived: {<<: *base, description: derived}\n"
        "    Other: {$ref: 'other.yaml#/Name'}\n"
        "    Twice: {type: string}\n"
        "    Twice: {type: number}\n"
    )
    contract = load_contract(spec)
    assert contract.warning_lines() == [
        f"{spec} at /: line 10: key 'Twice' is repeated; the last one is used",
        f"{spec} at /: other.yaml, line 3: key 'type' is repeated; the last one is used",
    ]
    schemas = contract.document["components"]["schemas"]
    assert schemas["Derived"] == {"type": "object", "description": "derived"}
    assert schemas["Twice"] == {"type": "number"}


def test_a_repeated_json_key_is_warned(tmp_path: Path) -> None:
    spec = tmp_path / "api.json"
    spec.write_text('{"openapi": "3.1.0", "info": {"title": "a", "title": "b", "version": "1"}, "paths": {}}')
    contract = load_contract(spec)
    assert contract.warning_lines() == [f"{spec} at /: an object repeats key 'title'; the last one is used"]
    assert contract.title == "b"
