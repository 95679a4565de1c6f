"""The document as `/openapi.json` serves it: the mock's own URL first in `servers`.

Swagger UI, Postman and client generators call the first server of the document they are given;
served verbatim, the mock's document would point them at production. So the mock's URL (as the
client reached it: scheme, `Host`, the document's base path) goes first and everything else,
the original servers included, stays as written. A path or an operation with `servers` of its own
(Box sends uploads to `upload.box.com`) gets the mock's URL first there too: the mock serves every
operation under the document's base path, and a client following such a server would leave it.

The document is serialised once, around a placeholder; a host's bytes are a splice of that,
kept in a small cache bounded in bytes.

`/docs` reads a view of its own (`docs=True`): the same, less the top-level `tags` that no
operation uses. Swagger UI draws every listed tag as a section, and an empty one reads as
operations that failed to load (the Meibel document lists twelve). Built on first use only.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any

CACHE_BYTES = 4 * 1024 * 1024  # per-host copies kept; at least one is always kept
_PLACEHOLDER = "\x00meibel-mock-server-url\x00"
# What a Host header may hold to be written into the document; anything else falls back to the
# address the mock is bound to (a page cannot make the mock serve it a made-up URL).
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


class ServedDocument:
    def __init__(self, document: dict[str, Any], base_path: str) -> None:
        self.base_path = base_path
        server = {"url": _PLACEHOLDER, "description": "This mock (meibel-mock)"}
        servers = document.get("servers")
        rest = servers if isinstance(servers, list) else []
        changed = {**document, "servers": [server, *rest]}
        paths = document.get("paths")
        if isinstance(paths, dict) and any(_own_servers(item) for item in paths.values()):
            changed["paths"] = {name: _with_server(item, server) for name, item in paths.items()}
        self._parts = _split(changed)
        self._changed = changed
        self._docs_parts: list[bytes] | None = None
        self._cache: OrderedDict[tuple[str, bool], bytes] = OrderedDict()
        self._cached_bytes = 0

    def url(self, scheme: str, host: str | None, bound: tuple[str, int] | None) -> str:
        """The mock's base URL as this client sees it."""
        if host is None or not _HOST.fullmatch(host):
            if bound is None:
                host = "127.0.0.1"
            else:
                name, port = bound
                host = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
        return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}{self.base_path}"

    def bytes_for(self, url: str, *, docs: bool = False) -> bytes:
        key = (url, docs)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        payload = json.dumps(url).encode().join(self._docs_view() if docs else self._parts)
        self._cache[key] = payload
        self._cached_bytes += len(payload)
        while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)
        return payload

    def _docs_view(self) -> list[bytes]:
        if self._docs_parts is None:
            tags = self._changed.get("tags")
            used = _used_tags(self._changed.get("paths"))
            if isinstance(tags, list) and any(_tag_name(tag) not in used for tag in tags):
                kept = [tag for tag in tags if _tag_name(tag) in used]
                self._docs_parts = _split({**self._changed, "tags": kept})
            else:
                self._docs_parts = self._parts
        return self._docs_parts


def _split(document: dict[str, Any]) -> list[bytes]:
    return json.dumps(document).encode().split(json.dumps(_PLACEHOLDER).encode())


def _tag_name(tag: Any) -> Any:
    return tag.get("name") if isinstance(tag, dict) else None


def _used_tags(paths: Any) -> set[str]:
    used: set[str] = set()
    if not isinstance(paths, dict):
        return used
    for item in paths.values():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            tags = operation.get("tags") if isinstance(operation, dict) else None
            if isinstance(tags, list):
                used.update(tag for tag in tags if isinstance(tag, str))
    return used


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")


def _own_servers(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    return isinstance(item.get("servers"), list) or any(
        isinstance(item.get(m), dict) and isinstance(item[m].get("servers"), list) for m in _METHODS
    )


def _with_server(item: Any, server: dict[str, str]) -> Any:
    """A path item whose own `servers` lists, and its operations', start with the mock's."""
    if not _own_servers(item):
        return item
    changed = dict(item)
    if isinstance(item.get("servers"), list):
        changed["servers"] = [server, *item["servers"]]
    for method in _METHODS:
        operation = item.get(method)
        if isinstance(operation, dict) and isinstance(operation.get("servers"), list):
            changed[method] = {**operation, "servers": [server, *operation["servers"]]}
    return changed
