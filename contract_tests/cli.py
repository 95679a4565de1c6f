"""meibel-contract: the contract suite against a live deployment, safely, with a report.

    meibel-contract --base-url URL [--api-key KEY] [--max-writes N] [--rate-limit R]
                    [--max-examples N] [--timeout S] [--budget S] [--junit-xml PATH] [--seed N]
                    [--agent-id ID] [--datasource-id ID] [--allow-insecure]

Runs exactly the pytest suite of `contract_tests` (same tests, same checks). Exit 0 when the
target conforms, 1 on any violation, 2 for usage errors or an unreachable target.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import httpx

from contract_tests.target import API_KEY_HEADER, DEFAULT_BUDGET, DEFAULT_MAX_EXAMPLES, Target, target_from
from mock_server.contract import load_contract
from mock_server.errors import MockError

PROG = "meibel-contract"
HERE = Path(__file__).resolve().parent


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Check a live deployment against the Meibel API v2 contract, safely.")
    p.add_argument("--base-url", required=True, help="the deployment, e.g. https://api.example.com")
    p.add_argument("--api-key", help="its API key (default: $MEIBEL_API_KEY); never printed or written")
    p.add_argument(
        "--max-writes",
        type=int,
        default=0,
        metavar="N",
        help="requests that could be accepted (and start real work), over the whole run (default 0)",
    )
    p.add_argument(
        "--rate-limit", type=float, default=10.0, metavar="R", help="requests per second (default 10)"
    )
    p.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"examples per operation and mode (default {DEFAULT_MAX_EXAMPLES})",
    )
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per request (default 10)"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        metavar="S",
        help=f"seconds for the whole run; later cases are not sent (default {DEFAULT_BUDGET:g})",
    )
    p.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report for CI")
    p.add_argument("--seed", type=int, help="Hypothesis seed, to replay a run")
    p.add_argument("--agent-id", help="a real agent id for the requests that could be accepted")
    p.add_argument("--datasource-id", help="a real datasource id for the requests that could be accepted")
    p.add_argument("--allow-insecure", action="store_true", help="allow plain http:// to a non-loopback host")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["diff"]:  # `meibel-contract diff OLD NEW`: the document diff (contract_tests/diff_cli.py)
        from contract_tests import diff_cli

        return diff_cli.main(args[1:])
    options = _parser().parse_args(argv)
    api_key = options.api_key or os.environ.get("MEIBEL_API_KEY", "")
    try:
        target = target_from({**vars(options), "api_key": api_key})
        problem = unreachable(target)
    except MockError as exc:
        return _fail(str(exc))
    if problem:
        return _fail(problem)
    return _run_suite(target, options)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def unreachable(target: Target) -> str | None:
    """One line saying why the target cannot be reached, or None when it answers at all."""
    assert target.base_url is not None
    contract = load_contract()
    path = contract.operations[0].path if contract.operations else "/"
    url = target.base_url + contract.base_path + path
    try:
        # GET on a POST-only path, without a key: whatever answers, nothing is created.
        httpx.get(url, timeout=target.timeout)
    except httpx.TimeoutException:
        return f"{target.base_url} did not answer within {target.timeout:g} s"
    except httpx.TransportError as exc:
        return f"{target.base_url}: {_reason(exc)}"
    return None


def _reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "cannot resolve the host name (DNS)"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the service running on that port?)"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error: {getattr(seen, 'reason', None) or seen}"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    lowered = text.lower()
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or "name resolution" in lowered
    ):
        return "cannot resolve the host name (DNS)"
    if "connection refused" in lowered:
        return "connection refused (is the service running on that port?)"
    if "ssl" in lowered or "certificate" in lowered:
        return f"TLS error: {text}"
    return f"cannot connect: {text or type(exc).__name__}"


def _run_suite(target: Target, options: argparse.Namespace) -> int:
    import pytest

    assert target.base_url is not None
    args = [
        str(HERE / "test_contract.py"),
        "-p",
        "contract_tests.plugin",
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,  # the suite's own settings only, wherever it is run from
        f"--rootdir={HERE}",
        f"--confcutdir={HERE}",
        "--assert=plain",
        "--tb=no",
        "--capture=no",  # progress lines go out as the run goes
        "-q",
        f"--base-url={target.base_url}",
        f"--max-writes={target.max_writes}",
        f"--rate-limit={target.rate_limit:g}",
        f"--max-examples={target.max_examples}",
        f"--timeout={target.timeout:g}",
        f"--budget={target.budget:g}",
    ]
    if options.allow_insecure:
        args.append("--allow-insecure")
    if target.agent_id:
        args.append(f"--agent-id={target.agent_id}")
    if target.datasource_id:
        args.append(f"--datasource-id={target.datasource_id}")
    if options.junit_xml:
        args.append(f"--junit-xml={options.junit_xml}")
    if options.seed is not None:
        args.append(f"--hypothesis-seed={options.seed}")
    # The key travels in the environment: command lines show up in process listings.
    saved = {name: os.environ.get(name) for name in ("MEIBEL_API_KEY", "MEIBEL_CONTRACT_PROGRESS")}
    os.environ["MEIBEL_CONTRACT_PROGRESS"] = "1"
    if target.api_key:
        os.environ["MEIBEL_API_KEY"] = target.api_key
    print(
        f"Checking {target.base_url} against the contract "
        f"({'key given' if target.api_key else f'no {API_KEY_HEADER}: only refusals can be checked'})",
        file=sys.stderr,
        flush=True,
    )
    # The suite's module builds its tests for the target at import: import it afresh for this one.
    sys.modules.pop("contract_tests.test_contract", None)
    try:
        code = pytest.main(args)
    finally:
        sys.modules.pop("contract_tests.test_contract", None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if code == pytest.ExitCode.OK:
        return 0
    if code == pytest.ExitCode.TESTS_FAILED:
        return 1
    return 2
