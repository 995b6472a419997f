"""No request data in any output: a handler that leaks recognisable request data through every
kind of leak, in raise and in warn mode, and every output lambdascope writes about it (the
ScopeLeakError and TmpLeakError messages, the warnings, the JSON leak lines, the metric record
and the cold-start report) holds none of it. What the module's source writes (a literal key,
an attribute name, the fixed part of a file name) is still shown."""

from __future__ import annotations

import json
import sys
import warnings
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import ScopeLeakError, ScopeLeakWarning
from lambdascope.testing import LambdaEnvironment

if TYPE_CHECKING:
    from conftest import HandlerDir

#: Recognisable request data: none of it is written in the handler's source.
EVENT = {
    "email": "alice@example.com",
    "name": "Alice Liddell",
    "user": "u-7f3e21",
    "attr": "zq_attribute",
    "class_attr": "zq_class_attribute",
    "global": "zq_global",
    "file": "invoice-4711",
    "folder": "tenant-acme",
}
SECRETS = list(EVENT.values())

SHOP = """
import os
import tempfile

LAST_SEEN = {"status": "idle"}
USERS = set()
ORDERS = []
BY_USER = {}
LAST_EMAIL = None


class State:
    pass


STATE = State()


class Registry:
    pass


def _notebook():
    seen = {}
    return lambda key: seen.update({key: True})


note = _notebook()


def remember(key, memo={}):
    memo[key] = True
    return len(memo)


def lambda_handler(event, context):
    global LAST_EMAIL
    email = event["email"]
    LAST_SEEN[email] = event["name"]  # a dict key and its value
    LAST_SEEN["status"] = "busy"  # a key the source writes: may be shown
    USERS.add(event["user"])  # a set item
    ORDERS.append({"email": email})  # a list item
    BY_USER.setdefault(email, []).append(event["name"])  # a path through a request key
    setattr(STATE, event["attr"], email)  # an attribute named by the request
    setattr(Registry, event["class_attr"], email)  # a class attribute named by the request
    LAST_EMAIL = email  # a rebinding, from None
    globals()[event["global"]] = email  # a module-level name made from the request
    note(email)  # a closure variable
    remember(email)  # a mutable default
    tmp = tempfile.gettempdir()
    with open(os.path.join(tmp, event["file"] + ".pdf"), "w") as out:
        out.write(email)
    folder = os.path.join(tmp, "uploads", event["folder"])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, event["user"]), "w") as out:
        out.write(event["name"])
    return "ok"
"""


@pytest.fixture(autouse=True)
def _outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "on")
    lambdascope.configure(cold_start_report=True)


def assert_no_request_data(text: str) -> None:
    found = [secret for secret in SECRETS if secret in text]
    assert not found, f"request data in the output: {found}\n{text}"


def test_raise_mode_errors_hold_no_request_data(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write("shop", SHOP)
    with LambdaEnvironment("shop:lambda_handler", guard="raise") as env:
        run = env.run(EVENT)
    assert isinstance(run.error, ScopeLeakError)
    message = str(run.error)
    assert_no_request_data(message)
    assert_no_request_data(json.dumps(run.error_payload))
    # every leak is still reported, with what the source writes
    for words in (
        "dict `LAST_SEEN` was modified in place: key(s) added: 1 not written in the source "
        "(not shown); key(s) replaced: 'status'",
        "set `USERS` was modified in place (1 item(s) added",
        "list `ORDERS` was modified in place (1 item(s) added",
        "dict `BY_USER` was modified in place: key(s) added: 1 not written in the source",
        "attribute(s) of `STATE` (a State instance) were set or deleted: attribute(s) added: "
        "1 not written in the source (not shown)",
        "class attribute(s) of `Registry` were set or deleted: attribute(s) added: 1 not",
        "name `LAST_EMAIL` was set from None to a str",
        "name `<name>` was created",
        "dict `note.seen` was modified in place",
        "dict `remember.memo` was modified in place",
        "It also left files in the temp dir",
        f"{env.tmp}/*.pdf (created, 17 bytes)",
        f"{env.tmp}/uploads/*/* (created, 13 bytes)",
    ):
        assert words in message
    # a key the request brought earlier (kept, say, by a test between invocations) is
    # not shown in a path either
    shop = sys.modules["shop"]
    shop.BY_USER[EVENT["email"]] = []
    with LambdaEnvironment(shop.lambda_handler, guard="raise", reimport=False) as env:
        run = env.run(EVENT)
    assert isinstance(run.error, ScopeLeakError)
    assert "list `BY_USER[<str>]` was modified in place (1 item(s) added" in str(run.error)
    assert_no_request_data(str(run.error))
    assert_no_request_data(capsys.readouterr().out)  # the cold-start reports


def test_warn_mode_outputs_hold_no_request_data(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write("shop", SHOP)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with LambdaEnvironment("shop:lambda_handler", guard="warn") as env:
            env.invoke(EVENT)
            env.invoke({**EVENT, "name": "Bob"})  # appends under the first request's key
    messages = [str(w.message) for w in caught]
    # once per variable; files each time
    assert [w.category.__name__ for w in caught] == [
        "ScopeLeakWarning",
        "TmpLeakWarning",
        "TmpLeakWarning",
    ]
    assert all(issubclass(w.category, ScopeLeakWarning) for w in caught)
    for message in messages:
        assert_no_request_data(message)
    out = capsys.readouterr().out
    assert_no_request_data(out)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    leaks = [line for line in lines if line.get("message") == "lambdascope scope leak"]
    metrics = [line for line in lines if "_aws" in line]
    reports = [line for line in lines if line.get("message") == "lambdascope cold start report"]
    assert len(metrics) == 4  # one per report: module state and tmp, per invocation
    assert len(reports) == 1
    variables = {leak["variable"] for leak in leaks}
    assert {"LAST_SEEN", "USERS", "STATE", "Registry", "<name>", "note.seen"} <= variables
    assert {"*.pdf", "uploads/*/*"} <= variables
