"""How to use the mock in your own tests: the `meibel_mock` fixture (installed with the kit)."""

from __future__ import annotations

import json

import pytest
from meibel import MeibelClient
from meibel.exceptions import ApiError
from meibel.models import CreateBatchExecutionRequest

from mock_server.pytest_plugin import MeibelMock

BODY = {"batch_spec_json": {"name": "Invoices", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}}


def test_create_an_execution(meibel_mock: MeibelMock) -> None:
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.status == "pending"
    [sent] = meibel_mock.requests  # what the client sent, as the mock saw it
    assert sent["method"] == "POST" and sent["path"] == "/v2/batch-executions"
    assert json.loads(sent["body"]) == BODY
    assert sent["headers"]["meibel-api-key"] == "[redacted]"


@pytest.mark.meibel_scenario("completed_with_failures")
def test_a_screen_for_partial_failures(meibel_mock: MeibelMock) -> None:
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.failed and execution.failed >= 1


def test_retry_logic_against_an_injected_fault(meibel_mock: MeibelMock) -> None:
    meibel_mock.set_scenario("completed")
    with (
        MeibelClient(
            base_url=meibel_mock.url, api_key=meibel_mock.api_key, headers={"Prefer": "fault=503"}
        ) as client,
        pytest.raises(ApiError) as raised,
    ):
        client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert raised.value.status_code == 503
