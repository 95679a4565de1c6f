"""The Meibel API mock in your tests: a pytest plugin, registered by installing the kit.

    def test_create(meibel_mock):
        client = MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key)
        meibel_mock.fail_next(503, times=2)       # 503 twice, then the real answer
        ...
        assert meibel_mock.requests.last.body["batch_spec_json"]["name"] == "Invoices"

    @pytest.mark.meibel_scenario("failed")
    def test_failure_screen(meibel_mock): ...

Fixtures in layers: `meibel_mock_settings` (override it at any scope) → `meibel_mock_server`
(a running server with exactly those settings, shared by the tests that have them) →
`meibel_mock` (reset before and after each test, per-test seed, markers applied).
The guide: the kit's docs/sdk-testing.md, in its repository and installed with the package as
mock_server/guides/sdk-testing.md.

This module is the plugin's entry point and imports nothing of the mock until a fixture is
used: a session that does not use the mock pays nothing for it, and a project with its own
top-level `mock_server` package still runs (the fixture then says what is wrong).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mock_server.settings import Settings
    from mock_server.testing import MeibelMock, MockPool


def _kit() -> ModuleType:
    """`mock_server.testing`, once sure that `mock_server` is the kit's own package."""
    # pytest.fail is called outside the `except` blocks here and below: inside one, pytest prints
    # the message twice, with "During handling of the above exception" between the copies.
    problem = None
    try:
        package = importlib.import_module("mock_server")
    except Exception as exc:  # another project's package of that name, broken on import
        problem = f"meibel_mock: `import mock_server` failed: {type(exc).__name__}: {exc}"
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    if getattr(package, "__kit__", None) != "meibel-contract-kit":
        found = getattr(package, "__file__", None) or "a namespace package"
        pytest.fail(
            f"meibel_mock: `import mock_server` finds {found}, not the meibel-contract-kit's "
            f"(installed beside {Path(__file__).resolve()}): another package named mock_server shadows it "
            "(rename it, or check pythonpath/sys.path)",
            pytrace=False,
        )
    return importlib.import_module("mock_server.testing")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "meibel_scenario(name): the scenario the meibel_mock fixture answers with"
    )
    config.addinivalue_line(
        "markers",
        "meibel_queue(fault=None, latency=None, scenario=None, times=1): queue answers for the next "
        "requests to meibel_mock (stacked markers apply top to bottom)",
    )


@pytest.fixture(scope="session")
def meibel_mock_settings() -> Settings:
    """The settings of the mock that `meibel_mock` serves (a `mock_server.Settings`). Override
    this fixture in a conftest, module or class, at any scope: each test gets a server with
    exactly its own settings. Default: `Settings(seed=0)`.

    Servers are shared only between tests whose settings are equal. With a seed, each test
    runs with a seed of its own derived from it and from the test's node id: reproducible, and
    distinct between tests. `seed=None`: random ids and wall-clock times."""
    _kit()
    from mock_server.settings import Settings

    return Settings(seed=0)


@pytest.fixture(scope="session")
def _meibel_mock_pool() -> Iterator[MockPool]:
    """The servers of this session (one per distinct settings, at most four at once); each
    xdist worker is a session of its own."""
    pool = _kit().MockPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def meibel_mock_server(meibel_mock_settings: Settings, _meibel_mock_pool: MockPool) -> MeibelMock:
    """The running mock for this test's `meibel_mock_settings`, as the last test left it (no
    reset): started on first use, then shared with the tests that have the same settings.
    Prefer `meibel_mock`, which also resets it, seeds it and applies the markers."""
    _kit()
    from mock_server.errors import MockError

    try:
        return _meibel_mock_pool.get(meibel_mock_settings)
    except MockError as exc:
        problem = f"meibel_mock_settings: {exc}"
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def meibel_mock(meibel_mock_server: MeibelMock, request: pytest.FixtureRequest) -> Iterator[MeibelMock]:
    """A running Meibel API mock, reset for this test (a `mock_server.testing.MeibelMock`):
    `.url` (the base URL for `MeibelClient`), `.api_key`, `.requests` (the journal: `.last`,
    `.filter(method, path)`, `.count(...)`), `.fail_next(503, times=2)`, `.delay_next("2s")`,
    `.scenario_next("failed")`, `.set_scenario(name)`. Guide: the kit's docs/sdk-testing.md
    (in its repository; installed as mock_server/guides/sdk-testing.md).

    Reset before and after the test: empty journal and queue, default scenario, and the seed
    sequence of this test (derived from the settings' seed and the test's node id). Markers:
    `meibel_scenario(name)`, `meibel_queue(fault=, latency=, scenario=, times=)`. A bug the mock
    meets while answering fails the test."""
    mock = meibel_mock_server
    mock.reset(seed=seed_for_test(mock.settings.seed, request.node.nodeid))
    problem = None
    try:
        scenario = request.node.get_closest_marker("meibel_scenario")
        if scenario is not None:
            mock.set_scenario(scenario.args[0] if scenario.args else None)
        # Markers come closest first, stacked ones bottom first: reversed, they read as written.
        for marker in reversed(list(request.node.iter_markers("meibel_queue"))):
            mock.queue(**marker.kwargs)
    except (TypeError, ValueError) as exc:
        problem = f"meibel_mock marker: {exc}"
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    yield mock
    try:
        mock.check()
    finally:
        mock.reset()  # requests still in flight from this test are not journaled for the next


def seed_for_test(base: int | None, nodeid: str) -> int | None:
    """The seed a test runs with: None (random) without a base seed; otherwise one derived from
    the base and the test's node id, the same in every run, order and xdist worker."""
    if base is None:
        return None
    return int.from_bytes(hashlib.sha256(f"{base}:{nodeid}".encode()).digest()[:4], "big")
