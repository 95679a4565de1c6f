"""A mock server for an OpenAPI document, built for the Meibel AI API v2.

from mock_server import create_app, load_contract
app = create_app(load_contract())            # the bundled document
app = create_app(load_contract("my.yaml"), settings=Settings(seed=7))
"""

from __future__ import annotations

from mock_server.app import create_app
from mock_server.contract import Contract, load_contract
from mock_server.engine import DEV_KEY, Settings
from mock_server.errors import ContractError, MockError, UsageError

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
