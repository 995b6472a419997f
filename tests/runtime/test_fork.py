"""A forked process is a new environment: fresh resources, fresh counters, no inherited locks."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from typing import Any

import pytest

import lambdascope
from lambdascope import handler, init_resource, request

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # Python 3.12+ warns about fork() in a multi-threaded process; these tests fork on purpose.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

closed: list[int] = []
created: list[int] = []


@init_resource(close=lambda value: closed.append(value["pid"]))
def connection() -> dict[str, int]:
    created.append(os.getpid())
    return {"pid": os.getpid()}


@handler(guard="off")
def lambda_handler(event: object, context: object) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "owner": connection()["pid"],
        "invocation": request.invocation,
        "cold_start": request.cold_start,
    }


def run_in_child(func: Any, timeout: float = 20.0) -> Any:
    """Fork; run *func* in the child; return what it printed as JSON (or fail on a hang)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe, then exits
        code = 0
        try:
            os.write(write, json.dumps(func()).encode())
        except BaseException as exc:
            os.write(write, json.dumps({"error": repr(exc)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    deadline = time.monotonic() + timeout
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung (deadlock?)")
        time.sleep(0.01)
    with os.fdopen(read) as pipe:
        return json.loads(pipe.read())


def test_a_forked_child_recreates_resources_and_counts_its_own_invocations() -> None:
    closed.clear()
    created.clear()
    for _ in range(3):
        parent_view = lambda_handler({})
    assert parent_view["invocation"] == 3
    parent = os.getpid()

    child = run_in_child(
        lambda: {
            "initialized_after_fork": connection.initialized,
            "first": lambda_handler({}),
            "second": lambda_handler({}),
            "closed": closed,
        }
    )
    assert child["initialized_after_fork"] is False
    assert child["first"]["pid"] != parent
    assert child["first"]["owner"] == child["first"]["pid"]  # created in the child
    assert child["first"]["invocation"] == 1
    assert child["first"]["cold_start"] is True
    assert child["second"]["invocation"] == 2
    assert child["second"]["cold_start"] is False
    assert child["closed"] == []  # the parent's connection was dropped, not closed
    # the parent is untouched
    assert connection()["pid"] == parent
    assert created == [parent]
    assert lambda_handler({})["invocation"] == 4


def test_a_lock_held_at_fork_time_does_not_deadlock_the_child() -> None:
    entered = threading.Event()
    release = threading.Event()
    parent = os.getpid()

    @init_resource
    def slow() -> int:
        if os.getpid() == parent:  # the parent's creator holds the lock until released
            entered.set()
            release.wait(10)
        return os.getpid()  # the child, with an Event nobody sets there, does not wait

    creator = threading.Thread(target=slow)
    creator.start()
    entered.wait(10)  # another thread is inside the factory and holds the lock
    try:
        child = run_in_child(lambda: {"value": slow(), "pid": os.getpid()})
    finally:
        release.set()
        creator.join()
    assert child["value"] == child["pid"]
    assert slow() == os.getpid()


def test_an_async_handler_gets_its_own_event_loop_in_the_child() -> None:
    import asyncio

    @handler(guard="off")
    async def async_handler(event: object, context: object) -> int:
        await asyncio.sleep(0)
        return id(asyncio.get_running_loop())

    parent_loop = async_handler({})
    child = run_in_child(lambda: {"loop": async_handler({}), "again": async_handler({})})
    assert child["loop"] == child["again"]
    assert async_handler({}) == parent_loop


def _worker(_: int) -> tuple[int, int, int]:
    return os.getpid(), connection()["pid"], lambda_handler({})["invocation"]


def test_multiprocessing_fork_workers_each_create_their_own_resources() -> None:
    connection()
    lambda_handler({})
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map(_worker, range(8), chunksize=1)
    for pid, owner, _ in results:
        assert owner == pid != os.getpid()
    per_worker: dict[int, list[int]] = {}
    for pid, _, invocation in results:
        per_worker.setdefault(pid, []).append(invocation)
    for invocations in per_worker.values():
        assert invocations == list(range(1, len(invocations) + 1))


def test_prewarm_creates_the_given_resources_and_names_a_failing_one() -> None:
    import sys

    made: list[str] = []
    first = init_resource(lambda: made.append("first") or "first")
    second = init_resource(lambda: made.append("second") or "second")
    lambdascope.prewarm(second)
    assert made == ["second"]
    assert not first.initialized

    def broken() -> None:
        raise ConnectionRefusedError("db down")

    bad = init_resource(broken)
    with pytest.raises(ConnectionRefusedError) as info:
        lambdascope.prewarm(first, bad)
    assert made == ["second", "first"]
    if sys.version_info >= (3, 11):
        assert any(bad.name in note and "during Init" in note for note in info.value.__notes__)
    with pytest.raises(TypeError, match="prewarm\\(\\) takes init resources"):
        lambdascope.prewarm(lambda: 1)  # type: ignore[arg-type]


def test_prewarm_without_arguments_creates_every_resource_in_definition_order() -> None:
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import lambdascope
        made = []
        a = lambdascope.init_resource(lambda: made.append("a"))
        b = lambdascope.init_resource(lambda: made.append("b"))
        lambdascope.prewarm()
        print(made, a.initialized, b.initialized)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['a', 'b'] True True"
