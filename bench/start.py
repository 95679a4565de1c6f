"""Start time and memory at rest of `meibel-mock`, one worker and several.

    python -m bench.start [--runs 7] [--workers 2]

Start time: from launching `python -m mock_server` to the first answer on its port (median of
`--runs`). Memory: the resident set (VmRSS) of the serving process once it answered, and with
several workers that of the parent and each worker (pages shared copy-on-write are counted in
each). Only 127.0.0.1 is ever contacted; every wait is bounded.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.harness import PATH, free_port, rss_mib

KEY = {"Meibel-API-Key": "meibel-mock-key"}
VALID = {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def start_once(workers: int) -> tuple[float, list[float]]:
    """Seconds to the first answer, and the RSS (MiB) of each process after a few requests."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while True:
                try:
                    client.post(PATH, json=VALID, headers=KEY)
                    break
                except httpx.TransportError:
                    if time.perf_counter() - started > 30 or process.poll() is not None:
                        raise SystemExit("bench: the mock did not start within 30 s") from None
                    time.sleep(0.005)
            seconds = time.perf_counter() - started
            for _ in range(200):
                client.post(PATH, json=VALID, headers=KEY)
        pids = [process.pid, *_children(process.pid)]
        return seconds, [rss_mib(pid) for pid in pids]
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    for workers in (1, options.workers):
        runs = [start_once(workers) for _ in range(options.runs)]
        seconds = statistics.median(run[0] for run in runs)
        rss = [statistics.median(run[1][i] for run in runs) for i in range(len(runs[0][1]))]
        shown = " + ".join(f"{value:.1f}" for value in rss)
        print(
            f"--workers {workers}: first answer after {seconds:.2f} s (median of {options.runs}); RSS MiB {shown}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
