"""Every row of the fidelity table (shared/DESIGN.md) and every server bullet, in process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mock_server import Settings
from tests.conftest import JSON_CT, KEY, PATH, VALID, Client


def spec(**changes: Any) -> dict[str, Any]:
    return {"batch_spec_json": {**VALID["batch_spec_json"], **changes}}


def test_valid_body_with_known_key_is_created(client: Client) -> None:
    response = client.create()
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["input_datasource_id"] == "d"
    assert body["status"] in ("pending", "running")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Meibel-API-Key": ""}, {"Meibel-API-Key": "not-a-key"}],
    ids=["missing", "empty", "unknown"],
)
def test_missing_empty_or_unknown_key_is_401_before_body_validation(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.post(json={"batch_spec_json": 5}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "APIKey"


@pytest.mark.parametrize("headers", [KEY, {}], ids=["with-key", "without-key"])
def test_unparsable_json_is_422_json_invalid_before_the_key_check(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.post(content=b'{"a":', headers={**headers, **JSON_CT})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 5],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ]
    }


def test_empty_object_reports_the_missing_field(client: Client) -> None:
    response = client.create({})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "batch_spec_json"], "msg": "Field required", "input": {}}
        ]
    }


@pytest.mark.parametrize("headers", [KEY, {**KEY, **JSON_CT}], ids=["no-content-type", "json-content-type"])
def test_no_body_at_all(client: Client, headers: dict[str, str]) -> None:
    response = client.post(headers=headers)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"name": 1},
            {
                "type": "string_type",
                "loc": ["body", "batch_spec_json", "name"],
                "msg": "Input should be a valid string",
                "input": 1,
            },
        ),
        (
            {"execution": {"concurrency": 0}},
            {
                "type": "greater_than_equal",
                "loc": ["body", "batch_spec_json", "execution", "concurrency"],
                "msg": "Input should be greater than or equal to 1",
                "input": 0,
                "ctx": {"ge": 1},
            },
        ),
        (
            {"execution": {"concurrency": 1000}},
            {
                "type": "less_than_equal",
                "loc": ["body", "batch_spec_json", "execution", "concurrency"],
                "msg": "Input should be less than or equal to 999",
                "input": 1000,
                "ctx": {"le": 999},
            },
        ),
        (
            {"input": {"datasource_id": "d", "filters": {"media_types": "pdf"}}},
            {
                "type": "list_type",
                "loc": ["body", "batch_spec_json", "input", "filters", "media_types"],
                "msg": "Input should be a valid list",
                "input": "pdf",
            },
        ),
        (
            {"input": {"datasource_id": "d", "filters": {"element_ids": [1]}}},
            {
                "type": "string_type",
                "loc": ["body", "batch_spec_json", "input", "filters", "element_ids", 0],
                "msg": "Input should be a valid string",
                "input": 1,
            },
        ),
        (
            {"execution": {"concurrency": 1.5}},
            {
                "type": "int_from_float",
                "loc": ["body", "batch_spec_json", "execution", "concurrency"],
                "msg": "Input should be a valid integer, got a number with a fractional part",
                "input": 1.5,
            },
        ),
        (
            {"output": "x"},
            {
                "type": "model_attributes_type",
                "loc": ["body", "batch_spec_json", "output"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": "x",
            },
        ),
        (
            {"additional_properties": []},
            {
                "type": "dict_type",
                "loc": ["body", "batch_spec_json", "additional_properties"],
                "msg": "Input should be a valid dictionary",
                "input": [],
            },
        ),
    ],
    ids=[
        "name-int",
        "concurrency-0",
        "concurrency-1000",
        "media-types-str",
        "element-id-int",
        "float-int",
        "output-str",
        "dict-list",
    ],
)
def test_field_errors_match_pydantic(
    client: Client, changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = client.create(spec(**changes))
    assert response.status_code == 422
    assert response.json() == {"detail": [expected]}


def test_several_problems_all_reported_in_document_order(client: Client) -> None:
    body = {
        "batch_spec_json": {
            "additional_properties": "y",
            "execution": {"concurrency": 0},
            "input": {},
            "agent": 3,
        }
    }
    detail = client.create(body).json()["detail"]
    assert [(e["type"], e["loc"][2:]) for e in detail] == [
        ("missing", ["name"]),
        ("string_type", ["agent"]),
        ("missing", ["input", "datasource_id"]),
        ("greater_than_equal", ["execution", "concurrency"]),
        ("dict_type", ["additional_properties"]),
    ]
    assert detail[0]["input"] == body["batch_spec_json"]  # pydantic echoes the parent object


@pytest.mark.parametrize(
    ("content", "headers", "expected_input"),
    [
        (b"[1]", JSON_CT, [1]),
        (json.dumps(VALID).encode(), {"content-type": "text/plain"}, json.dumps(VALID)),
        (b"a=1", {"content-type": "application/x-www-form-urlencoded"}, "a=1"),
        (json.dumps(VALID).encode(), {}, json.dumps(VALID)),
    ],
    ids=["list-body", "json-as-text-plain", "form", "no-content-type"],
)
def test_non_object_bodies(
    client: Client, content: bytes, headers: dict[str, str], expected_input: Any
) -> None:
    response = client.post(content=content, headers={**KEY, **headers})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": expected_input,
            }
        ]
    }


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json"])
def test_json_content_type_variants_are_json(client: Client, content_type: str) -> None:
    response = client.post(content=json.dumps(VALID).encode(), headers={**KEY, "content-type": content_type})
    assert response.status_code == 201


def test_invalid_utf8_is_422_json_invalid(client: Client) -> None:
    response = client.post(content=b'{"batch_spec_json":"\xff"}', headers={**KEY, **JSON_CT})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == "json_invalid"
    assert problem["loc"] == ["body", 20]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_422_not_500(client: Client, literal: bytes) -> None:
    content = (
        b'{"batch_spec_json":{"name":"n","agent":"a","input":{"datasource_id":"d"},'
        b'"execution":{"concurrency":' + literal + b"}}}"
    )
    response = client.post(content=content, headers={**KEY, **JSON_CT})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == "json_invalid"
    assert problem["loc"] == ["body", content.index(literal)]


def test_extra_keys_are_ignored_like_pydantic(client: Client) -> None:
    response = client.create({**VALID, "unexpected": 1})
    assert response.status_code == 201
    assert "unexpected" not in response.json()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(client: Client, method: str) -> None:
    response = client.request(method, PATH, headers=KEY)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"


def test_head_is_405_without_a_body(client: Client) -> None:
    response = client.request("HEAD", PATH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""


@pytest.mark.parametrize("path", ["/nope", "/batch-executions", "/v2/batch-executions/extra", "/v2", "/v2/"])
def test_unknown_paths_are_404(client: Client, path: str) -> None:
    response = client.post(path, json=VALID, headers=KEY)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_strict_types_where_fastapi_is_lax(client: Client) -> None:
    # FastAPI would coerce "5" and true into integers; the mock reports them (see README).
    detail = client.create(spec(execution={"concurrency": "5", "retry_limit": True})).json()["detail"]
    assert [(e["type"], e["loc"][-1]) for e in detail] == [
        ("int_type", "concurrency"),
        ("int_type", "retry_limit"),
    ]


@pytest.mark.parametrize("settings", [Settings(api_keys=("k1", "k2"))])
def test_configured_keys_replace_the_development_key(client: Client) -> None:
    assert client.create(headers={"Meibel-API-Key": "k2"}).status_code == 201
    assert client.create(headers={"Meibel-API-Key": "meibel-mock-key"}).status_code == 401


@pytest.mark.parametrize("settings", [Settings(max_body=1000)])
def test_body_over_the_limit_is_413(client: Client) -> None:
    big = spec(user_message="x" * 2000)
    response = client.create(big)
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]


@pytest.mark.parametrize("settings", [Settings(max_body=1000)])
def test_chunked_body_over_the_limit_is_413(client: Client) -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 200

    response = client.post(content=chunks(), headers={**KEY, **JSON_CT})
    assert response.status_code == 413


def test_lone_surrogates_are_422_string_unicode(client: Client) -> None:
    content = b'{"batch_spec_json":{"name":"\\ud800","agent":"a","input":{"datasource_id":"d"}}}'
    response = client.post(content=content, headers={**KEY, **JSON_CT})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == "string_unicode"
    assert problem["loc"] == ["body", "batch_spec_json", "name"]


def test_surrogate_pairs_are_fine(client: Client) -> None:
    content = b'{"batch_spec_json":{"name":"\\ud83d\\ude00","agent":"a","input":{"datasource_id":"d"}}}'
    response = client.post(content=content, headers={**KEY, **JSON_CT})
    assert response.status_code == 201
    assert response.json()["batch_spec_json"]["name"] == "\U0001f600"
