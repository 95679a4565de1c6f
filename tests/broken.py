"""Deliberately broken servers, one defect each, for proving that the contract checks bite.

Each is the real mock with one thing changed, so that a run fails through one check only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import Settings, create_app, load_contract

KEY = "sk-checker-5d1c7e0b"
Body = dict[str, Any]


def mock(**settings: Any) -> ASGIApp:
    return create_app(load_contract(), settings=Settings(**{"api_keys": (KEY,), **settings}))


def rewrite(
    mutate: Callable[[int, Body, Body | None], tuple[int, Body | bytes, str]], app: ASGIApp | None = None
) -> ASGIApp:
    """The mock, with each JSON answer passed through `mutate(status, body, request)`."""
    inner = app or mock()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/openapi.json":
            await inner(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def replay() -> Message:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        start: Message = {}

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            try:
                request = json.loads(b"".join(chunks) or b"null")
            except ValueError:
                request = None
            status, payload, content_type = start["status"], message.get("body", b""), "application/json"
            if payload:
                status, new, content_type = mutate(status, json.loads(payload), request)
                payload = new if isinstance(new, bytes) else json.dumps(new).encode()
            headers = [(k, v) for k, v in start["headers"] if k not in (b"content-length", b"content-type")]
            headers += [
                (b"content-length", str(len(payload)).encode()),
                (b"content-type", content_type.encode()),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

        await inner(scope, replay, capture)

    return broken


def on_created(
    change: Callable[[Body, Body | None], Body | bytes],
    *,
    status: int = 201,
    content_type: str = "application/json",
) -> Callable[[], ASGIApp]:
    def mutate(code: int, body: Body, request: Body | None) -> tuple[int, Body | bytes, str]:
        if code == 201:
            return status, change(body, request), content_type
        return code, body, "application/json"

    return lambda: rewrite(mutate)


def _set(**fields: Any) -> Callable[[Body, Body | None], Body]:
    return lambda body, request: {**body, **fields}


def _completed(body: Body, request: Body | None) -> Body:
    items = [
        {
            "input_data_element_id": f"e{i}",
            "filename": f"f{i}.pdf",
            "status": "completed",
            "error": None,
            "output_artifacts": None,
            "attempts": 1,
        }
        for i in range(3)
    ]
    return {
        **body,
        "status": "completed",
        "total_items": 3,
        "succeeded": 3,
        "failed": 0,
        "items": items,
        "end_time": "2026-01-01T00:00:10Z",
        "start_time": "2026-01-01T00:00:00Z",
    }


wrong_success_code = on_created(lambda body, request: body, status=200)
missing_required_field = on_created(lambda body, request: {k: v for k, v in body.items() if k != "status"})
wrongly_typed_field = on_created(_set(total_items="three"))
wrong_content_type = on_created(lambda body, request: json.dumps(body).encode(), content_type="text/plain")
counts_exceed_total = on_created(_set(total_items=2, succeeded=2, failed=1))
items_disagree_with_total = on_created(
    lambda body, request: {**_completed(body, request), "total_items": 4, "succeeded": 4}
)
item_statuses_disagree = on_created(
    lambda body, request: {**_completed(body, request), "succeeded": 2, "failed": 1}
)
end_before_start = on_created(
    _set(status="completed", start_time="2026-01-02T00:00:00Z", end_time="2026-01-01T00:00:00Z")
)
end_time_while_pending = on_created(_set(status="pending", end_time="2999-01-01T00:00:00Z"))
naive_timestamps = on_created(_set(start_time="2026-01-01T00:00:00"))
failed_without_error = on_created(_set(status="failed", error=None, end_time=None))
wrong_datasource_echo = on_created(_set(input_datasource_id="someone-elses-datasource"))
spec_not_echoed = on_created(
    lambda body, request: {**body, "batch_spec_json": {**body["batch_spec_json"], "name": "renamed"}}
)
repeated_ids = on_created(_set(id="00000000-0000-4000-8000-000000000000"))


def validation_error_without_detail() -> ASGIApp:
    return rewrite(
        lambda code, body, request: (
            code,
            {"errors": body.get("detail")} if code == 422 else body,
            "application/json",
        )
    )


def server_error_on_some_input() -> ASGIApp:
    def mutate(code: int, body: Body, request: Body | None) -> tuple[int, Body, str]:
        spec = (request or {}).get("batch_spec_json") if isinstance(request, dict) else None
        if code == 201 and isinstance(spec, dict) and spec.get("execution") is not None:
            return 500, {"detail": "Internal Server Error"}, "application/json"
        return code, body, "application/json"

    return rewrite(mutate)


def valid_bodies_rejected() -> ASGIApp:
    return rewrite(
        lambda code, body, request: (
            (422, {"detail": [{"loc": ["body"], "msg": "no", "type": "value_error"}]}, "application/json")
            if code == 201
            else (code, body, "application/json")
        )
    )


def invalid_bodies_accepted() -> ASGIApp:
    app = mock()

    async def accept(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] != "/openapi.json":
            await _drain(receive)
            scope = {
                **scope,
                "headers": [
                    (b"content-type", b"application/json"),
                    *[(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")],
                ],
            }

            async def valid() -> Message:
                return {
                    "type": "http.request",
                    "body": json.dumps(
                        {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}
                    ).encode(),
                }

            await app(scope, valid, send)
            return
        await app(scope, receive, send)

    return accept


def undecodable_body_accepted() -> ASGIApp:
    """The mock, except that a body that is not UTF-8 is taken as a valid one (and created)."""
    app = mock()
    valid = json.dumps(
        {"batch_spec_json": {"name": "n", "agent": "a", "input": {"datasource_id": "d"}}}
    ).encode()

    async def lenient(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] == "/openapi.json":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = valid
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]

        async def replay() -> Message:
            return {"type": "http.request", "body": body}

        await app(
            {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}, replay, send
        )

    return lenient


def missing_key_accepted() -> ASGIApp:
    return _with_key_header(lambda sent: sent or KEY)


def unknown_key_accepted() -> ASGIApp:
    return _with_key_header(lambda sent: KEY if sent else sent)


def _with_key_header(choose: Callable[[bytes], bytes | str]) -> ASGIApp:
    app = mock()

    async def lenient(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sent = next((v for k, v in scope["headers"] if k == b"meibel-api-key"), b"")
            chosen = choose(sent)
            value = chosen.encode() if isinstance(chosen, str) else chosen
            headers = [(k, v) for k, v in scope["headers"] if k != b"meibel-api-key"]
            if value:
                headers.append((b"meibel-api-key", value))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return lenient


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


DEFECTS: dict[str, str] = {
    # defect (a factory in this module) -> the check that must catch it
    "wrong_success_code": "status_code_conformance",
    "missing_required_field": "response_schema_conformance",
    "wrongly_typed_field": "response_schema_conformance",
    "wrong_content_type": "content_type_conformance",
    "missing_key_accepted": "ignored_auth",
    "unknown_key_accepted": "ignored_auth",
    "invalid_bodies_accepted": "negative_data_rejection",
    "undecodable_body_accepted": "undecodable_body_refused",
    "valid_bodies_rejected": "positive_data_acceptance",
    "server_error_on_some_input": "not_a_server_error",
    "validation_error_without_detail": "validation_error_has_detail",
    "counts_exceed_total": "batch_execution_coherence",
    "items_disagree_with_total": "batch_execution_coherence",
    "item_statuses_disagree": "batch_execution_coherence",
    "end_before_start": "batch_execution_coherence",
    "end_time_while_pending": "batch_execution_coherence",
    "naive_timestamps": "batch_execution_coherence",
    "failed_without_error": "batch_execution_coherence",
    "wrong_datasource_echo": "batch_execution_echoes_request",
    "spec_not_echoed": "batch_execution_echoes_request",
    "repeated_ids": "execution_ids_are_unique",
}
