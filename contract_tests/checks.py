"""The checks the contract suite applies to every answer: Schemathesis's own, and the domain's.

Every check is a plain function `(ctx, response, case)`. A check that finds a violation raises
an `AssertionError` subclass (pytest reports a failure, not an error). Each is registered here
with the answers it applies to: an answer it does not apply to is not counted at all, so a check
that never met an answer it applies to is reported as "not exercised", never as "passed"
(Schemathesis itself counts a check that had nothing to look at as a success). Known deviations
of the service's framework (`contract_tests.deviations`) are excused here, and counted apart.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemathesis import CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS
from contract_tests.domain_checks import (
    Case,
    ProbeViolation,
    auth_refused_without_key,
    batch_execution_coherence,
    batch_execution_echoes_request,
    declared,
    execution_ids_are_unique,
    undecodable_body_refused,
    validation_error_has_detail,
)
from contract_tests.gate import LAST_ANSWER, SENDER, NotSent
from contract_tests.reports.reproduce import reproduction, sent_body
from mock_server.contract import Operation
from mock_server.document.refs import resolve

CheckFunction = Callable[[CheckContext, Response, Case], "bool | None"]
NEEDS_WRITE = "needs a success answer: allow writes with --max-writes N (a live target) to exercise it"


class _ProbeAnswers(threading.local):
    """Per thread, for the case being checked: the answer to the probe each failing check sent.

    A failure is reported with the request that failed: a probe's, where a check sent one."""

    def __init__(self) -> None:
        self.by_check: dict[str, Any] = {}


PROBE_ANSWERS = _ProbeAnswers()


def _is_create_execution(case: Case) -> bool:
    path: str = case.operation.path
    return bool(case.operation.method.upper() == "POST" and path.rstrip("/").endswith("/batch-executions"))


def _presented_key(response: Response, op: Operation | None) -> str | None:
    """The key the request carried (the first credential of the operation found), or None."""
    if op is None:
        return None
    headers = {str(k).lower(): str(v) for k, v in response.request.headers.items()}
    for alternative in op.security:
        for cred in alternative:
            if cred.location == "header":
                value = headers.get(cred.name.lower())
                if value:
                    return value.split(" ", 1)[1] if cred.bearer and " " in value else value
    return None


def _excused_status(case: Case, response: Response) -> bool:
    op = CONTEXT.operation(case)
    if declared(op, response.status_code):
        return False
    if response.status_code == 401 and op is not None and op.security:
        if _presented_key(response, op) == CONTEXT.api_key and CONTEXT.api_key:
            return False  # a 401 to the run's own, good key is a real violation
        return DEVIATIONS.excuse("undeclared-401", reproduction(response))
    if response.status_code == 400:
        try:
            sent_body(response).decode("utf-8")
        except UnicodeDecodeError:
            return DEVIATIONS.excuse("undecodable-400", reproduction(response))
    return False


def _lax_accepts(case: Case, response: Response) -> bool:
    op = CONTEXT.operation(case)
    judge = CONTEXT.judge
    if op is None or judge is None:
        return False
    try:
        body = json.loads(sent_body(response))
    except (ValueError, RecursionError):
        return False
    return not judge.body_problems(op, body)


def _excused_acceptance(case: Case, response: Response) -> bool:
    if 200 <= response.status_code < 300 and _lax_accepts(case, response):
        return DEVIATIONS.excuse("lax-coercion", reproduction(response))
    return False


# -- when each check applies ------------------------------------------------------------------


def _always(case: Case, response: Response) -> bool:
    return True


def _documented_response(case: Case, response: Response) -> dict[str, Any] | None:
    op = CONTEXT.operation(case)
    if op is None:
        return None
    raw = op.raw.get("responses") or {}
    code = str(response.status_code)
    entry = raw.get(code) or raw.get(f"{code[0]}XX") or raw.get("default")
    entry = _deref(entry)
    return entry if isinstance(entry, dict) else None


def _deref(node: Any) -> Any:
    contract = CONTEXT.contract
    for _ in range(16):
        if contract is None or not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        try:
            node = resolve(contract.document, node["$ref"])
        except KeyError:
            return None
    return None


def _has_content(case: Case, response: Response) -> bool:
    entry = _documented_response(case, response)
    return bool(entry and entry.get("content"))


def _has_headers(case: Case, response: Response) -> bool:
    entry = _documented_response(case, response)
    return bool(entry and entry.get("headers"))


def _has_schema(case: Case, response: Response) -> bool:
    entry = _documented_response(case, response)
    content = (entry or {}).get("content") or {}
    applies = any(isinstance(media, dict) and "schema" in media for media in content.values())
    if applies and 200 <= response.status_code < 300:
        CONTEXT.success_checked()
    return applies


def _mode(mode: GenerationMode) -> Callable[[Case, Response], bool]:
    def applies(case: Case, response: Response) -> bool:
        return case.meta is not None and case.meta.generation.mode == mode

    return applies


def _required_header_declared(case: Case, response: Response) -> bool:
    op = CONTEXT.operation(case)
    return bool(op and any(p.required and p.location == "header" for p in op.parameters))


