"""A document as the diff reads it: local `$ref`s followed, and schemas seen through their wrappers.

Every node keeps the JSON pointer where it is written, so a finding can point into each document
as its author wrote it (`/components/schemas/X/properties/y` when reached through a `$ref`).
A schema is "flattened" into layers: `$ref` targets, `allOf` parts and the one non-null branch of
an `anyOf`/`oneOf` (pydantic's `anyOf: [X, {type: null}]`) all become layers of one view, and
nullability from 3.0 `nullable`, 3.1 type lists and null branches becomes one flag.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from mock_server.document.refs import TooDeep, ref_holders, resolve
from mock_server.document.refs import pointer as ref_pointer
from mock_server.errors import ContractError

_MAX_REF_CHAIN = 64


def normalise(node: Any) -> Any:
    """Keys as strings, dates as ISO strings: what a YAML document means once read as JSON would be."""
    if isinstance(node, dict):
        return {_key(k): normalise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if isinstance(node, datetime.date | datetime.datetime):
        return node.isoformat()
    return node


def _plain(root: Any) -> bool:
    """Already what `normalise` makes (any document read by the loader): string keys, no dates."""
    stack = [root]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            for key, value in node.items():
                if type(key) is not str:
                    return False
                if type(value) in (dict, list, datetime.date, datetime.datetime):
                    stack.append(value)
        elif kind is list:
            stack.extend(
                item for item in node if type(item) in (dict, list, datetime.date, datetime.datetime)
            )
        elif isinstance(node, datetime.date | datetime.datetime):
            return False
    return True


def _key(key: Any) -> str:
    if isinstance(key, bool):  # before int: bool is an int
        return "true" if key else "false"
    if isinstance(key, datetime.date | datetime.datetime):
        return key.isoformat()
    return str(key)


def text(value: Any) -> str:
    """A value as text, the same whatever its key order (documents may hold anything anywhere)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def child(pointer: str, *parts: str | int) -> str:
    return pointer + "".join("/" + escape(str(p)) for p in parts)


class Document:
    def __init__(self, raw: dict[str, Any], source: str) -> None:
        self.root: dict[str, Any] = raw if _plain(raw) else normalise(raw)
        self.source = source
        # flatten()'s results; as many as the document has schemas, so bounded by its size.
        self.flats: dict[tuple[str, int], tuple[Any, Flat]] = {}
        version = text(self.root.get("openapi", ""))
        if not re.fullmatch(r"3\.[01]\.\d+", version):
            found = repr(self.root["openapi"]) if "openapi" in self.root else "none"
            raise ContractError(
                source,
                f"only OpenAPI 3.0 and 3.1 documents are supported (openapi: {found})",
                pointer="/openapi",
            )
        if not isinstance(self.root.get("paths", {}), dict):
            raise ContractError(source, "paths must be an object", pointer="/paths")
        self._check_refs(self.root, "")

    def _check_refs(self, node: Any, pointer: str) -> None:
        """Every $ref is local and leads somewhere: found now, not halfway through a comparison."""
        try:
            holders = ref_holders(node)
        except TooDeep as exc:
            raise ContractError(self.source, str(exc), pointer=ref_pointer(exc.link)) from None
        checked: set[str] = set()  # a local reference means the same wherever it is written
        for holder, link in holders:
            ref = holder.get("$ref")
            if isinstance(ref, str) and ref not in checked:
                self.deref(holder, ref_pointer(link))
                checked.add(ref)

    @property
    def openapi30(self) -> bool:
        return str(self.root.get("openapi", "")).startswith("3.0")

    def lookup(self, pointer: str, at: str) -> Any:
        try:
            return resolve(self.root, "#" + pointer, uri=False)
        except KeyError:
            raise ContractError(self.source, f"$ref '#{pointer}' points nowhere", pointer=at) from None

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow a chain of `$ref`s; returns the node reached and its own pointer."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise ContractError(
                    self.source, f"only local $refs are supported, not {ref!r}", pointer=pointer
                )
            target = unquote(ref[1:])
            if target in seen or len(seen) > _MAX_REF_CHAIN:
                raise ContractError(self.source, f"circular $ref {ref!r}", pointer=pointer)
            seen.add(target)
            node, pointer = self.lookup(target, pointer), target
        return node, pointer


