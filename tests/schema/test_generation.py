"""generation.py: any schema of any document → a valid instance, deterministic under a seed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from mock_server import Contract, load_contract
from mock_server.schema.generation import Generator, iso, random_uuid

SHOP = Path(__file__).parents[1] / "data" / "shop-3.0.yaml"


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


# --- iso() and random_uuid(), spelled for speed: the same text as the plain formulas ---------


def _iso_reference(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def test_iso_writes_what_the_field_by_field_formula_writes() -> None:
    draw = random.Random(3)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3)), None]
    base = datetime(2026, 5, 1, tzinfo=UTC)
    for index in range(20_000):
        zone = draw.choice(zones)
        if index % 2:  # anywhere in the calendar
            moment = datetime(
                draw.randint(2, 9998),
                draw.randint(1, 12),
                draw.randint(1, 28),
                draw.randint(0, 23),
                draw.randint(0, 59),
                draw.randint(0, 59),
                draw.choice([0, 999, 1000, 999_999, draw.randint(0, 999_999)]),
                tzinfo=zone,
            )
        else:  # close together, as a clock's answers are: the seconds kept are hit
            moment = base + timedelta(microseconds=draw.randint(-(10**7), 10**7))
            moment = moment.astimezone(zone) if zone else moment.replace(tzinfo=None)
        assert iso(moment) == _iso_reference(moment), moment


def test_random_uuid_is_the_masked_integer_spelled_out() -> None:
    clear, version = ~((0xF000 << 64) | (0xC000 << 48)), (0x4000 << 64) | (0x8000 << 48)
    mine, reference = random.Random(11), random.Random(11)
    for _ in range(20_000):
        h = f"{(reference.getrandbits(128) & clear) | version:032x}"
        expected = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        made = random_uuid(mine)
        assert made == expected and uuid.UUID(made).version == 4
