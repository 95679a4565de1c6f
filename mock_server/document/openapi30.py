"""The OpenAPI 3.0 schema dialect (nullable, boolean exclusive bounds) rewritten into JSON Schema 2020-12."""

from __future__ import annotations

import copy
from typing import Any


def openapi30_to_json_schema(node: Any) -> Any:
    """A converted copy of one 3.0 schema (the document's own are converted once, at load)."""
    holder = {"schema": copy.deepcopy(node)}  # the conversion works in place, inside a container
    convert_openapi30(holder)
    return holder["schema"]


def convert_openapi30(document: dict[str, Any]) -> None:
    """Rewrite 3.0 schema dialect (nullable, boolean exclusive bounds) into JSON Schema 2020-12,
    in place, in one pass over the (copied) document."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(item for item in node if type(item) is dict or type(item) is list)
            continue
        if type(node) is not dict:
            continue
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if node.get(exclusive) is True and bound in node:
                node[exclusive] = node.pop(bound)
            elif node.get(exclusive) is False:
                del node[exclusive]
        if node.get("nullable") is True:
            del node["nullable"]
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
                if "enum" in node and isinstance(node["enum"], list) and None not in node["enum"]:
                    node["enum"] = [*node["enum"], None]
            else:
                inner = dict(node)
                node.clear()
                node["anyOf"] = [inner, {"type": "null"}]
        elif "nullable" in node and node["nullable"] is False:
            del node["nullable"]
        stack.extend(value for value in node.values() if type(value) is dict or type(value) is list)
