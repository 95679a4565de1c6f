"""The real service's shape, rebuilt with FastAPI + pydantic from the document by hand.

Used only as an oracle: the mock must answer invalid requests with the same 422 bodies that
FastAPI produces for these models (the document's schemas are pydantic's own output).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field


def models(*, strict: bool = False) -> type[BaseModel]:
    """The request body's models; `strict` turns pydantic's lax coercion off (`"5"` is refused)."""
    config = ConfigDict(strict=strict)

    class LegacyBatchInputFilters(BaseModel):
        model_config = config
        regex: str | None = None
        media_types: list[str] | None = None
        element_ids: list[str] | None = None
        additional_properties: dict[str, Any] = {}

    class LegacyBatchInputConfig(BaseModel):
        model_config = config
        datasource_id: str
        filters: LegacyBatchInputFilters | None = None

    class LegacyBatchOutputConfig(BaseModel):
        model_config = config
        datasource_id: str | None = None

    class LegacyBatchExecutionParams(BaseModel):
        model_config = config
        concurrency: int | None = Field(10, ge=1, le=999)
        retry_limit: int | None = Field(2, ge=0, le=999)

    class LegacyBatchSpecJson(BaseModel):
        model_config = config
        name: str
        version: str | None = None
        agent: str
        user_message: str | None = None
        input: LegacyBatchInputConfig
        output: LegacyBatchOutputConfig | None = None
        execution: LegacyBatchExecutionParams | None = None
        additional_properties: dict[str, Any] = {}

    class CreateBatchExecutionRequest(BaseModel):
        model_config = config
        batch_spec_json: LegacyBatchSpecJson

    return CreateBatchExecutionRequest


def create_twin() -> FastAPI:
    app = FastAPI()
    key = APIKeyHeader(name="Meibel-API-Key")

    def create(body: Any, api_key: str = Security(key)) -> dict[str, Any]:
        return body.model_dump()  # type: ignore[no-any-return]

    # The model is made at run time, so FastAPI is told it directly (annotations here are strings).
    create.__annotations__ = {"body": models(), "api_key": str, "return": dict[str, Any]}
    app.post("/v2/batch-executions", status_code=201)(create)
    return app
