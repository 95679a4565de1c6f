"""The subtler keywords, both ways (issue 15 item 3): writeOnly never answered, readOnly never
demanded, nullable inside allOf as OpenAPI 3.0 reads it, format ranges."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import Settings, create_app
from mock_server.contract import contract_from_dict
from mock_server.schema.generation import Generator
from tests.conftest import Client

USER = {
    "type": "object",
    "required": ["id", "name", "password"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
        "secret": {"$ref": "#/components/schemas/Secret"},
    },
}
DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "components": {
        "schemas": {
            "User": USER,
            "Secret": {"type": "string", "writeOnly": True},
            "Maybe": {
                "allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}, {"nullable": True}]
            },
        }
    },
    "paths": {
        "/users": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                    }
                },
            }
        }
    },
}


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    client = Client(create_app(contract_from_dict(DOC), settings=Settings(seed=2)))
    yield client
    client.close()


def test_read_only_is_not_demanded_in_requests_and_accepted_when_sent(api: Client) -> None:
    assert api.post("/users", json={"name": "rex", "password": "pw"}).status_code == 201
    assert api.post("/users", json={"id": 4, "name": "rex", "password": "pw"}).status_code == 201
    missing = api.post("/users", json={"name": "rex"})  # writeOnly and required: demanded
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "password"]]


def test_write_only_never_in_responses(api: Client) -> None:
    for _ in range(20):
        body = api.post(
            "/users", json={"name": "rex", "password": "pw"}, headers={"Prefer": "dynamic=true"}
        ).json()
        assert "password" not in body and "secret" not in body
        assert "id" in body


def test_nullable_without_a_type_inside_all_of_gives_no_null() -> None:
    contract = contract_from_dict(DOC)
    generator = Generator(contract.schema_root)
    values = [generator.instance({"$ref": "#/components/schemas/Maybe"}, random.Random(s)) for s in range(50)]
    assert all(isinstance(v, dict) for v in values)


@pytest.mark.parametrize(
    ("schema", "low", "high"),
    [
        ({"type": "integer", "format": "int32", "minimum": -(2**40)}, -(2**31), 2**31 - 1),
        ({"type": "integer", "format": "int64", "maximum": 2**70}, -(2**63), 2**63 - 1),
    ],
)
def test_format_ranges_bound_generated_numbers(schema: dict[str, Any], low: int, high: int) -> None:
    generator = Generator({"components": {}})
    values = [generator.instance(schema, random.Random(s)) for s in range(50)]
    assert all(low <= v <= high for v in values)


def test_one_of_overlapping_branches_gives_exactly_one() -> None:
    schema = {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"type": "integer", "minimum": 5}]}
    generator = Generator({"components": {}})
    for seed in range(100):
        value = generator.instance(schema, random.Random(seed))
        assert (0 <= value <= 10) != (value >= 5), value


def test_unique_items() -> None:
    schema = {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 3, "uniqueItems": True}
    generator = Generator({"components": {}})
    for seed in range(50):
        assert sorted(generator.instance(schema, random.Random(seed))) == [1, 2, 3]
