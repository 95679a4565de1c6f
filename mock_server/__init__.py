"""A mock server for an OpenAPI document, built for the Meibel AI API v2.

from mock_server import create_app, load_contract
app = create_app(load_contract())            # the bundled document
app = create_app(load_contract("my.yaml"), settings=Settings(seed=7))
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mock_server.errors import ContractError, MockError, UsageError

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.contract import Contract, load_contract
    from mock_server.settings import DEV_KEY, Settings

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
# (`mock_server.document.loader`, as `meibel-contract diff` does) must not pay for Starlette and the engine.
_LAZY = {
    "create_app": "mock_server.app",
    "Contract": "mock_server.contract",
    "load_contract": "mock_server.contract",
    "DEV_KEY": "mock_server.settings",
    "Settings": "mock_server.settings",
}


def __getattr__(name: str) -> Any:
    if name in MOVED:  # `mock_server.journal` as an attribute, before anything imported it
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# Modules that moved into the stage packages in 0.3.0 (document/, schema/, request/, answer/,
# state/, http/, traffic/): old name → new name, relative to the package. The old names keep
# importing, as the same module object, with a DeprecationWarning; they go in 0.4.0.
MOVED = {
    "loader": "document.loader",
    "yaml_text": "document.yaml_text",
    "refs": "document.refs",
    "structure": "document.structure",
    "path_table": "document.path_table",
    "validation": "schema.validation",
    "generation": "schema.generation",
    "scalars": "schema.scalars",
    "patterns": "schema.patterns",
    "ecma_regex": "schema.ecma_regex",
    "document_patterns": "schema.document_patterns",
    "lru": "schema.lru",
    "parameters": "request.parameters",
    "forms": "request.forms",
    "bodies": "request.bodies",
    "negotiation": "request.negotiation",
    "selection": "answer.selection",
    "materialize": "answer.materialize",
    "rendering": "answer.rendering",
    "scenarios": "answer.scenarios",
    "recording": "answer.recording",
    "recordings": "answer.recordings",
    "journal": "state.journal",
    "redaction": "state.redaction",
    "behaviour": "state.behaviour",
    "chaos": "state.chaos",
    "shared_state": "state.shared_state",
    "sqlite_state": "state.sqlite_state",
    "workers": "state.workers",
    "server": "http.server",
    "direct": "http.direct",
    "limits": "http.limits",
    "cors": "http.cors",
    "docs_ui": "http.docs_ui",
    "served_document": "http.served_document",
    "base_url": "http.base_url",
    "control": "http.control",
    "proxy": "traffic.proxy",
    "answer_check": "traffic.answer_check",
    "recorder": "traffic.recorder",
    "har": "traffic.har",
}


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an old module path with the module at its new one: the same object, so classes,
    isinstance checks and module state are shared, whichever name imported it first.

    Consulted last on `sys.meta_path`, only for names no file answers. Not a file per old name:
    the layout keeps each package's top level to the modules that live there."""

    def __init__(self, package: str, moved: dict[str, str]) -> None:
        self._moved = {f"{package}.{old}": f"{package}.{new}" for old, new in moved.items()}
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._moved:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = self._moved[spec.name]
        warnings.warn(
            f"{spec.name} is now {new}; the old name goes in 0.4.0",
            DeprecationWarning,
            stacklevel=_importer(),
        )
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system gave the module the old name's spec; it keeps its own.
        module.__spec__ = self._specs.pop(module.__spec__.name if module.__spec__ else "", module.__spec__)


def _importer() -> int:
    """The stack level of the code that imported the old name, past the import system's frames."""
    frame, level = sys._getframe(2), 3
    while frame.f_back is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame, level = frame.f_back, level + 1
    return level


def _install(finder: MovedModules) -> None:
    if not any(
        type(found).__name__ == "MovedModules" and getattr(found, "_moved", None) == finder._moved
        for found in sys.meta_path
    ):
        sys.meta_path.append(finder)


_install(MovedModules(__name__, MOVED))
