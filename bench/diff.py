"""How long the document diff takes: in process, and as the command a CI step runs.

    python -m bench.diff [--rounds 50]

Three figures: the bundled document against a variant (one bound lowered); a synthetic document of 200
copies of its operation against the same change in each; and `meibel-contract diff` end to end
(interpreter start-up and imports included), median of a few runs.
"""

from __future__ import annotations

import argparse
import copy
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.diff")
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    document = json.loads(BUNDLED.read_text(encoding="utf-8"))
    ms, found = _median_ms(document, _variant(document), rounds)
    print(f"bundled document vs a variant, in process: {ms:.2f} ms median ({found} finding)")
    wide = _wide(document, 200)
    ms, found = _median_ms(wide, _variant(wide), max(3, rounds // 10))
    print(f"200 operations vs the same change, in process: {ms:.1f} ms median ({found} findings)")
    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / "new.json"
        new.write_text(json.dumps(_variant(document)), encoding="utf-8")
        script = "import sys; from contract_tests.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", script, "diff", str(BUNDLED), str(new)]
        times = []
        for _ in range(5):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, check=False, timeout=60)
            times.append(time.perf_counter() - start)
            assert done.returncode == 1, done.stderr  # the variant breaks clients
    print(f"meibel-contract diff end to end: {statistics.median(times) * 1000:.0f} ms median of 5")


if __name__ == "__main__":
    main()
