"""meibel-mock: command-line arguments → settings → uvicorn.

meibel-mock [--host H] [--port P] [--spec PATH [--strict] [--allow-external-refs DIR]...]
            [--api-key KEY]... [--max-body BYTES] [--cors-origin ORIGIN]... [--scenario NAME]
            [--seed N] [--log-level LEVEL]
            [--max-header-bytes BYTES] [--max-headers N] [--max-url BYTES] [--header-timeout S]
            [--body-timeout S] [--idle-timeout S] [--control-token TOKEN | --no-control]
            [--workers N|auto] ...
meibel-mock fixtures --out DIR [--spec PATH [--strict] [--allow-external-refs DIR]...] [--seed N]
meibel-mock proxy --upstream URL [--record DIR] ... (proxy.py)
meibel-mock recordings import FILE.har [--out DIR] [--spec PATH] (har.py)
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import random
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mock_server import __version__
from mock_server import options as types
from mock_server.answer.scenarios import DYNAMIC, SCENARIOS, recognises
from mock_server.contract import Contract
from mock_server.errors import MockError, UsageError
from mock_server.http.control import TOKEN_HEADER, check_token
from mock_server.http.cors import CorsPolicy, parse_origin
from mock_server.schema.generation import Generator
from mock_server.settings import DEV_KEY, Settings
from mock_server.state.chaos import parse_fault_code, parse_latency

PROG = "meibel-mock"


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


def _workers(text: str) -> int:
    from mock_server.state.workers import count

    try:
        return count(text)
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


def _cors_origin(text: str) -> str:
    try:
        return parse_origin(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--cors-origin ")) from None


def _serve_parser() -> argparse.ArgumentParser:
    parser = types.Parser(
        prog=PROG, description="Serve an OpenAPI document (default: the Meibel API v2) as a mock."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=types.port, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--spec", help="an OpenAPI 3.0/3.1/3.2 document, JSON or YAML (default: the bundled one)"
    )
    types.add_document_options(parser)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an accepted Meibel-API-Key (repeatable; also $MEIBEL_API_KEY)",
    )
    parser.add_argument(
        "--max-body",
        type=types.size,
        default=1024 * 1024,
        metavar="BYTES",
        help="largest request body accepted (default 1 MiB)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        type=_cors_origin,
        default=[],
        metavar="ORIGIN",
        help="allowed browser origin, scheme://host[:port] (repeatable; default: any, with credentials)",
    )
    parser.add_argument(
        "--scenario",
        help=f"default scenario of created executions: {', '.join(SCENARIOS)} or {DYNAMIC} (the kit's README, Scenarios)",
    )
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
        type=types.count,
        default=1000,
        metavar="N",
        help="requests kept at GET /__mock/requests (default 1000; 0 turns it off)",
    )
    parser.add_argument(
        "--journal-bytes",
        type=types.size,
        default=8 * 1024 * 1024,
        metavar="BYTES",
        help="memory the journal may use, all requests together (default 8 MiB; 512k, 16m work)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="reload --spec when the file changes (a broken edit keeps the last good one)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="processes answering on the port, sharing journal, queue and scenario (default 1; auto: one per core)",
    )
    parser.add_argument(
        "--recordings", metavar="DIR", help="answer requests that match a recording in DIR with it"
    )
    parser.add_argument(
        "--match",
        choices=("exact", "partial"),
        default="exact",
        help="a recording's body must equal the request's (exact), or be found in it (partial)",
    )
    types.add_connection_limits(parser)
    control = parser.add_mutually_exclusive_group()
    control.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=f"/__mock/ needs this token in the {TOKEN_HEADER} header (also $MEIBEL_MOCK_CONTROL_TOKEN)",
    )
    control.add_argument(
        "--no-control", action="store_true", help="turn /__mock/ off (404): no journal, scenario or reset"
    )
    parser.add_argument("--log-level", default="info", type=str.lower, choices=types.LOG_LEVELS)
    return parser


def _fixtures_parser() -> argparse.ArgumentParser:
    parser = types.Parser(prog=f"{PROG} fixtures", description="Write one JSON file per scenario.")
    parser.add_argument("--out", required=True, help="directory to write into (created if missing)")
    parser.add_argument("--spec", help="an OpenAPI 3.0/3.1/3.2 document (default: the bundled one)")
    types.add_document_options(parser)
    parser.add_argument("--seed", type=_seed, default=0, help="seed for ids and timestamps (default 0)")
    parser.add_argument(
        "--recordings", metavar="DIR", help="also each recorded JSON answer in DIR, as recorded"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["proxy"]:
            from mock_server.traffic.proxy import serve_proxy

            return serve_proxy(args[1:])
        if args[:1] == ["recordings"]:
            from mock_server.traffic.har import recordings_main

            return recordings_main(args[1:])
        if args[:1] == ["fixtures"]:
            from mock_server.fixtures import write_fixtures, write_recorded_fixtures

            options = _fixtures_parser().parse_args(args[1:])
            contract = types.load_document(options, PROG)
            written = []
            if options.recordings is None or any(recognises(op) for op in contract.operations):
                written += write_fixtures(contract, Path(options.out), seed=options.seed, warn=_warn)
            if options.recordings is not None:
                written += write_recorded_fixtures(contract, Path(options.recordings), Path(options.out))
            for path in written:
                print(path)
            return 0
        return serve_mock(_serve_parser().parse_args(args))
    except MockError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _warn(line: str) -> None:
    print(f"{PROG}: warning: {line}", file=sys.stderr)


def serve_mock(options: argparse.Namespace) -> int:
    from mock_server.app import create_app
    from mock_server.http.server import bind, configure_logging, serve

    env_key = os.environ.get("MEIBEL_API_KEY", "")
    keys = tuple(dict.fromkeys([*options.api_key, *([env_key] if env_key else [])]))
    if any(not key.strip() for key in keys):
        raise UsageError("an empty --api-key would accept requests without a key")
    token = options.control_token or (
        None if options.no_control else os.environ.get("MEIBEL_MOCK_CONTROL_TOKEN") or None
    )
    if token is not None and (problem := check_token(token)):
        raise UsageError(problem)
    settings = Settings(
        api_keys=keys,
        max_body=options.max_body,
        body_timeout=options.body_timeout,
        control=not options.no_control,
        control_token=token,
        cors_origins=tuple(options.cors_origin),
        scenario=options.scenario,
        seed=options.seed,
        latency=options.latency,
        fail_rate=options.fail_rate,
        fail_code=options.fail_code,
        journal_size=options.journal_size,
        journal_bytes=options.journal_bytes,
        recordings=options.recordings,
        match=options.match,
    )
    if options.match != "exact" and options.recordings is None:
        raise UsageError("--match needs --recordings DIR")
    if options.watch and not options.spec:
        raise UsageError("--watch needs --spec: the bundled document does not change")
    # Start-up builds millions of long-lived objects for a large document and no garbage cycles:
    # the collector's full passes over that heap would cost seconds (see bench/large_document.py).
    gc.disable()
    try:
        contract = types.load_document(options, PROG)
        app = create_app(contract, settings=settings, watch=Path(options.spec) if options.watch else None)
        for line in app.state.engine.skipped_lines():
            _warn(line)
        limits = types.server_limits(options)
        sock = bind(options.host, options.port)
        port = sock.getsockname()[1]
        configure_logging(options.log_level)
        text = banner(
            contract,
            settings,
            options.host,
            port,
            loopback=is_loopback(sock),
            workers=options.workers,
            unchecked=app.state.engine.unchecked,
        )
        print(text, file=sys.stderr, flush=True)
        if options.workers == 1:
            # Everything built so far lives as long as the server: out of the collector's way. (No
            # gc.collect() first: start-up leaves little garbage, and a full pass over a large
            # document's heap took seconds.)
            gc.freeze()
    finally:
        gc.enable()
    if options.workers > 1:
        return _serve_workers(app, sock, settings, options, limits)
    serve(app, sock, log_level=options.log_level, limits=limits)
    return 0


def _serve_workers(
    app: Any, sock: socket.socket, settings: Settings, options: argparse.Namespace, limits: Any
) -> int:
    from mock_server.http.server import serve
    from mock_server.state.sqlite_state import SqliteState, create_store
    from mock_server.state.workers import Supervisor, remove_store, store_directory

    directory = store_directory()
    try:
        create_store(directory, workers=options.workers, scenario=settings.scenario)

        def run(index: int) -> None:
            journal = app.state.journal  # the in-process journal's limits and redaction
            app.share(
                SqliteState(
                    directory,
                    index=index,
                    workers=options.workers,
                    seed=settings.seed,
                    default_scenario=settings.scenario,
                    journal=journal,
                )
            )
            serve(app, sock, log_level=options.log_level, limits=limits)

        # Built before the fork, shared by the workers copy-on-write: out of the collector's way.
        gc.collect()
        gc.freeze()
        return Supervisor(options.workers, run, shutdown_timeout=limits.shutdown_timeout).serve()
    finally:
        sock.close()
        remove_store(directory)


def is_loopback(sock: socket.socket) -> bool:
    """Whether only this machine can reach the socket (127.0.0.0/8, ::1)."""
    address = sock.getsockname()[0]
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:  # pragma: no cover - a bound INET socket always has an IP address
        return False


def banner(
    contract: Contract,
    settings: Settings,
    host: str,
    port: int,
    *,
    loopback: bool = True,
    workers: int = 1,
    unchecked: Sequence[str] = (),
) -> str:
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
        shown = "reproducible" if workers == 1 else "reproducible per worker"
        lines.append(f"  Seed:      {settings.seed} (answers are {shown})")
    if workers > 1:
        lines.append(f"  Workers:   {workers} processes, sharing journal, queue and scenario")
    if settings.scenario:
        lines.append(f"  Scenario:  {settings.scenario}")
    if settings.recordings is not None:
        lines.append(f"  Recordings: {settings.recordings} ({settings.match} match; see /__mock/recordings)")
    example = _example_curl(contract, base, key_arg)
    if example:
        lines.append(f"  Try:       {example}")
    if unchecked:
        shown = "; ".join(unchecked[:3]) + (f"; and {len(unchecked) - 3} more" if len(unchecked) > 3 else "")
        lines.append(f"  Unchecked: request bodies read but not checked against their schema: {shown}")
    lines.append(f"  CORS:      {CorsPolicy(settings.cors_origins).describe()}")
    lines.append(f"  Document:  http://{shown_host}:{port}/openapi.json")
    lines.append(f"  Docs:      http://{shown_host}:{port}/docs (Swagger UI, offline)")
    if not settings.control:
        lines.append("  Control:   /__mock/ is off (--no-control)")
    elif settings.control_token is not None:
        lines.append(f"  Control:   /__mock/ needs the {TOKEN_HEADER} header (the token is not shown)")
    elif not loopback:
        lines.append(
            f"  WARNING:   listening on {host}, beyond this machine: /__mock/ (the request journal, "
            "reset, scenario) is open to anyone who can reach this port. "
            "Give --control-token TOKEN, or --no-control to turn it off."
        )
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
        body: Any = Generator(
            contract.schema_root, optional=0.0, lazy=True, compiler=contract.compiler
        ).instance(op.body.schema, random.Random(1))
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", shlex.quote(json.dumps(body))]
    return " ".join(parts)
