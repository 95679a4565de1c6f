"""`--workers`: real processes on 127.0.0.1 sharing one journal, one scenario and one queue,
and the SQLite journal showing exactly what the in-process journal shows."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.state import sqlite_journal
from mock_server.state.journal import Journal, JournalEntry, Snapshot
from mock_server.state.redaction import Redactor
from mock_server.state.shared_state import worker_seed
from mock_server.state.sqlite_journal import SqliteJournal
from mock_server.state.sqlite_state import create_store
from mock_server.state.workers import count
from tests.conftest import KEY, PATH, VALID

CONNECTIONS = 24
PER_CONNECTION = 8
WAIT = 30.0  # seconds any one step may take


class Workers:
    def __init__(self, base: str, process: subprocess.Popen[str]) -> None:
        self.base = base
        self.process = process

    def control(self, method: str, name: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}/__mock/{name}", timeout=WAIT, **kwargs)

    def journal(self) -> dict[str, Any]:
        answer = self.control("GET", "requests")
        assert answer.status_code == 200
        data: dict[str, Any] = answer.json()
        return data

    def burst(self, body: Any = VALID) -> list[httpx.Response]:
        """CONNECTIONS clients at once, each on a connection of its own, PER_CONNECTION creates each."""

        def one_connection(_: int) -> list[httpx.Response]:
            with httpx.Client(base_url=self.base, timeout=WAIT) as client:
                return [client.post(PATH, json=body, headers=KEY) for _ in range(PER_CONNECTION)]

        with ThreadPoolExecutor(CONNECTIONS) as pool:
            return [answer for batch in pool.map(one_connection, range(CONNECTIONS)) for answer in batch]

    def each_connection(self, method: str, name: str) -> list[httpx.Response]:
        """The same control call on CONNECTIONS fresh connections: whichever worker takes each."""

        def call(_: int) -> httpx.Response:
            return self.control(method, name)

        with ThreadPoolExecutor(CONNECTIONS) as pool:
            return list(pool.map(call, range(CONNECTIONS)))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    port = _free_port()
    log = (tmp_path / "stderr").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--workers", "2", "--port", str(port), "--seed", "3"],
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT
    while True:
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                log.seek(0)
                pytest.fail(f"meibel-mock --workers 2 did not start: {log.read()[:2000]}")
            time.sleep(0.1)
    try:
        yield Workers(base, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT)
        log.close()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker pids from /proc (Linux)")
def test_two_workers_share_journal_scenario_queue_and_reset(workers: Workers) -> None:
    pids = _children(workers.process.pid)
    assert len(pids) == 2

    assert workers.control("PUT", "scenario", json={"scenario": "failed"}).status_code == 200
    answers = workers.burst()
    assert len(answers) == CONNECTIONS * PER_CONNECTION
    assert {answer.status_code for answer in answers} == {201}
    # Every answer, from whichever worker, used the scenario set through the other.
    assert {answer.json()["status"] for answer in answers} == {"failed"}

    journal = workers.journal()
    entries = journal["requests"]
    creates = [entry for entry in entries if entry["method"] == "POST" and entry["path"] == PATH]
    # Both workers answered, and the journal holds exactly every request, each once.
    assert {entry["worker"] for entry in creates} == pids
    assert sorted(entry["response"]["id"] for entry in creates) == sorted(a.json()["id"] for a in answers)
    assert len(entries) == len(answers)  # nothing else: control calls are not journaled
    assert journal["evicted"] == 0 and journal["late"] == 0
    assert journal["bytes"] > 0

    # The scenario reads the same through every worker.
    assert {r.json()["scenario"] for r in workers.each_connection("GET", "scenario")} == {"failed"}

    # A queue filled through one worker is taken, exactly, by all of them.
    queued = workers.control("POST", "queue", json={"fault": 503, "times": 5})
    assert queued.status_code == 200
    statuses = [answer.status_code for answer in workers.burst()]
    assert statuses.count(503) == 5 and statuses.count(201) == len(statuses) - 5
    assert workers.control("GET", "queue").json() == {"queue": []}

    # A reset clears the journal and the scenario for every worker.
    assert workers.control("POST", "reset").status_code == 204
    assert {r.json()["scenario"] for r in workers.each_connection("GET", "scenario")} == {None}
    assert all(r.json()["requests"] == [] for r in workers.each_connection("GET", "requests"))
    after = workers.burst()
    assert {answer.json()["status"] for answer in after} == {"pending"}  # the default scenario
    assert len(workers.journal()["requests"]) == len(after)

    # DELETE /__mock/requests empties it for every worker too.
    assert workers.control("DELETE", "requests").status_code == 204
    assert all(r.json()["requests"] == [] for r in workers.each_connection("GET", "requests"))


def test_sigterm_stops_every_worker(workers: Workers) -> None:
    pids = _children(workers.process.pid)
    assert len(pids) == 2
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(timeout=WAIT) == 0
    for pid in pids:  # reaped by the parent before it exits: no such process any more
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_worker_that_dies_is_started_again(workers: Workers) -> None:
    pids = _children(workers.process.pid)
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    while len(_children(workers.process.pid) - {victim}) < 2:
        assert time.monotonic() < deadline, "the worker was not started again"
        time.sleep(0.1)
    assert {answer.status_code for answer in workers.burst()} == {201}
    assert workers.process.poll() is None


def test_workers_option() -> None:
    assert count("3") == 3
    assert count("auto") >= 1
    for bad in ("0", "65", "two", "-1"):
        with pytest.raises(ValueError, match="not a number of workers"):
            count(bad)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--workers", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a number of workers" in result.stderr


def test_worker_seeds() -> None:
    assert worker_seed(None, 1) is None
    assert worker_seed(7, 0) == 7  # worker 0 is exactly --workers 1
    assert len({worker_seed(7, index) for index in range(4)}) == 4


def _entry(index: int) -> tuple[str, str, dict[str, str], bytes, bytes]:
    """Requests of very different sizes, some with a key in them."""
    body = b'{"n": %d, "pad": "%s"}' % (index, b"x" * (index * 997 % 20_000))
    headers = {"meibel-api-key": "sk-secret-1234", "content-type": "application/json"}
    return (f"/v2/items/{index}", f"token=abcdef{index}&q={index}", headers, body, body[: index * 331 % 9000])


def _comparable(entry: JournalEntry) -> dict[str, Any]:
    data = entry.to_json()
    del data["time"], data["worker"]
    return data


def _journals(directory: str, size: int, max_bytes: int, redactor: Redactor) -> list[SqliteJournal]:
    return [
        SqliteJournal(
            Path(directory), index, 2, size=size, max_bytes=max_bytes, redactor=redactor, cleared=lambda: None
        )
        for index in range(2)
    ]


def _same(theirs: Snapshot, ours: Snapshot) -> None:
    assert [_comparable(e) for e in theirs.entries] == [_comparable(e) for e in ours.entries]
    assert (theirs.used_bytes, theirs.evicted, theirs.late) == (ours.used_bytes, ours.evicted, ours.late)


@pytest.mark.parametrize(("size", "max_bytes"), [(10, 10**9), (1000, 60_000), (7, 30_000)])
def test_sqlite_journal_shows_what_the_in_process_journal_shows(size: int, max_bytes: int) -> None:
    redactor = Redactor(["sk-secret-1234"], secret_params=["token"])
    local = Journal(size, max_bytes=max_bytes, redactor=redactor)
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=2)

        async def run() -> None:
            shared = _journals(directory, size, max_bytes, redactor)
            for index in range(300):  # two workers, taking turns unevenly
                path, query, headers, body, response = _entry(index)
                local.record("POST", path, query, headers, body, 201, response, local.generation)
                worker = shared[index % 3 == 0]
                worker.read_generation()
                done = worker.record("POST", path, query, headers, body, 201, response, worker.generation)
                assert done is not None
                await done
                if index == 150:
                    local.clear()
                    worker.clear()
                for journal in shared:
                    journal._trim()  # as often as possible: trimming never changes what is shown
                _same(shared[index % 2].snapshot(), local.snapshot())
            assert "sk-secret-1234" not in str(shared[0].snapshot())

        asyncio.run(run())


@pytest.mark.parametrize(
    "batch_bytes", [sqlite_journal.BATCH_BYTES, 40_000], ids=["one row", "rows of 40 kB"]
)
@pytest.mark.parametrize(("size", "max_bytes"), [(7, 10**9), (1000, 45_000), (12, 30_000)])
def test_batches_of_several_entries_show_what_the_in_process_journal_shows(
    size: int, max_bytes: int, batch_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers of one event-loop turn are one row (or several, `BATCH_BYTES` each): a trim
    keeps a row that is partly past the limits, and a read shows only its entries within them
    (and counts the others as evicted)."""
    split = batch_bytes < sqlite_journal.BATCH_BYTES  # (every turn here costs less than the default)
    monkeypatch.setattr(sqlite_journal, "BATCH_BYTES", batch_bytes)
    rows_per_turn: list[int] = []
    batch_rows = sqlite_journal._batch_rows

    def spy(pending: Any) -> Any:
        rows = batch_rows(pending)
        rows_per_turn.append(len(rows))
        return rows

    monkeypatch.setattr(sqlite_journal, "_batch_rows", spy)
    redactor = Redactor(["sk-secret-1234"], secret_params=["token"])
    local = Journal(size, max_bytes=max_bytes, redactor=redactor)
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=2)

        async def run() -> None:
            shared = _journals(directory, size, max_bytes, redactor)
            index = 0
            for turn in range(60):
                for journal in shared:
                    journal.read_generation()
                waits = []
                for _ in range(1 + turn * 7 % 9):  # one loop turn: both workers, interleaved
                    path, query, headers, body, response = _entry(index)
                    local.record("POST", path, query, headers, body, 201, response, local.generation)
                    worker = shared[index * 5 % 7 < 3]
                    waits.append(
                        worker.record("POST", path, query, headers, body, 201, response, worker.generation)
                    )
                    index += 1
                for done in waits:
                    assert done is not None
                    await done
                if turn == 30:
                    local.clear()
                    shared[1].clear()
                shared[turn % 2]._trim()
                _same(shared[turn % 3 == 0].snapshot(), local.snapshot())
            assert local.evicted > 0  # (the limits were reached)
            assert (max(rows_per_turn) > 1) == split
            assert "sk-secret-1234" not in str(shared[0].snapshot())

        asyncio.run(run())


