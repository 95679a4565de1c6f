"""The mock in other people's tests: a pytest plugin (registered as `meibel_mock`).

    def test_create(meibel_mock):
        client = MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key)
        ...
        assert meibel_mock.requests[-1]["method"] == "POST"

    @pytest.mark.meibel_scenario("failed")
    def test_failure_screen(meibel_mock): ...

Fixtures in layers: `meibel_mock_settings` (override it in a conftest) → `meibel_mock_server`
(started once per session) → `meibel_mock` (reset before each test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.contract import load_contract
from mock_server.engine import Settings
from mock_server.errors import UsageError
from mock_server.testing import ThreadedServer


class MeibelMock:
    """A running mock: where it is, what it was sent, and how it should answer."""

    def __init__(self, server: ThreadedServer, app: Any) -> None:
        self.server = server
        self.app = app

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def url(self) -> str:
        """The API's base URL, ready for `MeibelClient(base_url=...)`."""
        return f"{self.server.origin}{self.app.state.contract.base_path}"

    @property
    def api_key(self) -> str:
        return str(self.app.state.settings.accepted_keys[0])

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The journal, oldest first: method, path, query, headers (keys redacted), body, status."""
        return list(self.app.state.journal.entries())

    def set_scenario(self, name: str | None) -> None:
        """How created executions answer until the next test (None: the default)."""
        try:
            self.app.state.engine.check_scenario(name)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        self.app.state.engine.scenario = name

    def reset(self) -> None:
        self.app.state.engine.reset()
        self.app.state.journal.clear()
        self.app.errors.clear()

    def check(self) -> None:
        """Re-raise, in the test, a bug the mock met while answering it."""
        if self.app.errors:
            error = self.app.errors[0]
            self.app.errors.clear()
            raise AssertionError(f"the mock failed while answering: {error!r}") from error


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "meibel_scenario(name): the scenario the meibel_mock fixture answers with"
    )


@pytest.fixture(scope="session")
def meibel_mock_settings() -> Settings:
    """Override in a conftest to change the mock (keys, seed, latency, faults, ...)."""
    return Settings(seed=0)


@pytest.fixture(scope="session")
def meibel_mock_server(meibel_mock_settings: Settings) -> Iterator[MeibelMock]:
    app = create_app(load_contract(), settings=meibel_mock_settings)
    server = ThreadedServer(app)
    server.start()
    try:
        yield MeibelMock(server, app)
    finally:
        server.stop()


@pytest.fixture
def meibel_mock(meibel_mock_server: MeibelMock, request: pytest.FixtureRequest) -> Iterator[MeibelMock]:
    meibel_mock_server.reset()
    marker = request.node.get_closest_marker("meibel_scenario")
    if marker is not None:
        meibel_mock_server.set_scenario(marker.args[0] if marker.args else None)
    yield meibel_mock_server
    meibel_mock_server.check()
