"""Read and check an OpenAPI document once, and turn it into an operation table.

Everything the server needs per request (validators, response schemas, the security
requirement, the path matcher) is computed here at start-up.
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema_rs

from mock_server.document.conformance import check_document, openapi_version
from mock_server.document.loader import parse_document as parse_document
from mock_server.document.loader import read_document
from mock_server.document.openapi30 import convert_openapi30
from mock_server.document.path_table import PathTable
from mock_server.document.refs import Link, TooDeep, check_refs, escape, pointer, resolve
from mock_server.document.structure import HTTP_METHODS as HTTP_METHODS
from mock_server.document.structure import check_structure, methods
from mock_server.errors import ContractError, one_line
from mock_server.errors import DocumentWarning as DocumentWarning
from mock_server.schema.document_patterns import skip_untranslatable
from mock_server.schema.validation import SchemaCompiler, SchemaValidator

JSON = Any
BUNDLED_NAME = "api-v2.json"


def bundled_document_path() -> Path:
    here = Path(__file__).resolve().parent
    # Installed wheels carry the document inside the package; a source checkout has it in spec/.
    for candidate in (here / "_spec" / BUNDLED_NAME, here.parent / "spec" / BUNDLED_NAME):
        if candidate.is_file():
            return candidate
    raise ContractError(BUNDLED_NAME, "the bundled document is missing from this installation")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header" | "cookie"
    required: bool
    schema: dict[str, Any]
    validator: SchemaValidator


@dataclass(frozen=True)
class RequestBody:
    required: bool
    media_types: tuple[str, ...]
    schema: dict[str, Any] | None
    validator: SchemaValidator | None


@dataclass(frozen=True)
class ResponseSpec:
    status: str
    description: str
    schema: dict[str, Any] | None


@dataclass(frozen=True)
class Credential:
    """One way a request may present credentials (a header, query or cookie value)."""

    scheme: str
    location: str
    name: str
    bearer: bool = False


@dataclass(frozen=True, eq=False)  # identity-hashed: operations key per-operation tables
class Operation:
    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: Mapping[str, ResponseSpec]
    # Alternatives (OR) of requirements (AND of credentials); empty tuple: no auth needed.
    security: tuple[tuple[Credential, ...], ...]
    raw: Mapping[str, Any] = field(repr=False)

    def response(self, status: str) -> ResponseSpec | None:
        return self.responses.get(status)

    @cached_property  # read for every operation at start-up and on every answer
    def success(self) -> ResponseSpec | None:
        for status in sorted(self.responses):
            if status.startswith("2"):
                return self.responses[status]
        return self.responses.get("default")


@dataclass(slots=True)
class Match:
    operation: Operation | None
    path_params: dict[str, str]
    allowed: tuple[str, ...]  # methods served on the path, for 405's Allow


@dataclass
class Contract:
    source: str
    document: dict[str, Any]
    schema_root: dict[str, Any]
    base_path: str
    operations: tuple[Operation, ...]
    # path template -> (operations by lower-case method, the Allow header's methods)
    _paths: PathTable[tuple[dict[str, Operation], tuple[str, ...]]] = field(
        default_factory=PathTable, repr=False
    )
    # Problems served around (see structure.py); the CLIs print one line each.
    warnings: tuple[DocumentWarning, ...] = ()
    # Operations that could not be read, and why (one line each): routed, answered 501 (engine.py).
    skipped: dict[Operation, str] = field(default_factory=dict, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)  # seconds per load phase
    files: tuple[str, ...] = ()  # the files read: the document, then those its $refs named
    # The one compiler of the document's schemas: every validator and generator check shares its
    # registry of components (one per schema would copy them all, operations x components).
    compiler: SchemaCompiler = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiler = SchemaCompiler(self.schema_root)  # the loader gives its builder's instead

    def warning_lines(self) -> list[str]:
        return [warning.line(self.source) for warning in self.warnings]

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", "API"))

    def match(self, method: str, path: str, raw_path: str | None = None) -> Match | None:
        """`raw_path`: the path as sent, still percent-encoded, when it holds an encoded slash."""
        if raw_path is not None:
            return self._match_encoded(method, raw_path)
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                return None
            path = path[len(self.base_path) :]
        found = self._paths.match(path)
        if found is None:
            return None
        (by_method, allowed), params = found
        return Match(by_method.get(method.lower()), params, allowed)

    def _match_encoded(self, method: str, raw_path: str) -> Match | None:
        # Split where the client put slashes, then decode each segment: `%2F` is part of a value.
        segments = [unquote(segment) for segment in raw_path.split("/")]
        base = self.base_path.split("/") if self.base_path else [""]
        if segments[: len(base)] != base or len(segments) <= len(base):
            return None
        found = self._paths.match("", ["", *segments[len(base) :]])
        if found is None:
            return None
        (by_method, allowed), params = found
        return Match(by_method.get(method.lower()), params, allowed)

    def find(self, method: str, path: str) -> Operation:
        for op in self.operations:
            if op.method == method.lower() and op.path == path:
                return op
        raise KeyError(f"{method.upper()} {path}")


def load_contract(
    path: str | Path | None = None, *, strict: bool = False, allow_external_refs: Sequence[str | Path] = ()
) -> Contract:
    """Read, check and compile the document at `path` (default: the bundled Meibel API v2).

    Problems the mock can serve around come back in `Contract.warnings`; with `strict=True` they
    are refused instead, and the document also goes through openapi-spec-validator's full check.
    `allow_external_refs` names folders, besides the document's own, that `$ref`s may read from.
    """
    file = Path(path) if path is not None else bundled_document_path()
    # Loading makes millions of objects and no garbage cycles: with the collector on, its full
    # passes over the growing heap took a third of the load time of a 20 MB document.
    collecting = gc.isenabled()
    gc.disable()
    try:
        loaded = read_document(file, allowed=tuple(Path(p) for p in allow_external_refs))
        contract = contract_from_dict(
            loaded.document,
            source=str(file),
            strict=strict,
            _timings=loaded.timings,
            _refs=loaded.refs,
            _warnings=loaded.warnings,
        )
    finally:
        if collecting:
            gc.enable()
    contract.files = tuple(str(f) for f in loaded.files)
    return contract


def contract_from_dict(
    document: dict[str, Any],
    *,
    source: str = "<document>",
    strict: bool = False,
    _timings: dict[str, float] | None = None,
    _refs: list[tuple[dict[str, Any], Link]] | None = None,
    _warnings: Sequence[DocumentWarning] = (),
) -> Contract:
    try:
        return _compile(document, source, strict, dict(_timings or {}), _refs, list(_warnings))
    except TooDeep as exc:
        raise ContractError(source, str(exc), pointer=pointer(exc.link)) from None
    except RecursionError:
        raise ContractError(source, "nested too deeply to be read") from None


def _compile(
    document: dict[str, Any],
    source: str,
    strict: bool,
    timings: dict[str, float],
    refs: list[tuple[dict[str, Any], Link]] | None,
    warnings: list[DocumentWarning],
) -> Contract:
    clock = _Clock(timings)
    version = openapi_version(document, source)
    if not re.fullmatch(r"3\.[012]\.\d+", version):
        warnings.append(
            DocumentWarning("/openapi", f"openapi {version!r} has no patch number; read as {version}.x")
        )
    referenced = check_refs(document, source, refs)
    clock.lap("check references")
    found, ignored = check_structure(document, source, version)
    warnings += found
    base_path, unreachable = _base_path(document)
    if unreachable is not None:
        warnings.append(unreachable)
    clock.lap("check structure")
    if strict:
        if warnings:
            more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            first = warnings[0]
            raise ContractError(
                source, f"{first.message}{more} (refused under --strict)", pointer=first.pointer
            )
        check_document(document, source, version)
        clock.lap("openapi-spec-validator")
    normalized = _copy(document)
    for at, key in ignored:
        resolve(normalized, "#" + at, uri=False).pop(key, None)
    # A pattern with no translation from ECMA-262 is left out, not the document (patterns.py).
    skipped = skip_untranslatable(normalized)
    if skipped and strict:
        first = skipped[0]
        raise ContractError(source, f"{first.message} (refused under --strict)", pointer=first.pointer)
    warnings += skipped
    clock.lap("translate patterns")
    if version.startswith("3.0"):
        convert_openapi30(normalized)
    clock.lap("normalize schemas")
    # Validators and generators resolve references against this: what schemas can name.
    schema_root = {key: normalized[key] for key in ("components", *sorted(referenced)) if key in normalized}
    schema_root.setdefault("components", {})
    builder = _Builder(normalized, schema_root, source, version)
    operations = tuple(builder.operations())
    clock.lap("compile operations")
    contract = Contract(source, document, schema_root, base_path, operations)
    contract.compiler = builder.compiler
    contract.skipped = builder.skipped
    contract.warnings = tuple(warnings)
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = op
    for path, by_method in by_path.items():
        contract._paths.add(path, (by_method, tuple(m.upper() for m in by_method)))
    clock.lap("route table")
    contract.timings = timings
    return contract


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - self.last
        self.last = now


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    # The compiled tables must not share containers with the document served at /openapi.json.
    # A round trip through the C JSON codec is several times faster than a Python walk (orjson's
    # would be faster still, but writes NaN and Infinity as null); what JSON cannot hold (YAML's
    # binary) takes the walk.
    try:
        copied: dict[str, Any] = json.loads(json.dumps(document))
    except (TypeError, ValueError):
        return dict(_deep_copy(document))
    return copied


def _deep_copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _deep_copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_deep_copy(item) for item in node]
    return node


def _base_path(document: dict[str, Any]) -> tuple[str, DocumentWarning | None]:
    """The path of the first server's URL, and a warning when no request could reach it."""
    servers = document.get("servers") or [{"url": "/"}]
    written = url = str(servers[0].get("url", "/"))
    for name, var in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    path = urlsplit(url).path.rstrip("/")
    if not path or path.startswith("/"):
        return path, None
    # `api.example.com`, `,`, `Your API URL`: no scheme, and a path no request line can carry
    # (Prism serves at / then; so does the mock, rather than 404 on every operation).
    return "", DocumentWarning(
        "/servers/0/url", f"server url {written!r} is not a URL a request can reach; served at /"
    )


