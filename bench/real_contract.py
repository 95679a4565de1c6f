"""Schemathesis's CLI against the mock serving real documents, one document at a time.

    python -m bench.real_contract DOC [DOC ...] [--examples 15] [--operations 30] [--out DIR]

For each document: serve it with `meibel-mock --spec DOC` on 127.0.0.1 (bench.harness.Served), give
Schemathesis credentials in the form the document's security schemes ask for (the mock's dev key,
as a bearer token, HTTP Basic password or API-key header), and run
`schemathesis run DOC --url ORIGIN+BASE -n N` on a deterministic sample of about `--operations`
operations (every k-th operation id in document order) for the large ones. Prints, per document, the
exit code, the failures Schemathesis names (by title, counted) and the server's RSS after the run;
the whole output of each run is kept in --out. Nothing here touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Served, peak_rss_mib, rss_mib

KEY = "meibel-mock-key"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def credentials(document: dict[str, Any]) -> list[str]:
    """Schemathesis options that authenticate every request with the mock's dev key: every API-key
    header the document names, and one `Authorization` (a bearer token where any scheme takes one,
    else HTTP Basic with the key as password). An API key in the query is not covered."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    options: list[str] = []
    bearer = basic = False
    for scheme in schemes.values():
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") == "header":
            options += ["-H", f"{scheme['name']}: {KEY}"]
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            basic = True
        elif kind in {"http", "oauth2", "openIdConnect"}:
            bearer = True
    if bearer:
        options += ["-H", f"Authorization: Bearer {KEY}"]
    elif basic:
        options += ["-a", f"user:{KEY}"]
    return options


def sample(document: dict[str, Any], size: int) -> list[str]:
    """Every k-th operation id in document order, about `size` of them; all when fewer."""
    ids = [
        operation["operationId"]
        for item in (document.get("paths") or {}).values()
        for method, operation in item.items()
        if method in METHODS and isinstance(operation, dict) and "operationId" in operation
    ]
    if len(ids) <= size:
        return []
    step = len(ids) / size
    return [ids[int(i * step)] for i in range(size)]


def run(
    path: Path, *, examples: int, operations: int, out: Path, phases: str | None = None
) -> dict[str, Any]:
    with Served("--spec", str(path), start_timeout=120) as served:
        # The document as served: other files bundled in, as Schemathesis reads it.
        document = httpx.get(f"{served.origin}/openapi.json", timeout=60).json()
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{served.origin}/openapi.json",
            "-n",
            str(examples),
            "-w",
            "1",
            "--seed",
            "1",
            "--max-examples",
            str(examples),
            "--request-timeout",
            "10",
            *credentials(document),
            *(["--phases", phases] if phases else []),
        ]
        for operation_id in sample(document, operations):
            command += ["--include-operation-id", operation_id]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        rss, peak = rss_mib(served.pid), peak_rss_mib(served.pid)
    log = out / (re.sub(r"[^A-Za-z0-9.]+", "_", str(path)).strip("_") + ".txt")
    log.write_text(result.stdout + result.stderr)
    # Schemathesis names each failure on a line of its own: "- ST108 Response violates schema".
    found = collections.Counter(
        line.strip()[2:] for line in result.stdout.splitlines() if re.match(r"^- ST\d+ ", line)
    )
    return {
        "document": str(path),
        "exit": result.returncode,
        "failures": dict(found),
        "rss_mib": round(rss, 1),
        "peak_mib": round(peak, 1),
        "log": str(log),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", nargs="+", type=Path)
    parser.add_argument("--examples", type=int, default=15)
    parser.add_argument("--operations", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("/tmp/real_contract"))
    parser.add_argument(
        "--phases", help="Schemathesis's --phases (DigitalOcean's links name missing operations)"
    )
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    for path in options.documents:
        result = run(
            path,
            examples=options.examples,
            operations=options.operations,
            out=options.out,
            phases=options.phases,
        )
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
