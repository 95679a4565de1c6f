"""The document against the OpenAPI specification: which version it is, and (under `--strict`)
openapi-spec-validator's full check of it, once per document in a process."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from mock_server.document.refs import escape
from mock_server.errors import ContractError, one_line


def openapi_version(document: dict[str, Any], source: str) -> str:
    raw = document.get("openapi")
    version = str(raw) if isinstance(raw, str | float | int) and not isinstance(raw, bool) else ""
    if re.fullmatch(r"3\.[012](\.\d+)?", version):
        return version
    if "swagger" in document and raw is None:
        message = f"Swagger {document['swagger']} documents are not supported; only OpenAPI 3.0, 3.1 and 3.2"
        raise ContractError(source, message, pointer="/swagger")
    found = repr(raw) if raw is not None else "none"
    raise ContractError(
        source,
        f"only OpenAPI 3.0, 3.1 and 3.2 documents are supported (openapi: {found})",
        pointer="/openapi",
    )


_VALID_DOCUMENTS: set[str] = set()  # digests of documents already checked in this process


def check_document(document: dict[str, Any], source: str, version: str) -> None:
    if version.startswith("3.2"):
        return  # openapi-spec-validator has no 3.2 schema yet; the structural check applies
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
        raise ContractError(source, f"not a valid OpenAPI document: {one_line(str(exc))}") from None
    if error is not None:
        pointer = "".join("/" + escape(str(p)) for p in error.absolute_path)
        message = one_line(str(error.message))
        raise ContractError(source, f"not a valid OpenAPI document: {message}", pointer=pointer or "/")
