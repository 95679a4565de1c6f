"""Load benchmark: the mock against a bare Starlette reference, in the same run.

    python -m bench.run [--duration 10] [--connections 16]

Each server is pinned to core 0 and wrk to core 1 (taskset), so they do not compete. Needs `wrk`
(Debian: apt-get install wrk). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PATH = "/v2/batch-executions"


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    rss_mib: float
    non_2xx: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: the server exited with {process.returncode}")
        try:
            httpx.post(f"http://127.0.0.1:{port}{PATH}", json={}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("bench: the server did not start within 30 s")


def _ms(text: str, output: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise SystemExit(f"bench: cannot read a latency from wrk's output:\n{output}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[found.group(2)]


def measure(name: str, target: str, stack: str, duration: int, connections: int) -> Result:
    port = _free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "bench.serve", target, stack, str(port)],
        cwd=HERE.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(port, server)
        wrk = [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(HERE / "post.lua"),
            f"http://127.0.0.1:{port}{PATH}",
        ]
        subprocess.run([*wrk[:5], "-d2s", *wrk[7:]], check=True, capture_output=True)  # warm-up
        output = subprocess.run(wrk, check=True, capture_output=True, text=True).stdout
        rss_kib = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{server.pid}/status").read_text()).group(1))  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait(timeout=10)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1), output)  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1), output)  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(name, rps, p50, p99, rss_kib / 1024, int(bad.group(1)) if bad else 0)


def _median(results: list[Result]) -> Result:
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Result(
        results[0].name,
        mid([r.requests_per_s for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        mid([r.rss_mib for r in results]),
        max(r.non_2xx for r in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    options = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench: error: {tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    if os.cpu_count() and os.cpu_count() < 2:  # type: ignore[operator]
        print("bench: warning: fewer than 2 cores; server and wrk share one", file=sys.stderr)
    runs = [
        ("reference  httptools+uvloop", "reference", "httptools"),
        ("mock       httptools+uvloop (default)", "mock", "default"),
        ("reference  h11+asyncio", "reference", "h11"),
        ("mock       h11+asyncio", "mock", "h11"),
    ]
    results = [
        measure(name, target, stack, options.duration, options.connections) for name, target, stack in runs
    ]
    print(f"{'target':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8} {'non-2xx':>8}")
    for r in results:
        print(
            f"{r.name:40} {r.requests_per_s:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.rss_mib:8.1f} {r.non_2xx:8d}"
        )
    for label, mock, ref in (
        ("httptools+uvloop", results[1], results[0]),
        ("h11+asyncio", results[3], results[2]),
    ):
        print(f"mock / reference ({label}): {mock.requests_per_s / ref.requests_per_s:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
