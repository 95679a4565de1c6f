"""The domain's checks, beside Schemathesis's own: rules an answer must keep, and probes the suite sends.

Each is a plain function `(ctx, response, case)` that raises an `AssertionError` subclass when it
finds a violation; `contract_tests.checks` says which answers each applies to.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import CheckContext, Response
from schemathesis.generation.case import Case as _Case

from contract_tests.context import CONTEXT
from contract_tests.deviations import DEVIATIONS
from contract_tests.invariants import echo_violations, execution_violations
from contract_tests.reports.reproduce import reproduction
from mock_server.contract import Operation

Case = _Case[Any]


class DomainViolation(AssertionError):
    """An answer the document allows but the domain does not (counts, times, the echo)."""


class ProbeViolation(AssertionError):
    """A probe a check sent itself got the wrong answer; `answer` is that probe's, for the report."""

    def __init__(self, message: str, answer: Any) -> None:
        super().__init__(message)
        self.answer = answer


class AuthViolation(ProbeViolation):
    """A request without a valid key was not refused with 401/403."""


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _fail(problems: Iterable[str], title: str) -> None:
    problems = list(problems)
    if problems:
        raise DomainViolation(f"{title}:\n" + "\n".join(f"  - {p}" for p in problems))


@schemathesis.check
def batch_execution_coherence(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Counts add up, items agree with counts, times are ordered and zoned, errors where failed."""
    _fail(execution_violations(_json(response)), "The batch execution does not add up")
    return None


@schemathesis.check
def batch_execution_echoes_request(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """batch_spec_json and the datasource ids say what the request said."""
    sent = case.body if isinstance(case.body, dict) else None
    answer = _json(response)
    problems = echo_violations(sent, answer)
    if problems and _echo_explained_by_coercion(case, sent, answer, response):
        return True  # a known deviation (lax coercion), counted apart
    _fail(problems, "The answer does not agree with the request")
    return None


class _SeenIds:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        self.ids.clear()

    def add(self, value: str) -> bool:
        with self._lock:
            if value in self.ids:
                return False
            self.ids.add(value)
            return True


SEEN_IDS = _SeenIds()


@schemathesis.check
def execution_ids_are_unique(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every created execution has an id no other answer of the run had."""
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    if not SEEN_IDS.add(body["id"]):
        raise DomainViolation(f"Execution id {body['id']!r} was already answered earlier in this run")
    return None


@schemathesis.check
def validation_error_has_detail(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A 422 carries a non-empty `detail` list of {loc, msg, type} objects, as SDKs expect."""
    body = _json(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    problems = []
    if not isinstance(detail, list) or not detail:
        problems.append(f"`detail` is {json.dumps(detail)[:80]}, not a non-empty list")
    else:
        for index, item in enumerate(detail):
            if not isinstance(item, dict):
                problems.append(f"detail[{index}] is not an object")
                continue
            if not isinstance(item.get("loc"), list):
                problems.append(f"detail[{index}].loc is not a list")
            if not isinstance(item.get("msg"), str):
                problems.append(f"detail[{index}].msg is not a string")
            if not isinstance(item.get("type"), str):
                problems.append(f"detail[{index}].type is not a string")
    _fail(problems, "The 422 answer is not a usable validation error")
    return None


def declared(op: Operation | None, status: int) -> bool:
    if op is None:
        return True
    code = str(status)
    return code in op.responses or f"{code[0]}XX" in op.responses or "default" in op.responses


def _echo_explained_by_coercion(case: Case, sent: Any, answer: Any, response: Response) -> bool:
    op = CONTEXT.operation(case)
    judge = CONTEXT.judge
    if op is None or judge is None or sent is None or judge.body_problems(op, sent):
        return False
    coerced = judge.coerce(op, sent)
    # Compared as JSON: in Python False == 0, and the coercion is exactly that difference.
    if json.dumps(coerced, sort_keys=True) == json.dumps(sent, sort_keys=True) or echo_violations(
        coerced, answer
    ):
        return False
    return DEVIATIONS.excuse("lax-coercion", reproduction(response))


def auth_refused_without_key(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The same refused request, sent without the key and with an unknown one, gets 401 or 403.

    Sent only for requests no lenient target accepts (so never a write), and whose body parses:
    there FastAPI checks the key before it validates the body, so a 422 without a key means the
    body was looked at before the caller was known."""
    op = CONTEXT.operation(case)
    if op is None or not CONTEXT.take_auth_probe(f"{op.method} {op.path}"):
        return True
    names = {cred.name for alt in op.security for cred in alt if cred.location == "header"}
    lowered = {name.lower() for name in names}
    # The case's own headers, less any key Schemathesis generated into them.
    kept = CaseInsensitiveDict({k: v for k, v in (case.headers or {}).items() if k.lower() not in lowered})
    for label, extra in (
        ("without a key", {}),
        ("with an unknown key", {name: CONTEXT.unknown_key for name in names}),
    ):
        answer = case.derive(headers=kept).call(headers=extra)
        status = answer.status_code
        if status in (401, 403):
            if not declared(op, status) and not DEVIATIONS.excuse("undeclared-401", reproduction(answer)):
                raise AuthViolation(
                    f"A request {label} got {status}, which the document does not declare (--strict)", answer
                )
            continue
        if 200 <= status < 300:
            raise AuthViolation(f"A request {label} was accepted ({status})", answer)
        raise AuthViolation(
            f"A request {label} got {status}, not 401: the key must be checked before the body is "
            "validated (the service answers 401 first)",
            answer,
        )
    return None


NOT_UTF8 = b'{"batch_spec_json": {"name": "\xff\xfe"}}'  # a JSON object, but not UTF-8


def undecodable_body_refused(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A body that is not UTF-8 is refused with a 4xx the document declares: never acted on, never
    a 5xx. Sent once per operation, whatever the generated data held, so that a run always tells
    (FastAPI answers an undeclared 400 here: a known deviation)."""
    op = CONTEXT.operation(case)
    if op is None or not CONTEXT.take_probe(f"not-utf8 {op.method} {op.path}", 1):
        return True
    names = {cred.name for alt in op.security for cred in alt if cred.location == "header"}
    headers = {name: CONTEXT.api_key for name in names} if CONTEXT.api_key else {}
    answer = case.call(headers={**headers, "Content-Type": "application/json"}, data=NOT_UTF8)
    status = answer.status_code
    if 200 <= status < 300 or status >= 500:
        raise ProbeViolation(f"A body that is not UTF-8 got {status}, not a refusal", answer)
    if declared(op, status):
        return None
    if status == 400 and DEVIATIONS.excuse("undecodable-400", reproduction(answer)):
        return None
    raise ProbeViolation(
        f"A body that is not UTF-8 got {status}, which the document does not declare", answer
    )
