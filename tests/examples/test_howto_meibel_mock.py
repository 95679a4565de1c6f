"""How to use the mock in your own tests: the `meibel_mock` fixture (installed with the kit)."""

from __future__ import annotations

import pytest
from meibel import MeibelClient
from meibel.exceptions import ApiError
from meibel.models import CreateBatchExecutionRequest

from mock_server.testing import MeibelMock

BODY = {"batch_spec_json": {"name": "Invoices", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}}


def test_create_an_execution(meibel_mock: MeibelMock) -> None:
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.status == "pending"
    sent = meibel_mock.requests.last  # what the client sent, as the mock saw it, and the answer
    assert sent.method == "POST" and sent.path == "/v2/batch-executions"
    assert sent.body == BODY  # parsed JSON
    assert sent.headers["meibel-api-key"] == "[redacted]"  # keys never reach the journal
    assert sent.status == 201 and sent.response["id"] == execution.id
    assert meibel_mock.requests.count("POST", "/batch-executions") == 1  # paths under the base URL work


@pytest.mark.meibel_scenario("completed_with_failures")
def test_a_screen_for_partial_failures(meibel_mock: MeibelMock) -> None:
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        execution = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
    assert execution.failed and execution.failed >= 1


def test_an_error_screen_for_a_fault(meibel_mock: MeibelMock) -> None:
    meibel_mock.fail_next(503)  # the next request only; then the mock answers normally again
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        with pytest.raises(ApiError) as raised:
            client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY))
        assert raised.value.status_code == 503
        assert client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(BODY)).id
