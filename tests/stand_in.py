"""Stand-ins of the real service for live runs: FastAPI + pydantic, counting what they create.

The models are the twin's (`tests.fastapi_twin`), built strict or lax (pydantic's default, as the
real service runs). A valid request gets 201 with the answer the mock would give for the body
as pydantic parsed it (so a lax stand-in echoes `"retry_limit": false` as 0, as the service
does), and the stand-in counts it: a 201 is an execution created. Auth comes in three kinds:
`key` (the test key only), `any` (any non-empty key), `none` (the key is ignored).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response

from mock_server import Settings, load_contract
from mock_server.answer.exchange import Request as MockRequest
from mock_server.engine import Engine
from tests.broken import KEY
from tests.fastapi_twin import models

Auth = Literal["key", "any", "none"]


class StandIn:
    def __init__(self, *, lax: bool, auth: Auth = "key") -> None:
        self.created = 0
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        contract = load_contract()
        engine = Engine(contract, Settings(api_keys=(KEY,)))
        operation = contract.find("post", "/batch-executions")
        body_model = models(strict=not lax)

        def key_check(request: Request) -> None:
            key = request.headers.get("meibel-api-key", "")
            if auth == "none" or (auth == "any" and key) or key == KEY:
                return
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "APIKey"})

        app = FastAPI()

        async def create(body: Any, request: Request) -> Response:
            parsed = json.dumps(body.model_dump(mode="json", exclude_unset=True)).encode()
            answer = engine.respond(
                operation,
                MockRequest({"meibel-api-key": KEY, "content-type": "application/json"}, "", parsed),
            )
            if answer.status == 201:
                with self._lock:
                    self.created += 1
                    self.bodies.append(await request.body())
            return Response(answer.encode(), status_code=answer.status, media_type="application/json")

        # The model is made at run time, so FastAPI is told it directly (annotations here are strings).
        create.__annotations__ = {"body": body_model, "request": Request, "return": Response}
        app.post("/v2/batch-executions", status_code=201, dependencies=[Depends(key_check)])(create)
        self.app: Any = app
