"""Variants of the bundled document, each with the verdict a client would give on it.

Each variant is a mutation of spec/api-v2.json; `names` are words the diff's output must contain
(the changed field, operation or header), so a verdict reached for the wrong reason still fails.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "spec" / "api-v2.json"
OP = "POST /batch-executions"

Doc = dict[str, Any]


def bundled() -> Doc:
    document: Doc = json.loads(BUNDLED.read_text(encoding="utf-8"))
    return document


def schemas(d: Doc) -> dict[str, Any]:
    result: dict[str, Any] = d["components"]["schemas"]
    return result


def post(d: Doc) -> dict[str, Any]:
    result: dict[str, Any] = d["paths"]["/batch-executions"]["post"]
    return result


@dataclass(frozen=True)
class Variant:
    id: str
    mutate: Callable[[Doc], None]
    breaking: bool
    names: tuple[str, ...]  # must appear in the text output
    rule: str = ""  # a rule id the findings must contain ("" for compatible variants)
    base: Callable[[Doc], None] | None = (
        None  # applied to both sides, when the rule needs something to change
    )

    def old(self) -> Doc:
        d = bundled()
        if self.base is not None:
            self.base(d)
        return d

    def new(self) -> Doc:
        d = self.old()
        self.mutate(d)
        return d


# -- breaking -------------------------------------------------------------------------------------


def _new_required_request_property(d: Doc) -> None:
    s = schemas(d)["LegacyBatchSpecJson"]
    s["properties"]["priority"] = {"type": "integer"}
    s["required"].append("priority")


def _request_property_becomes_required(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["required"].append("user_message")


def _required_header(d: Doc) -> None:
    post(d)["parameters"] = [
        {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}
    ]


def _required_query(d: Doc) -> None:
    post(d)["parameters"] = [
        {"name": "dry_run", "in": "query", "required": True, "schema": {"type": "boolean"}}
    ]


def _operation_removed(d: Doc) -> None:
    d["paths"]["/batch-executions"]["get"] = copy.deepcopy(post(d))
    del d["paths"]["/batch-executions"]["post"]


def _path_renamed(d: Doc) -> None:
    d["paths"]["/batch-execution"] = d["paths"].pop("/batch-executions")


def _request_type_changed(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["properties"]["name"] = {"type": "integer", "title": "Name"}


def _request_null_removed(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["properties"]["version"] = {"type": "string", "title": "Version"}


def _maximum_lowered(d: Doc) -> None:
    schemas(d)["LegacyBatchExecutionParams"]["properties"]["concurrency"]["anyOf"][0]["maximum"] = 100


def _minimum_raised(d: Doc) -> None:
    schemas(d)["LegacyBatchExecutionParams"]["properties"]["retry_limit"]["anyOf"][0]["minimum"] = 1


def _exclusive_minimum(d: Doc) -> None:
    branch = schemas(d)["LegacyBatchExecutionParams"]["properties"]["concurrency"]["anyOf"][0]
    branch["exclusiveMinimum"] = branch.pop("minimum")


def _max_length_added(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["properties"]["name"]["maxLength"] = 64


def _min_items_added(d: Doc) -> None:
    schemas(d)["LegacyBatchInputFilters"]["properties"]["element_ids"]["anyOf"][0]["minItems"] = 1


def _pattern_added(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["properties"]["agent"]["pattern"] = "^agent_[a-z0-9]+$"


def _enum_added_request(d: Doc) -> None:
    schemas(d)["LegacyBatchInputFilters"]["properties"]["media_types"]["anyOf"][0]["items"]["enum"] = [
        "application/pdf",
        "text/plain",
    ]


def _additional_properties_closed(d: Doc) -> None:
    schemas(d)["LegacyBatchInputConfig"]["additionalProperties"] = False


def _request_items_type(d: Doc) -> None:
    schemas(d)["LegacyBatchInputFilters"]["properties"]["element_ids"]["anyOf"][0]["items"] = {
        "type": "integer"
    }


def _request_media_type(d: Doc) -> None:
    content = post(d)["requestBody"]["content"]
    content["application/vnd.meibel+json"] = content.pop("application/json")


def _api_key_header_renamed(d: Doc) -> None:
    d["components"]["securitySchemes"]["APIKeyHeader"]["name"] = "X-API-Key"


def _security_scheme_changed(d: Doc) -> None:
    d["components"]["securitySchemes"]["APIKeyHeader"] = {"type": "http", "scheme": "bearer"}


def _response_property_removed(d: Doc) -> None:
    del schemas(d)["BatchExecutionResponse"]["properties"]["customer_id"]
    schemas(d)["BatchExecutionResponse"]["required"].remove("customer_id")


def _optional_response_property_removed(d: Doc) -> None:
    del schemas(d)["BatchExecutionResponse"]["properties"]["total_items"]


def _response_property_optional(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["required"].remove("customer_id")


def _response_type_changed(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["succeeded"]["anyOf"][0] = {"type": "string"}


def _response_becomes_nullable(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["status"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": "Status",
    }


def _success_status_changed(d: Doc) -> None:
    responses = post(d)["responses"]
    responses["200"] = responses.pop("201")


def _response_media_type(d: Doc) -> None:
    content = post(d)["responses"]["201"]["content"]
    content["application/xml"] = content.pop("application/json")


def _nested_response_property_removed(d: Doc) -> None:
    del schemas(d)["BatchItemResult"]["properties"]["filename"]
    schemas(d)["BatchItemResult"]["required"].remove("filename")


def _parameter_moved(d: Doc) -> None:
    post(d)["parameters"] = [{"name": "trace", "in": "query", "schema": {"type": "string"}}]


def _parameter_moved_new(d: Doc) -> None:
    post(d)["parameters"] = [{"name": "trace", "in": "header", "schema": {"type": "string"}}]


BREAKING: list[Variant] = [
    Variant(
        "new-required-request-property",
        _new_required_request_property,
        True,
        ("priority", OP),
        "request-body-property-added-required",
    ),
    Variant(
        "request-property-now-required",
        _request_property_becomes_required,
        True,
        ("user_message",),
        "request-body-property-became-required",
    ),
    Variant(
        "new-required-header",
        _required_header,
        True,
        ("Idempotency-Key",),
        "request-parameter-added-required",
    ),
    Variant(
        "new-required-query-parameter",
        _required_query,
        True,
        ("dry_run",),
        "request-parameter-added-required",
    ),
    Variant("operation-removed", _operation_removed, True, (OP,), "operation-removed"),
    Variant(
        "path-renamed",
        _path_renamed,
        True,
        ("/batch-executions", "/batch-execution"),
        "operation-path-changed",
    ),
    Variant(
        "request-type-changed",
        _request_type_changed,
        True,
        ("batch_spec_json.name",),
        "request-body-type-changed",
    ),
    Variant(
        "request-null-no-longer-accepted",
        _request_null_removed,
        True,
        ("batch_spec_json.version",),
        "request-body-nullable-removed",
    ),
    Variant(
        "maximum-lowered",
        _maximum_lowered,
        True,
        ("concurrency", "999", "100"),
        "request-body-maximum-narrowed",
    ),
    Variant("minimum-raised", _minimum_raised, True, ("retry_limit",), "request-body-minimum-narrowed"),
    Variant(
        "minimum-made-exclusive",
        _exclusive_minimum,
        True,
        ("concurrency", "exclusive"),
        "request-body-minimum-narrowed",
    ),
    Variant(
        "max-length-added",
        _max_length_added,
        True,
        ("batch_spec_json.name", "maxLength"),
        "request-body-max-length-narrowed",
    ),
    Variant(
        "min-items-added",
        _min_items_added,
        True,
        ("element_ids", "minItems"),
        "request-body-min-items-narrowed",
    ),
    Variant(
        "pattern-added",
        _pattern_added,
        True,
        ("batch_spec_json.agent", "pattern"),
        "request-body-pattern-added",
    ),
    Variant(
        "enum-added-in-request", _enum_added_request, True, ("media_types[]",), "request-body-enum-added"
    ),
    Variant(
        "additional-properties-closed",
        _additional_properties_closed,
        True,
        ("batch_spec_json.input",),
        "request-body-additional-properties-closed",
    ),
    Variant(
        "request-items-type-changed",
        _request_items_type,
        True,
        ("element_ids[]",),
        "request-body-type-changed",
    ),
    Variant(
        "request-media-type-removed",
        _request_media_type,
        True,
        ("application/json",),
        "request-media-type-removed",
    ),
    Variant(
        "api-key-header-renamed",
        _api_key_header_renamed,
        True,
        ("Meibel-API-Key", "X-API-Key"),
        "security-api-key-changed",
    ),
    Variant(
        "security-scheme-changed",
        _security_scheme_changed,
        True,
        ("Meibel-API-Key", "bearer"),
        "security-changed",
    ),
    Variant(
        "response-property-removed",
        _response_property_removed,
        True,
        ("customer_id",),
        "response-body-property-removed",
    ),
    Variant(
        "response-property-no-longer-required",
        _response_property_optional,
        True,
        ("customer_id",),
        "response-body-property-became-optional",
    ),
    Variant(
        "response-type-changed", _response_type_changed, True, ("succeeded",), "response-body-type-changed"
    ),
    Variant(
        "response-property-nullable",
        _response_becomes_nullable,
        True,
        ("status", "null"),
        "response-body-nullable-added",
    ),
    Variant(
        "success-status-changed",
        _success_status_changed,
        True,
        ("201", "200"),
        "response-success-status-changed",
    ),
    Variant(
        "response-media-type-changed",
        _response_media_type,
        True,
        ("application/json", "application/xml"),
        "response-media-type-changed",
    ),
    Variant(
        "nested-response-property-removed",
        _nested_response_property_removed,
        True,
        ("items[].filename",),
        "response-body-property-removed",
    ),
]


def _param(location: str, **extra: Any) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        post(d)["parameters"] = [
            {
                "name": "tags",
                "in": location,
                "schema": {"type": "array", "items": {"type": "string"}},
                **extra,
            }
        ]

    return mutate


def _media_enum(d: Doc) -> None:
    items = schemas(d)["LegacyBatchInputFilters"]["properties"]["media_types"]["anyOf"][0]["items"]
    items["enum"] = ["application/pdf", "text/plain", "image/png"]


def _media_enum_removed(d: Doc) -> None:
    schemas(d)["LegacyBatchInputFilters"]["properties"]["media_types"]["anyOf"][0]["items"]["enum"].remove(
        "image/png"
    )


STATUSES = ["pending", "running", "completed", "failed", "cancelled"]


def _status_enum(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["status"]["enum"] = list(STATUSES)


def _status_enum_added(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["status"]["enum"].append("paused")


def _status_enum_removed(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["status"]["enum"].remove("cancelled")


BREAKING += [
    Variant(
        "request-enum-value-removed",
        _media_enum_removed,
        True,
        ("media_types[]", "image/png"),
        "request-body-enum-value-removed",
        base=_media_enum,
    ),
    Variant(
        "parameter-moved",
        _param("header"),
        True,
        ("tags", "header"),
        "request-parameter-location-changed",
        base=_param("query"),
    ),
    Variant(
        "parameter-explode-changed",
        _param("query", explode=False),
        True,
        ("tags", "explode"),
        "request-parameter-explode-changed",
        base=_param("query"),
    ),
]

# -- warnings (exit 0 by default, 1 with --fail-on warning) -------------------------------------------

WARNINGS: list[Variant] = [
    Variant(
        "optional-response-property-removed",  # a client already copes with its absence
        _optional_response_property_removed,
        False,
        ("total_items",),
        "response-body-property-removed",
    ),
    Variant(
        "response-enum-value-added",
        _status_enum_added,
        False,
        ("status", "paused"),
        "response-body-enum-value-added",
        base=_status_enum,
    ),
    Variant(
        "request-property-removed",
        lambda d: schemas(d)["LegacyBatchSpecJson"]["properties"].pop("user_message"),
        False,
        ("user_message",),
        "request-body-property-removed",
    ),
    Variant(
        "request-default-changed",
        lambda d: schemas(d)["LegacyBatchExecutionParams"]["properties"]["concurrency"].update(default=4),
        False,
        ("concurrency", "default"),
        "request-body-default-changed",
    ),
]

# -- compatible ---------------------------------------------------------------------------------------


def _inline_refs(d: Doc) -> None:
    """Replace every $ref to a component schema in the operation by a copy of that schema (one level)."""
    body = post(d)["requestBody"]["content"]["application/json"]
    body["schema"] = copy.deepcopy(schemas(d)["CreateBatchExecutionRequest"])
    body["schema"]["properties"]["batch_spec_json"] = copy.deepcopy(schemas(d)["LegacyBatchSpecJson"])
    ok = post(d)["responses"]["201"]["content"]["application/json"]
    ok["schema"] = copy.deepcopy(schemas(d)["BatchExecutionResponse"])


def _reorder(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _reorder(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [_reorder(item) for item in node]
    return node


def _keys_reordered(d: Doc) -> None:
    reordered = _reorder(d)
    d.clear()
    d.update(reordered)
    # list order that carries no meaning, too
    schemas(d)["BatchExecutionResponse"]["required"].reverse()
    schemas(d)["BatchExecutionResponse"]["properties"]["agent_urn"]["anyOf"].reverse()


def _descriptions(d: Doc) -> None:
    d["info"]["description"] = "Rewritten."
    post(d)["summary"] = "Start a batch execution"
    post(d)["description"] = "Starts a batch."
    schemas(d)["BatchExecutionResponse"]["properties"]["id"]["description"] = "The execution's id."
    schemas(d)["LegacyBatchSpecJson"]["description"] = "The batch specification."


def _new_optional_request_property(d: Doc) -> None:
    schemas(d)["LegacyBatchSpecJson"]["properties"]["labels"] = {"type": "array", "items": {"type": "string"}}


def _new_response_property(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["created_by"] = {"type": "string"}
    schemas(d)["BatchExecutionResponse"]["required"].append("created_by")


def _new_operation(d: Doc) -> None:
    d["paths"]["/batch-executions/{execution_id}"] = {
        "get": {
            "operationId": "getExecution",
            "parameters": [
                {"name": "execution_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/BatchExecutionResponse"}
                        }
                    },
                }
            },
            "security": [{"APIKeyHeader": []}],
        }
    }


def _request_widened(d: Doc) -> None:
    params = schemas(d)["LegacyBatchExecutionParams"]["properties"]
    params["concurrency"]["anyOf"][0]["maximum"] = 9999
    del params["retry_limit"]["anyOf"][0]["minimum"]
    schemas(d)["LegacyBatchSpecJson"]["required"].remove("agent")
    schemas(d)["LegacyBatchSpecJson"]["properties"]["name"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }


def _component_renamed(d: Doc) -> None:
    text = json.dumps(d).replace(
        '#/components/schemas/LegacyBatchSpecJson"', '#/components/schemas/BatchSpec"'
    )
    renamed = json.loads(text)
    renamed["components"]["schemas"]["BatchSpec"] = renamed["components"]["schemas"].pop(
        "LegacyBatchSpecJson"
    )
    d.clear()
    d.update(renamed)


def _type_list_for_any_of(d: Doc) -> None:
    # 3.1 spells "string or null" either way
    schemas(d)["BatchExecutionResponse"]["properties"]["agent_urn"] = {
        "type": ["string", "null"],
        "title": "Agent Urn",
    }
    schemas(d)["LegacyBatchSpecJson"]["properties"]["version"] = {
        "type": ["null", "string"],
        "title": "Version",
    }


def _new_error_status_and_optional_parameter(d: Doc) -> None:
    post(d)["responses"]["409"] = {"description": "Conflict"}
    post(d)["parameters"] = [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}]


def _response_narrowed(d: Doc) -> None:
    schemas(d)["BatchExecutionResponse"]["properties"]["total_items"] = {
        "type": "integer",
        "title": "Total Items",
    }


def _security_alternative(d: Doc) -> None:
    d["components"]["securitySchemes"]["Bearer"] = {"type": "http", "scheme": "bearer"}
    post(d)["security"].append({"Bearer": []})


COMPATIBLE: list[Variant] = [
    Variant("ref-inlined", _inline_refs, False, ()),
    Variant("keys-reordered", _keys_reordered, False, ()),
    Variant("descriptions-changed", _descriptions, False, ("description",)),
    Variant("new-optional-request-property", _new_optional_request_property, False, ("labels",)),
    Variant("new-response-property", _new_response_property, False, ("created_by",)),
    Variant("new-operation", _new_operation, False, ("GET /batch-executions/{execution_id}",)),
    Variant("request-widened", _request_widened, False, ("concurrency", "retry_limit", "agent")),
    Variant("component-renamed", _component_renamed, False, ()),
    Variant("type-list-for-any-of", _type_list_for_any_of, False, ()),
    Variant(
        "new-error-status-and-optional-parameter",
        _new_error_status_and_optional_parameter,
        False,
        ("409", "dry_run"),
    ),
    Variant("response-narrowed", _response_narrowed, False, ("total_items",)),
    Variant("security-alternative-added", _security_alternative, False, ("bearer",)),
    Variant("response-enum-value-removed", _status_enum_removed, False, ("cancelled",), base=_status_enum),
]
