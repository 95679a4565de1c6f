"""Documents of any depth and shape: recursive `$ref`s, `$ref` with siblings, `allOf` naming
itself, mutually recursive schemas, chains thousands of references long, and pointers with
percent-encoding and array indices. Each is served whole (an in-process request to every
operation), and no RecursionError escapes at start-up or per request."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from mock_server.answer.selection import build as build_table
from mock_server.app import create_app
from mock_server.cli import main
from mock_server.contract import contract_from_dict, load_contract
from mock_server.engine import Engine
from mock_server.settings import Settings
from tests.conftest import Client

KEY = "meibel-mock-key"


def _document(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Recursive", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _get(path: str, schema: dict[str, Any], op: str) -> dict[str, Any]:
    return {
        path: {
            "get": {
                "operationId": op,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": schema}}}
                },
            },
            "post": {
                "operationId": op + "Create",
                "requestBody": {"content": {"application/json": {"schema": schema}}},
                "parameters": [
                    {"name": "filter", "in": "query", "style": "deepObject", "schema": schema},
                ],
                "responses": {
                    "201": {"description": "OK", "content": {"application/json": {"schema": schema}}}
                },
            },
        }
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# The shapes real documents write (Stripe, Jira, Google's, Microsoft Graph).
SHAPES: dict[str, dict[str, Any]] = {
    "ref with siblings": {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "parent": {**_ref("Node"), "description": "the node above"},
                "children": {"type": "array", "items": {**_ref("Node"), "description": "one below"}},
            },
        }
    },
    "allOf naming itself": {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "next": {"allOf": [_ref("Node"), {"description": "the next one"}]},
            },
        }
    },
    "mutually recursive": {
        "A": {"type": "object", "properties": {"b": _ref("B"), "x": {"type": "integer"}}},
        "B": {
            "type": "object",
            "properties": {"a": {"anyOf": [_ref("A"), {"type": "null"}]}, "c": _ref("C")},
        },
        "C": {"allOf": [_ref("A"), {"type": "object", "properties": {"more": _ref("B")}}]},
        "Node": {"oneOf": [_ref("A"), _ref("B")]},
    },
    "required without end": {
        "Node": {
            "type": "object",
            "required": ["next", "id"],
            "properties": {"id": {"type": "string"}, "next": _ref("Node")},
        },
    },
    "inheritance with nullable references": {
        "entity": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "@odata.type": {"type": "string"}},
        },
        "user": {
            "allOf": [
                _ref("entity"),
                {
                    "type": "object",
                    "properties": {
                        "manager": {
                            "anyOf": [_ref("user"), {"type": "object", "nullable": True}],
                            "description": "x",
                        },
                        "reports": {"type": "array", "items": _ref("user")},
                        "@odata.type": {"type": "string", "default": "#user"},
                    },
                },
            ]
        },
        "Node": {"allOf": [_ref("user"), {"properties": {"manager": {**_ref("user"), "description": "y"}}}]},
    },
}


def _served(document: dict[str, Any]) -> list[tuple[str, int]]:
    """Every operation of `document`, served in process: (its path, the status answered)."""
    contract = contract_from_dict(document)
    app = create_app(contract, settings=Settings(seed=3))
    assert app.state.engine.skipped == {}
    statuses = []
    with Client(app) as client:
        for path in document["paths"]:
            for method in ("get", "post"):
                answer = client.request(method.upper(), path, json={} if method == "post" else None)
                assert answer.status_code < 500, (path, method, answer.text[:300])
                json.loads(answer.content)  # a whole JSON answer, however deep the schema
                statuses.append((path, answer.status_code))
    assert not getattr(app, "errors", [])
    return statuses


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_each_shape_is_served(shape: str) -> None:
    statuses = _served(_document(SHAPES[shape], _get("/nodes", _ref("Node"), "nodes")))
    assert ("/nodes", 200) in statuses


def _chain(length: int, rng: random.Random) -> dict[str, Any]:
    """`length` schemas, each naming the next in a shape drawn at random, the last the first."""
    schemas: dict[str, Any] = {}
    for i in range(length):
        nxt = _ref(f"S{(i + 1) % length}")
        kind = rng.randrange(6)
        if kind == 0:
            schemas[f"S{i}"] = {"type": "object", "required": ["next"], "properties": {"next": nxt}}
        elif kind == 1:
            schemas[f"S{i}"] = {"type": "object", "properties": {"next": {**nxt, "description": f"step {i}"}}}
        elif kind == 2:
            schemas[f"S{i}"] = {
                "allOf": [nxt, {"type": "object", "properties": {f"p{i}": {"type": "string"}}}]
            }
        elif kind == 3:
            schemas[f"S{i}"] = {"type": "array", "minItems": 1, "items": nxt}
        elif kind == 4:
            schemas[f"S{i}"] = {"anyOf": [nxt, {"type": "null"}], "description": "maybe"}
        else:
            schemas[f"S{i}"] = {
                "type": "object",
                "properties": {"a": nxt, "b": _ref(f"S{rng.randrange(length)}")},
            }
    return schemas


@pytest.mark.parametrize("seed", range(4))
def test_generated_chains_thousands_of_references_long_are_served(seed: int) -> None:
    rng = random.Random(seed)
    schemas = _chain(5000, rng)
    paths: dict[str, Any] = {}
    for n in range(6):  # operations entering the chain at different places
        paths.update(_get(f"/s{n}", _ref(f"S{rng.randrange(5000)}"), f"s{n}"))
    statuses = _served(_document(schemas, paths))
    assert len(statuses) == 12


@pytest.mark.parametrize("seed", range(6))
def test_generated_mutually_recursive_families_are_served(seed: int) -> None:
    # Many schemas naming one another at random, through every keyword that takes a schema.
    rng = random.Random(seed)
    names = [f"T{i}" for i in range(60)]

    def sub(depth: int) -> dict[str, Any]:
        pick = rng.randrange(8 if depth < 3 else 2)
        target = _ref(rng.choice(names))
        if pick == 0:
            return target
        if pick == 1:
            return {**target, "description": "with a sibling"}
        if pick == 2:
            return {"type": "array", "items": sub(depth + 1)}
        if pick == 3:
            return {"anyOf": [sub(depth + 1), {"type": "null"}]}
        if pick == 4:
            return {"allOf": [target, {"description": "annotated"}]}
        if pick == 5:
            return {"oneOf": [sub(depth + 1), sub(depth + 1)]}
        if pick == 6:
            return {"type": "object", "properties": {"x": sub(depth + 1)}}
        return {"allOf": [sub(depth + 1), {"type": "object", "properties": {"y": sub(depth + 1)}}]}

    schemas = {
        name: {"type": "object", "properties": {f"f{k}": sub(0) for k in range(rng.randint(1, 4))}}
        for name in names
    }
    paths: dict[str, Any] = {}
    for n in range(8):
        paths.update(_get(f"/t{n}", _ref(rng.choice(names)), f"t{n}"))
    _served(_document(schemas, paths))


def test_pointers_with_percent_encoding_and_array_indices() -> None:
    document = _document(
        {
            "A": {
                "allOf": [{"type": "object", "properties": {"id": {"type": "integer"}}}, {"required": ["id"]}]
            },
        },
        {
            "/items/{id}": {
                "get": {
                    "operationId": "item",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/xml; charset=utf-8": {
                                    "schema": {"$ref": "#/components/schemas/A/allOf/0"}
                                },
                                "application/json": {
                                    "schema": {
                                        "$ref": "#/paths/~1items~1%7Bid%7D/get/responses/200/content/"
                                        "application~1xml;%20charset=utf-8/schema"
                                    }
                                },
                            },
                        }
                    },
                }
            }
        },
    )
    contract = contract_from_dict(document)
    with Client(create_app(contract, settings=Settings(seed=1))) as client:
        answer = client.request("GET", "/items/7", headers={"accept": "application/json"})
    assert answer.status_code == 200
    assert isinstance(answer.json().get("id", 0), int)


def test_an_operation_that_cannot_be_prepared_is_skipped_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mock_server.engine as engine_module

    real = build_table

    def broken(document: Any, raw: Any, *args: Any, **kwargs: Any) -> Any:
        if "500" in (raw or {}):
            raise RuntimeError("the generator broke\nwith a second line")
        return real(document, raw, *args, **kwargs)

    monkeypatch.setattr(engine_module, "build_responses", broken)
    document = _document({}, {})
    document["paths"] = {
        "/fine": {
            "get": {
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "integer"}}},
                    }
                }
            }
        },
        "/broken": {"get": {"responses": {"500": {"description": "no"}}}},
    }
    contract = contract_from_dict(document)
    engine = Engine(contract, Settings())
    assert engine.skipped_lines() == [
        "<document> at /paths/~1broken/get: GET /broken is not served: RuntimeError: the generator broke"
    ]
    with Client(create_app(contract)) as client:
        assert client.request("GET", "/fine").status_code == 200
        answer = client.request("GET", "/broken")
    assert answer.status_code == 501
    assert answer.json() == {
        "detail": "GET /broken is not served by the mock: RuntimeError: the generator broke"
    }


def test_the_cli_prints_the_skip_line_and_serves_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import mock_server.engine as engine_module

    real = build_table

    def broken(document: Any, raw: Any, *args: Any, **kwargs: Any) -> Any:
        if "418" in (raw or {}):
            raise RecursionError("maximum recursion depth exceeded")
        return real(document, raw, *args, **kwargs)

    monkeypatch.setattr(engine_module, "build_responses", broken)
    document = json.loads(json.dumps(load_contract().document))
    document["paths"]["/v2/teapot"] = {"get": {"responses": {"418": {"description": "no"}}}}
    spec = tmp_path / "doc.json"
    spec.write_text(json.dumps(document))
    # `fixtures` builds the same engine as the server: the skipped operation is one line, the rest written.
    code = main(["fixtures", "--spec", str(spec), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 0
    assert (
        f"meibel-mock: warning: {spec} at /paths/~1v2~1teapot/get: GET /v2/teapot is not served: "
        "RecursionError: maximum recursion depth exceeded\n"
    ) in err
    assert "Traceback" not in err
    assert list((tmp_path / "out").glob("*.json"))


def test_fixtures_of_a_document_whose_answer_is_recursive(tmp_path: Path) -> None:
    # The bundled document with a recursive, annotated reference in createExecution's answer.
    contract = load_contract()
    document = json.loads(json.dumps(contract.document))
    schemas = document["components"]["schemas"]
    schemas["Tree"] = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {**_ref("Tree"), "description": "a subtree"}}},
    }
    answer = schemas["BatchExecutionResponse"]
    answer["properties"]["tree"] = {"allOf": [_ref("Tree"), {"description": "the plan"}]}
    spec = tmp_path / "doc.json"
    spec.write_text(json.dumps(document))
    code = main(["fixtures", "--spec", str(spec), "--out", str(tmp_path / "out")])
    assert code == 0
    assert len(list((tmp_path / "out").glob("*.json"))) >= 6


def test_a_graph_shaped_document_of_thousands_of_operations_is_served() -> None:
    # Past 1000 operations the answers' generators are compiled on first use, and schemas that
    # reach many others are validated by the shared walker: answers still match the document.
    from bench.graph_document import build

    document = build(entities=300, served=220)
    contract = contract_from_dict(document)
    assert len(contract.operations) > 1000
    app = create_app(contract, settings=Settings(seed=2))
    assert app.state.engine.generator.lazy and app.state.engine.skipped == {}
    headers = {"authorization": f"Bearer {KEY}", "accept": "application/json"}
    item = contract.find("GET", "/section0s/{section0-id}")
    schema = item.responses["200"].schema
    with Client(app) as client:
        for n in range(5):
            answer = client.request("GET", f"/v1.0/section0s/{n}", headers=headers)
            assert answer.status_code == 200
            assert contract.compiler.checker(schema).is_valid(answer.json())
        listing = client.request("GET", "/v1.0/section0s", headers=headers)
        created = client.request("POST", "/v1.0/section0s", headers=headers, json={"@odata.type": "x"})
        refused = client.request("POST", "/v1.0/section0s", headers=headers, json={"@odata.type": 1})
    assert listing.status_code == 200 and "value" in listing.json()
    assert created.status_code == 201
    assert refused.status_code == 422  # the walker judged the body: a number where a string goes


def test_reachable_counts_through_properties_named_like_keywords() -> None:
    from mock_server.document.refs import reachable

    root = {
        "components": {
            "schemas": {f"S{i}": {"properties": {"value": _ref(f"S{i + 1}")}} for i in range(10)}
            | {"S10": {"type": "string"}}
        }
    }
    assert reachable(root, _ref("S0"), 100) == 11
    large: set[str] = set()
    assert reachable(root, _ref("S0"), 5, large) == 5
    assert large == {"#/components/schemas/S0"}
    assert reachable(root, {"items": _ref("S0")}, 5, large) == 5  # met a known large one: stops


def test_a_date_time_with_graphs_pattern_is_a_date_time() -> None:
    # The pattern alone allows `12345-01-01T00:00:00+99:99`; the format's own value fits both.
    from datetime import datetime

    from mock_server.schema.generation import Generator

    pattern = (
        r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:"
        r"[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$"
    )
    generator = Generator({})
    schema = {"type": "string", "format": "date-time", "pattern": pattern}
    for seed in range(50):
        value = generator.instance(schema, random.Random(seed))
        assert datetime.fromisoformat(value.replace("Z", "+00:00")).year < 10000, value


def test_an_operation_the_contract_cannot_read_is_skipped_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mock_server import contract as contract_module

    real = contract_module._Builder.request_body

    def broken(self: Any, raw: Any, pointer: str) -> Any:
        if "broken" in pointer:
            raise TypeError("unhashable type: 'dict'")
        return real(self, raw, pointer)

    monkeypatch.setattr(contract_module._Builder, "request_body", broken)
    body = {"content": {"application/json": {"schema": {"type": "integer"}}}}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}}
    document = _document(
        {},
        {
            "/fine": {"post": {"requestBody": body, "responses": ok}},
            "/broken": {"post": {"requestBody": body, "responses": ok}},
        },
    )
    contract = contract_from_dict(document)
    engine = Engine(contract, Settings())
    assert engine.skipped_lines() == [
        "<document> at /paths/~1broken/post: POST /broken is not served: TypeError: unhashable type: 'dict'"
    ]
    with Client(create_app(contract)) as client:
        assert client.request("POST", "/fine", json=3).status_code == 200
        answer = client.request("POST", "/broken", json=3)
    assert answer.status_code == 501
    assert "TypeError: unhashable type" in answer.json()["detail"]
