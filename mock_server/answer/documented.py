"""Answers in the document's own shapes, for the operations the domain layer does not know.

The documented answer asked for, an invalid request's, a 415's and a 401's, and a named example's.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from mock_server.answer.exchange import UNAUTHENTICATED_HEADERS, Answer, Request
from mock_server.answer.rendering import render
from mock_server.answer.selection import MISSING, Media, Response, Responses, static_value
from mock_server.contract import Contract, Operation
from mock_server.request.negotiation import choose, is_json
from mock_server.schema.explain import ErrorList


class DocumentedAnswers:
    """The engine's answers from an operation's documented responses: a part of `Engine`, which
    holds the state declared here (its scenario and random sequence change on a reset)."""

    contract: Contract
    scenario: str | None
    rng: random.Random
    _fits: dict[int, Any]  # id(Media) -> a validator of its schema, built on first use

    def _documented_answer(
        self, op: Operation, table: Responses, request: Request, prefer: dict[str, str]
    ) -> Answer:
        scenario = prefer.get("example") or self.scenario
        dynamic = prefer.get("dynamic", "").lower() == "true" or scenario == "dynamic"
        name = None if scenario in (None, "dynamic") else scenario
        if "code" in prefer:
            code = prefer["code"]
            valid_code = code.isdigit() and 100 <= int(code) <= 599
            response = table.lookup(int(code)) if valid_code else None
            if response is None:  # 404, as Prism answers: the document has no such answer
                documented = ", ".join(table.documented())
                return Answer(
                    404,
                    {
                        "detail": f"Requested status code {code} is not defined in the document for "
                        f"{op.operation_id}; documented: {documented}"
                    },
                )
            status = int(code)
        else:
            found = table.success()
            if found is None:  # a document with no responses for the operation
                return Answer(200, empty=True)
            status, response = found
        media_type = choose(request.headers.get("accept"), response.offered)
        if response.media and media_type is None:
            offered = ", ".join(response.offered)
            return Answer(
                406,
                {"detail": f"None of the media types in Accept is available; this answer offers {offered}"},
            )
        if name is not None:
            media = _media(response, media_type)
            named = _named(media)
            if name not in named:
                return _unknown_example(op, name, named)
            return _rendered(status, media_type, media, named[name], response)
        return self._answer_from(status, response, media_type, dynamic=dynamic)

    def _answer_from(
        self, status: int, response: Response, media_type: str | None, *, dynamic: bool, kit: Any = MISSING
    ) -> Answer:
        if not response.media or media_type is None:
            return Answer(status, empty=True, headers=_documented_headers(response))
        media = _media(response, media_type)
        value = MISSING if dynamic and media.generate is not None else static_value(media)
        if value is MISSING and kit is not MISSING and self._kit_fits(media, kit):
            value = kit  # the document's own shape is the kit's (a FastAPI document): say what is wrong
        if value is MISSING and media.generate is not None:
            value = media.generate(self.rng, 0)
        if value is MISSING:
            return Answer(status, media_type=media_type, raw=b"", headers=_documented_headers(response))
        return _rendered(status, media_type, media, value, response)

    def _kit_fits(self, media: Media, kit: Any) -> bool:
        if media.schema is None or not is_json(media.media_type):
            return False
        validator: Any = self._fits.get(id(media))
        if validator is None:
            try:
                validator = self.contract.compiler.checker(media.schema, formats=False)
            except (ValueError, TypeError, jsonschema_rs.ReferencingError):  # cannot compile: no kit shape
                validator = False
            self._fits[id(media)] = validator
        if validator is False:
            return False
        try:
            return bool(validator.is_valid(kit))
        except (ValueError, OverflowError, TypeError):
            return False

    def _invalid(
        self, table: Responses, errors: ErrorList, request: Request, op: Operation, prefer: dict[str, str]
    ) -> Answer:
        """An invalid request: the first documented of 422, 400 (and their range), `default` (as 422),
        Prism's order; the kit's FastAPI-style 422 only where the document declares none. A named
        example (`Prefer: example=NAME`) is taken from that answer when it has one by that name."""
        kit = {"detail": errors}
        name = prefer.get("example")
        found = table.first_of(("422", "400"), 422)
        if found is None and all(e["loc"][0] == "path" for e in errors):
            # A path whose parameters break their schema names no resource: the documented 404.
            found = table.first_of(("404",), 404)
        if found is None:
            return Answer(422, kit)
        status, response = found
        media_type = choose(request.headers.get("accept"), response.offered) or _first(response)
        if name is not None and response.media and name != self.scenario:
            media = _media(response, media_type)
            named = _named(media)
            if name in named:
                return _rendered(status, media_type, media, named[name], response)
            if prefer.get("code") in (None, str(status)):
                return _unknown_example(op, name, named)
            # The example asked for belongs to the answer of another code: an invalid request gets
            # the error's own (as Prism: invalid input wins over Prefer).
        return self._answer_from(status, response, media_type, dynamic=False, kit=kit)

    def _unsupported(self, table: Responses, request: Request, op: Operation) -> Answer:
        """A body the operation does not take, or in a media type it does not declare: 415, in the
        document's shape where it declares one (as Prism answers)."""
        found = table.first_of(("415",), 415)
        if found is None:
            declared = ", ".join(op.body.media_types) if op.body else "no body"
            return Answer(415, {"detail": f"Unsupported Media Type: this operation takes {declared}"})
        status, response = found
        media_type = choose(request.headers.get("accept"), response.offered) or _first(response)
        return self._answer_from(status, response, media_type, dynamic=False)

    def _unauthorized(self, table: Responses, request: Request) -> Answer:
        found = table.first_of(("401", "403"), 401)
        if found is None:
            return Answer(401, {"detail": "Not authenticated"}, dict(UNAUTHENTICATED_HEADERS))
        status, response = found
        media_type = choose(request.headers.get("accept"), response.offered) or _first(response)
        answer = self._answer_from(status, response, media_type, dynamic=False)
        if status == 401:
            answer.headers = {**UNAUTHENTICATED_HEADERS, **answer.headers}
        return answer


def _unknown_example(op: Operation, name: str, named: Mapping[str, Any]) -> Answer:
    available = ", ".join(named) or "none (this operation's document declares no examples)"
    return Answer(404, {"detail": f"Unknown example {name!r} for {op.operation_id}; available: {available}"})


def _first(response: Response) -> str | None:
    return next(
        (m for m in response.offered if is_json(m)), response.offered[0] if response.offered else None
    )


def _media(response: Response, media_type: str | None) -> Media:
    found = response.get(media_type) if media_type is not None else None
    if found is None:  # a `*/*` entry answering a concrete type
        found = next((m for m in response.media if m.media_type.strip() == "*/*"), response.media[0])
    return found


def _named(media: Media) -> dict[str, Any]:
    named = dict(media.examples)
    if media.example is not MISSING:
        named.setdefault("default", media.example)
    return named


def _rendered(status: int, media_type: str | None, media: Media, value: Any, response: Response) -> Answer:
    headers = _documented_headers(response)
    if media_type is None:
        return Answer(status, value, headers)
    content_type = "application/json" if media_type.strip() == "*/*" else media_type
    if is_json(content_type):
        return Answer(status, value, headers, media_type=content_type)
    return Answer(
        status, value, headers, media_type=content_type, raw=render(value, content_type, root=media.root)
    )


def _documented_headers(response: Response) -> dict[str, str]:
    return dict(response.headers)
