"""Leak reports in warn mode: one JSON line per leak on stdout, and the Embedded Metric Format
record when LAMBDASCOPE_LEAK_METRICS is on. Handler modules are real files, imported as Lambda
imports them, so the reports name real file:line sites."""

from __future__ import annotations

import importlib
import io
import json
import re
import tempfile
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope
from lambdascope import ScopeLeakError, ScopeLeakWarning, TmpLeakWarning, handler
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import HandlerDir

LEAKS = """
from lambdascope import handler

orders = []
totals = {}
counter = 0
settings = None


class Config:
    region = "eu-west-1"


class Session:
    def __init__(self):
        self.user = None


session = Session()


@handler(guard="warn", watch_tmp=False)
def lambda_handler(event, context):
    global counter, settings, fresh_name
    what = event["what"]
    if what == "append":
        orders.append(event["order"])
    elif what == "item":
        totals[event["secret_key"]] = event["amount"]
    elif what == "rebind":
        counter += 1
    elif what == "from-none":
        settings = {"user": event["user"]}
    elif what == "create":
        fresh_name = 1
    elif what == "attribute":
        session.user = event["user"]
    elif what == "class":
        Config.region = event["region"]
    elif what == "default":
        return remember(event["order"])
    return "ok"


def remember(order, seen=[]):
    seen.append(order)
    return len(seen)
"""


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    monkeypatch.delenv("LAMBDASCOPE_LEAK_METRICS", raising=False)
    monkeypatch.delenv("LAMBDASCOPE_METRICS_NAMESPACE", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    lambdascope.configure(cold_start_report=False)


@pytest.fixture
def leaks(handler_dir: HandlerDir) -> Any:
    handler_dir.write("leaks", LEAKS)
    return importlib.import_module("leaks")


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def run(module: Any, event: dict[str, Any], request_id: str = "req-1") -> Any:
    context = LambdaContext(aws_request_id=request_id, function_name="orders")  # as on Lambda
    with pytest.warns(ScopeLeakWarning):
        return module.lambda_handler(event, context)


def test_a_leak_is_one_json_line_with_where_and_which_request(
    leaks: Any, handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(leaks, {"what": "append", "order": "o-1"}, "8f5e-1") == "ok"
    [line] = lines(capsys)
    path = handler_dir.path / "leaks.py"
    append = path.read_text().splitlines().index('        orders.append(event["order"])') + 1
    assert line == {
        "message": "lambdascope scope leak",
        "level": "WARNING",
        "timestamp": line["timestamp"],
        "service": "service_undefined",  # no POWERTOOLS_SERVICE_NAME: Powertools' word
        "function_name": "orders",  # the context's, as Powertools takes it
        "function_request_id": "8f5e-1",
        "xray_trace_id": None,
        "leak": "module state",
        "handler": "leaks.lambda_handler",
        "module": "leaks",
        "variable": "orders",
        "change": "list modified in place",
        "sites": [f"{path}:{append}"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", line["timestamp"])


def test_every_leaking_invocation_is_reported_not_only_the_first(
    leaks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(leaks, {"what": "append", "order": "o-1"}, "r1")
    leaks.lambda_handler({"what": "append", "order": "o-2"}, LambdaContext(aws_request_id="r2"))
    assert [line["function_request_id"] for line in lines(capsys)] == ["r1", "r2"]


@pytest.mark.parametrize(
    ("event", "variable", "change"),
    [
        ({"what": "item", "secret_key": "s3cr3t-k3y", "amount": 7310419}, "totals", "dict"),
        ({"what": "rebind"}, "counter", "name rebound"),
        ({"what": "from-none", "user": "alice@example.com"}, "settings", "name set from None"),
        ({"what": "create"}, "fresh_name", "name created"),
        ({"what": "attribute", "user": "alice@example.com"}, "session", "attributes changed"),
        ({"what": "class", "region": "us-east-2"}, "Config", "class attributes changed"),
        ({"what": "default", "order": "order-0099"}, "remember.seen", "list"),
    ],
)
def test_the_kind_of_change_is_named_and_no_value_is_written(
    leaks: Any,
    capsys: pytest.CaptureFixture[str],
    event: dict[str, Any],
    variable: str,
    change: str,
) -> None:
    run(leaks, event)
    out = capsys.readouterr().out
    [line] = [json.loads(text) for text in out.splitlines()]
    assert line["variable"] == variable
    kinds = {"dict": "dict modified in place", "list": "list modified in place"}
    assert line["change"] == kinds.get(change, change)
    for value in event.values():
        if value != event["what"]:
            assert str(value) not in out


def test_the_metric_record_is_written_when_enabled(
    leaks: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "on")
    run(leaks, {"what": "append", "order": "o-1"})
    leak, metric = lines(capsys)
    assert leak["variable"] == "orders"
    assert metric["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "lambdascope",
            "Dimensions": [["FunctionName"]],
            "Metrics": [{"Name": "ScopeLeaks", "Unit": "Count"}],
        }
    ]
    assert isinstance(metric["_aws"]["Timestamp"], int)
    assert metric["FunctionName"] == "orders"
    assert metric["ScopeLeaks"] == 1


def test_the_metric_counts_the_leaks_of_the_invocation_in_its_namespace(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "true")
    monkeypatch.setenv("LAMBDASCOPE_METRICS_NAMESPACE", "shop/staging")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")  # off Lambda: the handler names itself
    handler_dir.write(
        "two",
        "from lambdascope import handler\n"
        "a, b = [], {}\n"
        "@handler(guard='warn', watch_tmp=False)\n"
        "def lambda_handler(event, context):\n"
        "    a.append(1)\n"
        "    b['k'] = 2\n",
    )
    with pytest.warns(ScopeLeakWarning):
        importlib.import_module("two").lambda_handler({}, None)  # no context either
    *reports, metric = lines(capsys)
    assert [r["variable"] for r in reports] == ["a", "b"]
    assert all(r["function_name"] is None for r in reports)
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "shop/staging"
    assert metric["FunctionName"] == "two.lambda_handler"
    assert metric["ScopeLeaks"] == 2


def test_raise_mode_writes_no_report(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write(
        "strict",
        "from lambdascope import handler\n"
        "seen = []\n"
        "@handler(watch_tmp=False)\n"
        "def lambda_handler(event, context):\n"
        "    seen.append(1)\n",
    )
    with pytest.raises(ScopeLeakError):
        importlib.import_module("strict").lambda_handler({}, None)
    assert capsys.readouterr().out == ""


def test_a_clean_invocation_writes_nothing(leaks: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert leaks.lambda_handler({"what": "nothing"}, None) == "ok"
    assert capsys.readouterr().out == ""


def test_outside_lambda_the_request_id_is_none(
    leaks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.warns(ScopeLeakWarning):
        leaks.lambda_handler({"what": "rebind"}, None)  # a local call without a context
    assert lines(capsys)[0]["function_request_id"] is None


def test_a_file_left_in_tmp_is_reported_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.delenv("LAMBDASCOPE_WATCH_TMP", raising=False)
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "on")

    @handler(guard="warn")
    def export(event: Any, context: Any) -> str:
        (private / "report-4711.csv").write_text("customer,amount\nalice,12\n")
        (private / "cache").mkdir(exist_ok=True)
        (private / "cache" / "page.html").write_text("<html></html>")
        return "done"

    with pytest.warns(TmpLeakWarning):
        assert export({}, LambdaContext(aws_request_id="t-1")) == "done"
    *reports, metric = lines(capsys)
    assert sorted((r["variable"], r["change"]) for r in reports) == [
        ("cache/page.html", "file created"),
        ("report-4711.csv", "file created"),
    ]
    assert {(r["leak"], r["module"], r["function_request_id"]) for r in reports} == {
        ("tmp", None, "t-1")
    }
    assert all(r["sites"] == [] for r in reports)
    assert reports[0]["handler"].endswith("test_a_file_left_in_tmp_is_reported_too.<locals>.export")
    assert metric["ScopeLeaks"] == 2
    assert "alice" not in "".join(json.dumps(r) for r in reports)


def test_a_report_that_cannot_be_written_never_fails_the_invocation(
    leaks: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stdout", closed)
    assert run(leaks, {"what": "append", "order": "o-1"}) == "ok"
    assert "could not write the leak report" in caplog.text
