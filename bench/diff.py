"""How long the document diff takes: start-up, in process, and on a large document.

    python -m bench.diff [--rounds 50] [--runs 15] [--large]

- `meibel-contract diff` end to end on a small pair (the bundled document against a variant with one
  bound lowered), median of `--runs` runs, next to the interpreter's own start-up and the diff's
  imports alone: what a CI step waits for.
- In process: the same pair, and a synthetic document of 200 copies of its operation against the same
  change in each.
- With `--large`: the ~19 MB document of `bench/large_document.py` (17,000 paths, 34,000 operations)
  against two variants, end to end: one operation changed, and one shared component changed (which a
  third of the operations reach).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contract_tests.diff import diff_documents

BUNDLED = Path(__file__).resolve().parent.parent / "spec" / "api-v2.json"


def _variant(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    params = changed["components"]["schemas"]["LegacyBatchExecutionParams"]["properties"]
    params["concurrency"]["anyOf"][0]["maximum"] = 100
    return changed


def _wide(document: dict[str, Any], copies: int) -> dict[str, Any]:
    wide = copy.deepcopy(document)
    item = wide["paths"].pop("/batch-executions")
    for i in range(copies):
        wide["paths"][f"/batch-executions-{i}"] = copy.deepcopy(item)
    return wide


def _median_ms(old: dict[str, Any], new: dict[str, Any], rounds: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        found = len(diff_documents(old, new))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, found


def _command() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("meibel-contract")
    if script.exists():
        return [str(script)]
    found = shutil.which("meibel-contract")
    return [found] if found else [sys.executable, "-m", "contract_tests.entry"]


def _runs(command: list[str], runs: int, expect: int, timeout: float = 600.0) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False, timeout=timeout)
        times.append(time.perf_counter() - start)
        assert done.returncode == expect, done.stderr.decode()[-500:]
    return times


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.0f} ms median (min {min(times) * 1000:.0f}) of {len(times)}"


def startup(runs: int) -> None:
    document = json.loads(BUNDLED.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / "new.json"
        new.write_text(json.dumps(_variant(document)), encoding="utf-8")
        end_to_end = _runs([*_command(), "diff", str(BUNDLED), str(new)], runs, expect=1)
    interpreter = _runs([sys.executable, "-c", "pass"], runs, expect=0)
    imports = _runs([sys.executable, "-c", "import contract_tests.diff.cli"], runs, expect=0)
    print(f"meibel-contract diff end to end (small pair): {_ms(end_to_end)}")
    print(f"  of which the interpreter's start-up: {_ms(interpreter)}")
    print(f"  and the diff's imports (start-up included): {_ms(imports)}")


def in_process(rounds: int) -> None:
    document = json.loads(BUNDLED.read_text(encoding="utf-8"))
    ms, found = _median_ms(document, _variant(document), rounds)
    print(f"bundled document vs a variant, in process: {ms:.2f} ms median ({found} finding)")
    wide = _wide(document, 200)
    ms, found = _median_ms(wide, _variant(wide), max(3, rounds // 10))
    print(f"200 operations vs the same change, in process: {ms:.1f} ms median ({found} findings)")


def large() -> None:
    from bench.large_document import build

    document = build(17000, 200, 40)
    one = copy.deepcopy(document)
    one["paths"]["/resources7/items/{item_id}"]["get"]["parameters"][1]["schema"]["maximum"] = 50
    shared = copy.deepcopy(document)
    shared["components"]["schemas"]["Model5"]["properties"]["name"]["maxLength"] = 100
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, doc in (("old", document), ("one", one), ("shared", shared)):
            paths[name] = Path(tmp) / f"{name}.json"
            paths[name].write_text(json.dumps(doc), encoding="utf-8")
        size = paths["old"].stat().st_size / 2**20
        for name, label in (("one", "one operation changed"), ("shared", "a shared component changed")):
            times = _runs([*_command(), "diff", str(paths["old"]), str(paths[name])], 1, expect=1)
            print(f"large document ({size:.0f} MiB, 34,000 operations), {label}: {times[0]:.1f} s end to end")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.diff")
    parser.add_argument("--rounds", type=int, default=50, help="in-process repetitions")
    parser.add_argument("--runs", type=int, default=15, help="end-to-end runs for the start-up figure")
    parser.add_argument("--large", action="store_true", help="also the ~19 MB document (a minute or more)")
    options = parser.parse_args()
    startup(options.runs)
    in_process(options.rounds)
    if options.large:
        large()


if __name__ == "__main__":
    main()
