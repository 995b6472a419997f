from __future__ import annotations

import asyncio
import contextvars
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lambdascope
import lambdascope.testing
from lambdascope import OutsideInvocationError, handler, request


def test_reading_outside_an_invocation_explains_why() -> None:
    with pytest.raises(OutsideInvocationError) as info:
        request.user
    message = str(info.value)
    assert "lambdascope.request.user" in message
    assert "no Lambda invocation is running" in message
    assert "@handler" in message
    assert "@init_resource" in message
    for name in ("event", "context", "request_id", "cold_start", "invocation"):
        with pytest.raises(OutsideInvocationError, match=f"request.{name} "):
            getattr(request, name)
    with pytest.raises(OutsideInvocationError):
        request.get("user")
    with pytest.raises(OutsideInvocationError):
        request.user = "alice"
    assert not lambdascope.in_invocation()
    assert repr(request) == "<lambdascope.request: no invocation running>"


def test_private_names_never_resolve_so_tools_can_probe_it() -> None:
    assert not hasattr(request, "__wrapped__")
    assert not hasattr(request, "_private")


def test_builtin_fields_and_attributes_during_an_invocation() -> None:
    context = SimpleNamespace(aws_request_id="req-1")
    seen: dict[str, Any] = {}

    @handler
    def lambda_handler(event: dict[str, str], context: Any) -> str:
        seen["event"] = request.event
        seen["context"] = request.context
        seen["request_id"] = request.request_id
        seen["in"] = lambdascope.in_invocation()
        assert request.get("user") is None
        assert request.get("user", "nobody") == "nobody"
        assert "user" not in request
        assert list(request) == []
        assert request.as_dict() == {}
        request.user = event["user"]
        request.items = [1]
        request.items.append(2)
        assert "user" in request
        assert sorted(request) == ["items", "user"]
        assert request.as_dict() == {"user": "alice", "items": [1, 2]}
        seen["repr"] = repr(request)
        del request.items
        assert request.get("items") is None
        return str(request.user)

    event = {"user": "alice"}
    assert lambda_handler(event, context) == "alice"
    assert seen["event"] is event
    assert seen["context"] is context
    assert seen["request_id"] == "req-1"
    assert seen["in"] is True
    assert "invocation=1" in seen["repr"]
    assert "attributes=['items', 'user']" in seen["repr"]


def test_request_id_is_none_without_a_context() -> None:
    @handler
    def lambda_handler(event: object, context: object) -> object:
        return request.request_id

    assert lambda_handler({}) is None


def test_missing_attribute_and_bad_names() -> None:
    @handler
    def lambda_handler(event: object, context: object) -> None:
        with pytest.raises(AttributeError, match=r"request.get\('user', default\)"):
            request.user
        with pytest.raises(AttributeError, match="read-only"):
            request.event = {}
        with pytest.raises(AttributeError, match="read-only"):
            request.cold_start = False
        with pytest.raises(AttributeError, match="underscore"):
            request._secret = 1
        with pytest.raises(AttributeError, match="no attribute 'user' to delete"):
            del request.user
        with pytest.raises(AttributeError, match="read-only"):
            del request.invocation

    lambda_handler({})


def test_nothing_survives_an_invocation_even_when_it_raises() -> None:
    @handler
    def lambda_handler(event: dict[str, Any], context: object) -> object:
        before = request.as_dict()
        request.user = event["user"]
        if event.get("fail"):
            raise ValueError("bad event")
        return before

    with pytest.raises(ValueError, match="bad event"):
        lambda_handler({"user": "mallory", "fail": True})
    assert lambda_handler({"user": "bob"}) == {}
    assert lambda_handler({"user": "carol"}) == {}
    with pytest.raises(OutsideInvocationError):
        request.user


def test_threads_with_a_copied_context_share_the_scope_plain_threads_do_not() -> None:
    results: dict[str, Any] = {}

    @handler
    def lambda_handler(event: object, context: object) -> None:
        request.user = "alice"

        def read(key: str) -> None:
            try:
                results[key] = request.user
            except OutsideInvocationError as exc:
                results[key] = exc

        ctx = contextvars.copy_context()
        copied = threading.Thread(target=ctx.run, args=(read, "copied"))
        plain = threading.Thread(target=read, args=("plain",))
        copied.start()
        plain.start()
        copied.join()
        plain.join()

    lambda_handler({})
    assert results["copied"] == "alice"
    assert isinstance(results["plain"], OutsideInvocationError)


