"""The document's shape, checked in one linear pass: what stops serving, and what is only warned.

A problem that leaves the mock unable to serve (a parameter without a name, a `responses` that
is a list) raises `ContractError`, one line with its JSON pointer. A problem the mock can serve
around (no `info`, a response without `description`, a parameter without a schema) is returned
as a `DocumentWarning`; `--strict` turns those into refusals.

This is deliberately not a full meta-validation: openapi-spec-validator takes 111 s on a 20 MB
document and most of what it finds does not stop a mock. The full check runs under `--strict`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from mock_server.document.refs import escape, resolve
from mock_server.errors import ContractError, DocumentWarning

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HTTP_METHODS_32 = (*HTTP_METHODS, "query")  # OpenAPI 3.2 adds QUERY
LOCATIONS = ("path", "query", "header", "cookie")


def methods(version: str) -> tuple[str, ...]:
    return HTTP_METHODS_32 if version.startswith("3.2") else HTTP_METHODS


class _Checker:
    def __init__(self, document: dict[str, Any], source: str, version: str) -> None:
        self.document = document
        self.source = source
        self.version = version
        self.warnings: list[DocumentWarning] = []
        self._seen: set[str] = set()  # pointers of shared components already checked
        self._operation_ids: dict[str, str] = {}
        self.ignored: list[tuple[str, str]] = []  # (pointer of a map, key) left out of what is served

    def fail(self, pointer: str, message: str) -> ContractError:
        return ContractError(self.source, message, pointer=pointer or "/")

    def warn(self, pointer: str, message: str) -> None:
        self.warnings.append(DocumentWarning(pointer or "/", message))

    def deref(self, node: Any, pointer: str) -> tuple[Any, str, bool]:
        """The node a `$ref` names (references are already known to resolve, without cycles),
        its pointer, and whether it was already checked through another reference."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            ref = node["$ref"]
            node = resolve(self.document, ref)
            pointer = unquote(ref[1:])  # a URI fragment; reported as the plain pointer
        first = pointer not in self._seen
        self._seen.add(pointer)
        return node, pointer, not first

    def object(self, node: Any, pointer: str, what: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(pointer, f"{what} must be an object, not {_kind(node)}")
        return node

    def run(self) -> list[DocumentWarning]:
        doc = self.document
        info = doc.get("info")
        if info is None:
            self.warn("/info", "no info object (title and version); served without one")
        else:
            info = self.object(info, "/info", "info")
            for key in ("title", "version"):
                if key not in info:
                    self.warn(f"/info/{key}", f"info has no {key}")
        servers = doc.get("servers")
        if servers is not None:
            if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
                raise self.fail("/servers", "servers must be a list of objects")
            for i, server in enumerate(servers):
                if not isinstance(server.get("url", ""), str):
                    raise self.fail(f"/servers/{i}/url", "a server url must be a string")
                variables = self.object(server.get("variables", {}), f"/servers/{i}/variables", "variables")
                for name, variable in variables.items():
                    self.object(variable, f"/servers/{i}/variables/{escape(str(name))}", "a server variable")
        components = self.object(doc.get("components", {}), "/components", "components")
        for kind, value in components.items():
            if not kind.startswith("x-"):
                self.object(value, f"/components/{escape(kind)}", f"components/{kind}")
        schemes = components.get("securitySchemes", {})
        for name, scheme in schemes.items():
            self.security_scheme(scheme, f"/components/securitySchemes/{escape(name)}")
        self.security(doc.get("security"), "/security")
        paths = doc.get("paths")
        if paths is None:
            if "webhooks" not in doc and "components" not in doc:
                self.warn("/paths", "no paths: there is nothing to serve")
            return self.warnings
        for path, item in self.object(paths, "/paths", "paths").items():
            self.path_item(str(path), item)
        return self.warnings

    def path_item(self, path: str, raw: Any) -> None:
        pointer = f"/paths/{escape(path)}"
        if path.startswith("x-"):
            return
        if not path.startswith("/"):
            raise self.fail(pointer, f"path {path!r} must begin with '/'")
        item, item_pointer, _ = self.deref(raw, pointer)
        item = self.object(item, item_pointer, "a path item")
        variables = set(re.findall(r"\{([^}]+)\}", path))
        self.parameters(item.get("parameters"), f"{item_pointer}/parameters", variables)
        operation_ids = self._operation_ids
        for method in methods(self.version):
            if method not in item:
                continue
            # Not in the specification, but common in documents split over files: an operation
            # that is a `$ref` to another file.
            op, op_pointer, _ = self.deref(item[method], f"{item_pointer}/{method}")
            op = self.object(op, op_pointer, "an operation")
            op_id = op.get("operationId")
            if op_id is not None:
                if str(op_id) in operation_ids:
                    self.warn(
                        f"{op_pointer}/operationId",
                        f"operationId {op_id!r} is also used at {operation_ids[str(op_id)]}",
                    )
                else:
                    operation_ids[str(op_id)] = op_pointer
            self.parameters(op.get("parameters"), f"{op_pointer}/parameters", variables)
            if "requestBody" in op:
                self.request_body(op["requestBody"], f"{op_pointer}/requestBody")
            self.responses(op.get("responses"), f"{op_pointer}/responses")
            self.security(op.get("security"), f"{op_pointer}/security")

    def parameters(self, raw: Any, pointer: str, variables: set[str]) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            raise self.fail(pointer, f"parameters must be a list, not {_kind(raw)}")
        for i, entry in enumerate(raw):
            param, at, checked = self.deref(entry, f"{pointer}/{i}")
            if checked:
                continue
            param = self.object(param, at, "a parameter")
            if not isinstance(param.get("name"), str):
                raise self.fail(at, "a parameter needs a name (a string)")
            if param.get("in") not in LOCATIONS:
                raise self.fail(
                    at, f"parameter {param['name']!r}: 'in' must be one of {', '.join(LOCATIONS)}"
                )
            if "schema" in param:
                self.schema(param["schema"], f"{at}/schema")
            elif "content" in param:
                self.content(param["content"], f"{at}/content")
            else:
                self.warn(at, f"parameter {param['name']!r} has no schema; any value is accepted")
            if param["in"] == "path" and param["name"] not in variables:
                self.warn(at, f"path parameter {param['name']!r} is not in the path; ignored")
            elif param["in"] == "path" and param.get("required") is not True:
                self.warn(at, f"path parameter {param['name']!r} is not marked required: true")

    def request_body(self, raw: Any, pointer: str) -> None:
        body, at, checked = self.deref(raw, pointer)
        if checked:
            return
        body = self.object(body, at, "a request body")
        if "content" not in body:
            self.warn(at, "a request body without content; any body is accepted")
        else:
            self.content(body["content"], f"{at}/content")

    def responses(self, raw: Any, pointer: str) -> None:
        if raw is None and not self.version.startswith("3.0"):
            return  # optional since OpenAPI 3.1: answered 200 with no body
        if raw is None or raw == {}:
            self.warn(pointer, "no responses; answers 200 with no body")
            return
        responses = self.object(raw, pointer, "responses")
        for status, entry in responses.items():
            if str(status).startswith("x-"):
                continue
            response, at, checked = self.deref(entry, f"{pointer}/{escape(str(status))}")
            if checked:
                continue
            response = self.object(response, at, "a response")
            if "description" not in response:
                self.warn(at, "a response without description")
            if "content" in response:
                self.content(response["content"], f"{at}/content")
            headers = response.get("headers", {})
            self.object(headers, f"{at}/headers", "headers")

    def content(self, raw: Any, pointer: str) -> None:
        for media_type, media in self.object(raw, pointer, "content").items():
            at = f"{pointer}/{escape(str(media_type))}"
            if media is not None and not isinstance(media, dict):
                # e.g. a `description` written one level too deep, inside `content`
                self.warn(at, f"{media_type!r} in content is not a media type object; ignored")
                self.ignored.append((pointer, str(media_type)))
                continue
            if media is not None and "schema" in media:
                self.schema(media["schema"], f"{at}/schema")

    def schema(self, raw: Any, pointer: str) -> None:
        if not isinstance(raw, dict | bool):
            raise self.fail(pointer, f"a schema must be an object, not {_kind(raw)}")

    def security_scheme(self, raw: Any, pointer: str) -> None:
        scheme, at, checked = self.deref(raw, pointer)
        if checked:
            return
        scheme = self.object(scheme, at, "a security scheme")
        kind = scheme.get("type")
        if kind == "apiKey":
            if scheme.get("in") not in ("query", "header", "cookie") or not isinstance(
                scheme.get("name"), str
            ):
                raise self.fail(at, "an apiKey scheme needs 'in' (query, header or cookie) and a 'name'")
        elif kind not in ("http", "oauth2", "openIdConnect", "mutualTLS"):
            raise self.fail(at, f"unknown security scheme type {kind!r}")

    def security(self, raw: Any, pointer: str) -> None:
        if raw is None:
            return
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise self.fail(pointer, "security must be a list of objects")
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        for i, requirement in enumerate(raw):
            for name in requirement:
                if name not in schemes:
                    raise self.fail(f"{pointer}/{i}", f"unknown security scheme {name!r}")


def check_structure(
    document: dict[str, Any], source: str, version: str
) -> tuple[list[DocumentWarning], list[tuple[str, str]]]:
    """The warnings, and the entries (map pointer, key) to leave out when serving."""
    checker = _Checker(document, source, version)
    warnings = checker.run()
    return warnings, checker.ignored


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)
