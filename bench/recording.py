"""What `--record` costs the proxy: CPU µs per request with and without it, in the same run.

    python -m bench.recording [--rounds 7] [--requests 300]

One upstream (`meibel-mock`), two proxies in front of it (one plain, one with `--record DIR`),
the same requests to each, alternating round by round so that the neighbours' load on a shared
machine falls on both alike. Each proxy's CPU time (user + system, all its threads) is read from
/proc before and after its round; the best round of each is reported (the least disturbed), and
the median too. Creating a file costs what the file system makes it cost (`--dir`: where the
folder is made; by default the current directory, as a user records into a checkout). Two loads: every body new (each request written as a new file: the most recording
can cost) and one body repeated (a repeat is recognised and skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.harness import Served

PATH = "/v2/batch-executions"
HEADERS = {"Meibel-API-Key": "bench-upstream-key", "content-type": "application/json"}
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def body(index: int) -> bytes:
    spec = {"name": f"Invoices {index}", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}
    return json.dumps({"batch_spec_json": spec}).encode()


def round_us(client: httpx.Client, proxy: Served, bodies: list[bytes]) -> float:
    before = cpu_seconds(proxy.pid)
    for raw in bodies:
        answer = client.post(proxy.origin + PATH, content=raw, headers=HEADERS)
        assert answer.status_code == 201, answer.text
    return (cpu_seconds(proxy.pid) - before) / len(bodies) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300, help="requests per round and proxy")
    parser.add_argument(
        "--dir",
        default=".",
        help="where the recordings folder is made (default: here, as a user records into a checkout)",
    )
    options = parser.parse_args()
    quiet = ("--log-level", "warning")
    with (
        tempfile.TemporaryDirectory(dir=options.dir, prefix=".bench-recordings-") as folder,
        Served("--api-key", "bench-upstream-key", *quiet) as upstream,
    ):
        upstream_url = upstream.origin + "/v2"
        plain = Served("proxy", "--upstream", upstream_url, *quiet)
        recording = Served(
            "proxy", "--upstream", upstream_url, "--record", folder, "--record-max", "1000000", *quiet
        )
        with plain, recording, httpx.Client(timeout=30) as client:
            warm = [body(-i) for i in range(1, 51)]
            round_us(client, plain, warm)
            round_us(client, recording, warm)
            for load in ("every body new", "one body repeated"):
                results: dict[str, list[float]] = {"plain": [], "record": []}
                for number in range(options.rounds):
                    if load == "every body new":
                        start = number * options.requests
                        bodies = [body(start + i) for i in range(options.requests)]
                    else:
                        bodies = [body(0)] * options.requests
                    # Alternating which goes first too: neither always follows the other.
                    order = [("plain", plain), ("record", recording)]
                    for name, proxy in order if number % 2 == 0 else reversed(order):
                        results[name].append(round_us(client, proxy, bodies))
                best = {name: min(values) for name, values in results.items()}
                median = {name: statistics.median(values) for name, values in results.items()}
                print(
                    f"{load:18}  proxy CPU µs/request  plain {best['plain']:7.0f}  --record {best['record']:7.0f}"
                    f"  ({best['record'] / best['plain'] - 1:+.1%})   medians {median['plain']:.0f} / "
                    f"{median['record']:.0f} ({median['record'] / median['plain'] - 1:+.1%})"
                )
            files = sum(1 for _ in Path(folder).rglob("*.json"))
            print(
                f"{files} recordings written in {Path(folder).resolve().parent}, {options.rounds} rounds of "
                f"{options.requests} requests per proxy"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
