"""Start one benchmark target: `python -m bench.serve {mock,reference} {default,h11} PORT`."""

from __future__ import annotations

import sys

import uvicorn

from bench.reference import create_reference
from mock_server.cli import main as mock_main


def run(target: str, stack: str, port: int) -> None:
    if target == "mock" and stack == "default":
        mock_main(["--port", str(port)])  # exactly what a user starts
        return
    if target == "mock":
        from mock_server import create_app, load_contract

        app = create_app(load_contract())
    else:
        app = create_reference()
    http, loop = ("h11", "asyncio") if stack == "h11" else ("httptools", "uvloop")
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, loop=loop, log_level="warning", access_log=False)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]))
