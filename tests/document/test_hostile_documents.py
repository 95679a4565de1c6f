"""Hostile requests to operations answered in the document's own terms: never a 500, never a status
outside HTTP's, never a body without a Content-Type. A fixed seed and a bounded count of requests."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from mock_server import create_app, load_contract
from mock_server.contract import contract_from_dict
from tests.conftest import Client
from tests.document.test_document_shapes import DOC as SHAPES
from tests.request.test_requests import DOC as REQUESTS

DOCUMENTS = Path(__file__).parents[1] / "documents"
PATHS = [
    "/items", "/items/AB123", "/items/%00", "/things", "/pets", "/pets?limit=1e99", "/q/deep?p[x]=1&p[",
    "/q/object-flat?p=x", "/matrix/;;;==", "/label/.", "/simple/,,,", "/header", "/form", "/by-basic",
    "/by-cookie", "/by-query?api_key=", "/examples", "/only-errors?__code=4XX", "/pets?api_key=meibel-mock-key",
]  # fmt: skip
ACCEPT = [
    "",
    "*/*",
    "text/*;q=abc",
    "application/json;q=0",
    ";;,",
    "a/b/c",
    "*/json",
    "text/plain;q=0, */*;q=0",
]
PREFER = [
    "",
    "code=999",
    "code=abc",
    "code=100",
    "example=x",
    "dynamic=true",
    "code=4XX",
    "code=200, example=rex",
]
CONTENT_TYPE = ["", "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
                "multipart/form-data", "text/plain"]  # fmt: skip
BODIES = [b"", b"{", b"name=x&age=1&tags=a", b'--b\r\nContent-Disposition: form-data; name="age"\r\n\r\nx\r\n--b--',
          b"\xff\xfe", b"--b\r\n\r\n--b--"]  # fmt: skip
AUTH = ["", "Basic !!", "Basic dTpr", "Digest", "Bearer x", "Basic " + "A" * 300]


def _apps() -> list[Any]:
    contracts = [load_contract(path) for path in sorted(DOCUMENTS.glob("*.yaml"))]
    contracts += [contract_from_dict(SHAPES), contract_from_dict(REQUESTS)]
    return [create_app(contract) for contract in contracts]


@pytest.mark.parametrize("index", range(5))
def test_no_server_errors(index: int) -> None:
    app = _apps()[index]
    client = Client(app)
    rng = random.Random(index)
    try:
        for _ in range(300):
            headers = {
                "accept": rng.choice(ACCEPT),
                "prefer": rng.choice(PREFER),
                "content-type": rng.choice(CONTENT_TYPE),
                "authorization": rng.choice(AUTH),
                "x-point": rng.choice(["", "x=1,=,", ",,", "x"]),
                "cookie": rng.choice(["", "session=;;", "=="]),
            }
            sent = {k: v for k, v in headers.items() if v}
            answer = client.request(
                rng.choice(["GET", "POST"]), rng.choice(PATHS), headers=sent, content=rng.choice(BODIES)
            )
            assert 100 <= answer.status_code < 500, (sent, answer.status_code, answer.text[:200])
            assert not answer.content or "content-type" in answer.headers, sent
    finally:
        client.close()
    assert app.errors == []
