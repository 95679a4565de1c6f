"""Patterns from the public documents (Box, Twilio, DigitalOcean, the OpenAPI Initiative's examples)
that Schemathesis's CLI found the mock getting wrong, on small excerpts (tests/documents/
real-world-excerpts.yaml). The other patterns those documents use have their tests elsewhere:
writeOnly, nullable in allOf, overlapping oneOf, uniqueItems, readOnly in required and format
ranges in test_keywords.py and test_corpus.py; HTTP Basic with the key as password in
test_requests.py; unquoted YAML dates, references to other files and OpenAPI 3.2 in
test_documents.py; checks sharing the compiled components in test_documents.py."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server import Settings, create_app, load_contract
from mock_server.schema.generation import Generator
from tests.conftest import Client

EXCERPTS = Path(__file__).parents[1] / "documents" / "real-world-excerpts.yaml"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    client = Client(create_app(load_contract(EXCERPTS), settings=Settings(seed=7)))
    yield client
    client.close()


def test_an_empty_urlencoded_body_is_the_empty_form(api: Client) -> None:
    # USPTO: the body is optional, but one sent as a form must have `criteria`. Schemathesis's
    # empty form got 200 (read as no body at all).
    empty = api.request("POST", "/2.0/oa_citations/v1/records", headers=FORM, content=b"")
    assert empty.status_code == 422
    assert [e["loc"] for e in empty.json()["detail"]] == [["body", "criteria"]]
    assert (
        api.request("POST", "/2.0/oa_citations/v1/records", headers=FORM, content=b"rows=5").status_code
        == 422
    )
    found = api.request("POST", "/2.0/oa_citations/v1/records", headers=FORM, content=b"criteria=*:*")
    assert found.status_code == 200 and isinstance(found.json(), list)
    # no body at all, and no content type: the optional body left out
    assert api.request("POST", "/2.0/oa_citations/v1/records").status_code == 200


def test_an_operation_with_its_own_servers_points_at_the_mock(api: Client) -> None:
    # Box: Schemathesis followed `servers` of the upload operations to upload.box.com.
    served = api.request("GET", "/openapi.json").json()
    operation = served["paths"]["/files/content"]["post"]
    assert operation["servers"][0]["url"] == served["servers"][0]["url"]
    assert operation["servers"][0]["url"].endswith("/2.0")
    assert operation["servers"][1] == {"url": "https://upload.example.com/api/2.0"}
    uploaded = api.request("POST", "/2.0/files/content")
    assert uploaded.status_code == 201 and isinstance(uploaded.json()["id"], str)


def test_a_path_told_apart_by_a_fragment_is_served_by_the_plain_path(api: Client) -> None:
    # Box's `/shared_items#folders`: no client sends a fragment, so the request reaches
    # `/shared_items`, whatever Schemathesis meant. A failure there is the document's.
    for _ in range(3):
        assert api.request("GET", "/2.0/shared_items").json()["type"] == "file"
    # spelled out, percent-encoded, the path as the document writes it is served as such
    assert api.request("GET", "/2.0/shared_items%23folders").json()["type"] == "folder"


def test_a_required_array_left_out_of_a_form_is_the_empty_list(api: Client) -> None:
    # Twilio: Schemathesis sends `UseCaseCategories: []` as no pair at all, and got 422 "missing".
    url = "/2.0/Tollfree/Verifications"
    made = api.request("POST", url, headers=FORM, content=b"BusinessName=Owl&Samples=hi")
    assert made.status_code == 201
    two = (
        b"BusinessName=Owl&Samples=hi&UseCaseCategories=MARKETING&UseCaseCategories=TWO_FACTOR_AUTHENTICATION"
    )
    assert api.request("POST", url, headers=FORM, content=two).status_code == 201
    # `minItems: 1` still wants one; a plain required field is still missing when left out
    short = api.request("POST", url, headers=FORM, content=b"BusinessName=Owl")
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "Samples"]
    unnamed = api.request("POST", url, headers=FORM, content=b"Samples=hi")
    assert [e["loc"] for e in unnamed.json()["detail"]] == [["body", "BusinessName"]]
    wrong = api.request("POST", url, headers=FORM, content=b"BusinessName=Owl&Samples=hi&UseCaseCategories=X")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "UseCaseCategories", 0]


def test_an_operation_in_a_file_of_its_own_is_served_inline(tmp_path: Path) -> None:
    # DigitalOcean: `paths: /v2/account: get: $ref: resources/account_get.yml`. Bundled as a `$ref`
    # (which OpenAPI does not allow there), Schemathesis saw operations without responses.
    (tmp_path / "resources").mkdir()
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.0.0\ninfo: {title: Split, version: '2.0'}\nservers: [{url: 'https://api.example.com'}]\n"
        "paths:\n  /v2/account:\n    get:\n      $ref: 'resources/account_get.yml'\n"
    )
    (tmp_path / "resources" / "account_get.yml").write_text(
        "operationId: account_get\nresponses:\n  '200':\n    $ref: 'account.yml'\n"
    )
    (tmp_path / "resources" / "account.yml").write_text(
        "description: the account\ncontent:\n  application/json:\n    schema:\n      type: object\n"
        "      required: [uuid]\n      properties:\n        uuid: {type: string}\n"
    )
    client = Client(create_app(load_contract(tmp_path / "openapi.yaml"), settings=Settings(seed=1)))
    try:
        served = client.request("GET", "/openapi.json")
        operation = served.json()["paths"]["/v2/account"]["get"]
        # Schemathesis takes any reference beginning `#/x-bundled` for one into its own bundle
        assert '"#/x-bundled' not in served.text and not any(k.startswith("x-bundled") for k in served.json())
        assert "$ref" not in operation and operation["operationId"] == "account_get"
        assert set(operation["responses"]) == {"200"}
        answer = client.request("GET", "/v2/account")
        assert answer.status_code == 200 and isinstance(answer.json()["uuid"], str)
    finally:
        client.close()


def test_a_pattern_with_an_anchored_empty_branch_and_no_max_length() -> None:
    # DigitalOcean's `private_network_uuid`: without maxLength, the plain-text default of 12
    # characters refused every UUID the pattern gives, and the last, broken sample was served.
    pattern = r"^$|[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}"
    schema = {
        "type": "object",
        "required": ["uuid"],
        "properties": {"uuid": {"type": "string", "pattern": pattern}},
    }
    generate = Generator({}).compile(schema)
    rng = random.Random(3)
    values = [generate(rng, 0)["uuid"] for _ in range(200)]
    assert [v for v in values if not re.search(pattern, v)] == []
    assert "" in values and any(len(v) >= 36 for v in values)  # both branches drawn
