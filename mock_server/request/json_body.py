"""JSON request bodies from raw bytes, read as FastAPI reads them (`json_invalid` where it would crash)."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import orjson

from mock_server.schema.explain import ErrorList, Loc, error

# Deeper documents are refused before parsing: the stdlib decoder and encoder recurse.
MAX_DEPTH = 200
MAX_INT_DIGITS = 4300  # CPython's int/str conversion limit


class _Refused(Exception):
    def __init__(self, reason: str, pattern: bytes) -> None:
        self.reason = reason
        self.pattern = pattern


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused("Out of range float values are not JSON compliant", rb"-?\d[\d.]*[eE]\+?\d{3,}")
    return value


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _Refused(f"Integer literal longer than {MAX_INT_DIGITS} digits", rb"\d{%d,}" % MAX_INT_DIGITS)
    return int(text)


def _parse_constant(text: str) -> float:
    raise _Refused("Expecting value", rb"(?<![\w\"])-?(?:NaN|Infinity)")


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# orjson reads integers past 64 bits as floats: such bodies (19 digits in a row, somewhere) take
# the stdlib path. Found by mapping every ASCII digit to one byte and searching for a run of it:
# a fifth of what the regular expression `\d{19}` costs on a request body (bench/stages.py).
_DIGITS_AS_NINES = bytes(ord("9") if ord("0") <= i <= ord("9") else ord(" ") for i in range(256))
_LONG_RUN = b"9" * 19


def has_long_number(raw: bytes) -> bool:
    return _LONG_RUN in raw.translate(_DIGITS_AS_NINES)


_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _json_invalid(position: int, reason: str) -> ErrorList:
    return [error("json_invalid", ("body", position), "JSON decode error", {}, {"error": reason})]


def parse_json(raw: bytes) -> tuple[Any, ErrorList]:
    """Decode a JSON body as FastAPI does, refusing what it would crash on (NaN, Infinity,
    5000-digit integers, deep nesting, invalid UTF-8) with a `json_invalid` error instead."""
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        where = _too_deep(raw)
        if where is not None:
            return None, _json_invalid(where, f"Nesting deeper than {MAX_DEPTH} levels")
    if not has_long_number(raw):
        try:
            # orjson is ~3x faster; whatever it refuses gets the stdlib's exact error below.
            return orjson.loads(raw), []
        except orjson.JSONDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, _json_invalid(exc.start, f"Invalid UTF-8 byte 0x{raw[exc.start]:02x}")
    try:
        return _DECODER.decode(text), []
    except json.JSONDecodeError as exc:
        return None, _json_invalid(exc.pos, exc.msg)
    except _Refused as exc:
        found = re.search(exc.pattern, raw)
        return None, _json_invalid(found.start() if found else 0, exc.reason)
    except RecursionError:
        return None, _json_invalid(0, f"Nesting deeper than {MAX_DEPTH} levels")


def _too_deep(raw: bytes) -> int | None:
    brackets = _STRINGS.sub(b'""', raw)
    depths = accumulate(_STEP[b] for b in brackets.translate(None, _BRACKETS))
    for index, depth in enumerate(depths):
        if depth > MAX_DEPTH:
            # Report an offset into the original text: the (index+1)-th bracket outside strings.
            return _bracket_offset(raw, index)
    return None


def _bracket_offset(raw: bytes, index: int) -> int:
    seen = -1
    position = 0
    for match in re.finditer(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', raw, re.DOTALL):
        if match.group().startswith(b'"'):
            continue
        seen += 1
        if seen == index:
            position = match.start()
            break
    return position


def unicode_errors(raw: bytes, value: Any, loc: Loc) -> ErrorList:
    """Lone surrogate escapes (`"\\ud800"`) parse into strings that cannot be encoded back."""
    if not _SURROGATE.search(raw):
        return []
    found: ErrorList = []
    _find_surrogates(value, loc, found)
    return found


def _find_surrogates(value: Any, loc: Loc, found: ErrorList) -> None:
    if isinstance(value, str):
        if not _encodable(value):
            found.append(
                error(
                    "string_unicode",
                    loc,
                    "Input should be a valid string, unable to parse raw data as a unicode string",
                    value.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
                )
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if _encodable(key) else key.encode("utf-8", "backslashreplace").decode()
            _find_surrogates(item, (*loc, name), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_surrogates(item, (*loc, index), found)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