def test_a_thread_that_outlives_its_invocation_sees_an_ended_scope() -> None:
    release = threading.Event()
    outcome: dict[str, Any] = {}

    @handler
    def lambda_handler(event: object, context: object) -> None:
        request.user = "alice"

        def late() -> None:
            release.wait(5)
            try:
                outcome["user"] = request.user
            except OutsideInvocationError as exc:
                outcome["error"] = exc

        ctx = contextvars.copy_context()
        outcome["thread"] = threading.Thread(target=ctx.run, args=(late,))
        outcome["thread"].start()

    lambda_handler({})
    release.set()
    outcome["thread"].join(5)
    assert "user" not in outcome
    assert "has already ended" in str(outcome["error"])


def test_asyncio_tasks_see_their_invocation_and_nothing_after_it() -> None:
    leftovers: list[asyncio.Task[Any]] = []

    async def worker(n: int) -> tuple[int, str]:
        await asyncio.sleep(0)
        return n, request.user

    async def late() -> str:
        await asyncio.sleep(0.01)
        try:
            return str(request.user)
        except OutsideInvocationError:
            return "ended"

    @handler
    async def lambda_handler(event: dict[str, str], context: object) -> list[tuple[int, str]]:
        request.user = event["user"]
        leftovers.append(asyncio.create_task(late()))
        return list(await asyncio.gather(*(worker(n) for n in range(5))))

    assert lambda_handler({"user": "alice"}) == [(n, "alice") for n in range(5)]
    assert lambda_handler({"user": "bob"}) == [(n, "bob") for n in range(5)]

    @handler
    async def drain(event: object, context: object) -> list[str]:
        return list(await asyncio.gather(*leftovers))

    assert drain({}) == ["ended", "ended"]


attribute_names = st.sampled_from(["user", "tenant", "items", "trace", "flag", "n"])
invocations = st.lists(
    st.tuples(
        st.dictionaries(attribute_names, st.integers() | st.text(max_size=5), max_size=4),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(invocations)
def test_random_invocations_never_see_each_others_data(
    plan: list[tuple[dict[str, object], bool]],
) -> None:
    lambdascope.testing.new_environment()

    class Boom(Exception):
        pass

    @handler
    def lambda_handler(event: dict[str, Any], context: object) -> dict[str, object]:
        seen = request.as_dict()
        for name, value in event["attrs"].items():
            setattr(request, name, value)
        assert request.as_dict() == event["attrs"]
        if event["fail"]:
            raise Boom
        return {"seen": seen, "invocation": request.invocation}

    for number, (attrs, fail) in enumerate(plan, start=1):
        event = {"attrs": attrs, "fail": fail}
        if fail:
            with pytest.raises(Boom):
                lambda_handler(event)
        else:
            assert lambda_handler(event) == {"seen": {}, "invocation": number}
        assert not lambdascope.in_invocation()


# -- the handler's own ContextVars are request-scoped too ------------------------------------

current_user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")


@pytest.mark.parametrize("guard", ["raise", "off"])
def test_a_contextvar_the_handler_sets_does_not_reach_the_next_request(guard: str) -> None:
    @handler(guard=guard)
    def lambda_handler(event: dict[str, str], context: object) -> str:
        if "user" in event:
            current_user.set(event["user"])  # never reset: the runtime would keep it
        return current_user.get()

    assert lambda_handler({"user": "alice"}) == "alice"
    assert lambda_handler({}) == "anonymous"
    assert current_user.get() == "anonymous"


def test_what_the_caller_set_before_the_invocation_is_seen() -> None:
    @handler
    def lambda_handler(event: object, context: object) -> str:
        return current_user.get()

    token = current_user.set("set at init")
    try:
        assert lambda_handler({}) == "set at init"
    finally:
        current_user.reset(token)


def test_an_async_handlers_contextvars_are_request_scoped() -> None:
    @handler
    async def lambda_handler(event: dict[str, str], context: object) -> str:
        if "user" in event:
            current_user.set(event["user"])
        await asyncio.sleep(0)
        return current_user.get()

    assert lambda_handler({"user": "alice"}) == "alice"
    assert lambda_handler({}) == "anonymous"


def test_a_handler_exception_keeps_its_traceback_through_the_copied_context() -> None:
    @handler
    def lambda_handler(event: object, context: object) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError) as raised:
        lambda_handler({})
    frames = [entry.name for entry in raised.traceback]
    assert frames[-1] == "lambda_handler"
