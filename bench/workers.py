"""`--workers`: one worker against several, in the same run.

    python -m bench.workers [--workers 2] [--duration 10] [--connections 32] [--rounds 5]

Starts `meibel-mock --workers 1` and `meibel-mock --workers N` as a user does (defaults: access
log, journal, validation) and loads each with wrk, alternating them round after round so that
the drift of a shared machine hits both alike; reports the medians and the ratio per round.
Nothing is pinned: the workers are meant to use every core, and wrk shares them. Needs `wrk`.
On a shared machine, read the ratio with the cores other processes kept busy meanwhile (from
/proc/stat, less the mock's and wrk's own CPU time), and with the CPU time per request.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench.harness import PATH, Served
from bench.run import _cpu_seconds, _field, _ms

HERE = Path(__file__).resolve().parent


def _tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the workers), in MiB (shared pages counted
    once per process: an upper bound)."""
    total = 0
    for one in [pid, *_children(pid)]:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


Round = tuple[float, float, float, int, float, list[float], float]


def _machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy, and in all, so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def _wrk_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(workers: int, duration: int, connections: int, threads: int) -> Round:
    """req/s, p99 ms, RSS MiB (all processes), non-2xx answers, CPU µs per request (all
    processes) and each process's share of that CPU, for one round."""
    with Served("--workers", str(workers), start_timeout=60) as mock:
        url = f"{mock.origin}{PATH}"
        wrk = ["wrk", f"-t{threads}", f"-c{connections}", "--latency", "-s", str(HERE / "post.lua")]
        subprocess.run([*wrk, "-d2s", url], check=True, capture_output=True, timeout=60)  # warm-up
        pids = [mock.pid, *_children(mock.pid)]
        before = [_cpu_seconds(pid) for pid in pids]
        busy_before, wrk_before = _machine_busy()[0], _wrk_cpu()
        output = subprocess.run(
            [*wrk, f"-d{duration}s", url], check=True, capture_output=True, text=True, timeout=duration + 60
        ).stdout
        used = [_cpu_seconds(pid) - was for pid, was in zip(pids, before, strict=True)]
        busy = _machine_busy()[0] - busy_before
        others = (busy - sum(used) - (_wrk_cpu() - wrk_before)) / duration  # cores
        rss = _tree_rss_mib(mock.pid)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    total = int(_field(r"^\s*(\d+) requests in", output))
    return (
        float(_field(r"Requests/sec:\s+([\d.]+)", output)),
        _ms(_field(r"^\s+99%\s+(\S+)", output), output),
        rss,
        int(bad.group(1)) if bad else 0,
        sum(used) / max(total, 1) * 1e6,
        [u / max(sum(used), 1e-9) for u in used],
        max(others, 0.0),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="compared with 1 (default 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians are reported")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    counts = (1, options.workers)
    rounds: list[dict[int, Round]] = []
    for _ in range(options.rounds):
        rounds.append({n: measure(n, options.duration, options.connections, options.threads) for n in counts})
        one, many = rounds[-1][1], rounds[-1][options.workers]
        shares = " / ".join(f"{share:.0%}" for share in many[5])
        print(
            f"round {len(rounds)}: 1 worker {one[0]:.0f} req/s, {options.workers} workers {many[0]:.0f} req/s "
            f"(CPU shares, parent first: {shares}; other CPU use {many[6]:.2f} and {one[6]:.2f} cores)",
            flush=True,
        )
    print(f"{options.rounds} rounds of {options.duration} s, {options.connections} connections; medians:")
    print(f"{'target':28} {'req/s':>8} {'p99 ms':>7} {'RSS MiB':>8} {'CPU µs/req':>11} {'non-2xx':>8}")
    for n in counts:
        mid = [statistics.median(float(r[n][i]) for r in rounds) for i in (0, 1, 2, 4)]  # type: ignore[arg-type]
        bad = max(r[n][3] for r in rounds)
        print(
            f"{f'meibel-mock --workers {n}':28} {mid[0]:8.0f} {mid[1]:7.2f} {mid[2]:8.1f} {mid[3]:11.0f} {bad:8d}"
        )
    ratios = [r[options.workers][0] / r[1][0] for r in rounds]
    cpu = statistics.median(r[options.workers][4] / r[1][4] for r in rounds)
    others = statistics.median(r[n][6] for r in rounds for n in counts)
    print(
        f"Other CPU use meanwhile (other processes, interrupts; median): {others:.2f} of {os.cpu_count()} cores"
    )
    print(
        f"{options.workers} workers / 1 worker: {statistics.median(ratios):.2f}x throughput "
        f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); CPU per request {cpu:.2f}x that of one worker"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
