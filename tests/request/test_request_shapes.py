"""Request shapes the big public APIs use, each on a small document written for it: custom-method
paths (`{name}:cancel`), union-typed parameters, YAML, XML and text bodies, every JSON media type,
an encoded slash in a path parameter, and a required body that is not JSON left out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import Settings, create_app
from mock_server.cli import banner
from mock_server.contract import Contract, contract_from_dict
from tests.conftest import Client


def answer(kind: str) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"example": {"kind": kind}}}}}


NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
PET = {
    "type": "object",
    "required": ["name"],
    "xml": {"name": "pet"},
    "properties": {
        "id": {"type": "integer", "xml": {"attribute": True}},
        "name": {"type": "string", "maxLength": 10},
        "age": {"type": "integer", "minimum": 0},
        "tags": {
            "type": "array",
            "xml": {"wrapped": True},
            "items": {"type": "string", "xml": {"name": "tag"}},
        },
    },
    "additionalProperties": False,
}
EITHER = {"anyOf": [{"type": "integer", "minimum": 10}, {"type": "string", "pattern": "^[a-z]+$"}]}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "shapes", "version": "1"},
    "paths": {
        "/v2/{name}": {"parameters": [NAME], "get": {"responses": answer("get")}},
        "/v2/{name}:checkConsistency": {"parameters": [NAME], "post": {"responses": answer("check")}},
        "/v2/{name}:batchGet": {"parameters": [NAME], "get": {"responses": answer("batch")}},
        "/files/{name}": {"parameters": [NAME], "get": {"responses": answer("file")}},
        "/files/{stem}.{ext}": {
            "get": {
                "parameters": [
                    {"name": "stem", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "ext", "in": "path", "required": True, "schema": {"enum": ["gz", "txt"]}},
                ],
                "responses": answer("stem-ext"),
            }
        },
        "/search": {
            "get": {
                "parameters": [
                    {
                        "name": "location",
                        "in": "query",
                        "schema": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                    },
                    {"name": "either", "in": "query", "schema": EITHER},
                    {"name": "flag", "in": "query", "schema": {"type": ["integer", "boolean"]}},
                    {
                        "name": "X-Level",
                        "in": "header",
                        "schema": {"oneOf": [{"type": "integer"}, {"enum": ["max"]}]},
                    },
                ],
                "responses": answer("search"),
            }
        },
        "/pets": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        media: {"schema": {"$ref": "#/components/schemas/Pet"}}
                        for media in (
                            "application/json",
                            "text/json",
                            "application/merge-patch+json",
                            "application/yaml",
                            "application/xml",
                        )
                    },
                },
                "responses": answer("pet"),
            }
        },
        "/notes": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string", "maxLength": 10}}},
                },
                "responses": answer("note"),
            }
        },
        "/uploads": {
            "post": {
                "requestBody": {"required": True, "content": {"application/octet-stream": {}}},
                "responses": answer("upload"),
            }
        },
        "/messages": {
            "post": {
                "requestBody": {"content": {"application/x-protobuf": {"schema": {"type": "object"}}}},
                "responses": answer("message"),
            }
        },
        "/feeds": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/atom+xml": {
                            "schema": {"oneOf": [{"type": "object"}, {"type": "array"}]},
                        }
                    }
                },
                "responses": answer("feed"),
            }
        },
    },
    "components": {"schemas": {"Pet": PET}},
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return contract_from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def api(contract: Contract) -> Iterator[Client]:
    with Client(create_app(contract, settings=Settings(seed=3))) as client:
        yield client


def kind(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["kind"])


def test_a_custom_method_is_part_of_its_path_template(api: Client) -> None:
    assert kind(api.request("POST", "/v2/x:checkConsistency")) == "check"
    assert kind(api.request("GET", "/v2/x:batchGet")) == "batch"
    assert kind(api.request("GET", "/v2/x")) == "get"
    assert kind(api.request("GET", "/v2/x:other")) == "get"  # no such template: the whole segment
    wrong_method = api.request("GET", "/v2/x:checkConsistency")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert kind(api.request("GET", "/files/report.tar.gz")) == "stem-ext"
    assert kind(api.request("GET", "/files/report")) == "file"


def test_every_branch_of_a_union_is_tried_before_a_parameter_is_refused(api: Client) -> None:
    assert kind(api.request("GET", "/search?location=abc")) == "search"
    assert kind(api.request("GET", "/search?location=12")) == "search"
    assert kind(api.request("GET", "/search?either=15")) == "search"
    assert kind(api.request("GET", "/search?either=abc")) == "search"
    for refused in ("5", "ABC"):  # an integer under its minimum, a string off its pattern
        found = api.request("GET", f"/search?either={refused}")
        assert found.status_code == 422, found.text
        assert {tuple(e["loc"][:2]) for e in found.json()["detail"]} == {("query", "either")}
    assert kind(api.request("GET", "/search?flag=true")) == "search"
    assert kind(api.request("GET", "/search?flag=7")) == "search"
    assert api.request("GET", "/search?flag=maybe").status_code == 422
    assert kind(api.request("GET", "/search", headers={"X-Level": "max"})) == "search"
    assert kind(api.request("GET", "/search", headers={"X-Level": "3"})) == "search"
    assert api.request("GET", "/search", headers={"X-Level": "min"}).status_code == 422


def post(api: Client, path: str, body: bytes, media_type: str) -> Any:
    return api.request("POST", path, content=body, headers={"content-type": media_type})


@pytest.mark.parametrize("media_type", ["application/json", "text/json", "application/merge-patch+json"])
def test_any_json_media_type_is_json(api: Client, media_type: str) -> None:
    assert kind(post(api, "/pets", b'{"name": "rex", "age": 3}', media_type)) == "pet"
    wrong = post(api, "/pets", b'{"name": "rex", "age": "old"}', media_type)
    assert wrong.status_code == 422
    assert [e["loc"] for e in wrong.json()["detail"]] == [["body", "age"]]


def test_a_yaml_body_is_validated_against_its_schema(api: Client) -> None:
    assert kind(post(api, "/pets", b"name: rex\nage: 3\ntags: [a, b]\n", "application/yaml")) == "pet"
    wrong = post(api, "/pets", b"name: rex\nage: old\n", "application/yaml")
    assert wrong.status_code == 422 and [e["loc"] for e in wrong.json()["detail"]] == [["body", "age"]]
    missing = post(api, "/pets", b"age: 3\n", "application/yaml")
    assert missing.status_code == 422 and missing.json()["detail"][0]["type"] == "missing"
    unreadable = post(api, "/pets", b"name: [rex\n", "application/yaml")
    assert unreadable.status_code == 422 and "not valid YAML" in unreadable.json()["detail"][0]["msg"]
    # aliases expand exponentially in any walk: refused, however small the body
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\nname: rex\n"
    refused = post(api, "/pets", bomb, "application/yaml")
    assert refused.status_code == 422 and "aliases" in refused.json()["detail"][0]["msg"]


def test_an_xml_body_is_mapped_as_openapi_says_and_validated(api: Client) -> None:
    good = b'<pet id="7"><name>rex</name><age>3</age><tags><tag>a</tag><tag>b</tag></tags></pet>'
    assert kind(post(api, "/pets", good, "application/xml")) == "pet"
    wrong = post(api, "/pets", b'<pet id="x"><name>rex</name><age>old</age></pet>', "application/xml")
    assert wrong.status_code == 422
    assert [e["loc"] for e in wrong.json()["detail"]] == [["body", "id"], ["body", "age"]]
    extra = post(api, "/pets", b"<pet><name>rex</name><colour>red</colour></pet>", "application/xml")
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "colour"]
    missing = post(api, "/pets", b"<pet><age>3</age></pet>", "application/xml")
    assert missing.status_code == 422 and missing.json()["detail"][0]["type"] == "missing"
    broken = post(api, "/pets", b"<pet><name>rex</pet>", "application/xml")
    assert broken.status_code == 422 and "not well-formed XML" in broken.json()["detail"][0]["msg"]
    entity = b'<!DOCTYPE pet [<!ENTITY a "aaaaaaaaaa">]><pet><name>&a;</name></pet>'
    refused = post(api, "/pets", entity, "application/xml")
    assert refused.status_code == 422 and "DOCTYPE" in refused.json()["detail"][0]["msg"]


def test_a_text_body_is_validated_against_its_schema(api: Client) -> None:
    assert kind(post(api, "/notes", b"short", "text/plain")) == "note"
    assert post(api, "/notes", b"far too long a note", "text/plain").status_code == 422
    # sent empty, as text/plain: the empty string (valid here), not a body left out
    assert kind(post(api, "/notes", b"", "text/plain")) == "note"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/pets", "application/yaml"), ("/notes", "text/plain"), ("/uploads", "application/octet-stream")],
)
def test_a_required_body_left_out_is_refused_whatever_its_media_type(
    api: Client, path: str, media_type: str
) -> None:
    missing = api.request("POST", path)
    assert missing.status_code == 422
    assert missing.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]
    assert kind(post(api, "/uploads", b"\x00\x01", "application/octet-stream")) == "upload"


def test_bodies_that_cannot_be_checked_are_named_at_start_up(contract: Contract) -> None:
    app = create_app(contract, settings=Settings())
    unchecked = app.state.engine.unchecked
    assert unchecked == [
        "POST /messages (application/x-protobuf: a media type the mock does not read)",
        "POST /feeds (application/atom+xml: oneOf)",
    ]
    text = banner(contract, Settings(), "127.0.0.1", 8000, unchecked=unchecked)
    lines = [line for line in text.splitlines() if "Unchecked" in line]
    assert lines == [
        "  Unchecked: request bodies read but not checked against their schema: "
        "POST /messages (application/x-protobuf: a media type the mock does not read); "
        "POST /feeds (application/atom+xml: oneOf)"
    ]
    # well-formedness still is
    with Client(app) as client:
        assert kind(post(client, "/feeds", b"<feed/>", "application/atom+xml")) == "feed"
        assert post(client, "/feeds", b"<feed>", "application/atom+xml").status_code == 422


def test_schemathesis_finds_every_answer_as_the_document_says(contract: Contract) -> None:
    # As the contract suite drives it: from the mock's own /openapi.json, in process; Schemathesis's
    # own checks (the kit's are about the bundled document).
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks

    builtin = [
        not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
        checks.positive_data_acceptance,
        checks.negative_data_rejection,
        checks.allow_header_conformance,
    ]

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(contract, settings=Settings(seed=5)))
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/feeds", "/messages"):
            continue  # (Schemathesis writes a top-level array as several XML roots; protobuf as JSON)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(checks=builtin)  # raises what it finds (POST …:checkConsistency got 405)

        check()


def test_an_xml_schema_that_is_all_of_itself_is_read_at_start_up() -> None:
    node = {
        "allOf": [{"$ref": "#/components/schemas/Node"}, {"description": "a node"}],
        "type": "object",
        "properties": {"n": {"type": "integer"}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/nodes": {
                "post": {
                    "requestBody": {
                        "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Node"}}}
                    },
                    "responses": answer("node"),
                }
            }
        },
        "components": {"schemas": {"Node": node}},
    }
    with Client(create_app(contract_from_dict(document), settings=Settings())) as client:
        assert kind(post(client, "/nodes", b"<Node><n>1</n></Node>", "application/xml")) == "node"
