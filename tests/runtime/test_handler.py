from __future__ import annotations

import asyncio
import functools
import sys
import traceback
from types import SimpleNamespace
from typing import Any

import pytest

import lambdascope
from lambdascope import handler, request
from lambdascope.testing import new_environment


def test_bare_and_called_forms_count_invocations_and_the_cold_start() -> None:
    @handler
    def bare(event: object, context: object) -> tuple[int, bool]:
        return request.invocation, request.cold_start

    @handler()
    def called(event: object, context: object) -> tuple[int, bool]:
        return request.invocation, request.cold_start

    assert bare({}, None) == (1, True)
    assert bare({}, None) == (2, False)
    # invocations are counted per process (one environment runs one handler)
    assert called({}, None) == (3, False)


@pytest.mark.parametrize(
    ("init_type", "cold"),
    [
        ("on-demand", True),
        ("provisioned-concurrency", False),
        ("snap-start", False),
        ("lambda-managed-instances", False),
    ],
)
def test_initialization_type_decides_whether_the_first_invocation_is_cold(
    monkeypatch: pytest.MonkeyPatch, init_type: str, cold: bool
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", init_type)
    new_environment()  # a new environment initialised with that type
    assert lambdascope.initialization_type() == init_type

    @handler
    def lambda_handler(event: object, context: object) -> bool:
        return request.cold_start

    assert lambda_handler({}) is cold
    assert lambda_handler({}) is False


def test_initialization_type_defaults_to_on_demand_off_lambda() -> None:
    assert lambdascope.initialization_type() == "on-demand"


def test_context_is_passed_through_and_may_be_omitted() -> None:
    context = SimpleNamespace(aws_request_id="abc")

    @handler
    def lambda_handler(event: object, context: object) -> object:
        return context

    assert lambda_handler({}, context) is context
    assert lambda_handler({}) is None
    assert lambda_handler(event={}, context=context) is context


def test_user_exceptions_propagate_unchanged_with_their_traceback() -> None:
    error = LookupError("no such order")

    @handler
    def lambda_handler(event: object, context: object) -> None:
        raise error

    with pytest.raises(LookupError) as info:
        lambda_handler({})
    assert info.value is error
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    names = [frame.f_code.co_name for frame, _ in traceback.walk_tb(info.value.__traceback__)]
    assert names[-1] == "lambda_handler"


def test_metadata_is_kept() -> None:
    def lambda_handler(event: object, context: object) -> None:
        """Process the order."""

    wrapped = handler(lambda_handler)
    assert wrapped.__name__ == "lambda_handler"
    assert wrapped.__doc__ == "Process the order."
    assert wrapped.__wrapped__ is lambda_handler  # type: ignore[attr-defined]


def test_async_handlers_run_on_one_loop_for_the_whole_environment() -> None:
    loops = []

    @handler
    async def lambda_handler(event: dict[str, int], context: object) -> int:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return event["n"] * 2 + request.invocation

    assert lambda_handler({"n": 1}) == 3
    assert lambda_handler({"n": 2}) == 6
    assert loops[0] is loops[1]
    assert not loops[0].is_closed()


def test_async_handler_errors_propagate() -> None:
    @handler
    async def lambda_handler(event: object, context: object) -> None:
        await asyncio.sleep(0)
        raise PermissionError("denied")

    with pytest.raises(PermissionError, match="denied"):
        lambda_handler({})
    with pytest.raises(lambdascope.OutsideInvocationError):
        request.event


def test_async_handler_called_inside_a_running_loop_says_what_to_do() -> None:
    @handler
    async def lambda_handler(event: object, context: object) -> int:
        return 1

    async def main() -> None:
        with pytest.raises(RuntimeError, match="inside a running event loop"):
            lambda_handler({})

    asyncio.run(main())


def test_methods_static_methods_class_methods_and_callable_instances() -> None:
    class Service:
        prefix = "svc"

        def __init__(self) -> None:
            self.calls = 0

        @handler
        def handle(self, event: dict[str, str], context: object) -> str:
            self.calls += 1
            return f"{event['name']}#{request.invocation}"

        @handler
        async def handle_async(self, event: dict[str, str], context: object) -> str:
            await asyncio.sleep(0)
            return f"async {event['name']}#{request.invocation}"

        @staticmethod
        @handler
        def static(event: object, context: object) -> int:
            return request.invocation

        @handler
        @staticmethod
        def static_outer(event: object, context: object) -> int:
            return request.invocation

        @handler
        @classmethod
        def klass(cls, event: object, context: object) -> str:
            return f"{cls.prefix}#{request.invocation}"

    service = Service()
    assert service.handle({"name": "a"}, None) == "a#1"
    assert service.calls == 1
    assert service.handle_async({"name": "b"}) == "async b#2"
    assert Service.static({}, None) == 3
    assert service.static({}, None) == 4
    assert Service.static_outer({}, None) == 5
    assert Service.klass({}, None) == "svc#6"

    class Callable:
        def __call__(self, event: object, context: object) -> int:
            return request.invocation

    class AsyncCallable:
        async def __call__(self, event: object, context: object) -> int:
            return request.invocation * 10

    assert handler(Callable())({}) == 7
    assert handler(AsyncCallable())({}) == 80
    assert handler(service.handle.__wrapped__.__get__(service))({"name": "c"}) == "c#9"  # type: ignore[attr-defined]


def test_partial_of_an_async_function_is_run_to_completion() -> None:
    async def respond(prefix: str, event: object, context: object) -> str:
        return f"{prefix}{request.invocation}"

    wrapped = handler(functools.partial(respond, "n="))
    assert wrapped({}) == "n=1"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (42, "must decorate a function or other callable, got 42"),
        ("lambda_handler", "must decorate a function or other callable"),
        (lambda event: event, "accepts \\(event, context\\)"),
        (lambda: None, "accepts \\(event, context\\)"),
        (lambda a, b, c: None, "accepts \\(event, context\\)"),
        (lambda event, context, *, region: None, "accepts \\(event, context\\)"),
    ],
)
def test_bad_handlers_are_rejected_at_decoration(target: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        handler(target)


def test_variadic_handlers_are_accepted() -> None:
    @handler
    def lambda_handler(*args: object) -> int:
        return len(args)

    assert lambda_handler({}, None) == 2


def test_decorating_twice_is_an_error() -> None:
    @handler
    def lambda_handler(event: object, context: object) -> None:
        pass

    with pytest.raises(TypeError, match="already decorated with @handler"):
        handler(lambda_handler)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.markcoroutinefunction is 3.12+")
def test_marked_coroutine_functions_are_treated_as_async() -> None:
    import inspect

    async def impl(event: object, context: object) -> str:
        return "done"

    def entry(event: object, context: object) -> Any:
        return impl(event, context)

    inspect.markcoroutinefunction(entry)
    assert handler(entry)({}) == "done"
