"""Load time and memory of large `--spec` documents, by phase.

    python -m bench.large_document [--kind paths|shared|both] [--paths 17000] [--components 200]
                                   [--operations 300] [--serve]

Two synthetic documents, written to a temporary folder:
- `paths`: ~20 MB of JSON, 17,000 paths with two operations each over a modest components section
  (the shape of a big generated API). Tells how load time grows with the number of operations.
- `shared`: ~300 operations that all lean on one big components section (~440 KiB, schemas that
  reference each other), the shape of Box's document. Tells whether memory follows the document's
  size or operations times components.

Each load runs in a fresh interpreter, so the RSS printed is the load's own (current and peak,
from /proc/self/status). Phases are `Contract.timings`, measured by the loader.
Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PROBE = r"""
import gc, json, sys, time
gc.disable()  # as meibel-mock does while it starts
t0 = time.perf_counter()
from mock_server.contract import load_contract
from mock_server.engine import Engine
from mock_server.settings import Settings
t1 = time.perf_counter()
contract = load_contract(sys.argv[1])
t2 = time.perf_counter()
Engine(contract, Settings())
t3 = time.perf_counter()
timings = dict(getattr(contract, "timings", {}) or {})
with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f)
# VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's, which built the document.
rss, peak = (int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "engine_s": t3 - t2, "phases": timings,
                  "operations": len(contract.operations), "rss_mib": rss, "peak_mib": peak}))
"""


def _component(i: int, count: int, padding: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "x" * padding},
        "count": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "kind": {"type": "string", "enum": ["a", "b", "c"]},
    }
    # As in real APIs: a parent chain of logarithmic depth, and a few small schemas that
    # everything lists (Box's "mini" objects).
    if i > 0:
        properties["parent"] = {"$ref": f"#/components/schemas/Model{i // 3}"}
    if i >= 10:
        properties["related"] = {"type": "array", "items": {"$ref": f"#/components/schemas/Model{i % 10}"}}
    return {"type": "object", "required": ["id", "name"], "properties": properties}


def _operations(n: int, count: int) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/Model{n % count}"}
    return {
        "get": {
            "operationId": f"get{n}",
            "summary": f"Read resource {n}",
            "parameters": [
                {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "404": {
                    "description": "Not found",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
        "put": {
            "operationId": f"put{n}",
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "422": {
                    "description": "Invalid",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
    }


def build(paths: int, components: int, padding: int) -> dict[str, Any]:
    schemas = {f"Model{i}": _component(i, components, padding) for i in range(components)}
    schemas["Error"] = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Large", "version": "1.0"},
        "servers": [{"url": "/api"}],
        "paths": {f"/resources{n}/items/{{item_id}}": _operations(n, components) for n in range(paths)},
        "components": {"schemas": schemas},
    }


def measure(document: dict[str, Any], folder: Path, name: str, *, serve: bool) -> dict[str, Any]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document))
    size_mb = path.stat().st_size / 1e6
    components_kib = len(json.dumps(document["components"])) / 1024
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: load failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(document_mb=round(size_mb, 1), components_kib=round(components_kib))
    if serve:
        result["serve_s"] = time_to_serve(path)
    return result


def time_to_serve(path: Path, timeout: float = 600.0) -> float:
    """Seconds from starting `meibel-mock --spec` (a fresh process) to its first answer."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "--spec",
            str(path),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            if server.poll() is not None:
                raise SystemExit(f"meibel-mock exited with {server.returncode} before serving")
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5.0)
                return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"meibel-mock did not answer within {timeout:.0f} s")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name}: {result['document_mb']} MB, {result['operations']} operations, "
        f"components {result['components_kib']} KiB"
    )
    print(f"  load_contract  {result['load_s']:7.2f} s")
    for phase, seconds in result["phases"].items():
        print(f"    {phase:<22} {seconds:7.2f} s")
    print(f"  Engine(...)    {result['engine_s']:7.2f} s")
    print(f"  RSS after load {result['rss_mib']:7.0f} MiB (peak {result['peak_mib']:.0f} MiB)")
    if "serve_s" in result:
        print(f"  meibel-mock --spec: first answer after {result['serve_s']:.2f} s (process start included)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kind", choices=["paths", "shared", "both"], default="both")
    parser.add_argument("--paths", type=int, default=17000, help="paths in the large document")
    parser.add_argument("--components", type=int, default=200, help="schemas in the large document")
    parser.add_argument("--operations", type=int, default=300, help="operations in the shared document")
    parser.add_argument("--serve", action="store_true", help="also time the real CLI to its first answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="large-document-") as tmp:
        folder = Path(tmp)
        if args.kind in ("paths", "both"):
            report(
                "paths", measure(build(args.paths, args.components, 40), folder, "paths", serve=args.serve)
            )
        if args.kind in ("shared", "both"):
            # ~440 KiB of components: 260 schemas of ~1.7 KiB that reference each other.
            report(
                "shared", measure(build(args.operations // 2, 260, 1150), folder, "shared", serve=args.serve)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
