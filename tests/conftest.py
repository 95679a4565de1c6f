from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401
import httptools  # noqa: F401
import httpx
import pytest
import uvicorn.protocols.http.h11_impl
import uvicorn.protocols.http.httptools_impl  # noqa: F401

from mock_server import DEV_KEY, Contract, Settings, create_app, load_contract
from mock_server.testing import ThreadedServer, serve_in_thread
from tests import kit_install

# (The imports above, though unused here: pytester's in-process runs drop the modules first
# imported inside them. A server started by such a run imports httptools; imported afresh later, its
# exception classes were no longer the parser's own, and every later limit test got a reset
# connection instead of its 431. Imported once here, they stay.)

PATH = "/v2/batch-executions"
VALID: dict[str, Any] = {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}
KEY = {"Meibel-API-Key": DEV_KEY}
JSON_CT = {"content-type": "application/json"}


class Client:
    """httpx over ASGITransport (no socket), driven synchronously from an event loop of its own."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._runner = asyncio.Runner()
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._http.request(method, url, **kwargs))

    def post(self, url: str = PATH, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def create(self, body: Any = VALID, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.post(content=json.dumps(body).encode(), headers={**KEY, **JSON_CT, **(headers or {})})

    def run(self, awaitable: Any) -> Any:
        return self._runner.run(awaitable)

    def close(self) -> None:
        self._runner.run(self._http.aclose())
        self._runner.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester's runs load every installed plugin, pytest-asyncio (the dev extra) among them, which
    warns in each run that its loop scope is unset, into this run's own warnings summary. The inner
    runs are given the setting. (tests/contract/test_pytest_route.py runs the suite beside it without.)"""
    if importlib.util.find_spec("pytest_asyncio") is not None:
        setting = ("-o", "asyncio_default_fixture_loop_scope=function")
        for name in ("runpytest_inprocess", "runpytest_subprocess"):
            run = getattr(pytester, name)
            monkeypatch.setattr(
                pytester, name, lambda *args, _run=run, **kwargs: _run(*args, *setting, **kwargs)
            )
    return pytester


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract()


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def client(contract: Contract, settings: Settings) -> Iterator[Client]:
    c = Client(create_app(contract, settings=settings))
    yield c
    c.close()


@pytest.fixture(scope="module")
def live(contract: Contract) -> Iterator[ThreadedServer]:
    with serve_in_thread(create_app(contract, settings=Settings(body_timeout=1.0))) as server:
        yield server


@pytest.fixture(scope="session")
def kit_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's wheel as users get it (`$MEIBEL_KIT_WHEEL` from .ci/run, else built once)."""
    return kit_install.kit_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def wheelhouse(kit_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's dependencies as wheels, filled once a session: fresh virtualenvs install offline."""
    return kit_install.fill_wheelhouse(kit_wheel, tmp_path_factory.mktemp("wheelhouse"))
