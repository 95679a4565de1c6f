"""Load benchmark: the mock against a bare Starlette reference, in the same run.

    python -m bench.run [--duration 10] [--connections 16] [--rounds 3] [--prism PATH]

Each server is pinned to core 0 and wrk to core 1 (taskset), so they do not compete. Needs `wrk`
(Debian: apt-get install wrk). Only 127.0.0.1 is ever contacted.

Two figures per target: throughput (what the target asks for), and the server's CPU time per
request, read from /proc. On a shared machine the first drifts with the neighbours' load; the
second barely does, so it is the steadier way to compare two versions of the mock.

With `--prism PATH` (Prism's command, e.g. `node_modules/.bin/prism` after
`npm install @stoplight/prism-cli` in a directory outside the repository), Prism serving the same
document (`prism mock`, static examples) is measured in the same rounds.
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
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    rss_mib: float
    cpu_us_per_request: float
    non_2xx: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes], path: str = PATH) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: the server exited with {process.returncode}")
        try:
            httpx.post(f"http://127.0.0.1:{port}{path}", json={}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("bench: the server did not start within 30 s")


def _ms(text: str, output: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise SystemExit(f"bench: cannot read a latency from wrk's output:\n{output}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[found.group(2)]


def _field(pattern: str, output: str) -> str:
    found = re.search(pattern, output, re.M)
    if found is None:
        raise SystemExit(f"bench: unexpected wrk output:\n{output}")
    return found.group(1)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


SPEC = HERE.parent / "spec" / "api-v2.json"


def measure(name: str, target: str, stack: str, script: str, duration: int, connections: int) -> Result:
    port = _free_port()
    path = PATH
    if target == "prism":  # Prism serves the document's paths without the servers' base path
        command = [stack, "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)]
        path = PATH.removeprefix("/v2")
    else:
        command = [sys.executable, "-m", "bench.serve", target, stack, str(port)]
    server = subprocess.Popen(
        ["taskset", "-c", "0", *command],
        cwd=HERE.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}{path}"
    wrk = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "--latency", "-s", str(HERE / script)]
    try:
        _wait(port, server, path)
        subprocess.run([*wrk, "-d2s", url], check=True, capture_output=True)  # warm-up
        cpu_before = _cpu_seconds(server.pid)
        output = subprocess.run(
            [*wrk, f"-d{duration}s", url], check=True, capture_output=True, text=True
        ).stdout
        cpu = _cpu_seconds(server.pid) - cpu_before
        rss_kib = int(_field(r"VmRSS:\s+(\d+)", Path(f"/proc/{server.pid}/status").read_text()))
    finally:
        server.terminate()
        server.wait(timeout=10)
    total = int(_field(r"^\s*(\d+) requests in", output))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        name,
        float(_field(r"Requests/sec:\s+([\d.]+)", output)),
        _ms(_field(r"^\s+50%\s+(\S+)", output), output),
        _ms(_field(r"^\s+99%\s+(\S+)", output), output),
        rss_kib / 1024,
        cpu / max(total, 1) * 1e6,
        int(bad.group(1)) if bad else 0,
    )


def _median(results: list[Result]) -> Result:
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Result(
        results[0].name,
        mid([r.requests_per_s for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        mid([r.rss_mib for r in results]),
        mid([r.cpu_us_per_request for r in results]),
        max(r.non_2xx for r in results),
    )


RUNS = [
    ("reference  httptools+uvloop", "reference", "httptools", "post.lua"),
    ("mock       httptools+uvloop (default)", "mock", "default", "post.lua"),
    ("reference  h11+asyncio", "reference", "h11", "post.lua"),
    ("mock       h11+asyncio", "mock", "h11", "post.lua"),
    # The mock remembers the shape of an answer per distinct request; this run never repeats one.
    ("mock       default, every body new", "mock", "default", "post_varied.lua"),
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--prism", metavar="PATH", help="Prism's command: measure it too")
    options = parser.parse_args()
    runs = RUNS + (
        [("prism      static examples", "prism", options.prism, "post.lua")] if options.prism else []
    )
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench: error: {tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    # Alternate the targets round after round: a shared machine drifts, and a drift then hits
    # every target alike instead of whichever happened to run during it.
    rounds = [
        [
            measure(name, target, stack, script, options.duration, options.connections)
            for name, target, stack, script in runs
        ]
        for _ in range(options.rounds)
    ]
    results = [_median([r[i] for r in rounds]) for i in range(len(runs))]
    print(f"{options.rounds} rounds of {options.duration} s, {options.connections} connections; medians:")
    print(
        f"{'target':40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'RSS MiB':>8} {'CPU µs/req':>11} {'non-2xx':>8}"
    )
    for r in results:
        print(
            f"{r.name:40} {r.requests_per_s:8.0f} {r.p50_ms:7.2f} {r.p99_ms:7.2f} {r.rss_mib:8.1f} "
            f"{r.cpu_us_per_request:11.0f} {r.non_2xx:8d}"
        )
    pairs = [("httptools+uvloop", 1, 0), ("h11+asyncio", 3, 2), ("httptools+uvloop, every body new", 4, 0)]
    for label, mock_index, ref_index in pairs:
        per_round = [r[mock_index].requests_per_s / r[ref_index].requests_per_s for r in rounds]
        cpu = results[ref_index].cpu_us_per_request / results[mock_index].cpu_us_per_request
        print(
            f"mock / reference ({label}): throughput {statistics.median(per_round):.0%} "
            f"(rounds: {', '.join(f'{x:.0%}' for x in per_round)}); by CPU per request {cpu:.0%}"
        )
    if options.prism:
        per_round = [r[1].requests_per_s / r[len(RUNS)].requests_per_s for r in rounds]
        print(
            f"mock / Prism: throughput {statistics.median(per_round):.1f}x "
            f"(rounds: {', '.join(f'{x:.1f}' for x in per_round)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
