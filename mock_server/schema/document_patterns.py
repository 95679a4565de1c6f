"""The patterns of a document: the ones without a translation skipped with a warning, and the
document's schemas as the validator reads them (patterns.py translates one pattern)."""

from __future__ import annotations

from typing import Any

from mock_server.document.refs import LITERAL_KEYS, NAME_MAPS, Link, pointer
from mock_server.errors import DocumentWarning
from mock_server.schema.patterns import Untranslatable, translate


def skip_untranslatable(document: dict[str, Any]) -> list[DocumentWarning]:
    """Every `pattern` (and `patternProperties` name) of the document that has no translation is
    removed, in place, with a warning naming it: one pattern must not refuse a whole document."""
    warnings: list[DocumentWarning] = []
    stack: list[tuple[Any, bool, Link]] = [(document, False, None)]  # (node, a map of names, where)
    while stack:
        node, names, at = stack.pop()
        if isinstance(node, list):
            stack.extend(
                (item, False, (i, at)) for i, item in enumerate(node) if isinstance(item, dict | list)
            )
            continue
        if not isinstance(node, dict):
            continue
        if not names:
            source = node.get("pattern")
            if isinstance(source, str):
                why = _why_not(source)
                if why is not None:
                    del node["pattern"]
                    warnings.append(_skipped(("pattern", at), source, why))
            keyed = node.get("patternProperties")
            if isinstance(keyed, dict):
                for key in [k for k in keyed if isinstance(k, str) and _why_not(k) is not None]:
                    warnings.append(_skipped((key, ("patternProperties", at)), key, str(_why_not(key))))
                    del keyed[key]
        for key, value in node.items():
            if not isinstance(value, dict | list):
                continue
            if not names and (
                key in LITERAL_KEYS
                or (isinstance(key, str) and key.startswith("x-") and key != "x-referenced-files")
            ):
                continue
            if not names and key == "examples" and isinstance(value, list):
                continue
            stack.append((value, not names and key in NAME_MAPS, (key, at)))
    return warnings


def _why_not(source: str) -> str | None:
    try:
        translate(source)
    except Untranslatable as exc:
        return str(exc)
    return None


def _skipped(link: Link, source: str, why: str) -> DocumentWarning:
    shown = source if len(source) <= 80 else source[:60] + "…" + source[-15:]
    return DocumentWarning(
        pointer(link), f"pattern {shown!r} has no translation from ECMA-262 ({why}); not checked"
    )


def for_validator(node: Any, names: bool = False) -> Any:
    """`node` with every `pattern` and `patternProperties` name in the validator's dialect (an
    untranslatable one left out): a copy of the containers on the way to each change only."""
    if isinstance(node, list):
        items = [for_validator(item) for item in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, dict):
        return node
    changed: dict[Any, Any] = {}
    dropped: list[Any] = []
    for key, value in node.items():
        if names:
            found = for_validator(value)
        elif key == "pattern" and isinstance(value, str):
            found = _rust(value)
            if found is None:
                dropped.append(key)
                continue
        elif key == "patternProperties" and isinstance(value, dict):
            found = {}
            for name, sub in value.items():
                rust = _rust(name) if isinstance(name, str) else name
                if rust is not None:
                    found[rust] = for_validator(sub)
            if list(found) == list(value) and all(found[k] is value[k] for k in value):
                found = value
        elif key in LITERAL_KEYS or (
            isinstance(key, str) and key.startswith("x-") and key != "x-referenced-files"
        ):
            continue
        elif isinstance(value, dict | list):
            found = for_validator(value, key in NAME_MAPS)
        else:
            continue
        if found is not value:
            changed[key] = found
    if not changed and not dropped:
        return node
    return {key: changed.get(key, value) for key, value in node.items() if key not in dropped}


def _rust(source: str) -> str | None:
    try:
        return translate(source).rust
    except Untranslatable:
        return None
