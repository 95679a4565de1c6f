"""`meibel-mock --recordings DIR`: recorded answers served again, for the requests they answered.

Loaded and indexed once, at start-up (bounded: `MAX_FILES` files, `MAX_BYTES` in all). A file
that is not a recording stops the start (one line naming it, exit 2): recordings are committed
files, and a broken one (a merge conflict, a bad edit) silently answered with generated data
would make tests pass or fail for reasons no one sees. A recording of an operation the document
does not have (the document moved on) is skipped with a warning.

A request matches a recording of its operation when
- its path parameters have the recorded values;
- its query has the same parameters with the same values, each in the recorded order (the order
  between parameters does not matter; Prism's `__code`-style parameters are left out);
- its body: with `exact` (the default), JSON equal to the recorded one (objects' key order does
  not matter; `true` is not `1`; `1` and `1.0` are the same number); with `partial`, every field
  of the recorded body is present with its value, at every depth: an object may have more
  fields, an array has the same length and its items match in order, each partially;
  a body that is not JSON must be the same bytes.
A recorded `[redacted]` (a key that was hidden) matches any value in its place; a recording that
names the value itself is more specific, and answers before one that matches only through `[redacted]`.

When several recordings match (`--record-all` recorded repeats), they are served in order of
name, the last one again once all have been. `Prefer: example=NAME` picks a recording of the
operation by name (`201-invoices-3f2a9c`, or with its folder). Validation, the key check,
faults and latency apply as to any answer (`engine.py`); a `Prefer` (or queued) example, code
or dynamic answer asks for something else, and skips the recordings.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from mock_server.answer.recording import body_bytes
from mock_server.contract import Contract, Operation, is_json_media_type
from mock_server.errors import UsageError
from mock_server.state.redaction import REDACTED

log = logging.getLogger("mock_server.recordings")
MiB = 1024 * 1024
MAX_FILES = 10_000
MAX_BYTES = 64 * MiB  # all the files together
MATCH_MODES = ("exact", "partial")
RECORDING_HEADER = "x-mock-recording"  # on a replayed answer: the recording's name
_NO_BODY = object()
_REPEAT = re.compile(r"(.+)-(\d+)")
_SKIPPED_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "connection"})


@dataclass
class Replay:
    """One loaded recording, ready to answer."""

    name: str  # `operation/stem`
    stem: str
    op: Operation
    path_params: dict[str, str]
    query: dict[str, list[str]]
    body: Any  # the parsed JSON body, the raw bytes, or _NO_BODY
    status: int
    headers: dict[str, str]
    media_type: str | None
    payload: bytes | None
    broken: bool  # the recorder noted that the answer breaks the document
    uses: int = 0
    wildcards: int = 0  # `[redacted]` values: each matches anything, so fewer is more specific


@dataclass
class Recordings:
    directory: Path
    partial: bool = False
    by_op: dict[Operation, list[Replay]] = field(default_factory=dict)
    skipped: int = 0
    _turns: dict[tuple[str, ...], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(map(len, self.by_op.values()))

    def reset(self) -> None:
        self._turns.clear()
        for replays in self.by_op.values():
            for replay in replays:
                replay.uses = 0

    def pick(
        self,
        op: Operation,
        prefer: Mapping[str, str],
        path_params: Mapping[str, str],
        query_string: str,
        content_type: str,
        raw_body: bytes | None,
    ) -> Replay | None:
        """The recording that answers a valid request to `op`, or None: answered as without them."""
        replays = self.by_op.get(op)
        if not replays:
            return None
        wanted = prefer.get("example")
        if wanted is not None:
            named = next((r for r in replays if wanted in (r.stem, r.name)), None)
            if named is not None:
                named.uses += 1
                return named
        if "example" in prefer or "code" in prefer or "dynamic" in prefer:
            return None
        body = _request_body(content_type, raw_body)
        query = _query(query_string) if query_string else {}
        found = [r for r in replays if _matches(r, path_params, query, body, self.partial)]
        if not found:
            return None
        if (
            len(found) > 1
        ):  # the most specific: `/keys/abc` recorded answers `/keys/abc` before `/keys/[redacted]`
            fewest = min(r.wildcards for r in found)
            found = [r for r in found if r.wildcards == fewest]
        chosen = found[0]
        if len(found) > 1:
            turn = tuple(r.name for r in found)
            index = self._turns.get(turn, 0)
            if len(self._turns) < 10_000 or turn in self._turns:  # bounded, whatever the traffic
                self._turns[turn] = index + 1
            chosen = found[min(index, len(found) - 1)]
        chosen.uses += 1
        return chosen

    def listing(self) -> dict[str, Any]:
        """`GET /__mock/recordings`: what is loaded, and how often each was served."""
        items = [
            {
                "name": r.name,
                "operation": r.op.operation_id,
                "method": r.op.method.upper(),
                "path": r.op.path,
                "status": r.status,
                "uses": r.uses,
                **({"breaks_document": True} if r.broken else {}),
            }
            for replays in self.by_op.values()
            for r in replays
        ]
        return {
            "directory": str(self.directory),
            "match": "partial" if self.partial else "exact",
            "count": len(items),
            "recordings": items,
        }


def load_recordings(directory: Path, contract: Contract, *, match: str = "exact") -> Recordings:
    """Every recording under `directory`, indexed by operation; UsageError for what cannot be."""
    if not directory.is_dir():
        raise UsageError(f"--recordings {directory}: not a directory")
    files = sorted(
        (
            p
            for p in directory.rglob("*.json")
            if not any(part.startswith(".") for part in p.relative_to(directory).parts)
        ),
        key=_in_order,
    )
    if len(files) > MAX_FILES:
        raise UsageError(f"--recordings {directory}: {len(files)} files, more than the limit of {MAX_FILES}")
    total = 0
    loaded = Recordings(directory, partial=match == "partial")
    for path in files:
        total += path.stat().st_size
        if total > MAX_BYTES:
            raise UsageError(f"--recordings {directory}: more than {MAX_BYTES // MiB} MiB of recordings")
        name = path.relative_to(directory).with_suffix("").as_posix()
        try:
            content = json.loads(path.read_bytes())
            replay = _replay(content, name, contract)
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise UsageError(f"{path}: not a recording ({_reason(exc)})") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
        if replay is None:
            loaded.skipped += 1
            log.warning("%s: skipped, a recording of no operation of the document", path)
            continue
        loaded.by_op.setdefault(replay.op, []).append(replay)
    return loaded


def _in_order(path: Path) -> tuple[str, str, int]:
    """Files by name, a request's repeats (`…-2`, `…-3`, `…-10`) after it, in the order recorded."""
    repeat = _REPEAT.fullmatch(path.stem)
    if repeat is None:
        return str(path.parent), path.stem, 1
    return str(path.parent), repeat.group(1), int(repeat.group(2))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _replay(content: Any, name: str, contract: Contract) -> Replay | None:
    if not isinstance(content, dict):
        raise TypeError("not a JSON object")
    request, response = content["request"], content["response"]
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise TypeError("'request' and 'response' must be objects")
    method, path = request["method"], request["path"]
    status = response["status"]
    if not isinstance(method, str) or not isinstance(path, str):
        raise TypeError("the request's 'method' and 'path' must be strings")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError("the response's 'status' must be a status code")
    found = contract.match(method, path)
    if found is None or found.operation is None:
        return None
    query = request.get("query") or {}
    if not isinstance(query, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in query.values()
    ):
        raise TypeError("the request's 'query' must map names to lists of strings")
    raw = body_bytes(request)
    body: Any = _NO_BODY if raw is None else request.get("body", raw)
    headers = response.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise TypeError("the response's 'headers' must map names to strings")
    kept = {
        str(k).lower(): v
        for k, v in headers.items()
        if str(k).lower() not in _SKIPPED_HEADERS and _sendable(str(k), v)
    }
    media_type = headers.get("content-type") or next(
        (v for k, v in headers.items() if str(k).lower() == "content-type"), None
    )
    return Replay(
        name=name,
        stem=name.rsplit("/", 1)[-1],
        op=found.operation,
        path_params=found.path_params,
        query={k: v for k, v in query.items() if not k.startswith("__")},
        body=body,
        status=status,
        headers=kept,
        media_type=media_type if media_type and _sendable("content-type", media_type) else None,
        payload=body_bytes(response),
        broken=bool(content.get("violations")),
        wildcards=_wildcards([found.path_params, query, body]),
    )


