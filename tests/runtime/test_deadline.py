"""Deadlines: request.deadline / remaining() from a context whose deadline really counts down,
real asyncio cancellation at deadline minus margin, cooperative check_deadline() in sync code."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from lambdascope import (
    DeadlineExceededError,
    LambdascopeError,
    OutsideInvocationError,
    handler,
    request,
)
from lambdascope.testing import LambdaContext


def context_ending_in(seconds: float) -> LambdaContext:
    return LambdaContext(deadline_ms=int(time.time() * 1000 + seconds * 1000))


def test_the_error_is_a_lambdascope_error_and_a_timeout_error() -> None:
    assert issubclass(DeadlineExceededError, LambdascopeError)
    assert issubclass(DeadlineExceededError, TimeoutError)


def test_deadline_and_remaining_follow_the_context() -> None:
    seen: dict[str, Any] = {}

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        before = time.monotonic()
        seen["deadline"] = request.deadline
        seen["again"] = request.deadline  # read once per invocation
        seen["first"] = request.remaining()
        time.sleep(0.05)
        seen["later"] = request.remaining()
        seen["window"] = (before, time.monotonic())

    created = time.monotonic()
    context = LambdaContext(timeout=30)  # the deadline is 30 s after this
    lambda_handler({}, context)
    _, after = seen["window"]
    assert seen["deadline"] == seen["again"]
    assert created + 29 < seen["deadline"] <= after + 30
    assert 0 < seen["later"] < seen["first"] <= 30


def test_without_a_context_there_is_no_deadline() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> tuple[Any, float]:
        request.check_deadline()  # never raises without a deadline
        return request.deadline, request.remaining()

    assert lambda_handler({}, None) == (None, math.inf)
    # a context without get_remaining_time_in_millis is no deadline either
    assert lambda_handler({}, SimpleNamespace(aws_request_id="x")) == (None, math.inf)


def test_remaining_is_zero_once_past_the_deadline() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> float:
        return request.remaining()

    assert lambda_handler({}, LambdaContext(deadline_ms=int(time.time() * 1000) - 5000)) == 0.0


def test_outside_an_invocation_it_explains() -> None:
    for use in (lambda: request.deadline, request.remaining, request.check_deadline):
        with pytest.raises(OutsideInvocationError, match="no Lambda invocation is running"):
            use()


# --- sync: cooperative -----------------------------------------------------------------------


def test_check_deadline_raises_once_past_deadline_minus_margin() -> None:
    steps: list[float] = []

    @handler(deadline_margin=0.3)
    def lambda_handler(event: Any, context: Any) -> None:
        for _ in range(1000):  # bounded: the test cannot hang
            request.check_deadline()
            steps.append(request.remaining())
            time.sleep(0.01)

    with pytest.raises(DeadlineExceededError):  # the first invocation, past the margin
        lambda_handler({}, context_ending_in(0.2))  # (and the guard's census done)
    steps.clear()
    with pytest.raises(DeadlineExceededError) as info:
        lambda_handler({}, context_ending_in(0.6))
    assert "deadline_margin (0.3 s)" in str(info.value)
    assert steps  # it ran while there was time


def test_check_deadline_without_a_margin_stops_at_the_deadline_itself() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        request.check_deadline()
        return 1

    assert lambda_handler({}, context_ending_in(30)) == 1
    with pytest.raises(DeadlineExceededError, match="no deadline_margin is set"):
        lambda_handler({}, LambdaContext(deadline_ms=int(time.time() * 1000) - 1))


def test_a_sync_handler_is_never_interrupted() -> None:
    @handler(deadline_margin=timedelta(seconds=0.5))
    def lambda_handler(event: Any, context: Any) -> str:
        time.sleep(0.2)  # past deadline minus margin: only check_deadline() would stop it
        return "finished"

    assert lambda_handler({}, context_ending_in(0.6)) == "finished"


def test_threads_of_one_invocation_share_its_deadline() -> None:
    import contextvars

    @handler(deadline_margin=1)
    def lambda_handler(event: Any, context: Any) -> bool:
        seen: list[Any] = []
        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(lambda: seen.append(request.deadline),)
        )
        thread.start()
        thread.join(10)
        return seen == [request.deadline]

    assert lambda_handler({}, context_ending_in(30)) is True


# --- async: cancelled ------------------------------------------------------------------------


def test_an_async_handler_is_cancelled_at_deadline_minus_margin() -> None:
    happened: list[str] = []

    @handler(deadline_margin=0.2)
    async def lambda_handler(event: Any, context: Any) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            happened.append("cancelled")
            raise
        finally:
            happened.append("finally")
        return "never"

    with pytest.raises(DeadlineExceededError) as info:
        lambda_handler({}, context_ending_in(0.5))
    assert happened == ["cancelled", "finally"]
    assert "cancelled at its deadline minus deadline_margin (0.2 s)" in str(info.value)
    assert isinstance(info.value, TimeoutError)


def test_an_async_handler_that_finishes_in_time_returns_and_the_next_is_unaffected() -> None:
    @handler(deadline_margin=0.1)
    async def lambda_handler(event: dict[str, float], context: Any) -> str:
        await asyncio.sleep(event["sleep"])
        return "done"

    assert lambda_handler({"sleep": 0}, context_ending_in(30)) == "done"
    with pytest.raises(DeadlineExceededError):
        lambda_handler({"sleep": 30}, context_ending_in(0.3))
    assert lambda_handler({"sleep": 0.01}, context_ending_in(30)) == "done"
    assert lambda_handler({"sleep": 0}, None) == "done"  # no context: nothing to enforce


def test_the_handlers_own_errors_and_timeouts_pass_through() -> None:
    @handler(deadline_margin=0.1)
    async def lambda_handler(event: dict[str, str], context: Any) -> None:
        await asyncio.sleep(0)
        if event["raise"] == "timeout":
            raise TimeoutError("the handler's own")
        if event["raise"] == "cancel":
            raise asyncio.CancelledError
        raise KeyError("mine")

    with pytest.raises(TimeoutError, match="the handler's own") as info:
        lambda_handler({"raise": "timeout"}, context_ending_in(30))
    assert not isinstance(info.value, DeadlineExceededError)
    with pytest.raises(KeyError, match="mine"):
        lambda_handler({"raise": "key"}, context_ending_in(30))
    with pytest.raises(asyncio.CancelledError):
        lambda_handler({"raise": "cancel"}, context_ending_in(30))


def test_a_handler_that_handles_its_cancellation_keeps_its_result() -> None:
    @handler(deadline_margin=0.2)
    async def lambda_handler(event: Any, context: Any) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "partial"
        return "full"

    assert lambda_handler({}, context_ending_in(0.4)) == "partial"


def test_methods_and_guarded_handlers_take_the_option() -> None:
    class Service:
        @handler(deadline_margin=0.1, guard="raise")
        async def handle(self, event: Any, context: Any) -> str:
            await asyncio.sleep(30)
            return "never"

        @handler(deadline_margin=0.1)
        def sync(self, event: Any, context: Any) -> float:
            request.check_deadline()
            return request.remaining()

    with pytest.raises(DeadlineExceededError):
        Service().handle({}, context_ending_in(0.3))
    assert Service().sync({}, context_ending_in(30)) > 20


@pytest.mark.parametrize(
    ("margin", "error", "says"),
    [
        ("2", TypeError, "number of seconds or a timedelta"),
        (True, TypeError, "number of seconds"),
        (-1, ValueError, "finite number of seconds >= 0"),
        (float("nan"), ValueError, ">= 0"),
        (float("inf"), ValueError, ">= 0"),
        (timedelta(seconds=-1), ValueError, ">= 0"),
    ],
)
def test_a_bad_margin_is_refused_at_decoration_time(
    margin: Any, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says) as info:
        handler(deadline_margin=margin)
    assert "deadline_margin" in str(info.value)


def test_a_zero_margin_is_the_deadline_itself() -> None:
    @handler(deadline_margin=0)
    async def lambda_handler(event: Any, context: Any) -> None:
        await asyncio.sleep(30)

    with pytest.raises(DeadlineExceededError):
        lambda_handler({}, context_ending_in(0.2))


def test_a_context_whose_remaining_time_is_not_a_number_gives_no_deadline() -> None:
    odd = SimpleNamespace(get_remaining_time_in_millis=lambda: "soon")

    @handler(deadline_margin=1)
    def lambda_handler(event: Any, context: Any) -> Any:
        request.check_deadline()
        return request.deadline

    assert lambda_handler({}, odd) is None


def test_a_thread_that_outlives_its_invocation_cannot_check_its_deadline() -> None:
    import contextvars

    go = threading.Event()
    errors: list[BaseException] = []
    threads: list[threading.Thread] = []

    def later() -> None:
        go.wait(10)
        try:
            request.check_deadline()
        except OutsideInvocationError as exc:
            errors.append(exc)

    @handler(deadline_margin=1)
    def lambda_handler(event: Any, context: Any) -> None:
        thread = threading.Thread(target=contextvars.copy_context().run, args=(later,))
        thread.start()
        threads.append(thread)

    lambda_handler({}, context_ending_in(30))
    go.set()
    threads[0].join(10)
    assert len(errors) == 1
    assert "has already ended" in str(errors[0])