class _Builder:
    def __init__(
        self, document: dict[str, Any], schema_root: dict[str, Any], source: str, version: str
    ) -> None:
        self.document = document
        self.schema_root = schema_root
        self.source = source
        self.version = version
        self.schemes: dict[str, Any] = document.get("components", {}).get("securitySchemes", {})
        self.compiler = SchemaCompiler(schema_root)
        self.skipped: dict[Operation, str] = {}

    def deref(self, node: Any, pointer: str) -> Any:
        # References were checked (they resolve, without cycles) before the builder runs.
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            node = resolve(self.document, node["$ref"])
        return node

    def validator(self, schema: Any, pointer: str) -> SchemaValidator:
        try:
            return self.compiler.validator(schema)
        except (ValueError, TypeError, jsonschema_rs.ReferencingError) as exc:
            message = one_line(str(exc)) or type(exc).__name__
            raise ContractError(
                self.source, f"schema cannot be compiled: {message}", pointer=pointer
            ) from None

    def operations(self) -> Iterator[Operation]:
        for path, item in (self.document.get("paths") or {}).items():
            if str(path).startswith("x-"):
                continue
            item = self.deref(item, f"/paths/{escape(path)}")
            shared = item.get("parameters") or []
            for method in methods(self.version):
                if method in item:
                    raw = self.deref(item[method], "")
                    try:
                        yield self.operation(path, method, raw, shared)
                    except ContractError:
                        raise
                    except Exception as exc:  # whatever stops one operation must not stop the others
                        yield self.placeholder(path, method, raw, exc)

    def placeholder(self, path: str, method: str, raw: Any, exc: Exception) -> Operation:
        """An operation that could not be read: still routed (its requests get a 501 that says
        why), with nothing else of it kept."""
        op = Operation(
            method=method,
            path=path,
            operation_id=f"{method}_{path}",
            parameters=(),
            body=None,
            responses={},
            security=(),
            raw=raw if isinstance(raw, dict) else {},
        )
        self.skipped[op] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return op

    def operation(self, path: str, method: str, op: dict[str, Any], shared: list[Any]) -> Operation:
        pointer = f"/paths/{escape(path)}/{method}"
        params: dict[tuple[str, str], Parameter] = {}
        variables = set(re.findall(r"\{([^}]+)\}", path))
        for i, raw in enumerate([*shared, *(op.get("parameters") or [])]):
            param = self.deref(raw, f"{pointer}/parameters/{i}")
            if param["in"] == "path" and param["name"] not in variables:
                continue  # a request cannot carry it (warned by the structural check)
            schema = param.get("schema")
            if schema is None:  # parameters may describe themselves through `content`
                media = list((param.get("content") or {}).values())
                schema = (media[0] or {}).get("schema", {}) if media else {}
            params[(param["name"], param["in"])] = Parameter(
                name=param["name"],
                location=param["in"],
                # A path parameter is always required, whatever the document says (it is in the URL).
                required=param["in"] == "path" or bool(param.get("required", False)),
                schema=schema,
                validator=self.validator(schema, f"{pointer}/parameters/{i}"),
            )
        return Operation(
            method=method,
            path=path,
            operation_id=str(op.get("operationId") or f"{method}_{path}"),
            parameters=tuple(params.values()),
            body=self.request_body(op.get("requestBody"), pointer),
            responses=self.responses(op.get("responses") or {}, pointer),
            security=self.security(op.get("security", self.document.get("security", [])), pointer),
            raw=op,
        )

    def request_body(self, raw: Any, pointer: str) -> RequestBody | None:
        if raw is None:
            return None
        body = self.deref(raw, f"{pointer}/requestBody")
        content: dict[str, Any] = body.get("content") or {}
        schema = None
        for media_type, media in content.items():
            if is_json_media_type(media_type):
                schema = (media or {}).get("schema", {})
                break
        validator = self.validator(schema, f"{pointer}/requestBody") if schema is not None else None
        return RequestBody(bool(body.get("required", False)), tuple(content), schema, validator)

    def responses(self, raw: dict[str, Any], pointer: str) -> dict[str, ResponseSpec]:
        out = {}
        for status, response in raw.items():
            response = self.deref(response, f"{pointer}/responses/{status}")
            schema = None
            for media_type, media in (response.get("content") or {}).items():
                if is_json_media_type(media_type):
                    schema = (media or {}).get("schema", {})
                    break
            out[str(status)] = ResponseSpec(str(status), str(response.get("description", "")), schema)
        return out

    def security(
        self, requirements: list[dict[str, Any]], pointer: str
    ) -> tuple[tuple[Credential, ...], ...]:
        alternatives = []
        for requirement in requirements:
            if not requirement:
                return ()  # an empty requirement makes authentication optional
            creds = []
            for name in requirement:
                scheme = self.schemes.get(name)
                if scheme is None:
                    raise ContractError(self.source, f"unknown security scheme {name!r}", pointer=pointer)
                scheme = self.deref(scheme, f"/components/securitySchemes/{escape(name)}")
                if scheme.get("type") == "apiKey":
                    creds.append(Credential(name, scheme["in"], scheme["name"]))
                else:  # http bearer/basic, oauth2, openIdConnect: all travel in Authorization
                    bearer = scheme.get("type") != "http" or scheme.get("scheme", "").lower() == "bearer"
                    creds.append(Credential(name, "header", "Authorization", bearer=bearer))
            alternatives.append(tuple(creds))
        return tuple(alternatives)


def is_json_media_type(media_type: str) -> bool:
    """Any JSON media type: `application/json`, `text/json` (.NET's), any `+json` suffix."""
    main = media_type.split(";", 1)[0].strip().lower()
    return main in ("application/json", "text/json") or (main.endswith("+json") and "/" in main)
