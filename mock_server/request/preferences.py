"""What a request prefers: its `Prefer` header (RFC 7240), and Prism's query spellings of it.

The preferences the mock knows: example, code, dynamic, latency and fault.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl


def query_preferences(query: str) -> dict[str, str]:
    """Prism's query spellings of the preferences: `?__code=404&__example=cat&__dynamic=true`
    (a `Prefer` header wins over them)."""
    out = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in ("__code", "__example", "__dynamic") and value:
            out[name[2:]] = value
    return out


_TOKEN = re.compile(r'\s*([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;\s]*)\s*(?:;[^,]*)?')


def parse_prefer(header: str) -> dict[str, str]:
    """`Prefer: example=completed, code=422, dynamic=true, latency=200ms, fault=503` (RFC 7240;
    preferences the mock does not know are ignored)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        found = _TOKEN.fullmatch(part)
        if found is None:
            continue
        name, value = found.group(1).lower(), found.group(2).strip('"')
        if name in ("example", "code", "dynamic", "latency", "fault"):
            if not value:
                raise ValueError(f"Prefer: {name} needs a value, as in {name}=…")
            out[name] = value
    return out
