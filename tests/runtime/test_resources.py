from __future__ import annotations

import datetime
import functools
import logging
import sys
import threading
import time
import traceback
import warnings
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import InitResource, handler, init_resource

if TYPE_CHECKING:
    from collections.abc import Callable


def test_factory_runs_lazily_once_and_value_is_cached() -> None:
    calls = []

    @init_resource
    def client() -> object:
        calls.append(1)
        return object()

    assert calls == []
    assert not client.initialized
    first = client()
    assert client() is first
    assert client() is first
    assert calls == [1]
    assert client.initialized
    assert client.creations == 1
    assert client.last_duration is not None
    assert client.last_duration >= 0


def test_metadata_of_the_factory_is_kept() -> None:
    def make_client() -> int:
        """Build the client."""
        return 1

    resource = init_resource(make_client)
    assert isinstance(resource, InitResource)
    assert resource.__name__ == "make_client"
    assert resource.__doc__ == "Build the client."
    assert resource.__wrapped__ is make_client
    assert resource.name == f"{__name__}.test_metadata_of_the_factory_is_kept.<locals>.make_client"
    assert "not initialized" in repr(resource)
    resource()
    assert repr(resource).startswith("<lambdascope.InitResource ")
    assert "(initialized)" in repr(resource)


def in_threads(count: int, target: Callable[[], object]) -> list[object]:
    """Call *target* from *count* threads released together; return what each got."""
    barrier = threading.Barrier(count)
    results: list[object] = []

    def call() -> None:
        barrier.wait()
        results.append(target())

    threads = [threading.Thread(target=call) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _race_first_call(threads_n: int) -> tuple[int, list[object]]:
    calls = []
    lock = threading.Lock()

    def slow_factory() -> object:
        with lock:
            calls.append(1)
        time.sleep(0.005)
        return object()

    resource = init_resource(slow_factory)
    seen = in_threads(threads_n, resource)
    return len(calls), seen


def test_concurrent_first_calls_run_the_factory_once() -> None:
    for _ in range(20):
        calls, seen = _race_first_call(16)
        assert calls == 1
        assert len(seen) == 16
        assert all(v is seen[0] for v in seen)


def test_a_failing_factory_caches_nothing_and_keeps_its_traceback() -> None:
    attempts = []

    @init_resource
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("endpoint unreachable")
        return "connected"

    with pytest.raises(ConnectionError, match="endpoint unreachable") as info:
        flaky()
    frames = [frame.f_code.co_name for frame, _ in traceback.walk_tb(info.value.__traceback__)]
    assert frames[-1] == "flaky"
    assert not flaky.initialized
    assert flaky() == "connected"
    assert flaky() == "connected"
    assert len(attempts) == 2
    errors = [r for r in lambdascope.resource_records() if r.name == flaky.name]
    assert [r.error is None for r in errors] == [False, True]
    assert "endpoint unreachable" in str(errors[0].error)


def test_reset_drops_the_value_and_closes_it() -> None:
    closed: list[object] = []

    @init_resource(close=closed.append)
    def conn() -> object:
        return object()

    conn.reset()  # nothing cached yet: no close
    assert closed == []
    first = conn()
    conn.reset()
    assert closed == [first]
    assert not conn.initialized
    second = conn()
    assert second is not first


def test_reset_propagates_close_errors_but_drops_the_value() -> None:
    def bad_close(value: object) -> None:
        raise OSError("socket already closed")

    @init_resource(close=bad_close)
    def conn() -> object:
        return object()

    conn()
    with pytest.raises(OSError, match="already closed"):
        conn.reset()
    assert not conn.initialized


def test_ttl_recreates_the_value_after_it_expires() -> None:
    closed: list[int] = []
    counter = iter(range(100))

    @init_resource(ttl=0.3, close=closed.append)  # room for the calls on a loaded machine
    def token() -> int:
        return next(counter)

    assert token() == 0
    assert token() == 0
    time.sleep(0.4)
    assert token() == 1
    assert closed == [0]
    assert token() == 1


def test_ttl_accepts_a_timedelta() -> None:
    resource = init_resource(lambda: 1, ttl=datetime.timedelta(minutes=5))
    assert resource() == 1
    assert resource._ttl == 300.0


def test_validate_recreates_an_unhealthy_value() -> None:
    healthy = {"ok": True}
    counter = iter(range(100))
    closed: list[int] = []

    @init_resource(validate=lambda value: healthy["ok"], close=closed.append)
    def conn() -> int:
        return next(counter)

    assert conn() == 0
    assert conn() == 0
    healthy["ok"] = False
    assert conn() == 1  # validated false -> closed and re-created
    assert closed == [0]
    healthy["ok"] = True
    assert conn() == 1


def test_a_validate_that_raises_counts_as_unhealthy() -> None:
    counter = iter(range(100))
    state = {"raise": False}

    def ping(value: int) -> bool:
        if state["raise"]:
            raise TimeoutError("ping timed out")
        return True

    @init_resource(validate=ping)
    def conn() -> int:
        return next(counter)

    assert conn() == 0
    state["raise"] = True
    assert conn() == 1


def test_close_errors_on_expiry_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def bad_close(value: object) -> None:
        raise OSError("close failed")

    counter = iter(range(100))

    @init_resource(validate=lambda v: v != 0, close=bad_close)
    def conn() -> int:
        return next(counter)

    with caplog.at_level(logging.ERROR, logger="lambdascope"):
        assert conn() == 0
        assert conn() == 1  # 0 is unhealthy: closed (close fails, logged) and re-created
        assert conn() == 1
    assert "closing init resource" in caplog.text
    assert "close failed" in caplog.text


def test_eager_creates_the_value_during_init() -> None:
    calls = []

    @init_resource(eager=True)
    def config() -> dict[str, str]:
        calls.append(1)
        return {"table": "orders"}

    assert calls == [1]
    assert config.initialized
    assert config() == {"table": "orders"}
    assert calls == [1]
    record = [r for r in lambdascope.resource_records() if r.name == config.name][-1]
    assert record.phase == "init"
    assert record.invocation == 0


def test_eager_failure_raises_at_decoration_and_names_the_resource() -> None:
    def broken() -> None:
        raise KeyError("CONFIG_URL")

    with pytest.raises(KeyError) as info:
        init_resource(broken, eager=True)
    if sys.version_info >= (3, 11):
        assert any("broken" in note for note in info.value.__notes__)


def test_a_factory_that_calls_itself_is_reported() -> None:
    @init_resource
    def recursive() -> object:
        return recursive()

    with pytest.raises(RuntimeError, match="called from its own factory"):
        recursive()


def test_resources_created_in_an_invocation_are_recorded_with_their_phase() -> None:
    @init_resource
    def lazy() -> str:
        return "x"

    @handler
    def lambda_handler(event: object, context: object) -> str:
        return lazy()

    assert lambda_handler({}, None) == "x"
    record = [r for r in lambdascope.resource_records() if r.name == lazy.name][-1]
    assert record.phase == "invoke"
    assert record.invocation == 1
    assert record.error is None
    assert record.as_dict()["name"] == lazy.name
    assert "phase=invoke" in repr(record)
    assert "ok" in repr(record)


def test_records_are_bounded() -> None:
    resource = init_resource(lambda: 1)
    for _ in range(300):
        resource()
        resource.reset()
    assert len(lambdascope.resource_records()) <= 256


def test_reset_resources_closes_in_reverse_creation_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []

    def close_failing(value: str) -> None:
        closed.append(value)
        raise RuntimeError("boom")

    first = init_resource(lambda: "first", close=closed.append)
    second = init_resource(lambda: "second", close=close_failing)
    third = init_resource(lambda: "third", close=closed.append)
    never = init_resource(lambda: "never", close=closed.append)
    first()
    second()
    third()
    with caplog.at_level(logging.ERROR, logger="lambdascope"):
        lambdascope.reset_resources()
    assert closed == ["third", "second", "first"]
    assert "boom" in caplog.text
    assert not any(r.initialized for r in (first, second, third, never))


def test_functional_form_and_class_and_partial_factories() -> None:
    class Client:
        def __init__(self, region: str = "eu-west-1") -> None:
            self.region = region

    assert init_resource(Client)().region == "eu-west-1"
    assert init_resource(functools.partial(Client, "us-east-1"))().region == "us-east-1"
    assert init_resource(dict)() == {}


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (42, "must decorate a function or other callable, got 42"),
        ("s3", "Options are keyword-only"),
        (lambda region: region, "requires 1"),
        (lambda *, region: region, "requires 1"),
    ],
)
def test_bad_factories_are_rejected_at_decoration(factory: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        init_resource(factory)  # type: ignore[call-overload]


def test_a_class_needing_arguments_is_rejected() -> None:
    class Needs:
        def __init__(self, dsn: str) -> None:
            self.dsn = dsn

    with pytest.raises(TypeError, match="takes no arguments"):
        init_resource(Needs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"ttl": -1}, ValueError, "positive, finite"),
        ({"ttl": 0}, ValueError, "positive, finite"),
        ({"ttl": float("nan")}, ValueError, "positive, finite"),
        ({"ttl": float("inf")}, ValueError, "leave ttl out"),
        ({"ttl": 10**400}, ValueError, "positive, finite number of seconds, got a 401-digit"),
        ({"ttl": -(10**400)}, ValueError, "positive, finite"),
        ({"ttl": True}, TypeError, "number of seconds"),
        ({"ttl": "60"}, TypeError, "number of seconds"),
        ({"validate": 3}, TypeError, "validate=..."),
        ({"close": "close"}, TypeError, "close=..."),
        ({"eager": "yes"}, TypeError, "True or False"),
        ({"tll": 60}, TypeError, r"unknown option\(s\): tll\. Valid options are: ttl"),
    ],
)
def test_bad_options_are_rejected_at_decoration(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        init_resource(**options)  # type: ignore[call-overload]


# -- refreshes under concurrency ---------------------------------------------------------------


class Connection:
    healthy = True


def test_a_refresh_runs_once_and_never_closes_the_value_it_returns() -> None:
    shared = Connection()  # e.g. a pool that reconnects in place and hands back itself
    runs: list[int] = []
    closed: list[object] = []

    @init_resource(validate=lambda c: c.healthy, close=closed.append)
    def connection() -> Connection:
        runs.append(1)
        time.sleep(0.01)  # reconnecting takes a while: the other callers pile up meanwhile
        shared.healthy = True
        return shared

    assert connection() is shared
    shared.healthy = False
    results = in_threads(16, connection)
    assert len(runs) == 2  # the first creation and one refresh, not one per caller
    assert closed == []  # the object being returned is never closed
    assert all(r is shared for r in results)


def test_a_refresh_to_a_new_value_closes_the_old_one_once() -> None:
    runs: list[int] = []
    closed: list[object] = []

    @init_resource(validate=lambda c: c.healthy, close=closed.append)
    def connection() -> Connection:
        runs.append(1)
        time.sleep(0.01)
        return Connection()

    first = connection()
    first.healthy = False
    results = in_threads(16, connection)
    assert len(runs) == 2
    assert closed == [first]
    assert len({id(r) for r in results}) == 1
    assert results[0] is not first


def test_a_failed_refresh_drops_and_closes_the_stale_value() -> None:
    closed: list[object] = []
    fail = {"now": False}

    @init_resource(validate=lambda c: c.healthy, close=closed.append)
    def connection() -> Connection:
        if fail["now"]:
            raise ConnectionError("database unreachable")
        return Connection()

    first = connection()
    first.healthy = False
    fail["now"] = True
    with pytest.raises(ConnectionError):
        connection()
    assert closed == [first]
    assert not connection.initialized  # nothing stale is kept
    fail["now"] = False
    assert connection() is not first


# -- dependency cycles -------------------------------------------------------------------------


def test_a_dependency_cycle_across_threads_raises_instead_of_deadlocking() -> None:
    a_started, b_started = threading.Event(), threading.Event()

    @init_resource
    def a() -> tuple[str, object]:
        a_started.set()
        b_started.wait(5)  # both factories are running before either needs the other
        return ("a", b())

    @init_resource
    def b() -> tuple[str, object]:
        b_started.set()
        a_started.wait(5)
        return ("b", a())

    errors: dict[str, str] = {}

    def first_use(name: str, resource: InitResource[object]) -> None:
        try:
            resource()
        except RuntimeError as exc:
            errors[name] = str(exc)

    threads = [
        threading.Thread(target=first_use, args=("a", a), daemon=True),
        threading.Thread(target=first_use, args=("b", b), daemon=True),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads), "deadlocked"
    assert set(errors) == {"a", "b"}  # both first uses fail, with the cycle named
    assert all("depend on each other in a cycle" in e for e in errors.values())
    assert any("its creation runs in another thread" in e for e in errors.values())
    assert not a.initialized
    assert not b.initialized


def test_a_dependency_cycle_in_one_thread_names_the_whole_cycle() -> None:
    @init_resource
    def a() -> object:
        return b()

    @init_resource
    def b() -> object:
        return a()

    with pytest.raises(RuntimeError, match=r"cycle: .*\.a -> .*\.b -> .*\.a\."):
        a()


# -- async factories ---------------------------------------------------------------------------


async def make_client() -> str:
    return "client"


class AsyncFactory:
    async def __call__(self) -> str:
        return "client"


@pytest.mark.parametrize(
    "factory",
    [make_client, functools.partial(make_client), AsyncFactory()],
    ids=["async def", "partial", "async __call__"],
)
def test_async_factories_are_rejected_at_decoration(factory: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="returns a coroutine, which can be awaited only once"):
        init_resource(factory)
    with pytest.raises(TypeError, match="plain def factory"):
        init_resource(ttl=60)(factory)


def test_a_factory_returning_a_coroutine_fails_on_first_use_and_caches_nothing() -> None:
    @init_resource
    def client() -> object:
        return make_client()  # a sync factory that hands back the coroutine

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the coroutine is closed: no "never awaited" warning
        with pytest.raises(TypeError, match=r"cannot cache .*client: it returns a coroutine"):
            client()
    assert not client.initialized


def test_an_async_handler_reuses_a_sync_factory_value_on_every_invocation() -> None:
    class AsyncClient:  # built without awaiting, connects on first use
        async def fetch(self) -> str:
            return "data"

    @init_resource
    def client() -> AsyncClient:
        return AsyncClient()

    @handler
    async def lambda_handler(event: object, context: object) -> tuple[str, int]:
        return await client().fetch(), id(client())

    results = [lambda_handler({}, None) for _ in range(3)]
    assert results[0][0] == "data"
    assert len(set(results)) == 1
