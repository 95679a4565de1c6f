"""Which service the contract suite tests, and how hard: one place for every knob."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import os
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mock_server import Settings, create_app, load_contract
from mock_server.errors import UsageError
from mock_server.http.base_url import resolve_base_url

# The default profile: examples per operation and generation mode. Sized so that the whole
# `pytest` run stays around a minute on two cores; raise it with --max-examples.
DEFAULT_MAX_EXAMPLES = 60
# Safe defaults against a live deployment.
DEFAULT_RATE_LIMIT = 10.0  # requests per second
DEFAULT_TIMEOUT = 10.0  # seconds per request
DEFAULT_BUDGET = 600.0  # seconds for the whole run; later cases are not sent
API_KEY_HEADER = "Meibel-API-Key"
DEFAULT_SEED = 0  # the same cases every run, so the same code gets the same verdict


@dataclass(frozen=True)
class Target:
    base_url: str | None  # None: an app in process (the mock unless `app` names another)
    api_key: str
    max_examples: int = DEFAULT_MAX_EXAMPLES
    app: str | None = None  # "module:attribute", an ASGI app or a factory of one
    shrink: bool = True
    max_writes: int = 0  # live targets: requests that could be accepted, over the whole run
    rate_limit: float = DEFAULT_RATE_LIMIT
    timeout: float = DEFAULT_TIMEOUT
    budget: float = DEFAULT_BUDGET
    agent_id: str | None = None
    datasource_id: str | None = None
    seed: int = DEFAULT_SEED
    strict: bool = False  # known deviations of the service's framework fail the run

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
    """The target the plugin chose (the in-process mock when run without it)."""
    global _current
    if _current is None:
        _current = target_from({})
    return _current


def target_from(options: dict[str, Any]) -> Target:
    """Build a target from option values (None: not given); raises UsageError on bad ones.

    An empty value, given or from the environment, is a usage error: it is what an unset CI
    variable gives, and taking it as "not given" would test something else than was meant."""
    for name in ("base_url", "api_key", "agent_id", "datasource_id", "app", "seed"):
        value = options.get(name)
        if isinstance(value, str) and not value.strip():
            raise UsageError(
                f"--{name.replace('_', '-')} is empty: give a value, or leave the option out "
                "(an unset CI variable gives this)"
            )
    for variable, option in (("MEIBEL_BASE_URL", "base_url"), ("MEIBEL_API_KEY", "api_key")):
        if options.get(option) is None and variable in os.environ and not os.environ[variable].strip():
            if variable == "MEIBEL_API_KEY" and not (
                options.get("base_url") or os.environ.get("MEIBEL_BASE_URL")
            ):
                continue  # the in-process mock takes a key of the run's own
            raise UsageError(
                f"${variable} is set but empty: give it a value, or unset it (an unset CI secret gives this)"
            )
    base_url = options.get("base_url") or os.environ.get("MEIBEL_BASE_URL") or None
    if base_url:
        base_url = check_base_url(base_url, allow_insecure=bool(options.get("allow_insecure")))
        base_url = resolve_base_url(base_url, load_contract().base_path)
    api_key = options.get("api_key") or os.environ.get("MEIBEL_API_KEY") or ""
    if not api_key and not base_url:
        # The in-process mock accepts whatever key the run chooses: a fresh one each run.
        api_key = f"contract-{secrets.token_hex(8)}"
    numbers: dict[str, float] = {}
    # (option, default, whether zero is allowed)
    for name, default, zero_ok in (
        ("max_examples", DEFAULT_MAX_EXAMPLES, False),
        ("max_writes", 0, True),
        ("rate_limit", DEFAULT_RATE_LIMIT, False),
        ("timeout", DEFAULT_TIMEOUT, False),
        ("budget", DEFAULT_BUDGET, False),
    ):
        value = options.get(name)
        value = default if value is None else value
        if value < 0 or (value == 0 and not zero_ok):
            raise UsageError(f"--{name.replace('_', '-')} must be {'>= 0' if zero_ok else 'positive'}")
        numbers[name] = value
    return Target(
        base_url=base_url,
        api_key=api_key,
        max_examples=int(numbers["max_examples"]),
        app=options.get("app") or None,
        shrink=not options.get("no_shrink"),
        max_writes=int(numbers["max_writes"]),
        rate_limit=float(numbers["rate_limit"]),
        timeout=float(numbers["timeout"]),
        budget=float(numbers["budget"]),
        agent_id=options.get("agent_id") or None,
        datasource_id=options.get("datasource_id") or None,
        seed=parse_seed(options.get("seed")),
        strict=bool(options.get("strict")),
    )


def parse_seed(value: Any) -> int:
    """A seed as users give it: a number, `random` (a new one, printed), or nothing (the default)."""
    if value is None or value == "":
        return DEFAULT_SEED
    if isinstance(value, int) and not isinstance(value, bool):
        seed = value
    elif str(value).strip().lower() == "random":
        return secrets.randbelow(2**32)
    else:
        try:
            seed = int(str(value).strip())
        except ValueError:
            raise UsageError(f"--seed must be a number or 'random', not {value!r}") from None
    if not 0 <= seed < 2**64:
        raise UsageError(f"--seed must be between 0 and 2**64 - 1, not {seed}")
    return seed


def check_base_url(url: str, *, allow_insecure: bool) -> str:
    resolve_base_url(url, "")  # one line for a malformed URL, before anything else
    parts = urlsplit(url.strip())
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname or ""):
        raise UsageError(
            f"--base-url {url} is plain http to another host: the API key would cross the network "
            "unencrypted (use https, or --allow-insecure if you mean it)"
        )
    return url.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_schema(target: Target) -> Any:
    """The bundled document as a Schemathesis schema aimed at `target`."""
    # Imported here: the rest of this module (options, base URLs) serves `meibel-contract` even
    # where the [contract] extra is not installed, so that it can say so in one line.
    import schemathesis
    from schemathesis import GenerationMode

    contract = load_contract()
    if target.live:
        assert target.base_url is not None
        schema = schemathesis.openapi.from_dict(contract.document)
        # Rate limit and timeout are the gate's (contract_tests.gate): it sees every request.
        schema.config.update(base_url=target.base_url, request_timeout=target.timeout)
    else:
        app = (
            _import_app(target.app)
            if target.app
            else create_app(contract, settings=Settings(api_keys=(target.api_key,)))
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=target.max_examples,
        no_shrink=not target.shrink,
        # Same seed, same cases: derandomized, and no example database (no `.hypothesis/` left
        # behind, and nothing remembered from an earlier run that could change this one).
        deterministic=True,
        database="none",
    )
    schema.config.seed = target.seed
    return schema


def _import_app(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        app = getattr(module, attribute or "app")
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"--app {spec}: {exc}") from None
    return app() if inspect.isfunction(app) else app
