"""The official `meibel` SDK works against the mock unchanged."""

from __future__ import annotations

import pytest
from meibel import MeibelClient
from meibel.exceptions import ApiError, AuthenticationError
from meibel.models import BatchExecutionResponse, CreateBatchExecutionRequest

from mock_server import DEV_KEY
from mock_server.testing import ThreadedServer
from tests.conftest import VALID


def test_sdk_creates_an_execution(live: ThreadedServer) -> None:
    with MeibelClient(base_url=live.origin + "/v2", api_key=DEV_KEY) as client:
        result = client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(VALID))
    assert isinstance(result, BatchExecutionResponse)
    assert result.input_datasource_id == "d"
    assert result.status in ("pending", "running")


def test_sdk_without_a_key_gets_authentication_error(live: ThreadedServer) -> None:
    with MeibelClient(base_url=live.origin + "/v2") as client, pytest.raises(AuthenticationError) as raised:
        client.batches.executions.create(body=CreateBatchExecutionRequest.model_validate(VALID))
    assert raised.value.status_code == 401
    assert raised.value.message == "Not authenticated"


def test_sdk_reads_the_422_detail(live: ThreadedServer) -> None:
    # The SDK's models carry no bounds: the mock is where the client learns about them.
    spec = {**VALID["batch_spec_json"], "execution": {"concurrency": 0}}
    body = CreateBatchExecutionRequest.model_validate({"batch_spec_json": spec})
    with (
        MeibelClient(base_url=live.origin + "/v2", api_key=DEV_KEY) as client,
        pytest.raises(ApiError) as raised,
    ):
        client.batches.executions.create(body=body)
    assert raised.value.status_code == 422
    assert raised.value.message == (
        "body.batch_spec_json.execution.concurrency: Input should be greater than or equal to 1"
    )
