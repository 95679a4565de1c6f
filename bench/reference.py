"""The bare reference: Starlette answering the same route with a constant JSON body."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ANSWER = {
    "id": "5f0c2b1e-0000-4000-8000-000000000000",
    "status": "pending",
    "start_time": "2026-01-01T00:00:00Z",
}


async def create(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse(ANSWER, status_code=201)


def create_reference() -> Starlette:
    return Starlette(routes=[Route("/v2/batch-executions", create, methods=["POST"])])
