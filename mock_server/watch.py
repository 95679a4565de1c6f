"""--watch: reload the document when its file changes; a broken edit keeps the last good one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from mock_server.contract import Contract, load_contract
from mock_server.errors import ContractError

log = logging.getLogger("mock_server.watch")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


async def watch(path: Path, reload: Callable[[Contract], None], *, interval: float = 0.5) -> None:
    # Polling: one stat() per interval needs no platform-specific notifier and no dependency.
    last = _stamp(path)
    while True:
        await asyncio.sleep(interval)
        stamp = _stamp(path)
        if stamp == last:
            continue
        last = stamp
        try:
            # Checking a document takes most of a second: off the event loop, requests keep flowing.
            contract = await asyncio.to_thread(load_contract, path)
        except ContractError as exc:
            log.warning("%s — still serving the last good document", exc)
            continue
        for line in contract.warning_lines():
            log.warning("%s", line)
        reload(contract)
        log.info("reloaded %s: %d operation(s)", path, len(contract.operations))
