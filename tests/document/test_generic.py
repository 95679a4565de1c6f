"""Any OpenAPI document given with --spec: every operation served, parameters validated."""

from __future__ import annotations

from collections.abc import Iterator

import jsonschema_rs
import pytest

from mock_server import Contract, Settings, create_app, load_contract
from mock_server.contract import contract_from_dict
from tests.conftest import Client
from tests.schema.test_generation import SHOP

TRACE = {"X-Trace": "abcd"}


@pytest.fixture(scope="module")
def shop() -> Contract:
    return load_contract(SHOP)


@pytest.fixture
def api(shop: Contract) -> Iterator[Client]:
    client = Client(create_app(shop, settings=Settings(seed=3)))
    yield client
    client.close()


def test_base_path_comes_from_the_servers_variables(api: Client) -> None:
    assert api.request("GET", "/api/v1/orders/5", headers=TRACE).status_code == 200
    assert api.request("GET", "/orders/5", headers=TRACE).status_code == 404


def test_generated_answer_is_valid(api: Client, shop: Contract) -> None:
    response = api.request("GET", "/api/v1/orders/5", headers=TRACE)
    schema = {"$ref": "#/components/schemas/Order", **shop.schema_root}
    assert jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(response.json())


def test_path_query_and_header_parameters_are_validated_in_fastapi_order(api: Client) -> None:
    response = api.request("GET", "/api/v1/orders/0?expand=maybe", headers={"X-Trace": "ab"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "greater_than_equal",
            "loc": ["path", "order_id"],
            "msg": "Input should be greater than or equal to 1",
            "input": 0,
            "ctx": {"ge": 1},
        },
        {
            "type": "bool_parsing",
            "loc": ["query", "expand"],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "input": "maybe",
        },
        {
            "type": "string_too_short",
            "loc": ["header", "X-Trace"],
            "msg": "String should have at least 4 characters",
            "input": "ab",
            "ctx": {"min_length": 4},
        },
    ]


def test_path_parameter_type_and_missing_header(api: Client) -> None:
    detail = api.request("GET", "/api/v1/orders/abc").json()["detail"]
    assert [(e["type"], e["loc"]) for e in detail] == [
        ("int_parsing", ["path", "order_id"]),
        ("missing", ["header", "X-Trace"]),
    ]


def test_repeated_query_parameters_make_an_array(api: Client) -> None:
    assert (
        api.request("GET", "/api/v1/orders/1?fields=a&fields=b&expand=true", headers=TRACE).status_code == 200
    )