def test_a_batch_from_both_sides_of_a_clear_journals_only_the_entries_after_it() -> None:
    """Requests that arrived before a clear and after it, answered in the same event-loop turn:
    only the later ones are journaled, the others are counted late, in whatever order they come."""
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=2)

        async def run() -> None:
            one, two = _journals(directory, 10, 10**6, Redactor())

            async def turn(*paths_and_generations: tuple[str, int]) -> None:
                waits = [
                    one.record("GET", path, "", {}, None, 200, b"{}", generation)
                    for path, generation in paths_and_generations
                ]
                for done in waits:
                    assert done is not None
                    await done

            one.read_generation()
            old = one.generation
            two.clear()  # from the other worker, while those are in flight
            one.read_generation()  # (the app's sync, as the next request arrives)
            new = one.generation
            await turn(
                ("/v2/before/0", old), ("/v2/before/1", old), ("/v2/after/0", new), ("/v2/after/1", new)
            )
            seen = two.snapshot()
            assert [entry.path for entry in seen.entries] == ["/v2/after/0", "/v2/after/1"]
            assert seen.late == 2 and seen.evicted == 0
            # A request from before the clear (a slow one) answered after newer ones, in one turn.
            await turn(("/v2/after/2", new), ("/v2/slow", old), ("/v2/after/3", new))
            seen = two.snapshot()
            assert [entry.path for entry in seen.entries] == [f"/v2/after/{i}" for i in range(4)]
            assert seen.late == 3 and seen.evicted == 0

        asyncio.run(run())


