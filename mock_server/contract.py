"""Read and check an OpenAPI document once, and turn it into an operation table.

Everything the server needs per request (validators, response schemas, the security
requirement, the path matcher) is computed here at start-up.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mock_server.errors import ContractError
from mock_server.validation import SchemaValidator, compile_validator

JSON = Any
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
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

    @property
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
    # path -> (operations by lower-case method, the Allow header's methods)
    _literal: dict[str, tuple[dict[str, Operation], tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )
    _templated: list[tuple[re.Pattern[str], tuple[dict[str, Operation], tuple[str, ...]]]] = field(
        default_factory=list, repr=False
    )

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", "API"))

    def match(self, method: str, path: str) -> Match | None:
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                return None
            path = path[len(self.base_path) :]
        entry = self._literal.get(path)
        params: dict[str, str] = {}
        if entry is None:
            for regex, candidate in self._templated:
                found = regex.match(path)
                if found:
                    entry = candidate
                    params = {_GROUPS.get(k, k): v for k, v in found.groupdict().items()}
                    break
            else:
                return None
        by_method, allowed = entry
        return Match(by_method.get(method.lower()), params, allowed)

    def find(self, method: str, path: str) -> Operation:
        for op in self.operations:
            if op.method == method.lower() and op.path == path:
                return op
        raise KeyError(f"{method.upper()} {path}")


def load_contract(path: str | Path | None = None) -> Contract:
    """Read, check and compile the document at `path` (default: the bundled Meibel API v2)."""
    file = Path(path) if path is not None else bundled_document_path()
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(source, "no such file") from None
    except IsADirectoryError:
        raise ContractError(source, "is a directory, not an OpenAPI document") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(source, f"cannot read: {exc}") from None
    return contract_from_dict(parse_document(text, source), source=source)


def parse_document(text: str, source: str) -> dict[str, Any]:
    try:
        if source.endswith((".yaml", ".yml")):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(
            source, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except yaml.YAMLError as exc:
        raise ContractError(source, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ContractError(source, "an OpenAPI document must be an object")
    return data


def contract_from_dict(document: dict[str, Any], *, source: str = "<document>") -> Contract:
    version = str(document.get("openapi", ""))
    if not re.fullmatch(r"3\.[01]\.\d+", version):
        found = repr(document["openapi"]) if "openapi" in document else "none"
        raise ContractError(
            source, f"only OpenAPI 3.0 and 3.1 documents are supported (openapi: {found})", pointer="/openapi"
        )
    _check_document(document, source, version)
    normalized = copy.deepcopy(document)
    if version.startswith("3.0"):
        normalized = _openapi30_to_json_schema(normalized)
    schema_root = {"components": normalized.get("components", {})}
    builder = _Builder(normalized, schema_root, source)
    operations = tuple(builder.operations())
    contract = Contract(source, document, schema_root, _base_path(document), operations)
    for path in {op.path for op in operations}:
        by_method = {op.method: op for op in operations if op.path == path}
        entry = (by_method, tuple(m.upper() for m in by_method))
        if "{" in path:
            contract._templated.append((_path_regex(path), entry))
        else:
            contract._literal[path] = entry
    # OpenAPI: concrete paths win over templated ones; among templates, fewer variables first.
    contract._templated.sort(key=lambda item: item[0].pattern.count("(?P<"))
    return contract


_VALID_DOCUMENTS: set[str] = set()  # digests of documents already checked in this process


def _check_document(document: dict[str, Any], source: str, version: str) -> None:
    # The meta-validation takes most of a second; an app, a test or a CLI run may load the same
    # document several times in one process.
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
    if digest in _VALID_DOCUMENTS:
        return
    _validate_document(document, source, version)
    _VALID_DOCUMENTS.add(digest)


def _validate_document(document: dict[str, Any], source: str, version: str) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_cls = OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    try:
        error = next(iter(validator_cls(document).iter_errors()), None)
    except Exception as exc:  # the validator raises on unresolvable $refs and similar
        raise ContractError(source, f"not a valid OpenAPI document: {exc}") from None
    if error is not None:
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
        message = str(error.message).splitlines()[0]
        raise ContractError(source, f"not a valid OpenAPI document: {message}", pointer=pointer or "/")


def _base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    url = str(servers[0].get("url", "/"))
    for name, var in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    return urlsplit(url).path.rstrip("/")


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", template)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{_group(part)}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{pattern}$")


_GROUPS: dict[str, str] = {}  # regex group name -> path variable name, where they differ


def _group(name: str) -> str:
    # Path variable names may hold characters a regex group name cannot.
    if name.isidentifier():
        return name
    group = "_" + re.sub(r"\W", "_", name) + f"_{len(_GROUPS)}"
    _GROUPS[group] = name
    return group


def _openapi30_to_json_schema(node: Any) -> Any:
    """Rewrite 3.0 schema dialect (nullable, boolean exclusive bounds) into JSON Schema 2020-12."""
    if isinstance(node, list):
        return [_openapi30_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi30_to_json_schema(value) for key, value in node.items()}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if out.pop("nullable", None) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class _Builder:
    def __init__(self, document: dict[str, Any], schema_root: dict[str, Any], source: str) -> None:
        self.document = document
        self.schema_root = schema_root
        self.source = source
        self.schemes: dict[str, Any] = document.get("components", {}).get("securitySchemes", {})

    def deref(self, node: Any, pointer: str) -> Any:
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
                raise ContractError(self.source, f"unsupported or circular $ref {ref!r}", pointer=pointer)
            seen.add(ref)
            node = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or part not in node:
                    raise ContractError(self.source, f"$ref {ref!r} points nowhere", pointer=pointer)
                node = node[part]
        return node

    def operations(self) -> Iterator[Operation]:
        for path, item in (self.document.get("paths") or {}).items():
            item = self.deref(item, f"/paths/{_escape(path)}")
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method in item:
                    yield self.operation(path, method, item[method], shared)

    def operation(self, path: str, method: str, op: dict[str, Any], shared: list[Any]) -> Operation:
        pointer = f"/paths/{_escape(path)}/{method}"
        params: dict[tuple[str, str], Parameter] = {}
        for i, raw in enumerate([*shared, *op.get("parameters", [])]):
            param = self.deref(raw, f"{pointer}/parameters/{i}")
            schema = param.get("schema")
            if schema is None:  # parameters may describe themselves through `content`
                media = list((param.get("content") or {}).values())
                schema = (media[0] or {}).get("schema", {}) if media else {}
            params[(param["name"], param["in"])] = Parameter(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required", param["in"] == "path")),
                schema=schema,
                validator=compile_validator(schema, self.schema_root),
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
        validator = compile_validator(schema, self.schema_root) if schema is not None else None
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
                scheme = self.deref(scheme, f"/components/securitySchemes/{_escape(name)}")
                if scheme.get("type") == "apiKey":
                    creds.append(Credential(name, scheme["in"], scheme["name"]))
                else:  # http bearer/basic, oauth2, openIdConnect: all travel in Authorization
                    bearer = scheme.get("type") != "http" or scheme.get("scheme", "").lower() == "bearer"
                    creds.append(Credential(name, "header", "Authorization", bearer=bearer))
            alternatives.append(tuple(creds))
        return tuple(alternatives)


def is_json_media_type(media_type: str) -> bool:
    main = media_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")
