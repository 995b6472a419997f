"""configure() limits, the cold-start report, and SnapStart snapshot/restore hooks."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest

import lambdascope
from lambdascope import handler, init_resource, request
from lambdascope.testing import new_environment


def reports(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [r for r in lines if r.get("message") == "lambdascope cold start report"]


@handler(guard="off")
def describe(event: object, context: object) -> dict[str, Any]:
    return {
        "n": request.invocation,
        "cold": request.cold_start,
        "recycled": request.recycled,
    }


def test_max_invocations_recycles_resources_at_the_first_invocation_past_the_limit() -> None:
    closed: list[int] = []
    counter = iter(range(100))

    @init_resource(close=closed.append)
    def client() -> int:
        return next(counter)

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> tuple[int, bool, bool]:
        return client(), request.recycled, request.cold_start

    lambdascope.configure(max_invocations=3, cold_start_report=False)
    results = [lambda_handler({}) for _ in range(7)]
    assert results == [
        (0, False, True),
        (0, False, False),
        (0, False, False),
        (1, True, False),  # the 4th invocation re-created the client, once
        (1, False, False),
        (1, False, False),
        (2, True, False),
    ]
    assert closed == [0, 1]


def test_max_environment_age_recycles_after_the_given_time() -> None:
    counter = iter(range(100))
    client = init_resource(lambda: next(counter))

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> tuple[int, bool]:
        return client(), request.recycled

    # 0.3 s: room for the calls around it on a loaded machine (CI runs suites side by side)
    lambdascope.configure(max_environment_age=datetime.timedelta(milliseconds=300))
    assert lambda_handler({}) == (0, False)
    assert lambda_handler({}) == (0, False)
    time.sleep(0.4)
    assert lambda_handler({}) == (1, True)
    assert lambda_handler({}) == (1, False)


def test_configure_while_running_applies_from_the_next_invocation() -> None:
    for _ in range(3):
        describe({})
    lambdascope.configure(max_invocations=1)
    assert describe({})["recycled"] is True
    assert describe({})["recycled"] is True


def test_without_limits_nothing_is_recycled() -> None:
    assert [describe({})["recycled"] for _ in range(5)] == [False] * 5


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_environment_age": 0}, ValueError, "positive, finite"),
        ({"max_environment_age": float("inf")}, ValueError, "positive, finite"),
        ({"max_environment_age": 10**400}, ValueError, "positive, finite"),
        ({"max_environment_age": "1h"}, TypeError, "number of seconds"),
        ({"max_environment_age": True}, TypeError, "number of seconds"),
        ({"max_invocations": 0}, ValueError, "at least 1"),
        ({"max_invocations": 2.5}, TypeError, "must be an int"),
        ({"cold_start_report": "yes"}, TypeError, "True, False or None"),
    ],
)
def test_configure_rejects_bad_values(options: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        lambdascope.configure(**options)


def test_the_cold_start_report_is_one_json_line_after_the_first_invocation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")

    @init_resource(eager=True)
    def config() -> dict[str, str]:
        time.sleep(0.01)
        return {}

    @init_resource
    def client() -> object:
        return object()

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> None:
        config()
        client()

    for _ in range(3):
        lambda_handler({})
    out = capsys.readouterr().out
    (report,) = reports(out)
    assert len(out.splitlines()) == 1
    assert report["function_name"] == "orders"
    assert report["init_type"] == "on-demand"
    assert report["restored"] is False
    assert report["init_ms"] >= 10  # the eager config was created after lambdascope's import
    assert report["first_invocation_ms"] >= 0
    names = [r["name"] for r in report["resources"]]
    assert names[0] == config.name  # slowest first
    assert {r["name"]: r["phase"] for r in report["resources"]} == {
        config.name: "init",
        client.name: "invoke",
    }
    again = lambdascope.init_report()  # the same report, made again (a new timestamp)
    assert again.pop("timestamp") >= report.pop("timestamp")
    assert again == report


@pytest.mark.parametrize("how", ["configure", "env"])
def test_the_report_can_be_turned_off(
    how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "configure":
        lambdascope.configure(cold_start_report=False)
    else:
        monkeypatch.setenv("LAMBDASCOPE_COLD_START_REPORT", "0")
    describe({})
    assert reports(capsys.readouterr().out) == []
    assert lambdascope.init_report()["first_invocation_ms"] is not None


def test_init_ms_is_none_when_init_ran_ahead_of_traffic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    new_environment()
    assert lambdascope.init_report()["first_invocation_ms"] is None
    describe({})
    (report,) = reports(capsys.readouterr().out)
    assert report["init_type"] == "provisioned-concurrency"
    assert report["init_ms"] is None


def test_snapstart_hooks_recreate_keep_or_notify_resources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot_restore_py = pytest.importorskip("snapshot_restore_py")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    new_environment()
    lambdascope.register_snapstart_hooks()
    assert lambdascope.register_snapstart_hooks() is False  # once

    events: list[str] = []
    counter = iter(range(100))

    @init_resource(eager=True, on_restore="recreate", close=lambda v: events.append(f"close {v}"))
    def connection() -> int:
        return next(counter)

    @init_resource(on_restore="recreate")
    def lazy_connection() -> str:
        return "lazy"

    @init_resource(on_restore=lambda rng: events.append(f"restored {rng['state']}"))
    def rng() -> dict[str, int]:
        return {"state": 42}

    config = init_resource(lambda: {"table": "orders"})
    config()
    rng()
    lazy_connection()
    kept = config()

    for func, args, kwargs in snapshot_restore_py.get_before_snapshot():
        func(*args, **kwargs)
    assert events == ["close 0"]
    assert not connection.initialized
    assert not lazy_connection.initialized

    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)
    assert events == ["close 0", "restored 42"]
    assert connection.initialized  # eager: re-created right after the restore
    assert connection() == 1
    assert not lazy_connection.initialized  # lazy: re-created on first use
    assert config() is kept

    first = describe({})
    assert first == {"n": 1, "cold": False, "recycled": False}
    report = lambdascope.init_report()
    assert report["restored"] is True
    assert report["init_type"] == "snap-start"


def test_before_snapshot_closes_newest_first_dependants_before_dependencies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot_restore_py = pytest.importorskip("snapshot_restore_py")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    lambdascope.register_snapstart_hooks()
    closed: list[str] = []

    @init_resource(on_restore="recreate", close=closed.append)
    def pool() -> str:  # defined first
        return "pool"

    @init_resource(on_restore="recreate", close=closed.append)
    def session() -> str:  # uses pool: created after it
        return f"session on {pool()}"

    @init_resource(close=closed.append)
    def kept() -> str:
        return "kept"

    kept()
    session()
    for func, args, kwargs in snapshot_restore_py.get_before_snapshot():
        func(*args, **kwargs)
    assert closed == ["session on pool", "pool"]  # as shutdown() would: newest first
    assert kept.initialized


def test_on_restore_is_validated() -> None:
    with pytest.raises(ValueError, match="'keep', 'recreate' or a callable"):
        init_resource(on_restore="reconnect")  # type: ignore[call-overload]
