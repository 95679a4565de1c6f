"""meibel-mock: command-line arguments → settings → uvicorn.

meibel-mock [--host H] [--port P] [--spec PATH [--strict] [--allow-external-refs DIR]...]
            [--api-key KEY]... [--max-body BYTES] [--cors-origin ORIGIN]... [--scenario NAME]
            [--seed N] [--log-level LEVEL]
meibel-mock fixtures --out DIR [--spec PATH [--strict] [--allow-external-refs DIR]...] [--seed N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mock_server import __version__
from mock_server.chaos import parse_fault_code, parse_latency
from mock_server.contract import Contract, load_contract
from mock_server.engine import DEV_KEY, Settings
from mock_server.errors import MockError, UsageError
from mock_server.generation import Generator

PROG = "meibel-mock"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit 2: the usage text is one `--help` away.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


_SIZE = re.compile(r"(\d+)\s*(b|k|kb|kib|m|mb|mib)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}


def _size(text: str) -> int:
    found = _SIZE.fullmatch(text.strip())
    if found is None or int(found.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a size in bytes: {text!r} (e.g. 1048576, 512k, 2m)")
    return int(found.group(1)) * _UNITS[(found.group(2) or "").lower()]


def port_argument(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return int(text)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer seed: {text!r}") from None


def _latency(text: str) -> tuple[float, float]:
    try:
        return parse_latency(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"not a rate between 0 and 1: {text!r}")
    return value


def _fault_code(text: str) -> int:
    try:
        return parse_fault_code(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return int(text)


def _serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Serve an OpenAPI document (default: the Meibel API v2) as a mock."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port_argument, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--spec", help="an OpenAPI 3.0/3.1/3.2 document, JSON or YAML (default: the bundled one)"
    )
    add_document_options(parser)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an accepted Meibel-API-Key (repeatable; also $MEIBEL_API_KEY)",
    )
    parser.add_argument(
        "--max-body",
        type=_size,
        default=1024 * 1024,
        metavar="BYTES",
        help="largest request body accepted (default 1 MiB)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allowed browser origin (repeatable; default: any)",
    )
    parser.add_argument("--scenario", help="default scenario for createExecution (see README)")
    parser.add_argument(
        "--seed", type=_seed, help="make every answer a function of the seed and request order"
    )
    parser.add_argument(
        "--latency",
        type=_latency,
        metavar="DURATION",
        help="delay every answer: 200ms, or a range such as 50ms-300ms",
    )
    parser.add_argument(
        "--fail-rate",
        type=_rate,
        default=0.0,
        metavar="P",
        help="answer this share of requests (0-1) with an injected fault",
    )
    parser.add_argument(
        "--fail-code",
        type=_fault_code,
        default=503,
        metavar="CODE",
        help="status of injected faults: 429 (with Retry-After), 500, 502, 503 or 504",
    )
    parser.add_argument(
        "--journal-size",
        type=_count,
        default=1000,
        metavar="N",
        help="requests kept at GET /__mock/requests (default 1000; 0 turns it off)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="reload --spec when the file changes (a broken edit keeps the last good one)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=["critical", "error", "warning", "info", "debug"],
    )
    return parser


def _fixtures_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"{PROG} fixtures", description="Write one JSON file per scenario.")
    parser.add_argument("--out", required=True, help="directory to write into (created if missing)")
    parser.add_argument("--spec", help="an OpenAPI 3.0/3.1/3.2 document (default: the bundled one)")
    add_document_options(parser)
    parser.add_argument("--seed", type=_seed, default=0, help="seed for ids and timestamps (default 0)")
    return parser


def add_document_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads --spec shares."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a document with any problem, even one the mock can serve around (see README)",
    )
    parser.add_argument(
        "--allow-external-refs",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder outside the document's own that its $refs may read files from (repeatable)",
    )


def load_document(options: argparse.Namespace, prog: str = PROG) -> Contract:
    """--spec (or the bundled document) loaded as the options say, its warnings on stderr."""
    contract = load_contract(
        options.spec, strict=options.strict, allow_external_refs=tuple(options.allow_external_refs)
    )
    for line in contract.warning_lines():
        print(f"{prog}: warning: {line}", file=sys.stderr)
    return contract


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["proxy"]:
            from mock_server.proxy import serve_proxy

            return serve_proxy(args[1:])
        if args[:1] == ["fixtures"]:
            from mock_server.fixtures import write_fixtures

            options = _fixtures_parser().parse_args(args[1:])
            for path in write_fixtures(load_document(options), Path(options.out), seed=options.seed):
                print(path)
            return 0
        return serve_mock(_serve_parser().parse_args(args))
    except MockError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def serve_mock(options: argparse.Namespace) -> int:
    from mock_server.app import create_app
    from mock_server.server import bind, configure_logging, serve

    env_key = os.environ.get("MEIBEL_API_KEY", "")
    keys = tuple(dict.fromkeys([*options.api_key, *([env_key] if env_key else [])]))
    if any(not key.strip() for key in keys):
        raise UsageError("an empty --api-key would accept requests without a key")
    settings = Settings(
        api_keys=keys,
        max_body=options.max_body,
        cors_origins=tuple(options.cors_origin),
        scenario=options.scenario,
        seed=options.seed,
        latency=options.latency,
        fail_rate=options.fail_rate,
        fail_code=options.fail_code,
        journal_size=options.journal_size,
    )
    if options.watch and not options.spec:
        raise UsageError("--watch needs --spec: the bundled document does not change")
    # Start-up builds millions of long-lived objects for a large document and no garbage cycles:
    # the collector's full passes over that heap would cost seconds (see bench/large_document.py).
    gc.disable()
    try:
        contract = load_document(options)
        app = create_app(contract, settings=settings, watch=Path(options.spec) if options.watch else None)
        sock = bind(options.host, options.port)
        port = sock.getsockname()[1]
        configure_logging(options.log_level)
        print(banner(contract, settings, options.host, port), file=sys.stderr, flush=True)
        # Everything built so far lives as long as the server: out of the collector's way. (No
        # gc.collect() first: start-up leaves little garbage, and a full pass over a large
        # document's heap took seconds.)
        gc.freeze()
    finally:
        gc.enable()
    serve(app, sock, log_level=options.log_level)
    return 0


def banner(contract: Contract, settings: Settings, host: str, port: int) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}{contract.base_path}"
    count = len(contract.operations)
    lines = [
        f"{contract.title} mock — {count} operation{'s' if count != 1 else ''} from {contract.source}",
        f"  Base URL:  {base}",
    ]
    if settings.api_keys:
        lines.append(
            f"  API keys:  {len(settings.api_keys)} accepted (from --api-key / MEIBEL_API_KEY; not shown)"
        )
        key_arg = '"$MEIBEL_API_KEY"'
    else:
        lines.append(
            f"  API key:   development key {DEV_KEY} (give --api-key or MEIBEL_API_KEY to change it)"
        )
        key_arg = shlex.quote(DEV_KEY)
    if settings.seed is not None:
        lines.append(f"  Seed:      {settings.seed} (answers are reproducible)")
    if settings.scenario:
        lines.append(f"  Scenario:  {settings.scenario}")
    example = _example_curl(contract, base, key_arg)
    if example:
        lines.append(f"  Try:       {example}")
    lines.append(f"  Document:  http://{shown_host}:{port}/openapi.json")
    return "\n".join(lines)


def _example_curl(contract: Contract, base: str, key_arg: str) -> str:
    ops = sorted(contract.operations, key=lambda op: (op.body is None, bool(op.parameters), op.path))
    if not ops:
        return ""
    op = ops[0]
    if any(p.location == "path" for p in op.parameters):
        return ""
    parts = ["curl", "-sS", "-X", op.method.upper(), shlex.quote(base + op.path)]
    for alternative in op.security[:1]:
        for cred in alternative:
            value = f"Bearer {key_arg}" if cred.bearer else key_arg
            parts += [
                "-H",
                f"{shlex.quote(cred.name + ':')}{value}"
                if value.startswith('"')
                else shlex.quote(f"{cred.name}: {value}"),
            ]
    if op.body is not None and op.body.schema is not None:
        body: Any = Generator(contract.schema_root, optional=0.0).instance(op.body.schema, random.Random(1))
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", shlex.quote(json.dumps(body))]
    return " ".join(parts)
