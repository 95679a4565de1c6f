"""Operations without the domain layer answer in the document's own shapes: its errors, its
statuses, its examples and its media types (issue 12 items 2-4, issue 15 item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import Settings, create_app
from mock_server.contract import contract_from_dict
from mock_server.request.negotiation import choose
from tests.conftest import Client

ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
}
PET = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


def _doc(paths: dict[str, Any], security: list[Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR, "Pet": PET},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        },
    }
    if security is not None:
        doc["security"] = security
    return doc


def _json(schema: Any, **extra: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema, **extra}}


ERR_REF = {"$ref": "#/components/schemas/Error"}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32", "maximum": 100}}

DOC = _doc(
    {
        "/pets": {
            "get": {
                "parameters": [LIMIT],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": _json({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}),
                    },
                    "default": {
                        "description": "error",
                        "content": _json(ERR_REF, example={"code": 7, "message": "bad"}),
                    },
                },
            },
            "post": {
                "security": [{"key": []}],
                "requestBody": {"required": True, "content": _json({"$ref": "#/components/schemas/Pet"})},
                "responses": {
                    "201": {"description": "made", "content": _json({"$ref": "#/components/schemas/Pet"})},
                    "200": {"description": "same", "content": _json({"$ref": "#/components/schemas/Pet"})},
                    "400": {"description": "bad", "content": _json(ERR_REF)},
                    "401": {
                        "description": "who",
                        "content": _json(ERR_REF, example={"code": 401, "message": "key"}),
                    },
                    "4XX": {"description": "other", "content": _json(ERR_REF)},
                },
            },
        },
        "/only-errors": {
            "get": {
                "parameters": [LIMIT],
                "responses": {"404": {"description": "never there", "content": _json(ERR_REF)}},
            }
        },
        "/plain": {
            "get": {"parameters": [LIMIT], "responses": {"200": {"description": "no errors declared"}}}
        },
        "/examples": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Pet"},
                                "examples": {
                                    "rex": {"value": {"id": 1, "name": "rex"}},
                                    "tom": {"value": {"id": 2, "name": "tom"}},
                                },
                            },
                            "application/vnd.pets+json": {
                                "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                                "example": {"n": 1},
                            },
                            "application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}},
                            "text/plain": {"schema": {"type": "string", "example": "a pet"}},
                            "text/html": {"example": "<p>pet</p>"},
                        },
                    }
                }
            }
        },
        "/schema-example": {
            "get": {
                "responses": {
                    "200": {"description": "ok", "content": _json({"type": "string", "default": "fallback"})}
                }
            }
        },
    }
)


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    client = Client(create_app(contract_from_dict(DOC), settings=Settings(seed=1, api_keys=("k1",))))
    yield client
    client.close()


def test_invalid_request_gets_the_documented_default_with_its_example(api: Client) -> None:
    answer = api.request("GET", "/pets?limit=1000")
    assert answer.status_code == 422
    assert answer.json() == {"code": 7, "message": "bad"}


def test_int32_bounds_are_enforced_on_parameters(api: Client) -> None:
    assert api.request("GET", "/pets?limit=2147483648").status_code == 422
    assert api.request("GET", "/plain?limit=-2147483649").status_code == 422
    assert api.request("GET", "/plain?limit=-5").status_code == 200


def test_invalid_body_gets_the_documented_400_generated_from_its_schema(api: Client) -> None:
    answer = api.post("/pets", json={"id": "x"}, headers={"X-Key": "k1"})
    assert answer.status_code == 400
    assert set(answer.json()) == {"code", "message"}


def test_missing_and_unknown_keys_get_the_documented_401(api: Client) -> None:
    for headers in ({}, {"X-Key": "nope"}):
        answer = api.post("/pets", json={"id": 1, "name": "a"}, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"code": 401, "message": "key"}


def test_without_documented_errors_the_kit_shapes_apply(api: Client) -> None:
    answer = api.request("GET", "/plain?limit=x")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "int_parsing"


def test_prefer_code_picks_any_documented_code_and_ranges(api: Client) -> None:
    made = api.post("/pets", json={"id": 1, "name": "a"}, headers={"X-Key": "k1", "Prefer": "code=201"})
    assert made.status_code == 201
    plain = api.post("/pets", json={"id": 1, "name": "a"}, headers={"X-Key": "k1"})
    assert plain.status_code == 200  # the lowest documented 2xx
    ranged = api.post("/pets", json={"id": 1, "name": "a"}, headers={"X-Key": "k1", "Prefer": "code=404"})
    assert ranged.status_code == 404 and set(ranged.json()) == {"code", "message"}
    default = api.request("GET", "/pets", headers={"Prefer": "code=503"})
    assert default.status_code == 503 and default.json() == {"code": 7, "message": "bad"}
    assert api.request("GET", "/pets", headers={"Prefer": "code=999"}).status_code == 404  # not HTTP
    refused = api.request("GET", "/plain", headers={"Prefer": "code=500"})
    assert refused.status_code == 404 and "documented: 200" in refused.json()["detail"]
    # Prism's query spellings, for clients written against it
    assert api.request("GET", "/pets?__code=503").status_code == 503
    assert api.request("GET", "/examples?__example=tom").json() == {"id": 2, "name": "tom"}


def test_no_undocumented_200_for_an_operation_with_only_errors(api: Client) -> None:
    assert api.request("GET", "/only-errors").status_code == 404


def test_examples_first_then_named_then_dynamic(api: Client) -> None:
    assert api.request("GET", "/examples").json() == {"id": 1, "name": "rex"}
    tom = api.request("GET", "/examples", headers={"Prefer": "example=tom"})
    assert tom.json() == {"id": 2, "name": "tom"}
    dynamic = api.request("GET", "/examples", headers={"Prefer": "dynamic=true"}).json()
    assert set(dynamic) == {"id", "name"} and dynamic not in (
        {"id": 1, "name": "rex"},
        {"id": 2, "name": "tom"},
    )
    assert api.request("GET", "/schema-example").json() == "fallback"


@pytest.mark.parametrize(
    ("accept", "content_type", "body"),
    [
        ("application/vnd.pets+json", "application/vnd.pets+json", b'{"n":1}'),
        ("text/plain", "text/plain", b"a pet"),
        ("text/html, application/json;q=0.5", "text/html", b"<p>pet</p>"),
        ("application/json;q=0, text/*;q=0.2, text/html;q=0.1", "text/plain", b"a pet"),
        ("*/*", "application/json", b'{"id":1,"name":"rex"}'),
    ],
    ids=["vendor-json", "text", "q-values", "q0-and-specificity", "wildcard"],
)
def test_content_negotiation(api: Client, accept: str, content_type: str, body: bytes) -> None:
    answer = api.request("GET", "/examples", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    assert answer.content == body


def test_xml_generated_from_the_schema(api: Client) -> None:
    answer = api.request("GET", "/examples", headers={"Accept": "application/xml"})
    assert answer.headers["content-type"] == "application/xml"
    assert answer.text.startswith("<Pet><id>") and answer.text.endswith("</Pet>")


def test_406_when_nothing_fits(api: Client) -> None:
    answer = api.request("GET", "/examples", headers={"Accept": "image/png"})
    assert answer.status_code == 406
    assert "application/json" in answer.json()["detail"]


def test_choose_unit() -> None:
    offered = ["application/json", "application/xml"]
    assert choose("application/json;q=0.8, application/xml", offered) == "application/xml"
    assert choose(None, ["text/plain", "application/problem+json"]) == "application/problem+json"
    assert choose("application/*;q=0.1, application/xml;q=0", offered) == "application/json"
    assert choose("text/csv", offered) is None
