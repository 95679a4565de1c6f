"""Which service the contract suite tests, and how hard: one place for every knob."""

from __future__ import annotations

import importlib
import inspect
import os
import secrets
from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis import GenerationMode

from contract_tests.checks import SPEC_GAPS
from mock_server import Settings, create_app, load_contract

# The default profile: examples per operation and generation mode. Sized so that the whole
# `pytest` run stays around a minute on two cores; raise it with --max-examples.
DEFAULT_MAX_EXAMPLES = 60
API_KEY_HEADER = "Meibel-API-Key"


@dataclass(frozen=True)
class Target:
    base_url: str | None  # None: an app in process (the mock unless `app` names another)
    api_key: str
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    app: str | None = None  # "module:attribute", an ASGI app or a factory of one
    shrink: bool = True

    @property
    def live(self) -> bool:
        return self.base_url is not None

    @property
    def label(self) -> str:
        return self.base_url or (f"{self.app}, in process" if self.app else "the mock, in process")


_current: Target | None = None


def set_target(target: Target) -> None:
    global _current
    _current = target


def current_target() -> Target:
    """The target the root conftest chose (the in-process mock when run without it)."""
    global _current
    if _current is None:
        _current = target_from({})
    return _current


def target_from(options: dict[str, Any]) -> Target:
    base_url = options.get("base_url") or os.environ.get("MEIBEL_BASE_URL") or None
    api_key = options.get("api_key") or os.environ.get("MEIBEL_API_KEY") or ""
    if not api_key:
        # The in-process mock accepts whatever key the run chooses: a fresh one each run.
        api_key = "" if base_url else f"contract-{secrets.token_hex(8)}"
    return Target(
        base_url=base_url.rstrip("/") if base_url else None,
        api_key=api_key,
        max_examples=int(options.get("max_examples") or DEFAULT_MAX_EXAMPLES),
        seed=options.get("seed"),
        app=options.get("app") or None,
        shrink=not options.get("no_shrink"),
    )


def load_schema(target: Target) -> Any:
    """The bundled document as a Schemathesis schema aimed at `target`."""
    contract = load_contract()
    if target.live:
        schema = schemathesis.openapi.from_dict(contract.document)
        schema.config.update(base_url=target.base_url + contract.base_path)  # type: ignore[operator]
    else:
        app = (
            _import_app(target.app)
            if target.app
            else create_app(contract, settings=Settings(api_keys=(target.api_key,)))
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    if target.api_key:
        schema.config.update(headers={API_KEY_HEADER: target.api_key})
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=target.max_examples,
        no_shrink=not target.shrink,
    )
    SPEC_GAPS.accepted_keys = frozenset([target.api_key] if target.api_key else [])
    return schema


def _import_app(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app")
    return app() if inspect.isfunction(app) else app