def _wildcards(node: Any) -> int:
    """How many `[redacted]` values `node` holds, at any depth."""
    if isinstance(node, str):
        return node == REDACTED
    if isinstance(node, dict):
        return sum(_wildcards(value) for value in node.values())
    if isinstance(node, list):
        return sum(_wildcards(item) for item in node)
    return 0


def _sendable(name: str, value: str) -> bool:
    """A header that can travel as written: a token name, one line of visible Latin-1 text."""
    try:
        name.encode("ascii")
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return (
        bool(name)
        and all(33 <= ord(c) <= 126 and c not in '()<>@,;:\\"/[]?={}' for c in name)
        and all(c == "\t" or 32 <= ord(c) <= 126 or ord(c) >= 160 for c in value)
    )


def _query(encoded: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        if not name.startswith("__"):
            out.setdefault(name, []).append(value)
    return out


def _request_body(content_type: str, raw: bytes | None) -> Any:
    if not raw:
        return _NO_BODY
    if is_json_media_type(content_type):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return raw


def _matches(
    replay: Replay, path_params: Mapping[str, str], query: dict[str, list[str]], body: Any, partial: bool
) -> bool:
    if replay.path_params != path_params and not all(
        want in (REDACTED, path_params.get(name)) for name, want in replay.path_params.items()
    ):
        return False
    if replay.query.keys() != query.keys() or not all(
        len(want) == len(query[name])
        and all(w in (REDACTED, g) for w, g in zip(want, query[name], strict=True))
        for name, want in replay.query.items()
    ):
        return False
    if replay.body is _NO_BODY or body is _NO_BODY:
        return replay.body is body
    if isinstance(replay.body, bytes) or isinstance(body, bytes):
        raw = body if isinstance(body, bytes) else None
        return isinstance(replay.body, bytes) and replay.body == raw
    return same(replay.body, body, partial=partial)


def same(recorded: Any, sent: Any, *, partial: bool) -> bool:
    """JSON equality (`partial`: the recorded value's fields present in the sent one, at every
    depth). Booleans are not numbers; a recorded `[redacted]` matches any value."""
    if isinstance(recorded, str):
        return recorded in (REDACTED, sent)
    if isinstance(recorded, bool) or isinstance(sent, bool):
        return type(recorded) is type(sent) and recorded == sent
    if isinstance(recorded, (int, float)):
        return isinstance(sent, (int, float)) and recorded == sent
    if isinstance(recorded, dict):
        if not isinstance(sent, dict) or (not partial and recorded.keys() != sent.keys()):
            return False
        return all(k in sent and same(v, sent[k], partial=partial) for k, v in recorded.items())
    if isinstance(recorded, list):
        return (
            isinstance(sent, list)
            and len(recorded) == len(sent)
            and all(same(r, s, partial=partial) for r, s in zip(recorded, sent, strict=True))
        )
    return recorded is None and sent is None
