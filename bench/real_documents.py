"""Load time and memory of `meibel-mock --spec DOC` on real documents, one server at a time.

    python -m bench.real_documents DOC [DOC ...] [--timeout 120]

For each document: start the mock as a user does (`python -m mock_server --spec DOC --port P`) on
127.0.0.1, time it from process start to the first answer of `GET /openapi.json`, then read its
resident memory (VmRSS now, VmHWM the peak) from /proc and stop it. One at a time, so the figures
are each server's own. The documents are not part of the repository (Box, Twilio, DigitalOcean
publish theirs); give their paths. Targets the kit holds itself to: a document of a few hundred
operations (Box, Twilio) serves within 5 s and 300 MiB, DigitalOcean's (659 operations over many
files) within 15 s and 600 MiB.

Nothing here touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import free_port, peak_rss_mib, rss_mib


def measure(document: Path, *, timeout: float) -> dict[str, Any]:
    port = free_port()
    args = [sys.executable, "-m", "mock_server", "--spec", str(document), "--port", str(port)]
    with tempfile.TemporaryFile("w+") as log:
        started = time.monotonic()
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            operations = _first_answer(server, port, started + timeout)
            load_s = time.monotonic() - started
            return {
                "document": str(document),
                "operations": operations,
                "load_s": round(load_s, 2),
                "rss_mib": round(rss_mib(server.pid), 1),
                "peak_mib": round(peak_rss_mib(server.pid), 1),
            }
        except RuntimeError as exc:
            log.seek(0)
            return {"document": str(document), "error": f"{exc}: {log.read()[-400:]}"}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


def _first_answer(server: subprocess.Popen[str], port: int, deadline: float) -> int:
    """Poll until `/openapi.json` answers (bounded by `deadline`); the number of operations it serves."""
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"exited with {server.returncode} before serving")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5.0)
            served = answer.json()
            methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
            return sum(1 for item in served.get("paths", {}).values() for method in item if method in methods)
        except (httpx.TransportError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                raise RuntimeError("no answer before the timeout") from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", nargs="+", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    options = parser.parse_args(argv)
    failed = False
    for document in options.documents:
        result = measure(document, timeout=options.timeout)
        failed = failed or "error" in result
        if options.json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            print(f"{document}: {result['error']}", flush=True)
        else:
            print(
                f"{document}: {result['operations']} operations, first answer after "
                f"{result['load_s']:.2f} s, RSS {result['rss_mib']:.0f} MiB "
                f"(peak {result['peak_mib']:.0f} MiB)",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