@dataclass(frozen=True)
class Op:
    """An operation where a document writes it, with the parameters its path item shares."""

    method: str
    path: str
    node: dict[str, Any]
    pointer: str
    shared: list[tuple[Any, str]]  # path-level parameters

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class Flat:
    """One schema seen through its wrappers."""

    pointer: str  # where the schema is written (the outermost layer)
    layers: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # outer first
    variants: list[tuple[Any, str]] = field(default_factory=list)  # 2+ non-null anyOf/oneOf branches
    nullable: bool = False
    null_pointer: str = ""
    never: bool = False  # the `false` schema: no value at all
    # Each `oneOf` with 2+ non-null branches: a value must match exactly one of them.
    exclusive: list[tuple[str, list[tuple[Any, str]]]] = field(default_factory=list)
    discriminator: str = ""  # the property that tells the alternatives apart, when one is named
    known_types: frozenset[str] | tuple[()] | None = field(default=(), repr=False, compare=False)

    def get(self, keyword: str) -> tuple[Any, str]:
        """The keyword's value from the outermost layer that has it, and its pointer ("" if none)."""
        for node, pointer in self.layers:
            if keyword in node:
                return node[keyword], child(pointer, keyword)
        return None, ""

    @property
    def body(self) -> str:
        """Where a keyword this schema lacks would go: the layer that declares its type, else the innermost."""
        for node, pointer in self.layers:
            if "type" in node:
                return pointer
        return self.layers[-1][1] if self.layers else self.pointer

    def key(self) -> tuple[str, ...]:
        # The schemas themselves, not the $ref that led here: a recursive schema meets itself again.
        found = (*(p for _, p in self.layers), "|", *(p for _, p in self.variants))
        return found if len(found) > 1 else (self.pointer,)

    def types(self) -> frozenset[str] | None:
        """The non-null JSON types allowed; None for any (worked out once: asked often)."""
        if self.known_types == ():
            self.known_types = self._types()
        return self.known_types  # type: ignore[return-value]

    def _types(self) -> frozenset[str] | None:
        declared, _ = self.get("type")
        if isinstance(declared, str):
            return frozenset({declared}) - {"null"}
        if isinstance(declared, list):
            return frozenset(t for t in declared if isinstance(t, str)) - {"null"}
        if any(
            k in node for node, _ in self.layers for k in ("properties", "additionalProperties", "required")
        ):
            return frozenset({"object"})
        if any("items" in node for node, _ in self.layers):
            return frozenset({"array"})
        return None

    def properties(self) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        for node, pointer in self.layers:
            props = node.get("properties")
            if isinstance(props, dict):
                for name, schema in props.items():
                    out.setdefault(name, (schema, child(pointer, "properties", name)))
        return out

    def required(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for node, pointer in self.layers:
            names = node.get("required")
            if isinstance(names, list):
                for i, name in enumerate(names):
                    out.setdefault(text(name), child(pointer, "required", i))
        return out


def is_null_schema(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    return (
        node.get("type") == "null"
        or node.get("enum") == [None]
        or ("const" in node and node["const"] is None)
    )


def flatten(doc: Document, node: Any, pointer: str) -> Flat:
    """The schema `node`, written at `pointer`, seen through its wrappers (worked out once)."""
    key = (pointer, id(node))
    cached = doc.flats.get(key)
    if cached is not None:
        return cached[1]
    flat = _flatten(doc, node, pointer)
    doc.flats[key] = (node, flat)  # the node is kept, so its id stays its own
    return flat


def _flatten(doc: Document, node: Any, pointer: str) -> Flat:
    flat = Flat(pointer)
    seen: set[str] = set()

    def visit(node: Any, pointer: str) -> None:
        if isinstance(node, bool):
            flat.never = flat.never or node is False
            return
        if not isinstance(node, dict) or pointer in seen:
            return
        seen.add(pointer)
        if "$ref" in node:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if rest:  # 3.1: keywords beside a $ref apply too
                flat.layers.append((rest, pointer))
            visit(*doc.deref(node, pointer))
            return
        flat.layers.append((node, pointer))
        declared = node.get("type")
        if node.get("nullable") is True:
            _null(child(pointer, "nullable"))
        elif declared == "null" or (isinstance(declared, list) and "null" in declared):
            _null(child(pointer, "type"))
        for keyword in ("anyOf", "oneOf"):
            branches = node.get(keyword)
            if not isinstance(branches, list):
                continue
            others: list[tuple[Any, str]] = []
            for i, branch in enumerate(branches):
                where = child(pointer, keyword, i)
                if is_null_schema(doc.deref(branch, where)[0]):
                    _null(where)
                else:
                    others.append((branch, where))
            if len(others) == 1:
                visit(*others[0])
            else:
                flat.variants.extend(others)
                if keyword == "oneOf":
                    flat.exclusive.append((child(pointer, keyword), others))
                found = node.get("discriminator")
                if isinstance(found, dict) and isinstance(found.get("propertyName"), str):
                    flat.discriminator = flat.discriminator or found["propertyName"]
        for i, part in enumerate(node.get("allOf") or []):
            visit(part, child(pointer, "allOf", i))

    def _null(where: str) -> None:
        if not flat.nullable:
            flat.nullable, flat.null_pointer = True, where

    visit(node, pointer)
    return flat
