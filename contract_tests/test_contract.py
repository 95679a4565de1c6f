"""The contract suite: Schemathesis property tests from the bundled document, every check on."""

from __future__ import annotations

from typing import Any

from schemathesis.generation.case import Case

from contract_tests.checks import ALL_CHECKS
from contract_tests.run import current_run
from contract_tests.target import Target, current_target, load_schema

schema = load_schema(current_target())


@schema.hook("after_validate")  # type: ignore[untyped-decorator]
def record(context: Any, case: Case[Any], response: Any, results: list[Any]) -> None:
    current_run().record(case, response, results)


@schema.parametrize()  # type: ignore[untyped-decorator]
def test_operation_conforms(case: Case[Any], contract_target: Target) -> None:
    current_run().send(case, ALL_CHECKS)
