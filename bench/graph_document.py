"""A synthetic document of Microsoft Graph's size and shape, for load time and memory.

    python -m bench.graph_document OUT.json [--entities 3500] [--served 1200] [--seed 0]
    python -m bench.real_documents OUT.json

Deterministic (a seeded generator): the same options write the same bytes. What it copies from
Graph's published document (msgraph-metadata), since those are what made the mock slow or crash:
- one root type (`microsoft.graph.entity`) with a discriminator mapping naming every entity type;
- inheritance as `allOf: [{$ref: parent}, {…own properties…}]`, in chains up to 8 deep;
- each type's own property names (a derived type adds properties, it does not redefine its parents');
- navigation properties as `anyOf: [{$ref: X}, {type: object, nullable: true}]` (3.0's nullable
  reference) and arrays of references, pointing anywhere, so almost every schema is recursive,
  directly or through others;
- `$ref` with siblings (`{"$ref": …, "description": …}`) and `allOf: [{$ref: itself}, {description}]`;
- collection responses (`value` + `@odata.nextLink`) through `components/responses`, OData query
  parameters (`$select` and `$expand` with an enum of the type's property names), and shared
  `4XX`/`5XX` error responses;
- pointers written with percent-encoding and array indices.

With the defaults: 28.7 MB of JSON, 8,520 schemas, 7,200 operations. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

PREFIX = "microsoft.graph."
_WORDS = [
    "account",
    "alias",
    "app",
    "approval",
    "assignment",
    "attachment",
    "audit",
    "booking",
    "calendar",
    "call",
    "channel",
    "chat",
    "claim",
    "class",
    "contact",
    "content",
    "conversation",
    "device",
    "directory",
    "drive",
    "event",
    "extension",
    "file",
    "folder",
    "group",
    "identity",
    "item",
    "list",
    "mail",
    "member",
    "message",
    "note",
    "notebook",
    "onenote",
    "organization",
    "page",
    "permission",
    "place",
    "plan",
    "policy",
    "presence",
    "print",
    "profile",
    "report",
    "request",
    "resource",
    "role",
    "room",
    "schedule",
    "section",
    "security",
    "service",
    "session",
    "setting",
    "share",
    "site",
    "subscription",
    "task",
    "team",
    "template",
    "thread",
    "token",
    "trust",
    "user",
    "version",
    "workbook",
]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{PREFIX}{name}"}


def _nullable_ref(name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "anyOf": [_ref(name), {"type": "object", "nullable": True}],
        "description": _text(rng, 12),
        "x-ms-navigationProperty": True,
    }


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _scalar(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(7)
    if kind == 0:
        return {
            "pattern": r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:"
            r"[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$",
            "type": "string",
            "format": "date-time",
            "nullable": True,
        }
    if kind == 1:
        return {"maximum": 2147483647, "minimum": -2147483648, "type": "number", "format": "int32"}
    if kind == 2:
        return {"type": "boolean", "nullable": True}
    if kind == 3:
        return {"type": "array", "items": {"type": "string", "nullable": True}}
    if kind == 4:
        return {"type": "string", "format": "uuid", "nullable": True}
    return {"type": "string", "nullable": True}


class _Graph:
    def __init__(self, entities: int, served: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.entities = [f"{rng_word}{i}" for i, rng_word in enumerate(self._names(entities))]
        self.served = self.entities[: min(served, entities)]
        self.complex = [f"complex{i}" for i in range(entities // 3)]
        self.enums = [f"enum{i}" for i in range(entities // 10)]
        self.parent: dict[str, str] = {}
        self.children: dict[str, list[str]] = {"entity": []}

    def _names(self, n: int) -> list[str]:
        return [self.rng.choice(_WORDS) for _ in range(n)]

    def schemas(self) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {}
        depth = {"entity": 0}
        for i, name in enumerate(self.entities):
            # Chains up to 8 deep: most types derive from a recent one, as Graph's families do.
            candidates = [e for e in self.entities[max(0, i - 30) : i] if depth[e] < 8]
            parent = rng.choice(candidates) if candidates and rng.random() < 0.6 else "entity"
            self.parent[name] = parent
            depth[name] = depth[parent] + 1
            self.children.setdefault(parent, []).append(name)
            self.children.setdefault(name, [])
        out[PREFIX + "entity"] = {
            "title": "entity",
            "required": ["@odata.type"],
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "The unique identifier for an entity. Read-only."},
                "@odata.type": {"type": "string"},
            },
            "discriminator": {
                "propertyName": "@odata.type",
                "mapping": {f"#{PREFIX}{e}": f"#/components/schemas/{PREFIX}{e}" for e in self.entities},
            },
        }
        for name in self.entities:
            out[PREFIX + name] = self.entity(name)
            out[f"{PREFIX}{name}CollectionResponse"] = {
                "title": "Base collection pagination and count responses",
                "type": "object",
                "allOf": [
                    {"$ref": "#/components/schemas/BaseCollectionPaginationCountResponse"},
                    {
                        "type": "object",
                        "properties": {"value": {"type": "array", "items": _ref(name)}},
                    },
                ],
            }
        for name in self.complex:
            props: dict[str, Any] = {f"p{k}": _scalar(rng) for k in range(rng.randint(3, 8))}
            props["owner"] = _nullable_ref(rng.choice(self.entities), rng)
            if rng.random() < 0.3:  # complex types that contain themselves (Graph's `itemBody` trees)
                props["children"] = {"type": "array", "items": _ref(name)}
            props["@odata.type"] = {"type": "string"}
            out[PREFIX + name] = {
                "title": name,
                "required": ["@odata.type"],
                "type": "object",
                "properties": props,
            }
        for name in self.enums:
            out[PREFIX + name] = {
                "title": name,
                "enum": [f"value{k}" for k in range(rng.randint(3, 12))] + ["unknownFutureValue"],
                "type": "string",
            }
        out["BaseCollectionPaginationCountResponse"] = {
            "title": "Base collection pagination and count responses",
            "type": "object",
            "properties": {
                "@odata.count": {"type": "integer", "format": "int64", "nullable": True},
                "@odata.nextLink": {"type": "string", "nullable": True},
            },
        }
        out[PREFIX + "ODataErrors.ODataError"] = {
            "required": ["error"],
            "type": "object",
            "properties": {"error": {"$ref": f"#/components/schemas/{PREFIX}ODataErrors.MainError"}},
        }
        out[PREFIX + "ODataErrors.MainError"] = {
            "required": ["code", "message"],
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "x-ms-primary-error-message": True},
                "target": {"type": "string", "nullable": True},
                # A tree: details of details, as Graph's own error type.
                "innerError": {"$ref": f"#/components/schemas/{PREFIX}ODataErrors.MainError"},
            },
        }
        return out

    def entity(self, name: str) -> dict[str, Any]:
        rng = self.rng
        props: dict[str, Any] = {}
        for k in range(rng.randint(6, 14)):
            prop = _scalar(rng)
            prop["description"] = _text(rng, rng.randint(8, 30))
            props[f"{name}{rng.choice(_WORDS).capitalize()}{k}"] = prop
        for k in range(rng.randint(1, 3)):
            props[f"{name}Nav{k}"] = _nullable_ref(rng.choice(self.entities), rng)
        for k in range(rng.randint(0, 2)):
            props[f"{name}Many{k}"] = {
                "type": "array",
                "items": _ref(rng.choice(self.entities)),
                "description": _text(rng, 10),
                "x-ms-navigationProperty": True,
            }
        if rng.random() < 0.5:
            props[f"{name}Detail"] = _nullable_ref(rng.choice(self.complex), rng)
        if rng.random() < 0.3:
            props[f"{name}State"] = {
                "anyOf": [_ref(rng.choice(self.enums)), {"type": "object", "nullable": True}]
            }
        if rng.random() < 0.15:  # a reference with siblings: legal in 3.1, written in 3.0 too
            props[f"{name}Related"] = {**_ref(rng.choice(self.entities)), "description": _text(rng, 6)}
        if rng.random() < 0.1:  # itself, with a description: `allOf: [{$ref: <itself>}, {…}]`
            props[f"{name}Self"] = {"allOf": [_ref(name), {"description": _text(rng, 5)}]}
        own: dict[str, Any] = {
            "title": name,
            "required": ["@odata.type"],
            "type": "object",
            "properties": props,
        }
        props["@odata.type"] = {"type": "string", "default": f"#{PREFIX}{name}"}
        children = self.children.get(name) or []
        if children:
            own["discriminator"] = {
                "propertyName": "@odata.type",
                "mapping": {f"#{PREFIX}{c}": f"#/components/schemas/{PREFIX}{c}" for c in children},
            }
        return {"allOf": [_ref(self.parent[name]), own]}

    def paths(self) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {}
        errors = {
            "4XX": {"$ref": "#/components/responses/error"},
            "5XX": {"$ref": "#/components/responses/error"},
        }
        for i, name in enumerate(self.served):
            plural = f"{name}s"
            key = f"{name}-id"
            select = {
                "name": "$select",
                "in": "query",
                "description": "Select properties to be returned",
                "style": "form",
                "explode": False,
                "schema": {
                    "uniqueItems": True,
                    "type": "array",
                    "items": {"enum": ["id", "@odata.type", *[f"p{k}" for k in range(20)]], "type": "string"},
                },
            }
            expand = {**select, "name": "$expand", "description": "Expand related entities"}
            listing = {
                "tags": [plural],
                "summary": f"List {plural}",
                "operationId": f"{plural}.List{name}",
                "parameters": [
                    {"$ref": "#/components/parameters/top"},
                    {"$ref": "#/components/parameters/skip"},
                    {"$ref": "#/components/parameters/search"},
                    {"$ref": "#/components/parameters/filter"},
                    {"$ref": "#/components/parameters/count"},
                    select,
                    expand,
                ],
                "responses": {
                    "200": {"$ref": f"#/components/responses/{PREFIX}{name}CollectionResponse"},
                    **errors,
                },
                "x-ms-pageable": {"nextLinkName": "@odata.nextLink", "operationName": "listMore"},
            }
            created = {
                "description": "Created navigation property.",
                "content": {"application/json": {"schema": _ref(name)}},
            }
            out[f"/{plural}"] = {
                "description": _text(rng, 10),
                "get": listing,
                "post": {
                    "operationId": f"{plural}.Create{name}",
                    "requestBody": {
                        "description": "New entity",
                        "content": {"application/json": {"schema": _ref(name)}},
                        "required": True,
                    },
                    "responses": {"201": created, **errors},
                },
            }
            item_param = {
                "name": key,
                "in": "path",
                "description": f"The unique identifier of {name}",
                "required": True,
                "schema": {"type": "string"},
                "x-ms-docs-key-type": name,
            }
            one = {"description": "Retrieved entity", "content": {"application/json": {"schema": _ref(name)}}}
            out[f"/{plural}/{{{key}}}"] = {
                "get": {
                    "operationId": f"{plural}.Get{name}",
                    "parameters": [select, expand],
                    "responses": {"200": one, **errors},
                },
                "patch": {
                    "operationId": f"{plural}.Update{name}",
                    "requestBody": {"$ref": f"#/paths/~1{plural}/post/requestBody"},
                    "responses": {"204": {"description": "Success"}, **errors},
                },
                "delete": {
                    "operationId": f"{plural}.Delete{name}",
                    "parameters": [
                        {
                            "name": "If-Match",
                            "in": "header",
                            "description": "ETag",
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"204": {"description": "Success"}, **errors},
                },
                "parameters": [item_param],
            }
            # A navigation: its schema through a percent-encoded pointer and an array index, as
            # documents converted by tools write them.
            target = rng.choice(self.entities)
            nav_schema = (
                {
                    "$ref": f"#/paths/~1{plural}~1%7B{key}%7D/get/responses/200/content/application~1json/schema"
                }
                if i % 3 == 0
                else {"$ref": f"#/components/schemas/{PREFIX}{target}/allOf/1"}
                if i % 3 == 1
                else _ref(target)
            )
            out[f"/{plural}/{{{key}}}/related"] = {
                "get": {
                    "operationId": f"{plural}.GetRelated{name}",
                    "responses": {
                        "200": {
                            "description": "Related",
                            "content": {"application/json": {"schema": nav_schema}},
                        },
                        **errors,
                    },
                },
                "parameters": [item_param],
            }
        return out

    def document(self) -> dict[str, Any]:
        schemas = self.schemas()
        responses: dict[str, Any] = {
            "error": {
                "description": "error",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{PREFIX}ODataErrors.ODataError"}
                    }
                },
            }
        }
        for name in self.served:
            responses[f"{PREFIX}{name}CollectionResponse"] = {
                "description": "Retrieved collection",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{PREFIX}{name}CollectionResponse"}
                    }
                },
            }
        parameters = {
            "top": {
                "name": "$top",
                "in": "query",
                "description": "Show only the first n items",
                "style": "form",
                "explode": False,
                "schema": {"minimum": 0, "type": "integer"},
                "example": 50,
            },
            "skip": {
                "name": "$skip",
                "in": "query",
                "description": "Skip the first n items",
                "style": "form",
                "explode": False,
                "schema": {"minimum": 0, "type": "integer"},
            },
            "search": {
                "name": "$search",
                "in": "query",
                "description": "Search items by search phrases",
                "style": "form",
                "explode": False,
                "schema": {"type": "string"},
            },
            "filter": {
                "name": "$filter",
                "in": "query",
                "description": "Filter items by property values",
                "style": "form",
                "explode": False,
                "schema": {"type": "string"},
            },
            "count": {
                "name": "$count",
                "in": "query",
                "description": "Include count of items",
                "style": "form",
                "explode": False,
                "schema": {"type": "boolean"},
            },
        }
        return {
            "openapi": "3.0.4",
            "info": {"title": "Synthetic Graph", "version": "v1.0"},
            "servers": [{"url": "https://graph.example.com/v1.0/", "description": "Core"}],
            "paths": self.paths(),
            "components": {
                "schemas": schemas,
                "responses": responses,
                "parameters": parameters,
                "securitySchemes": {
                    "azureaadv2": {
                        "type": "oauth2",
                        "flows": {
                            "authorizationCode": {
                                "authorizationUrl": "https://login.example.com/common/oauth2/v2.0/authorize",
                                "tokenUrl": "https://login.example.com/common/oauth2/v2.0/token",
                                "scopes": {},
                            }
                        },
                    }
                },
            },
            "security": [{"azureaadv2": []}],
        }


def build(*, entities: int = 3500, served: int = 1200, seed: int = 0) -> dict[str, Any]:
    return _Graph(entities, served, seed).document()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--entities", type=int, default=3500, help="entity types (default 3500)")
    parser.add_argument(
        "--served", type=int, default=1200, help="entity types with paths (5 operations each)"
    )
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    document = build(entities=options.entities, served=options.served, seed=options.seed)
    options.out.write_text(json.dumps(document, indent=1))
    operations = sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in {"get", "post", "patch", "delete"}
    )
    print(
        f"{options.out}: {options.out.stat().st_size / 1e6:.1f} MB, "
        f"{len(document['components']['schemas'])} schemas, {operations} operations"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
