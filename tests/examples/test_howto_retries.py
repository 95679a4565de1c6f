"""How to test your retry logic: queue faults and latency for the next requests.

The official SDK (meibel 2.x) does not retry by itself, and raises a plain `ApiError` for 5xx
(`RateLimitError` for 429); teams wrap its calls in retry logic of their own, such as
`with_retries` below. `meibel_mock.fail_next(503, times=2)` makes the mock
answer "503 twice, then 201" — the exact story a retry test needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from meibel import AsyncMeibelClient, MeibelClient
from meibel.exceptions import ApiError, RateLimitError
from meibel.models import CreateBatchExecutionRequest

from mock_server.testing import MeibelMock

T = TypeVar("T")
BODY = CreateBatchExecutionRequest.model_validate(
    {"batch_spec_json": {"name": "Invoices", "agent": "agent_1", "input": {"datasource_id": "ds_1"}}}
)
RETRY_STATUSES = (429, 500, 502, 503, 504)


def retryable(error: Exception) -> bool:
    if isinstance(error, ApiError):
        return error.status_code in RETRY_STATUSES
    return isinstance(error, httpx.TimeoutException)


def with_retries(call: Callable[[], T], *, attempts: int, backoff: Callable[[int], None]) -> T:
    """Your retry logic: retry 429, 5xx and timeouts, `attempts` calls at most."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (ApiError, httpx.TimeoutException) as error:
            if attempt == attempts or not retryable(error):
                raise
            backoff(attempt)
    raise AssertionError("unreachable")


def test_503_twice_then_201(meibel_mock: MeibelMock) -> None:
    meibel_mock.fail_next(503, times=2)
    waits: list[int] = []
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
        execution = with_retries(
            lambda: client.batches.executions.create(body=BODY), attempts=3, backoff=waits.append
        )
    assert execution.status == "pending"
    assert [r.status for r in meibel_mock.requests] == [503, 503, 201]
    assert waits == [1, 2]  # backed off twice


def test_giving_up_after_the_last_attempt(meibel_mock: MeibelMock) -> None:
    meibel_mock.fail_next(429, times=5)  # 429s carry Retry-After: 1
    with (
        MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client,
        pytest.raises(RateLimitError),
    ):
        with_retries(lambda: client.batches.executions.create(body=BODY), attempts=3, backoff=lambda _: None)
    assert meibel_mock.requests.count("POST", "/batch-executions") == 3
    assert meibel_mock.queued[0].times == 2  # two faults left unused (the queue is reset after the test)


@pytest.mark.meibel_queue(fault=502)
@pytest.mark.meibel_queue(scenario="completed")
def test_queued_with_markers(meibel_mock: MeibelMock) -> None:
    """Stacked markers apply top to bottom: a 502, then a completed execution, then as usual."""
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:

        def create() -> Any:
            return client.batches.executions.create(body=BODY)

        assert with_retries(create, attempts=2, backoff=lambda _: None).status == "completed"
        assert create().status == "pending"


def test_a_timeout_then_an_answer(meibel_mock: MeibelMock) -> None:
    meibel_mock.delay_next("3s")  # longer than the client waits
    with MeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key, timeout=1.0) as client:
        execution = with_retries(
            lambda: client.batches.executions.create(body=BODY), attempts=2, backoff=lambda _: None
        )
    assert execution.status == "pending" and meibel_mock.queued == []


def test_with_the_async_client(meibel_mock: MeibelMock) -> None:
    async def with_async_retries(call: Callable[[], Awaitable[T]], attempts: int) -> T:
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except (ApiError, httpx.TimeoutException) as error:
                if attempt == attempts or not retryable(error):
                    raise
        raise AssertionError("unreachable")

    async def scenario() -> str:
        async with AsyncMeibelClient(base_url=meibel_mock.url, api_key=meibel_mock.api_key) as client:
            execution = await with_async_retries(lambda: client.batches.executions.create(body=BODY), 2)
            return str(execution.status)

    meibel_mock.fail_next(504)
    assert asyncio.run(scenario()) == "pending"
    assert [r.status for r in meibel_mock.requests] == [504, 201]