def test_an_answer_waits_for_its_commit_which_the_next_loop_turn_shares() -> None:
    """The awaitable an answer waits for is done only once its entry is committed (readable by
    every worker); answers of the next loop turn join the same commit."""
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=2)

        async def run() -> None:
            one, two = _journals(directory, 10, 10**6, Redactor())
            one.read_generation()
            first = one.record("GET", "/v2/a", "", {}, None, 200, b"{}", one.generation)
            await asyncio.sleep(0)  # the next loop turn
            second = one.record("GET", "/v2/b", "", {}, None, 200, b"{}", one.generation)
            assert isinstance(first, asyncio.Future) and second is first
            assert not first.done() and two.snapshot().entries == []  # not committed: not sent
            await first
            assert [entry.path for entry in two.snapshot().entries] == ["/v2/a", "/v2/b"]
            assert one._own.execute("SELECT count(*) FROM batches").fetchone() == (1,)

        asyncio.run(run())


def test_an_answer_is_in_the_journal_whichever_worker_answered(workers: Workers) -> None:
    """Read as soon as each answer arrives, through a fresh connection (any worker)."""
    for _ in range(30):
        answer = httpx.post(workers.base + PATH, json=VALID, headers=KEY, timeout=WAIT)
        assert answer.status_code == 201
        ids = [entry["response"]["id"] for entry in workers.journal()["requests"]]
        assert answer.json()["id"] in ids


def test_a_request_from_before_a_clear_is_not_journaled_after_it() -> None:
    with tempfile.TemporaryDirectory() as directory:
        create_store(Path(directory), workers=2)

        async def run() -> None:
            one, two = (
                SqliteJournal(
                    Path(directory), i, 2, size=10, max_bytes=10**6, redactor=Redactor(), cleared=lambda: None
                )
                for i in range(2)
            )
            one.read_generation()
            arrived = one.generation
            two.clear()  # from the other worker, while the request is in flight
            done = one.record("GET", "/v2/x", "", {}, None, 200, b"{}", arrived)
            assert done is not None
            await done
            seen = two.snapshot()
            assert seen.entries == [] and seen.late == 1

        asyncio.run(run())


def test_workers_that_keep_dying_stop_the_mock_with_one_line() -> None:
    script = (
        "import os, sys\n"
        "from mock_server.state.workers import Supervisor\n"
        "sys.exit(Supervisor(2, lambda index: os._exit(3), shutdown_timeout=1).serve())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("meibel-mock: error: workers exited 6 times within 30 s")
    assert "exit code 3" in last
