"""Argument types and the parser shared by every `meibel-mock` command (serve, fixtures, proxy).

Each type raises `argparse.ArgumentTypeError` with one readable sentence; `Parser` turns it into
one line on standard error and exit code 2. Plain Python: no server imports.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from typing import NoReturn

from mock_server.contract import Contract, load_contract
from mock_server.http.limits import BODY_TIMEOUT, ServerLimits


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit 2: the usage text is one `--help` away.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


_SIZE = re.compile(r"(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
MAX_SIZE = 1024**3  # a limit past 1 GiB is no limit on this kind of machine


def size(text: str) -> int:
    """`1048576`, `512k`, `2m`, `64KiB`: a positive number of bytes, at most 1 GiB."""
    found = _SIZE.fullmatch(text.strip())
    value = int(found.group(1)) * _UNITS[(found.group(2) or "").lower()] if found else 0
    if not 0 < value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"not a size in bytes between 1 and 1g: {text!r} (e.g. 1048576, 512k, 2m)"
        )
    return value


def port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """A positive, finite number of seconds (at most a day: a longer wait is no timeout)."""
    try:
        value = float(text.strip().removesuffix("s"))
    except ValueError:
        value = math.nan
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds (at most 86400): {text!r}")
    return value


def count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return int(text)


def positive_count(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a positive count: {text!r}")
    return int(text)


LOG_LEVELS = ["critical", "error", "warning", "info", "debug"]


def add_connection_limits(parser: argparse.ArgumentParser) -> None:
    """The limits every server of the kit keeps (limits.py), as options: the mock's and the proxy's."""
    defaults = ServerLimits()
    parser.add_argument(
        "--max-header-bytes",
        type=size,
        default=defaults.max_header_bytes,
        metavar="BYTES",
        help="largest total of request header lines (default 64 KiB): more gets 431",
    )
    parser.add_argument(
        "--max-headers",
        type=positive_count,
        default=defaults.max_headers,
        metavar="N",
        help="most request header lines (default 100): more gets 431",
    )
    parser.add_argument(
        "--max-url",
        type=size,
        default=defaults.max_url,
        metavar="BYTES",
        help="longest request URL, path and query (default 8 KiB): longer gets 414",
    )
    parser.add_argument(
        "--header-timeout",
        type=seconds,
        default=defaults.header_timeout,
        metavar="S",
        help="seconds to receive a request's headers (default 10): then 408 and closed",
    )
    parser.add_argument(
        "--body-timeout",
        type=seconds,
        default=BODY_TIMEOUT,
        metavar="S",
        help="seconds to receive a request's body (default 10): then 408",
    )
    parser.add_argument(
        "--idle-timeout",
        type=seconds,
        default=defaults.idle_timeout,
        metavar="S",
        help="seconds a kept-alive connection may wait for its next request (default 5)",
    )


def server_limits(options: argparse.Namespace) -> ServerLimits:
    return ServerLimits(
        max_header_bytes=options.max_header_bytes,
        max_headers=options.max_headers,
        max_url=options.max_url,
        header_timeout=options.header_timeout,
        idle_timeout=options.idle_timeout,
    )


def add_document_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads --spec shares."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse a document with any problem, even one the mock can serve around (the kit's docs/other-documents.md)",
    )
    parser.add_argument(
        "--allow-external-refs",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder outside the document's own that its $refs may read files from (repeatable)",
    )


def load_document(options: argparse.Namespace, prog: str) -> Contract:
    """--spec (or the bundled document) loaded as the options say, its warnings on stderr."""
    contract = load_contract(
        options.spec, strict=options.strict, allow_external_refs=tuple(options.allow_external_refs)
    )
    for line in contract.warning_lines():
        print(f"{prog}: warning: {line}", file=sys.stderr)
    return contract
