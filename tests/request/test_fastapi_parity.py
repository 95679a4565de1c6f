"""Differential test: the mock and a FastAPI twin of the real service answer alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import JSON_CT, KEY, PATH, VALID, Client
from tests.fastapi_twin import create_twin

leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
any_json = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
# pydantic's lax mode turns "5" and true into integers; the mock is strict on purpose (README).
# Integer fields therefore get no booleans and no numeric strings here.
not_lax = any_json.filter(lambda v: not isinstance(v, bool) and not (isinstance(v, str) and _numeric(v)))


def _numeric(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def maybe(valid: st.SearchStrategy[Any], wild: st.SearchStrategy[Any] = any_json) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, wild)


def fields(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    return maybe(st.fixed_dictionaries(required, optional=optional))


filters = fields(
    {},
    {
        "regex": maybe(st.text(max_size=5) | st.none()),
        "media_types": maybe(st.lists(st.text(max_size=5), max_size=2) | st.none()),
        "element_ids": maybe(st.lists(st.text(max_size=5), max_size=2) | st.none()),
        "additional_properties": maybe(st.dictionaries(st.text(max_size=3), leaf, max_size=2)),
    },
)
execution = fields(
    {},
    {
        "concurrency": maybe(st.integers(-5, 1005) | st.none(), not_lax),
        "retry_limit": maybe(st.integers(-5, 1005) | st.none(), not_lax),
    },
)
batch_spec = fields(
    {
        "name": maybe(st.text(max_size=5)),
        "agent": maybe(st.text(max_size=5)),
        "input": fields(
            {"datasource_id": maybe(st.text(max_size=5))}, {"filters": maybe(filters | st.none())}
        ),
    },
    {
        "version": maybe(st.text(max_size=5) | st.none()),
        "user_message": maybe(st.text(max_size=5) | st.none()),
        "output": maybe(fields({}, {"datasource_id": maybe(st.text(max_size=5) | st.none())}) | st.none()),
        "execution": maybe(execution | st.none()),
        "additional_properties": maybe(st.dictionaries(st.text(max_size=3), leaf, max_size=2)),
    },
)
bodies = st.one_of(any_json, st.fixed_dictionaries({"batch_spec_json": batch_spec}))


@pytest.fixture(scope="module")
def twin() -> Iterator[Client]:
    client = Client(create_twin())
    yield client
    client.close()


def _ask(client: Client, body: Any) -> tuple[int, Any]:
    response = client.post(PATH, content=json.dumps(body).encode(), headers={**KEY, **JSON_CT})
    return response.status_code, response.json() if response.status_code == 422 else None


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_same_status_and_same_422_body_as_fastapi(client: Client, twin: Client, body: Any) -> None:
    assert _ask(client, body) == _ask(twin, body)


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"a":', JSON_CT),
        (b"", {}),
        (b"", JSON_CT),
        (b"[1]", JSON_CT),
        (b'{"batch_spec_json": 1}', {}),
        (b"{}", {"content-type": "text/plain"}),
        (b"{}", JSON_CT),
        (b'{"batch_spec_json": {}}', JSON_CT),
    ],
    ids=[
        "broken",
        "empty",
        "empty-json",
        "list",
        "no-content-type",
        "text-plain",
        "empty-object",
        "empty-spec",
    ],
)
@pytest.mark.parametrize("key", [KEY, {}], ids=["key", "no-key"])
def test_raw_bodies_answered_like_fastapi(
    client: Client, twin: Client, content: bytes, headers: dict[str, str], key: dict[str, str]
) -> None:
    mine = client.post(PATH, content=content, headers={**key, **headers})
    theirs = twin.post(PATH, content=content, headers={**key, **headers})
    assert (mine.status_code, mine.json()) == (theirs.status_code, theirs.json())
    assert mine.headers.get("www-authenticate") == theirs.headers.get("www-authenticate")


# --- trailing slash: FastAPI's redirect_slashes ------------------------------------------------


def _seen(response: httpx.Response) -> tuple[Any, ...]:
    return (
        response.status_code,
        response.headers.get("location"),
        response.headers.get("allow"),
        response.headers.get("content-type"),
        response.content,
    )


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("POST", PATH + "/", {**KEY, **JSON_CT}),
        ("POST", PATH + "/?dry=1&x=%20y", {**KEY, **JSON_CT}),
        ("POST", PATH + "//", {**KEY, **JSON_CT}),
        ("POST", PATH + "/", {}),  # before the key check, as routing comes first
        ("GET", PATH + "/", {}),  # then 405 at the redirected URL
        ("POST", PATH + "/", {"Host": "localhost:5173"}),
        ("POST", "/v2/nowhere/", {**KEY, **JSON_CT}),
        ("GET", "/openapi.json/", {}),
        ("GET", "/docs/", {}),
        ("POST", "/v2/", {}),
        ("GET", "/", {}),
    ],
)
def test_trailing_slash_answered_like_fastapi(
    client: Client, twin: Client, method: str, url: str, headers: dict[str, str]
) -> None:
    body = json.dumps(VALID).encode() if method == "POST" else None
    mine = client.request(method, url, content=body, headers=headers)
    theirs = twin.request(method, url, content=body, headers=headers)
    assert _seen(mine) == _seen(theirs)
