"""Memory once every operation of a document has answered: what the mock compiles on first use
is bounded by the document, not by the traffic.

    python -m bench.every_operation DOC [--rounds 2]

Starts `meibel-mock --spec DOC` on 127.0.0.1, then asks every operation of the document once, in
document order (each path parameter `x`, a JSON body `{}` where the method takes one, the dev key
in every form `bench.real_contract.credentials` knows), and again for each further round. Prints the
RSS every 1,000 operations, and at the end of each round with the statuses it got: a round that
adds nothing to the first shows the bound. (Beyond 1,000 operations the mock compiles an operation's
validators and generator on its first request, each reference's compilation shared by all.)
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from bench.harness import Served, peak_rss_mib, rss_mib
from bench.real_contract import METHODS, credentials
from mock_server.document.loader import read_document

_PARAMETER = re.compile(r"\{[^}/]+\}")


def headers_for(document: dict[str, Any]) -> dict[str, str]:
    """The dev key as headers, from the Schemathesis options `credentials` gives."""
    options = credentials(document)
    out = {"content-type": "application/json"}
    for flag, value in zip(options[::2], options[1::2], strict=True):
        if flag == "-H":
            name, _, given = value.partition(": ")
            out[name] = given
        elif flag == "-a":  # HTTP Basic, user:KEY
            out["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("document", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    document = read_document(options.document, warn=False).document
    servers = document.get("servers") or [{"url": "/"}]
    prefix = urlparse(str(servers[0].get("url", "/"))).path.rstrip("/")
    operations = [
        (method.upper(), _PARAMETER.sub("x", path))
        for path, item in (document.get("paths") or {}).items()
        if isinstance(item, dict)
        for method in item
        if method in METHODS
    ]
    headers = headers_for(document)
    started = time.monotonic()
    with Served("--spec", str(options.document), "--log-level", "warning", start_timeout=600) as mock:
        print(
            f"{len(operations)} operations; serving after {time.monotonic() - started:.1f} s, "
            f"RSS {rss_mib(mock.pid):.0f} MiB"
        )
        with httpx.Client(base_url=mock.origin + prefix, timeout=120) as client:
            for number in range(1, options.rounds + 1):
                statuses: Counter[int] = Counter()
                began = time.monotonic()
                for index, (method, path) in enumerate(operations, 1):
                    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
                    statuses[client.request(method, path, headers=headers, content=body).status_code] += 1
                    if index % 1000 == 0:
                        print(f"  round {number}: {index} operations, RSS {rss_mib(mock.pid):.0f} MiB")
                print(
                    f"round {number}: {len(operations)} operations in {time.monotonic() - began:.0f} s, "
                    f"RSS {rss_mib(mock.pid):.0f} MiB (peak {peak_rss_mib(mock.pid):.0f}); statuses "
                    + json.dumps(dict(sorted(statuses.items())))
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
