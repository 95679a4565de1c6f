"""One recorded exchange, as a file: what was asked and what the service answered, keys hidden.

A recording is a JSON file `OPERATION_ID/STATUS-SLUG-HASH.json` (`createExecution/201-invoices-3f2a9c.json`):

    {"operation": {"id": "createExecution", "method": "POST", "path": "/batch-executions"},
     "request": {"method": "POST", "path": "/v2/batch-executions", "query": {"a": ["1"]},
                 "headers": {"content-type": "application/json"}, "body": {...}},
     "response": {"status": 201, "headers": {"content-type": "application/json"}, "body": {...}},
     "violations": ["body/total_items: ..."]}          (only when the answer breaks the document)

A body is `body` (JSON, parsed), `body_text` (other text) or `body_base64` (bytes); none: no body.
The name is a function of the request (after redaction): the same request gets the same name, so
recording it again replaces it, and a key never shapes a name.

Keys never reach a file. The credentials a request presents (the document's apiKey headers,
query parameters and cookies, `Authorization`, every cookie) and the values of credential-like
parameters (`api_key`, `token`, …) are hidden wherever they appear, in both bodies too, by the
journal's redaction (`redaction.py`); credential headers read `[redacted]`; and the file's text is
searched for each of them once more before it is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mock_server.contract import Contract, Operation, is_json_media_type
from mock_server.document.refs import follow
from mock_server.request.parameters import cookies
from mock_server.state.redaction import ALWAYS_SECRET_HEADERS, REDACTED, Redactor, is_secret_param

MIN_SECRET = 4  # characters a presented credential needs to be searched for in text (as the journal)
# Request headers worth keeping besides the document's header parameters: they decide the answer.
REQUEST_HEADERS = frozenset({"content-type", "accept", "prefer"})
# Answer headers worth keeping besides those the document declares for the operation.
RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "location",
        "retry-after",
        "etag",
        "last-modified",
        "link",
        "allow",
        "www-authenticate",
        "content-language",
        "content-disposition",
        "cache-control",
    }
)
# Never kept: framing, the connection's, and what the proxy adds.
NEVER = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "server",
        "content-encoding",
        "x-contract-violations",
        "x-mock-recording",
    }
)
_SLUG_KEYS = ("name", "title", "label", "slug", "display_name", "id")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_REDACTED_BYTES = REDACTED.encode()


@dataclass(frozen=True)
class Exchange:
    """A request and its answer, as they travelled (headers in order, names in any case)."""

    method: str
    path: str  # as the mock sees it: the document's base path, then the operation's path
    query: str  # as sent, percent-encoded
    headers: Sequence[tuple[str, str]]
    body: bytes | None
    status: int
    response_headers: Sequence[tuple[str, str]]
    response: bytes


@dataclass(frozen=True)
class Recording:
    """A file's name (`operation/stem`), its request's identity, and its content."""

    folder: str
    stem: str
    identity: str  # a hash of the redacted request: equal for identical requests
    content: dict[str, Any]
    data: bytes  # the file's bytes

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.stem}"

    def text(self) -> str:
        return self.data.decode("utf-8", "surrogatepass")


def encode(content: Any) -> bytes:
    """A recording's bytes: JSON, two-space indented, UTF-8, one value per line, as people diff it."""
    try:
        return orjson.dumps(content, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # integers past 64 bits (the mock accepts them): the standard library's
        return (json.dumps(content, indent=2) + "\n").encode()  # (ASCII: a lone surrogate escaped too)


@dataclass(frozen=True)
class _Plan:
    """What is kept of an operation's exchanges, read from the document once."""

    folder: str
    request_headers: frozenset[str]
    response_headers: frozenset[str]


@dataclass(frozen=True)
class _Hiding:
    """A redactor for one set of secrets, and their spellings in a file's JSON text."""

    redactor: Redactor
    spellings: tuple[bytes, ...]


class Redaction:
    """The document's credential names, read once; per exchange, a redactor for the secrets it carries."""

    def __init__(self, contract: Contract, keys: Iterable[str] = ()) -> None:
        self.contract = contract
        creds = [c for op in contract.operations for alternative in op.security for c in alternative]
        self.header_creds = frozenset(c.name.lower() for c in creds if c.location == "header")
        self.query_creds = frozenset(c.name for c in creds if c.location == "query")
        self.cookie_creds = frozenset(c.name for c in creds if c.location == "cookie")
        self._secret_headers = self.header_creds | frozenset(ALWAYS_SECRET_HEADERS)
        self.keys = tuple(key for key in keys if key)  # known to the tool (the upstream's, given)
        self._cache: dict[frozenset[str], _Hiding] = {}
        self._plans: dict[Operation, _Plan] = {}

    def plan(self, op: Operation) -> _Plan:
        found = self._plans.get(op)
        if found is None:
            wanted = REQUEST_HEADERS | {p.name.lower() for p in op.parameters if p.location == "header"}
            wanted |= self.header_creds
            if any(p.location == "cookie" for p in op.parameters):
                wanted |= {"cookie"}
            found = self._plans[op] = _Plan(
                safe_name(op.operation_id or f"{op.method}{op.path}"),
                frozenset(wanted),
                RESPONSE_HEADERS | _declared_headers(self.contract, op),
            )
        return found

    def secrets(
        self, headers: Iterable[tuple[str, str]], query: str, form: str = "", extra: Iterable[str] = ()
    ) -> set[str]:
        """The credentials a request presents: its secret headers' values (the token after a
        scheme's name too), every cookie's value, credential-like parameters' values."""
        found = {*self.keys, *extra}
        secret_headers = self._secret_headers
        for name, value in headers:
            lower = name.lower()
            if lower == "cookie":
                found.update(cookies(value).values())
            elif lower in secret_headers:
                found.add(value.strip())
                found.add(value.partition(" ")[2].strip())
        for encoded in (query, form):
            if encoded:
                for name, value in parse_qsl(encoded, keep_blank_values=True):
                    if name in self.query_creds or is_secret_param(name):
                        found.add(value)
        return {secret for secret in found if len(secret) >= MIN_SECRET and secret != REDACTED}

    def hiding(self, secrets: set[str]) -> _Hiding:
        key = frozenset(secrets)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= 64:  # a handful of keys in practice; bounded whatever comes
                self._cache.clear()
            spellings = {
                spelling.encode("utf-8", "surrogatepass")
                for secret in secrets
                for spelling in (
                    secret,
                    json.dumps(secret)[1:-1],
                    json.dumps(secret, ensure_ascii=False)[1:-1],
                )
            }
            found = self._cache[key] = _Hiding(
                Redactor(secrets, secret_headers=self.header_creds, secret_params=self.query_creds),
                tuple(sorted(spellings, key=len, reverse=True)),
            )
        return found

    def redactor(self, secrets: set[str]) -> Redactor:
        return self.hiding(secrets).redactor


def build(
    redaction: Redaction,
    op: Operation,
    path_params: Mapping[str, str],
    exchange: Exchange,
    violations: Sequence[str] = (),
    extra_secrets: Iterable[str] = (),
) -> Recording:
    """The file for `exchange`, a request to `op`, keys hidden."""
    request_type = _header(exchange.headers, "content-type")
    form = (exchange.body or b"").decode("latin-1") if "x-www-form-urlencoded" in request_type else ""
    hiding = redaction.hiding(redaction.secrets(exchange.headers, exchange.query, form, extra_secrets))
    redactor = hiding.redactor
    plan = redaction.plan(op)
    request: dict[str, Any] = {"method": exchange.method.upper(), "path": redactor.text(exchange.path)}
    if exchange.query:
        request["query"] = _query(redactor.params(exchange.query))
    kept = _headers(redactor, exchange.headers, plan.request_headers, redaction)
    if kept:
        request["headers"] = kept
    request.update(body_fields(redactor, exchange.body, request_type))
    response: dict[str, Any] = {"status": exchange.status}
    answer_headers = _headers(redactor, exchange.response_headers, plan.response_headers, redaction)
    if answer_headers:
        response["headers"] = answer_headers
    response.update(body_fields(redactor, exchange.response, answer_headers.get("content-type", "")))
    content: dict[str, Any] = {
        "operation": {"id": op.operation_id, "method": op.method.upper(), "path": op.path},
        "request": request,
        "response": response,
    }
    if violations:
        content["violations"] = list(violations)
    # A key named in the path (`/keys/{key}`) shapes neither the name nor the identity.
    path_params = {name: redactor.text(value) for name, value in path_params.items()}
    identity = request_identity(request, path_params)
    slug = _slug(request.get("body"), path_params)
    stem = f"{exchange.status}-{slug}-{identity[:6]}" if slug else f"{exchange.status}-{identity[:6]}"
    data = encode(content)
    if any(spelling in data for spelling in hiding.spellings):
        # A key in a place no rule above knew (a header's name, a path segment): hidden in the text.
        for spelling in hiding.spellings:
            data = data.replace(spelling, _REDACTED_BYTES)
        content = json.loads(data)
    return Recording(plan.folder, stem, identity, content, data)


def body_fields(redactor: Redactor, raw: bytes | None, content_type: str) -> dict[str, Any]:
    """A body as a recording keeps it: parsed JSON, text, or base64; keys hidden."""
    if raw is None or raw == b"":
        return {}
    hidden, _ = redactor.body(raw, len(raw) + 1)
    if is_json_media_type(content_type) or not content_type:
        try:
            return {"body": orjson.loads(hidden)}
        except orjson.JSONDecodeError:
            pass
        try:  # what orjson refuses and the mock accepts: integers past 64 bits
            return {"body": json.loads(hidden)}
        except (ValueError, RecursionError):
            pass
    try:
        return {"body_text": hidden.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(hidden).decode("ascii")}


def body_bytes(fields: Mapping[str, Any]) -> bytes | None:
    """The bytes of a recorded body (`body_fields`' inverse; JSON as compact JSON)."""
    if "body" in fields:
        return json.dumps(fields["body"], ensure_ascii=False, separators=(",", ":")).encode()
    if "body_text" in fields:
        return str(fields["body_text"]).encode("utf-8")
    if "body_base64" in fields:
        return base64.b64decode(str(fields["body_base64"]), validate=True)
    return None


def request_identity(request: Mapping[str, Any], path_params: Mapping[str, str]) -> str:
    """A hash of what makes two requests the same for replay: method, path, query, body."""
    canonical = [
        request.get("method"),
        request.get("path"),
        sorted(path_params.items()) if path_params else [],
        sorted((name, values) for name, values in (request.get("query") or {}).items()),
        request.get("body"),
        request.get("body_text"),
        request.get("body_base64"),
    ]
    try:
        data = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # (integers past 64 bits, lone surrogates)
        data = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def safe_name(text: str) -> str:
    """`text` as one file name: letters, digits, `.`, `_`, `-` (never empty, never hidden)."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "operation"
    return cleaned[:80]


def _slug(body: Any, path_params: Mapping[str, str]) -> str:
    found = _short_text(body, 0)
    if found is None:
        found = next((value for value in path_params.values() if value and value != REDACTED), None)
    if not found:
        return ""
    return re.sub(r"[^a-z0-9]+", "-", found.lower()).strip("-")[:24].strip("-")


def _short_text(node: Any, depth: int) -> str | None:
    """The first string under a naming key (`name`, `title`, …), breadth first, three levels deep."""
    if not isinstance(node, dict) or depth > 3:
        return None
    for key in _SLUG_KEYS:
        value = node.get(key)
        if isinstance(value, str) and value and value != REDACTED:
            return value
    for value in node.values():
        found = _short_text(value, depth + 1)
        if found is not None:
            return found
    return None


def _query(encoded: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out


def _headers(
    redactor: Redactor,
    headers: Iterable[tuple[str, str]],
    wanted: frozenset[str] | set[str],
    redaction: Redaction,
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in NEVER or lower not in wanted:
            continue
        if lower == "cookie":
            value = "; ".join(
                f"{n}={REDACTED if n in redaction.cookie_creds or is_secret_param(n) else redactor.text(v)}"
                for n, v in cookies(value).items()
            )
        else:
            value = redactor.header(lower, value)
        out[lower] = f"{out[lower]}, {value}" if lower in out else value
    return out


def _header(headers: Iterable[tuple[str, str]], wanted: str) -> str:
    return next((value for name, value in headers if name.lower() == wanted), "")


def _follow(document: Any, node: Any) -> Any:
    """`refs.follow`, a reference that names nothing read as nothing declared."""
    try:
        return follow(document, node)
    except KeyError:
        return {}


def _declared_headers(contract: Contract, op: Operation) -> frozenset[str]:
    """The answer headers the document declares for the operation, any status."""
    names: set[str] = set()
    responses = _follow(contract.document, op.raw.get("responses"))
    for response in (responses or {}).values() if isinstance(responses, Mapping) else ():
        found = _follow(contract.document, response)
        headers = found.get("headers") if isinstance(found, Mapping) else None
        if isinstance(headers, Mapping):
            names.update(str(name).lower() for name in headers)
    return frozenset(names)
