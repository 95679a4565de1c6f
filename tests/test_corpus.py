"""The corpus of documents with allOf, oneOf and patterns (tests/documents/): every documented answer
generated for them is valid under its schema as written (`jsonschema` the oracle), and the mock
serves them end to end. Schemathesis's CLI runs against the same documents (README)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.engine import Engine
from tests.conftest import Client

CORPUS = sorted((Path(__file__).parent / "documents").glob("*.yaml"))


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
    client = Client(create_app(load_contract(CORPUS[0]), settings=Settings(seed=4)))
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
