"""JSON pointers and local `$ref`s: walking a document, resolving, and checking every reference.

Walks are iterative (a document's depth costs no stack) and skip literal data: `example`,
`default`, `enum`, `const` and extensions hold values, not schemas, so a `$ref` key inside them
is text the author meant, not a reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from mock_server.errors import ContractError

LITERAL_KEYS = frozenset({"example", "default", "enum", "const", "value", "externalValue"})
# Maps whose keys are names chosen by the author, so a name like `example` is not a keyword there.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "$defs",
        "definitions",
        "dependentSchemas",
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "pathItems",
        "paths",
        "webhooks",
        "content",
        "encoding",
        "x-bundled",
    }
)


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def is_literal_key(key: str, parent: str | None) -> bool:
    return parent not in NAME_MAPS and (key in LITERAL_KEYS or (key.startswith("x-") and key != "x-bundled"))


def walk(data: Any, prefix: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    """Every object in `data` that may hold a `$ref`, with its JSON pointer."""
    stack: list[tuple[Any, str, str | None]] = [(data, prefix, None)]
    while stack:
        node, pointer, parent = stack.pop()
        if isinstance(node, dict):
            yield node, pointer
            names = parent in NAME_MAPS
            for key, value in node.items():
                if not isinstance(value, dict | list):
                    continue
                if not names and (key in LITERAL_KEYS or (key.startswith("x-") and key != "x-bundled")):
                    continue
                if key == "examples" and isinstance(value, list):  # JSON Schema's examples: values
                    continue
                stack.append((value, f"{pointer}/{escape(str(key))}", None if names else str(key)))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, dict | list):
                    stack.append((item, f"{pointer}/{index}", None))


def resolve(document: Any, ref: str) -> Any:
    """The value a local `$ref` ('#/a/b') names; KeyError when there is none."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    node = document
    fragment = unquote(ref[1:])
    if not fragment:
        return node
    if not fragment.startswith("/"):
        raise KeyError(ref)
    for raw in fragment[1:].split("/"):
        part = unescape(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def check_refs(document: dict[str, Any], source: str) -> set[str]:
    """Every local `$ref` names something, and no chain of `$ref`s comes back to where it began.

    Returns the top-level keys that references point into (`components`, `paths`, …). A recursive *schema* (a tree whose property refers
    to the tree) is fine; a reference whose target is itself only a reference back is not: it
    names nothing.
    """
    # target ref -> the ref its node aliases (when the node is a bare-ish reference)
    aliases: dict[str, str | None] = {}
    first_seen: dict[str, str] = {}
    tops: set[str] = set()
    for node, pointer in walk(document):
        ref = node.get("$ref")
        if not isinstance(ref, str):
            continue
        if not ref.startswith("#"):
            continue  # urn:/tag: identifiers are JSON Schema's own business
        first_seen.setdefault(ref, pointer + "/$ref")
        if ref in aliases:
            continue
        try:
            target = resolve(document, ref)
        except KeyError:
            raise ContractError(source, f"$ref {ref!r} points nowhere", pointer=pointer + "/$ref") from None
        onward = target.get("$ref") if isinstance(target, dict) else None
        aliases[ref] = onward if isinstance(onward, str) and onward.startswith("#") else None
        tops.add(unescape(unquote(ref[1:]).lstrip("/").split("/", 1)[0]))
    _check_cycles(aliases, first_seen, source)
    tops.discard("")
    return tops


def _check_cycles(aliases: dict[str, str | None], first_seen: dict[str, str], source: str) -> None:
    done: set[str] = set()
    for start in aliases:
        chain: list[str] = []
        on_chain: set[str] = set()
        ref: str | None = start
        while ref is not None and ref not in done:
            if ref in on_chain:
                cycle = [*chain[chain.index(ref) :], ref]
                raise ContractError(
                    source,
                    "$ref cycle: " + " -> ".join(cycle),
                    pointer=first_seen.get(cycle[0], ""),
                )
            chain.append(ref)
            on_chain.add(ref)
            ref = aliases.get(ref)
        done.update(chain)
