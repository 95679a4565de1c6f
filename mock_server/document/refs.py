"""JSON pointers and local `$ref`s: walking a document, resolving, and checking every reference.

Walks are iterative (a document's depth costs no stack) and skip literal data: `example`,
`default`, `enum`, `const` and extensions hold values, not schemas, so a `$ref` key inside them
is text the author meant, not a reference.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote

from mock_server.errors import ContractError, DocumentWarning

# Real documents nest a few dozen levels; schemas are compiled (and answers generated) by
# recursive code, a few frames per level, under Python's limit of 1000 frames.
MAX_DEPTH = 150
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
        "x-referenced-files",
    }
)


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


# Where a node sits, built lazily: (key, parent's link). Most nodes never need their pointer,
# and building 1.5 million pointer strings for a 20 MB document took seconds.
Link = tuple[Any, Any] | None


def pointer(link: Link) -> str:
    parts: list[str] = []
    while link is not None:
        key, link = link
        parts.append(escape(str(key)))
    return "".join("/" + part for part in reversed(parts))


class TooDeep(ValueError):
    def __init__(self, link: Link) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")
        self.link = link


def ref_holders(data: Any, link: Link = None) -> list[tuple[dict[str, Any], Link]]:
    """Every object in `data` with a `$ref` key, and where it sits (see `pointer`).

    Raises `TooDeep` past `MAX_DEPTH` levels: schemas are compiled by recursive code."""
    found: list[tuple[dict[str, Any], Link]] = []
    stack: list[tuple[Any, Any, Link, int]] = [(data, None, link, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, parent, at, depth = pop()
        if depth > MAX_DEPTH:
            raise TooDeep(at)
        depth += 1
        if type(node) is dict:
            if "$ref" in node:
                found.append((node, at))
            names = parent in NAME_MAPS
            for key, value in node.items():
                kind = type(value)
                if kind is not dict and kind is not list:
                    continue
                if not names:
                    if key in LITERAL_KEYS or (
                        type(key) is str and key[:2] == "x-" and key != "x-referenced-files"
                    ):
                        continue
                    if kind is list and key == "examples":  # JSON Schema's examples: values
                        continue
                push((value, None if names else key, (key, at), depth))
        else:
            for index, item in enumerate(node):
                if type(item) is dict or type(item) is list:
                    push((item, None, (index, at), depth))
    return found


class Unresolvable(KeyError):
    """A `$ref` that names nothing in the document (a KeyError, as a missing key is)."""

    def __init__(self, ref: Any) -> None:
        super().__init__(ref)
        self.ref = ref

    def __str__(self) -> str:
        return f"$ref {self.ref!r} names nothing in the document"


def resolve(document: Any, ref: str, *, uri: bool = True) -> Any:
    """The value a local `$ref` ('#/a/b') names; `Unresolvable` (a KeyError) when there is none.
    With `uri=False`, `ref` is '#' and a plain JSON pointer, not percent-encoded as a URI fragment is.

    The document's one resolver (RFC 6901 in a URI fragment, RFC 3986): every module that follows
    a reference comes here."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise Unresolvable(ref)
    node = document
    fragment = unquote(ref[1:]) if uri else ref[1:]
    if not fragment:
        return node
    if not fragment.startswith("/"):
        raise Unresolvable(ref)
    for raw in fragment[1:].split("/"):
        part = unescape(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise Unresolvable(ref)
    return node


def follow(document: Any, node: Any) -> Any:
    """`node`, or what its chain of local `$ref`s names in the end (a Reference Object's
    siblings are left behind, as OpenAPI says). KeyError: a reference that names nothing, that
    is not local, or a chain that comes back to where it began."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or ref in seen:
            raise Unresolvable(ref)
        seen.add(ref)
        node = resolve(document, ref)
    return node


def schema_at(document: Any, schema: Any) -> Any:
    """A schema with its `$ref`s followed, the siblings of each `$ref` laid over its target (JSON
    Schema applies both; the nearer word wins where they say the same keyword). Iterative, and
    KeyError as `follow`."""
    seen: set[str] = set()
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or ref in seen:
            raise Unresolvable(ref)
        seen.add(ref)
        target = resolve(document, ref)
        rest = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **rest} if rest and isinstance(target, dict) else target
    return schema


def reachable(document: Any, schema: Any, limit: int, large: set[str] | None = None) -> int:
    """How many distinct local `$ref`s `schema` reaches, directly or through the schemas they
    name, counted up to `limit`. Iterative, as every walk here. `large`: references known to
    reach `limit` (a walk that meets one stops there), and where a lone `$ref` that does is kept."""
    seen: set[str] = set()
    stack: list[tuple[Any, bool]] = [(schema, False)]  # (node, is a map of names to schemas)
    while stack and len(seen) < limit:
        node, names = stack.pop()
        if isinstance(node, list):
            stack.extend((item, False) for item in node)
        elif isinstance(node, dict):
            if names:  # `properties`' keys are names: `value` or `default` is a property there
                stack.extend((value, False) for value in node.values())
                continue
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                if large is not None and ref in large:
                    return limit
                seen.add(ref)
                with contextlib.suppress(KeyError):
                    stack.append((resolve(document, ref), False))
            # A discriminator's mapping names schemas the walk reaches anyway (or need not):
            # Graph's root type maps thousands.
            stack.extend((value, key in NAME_MAPS) for key, value in node.items() if key not in _NOT_SCHEMAS)
    if len(seen) >= limit and large is not None and isinstance(schema, dict) and len(schema) == 1:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            large.add(ref)
    return len(seen)


_NOT_SCHEMAS = LITERAL_KEYS | {"$ref", "discriminator"}


def check_refs(
    document: dict[str, Any], source: str, holders: list[tuple[dict[str, Any], Link]] | None = None
) -> set[str]:
    """Every local `$ref` names something, and no chain of `$ref`s comes back to where it began.

    `holders` is `ref_holders(document)` when the caller has it already. Returns the top-level
    keys that references point into (`components`, `paths`, …). A recursive *schema* (a tree whose
    property refers to the tree) is fine; a reference whose target is itself only a reference
    back is not: it names nothing.
    """
    # ref -> the ref its target aliases (when the target is itself a reference)
    aliases: dict[str, str | None] = {}
    first_seen: dict[str, Link] = {}
    tops: set[str] = set()
    for node, link in ref_holders(document) if holders is None else holders:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            continue  # urn:/tag: identifiers are JSON Schema's own business
        if ref in aliases:
            continue
        first_seen[ref] = ("$ref", link)
        try:
            target = resolve(document, ref)
        except KeyError:
            raise ContractError(
                source, f"$ref {ref!r} points nowhere", pointer=pointer(("$ref", link))
            ) from None
        onward = target.get("$ref") if isinstance(target, dict) else None
        aliases[ref] = onward if isinstance(onward, str) and onward.startswith("#") else None
        tops.add(unescape(unquote(ref[1:]).lstrip("/").split("/", 1)[0]))
    _check_cycles(aliases, first_seen, source)
    tops.discard("")
    return tops


def _check_cycles(aliases: dict[str, str | None], first_seen: dict[str, Link], source: str) -> None:
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
                    pointer=unquote(cycle[0][1:]) + "/$ref",
                )
            chain.append(ref)
            on_chain.add(ref)
            ref = aliases.get(ref)
        done.update(chain)


# Maps of schemas by name. A `$ref` standing for the whole map (`properties: {$ref: …}`) is not
# JSON Schema, but documents split over files write it (DigitalOcean's do), meaning "these
# properties": bundlers inline it, and so does the loader.
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def inline_map_refs(
    document: dict[str, Any], holders: list[tuple[dict[str, Any], Link]], source: str
) -> list[DocumentWarning]:
    warnings: list[DocumentWarning] = []
    for node, link in holders:
        ref = node.get("$ref")
        if link is None or link[0] not in SCHEMA_MAPS or not isinstance(ref, str) or not ref.startswith("#"):
            continue
        if not _is_keyword(link):
            continue  # a property *named* `properties` whose schema is a reference: nothing to inline
        at = pointer(link)
        target: Any = node
        seen: set[str] = set()
        while isinstance(target, dict) and isinstance(target.get("$ref"), str) and target["$ref"] not in seen:
            seen.add(target["$ref"])
            try:
                target = resolve(document, target["$ref"])
            except KeyError:
                raise ContractError(source, f"$ref {ref!r} points nowhere", pointer=at + "/$ref") from None
        if not isinstance(target, dict) or "$ref" in target:
            raise ContractError(
                source, f"$ref {ref!r} does not name a map of {link[0]}", pointer=at + "/$ref"
            )
        rest = {key: value for key, value in node.items() if key != "$ref"}
        node.clear()
        node.update(target)
        node.update(rest)
        warnings.append(DocumentWarning(at, f"a $ref in place of the {link[0]} map; its target inlined"))
    return warnings


def _is_keyword(link: Link) -> bool:
    """Whether the last key of `link` is a keyword of its object, not a name in a map of names
    (`properties: {properties: {$ref: …}}` names a property `properties`). As `ref_holders` reads
    the document: a map's entries are names, and a named entry's keys are keywords again."""
    keys: list[Any] = []
    while link is not None:
        key, link = link
        keys.append(key)
    names = False  # whether the current object is a map of names
    for key in reversed(keys[1:]):  # from the document's root down to the node's parent
        names = not names and isinstance(key, str) and key in NAME_MAPS
    return not names


OPERATION_KEYS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"})


def inline_operation_refs(document: dict[str, Any], holders: list[tuple[dict[str, Any], Link]]) -> None:
    """A `$ref` standing for an operation (`paths: /v2/account: get: $ref: account_get.yml`, as
    DigitalOcean writes its document) is replaced by its target. OpenAPI has no Reference Object
    there: tools given the bundled document as it is (Schemathesis, at `/openapi.json`) saw
    operations without responses. The target stays under `x-referenced-files` for other references to it."""
    for node, link in holders:
        ref = node.get("$ref")
        if (
            not isinstance(ref, str)
            or not ref.startswith("#")
            or link is None
            or link[0] not in OPERATION_KEYS
        ):
            continue
        item = link[1]
        if (
            item is None
            or item[1] is None
            or item[1][0] not in {"paths", "webhooks"}
            or item[1][1] is not None
        ):
            continue
        target: Any = node
        seen: set[str] = set()
        while isinstance(target, dict) and isinstance(target.get("$ref"), str) and target["$ref"] not in seen:
            seen.add(target["$ref"])
            try:
                target = resolve(document, target["$ref"])
            except KeyError:
                break  # the reference check names it, with its pointer
        if not isinstance(target, dict) or "$ref" in target:
            continue
        rest = {key: value for key, value in node.items() if key != "$ref"}
        node.clear()
        node.update(target)
        node.update(rest)
