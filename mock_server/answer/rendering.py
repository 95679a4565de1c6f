"""A value → the bytes of a body in a given media type.

JSON types (`application/json`, any `+json`) are JSON. Text types take a string example as it is
written. XML gets a plain element serialisation of an object (no attributes, no namespaces): enough
for a client to parse, and the document's own XML example is used as-is whenever it has one.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

import orjson

from mock_server.request.negotiation import essence, is_json, is_xml

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def to_json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # lone surrogates, integers past 64 bits: the stdlib escapes them
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str).encode()


def render(value: Any, media_type: str, *, root: str = "root") -> bytes:
    if is_json(media_type):
        return to_json(value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if is_xml(media_type):
        return _xml(value, _name(root)).encode("utf-8")
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float) or essence(media_type).startswith("text/"):
        return str(value).encode() if isinstance(value, int | float) else to_json(value)
    return to_json(value)


def _name(name: str) -> str:
    cleaned = "".join(c if c in _NAME_CHARS else "_" for c in name) or "root"
    return cleaned if cleaned[0].isalpha() or cleaned[0] == "_" else "_" + cleaned


def _xml(value: Any, name: str) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(item, _name(str(key))) for key, item in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list):
        return f"<{name}>{''.join(_xml(item, 'item') for item in value)}</{name}>"
    if value is None:
        return f"<{name}/>"
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = escape(str(value))
    return f"<{name}>{text}</{name}>"
