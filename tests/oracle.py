"""openapi-core as an oracle: an implementation of OpenAPI validation that is not the kit's."""

from __future__ import annotations

import json
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse


class Oracle:
    def __init__(self, document: dict[str, Any]) -> None:
        self.api = OpenAPI.from_dict(document)
        server = document["servers"][0]["url"]
        self.host = server.split("/", 3)[:3]

    def check_response(self, path: str, request_body: Any, status: int, body: bytes) -> None:
        """Raises when the answer does not match the document (status, content type, schema)."""
        request = MockRequest(
            "/".join(self.host),
            "post",
            path,
            data=json.dumps(request_body).encode(),
            content_type="application/json",
            headers={"Meibel-API-Key": "x"},
        )
        self.api.validate_response(
            request, MockResponse(body, status_code=status, content_type="application/json")
        )
