"""What the mock says about a document: a warning only where there is something to warn of, a
server URL no request can reach served at `/`, and an error line kept whole where it matters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.contract import contract_from_dict
from mock_server.errors import ContractError, one_line
from tests.conftest import Client
from tests.document.test_documents import MARKER, minimal, op


def test_a_property_named_properties_is_not_a_properties_map(tmp_path: Path) -> None:
    # 493 of the 496 documents that were warned had only this: a property called `properties`.
    document = minimal(
        paths={
            "/a": {
                "post": op(
                    requestBody={
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
                    }
                )
            }
        },
        components={
            "schemas": {
                "A": {
                    "type": "object",
                    "properties": {"properties": {"$ref": "#/components/schemas/Props"}},
                },
                "Props": {"type": "object", "properties": {"size": {"type": "integer"}}},
            }
        },
    )
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(document))
    contract = load_contract(spec)
    assert contract.warnings == ()
    validator = contract.find("post", "/a").body.validator  # type: ignore[union-attr]
    assert validator is not None
    assert validator.is_valid({"properties": {"size": 1}})
    assert not validator.is_valid({"properties": {"size": "big"}})


@pytest.mark.parametrize("url", ["api.example.com", ",", "Your API URL", "api.example.com/v1"])
def test_a_server_url_no_request_can_reach_is_served_at_the_root(url: str) -> None:
    document = minimal(servers=[{"url": url}], paths={"/pets": {"get": op()}})
    contract = contract_from_dict(document)
    assert contract.base_path == ""
    assert [(w.pointer, w.message) for w in contract.warnings] == [
        ("/servers/0/url", f"server url {url!r} is not a URL a request can reach; served at /")
    ]
    with Client(create_app(contract, settings=Settings())) as client:
        assert client.request("GET", "/pets").status_code == 200
    with pytest.raises(ContractError, match="refused under --strict"):
        contract_from_dict(document, strict=True)


@pytest.mark.parametrize(
    ("url", "base"), [("https://api.example.com/v1/", "/v1"), ("/v2", "/v2"), ("//h/x", "/x")]
)
def test_a_server_url_with_a_path_keeps_it(url: str, base: str) -> None:
    contract = contract_from_dict(minimal(servers=[{"url": url}], paths={"/pets": {"get": op()}}))
    assert (contract.base_path, contract.warnings) == (base, ())


def test_a_long_error_line_keeps_its_end_and_never_the_whole_document() -> None:
    # openapi-spec-validator's message begins with the value it refused (here, a parameter with
    # a long description), and says what is wrong with it last: it was cut at 200 characters.
    parameter = {"name": "x", "in": "query", "description": MARKER * 40, "schema": {}, "content": {}}
    document: dict[str, Any] = {
        **minimal(paths={"/a": {"get": op(parameters=[parameter])}}),
        "openapi": "3.0.3",
    }
    with pytest.raises(ContractError) as caught:
        contract_from_dict(document, strict=True)
    line = str(caught.value)
    assert "\n" not in line and len(line) < 600
    assert line.endswith("is not valid under any of the schemas listed in the 'oneOf' keyword")
    assert MARKER * 40 not in line


def test_one_line_keeps_what_fits_and_both_ends_of_what_does_not() -> None:
    assert one_line("\n  short  \nsecond") == "short"
    long = "x" * 1000 + ' is not a "regex"'
    shortened = one_line(long, limit=100)
    assert len(shortened) <= 100 and shortened.endswith('is not a "regex"') and shortened.startswith("x")
