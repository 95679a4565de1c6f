"""CORS for pages on other origins, credentials included (mock_server/http/cors.py and its wiring)."""

from __future__ import annotations

import logging

import httpx
import pytest

from mock_server import Contract, Settings, UsageError
from mock_server.cli import banner, main
from mock_server.http.cors import CorsPolicy, parse_origin
from tests.conftest import PATH, Client

PAGE = "http://localhost:5173"


def preflight(
    client: Client, origin: str = PAGE, method: str = "POST", path: str = PATH, **extra: str
) -> httpx.Response:
    headers = {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    return client.request("OPTIONS", path, headers=headers)


def test_any_origin_is_echoed_with_credentials(client: Client) -> None:
    response = client.create(headers={"Origin": PAGE})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == PAGE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    exposed = response.headers["access-control-expose-headers"].split(", ")
    assert {"retry-after", "x-mock-injected", "location", "www-authenticate"} <= set(exposed)


def test_errors_carry_the_cors_headers_too(client: Client) -> None:
    # A page must be able to read a 401, a 422 and an injected fault, not just a 201.
    for response in (
        client.post(json={}, headers={"Origin": PAGE}),
        client.create({}, headers={"Origin": PAGE}),
        client.create(headers={"Origin": PAGE, "Prefer": "fault=429"}),
    ):
        assert response.status_code in (401, 422, 429)
        assert response.headers["access-control-allow-origin"] == PAGE


def test_preflight_allows_the_paths_methods_and_the_requested_headers(client: Client) -> None:
    response = preflight(client, **{"Access-Control-Request-Headers": "Meibel-API-Key, Content-Type, Prefer"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == PAGE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-methods"] == "POST"  # the document's, no QUERY
    assert response.headers["access-control-allow-headers"] == "meibel-api-key, content-type, prefer"
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"


def test_preflight_for_the_mocks_own_endpoints(client: Client) -> None:
    assert preflight(client, method="DELETE", path="/__mock/requests").headers[
        "access-control-allow-methods"
    ] == ("GET, DELETE")
    assert preflight(client, method="GET", path="/openapi.json").status_code == 204


def test_preflight_for_an_unknown_path_lets_the_page_read_the_404(client: Client) -> None:
    assert preflight(client, path="/v2/nowhere").status_code == 204
    response = client.post("/v2/nowhere", headers={"Origin": PAGE})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == PAGE


def test_a_method_the_path_does_not_serve_is_refused_with_the_reason(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mock_server"):
        response = preflight(client, method="DELETE")
        query = preflight(client, method="QUERY")
    assert response.status_code == 400
    assert response.json() == {"detail": "Disallowed CORS method DELETE: this path serves POST"}
    assert query.status_code == 400
    assert "origin 'http://localhost:5173'" in caplog.text
    assert "this path serves POST" in caplog.text


def test_preflights_are_journaled(client: Client) -> None:
    preflight(client, **{"Access-Control-Request-Headers": "meibel-api-key"})
    journal = client.request("GET", "/__mock/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [("OPTIONS", PATH, 204)]
    assert journal[0]["headers"]["origin"] == PAGE


@pytest.mark.parametrize("settings", [Settings(cors_origins=("http://app.local/",))])
def test_a_list_of_origins(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    ok = client.create(headers={"Origin": "http://app.local"})  # the trailing slash was corrected
    assert ok.headers["access-control-allow-origin"] == "http://app.local"
    other = client.create(headers={"Origin": "http://evil.local"})
    assert "access-control-allow-origin" not in other.headers
    assert other.headers["vary"] == "Origin"
    with caplog.at_level(logging.WARNING, logger="mock_server"):
        refused = preflight(client, origin="http://evil.local")
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["detail"].startswith("Disallowed CORS origin 'http://evil.local'")
    assert "http://app.local" in refused.json()["detail"]
    assert "CORS preflight refused: origin 'http://evil.local', POST /v2/batch-executions" in caplog.text
    journal = client.request("GET", "/__mock/requests").json()["requests"]
    assert journal[-1]["method"] == "OPTIONS" and journal[-1]["status"] == 400


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://localhost:5173/", "http://localhost:5173"),
        ("HTTP://LocalHost:5173", "http://localhost:5173"),
        ("https://app.example:443", "https://app.example"),
        ("http://[::1]:5173", "http://[::1]:5173"),
        ("capacitor://localhost", "capacitor://localhost"),
    ],
)
def test_origins_are_written_as_browsers_send_them(given: str, expected: str) -> None:
    assert parse_origin(given) == expected


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("localhost:5173", "has no scheme: write it as a browser does, e.g. http://localhost:5173"),
        ("http://localhost:5173/app", "with no path, query or user name (e.g. http://localhost:5173)"),
        ("http://user@localhost:5173", "with no path, query or user name"),
        ("http://localhost:99999", "not a valid host and port"),
        ("http://", "not a valid host and port"),
    ],
)
def test_a_malformed_origin_is_one_line_and_exit_2(
    given: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--cors-origin", given, "--port", "0"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and hint in err
    with pytest.raises(UsageError):
        CorsPolicy([given])  # the same check for Settings given in code


def test_the_policy_is_described_for_the_banner() -> None:
    assert CorsPolicy().describe().startswith("any origin, with credentials")
    listed = CorsPolicy(["http://localhost:5173/", "http://127.0.0.1:5173"]).describe()
    assert listed.startswith("http://127.0.0.1:5173, http://localhost:5173 (with credentials)")
    assert "localhost and 127.0.0.1 are different origins" in listed


def test_the_three_spellings_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from mock_server.cli import _serve_parser

    parsed = _serve_parser().parse_args(["--cors-origin", "http://localhost:5173/"])
    assert parsed.cors_origin == ["http://localhost:5173"]  # trailing slash: accepted, corrected
    for wrong in ("localhost:5173", "http://localhost:5173/app"):
        with pytest.raises(SystemExit) as exited:
            _serve_parser().parse_args(["--cors-origin", wrong])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "e.g. http://localhost:5173" in err


def test_the_banner_states_the_policy(contract: Contract) -> None:
    any_origin = banner(contract, Settings(), "127.0.0.1", 8000)
    assert (
        "  CORS:      any origin, with credentials (the page's Origin is echoed); "
        "localhost and 127.0.0.1 are different origins"
    ) in any_origin.splitlines()
    assert "  Docs:      http://127.0.0.1:8000/docs (Swagger UI, offline)" in any_origin.splitlines()
    listed = banner(contract, Settings(cors_origins=("http://localhost:5173",)), "127.0.0.1", 8000)
    assert "  CORS:      http://localhost:5173 (with credentials); localhost" in listed


@pytest.mark.parametrize("settings", [Settings(cors_origins=("http://localhost:5173",))])
def test_a_refusal_names_the_localhost_trap(client: Client) -> None:
    refused = preflight(client, origin="http://127.0.0.1:5173")
    assert refused.json()["detail"].endswith(
        "; localhost and 127.0.0.1 are different origins: add --cors-origin http://127.0.0.1:5173"
    )
    assert "different origins" not in preflight(client, origin="http://127.0.0.1:5174").json()["detail"]