def _undeclared_method(case: Case, response: Response) -> bool:
    return str(case.method).upper() != str(case.operation.method).upper()


def _secured_success(case: Case, response: Response) -> bool:
    """A success answer of a secured operation: the first of each operation only. Its probes resend
    a body some service could act on (writes, on a live target): one answer's worth tells."""
    op = CONTEXT.operation(case)
    if not (op and op.security and 200 <= response.status_code < 300):
        return False
    return CONTEXT.take_probe(f"ignored_auth {op.method} {op.path}", 1)


def _created(case: Case, response: Response) -> bool:
    return _is_create_execution(case) and 200 <= response.status_code < 300


def _refused_json_write(case: Case, response: Response) -> bool:
    """A refused answer (so the probe is not sent after a write) of an operation taking JSON."""
    op = CONTEXT.operation(case)
    if op is None or op.body is None or 200 <= response.status_code < 300:
        return False
    return any("json" in media_type for media_type in op.body.media_types)


def _status_422(case: Case, response: Response) -> bool:
    return response.status_code == 422


def _refused_with_key(case: Case, response: Response) -> bool:
    """A request no lenient target accepts, whose body parses, to a secured operation."""
    op, judge = CONTEXT.operation(case), CONTEXT.judge
    if op is None or judge is None or not op.security or 200 <= response.status_code < 300:
        return False
    if not any(cred.location == "header" for alt in op.security for cred in alt):
        return False
    if _presented_key(response, op) != CONTEXT.api_key:
        return False
    body = sent_body(response)
    try:
        json.loads(body) if body else None
    except (ValueError, RecursionError):
        return False
    request = response.request
    query = str(request.path_url).partition("?")[2]
    headers = {str(k): str(v) for k, v in request.headers.items()}
    return (
        judge.judge(str(request.method), str(case.formatted_path), query, headers, body or None).kind
        == "refused"
    )


# -- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    function: CheckFunction
    applies: Callable[[Case, Response], bool]
    unexercised: str  # why it may see nothing to check, and how to change that
    excuse: Callable[[Case, Response], bool] | None = None

    def __call__(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        if not self.applies(case, response):
            return True  # Schemathesis records nothing for a check that returns True
        sender = SENDER.set(self.name)  # the gate counts this check's probes under its name
        answers = LAST_ANSWER.count
        try:
            return self.function(ctx, response, case)
        except NotSent:
            return True  # a probe the safety gate kept back: nothing was checked
        except (AssertionError, FailureGroup) as exc:
            if self.excuse is not None and self.excuse(case, response):
                return True
            if isinstance(exc, ProbeViolation):
                PROBE_ANSWERS.by_check[self.name] = exc.answer
            elif LAST_ANSWER.count != answers:  # a probe went out (ignored_auth's): it failed
                PROBE_ANSWERS.by_check[self.name] = LAST_ANSWER.answer
            raise
        finally:
            SENDER.reset(sender)

    @property
    def __name__(self) -> str:  # Schemathesis names results after the function
        return self.name


CHECKS: list[Check] = [
    Check("not_a_server_error", not_a_server_error, _always, ""),
    Check(
        "status_code_conformance",
        status_code_conformance,
        _always,
        "",
        excuse=_excused_status,
    ),
    Check(
        "content_type_conformance",
        content_type_conformance,
        _has_content,
        "no answer had a status whose content the document describes",
    ),
    Check(
        "response_headers_conformance",
        response_headers_conformance,
        _has_headers,
        "the document declares no response headers for the answers seen",
    ),
    Check(
        "response_schema_conformance",
        response_schema_conformance,
        _has_schema,
        "no answer had a status whose schema the document gives",
    ),
    Check(
        "negative_data_rejection",
        negative_data_rejection,
        _mode(GenerationMode.NEGATIVE),
        "no schema-violating request was sent",
        excuse=_excused_acceptance,
    ),
    Check("positive_data_acceptance", positive_data_acceptance, _mode(GenerationMode.POSITIVE), NEEDS_WRITE),
    Check(
        "missing_required_header",
        missing_required_header,
        _required_header_declared,
        "the document declares no required header parameter",
    ),
    Check(
        "unsupported_method",
        unsupported_method,
        _undeclared_method,
        "no request with an undeclared method was generated",
    ),
    Check("ignored_auth", ignored_auth, _secured_success, NEEDS_WRITE),
    Check(
        "auth_refused_without_key",
        auth_refused_without_key,
        _refused_with_key,
        "no request to a secured operation was refused for its body while carrying the run's key",
    ),
    Check(
        "undecodable_body_refused",
        undecodable_body_refused,
        _refused_json_write,
        "no refused request to an operation that takes JSON was seen",
    ),
    Check("batch_execution_coherence", batch_execution_coherence, _created, NEEDS_WRITE),
    Check("batch_execution_echoes_request", batch_execution_echoes_request, _created, NEEDS_WRITE),
    Check("execution_ids_are_unique", execution_ids_are_unique, _created, NEEDS_WRITE),
    Check("validation_error_has_detail", validation_error_has_detail, _status_422, "no 422 answer was seen"),
]
ALL_CHECKS: list[CheckFunction] = list(CHECKS)
