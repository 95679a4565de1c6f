"""What `--record` costs the proxy: CPU µs per request with and without it, in the same run.

    python -m bench.recording [--rounds 7] [--requests 300]

One upstream (`meibel-mock`), two proxies in front of it (one plain, one with `--record DIR`),
the same requests to each, alternating round by round so that the neighbours' load on a shared
machine falls on both alike. Each proxy's CPU time (user + system, all its threads) is read from
/proc before and after its round; the best round of each is reported (the least disturbed), and
the median too. Creating a file costs what the file system makes it cost (`--dir`: where the
folder is made; by default the current directory, as a user records into a checkout). Two loads: every body new (each request written as a new file: the most recording
can cost) and one body repeated (a repeat is recognised and skipped). Last, in process, the CPU
spent in the recorder itself per exchange: the part of the difference that is the recording's own,
steadier than the difference of two noisy totals on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Served

PATH = "/v2/batch-executions"
HEADERS = {"Meibel-API-Key": "bench-upstream-key", "content-type": "application/json"}
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The CPU time of `pid`'s threads, user and system, to the nanosecond (`schedstat`); /proc's
    `stat` counts in ticks of 10 ms, a third of a round's difference at 300 requests."""
    try:
        return (
            sum(
                int(task.joinpath("schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):  # a thread that ended between the listing and the read
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


def attribute(folder: str, count: int) -> str:
    """In process: the CPU time spent in `Recorder.record` itself (this thread's), per exchange,
    new and repeated, behind a real proxy in front of an upstream on a thread."""
    import asyncio
    import time

    from mock_server import Settings, create_app, load_contract
    from mock_server.testing import serve_in_thread
    from mock_server.traffic import recorder as recorder_module
    from mock_server.traffic.proxy import ValidationProxy
    from mock_server.traffic.recorder import Recorder

    contract = load_contract()
    spent = [0.0]
    with serve_in_thread(
        create_app(contract, settings=Settings(api_keys=("bench-upstream-key",)))
    ) as upstream:
        recorder = Recorder(contract, Path(folder), max_files=10**7)
        proxy = ValidationProxy(contract, upstream.origin, recorder=recorder)
        original = recorder.record

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - started

        recorder.record = timed  # type: ignore[method-assign]
        writing = [0.0]
        write = recorder_module._write_atomically

        def timed_write(*args: Any) -> None:
            started = time.thread_time()
            try:
                write(*args)
            finally:
                writing[0] += time.thread_time() - started

        recorder_module._write_atomically = timed_write  # type: ignore[assignment]

        async def send(bodies: list[bytes]) -> float:
            transport = httpx.ASGITransport(app=proxy)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                spent[0] = writing[0] = 0.0
                for raw in bodies:
                    answer = await client.post(PATH, content=raw, headers=HEADERS)
                    assert answer.status_code == 201, answer.text
            return spent[0] / len(bodies) * 1e6

        async def both() -> tuple[float, float, float]:
            new = await send([body(10**6 + i) for i in range(count)])
            files = writing[0] / count * 1e6
            repeated = await send([body(10**6)] * count)
            await proxy.aclose()
            return new, files, repeated

        new, files, repeated = asyncio.run(both())
        recorder_module._write_atomically = write
    return (
        f"in Recorder.record itself: {new:.0f} µs per new file (of which {files:.0f} µs creating and "
        f"writing the file), {repeated:.1f} µs per repeat ({count} each)"
    )


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
        Served("--api-key", "bench-upstream-key", "--idle-timeout", "600", *quiet) as upstream,
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
            # A folder of its own: indexing what the rounds above left there is a start-up cost.
            with tempfile.TemporaryDirectory(dir=options.dir, prefix=".bench-recordings-") as apart:
                print(attribute(apart, options.requests))
            print(
                f"{files} recordings written in {Path(folder).resolve().parent}, {options.rounds} rounds of "
                f"{options.requests} requests per proxy"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
