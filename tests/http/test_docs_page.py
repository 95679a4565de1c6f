"""/openapi.json (the mock first in `servers`), /docs (Swagger UI, offline) and FastAPI's
trailing-slash redirect."""

from __future__ import annotations

import json
import re

import pytest

from mock_server import Contract
from mock_server.http import served_document as served_module
from mock_server.http.served_document import ServedDocument
from tests.conftest import JSON_CT, KEY, PATH, VALID, Client


def test_the_document_names_the_mock_first_and_keeps_the_rest(client: Client, contract: Contract) -> None:
    response = client.request("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["servers"][0] == {
        "url": "http://127.0.0.1:8000/v2",
        "description": "This mock (meibel-mock)",
    }
    assert served["servers"][1:] == contract.document["servers"]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in contract.document.items() if k != "servers"
    }
    assert list(served) == list(contract.document)  # key order kept: the rest is verbatim
    assert client.post("/openapi.json").status_code == 405


def test_the_url_follows_the_host_the_client_used(client: Client) -> None:
    served = client.request("GET", "/openapi.json", headers={"Host": "localhost:9000"}).json()
    assert served["servers"][0]["url"] == "http://localhost:9000/v2"


def test_a_host_header_that_is_not_a_host_falls_back_to_the_bound_address() -> None:
    document = ServedDocument({"openapi": "3.1.0", "paths": {}}, "/v2")
    assert document.url("http", 'evil"><script>', ("127.0.0.1", 8123)) == "http://127.0.0.1:8123/v2"
    assert document.url("http", None, ("::1", 8123)) == "http://[::1]:8123/v2"
    assert json.loads(document.bytes_for("http://x:1/v2"))["servers"] == [
        {"url": "http://x:1/v2", "description": "This mock (meibel-mock)"}
    ]


def test_servers_of_a_path_or_an_operation_also_start_with_the_mock() -> None:
    # Box sends uploads to `https://upload.box.com/api/2.0` (an operation's own `servers`): a
    # client following the served document left the mock for the real host there.
    upload = {"url": "https://upload.example.com/api/2.0"}
    document = ServedDocument(
        {
            "openapi": "3.1.0",
            "servers": [{"url": "https://api.example.com/2.0"}],
            "paths": {
                "/files": {"post": {"servers": [upload], "responses": {}}, "get": {"responses": {}}},
                "/sessions": {"servers": [upload], "get": {"responses": {}}},
                "/plain": {"get": {"responses": {}}},
            },
        },
        "/2.0",
    )
    served = json.loads(document.bytes_for("http://x:1/2.0"))
    mock = {"url": "http://x:1/2.0", "description": "This mock (meibel-mock)"}
    assert served["paths"]["/files"]["post"]["servers"] == [mock, upload]
    assert "servers" not in served["paths"]["/files"]["get"]
    assert served["paths"]["/sessions"]["servers"] == [mock, upload]
    assert served["paths"]["/plain"] == {"get": {"responses": {}}}
    assert served["servers"][0] == mock


def test_the_per_host_cache_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch, contract: Contract) -> None:
    document = ServedDocument(contract.document, contract.base_path)
    size = len(document.bytes_for("http://a:1/v2"))
    monkeypatch.setattr(served_module, "CACHE_BYTES", size * 3)
    for port in range(2, 50):
        document.bytes_for(f"http://a:{port}/v2")
    assert len(document._cache) <= 3 and document._cached_bytes <= size * 3
    first = document.bytes_for("http://a:49/v2")
    assert document.bytes_for("http://a:49/v2") is first  # served from the cache, not rebuilt


def test_docs_page_uses_only_local_assets(client: Client, contract: Contract) -> None:
    page = client.request("GET", "/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert "SwaggerUIBundle" in page.text and '"/docs/openapi.json"' in page.text
    assert contract.title in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # no CDN
    assets = re.findall(r'(?:src|href)="(/docs/[^"]+)"', page.text)
    assert len(assets) == 3
    for url in assets:
        asset = client.request("GET", url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["x-content-type-options"] == "nosniff"
        kind = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "png": "image/png"}
        assert asset.headers["content-type"] == kind[url.rsplit(".", 1)[1]]
        assert len(asset.content) == int(asset.headers["content-length"]) > 0
    bundle = next(url for url in assets if url.endswith("swagger-ui-bundle.js"))
    assert "https://" not in client.request("GET", bundle).text[:200]


@pytest.mark.parametrize(
    "path", ["/docs/assets/0/swagger-ui.css", "/docs/nothing", "/docs/assets/../../etc/passwd"]
)
def test_unknown_docs_paths_are_404(client: Client, path: str) -> None:
    response = client.request("GET", path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_docs_is_read_only(client: Client) -> None:
    response = client.post("/docs")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_the_redirect_leads_to_a_created_execution(client: Client) -> None:
    response = client.request(
        "POST", PATH + "/?a=1", content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT}
    )
    assert response.status_code == 307
    assert response.headers["location"] == "http://127.0.0.1:8000/v2/batch-executions?a=1"
    assert response.content == b""
    followed = client.request(
        "POST", response.headers["location"], content=json.dumps(VALID).encode(), headers={**KEY, **JSON_CT}
    )
    assert followed.status_code == 201
    journal = client.request("GET", "/__mock/requests").json()["requests"]
    assert [e["status"] for e in journal] == [307, 201]


def test_docs_shows_only_the_tags_that_have_operations(client: Client, contract: Contract) -> None:
    # The Meibel document lists twelve tags and uses one other: Swagger UI drew twelve empty
    # sections, which read as operations that failed to load.
    page = client.request("GET", "/docs").text
    assert '"/docs/openapi.json"' in page
    listed = [tag["name"] for tag in contract.document["tags"]]
    assert len(listed) == 12
    view = client.request("GET", "/docs/openapi.json")
    assert view.status_code == 200 and view.headers["content-type"] == "application/json"
    served = view.json()
    assert served.get("tags") == []  # the one tag in use ("Batch Executions") is not listed
    full = client.request("GET", "/openapi.json").json()
    assert full["tags"] == contract.document["tags"]  # /openapi.json stays verbatim
    assert {**served, "tags": full["tags"]} == full
    assert client.post("/docs/openapi.json").status_code == 405


def test_the_docs_view_keeps_used_tags_in_their_order() -> None:
    tags = [{"name": "pets", "description": "p"}, {"name": "unused"}, {"name": "stores"}, "not a tag"]
    paths = {
        "/pets": {"get": {"tags": ["pets"], "responses": {}}, "parameters": []},
        "/stores": {"post": {"tags": ["stores", 3], "responses": {}}},
    }
    document = ServedDocument({"openapi": "3.1.0", "tags": tags, "paths": paths}, "")
    view = json.loads(document.bytes_for("http://x", docs=True))
    assert view["tags"] == [tags[0], tags[2]]
    assert json.loads(document.bytes_for("http://x"))["tags"] == tags
    every_tag_used = ServedDocument({"openapi": "3.1.0", "tags": tags[:1], "paths": paths}, "")
    assert json.loads(every_tag_used.bytes_for("http://x", docs=True))["tags"] == tags[:1]
