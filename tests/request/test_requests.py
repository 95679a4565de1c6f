"""Requests beyond JSON (issue 12 item 5, issue 15 item 5): parameter styles, form and multipart
bodies, apiKey in the query and in a cookie, HTTP Basic with the key as password."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import Settings, create_app
from mock_server.contract import contract_from_dict
from tests.conftest import Client

INTS = {"type": "array", "items": {"type": "integer"}}
POINT = {
    "type": "object",
    "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
    "required": ["x"],
}
OK = {
    "200": {
        "description": "ok",
        "content": {"application/json": {"schema": {"type": "string"}, "example": "ok"}},
    }
}


def _param(name: str, where: str, schema: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, "schema": schema, **extra}


FORM_SCHEMA = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {"name": {"type": "string", "minLength": 2}, "age": {"type": "integer"}, "tags": INTS},
}
DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "components": {
        "securitySchemes": {
            "q": {"type": "apiKey", "in": "query", "name": "api_key"},
            "c": {"type": "apiKey", "in": "cookie", "name": "session"},
            "basic": {"type": "http", "scheme": "basic"},
        }
    },
    "paths": {
        "/q/form": {"get": {"parameters": [_param("ids", "query", INTS, explode=False)], "responses": OK}},
        "/q/exploded": {"get": {"parameters": [_param("ids", "query", INTS)], "responses": OK}},
        "/q/pipes": {
            "get": {"parameters": [_param("ids", "query", INTS, style="pipeDelimited")], "responses": OK}
        },
        "/q/spaces": {
            "get": {"parameters": [_param("ids", "query", INTS, style="spaceDelimited")], "responses": OK}
        },
        "/q/deep": {
            "get": {
                "parameters": [_param("p", "query", POINT, style="deepObject", explode=True)],
                "responses": OK,
            }
        },
        "/q/object": {"get": {"parameters": [_param("p", "query", POINT)], "responses": OK}},
        "/q/object-flat": {
            "get": {"parameters": [_param("p", "query", POINT, explode=False)], "responses": OK}
        },
        "/simple/{ids}": {"get": {"parameters": [_param("ids", "path", INTS)], "responses": OK}},
        "/label/{ids}": {
            "get": {"parameters": [_param("ids", "path", INTS, style="label")], "responses": OK}
        },
        "/matrix/{p}": {
            "get": {"parameters": [_param("p", "path", POINT, style="matrix", explode=True)], "responses": OK}
        },
        "/header": {
            "get": {"parameters": [_param("X-Point", "header", POINT, explode=True)], "responses": OK}
        },
        "/form": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": FORM_SCHEMA},
                        "multipart/form-data": {"schema": FORM_SCHEMA},
                    },
                },
                "responses": OK,
            }
        },
        "/by-query": {"get": {"security": [{"q": []}], "responses": OK}},
        "/by-cookie": {"get": {"security": [{"c": []}], "responses": OK}},
        "/by-basic": {"get": {"security": [{"basic": []}], "responses": OK}},
    },
}


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    client = Client(create_app(contract_from_dict(DOC), settings=Settings(seed=1, api_keys=("k1",))))
    yield client
    client.close()


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/q/form?ids=1,2,3", {}, 200),
        ("/q/form?ids=1,x", {}, 422),
        ("/q/exploded?ids=1&ids=2", {}, 200),
        ("/q/exploded?ids=1,2", {}, 422),  # exploded: "1,2" is one item, not an integer
        ("/q/pipes?ids=1|2|3", {}, 200),
        ("/q/spaces?ids=1%202%203", {}, 200),
        ("/q/deep?p[x]=1&p[y]=2", {}, 200),
        ("/q/deep?p[y]=2", {}, 422),  # x is required
        ("/q/deep?p[x]=a", {}, 422),
        ("/q/object?x=1&y=2", {}, 200),
        ("/q/object-flat?p=x,1,y,2", {}, 200),
        ("/simple/1,2,3", {}, 200),
        ("/simple/1,a", {}, 422),
        ("/label/.1.2", {}, 422),  # label, not exploded: comma-separated
        ("/label/.1,2", {}, 200),
        ("/matrix/;x=1;y=2", {}, 200),
        ("/matrix/;y=2", {}, 422),
        ("/header", {"X-Point": "x=1,y=2"}, 200),
        ("/header", {"X-Point": "x=a"}, 422),
    ],
)
def test_styles_are_decoded_before_validation(
    api: Client, url: str, headers: dict[str, str], status: int
) -> None:
    assert api.request("GET", url, headers=headers).status_code == status


def test_urlencoded_body_validated(api: Client) -> None:
    good = api.post(
        "/form",
        content=b"name=rex&age=3&tags=1&tags=2",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert good.status_code == 200
    bad = api.post(
        "/form", content=b"name=r&age=old", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "age"]
    short = api.post(
        "/form", content=b"name=r&age=3", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert short.status_code == 422 and short.json()["detail"][0]["type"] == "string_too_short"
    assert api.post("/form").status_code == 422


def test_multipart_body_validated(api: Client) -> None:
    good = api.post("/form", data={"name": "rex", "age": "3"}, files={"tags": ("t.txt", b"1", "text/plain")})
    assert good.status_code == 200
    missing = api.post(
        "/form", data={"name": "rex"}, files={"x": ("f.bin", b"\x00\x01", "application/octet-stream")}
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "age"]


def test_api_key_in_query_and_cookie(api: Client) -> None:
    assert api.request("GET", "/by-query?api_key=k1").status_code == 200
    assert api.request("GET", "/by-query?api_key=nope").status_code == 401
    assert api.request("GET", "/by-query").status_code == 401
    assert api.request("GET", "/by-cookie", headers={"Cookie": "a=b; session=k1"}).status_code == 200
    assert api.request("GET", "/by-cookie", headers={"Cookie": "session=k2"}).status_code == 401


def test_basic_accepts_the_key_as_password(api: Client) -> None:
    def basic(user_password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(user_password.encode()).decode()}

    assert api.request("GET", "/by-basic", headers=basic("anyone:k1")).status_code == 200
    assert api.request("GET", "/by-basic", headers=basic("k1:nope")).status_code == 401
    assert api.request("GET", "/by-basic", headers={"Authorization": "Basic !!"}).status_code == 401
    assert api.request("GET", "/by-basic", headers={"Authorization": "k1"}).status_code == 401


RESERVED_DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/f": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"r": {"type": "string"}, "s": {"type": "string"}},
                            },
                            "encoding": {"r": {"allowReserved": False}, "s": {"allowReserved": True}},
                        }
                    }
                },
                "responses": OK,
            }
        }
    },
}


def test_allow_reserved_false_wants_percent_encoding() -> None:
    client = Client(create_app(contract_from_dict(RESERVED_DOC)))
    form = {"content-type": "application/x-www-form-urlencoded"}
    try:
        assert client.post("/f", content=b"r=a/b", headers=form).status_code == 422
        assert client.post("/f", content=b"r=a%2Fb&s=a/b", headers=form).status_code == 200
    finally:
        client.close()
