"""The corpus of documents with allOf, oneOf and patterns (tests/documents/): every documented answer
generated for them is valid under its schema as written (`jsonschema` the oracle), and the mock
serves them end to end. Schemathesis's CLI runs against the same documents (CONTRIBUTING.md)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.engine import Engine
from tests.conftest import Client

CORPUS = sorted((Path(__file__).parents[1] / "documents").glob("*.yaml"))
CORPUS_BY_NAME = {path.name: path for path in CORPUS}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_generated_answer_is_valid(path: Path) -> None:
    contract = load_contract(path)
    engine = Engine(contract, Settings())
    checked = 0
    for table in engine._responses.values():
        for response in table.by_key.values():
            for media in response.media:
                if media.generate is None:
                    continue
                oracle = jsonschema.Draft202012Validator({**media.schema, **contract.schema_root})
                for seed in range(40):
                    value = media.generate(random.Random(seed), 0)
                    assert [e.message for e in oracle.iter_errors(value)] == [], (
                        path.name,
                        response.key,
                        value,
                    )
                    checked += 1
    assert checked >= 40 * 3


def test_served_end_to_end() -> None:
    client = Client(
        create_app(load_contract(CORPUS_BY_NAME["allof-patterns.yaml"]), settings=Settings(seed=4))
    )
    try:
        listed = client.request("GET", "/items", headers={"Prefer": "dynamic=true"})
        assert listed.status_code == 200
        bad = client.request("GET", "/items?limit=2147483648")
        assert bad.status_code == 400 and set(bad.json()) == {"code", "message"}
        # a path parameter breaking its pattern names no resource: the documented 404, not a 422
        missing = client.request("GET", "/items/nope")
        assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}
        made: dict[str, Any] = {"code": "AB123", "label": "ab-v1", "size": 3}
        assert client.post("/items", json=made).status_code == 201
        invalid = client.post("/items", json={**made, "code": "AB12"})  # the branch's \d{3}$ fails
        assert invalid.status_code == 422 and set(invalid.json()) == {"code", "message"}
    finally:
        client.close()


def test_petstore_in_its_own_error_shape() -> None:
    client = Client(
        create_app(load_contract(CORPUS_BY_NAME["petstore-errors.yaml"]), settings=Settings(seed=5))
    )
    key = "?api_key=meibel-mock-key"
    try:
        made = client.post("/pets" + key, json={"name": "rex"})  # readOnly id: not demanded
        assert made.status_code == 201 and "secret" not in made.json()
        invalid = client.post("/pets" + key, json={"name": ""})
        assert invalid.status_code == 400 and set(invalid.json()) == {"code", "message"}
        nokey = client.post("/pets", json={"name": "rex"})
        assert nokey.status_code == 401 and set(nokey.json()) == {"code", "message"}
        too_many = client.request("GET", "/pets" + key + "&limit=2147483648")
        assert too_many.status_code == 422 and too_many.json() == {
            "code": 500,
            "message": "something went wrong",
        }
        assert client.request("GET", "/pets?api_key=nope").status_code == 401  # default, answered as 401
    finally:
        client.close()
