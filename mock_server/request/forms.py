"""Form bodies → values to validate: `application/x-www-form-urlencoded` and `multipart/form-data`.

Fields arrive as text, so each is converted by its property's schema (as parameters are); a field
an array property declares may repeat. Multipart is read with the standard library's MIME parser
(no new dependency): a file part is its content as text (a `format: binary` string), a part sent as
`application/json` (OpenAPI's default for object properties) is parsed as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from mock_server.document.refs import schema_at
from mock_server.request.negotiation import essence
from mock_server.request.parameters import Coercer, coercer, kind_of
from mock_server.schema.explain import ErrorList, error
from mock_server.schema.validation import SchemaValidator

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True, slots=True)
class FormBody:
    media_type: str
    validator: SchemaValidator
    fields: dict[str, tuple[str, Coercer]]  # property -> (its kind, its converter)
    # Fields whose `encoding` entry does not allow reserved characters: they must come percent-encoded.
    unreserved: frozenset[str] = frozenset()
    # Required array fields: a form has no way to write an empty list but to leave the field out
    # (Schemathesis sends Twilio's `UseCaseCategories: []` so), so left out they read as [].
    # `minItems` still decides whether [] will do.
    arrays: frozenset[str] = frozenset()

    def read(self, raw: bytes, content_type: str) -> tuple[Any, ErrorList]:
        if essence(content_type) == MULTIPART:
            parsed = _multipart(raw, content_type)
            if parsed is None:
                return None, [
                    error("value_error", ("body",), "Value error, not a readable multipart body", None)
                ]
            as_sent = {k: [v for v in vs if isinstance(v, str)] for k, vs in parsed.items()}
        else:
            parsed = _urlencoded(raw)
            if parsed is None:
                return None, [error("value_error", ("body",), "Value error, a form body must be UTF-8", None)]
            as_sent = _raw_pairs(raw)
        for name in self.unreserved:
            if any(_RESERVED.search(text) for text in as_sent.get(name, ())):
                message = "Value error, reserved characters must be percent-encoded (allowReserved is false)"
                return None, [error("value_error", ("body", name), message, as_sent[name][-1])]
        value: dict[str, Any] = {}
        for name, texts in parsed.items():
            kind, convert = self.fields.get(name, ("", _text))
            raw_value: Any = texts if kind == "array" else texts[-1]
            converted, problem = convert(raw_value)
            if problem is not None:
                return None, [error(problem[0], ("body", name), problem[1], raw_value)]
            value[name] = converted
        for name in self.arrays:
            value.setdefault(name, [])
        return value, self.validator.errors(value, ("body",))


def form_body(
    media_type: str, schema: Any, validator: SchemaValidator, root: Mapping[str, Any], encoding: Any = None
) -> FormBody:
    """`root`: what the schema's references name (the document's normalized schemas)."""
    resolved = schema_at(root, schema)
    properties = resolved.get("properties") or {} if isinstance(resolved, dict) else {}
    fields = {
        str(name): (kind_of(schema_at(root, sub)), _field(sub, root)) for name, sub in properties.items()
    }
    unreserved = frozenset(
        str(name)
        for name, entry in (encoding or {}).items()
        if isinstance(entry, dict) and entry.get("allowReserved") is not True
    )
    required = resolved.get("required") if isinstance(resolved, dict) else None
    arrays = frozenset(
        name
        for name in (required if isinstance(required, list) else [])
        if isinstance(name, str) and name in fields and fields[name][0] == "array"
    )
    return FormBody(media_type, validator, fields, unreserved, arrays)


_RESERVED = re.compile(r"[/?#\[\]@!$&'()*+,;=]")


def _raw_pairs(raw: bytes) -> dict[str, list[str]]:
    """The form's values as sent, before percent-decoding (reserved characters still visible)."""
    out: dict[str, list[str]] = {}
    for pair in raw.decode("utf-8", "replace").split("&"):
        name, _, value = pair.partition("=")
        out.setdefault(unquote_plus(name), []).append(value)
    return out


def is_form(media_type: str) -> bool:
    return essence(media_type) in (FORM, MULTIPART)


def _field(schema: Any, root: Mapping[str, Any]) -> Coercer:
    base = coercer(schema, root)
    kind = kind_of(schema_at(root, schema))

    def convert(raw: Any) -> tuple[Any, tuple[str, str] | None]:
        if isinstance(raw, _Json):
            return raw.value, None
        if kind == "object" and isinstance(raw, str):
            try:
                return json.loads(raw), None
            except ValueError:
                return raw, ("dict_type", "Input should be a valid dictionary")
        return base(raw)

    return convert


def _text(raw: Any) -> tuple[Any, tuple[str, str] | None]:
    return (raw.value if isinstance(raw, _Json) else raw), None


class _Json:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _urlencoded(raw: bytes) -> dict[str, list[Any]] | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    out: dict[str, list[Any]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out


def _multipart(raw: bytes, content_type: str) -> dict[str, list[Any]] | None:
    if "boundary=" not in content_type:
        return None
    header = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=HTTP).parsebytes(header + raw)
    except (ValueError, TypeError, LookupError):
        return None
    if not message.is_multipart():
        return None
    out: dict[str, list[Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        text = data.decode("utf-8", "replace")
        value: Any = text
        if "json" in part.get_content_type():
            try:
                value = _Json(json.loads(text))
            except ValueError:
                value = text
        out.setdefault(name, []).append(value)
    return out
