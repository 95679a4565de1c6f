"""Before a live run: can it start at all? One request that no service acts on, and one line.

Exit 2 material, said once instead of as a hundred failures: no key where the document asks
for one, a target that does not answer, a base URL that misses the API (404), a refused key.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import TYPE_CHECKING

import httpx

from contract_tests.target import API_KEY_HEADER, Target
from mock_server.contract import Contract

if TYPE_CHECKING:
    from contract_tests.reports.har import HarLog


def preflight(target: Target, contract: Contract, *, har: HarLog | None = None) -> str | None:
    """One line saying why a run cannot start, or None: no key, no answer, a wrong base URL, a
    refused key. Its one request is refused by any service (a body missing what is required), so
    it is never a write. With `har`, the request and its answer go into the run's HAR log."""
    assert target.base_url is not None
    secured = [op for op in contract.operations if op.security]
    if secured and not target.api_key:
        return (
            f"no API key: the document's operations need {API_KEY_HEADER}; give --api-key or set "
            "MEIBEL_API_KEY (without it every answer is a 401 and nothing else can be checked)"
        )
    op = next((op for op in secured if op.method == "post" and op.body is not None), None)
    probe = op or (contract.operations[0] if contract.operations else None)
    url = target.base_url + (probe.path if probe else "/")
    started, clock = time.time(), time.monotonic()
    try:
        if op is not None:
            # `{}` lacks every required property: no service acts on it.
            answer = httpx.post(
                url,
                content=b"{}",
                headers={API_KEY_HEADER: target.api_key, "Content-Type": "application/json"},
                timeout=target.timeout,
            )
        else:
            answer = httpx.get(url, timeout=target.timeout)
    except httpx.TimeoutException:
        return f"{target.base_url} did not answer within {target.timeout:g} s"
    except httpx.TransportError as exc:
        return f"{target.base_url}: {_reason(exc)}"
    if har is not None:
        har.add_httpx(answer, started, time.monotonic() - clock)
    if answer.status_code == 404:
        example = _server_example(contract)
        return (
            f"{url} answered 404: the base URL does not lead to the API. Give it as the document's servers "
            f"write it{f' ({example})' if example else ''}: the operations live under "
            f"{contract.base_path or '/'} of it"
        )
    if 300 <= answer.status_code < 400:
        return f"{url} answered {answer.status_code}, a redirect to {answer.headers.get('location', '?')}: give that base URL"
    if op is not None and answer.status_code in (401, 403):
        return (
            f"the target refused the run's key ({answer.status_code} at {url}): check --api-key or "
            "MEIBEL_API_KEY; a run with a refused key checks nothing"
        )
    return None


def _server_example(contract: Contract) -> str:
    servers = contract.document.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    return str(url) if str(url).startswith(("http://", "https://")) else ""


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
