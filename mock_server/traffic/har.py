"""`meibel-mock recordings import FILE.har`: a HAR 1.2 archive turned into recordings.

A HAR as browsers' devtools save it (and as the live check's `--report-har` writes it): each entry
to an operation of the document becomes a recording, exactly as the proxy would have recorded the
exchange (`recorder.py`): keys hidden wherever they hide, repeats once, an answer that breaks the
document noted. Left out, and counted: entries to no operation of the document, requests that break
it, and answers whose body the HAR does not hold (devtools leave it out of some).

The request is read from the entry's `url`, `headers` and `postData` (its `text`, else its
`params` as a form); the HAR's own `cookies` and `queryString` arrays are not copied, but every
value in them that can be a credential is hidden wherever it shows. HTTP/2 pseudo-headers
(`:authority`) are dropped. A body the HAR holds as base64 (`content.encoding`) is decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from mock_server import options as types
from mock_server.answer.exchange import Request
from mock_server.answer.recording import Exchange
from mock_server.contract import Contract, Operation
from mock_server.engine import Engine
from mock_server.errors import UsageError
from mock_server.settings import Settings
from mock_server.traffic.answer_check import ResponseChecker
from mock_server.traffic.recorder import Recorder

MiB = 1024 * 1024
MAX_HAR_BYTES = 256 * MiB
MAX_ENTRIES = 100_000


class BadHar(UsageError):
    pass


@dataclass
class Imported:
    recorder: Recorder
    entries: int = 0
    foreign: int = 0  # to no operation of the document
    without_body: int = 0

    def summary(self, source: Path) -> str:
        parts = [f"{source}: {self.entries} entries", self.recorder.summary()]
        if self.foreign:
            parts.append(f"{self.foreign} to no operation of the document left out")
        if self.without_body:
            parts.append(f"{self.without_body} whose answer's body the HAR does not hold left out")
        return "; ".join(parts)


def import_har(source: Path, contract: Contract, out: Path) -> Imported:
    entries = _entries(source)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    engine = Engine(contract, Settings())
    checker = ResponseChecker(contract)
    imported = Imported(Recorder(contract, out, max_files=MAX_ENTRIES))
    for index, entry in enumerate(entries):
        where = f"log.entries[{index}]"
        exchange, extra = _exchange(entry, where)
        imported.entries += 1
        routed = _route(engine, contract, exchange)
        if routed is None:
            imported.foreign += 1
            continue
        op, params, path = routed
        exchange = Exchange(
            exchange.method,
            path,
            exchange.query,
            exchange.headers,
            exchange.body,
            exchange.status,
            exchange.response_headers,
            exchange.response,
        )
        response = entry["response"]
        content = response.get("content") or {}
        if "text" not in content and (content.get("size") or 0) > 0:
            imported.without_body += 1
            continue
        headers = {name.lower(): value for name, value in exchange.headers}
        broken = bool(engine.validation_errors(op, Request(headers, exchange.query, exchange.body, params)))
        content_type = next((v for k, v in exchange.response_headers if k.lower() == "content-type"), "")
        content_type = content_type or str(content.get("mimeType") or "")
        violations = checker.violations(op, exchange.status, content_type, exchange.response)
        imported.recorder.record(op, params, exchange, violations, request_broken=broken, extra_secrets=extra)
    return imported


def _entries(source: Path) -> list[Any]:
    try:
        size = source.stat().st_size
        if size > MAX_HAR_BYTES:
            raise BadHar(f"{source}: larger than the limit of {MAX_HAR_BYTES // MiB} MiB")
        data = json.loads(source.read_bytes())
    except OSError as exc:
        raise BadHar(f"{source}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:
        raise BadHar(f"{source}: not a HAR file (not JSON: {str(exc).splitlines()[0][:120]})") from None
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise BadHar(f"{source}: not a HAR file (no log.entries list)")
    if len(entries) > MAX_ENTRIES:
        raise BadHar(f"{source}: {len(entries)} entries, more than the limit of {MAX_ENTRIES}")
    return entries


def _exchange(entry: Any, where: str) -> tuple[Exchange, list[str]]:
    """The exchange an entry holds, and the values of its `cookies` and `queryString` arrays
    and form params (hidden wherever they show, when they can be credentials)."""
    request = _object(entry, "request", where)
    response = _object(entry, "response", where)
    method, url = _text(request, "method", f"{where}.request"), _text(request, "url", f"{where}.request")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise BadHar(f"not a HAR 1.2 entry: {where}.response.status is not a status code")
    parts = urlsplit(url)
    query = parts.query
    named = _pairs(request.get("queryString"), f"{where}.request.queryString")
    if not query and named:
        query = urlencode(named)
    headers = _pairs(request.get("headers"), f"{where}.request.headers", pseudo=False)
    cookies = _pairs(request.get("cookies"), f"{where}.request.cookies")
    extra = [value for _, value in cookies]
    body: bytes | None = None
    post = request.get("postData")
    if isinstance(post, Mapping):
        if isinstance(post.get("text"), str):
            body = post["text"].encode("utf-8")
        elif post.get("params"):
            params = _pairs(post.get("params"), f"{where}.request.postData.params")
            body = urlencode(params).encode()
        if not any(name.lower() == "content-type" for name, _ in headers) and post.get("mimeType"):
            headers.append(("content-type", str(post["mimeType"])))
    content = response.get("content") or {}
    if not isinstance(content, Mapping):
        raise BadHar(f"not a HAR 1.2 entry: {where}.response.content is not an object")
    answer = b""
    if isinstance(content.get("text"), str):
        if content.get("encoding") == "base64":
            try:
                answer = base64.b64decode(content["text"], validate=True)
            except (binascii.Error, ValueError):
                raise BadHar(f"not a HAR 1.2 entry: {where}.response.content.text is not base64") from None
        else:
            answer = content["text"].encode("utf-8")
    out_headers = _pairs(response.get("headers"), f"{where}.response.headers", pseudo=False)
    path = unquote(parts.path) or "/"
    return Exchange(method.upper(), path, query, headers, body, status, out_headers, answer), extra


def _route(
    engine: Engine, contract: Contract, exchange: Exchange
) -> tuple[Operation, dict[str, str], str] | None:
    """The operation the entry's URL names, and its path as the mock sees it: the URL's path, or,
    recorded behind another prefix (a gateway's `/meibel/v2/...`), from the document's base path on."""
    path = exchange.path
    candidates = [path]
    base = contract.base_path
    if base and base + "/" in path:
        candidates.append(path[path.rindex(base + "/") :])
    elif base:
        candidates.append(base + path)
    for candidate in candidates:
        routed = engine.route(exchange.method, candidate)
        if isinstance(routed, tuple):
            return routed[0], routed[1], candidate
    return None


def _object(node: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(value, Mapping):
        raise BadHar(f"not a HAR 1.2 entry: {where} has no {key!r} object")
    return value


def _text(node: Mapping[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value:
        raise BadHar(f"not a HAR 1.2 entry: {where} has no {key!r}")
    return value


def _pairs(node: Any, where: str, *, pseudo: bool = True) -> list[tuple[str, str]]:
    """A HAR list of `{"name", "value"}` objects (absent: empty)."""
    if node is None:
        return []
    if not isinstance(node, list):
        raise BadHar(f"not a HAR 1.2 entry: {where} is not a list")
    out = []
    for item in node:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise BadHar(f"not a HAR 1.2 entry: {where} holds an item without a 'name'")
        value = item.get("value", "")
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        if pseudo or not item["name"].startswith(":"):
            out.append((item["name"], value))
    return out


def recordings_main(argv: list[str]) -> int:
    """`meibel-mock recordings import FILE.har [--out DIR] [--spec PATH]`."""
    parser = types.Parser(prog="meibel-mock recordings", description="Work with recordings.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="import")
    importing = commands.add_parser(
        "import",
        help="turn a HAR 1.2 file into recordings",
        description="Turn a HAR 1.2 file into recordings.",
    )
    importing.add_argument(
        "har", metavar="FILE.har", help="a HAR 1.2 file (devtools, meibel-contract --report-har)"
    )
    importing.add_argument(
        "--out", default="recordings", help="directory to write into (default: recordings)"
    )
    importing.add_argument("--spec", help="the document (default: the bundled one)")
    types.add_document_options(importing)
    options = parser.parse_args(argv)
    contract = types.load_document(options, "meibel-mock recordings")
    imported = import_har(Path(options.har), contract, Path(options.out))
    print(imported.summary(Path(options.har)))
    return 0
