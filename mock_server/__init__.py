"""A mock server for an OpenAPI document, built for the Meibel AI API v2.

from mock_server import create_app, load_contract
app = create_app(load_contract())            # the bundled document
app = create_app(load_contract("my.yaml"), settings=Settings(seed=7))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.errors import ContractError, MockError, UsageError

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.contract import Contract, load_contract
    from mock_server.engine import DEV_KEY, Settings

__version__ = "0.2.0"  # the one place the version is written (pyproject reads it)
__kit__ = "meibel-contract-kit"  # how the pytest plugin tells this package from another `mock_server`
__all__ = [
    "DEV_KEY",
    "Contract",
    "ContractError",
    "MockError",
    "Settings",
    "UsageError",
    "__version__",
    "create_app",
    "load_contract",
]

# Imported on first use, not with the package: a tool that needs only the document layer
# (`mock_server.loader`, as `meibel-contract diff` does) must not pay for Starlette and the engine.
_LAZY = {
    "create_app": "mock_server.app",
    "Contract": "mock_server.contract",
    "load_contract": "mock_server.contract",
    "DEV_KEY": "mock_server.engine",
    "Settings": "mock_server.engine",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
