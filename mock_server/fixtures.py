"""`meibel-mock fixtures --out DIR`: one JSON file per scenario, for MSW, Jest or Storybook.

`OPERATION.SCENARIO.json` holds a success answer (the operation's 2xx: 201 for createExecution);
`OPERATION.validation_error_422.json` (and `error_STATUS` for other declared 4xx) an error answer.
With recordings (`--recordings DIR`), each recorded JSON answer is a fixture too:
`OPERATION.recorded.NAME.json` (`createExecution.recorded.201-invoices-3f2a9c.json`), as recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mock_server.answer.exchange import Request
from mock_server.answer.recordings import load_recordings
from mock_server.answer.scenarios import SCENARIOS
from mock_server.contract import Contract, is_json_media_type
from mock_server.engine import Engine
from mock_server.errors import MockError, UsageError
from mock_server.settings import Settings


def write_fixtures(
    contract: Contract, out: Path, *, seed: int = 0, warn: Callable[[str], None] | None = None
) -> list[Path]:
    """`warn`: told one line per operation the mock could not prepare (the others are written)."""
    engine = Engine(contract, Settings(seed=seed))
    for line in engine.skipped_lines():
        if warn is not None:
            warn(line)
    if not engine.domains:
        raise UsageError(f"{contract.source} has no createExecution operation to write scenarios for")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    written = []
    for op in engine.domains:
        success = op.success
        assert success is not None and success.schema is not None
        errors = [
            spec
            for status, spec in op.responses.items()
            if status.startswith("4") and spec.schema is not None
        ]
        body = engine.domains[op].example_request()
        planned: list[tuple[str, str, Any, dict[str, str]]] = [
            (name, success.status, success.schema, {"prefer": f"example={name}"}) for name in SCENARIOS
        ]
        # An error fixture's name carries its status: an MSW handler must answer it with that.
        planned += [
            (_error_name(spec.status), spec.status, spec.schema, {"prefer": f"code={spec.status}"})
            for spec in errors
        ]
        key = engine.settings.accepted_keys[0]
        credentials = {cred.name.lower(): key for alternative in op.security[:1] for cred in alternative}
        for name, status, schema, headers in planned:
            request = Request(
                {"content-type": "application/json", **credentials, **headers},
                body=json.dumps(body).encode(),
            )
            answer = engine.respond(op, request)
            if str(answer.status) != status:
                raise MockError(f"scenario {name}: expected {status}, the mock answered {answer.status}")
            _check(contract, schema, answer.body, name)
            path = out / f"{op.operation_id}.{name}.json"
            try:
                path.write_text(
                    json.dumps(answer.body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
                )
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
            written.append(path)
    return written


def _error_name(status: str) -> str:
    return f"validation_error_{status}" if status == "422" else f"error_{status}"


def _check(contract: Contract, schema: Any, body: Any, name: str) -> None:
    errors = list(contract.compiler.checker(schema).iter_errors(body))
    if errors:
        first = errors[0]
        where = "/" + "/".join(map(str, first.instance_path))
        raise MockError(
            f"scenario {name}: the fixture does not match the document at {where}: {first.message}"
        )


def write_recorded_fixtures(contract: Contract, recordings: Path, out: Path) -> list[Path]:
    """Each recorded JSON answer as a fixture file (the status is in its name)."""
    loaded = load_recordings(recordings, contract)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    written = []
    for op, replays in loaded.by_op.items():
        for replay in replays:
            if replay.payload is None or not is_json_media_type(replay.media_type or ""):
                continue  # (an empty or non-JSON answer is no JSON fixture)
            path = out / f"{op.operation_id}.recorded.{replay.stem}.json"
            body = json.loads(replay.payload)
            try:
                path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
            written.append(path)
    return written
