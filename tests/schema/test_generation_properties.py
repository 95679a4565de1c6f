"""Generated instances against the schema as written, for schemas that combine subschemas: allOf is
a conjunction, oneOf means exactly one branch, uniqueItems, patterns in several places, enums and
bounds. `jsonschema` (pure Python, not what the generator checks with) is the oracle."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.schema.generation import Generator

# Patterns any combination of which some string matches (a sample of each, joined in an order).
PATTERNS = ["^[a-f]", "[a-c]", r"\d", "x$", "^ab", "z{2}", "^[a-z0-9]+$"]
Schema = dict[str, Any]


def strings() -> st.SearchStrategy[Schema]:
    return st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "pattern": st.sampled_from(PATTERNS),
            "minLength": st.integers(0, 2),
            "maxLength": st.integers(24, 40),
        },
    )


def integers() -> st.SearchStrategy[Schema]:
    return st.fixed_dictionaries(
        {"type": st.just("integer")},
        optional={"minimum": st.integers(-10, 0), "maximum": st.integers(0, 10), "format": st.just("int32")},
    )


def enums() -> st.SearchStrategy[Schema]:
    return st.lists(st.sampled_from(["a", "b", 1, 2, None, True]), min_size=1, max_size=4, unique=True).map(
        lambda values: {"enum": values}
    )


def conjunctions() -> st.SearchStrategy[Schema]:
    """allOf of parts of one kind, with a sibling schema of that kind constraining too."""
    return st.one_of(
        st.tuples(st.lists(strings(), min_size=1, max_size=3), strings()).map(
            lambda parts: {"allOf": parts[0], **parts[1]}
        ),
        st.tuples(st.lists(integers(), min_size=1, max_size=3), integers()).map(
            lambda parts: {"allOf": parts[0], **parts[1]}
        ),
    )


def exclusive() -> st.SearchStrategy[Schema]:
    """oneOf with overlapping branches that leave room for exactly one: an integer range and a
    range starting higher, a pattern string and an enum some of whose strings it matches."""
    overlapping_ints = st.tuples(st.integers(-10, 0), st.integers(1, 5)).map(
        lambda bounds: [
            {"type": "integer", "minimum": bounds[0], "maximum": 10},
            {"type": "integer", "minimum": bounds[1]},
        ]
    )
    overlapping_strings = st.tuples(strings(), st.sampled_from([["a"], ["a", "b"], ["ab1x"]])).map(
        lambda parts: [parts[0], {"enum": parts[1]}]
    )
    return st.one_of(overlapping_ints, overlapping_strings).map(lambda branches: {"oneOf": branches})


def leaves() -> st.SearchStrategy[Schema]:
    return st.one_of(strings(), integers(), enums(), conjunctions(), exclusive())


def arrays(items: st.SearchStrategy[Schema]) -> st.SearchStrategy[Schema]:
    wide = st.fixed_dictionaries(
        {"type": st.just("integer"), "minimum": st.integers(-10, -3), "maximum": st.integers(3, 10)}
    )
    unique_items = st.one_of(strings(), wide)  # room for several distinct values
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": items},
            optional={"minItems": st.integers(0, 2), "maxItems": st.integers(3, 5)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": unique_items, "uniqueItems": st.just(True)},
            optional={"minItems": st.integers(0, 3)},
        ),
    )


def objects(values: st.SearchStrategy[Schema]) -> st.SearchStrategy[Schema]:
    names = st.sampled_from(["a", "b", "c"])
    plain = st.dictionaries(names, values, min_size=1, max_size=3).flatmap(
        lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(
            lambda required: {"type": "object", "properties": props, "required": required}
        )
    )
    # The same property constrained in a branch and in the sibling schema: both hold.
    shared = st.tuples(st.lists(plain, min_size=1, max_size=2), st.sampled_from(PATTERNS), names).map(
        lambda parts: {
            "allOf": [
                {"type": "object", "properties": {parts[2]: {"type": "string", "pattern": "[a-c]"}}},
                *parts[0],
            ],
            "type": "object",
            "required": [parts[2]],
            "properties": {parts[2]: {"type": "string", "pattern": parts[1]}},
        }
    )
    return st.one_of(plain, shared.filter(_no_string_conflict))


def _no_string_conflict(schema: Schema) -> bool:
    # Satisfiable by construction: the shared property is a string in every part, and any other
    # property two parts both constrain is constrained the same way.
    name = schema["required"][0]
    seen: dict[str, Any] = {}
    for part in schema["allOf"]:
        for prop, sub in part.get("properties", {}).items():
            if prop == name:
                if sub.get("type") != "string":
                    return False
            elif seen.setdefault(prop, sub) != sub:
                return False
    return True


_SCHEMAS = st.recursive(leaves(), lambda inner: st.one_of(arrays(inner), objects(inner)), max_leaves=6)


@st.composite
def schemas(draw: st.DrawFn) -> Schema:  # named: the strategy's own repr is tens of kB
    return draw(_SCHEMAS)


# Hypothesis warns that the recursive strategy's description is long (it is the strategy, not data).
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas(), st.integers(0, 2**32))
def test_generated_instances_are_valid_under_the_schema_as_written(schema: Schema, seed: int) -> None:
    generator = Generator({"components": {}})
    oracle = jsonschema.Draft202012Validator(schema)
    for offset in range(5):
        value = generator.instance(schema, random.Random(seed + offset))
        errors = [error.message for error in oracle.iter_errors(value)]
        assert errors == [], (schema, value)


def test_the_oracle_sees_a_broken_generator() -> None:
    """Proof that the property can fail: the merge the generator used to do (later parts override
    earlier ones) loses the branch's pattern, and the oracle says so."""
    schema = {
        "allOf": [{"properties": {"p": {"type": "string", "pattern": "^[a-f]"}}}],
        "type": "object",
        "required": ["p"],
        "properties": {"p": {"type": "string", "pattern": "x$"}},
    }
    overriding = {
        "type": "object",
        "required": ["p"],
        "properties": {"p": {"type": "string", "pattern": "x$"}},
    }
    oracle = jsonschema.Draft202012Validator(schema)
    broken = [Generator({"components": {}}).instance(overriding, random.Random(s)) for s in range(20)]
    assert any(not oracle.is_valid(value) for value in broken)
    fixed = [Generator({"components": {}}).instance(schema, random.Random(s)) for s in range(20)]
    assert all(oracle.is_valid(value) for value in fixed)
