"""generation.py: any schema of any document → a valid instance, deterministic under a seed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from mock_server import Contract, load_contract
from mock_server.generation import Generator

SHOP = Path(__file__).parent / "data" / "shop-3.0.yaml"


def assert_valid(contract: Contract, schema: Any, value: Any) -> None:
    validator = jsonschema_rs.validator_for({**schema, **contract.schema_root}, validate_formats=True)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(value)]
    assert errors == [], value


@pytest.fixture(scope="module")
def shop() -> Contract:
    return load_contract(SHOP)


@pytest.mark.parametrize("document", ["bundled", "shop"])
def test_every_component_schema_generates_valid_instances(
    contract: Contract, shop: Contract, document: str
) -> None:
    target = contract if document == "bundled" else shop
    generator = Generator(target.schema_root)
    names = list(target.schema_root["components"]["schemas"])
    assert names
    for name in names:
        schema = {"$ref": f"#/components/schemas/{name}"}
        for seed in range(60):
            assert_valid(target, schema, generator.instance(schema, random.Random(seed)))


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^[a-f0-9]{8}-x$"},
        {"type": "string", "minLength": 20, "maxLength": 25},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "ipv4"},
        {"type": "integer", "minimum": 5, "exclusiveMaximum": 7},
        {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 100},
        {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
        {"type": ["string", "null"], "enum": ["a", None]},
        {"const": {"fixed": [1, 2]}},
        {"type": "array", "items": {"type": "boolean"}, "minItems": 4, "maxItems": 4},
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"anyOf": [{"type": "integer", "maximum": -1}, {"type": "string", "maxLength": 2}]},
        {
            "allOf": [
                {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
                {"required": ["b"], "properties": {"b": {"type": "string", "format": "uuid"}}},
            ]
        },
    ],
    ids=lambda schema: str(schema)[:40],
)
def test_keywords_are_honoured(schema: dict[str, Any]) -> None:
    generator = Generator({"components": {}})
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    for seed in range(100):
        value = generator.instance(schema, random.Random(seed))
        assert validator.is_valid(value), (schema, value)


def test_recursive_schemas_terminate(shop: Contract) -> None:
    generator = Generator(shop.schema_root)
    node = {"$ref": "#/components/schemas/Node"}
    depths = set()
    for seed in range(50):
        value, depth = generator.instance(node, random.Random(seed)), 0
        while isinstance(value, dict) and isinstance(value.get("child"), dict):
            value, depth = value["child"], depth + 1
        depths.add(depth)
    assert max(depths) <= 6 and len(depths) > 1


def test_deterministic_for_a_seed(contract: Contract) -> None:
    schema = {"$ref": "#/components/schemas/BatchExecutionResponse"}
    generator = Generator(contract.schema_root)
    first = [generator.instance(schema, random.Random(11)) for _ in range(3)]
    again = [Generator(contract.schema_root).instance(schema, random.Random(11)) for _ in range(3)]
    assert first == again
    assert generator.instance(schema, random.Random(12)) != first[0]
