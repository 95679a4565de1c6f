"""Memory under large distinct requests: the mock's RSS stays bounded.

    python -m bench.memory [--count 2000] [--limit-mib 150]

Starts `meibel-mock --max-body 2m` on 127.0.0.1 and reads its VmRSS from /proc: at start, after
COUNT creates with distinct ~1 MiB bodies (each one new to the answer cache), and after COUNT
requests with ~60 KiB of distinct headers (just under the 64 KiB header limit). Exit 1 when
either figure passes the limit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import httpx

from bench.harness import KEY, PATH, MiB, Served, peak_rss_mib, rss_mib


def distinct_body(i: int, size: int = MiB) -> bytes:
    spec = {"name": "", "agent": "a", "input": {"datasource_id": f"ds_{i}"}}
    skeleton = len(json.dumps({"batch_spec_json": spec}))
    spec["name"] = f"{i:08d}" + "n" * (size - skeleton - 8 - 64)
    return json.dumps({"batch_spec_json": spec}).encode()


def large_bodies(server: Served, count: int) -> tuple[int, float]:
    ok, started = 0, time.monotonic()
    with httpx.Client(base_url=server.origin, timeout=30) as http:
        for i in range(count):
            ok += http.post(PATH, content=distinct_body(i), headers=KEY).status_code == 201
    return ok, time.monotonic() - started


def large_headers(server: Served, count: int, size: int = 60 * 1024) -> tuple[int, float]:
    ok, started = 0, time.monotonic()
    body = json.dumps({"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}})
    with httpx.Client(base_url=server.origin, timeout=30) as http:
        for i in range(count):
            headers = {**KEY, "x-padding": f"{i:08d}" + "h" * (size - 8)}
            ok += http.post(PATH, content=body, headers=headers).status_code == 201
    return ok, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--limit-mib", type=float, default=150.0)
    options = parser.parse_args(argv)
    with Served("--max-body", "2m", "--log-level", "warning") as server:
        start = rss_mib(server.pid)
        ok, seconds = large_bodies(server, options.count)
        after_bodies = rss_mib(server.pid)
        print(
            f"{options.count} distinct 1 MiB bodies: {ok} answered 201 in {seconds:.0f} s; "
            f"RSS {start:.0f} → {after_bodies:.0f} MiB",
            flush=True,
        )
        ok, seconds = large_headers(server, options.count)
        after_headers = rss_mib(server.pid)
        print(
            f"{options.count} requests with 60 KiB of headers: {ok} answered 201 in {seconds:.0f} s; "
            f"RSS {after_bodies:.0f} → {after_headers:.0f} MiB (peak {peak_rss_mib(server.pid):.0f} MiB)",
            flush=True,
        )
    worst = max(after_bodies, after_headers)
    verdict = "PASS" if worst < options.limit_mib else "FAIL"
    print(f"{verdict}: RSS after load {worst:.0f} MiB (limit {options.limit_mib:.0f} MiB)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
