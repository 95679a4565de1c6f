"""`/docs`: Swagger UI for the served document, as FastAPI (the real service) has one.

It works offline: the page and its assets come from the `openapi-ui-bundles` package, never a
CDN. Assets live under a versioned path, so browsers may keep them for good; the page itself is
revalidated, because `--watch` can change the document behind it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOCS_PATH = "/docs"
DOCUMENT_PATH = "/docs/openapi.json"  # /openapi.json less the tags no operation uses (served_document.py)
_TYPES = {
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".png": b"image/png",
}
_IMMUTABLE = b"public, max-age=31536000, immutable"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI (meibel-mock)</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{document}",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
</script>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    headers: list[tuple[bytes, bytes]]


@cache
def _bundle() -> tuple[Path, str] | None:
    try:
        from openapi_ui_bundles import swagger_ui
        from openapi_ui_bundles.__about__ import __version__
    except ImportError:  # pragma: no cover - a dependency of the kit
        return None
    return Path(swagger_ui.static_path), str(__version__)


def assets_prefix() -> str | None:
    found = _bundle()
    return None if found is None else f"{DOCS_PATH}/assets/{found[1]}"


def page(title: str) -> Asset | None:
    prefix = assets_prefix()
    if prefix is None:
        return None
    body = _PAGE.format(title=html.escape(title), assets=prefix, document=DOCUMENT_PATH).encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-cache")]
    return Asset(body, headers)


def serves(path: str) -> bool:
    return path in (DOCS_PATH, DOCUMENT_PATH) or _name(path) is not None


def asset(path: str) -> Asset | None:
    """The asset at `path` (a URL path under `assets_prefix()`), or None."""
    name = _name(path)
    return None if name is None else _load(name)


def _name(path: str) -> str | None:
    prefix = assets_prefix()
    if prefix is None or not path.startswith(prefix + "/"):
        return None
    name = path[len(prefix) + 1 :]
    return name if name in _names() else None


@cache
def _names() -> frozenset[str]:
    found = _bundle()
    if found is None:  # pragma: no cover - a dependency of the kit
        return frozenset()
    return frozenset(p.name for p in found[0].iterdir() if p.suffix in _TYPES)


@cache  # keyed by the names above only: a fixed, small set (about 2 MB in all), read on first use
def _load(name: str) -> Asset:
    found = _bundle()
    assert found is not None
    headers = [
        (b"content-type", _TYPES[Path(name).suffix]),
        (b"cache-control", _IMMUTABLE),
        (b"x-content-type-options", b"nosniff"),
    ]
    return Asset((found[0] / name).read_bytes(), headers)