def test_bearer_security_and_empty_success(api: Client) -> None:
    assert api.request("DELETE", "/api/v1/orders/1").status_code == 401
    assert (
        api.request("DELETE", "/api/v1/orders/1", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    done = api.request("DELETE", "/api/v1/orders/1", headers={"Authorization": "Bearer meibel-mock-key"})
    assert done.status_code == 204
    assert done.content == b""


def test_body_errors_for_a_3_0_schema(api: Client) -> None:
    body: dict[str, object] = {
        "sku": "abc",
        "price": {"amount": 0, "currency": "GBP"},
        "tags": [],
        "note": None,
        "extra": 1,
    }
    detail = api.post("/api/v1/orders", json=body).json()["detail"]
    assert [(e["type"], e["loc"][1:]) for e in detail] == [
        ("string_pattern_mismatch", ["sku"]),
        ("greater_than", ["price", "amount"]),
        ("enum", ["price", "currency"]),
        ("too_short", ["tags"]),
        ("extra_forbidden", ["extra"]),
    ]


def test_union_errors_are_tagged_per_branch(api: Client) -> None:
    body = {"sku": "ABC-1234", "price": {"amount": 1, "currency": "EUR"}, "tags": ["ok"], "kind": 3}
    detail = api.post("/api/v1/orders", json=body).json()["detail"]
    assert [(e["type"], e["loc"][1:]) for e in detail] == [
        ("enum", ["kind", "str"]),
        ("greater_than_equal", ["kind", "int"]),
    ]
    assert api.post("/api/v1/orders", json={**body, "kind": 12}).status_code == 201


def test_named_examples_through_prefer(api: Client) -> None:
    paid = api.request("GET", "/api/v1/orders/1", headers={**TRACE, "Prefer": "example=paid"})
    assert paid.json()["status"] == "paid"
    unknown = api.request("GET", "/api/v1/orders/1", headers={**TRACE, "Prefer": "example=nope"})
    assert unknown.status_code == 404  # Prism's answer; 400 is not a status the document declares
    assert "available: paid" in unknown.json()["detail"]
    documented = api.request("GET", "/api/v1/orders/1", headers={**TRACE, "Prefer": "code=404"})
    assert documented.status_code == 404 and documented.content == b""


def test_405_lists_every_method_of_the_path(api: Client) -> None:
    response = api.request("PUT", "/api/v1/orders/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, DELETE"


def test_an_empty_path_segment_is_a_missing_parameter_and_a_trailing_slash_still_redirects() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/pets": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/pets/{id}/photos": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    client = Client(create_app(contract_from_dict(document), settings=Settings(seed=1)))
    try:
        missing = client.request("GET", "/pets//photos")
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["path", "id"]
        assert client.request("GET", "/pets/7/photos").status_code == 200
        redirected = client.request("GET", "/pets/", follow_redirects=False)
        assert redirected.status_code == 307 and redirected.headers["location"].endswith("/pets")
    finally:
        client.close()


def _document(**operation: object) -> Contract:
    return contract_from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/things": {"post": operation}},
        }
    )


def test_a_body_the_operation_does_not_take_gets_415_in_the_documents_shape() -> None:
    declared = _document(
        responses={
            "200": {"description": "ok"},
            "415": {"description": "no", "content": {"text/plain": {"example": "no body allowed"}}},
        }
    )
    undeclared = _document(
        requestBody={"content": {"application/json": {"schema": {"type": "object"}}}},
        responses={"200": {"description": "ok"}},
    )
    with Client(create_app(declared, settings=Settings(seed=1))) as client:
        refused = client.request("POST", "/things", content=b"empty", headers={"content-type": "text/plain"})
        assert (refused.status_code, refused.text) == (415, "no body allowed")
        assert client.request("POST", "/things").status_code == 200  # no body: fine
    with Client(create_app(undeclared, settings=Settings(seed=1))) as client:
        xml = client.request("POST", "/things", content=b"<a/>", headers={"content-type": "application/xml"})
        assert xml.status_code == 415 and "application/json" in xml.json()["detail"]
        vendor = client.request(
            "POST", "/things", content=b"{}", headers={"content-type": "application/vnd.x+json"}
        )
        assert vendor.status_code == 200


def test_an_invalid_request_ignores_the_example_of_another_code_but_not_of_its_own() -> None:
    body = {"type": "object", "properties": {"n": {"type": "string"}}}
    contract = _document(
        requestBody={"content": {"application/json": {"schema": {**body, "required": ["test"]}}}},
        responses={
            "200": {
                "description": "ok",
                "content": {
                    "application/json": {"schema": body, "examples": {"ok": {"value": {"n": "200"}}}}
                },
            },
            "422": {
                "description": "bad",
                "content": {
                    "application/json": {"schema": body, "examples": {"bad": {"value": {"n": "422"}}}}
                },
            },
        },
    )
    with Client(create_app(contract, settings=Settings(seed=1))) as client:
        other = client.request("POST", "/things", json={}, headers={"prefer": "code=200, example=ok"})
        assert (other.status_code, other.json()) == (422, {"n": "422"})
        own = client.request("POST", "/things", json={}, headers={"prefer": "code=422, example=missing"})
        assert own.status_code == 404


def test_documented_response_headers_are_sent_as_prism_sends_them() -> None:
    """A response's `headers`: the example, else the first of `examples`, else the schema's own,
    else a value generated once; `simple` style; never a header that would break the framing or
    a value that is not one line."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": "h", "version": "1"},
        "components": {"headers": {"Limit": {"schema": {"type": "integer", "example": 60}}}},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "headers": {
                                "X-Limit": {"$ref": "#/components/headers/Limit"},
                                "X-Named": {
                                    "examples": {"one": {"value": "first"}, "two": {"value": "second"}}
                                },
                                "X-Tags": {"example": ["a", "b", 3, True]},
                                "X-Pairs": {"example": {"role": "admin", "n": 2}},
                                "X-Default": {"schema": {"type": "string", "default": "d"}},
                                "X-Made": {"schema": {"type": "integer", "minimum": 5, "maximum": 5}},
                                "X-Split": {"example": "one\r\nInjected: yes"},
                                "X-Nested": {"example": [[1]]},
                                "Content-Type": {"example": "text/evil"},
                                "Content-Length": {"example": "1"},
                                "Connection": {"example": "close"},
                                "Bad Name": {"example": "x"},
                                "X-None": {"description": "no value anywhere"},
                            },
                            "content": {"application/json": {"example": {"ok": True}}},
                        }
                    }
                }
            }
        },
    }
    with Client(create_app(contract_from_dict(document))) as client:
        first, second = client.request("GET", "/a"), client.request("GET", "/a")
    assert first.status_code == 200 and first.json() == {"ok": True}
    sent = {k: v for k, v in first.headers.items() if k.startswith("x-")}
    assert sent == {
        "x-limit": "60",
        "x-named": "first",
        "x-tags": "a,b,3,true",
        "x-pairs": "role,admin,n,2",
        "x-default": "d",
        "x-made": "5",
    }
    assert first.headers["content-type"] == "application/json"
    assert "injected" not in first.headers and first.headers["content-length"] == str(len(first.content))
    assert {k: v for k, v in second.headers.items() if k.startswith("x-")} == sent
