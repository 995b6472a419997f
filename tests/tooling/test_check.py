"""`lambdascope check`: the static checker, through check_source, check_paths and main()."""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdascope import ScopeLeakError, handler
from lambdascope.check import (
    RULES,
    CheckError,
    Finding,
    add_arguments,
    check_paths,
    check_source,
    main,
    run,
)

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BAD = FIXTURES / "antipatterns"
CLEAN = FIXTURES / "clean"


def found(source: str, handlers: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """(line, code) of every finding in *source* (dedented)."""
    return [(f.line, f.code) for f in check_source(textwrap.dedent(source), "m.py", handlers)]


# ---------------------------------------------------------------------------- fixtures

EXPECTED = {
    "files_leak.py": [(11, "LS104"), (15, "LS101")],
    "client_per_invocation.py": [(9, "LS104")],
    "connection_per_invocation.py": [(11, "LS104"), (12, "LS105")],
    "global_counter.py": [(8, "LS103"), (9, "LS103")],
    "dict_item.py": [(7, "LS102"), (8, "LS102"), (10, "LS102")],
    "attribute.py": [(13, "LS102"), (14, "LS102")],
    "helper_append.py": [(9, "LS101"), (15, "LS101")],
    "method_handler.py": [(12, "LS101")],
    "async_handler.py": [(12, "LS101")],
}


def test_every_antipattern_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_antipattern_fixture(name: str, expected: list[tuple[int, str]]) -> None:
    findings = check_paths([str(BAD / name)])
    assert [(f.line, f.code) for f in findings] == expected
    assert all(f.path == str(BAD / name) for f in findings)


def test_messages_name_the_variable_the_handler_and_the_fix() -> None:
    client, leak = check_paths([str(BAD / "files_leak.py")])
    assert str(client) == (
        f"{BAD / 'files_leak.py'}:11: LS104 [error] `boto3.client(...)` in handler "
        "lambda_handler() builds a new AWS client on every invocation, warm ones included (tens "
        "of milliseconds and a new TLS connection each time): create it once, in an "
        "@init_resource factory or with lambdascope.aws.client()"
    )
    assert (client.col, leak.col) == (10, 13)
    assert (
        "`files.append(...)` in handler lambda_handler() mutates module-level `files`: the "
        "next warm invocation in this execution environment still sees it" in str(leak)
    )
    (helper, _) = check_paths([str(BAD / "helper_append.py")])
    assert "in remember() (called from handler lambda_handler() via collect())" in helper.message


def load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a fixture once, as Lambda's Init would."""
    name = f"check_fixture_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("global_counter.py", {}),
        ("dict_item.py", {"id": "a"}),
        ("attribute.py", {"user": "u"}),
        ("helper_append.py", {"keys": ["k"]}),
        ("method_handler.py", {"id": 7}),
        ("async_handler.py", {"n": 1}),
    ],
)
def test_what_the_checker_reports_the_guard_catches_at_run_time(
    name: str, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    module = load(BAD / name, monkeypatch)
    func = module.lambda_handler
    wrapped = func if hasattr(func, "__wrapped__") else handler(func)
    with pytest.raises(ScopeLeakError):
        wrapped(event, None)


def test_clean_fixtures_examples_and_lambdascope_itself_have_no_findings() -> None:
    paths = [CLEAN, ROOT / "examples", ROOT / "lambdascope", ROOT / "benchmarks"]
    assert check_paths([str(p) for p in paths]) == []


# ---------------------------------------------------------------------------- handlers

WRITE = "    STATE.append(1)\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("from lambdascope import handler\n@handler\ndef work(event, context):\n", 1),
        ("from lambdascope import handler\n@handler(guard='warn')\ndef work(e, c):\n", 1),
        ("import lambdascope\n@lambdascope.handler\ndef work(event, context):\n", 1),
        ("import lambdascope as ls\n@ls.handler()\ndef work(event, context):\n", 1),
        ("from lambdascope import handler as wrap\n@wrap\ndef work(event, context):\n", 1),
        ("from frameworks import handler\n@handler\ndef work(payload, ctx):\n", 0),
        ("def lambda_handler(*args, **kwargs):\n", 1),
        ("async def handler(event, context):\n", 1),
        ("def handler(event, context, *, debug=False):\n", 1),
        ("def handler(func, /, *, guard=None):\n", 0),  # lambdascope's own decorator
        ("def handler(event):\n", 0),
        ("def handler(event, context, extra):\n", 0),
        ("def handler(event, context, *rest):\n", 0),
        ("class Jobs:\n  def lambda_handler(self, event, context):\n  ", 0),
        ("def work(event, context):\n", 1),  # the Lambda signature
        ("def work(_event, _context):\n", 1),
        ("def work(payload, context):\n", 0),
        ("def main():\n", 0),
    ],
)
def test_what_counts_as_a_handler(header: str, expected: int) -> None:
    assert len(found("STATE = []\n" + header + WRITE)) == expected


def test_handlers_given_by_name() -> None:
    source = """\
        STATE = []
        def process(payload, ctx):
            STATE.append(payload)
        class Service:
            def run(self, event, context):
                STATE.append(event)
        """
    assert found(source) == []
    assert found(source, ("process",)) == [(3, "LS101")]
    assert found(source, ("app.process",)) == [(3, "LS101")]  # a Lambda handler setting
    assert found(source, ("Service.run", "missing")) == [(6, "LS101")]
    assert found(source, ("other_process",)) == []


def test_handlers_assigned_at_module_level() -> None:
    source = """\
        from lambdascope import handler
        STATE = []
        CACHE = {}
        def impl(payload, ctx):
            STATE.append(payload)
            CACHE[payload] = 1
        class Service:
            def handle(self, event, context):
                STATE.append(event)
        service = Service()
        wrapped = handler(impl, allow=["CACHE"])
        lambda_handler = service.handle
        entry = impl
        lambda_handler_factory = lambda_handler = make_handler()
        """
    assert found(source) == [(5, "LS101"), (9, "LS101")]
    assert found(source.replace("wrapped = handler(impl, ", "wrapped = wrap(impl, ")) == [
        (9, "LS101")
    ]
    unwrapped = source.replace('wrapped = handler(impl, allow=["CACHE"])', "")
    assert found(unwrapped, ("entry",)) == [
        (5, "LS101"),
        (6, "LS102"),
        (9, "LS101"),
    ]


def test_allow_names_deliberate_caches_per_handler() -> None:
    source = """\
        from lambdascope import handler
        CACHE = {}
        counter = 0
        def remember(event):
            CACHE[event] = 1
        @handler(allow=("CACHE", "counter", 3))
        def cached(event, context):
            global counter
            counter += 1
            remember(event)
        @handler(allow=[])
        def uncached(event, context):
            remember(event)
        """
    assert found(source) == [(5, "LS102")]
    (finding,) = check_source(textwrap.dedent(source))
    assert "called from handler uncached()" in finding.message


# ---------------------------------------------------------------------------- reachability


def test_reachability_follows_calls_references_and_classes() -> None:
    source = """\
        import functools
        from lambdascope import init_resource
        LOG = []
        def direct(): LOG.append("direct")
        def mapped(x): LOG.append(x)
        def recursive(n):
            LOG.append(n)
            return recursive(n - 1) if n else 0
        def unreachable(): LOG.append("never")
        @init_resource
        def once(): LOG.append("init")
        @functools.cache
        def cached(): LOG.append("cached")
        class Store:
            def __init__(self): LOG.append("init")
            def save(self): self._write()
            def _write(self): LOG.append("save")
            @classmethod
            def build(cls): return cls.make()
            @classmethod
            def make(cls): LOG.append("make")
        class Plain:
            def go(self): LOG.append("plain")
        store = Store()
        def lambda_handler(event, context):
            direct()
            list(map(mapped, event))
            recursive(3)
            once(); cached()
            local = Store()
            local.save()
            store.save()
            Store.build()
            Plain().go()
            p = Plain()
            p.go()
            event.plain = Plain()
        """
    assert found(source) == [
        (4, "LS101"),
        (5, "LS101"),
        (7, "LS101"),
        (15, "LS101"),
        (17, "LS101"),
        (21, "LS101"),
        (23, "LS101"),
    ]


def test_nested_functions_and_lambdas_run_in_the_invocation() -> None:
    source = """\
        import functools
        LOG = []
        def lambda_handler(event, context):
            def inner():
                LOG.append(1)
            @functools.lru_cache
            def memo():
                LOG.append(2)
            callback = lambda x: LOG.append(x)
            def shadowing(LOG):
                LOG.append(3)
            return inner, memo, callback, shadowing
        """
    assert found(source) == [(5, "LS101"), (9, "LS101")]


def test_unresolvable_calls_are_not_followed() -> None:
    source = """\
        LOG = []
        class Store:
            def save(self): LOG.append(1)
        def lambda_handler(event, context, Store=None, save=None):
            save()
            Store.save()
            event.save()
            get().save()
            self.save()
        """
    assert found(source) == []


# ---------------------------------------------------------------------------- writes and scopes


def test_writes_to_module_level_objects() -> None:
    source = """\
        import bisect, heapq, random
        from lambdascope import request
        import lambdascope
        ctx = lambdascope.request
        STATE = {"items": [], "n": 0}
        ITEMS = []
        QUEUE = []
        def helper(): pass
        def lambda_handler(event, context):
            STATE["items"].append(event)
            STATE["a"]["b"] = 1
            STATE["n"] += 1
            ITEMS[0], extra = event
            *ITEMS[1:], last = event
            del STATE["items"], ITEMS[0]
            for STATE["last"] in event: pass
            with open(event) as ITEMS[2]: pass
            ITEMS.sort(); ITEMS.reverse(); ITEMS.clear()
            heapq.heappush(QUEUE, 1); bisect.insort(QUEUE, 2); random.shuffle(ITEMS)
            helper.calls = 1
            request.files = []
            request.files.append(event)
            ctx.user = event
            ITEMS.index(event); ITEMS.copy(); STATE.get("x")
            heapq.heappush(event, 1); heapq.nsmallest(1, QUEUE)
            STATE.get("items").append(event)
            len(ITEMS)
            x = ITEMS
        """
    assert found(source) == [
        (10, "LS101"),
        (11, "LS102"),
        (12, "LS102"),
        (13, "LS102"),
        (14, "LS102"),
        (15, "LS102"),
        (15, "LS102"),
        (16, "LS102"),
        (17, "LS102"),
        (18, "LS101"),
        (18, "LS101"),
        (18, "LS101"),
        (19, "LS101"),
        (19, "LS101"),
        (19, "LS101"),
        (20, "LS102"),
    ]


def test_an_early_return_guards_the_attribute_it_returns_only() -> None:
    source = """\
        class Clock:
            frozen = None
            last = None
            @classmethod
            def now(cls):
                if cls.frozen is not None:
                    return cls.frozen
                cls.last = 1
                return 2
            @classmethod
            def cached(cls):
                if cls.frozen is not None:
                    return cls.frozen
                cls.frozen = 3
                return cls.frozen
        def lambda_handler(event, context):
            return Clock.now() + Clock.cached()
        """
    # `cls.last`: another attribute than the one the return caches, a write per invocation;
    # `cls.frozen = 3`: the lazy initialisation the early return stands for
    assert found(source) == [(8, "LS102")]


def test_setattr_and_delattr_with_a_literal_name_are_the_statements() -> None:
    source = """\
        import types
        SETTINGS = types.SimpleNamespace(mode="a")
        def lambda_handler(event, context):
            setattr(SETTINGS, "mode", event["mode"])
            delattr(SETTINGS, "mode")
            setattr(SETTINGS, event["key"], 1)
            local = types.SimpleNamespace()
            setattr(local, "mode", event["mode"])
        """
    # a name from the event: not followed (dynamic); a local object: not module state
    assert found(source) == [(4, "LS102"), (5, "LS102")]


def test_a_dataclass_construction_runs_its_post_init() -> None:
    source = """\
        from dataclasses import dataclass
        SEEN = []
        @dataclass
        class Order:
            order_id: str
            def __post_init__(self):
                SEEN.append(self.order_id)
        def lambda_handler(event, context):
            return Order(event["id"])
        """
    assert found(source) == [(7, "LS101")]


def test_global_rebinding_and_local_shadowing() -> None:
    source = """\
        files = []
        counter = 0
        def lambda_handler(event, context):
            global counter, created
            counter += 1
            created = True
            (counter, created) = (1, 2)
            for counter in event: pass
            with open(event) as counter: pass
            if (counter := 3): pass
            del created
            files = []
            files.append(event)
            counter = counter * 2
            created = event["id"]
            def inner():
                global files
                files.append(1)
                files = None
            def closure():
                nonlocal files
                files.append(2)
            try:
                pass
            except ValueError as files:
                pass
            import files
            return inner, closure
        """
    # constants rebound on every invocation are not reported: the same value each time
    assert found(source) == [
        (5, "LS103"),
        (8, "LS103"),
        (9, "LS103"),
        (11, "LS103"),
        (14, "LS103"),
        (15, "LS103"),
        (18, "LS101"),
    ]
    messages = [f.message for f in check_source(textwrap.dedent(source)) if f.line in (5, 15)]
    assert "accumulates across invocations" in messages[0]
    assert "holds request data" in messages[1]


def test_module_level_names_bound_in_blocks_and_not_in_main() -> None:
    source = """\
        import os
        try:
            from fast import FAST
        except ImportError:
            FALLBACK = []
        else:
            OTHER = []
        finally:
            LAST = []
        if os.environ.get("X"):
            CONFIG = {}
        else:
            CONFIG = {"x": 1}
        with open(__file__) as fh:
            LINES = {}
        ANNOTATED: list = []
        BARE: list
        for LOOPED in range(2): pass
        if __name__ == "__main__":
            MAIN_ONLY = []
        if "__main__" == __name__:
            ALSO_MAIN = []
        if __name__ != "__main__":
            NOT_MAIN = []
        def lambda_handler(event, context):
            FAST.append(1); FALLBACK.append(1); OTHER.append(1); LAST.append(1)
            CONFIG["y"] = 2; LINES["a"] = 1; ANNOTATED.append(1); BARE.append(1)
            LOOPED.append(1); MAIN_ONLY.append(1); ALSO_MAIN.append(1); NOT_MAIN.append(1)
            os.environ["X"] = "1"
        """
    assert found(source) == [
        (26, "LS101"),
        (26, "LS101"),
        (26, "LS101"),
        (27, "LS102"),
        (27, "LS102"),
        (27, "LS101"),
        (28, "LS101"),
    ]


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match statement")
def test_match_captures_are_local() -> None:
    source = """\
        files = []
        rest = []
        def lambda_handler(event, context):
            match event:
                case [files, *rest]:
                    files.append(1); rest.append(2)
                case _:
                    pass
        """
    assert found(source) == []


# ---------------------------------------------------------------------------- clients


@pytest.mark.parametrize(
    ("imports", "call", "code"),
    [
        ("import boto3", "boto3.client('s3')", "LS104"),
        ("import boto3", "boto3.resource('dynamodb')", "LS104"),
        ("import boto3", "boto3.Session()", "LS104"),
        ("import boto3.session", "boto3.session.Session()", "LS104"),
        ("import boto3 as b3", "b3.client('s3')", "LS104"),
        ("from boto3 import client as make", "make('s3')", "LS104"),
        ("from boto3.session import Session", "Session().client('s3')", "LS104"),
        ("import botocore.session", "botocore.session.get_session()", "LS104"),
        ("import psycopg2", "psycopg2.connect(dsn)", "LS105"),
        ("from pymysql import connect", "connect(host='db')", "LS105"),
        ("import mysql.connector", "mysql.connector.connect(host='db')", "LS105"),
        ("import redis", "redis.Redis(host='cache')", "LS105"),
        ("import redis", "redis.Redis.from_url(url)", "LS105"),
        ("import pymongo", "pymongo.MongoClient(url)", "LS105"),
        ("from sqlalchemy import create_engine", "create_engine(url)", "LS105"),
        ("import requests", "requests.Session()", "LS105"),
        ("import httpx", "httpx.Client()", "LS105"),
        ("import httpx", "httpx.AsyncClient()", "LS105"),
        ("import urllib3", "urllib3.PoolManager()", "LS105"),
        ("from opensearchpy import OpenSearch", "OpenSearch(hosts=['h'])", "LS105"),
        ("import psycopg", "psycopg.connect('')", "LS105"),
        ("import aiohttp", "aiohttp.ClientSession()", "LS105"),
        ("import redis", "redis.StrictRedis()", "LS105"),
        ("import boto3", "boto3.client('s3', region_name=event['region'])", "LS110"),
        ("import boto3", "boto3.client('s3', aws_session_token=event['token'])", None),
        ("import boto3, os", "boto3.client('s3', aws_access_key_id=os.environ['K'])", "LS104"),
        ("import lambdascope.aws", "lambdascope.aws.client('s3')", None),
        ("from lambdascope.aws import client", "client('s3')", None),
        ("import requests", "requests.get(url)", None),
        ("import mydb", "mydb.connect(url)", None),
        ("import sqlite3", "sqlite3.connect(':memory:')", None),
        ("from . import boto3", "boto3.client('s3')", None),
    ],
)
def test_clients_and_connections(imports: str, call: str, code: str | None) -> None:
    source = f"{imports}\ndef lambda_handler(event, context):\n    return {call}\n"
    assert found(source) == ([(3, code)] if code else [])


def test_clients_in_init_scope_and_module_level_sessions() -> None:
    source = """\
        import boto3
        from lambdascope import init_resource
        session = boto3.Session()
        s3 = boto3.client("s3")
        @init_resource
        def table():
            return boto3.resource("dynamodb").Table("t")
        def lambda_handler(event, context):
            import psycopg2
            s3.list_buckets()
            table().get_item(Key={})
            session.client("sqs")
            session.resource("sqs")
            psycopg2.connect("")
            def inner(session):
                return session.client("sns")
            return inner
        """
    assert found(source) == [(12, "LS104"), (13, "LS104"), (14, "LS105")]


# ---------------------------------------------------------------------------- suppression


def test_suppression_comments() -> None:
    source = """\
        import boto3
        LOG = []
        def lambda_handler(event, context):
            LOG.append(boto3.client("s3"))  # lambdascope: ignore
            LOG.append(boto3.client("s3"))  # lambdascope: ignore[LS101]
            LOG.append(boto3.client("s3"))  #lambdascope:ignore[LS104,LS101]
            LOG.append(boto3.client("s3"))  # lambdascope: ignore[ LS104 , LS105 ]
            LOG.append(boto3.client("s3"))  # lambdascope: ignore[LS103]
            LOG.append(1)  # noqa
        """
    assert found(source) == [(5, "LS104"), (7, "LS101"), (8, "LS101"), (8, "LS104"), (9, "LS101")]


def test_suppression_uses_pythons_line_numbers() -> None:
    # a form feed and a line separator are line breaks for str.splitlines, not for Python
    source = (
        "LOG = []\r\ndef lambda_handler(event, context):\r"
        "    x = '\u2028\x0c'\n"
        "    LOG.append(x)  # lambdascope: ignore\n"
        "    LOG.append(x)\n"
    )
    assert found(source) == [(5, "LS101")]


# ---------------------------------------------------------------------------- errors


def test_invalid_source_is_an_ls000_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lambdascope.check._parse.newer_pythons", list)
    (finding,) = check_source("x = 1\ndef broken(:\n", "bad.py")
    assert (finding.path, finding.line, finding.code, finding.severity) == (
        "bad.py",
        2,
        "LS000",
        "warning",
    )
    assert "cannot parse this file" in finding.message
    assert "Not analysed" in finding.message
    (nul,) = check_source("x = 1\0\n", "nul.py")
    assert nul.code == "LS000"


def test_check_paths_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "bad.py").write_text("def (:\n")
    with pytest.raises(CheckError, match="no such file or directory"):
        check_paths([str(tmp_path / "missing.py")])
    with pytest.raises(CheckError, match=r"notes.txt: not a Python file \(\*\.py\)"):
        check_paths([str(tmp_path / "notes.txt")])
    assert [f.code for f in check_paths([str(tmp_path)])] == ["LS000"]
    assert check_paths([]) == []


def test_finding_is_a_frozen_value() -> None:
    finding = Finding("app.py", 3, 5, "LS101", "message")
    assert str(finding) == "app.py:3: LS101 [error] message"
    with pytest.raises(AttributeError):
        finding.line = 4  # type: ignore[misc]
    assert sorted(RULES) == [f"LS{n}" for n in ("000", *map(str, range(101, 113)))]
    assert {r.severity for r in RULES.values()} == {"error", "warning", "info"}


# ---------------------------------------------------------------------------- CLI


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two handler modules with findings, one clean, and directories that must be skipped."""
    (tmp_path / "b.py").write_text("X = []\ndef lambda_handler(e, c):\n    X.append(e)\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import boto3\nY = {}\n\ndef lambda_handler(e, c):\n    Y[e] = boto3.client('s3')\n"
    )
    (tmp_path / "pkg" / "clean.py").write_text("def lambda_handler(e, c):\n    return e\n")
    (tmp_path / "pkg" / "README.md").write_text("not python")
    for skipped in (".venv", ".hidden", "__pycache__", "node_modules"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "leak.py").write_text(
            "Z = []\ndef lambda_handler(e, c):\n    Z.append(e)\n"
        )
    return tmp_path


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_main_reports_sorted_findings_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(project), str(project / "b.py")]) == 1
    out = lines(capsys.readouterr().out)
    b, a = project / "b.py", project / "pkg" / "a.py"
    assert [" ".join(line.split(" ")[:2]) for line in out] == [
        f"{b}:3: LS101",
        f"{a}:5: LS102",
        f"{a}:5: LS104",
    ]


def test_main_exits_0_when_clean(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(project / "pkg" / "clean.py")]) == 0
    assert capsys.readouterr().out == ""
    assert main([str(project / "pkg"), "--select", "LS101"]) == 0


def test_select_ignore_and_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(project), "--select", "ls104", "--format", "json"]) == 1
    (only,) = json.loads(capsys.readouterr().out)
    assert only == {
        "path": str(project / "pkg" / "a.py"),
        "line": 5,
        "col": 12,
        "code": "LS104",
        "severity": "error",
        "message": only["message"],
    }
    assert main([str(project), "--select", "LS10", "--ignore", "LS101,LS104"]) == 1
    assert [line.split(" ")[1] for line in lines(capsys.readouterr().out)] == ["LS102"]
    assert main([str(project), "--format", "json", "--ignore", "LS1"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-config"], "no PATH given (and no `paths` in [tool.lambdascope])"),
        (["--select", "LS999", "x.py"], "unknown rule code(s) LS999"),
        (["--ignore", ",", "x.py"], "unknown rule code(s) ','"),
        (["--format", "xml", "x.py"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_paths_exit_2_before_checking(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(project), str(project / "missing")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"lambdascope check: error: {project / 'missing'}: no such file or directory\n"
    )
    assert main([str(project / "pkg" / "README.md")]) == 2
    assert "not a Python file" in capsys.readouterr().err


def test_unparseable_and_unreadable_files_warn_and_do_not_fail_the_run(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lambdascope.check._parse.newer_pythons", list)
    (project / "pkg" / "broken.py").write_text("def lambda_handler(e, c):\n    return (\n")
    (project / "pkg" / "latin.py").write_bytes(b"NAME = '\xe9'\n")
    os.symlink(project / "pkg" / "nowhere.py", project / "pkg" / "dangling.py")
    assert main([str(project / "pkg"), "--ignore", "LS1"]) == 0
    out = lines(capsys.readouterr().out)
    assert [line.split(" ")[:3] for line in out] == [
        [f"{project / 'pkg' / 'broken.py'}:2:", "LS000", "[warning]"],
        [f"{project / 'pkg' / 'dangling.py'}:1:", "LS000", "[warning]"],
        [f"{project / 'pkg' / 'latin.py'}:1:", "LS000", "[warning]"],
    ]
    assert "cannot read the file: No such file or directory" in out[1]
    assert "cannot decode the file" in out[2]
    assert main([str(project / "pkg")]) == 1  # the other files still checked
    assert f"{project / 'pkg' / 'a.py'}:5: LS104" in capsys.readouterr().out
    assert main([str(project / "pkg"), "--ignore", "LS1", "--fail-on", "warning"]) == 1


def test_handler_option(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CLEAN / "scripts.py")
    assert main([path]) == 0
    assert main([path, "--handler", "scripts.handler", "--handler", "rebuild_names"]) == 1
    assert [line.split(": ")[1][:5] for line in lines(capsys.readouterr().out)] == [
        "LS101",
        "LS101",
        "LS101",
    ]


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: lambdascope check" in out
    assert all(code in out for code in RULES)
    assert "lambdascope: ignore[LS104]" in out
    assert all(rule.summary in " ".join(out.split()) for rule in RULES.values())


def test_run_with_the_dispatchers_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="lambdascope")
    commands = parser.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("check"))
    args = parser.parse_args(["check", str(BAD / "global_counter.py")])
    assert run(args) == 1
    assert len(lines(capsys.readouterr().out)) == 2


@pytest.mark.parametrize("module", ["lambdascope.check", "lambdascope.cli", "lambdascope"])
def test_python_dash_m(module: str) -> None:
    import lambdascope.check.__main__  # the entry module imports cleanly

    assert lambdascope.check.__main__.main is main
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [] if module == "lambdascope.check" else ["check"]
    result = subprocess.run(
        [sys.executable, "-m", module, *command, "--no-config", str(BAD / "files_leak.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert [line.split(" ")[1] for line in lines(result.stdout)] == ["LS104", "LS101"]


def test_import_lambdascope_does_not_load_the_checker() -> None:
    code = (
        "import sys, lambdascope; "
        "tooling = ('lambdascope.check', 'lambdascope.cli', 'lambdascope.testing'); "
        "print(any(m.startswith(tooling) for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------------------- docs

DOC_BLOCK = re.compile(r"^```python\n(# (bad|fixed)[^\n]*\n.*?)^```", re.DOTALL | re.MULTILINE)


def test_docs_examples_report_what_they_say() -> None:
    blocks = DOC_BLOCK.findall((ROOT / "docs" / "check.md").read_text())
    assert len(blocks) >= 10
    for source, kind in blocks:
        codes = sorted(f.code for f in check_source(source, "docs/check.md"))
        if kind == "fixed":
            assert codes == [], source
        else:
            expected = sorted(re.findall(r"LS\d{3}", source.splitlines()[0]))
            assert codes == expected, source


# ---------------------------------------------------------------------------- property

# (statement, code it must produce) placed in a handler at any depth of nesting.
SNIPPETS = [
    ("STATE.append(event)", "LS101"),
    ("STATE[0] = event", "LS102"),
    ("del TABLE[event]", "LS102"),
    ("TABLE.setdefault(event, 1)", "LS101"),
    ("counter += 1", "LS103"),
    ("boto3.client('s3')", "LS104"),
    ("psycopg2.connect('')", "LS105"),
    ("local = []", None),
    ("local.append(event)", None),
    ("total = len(STATE) + len(TABLE)", None),
    ("request.items = list(STATE)", None),
]
WRAPPERS = [
    "if event:\n{}",
    "for _ in range(1):\n{}",
    "while False:\n{}",
    "try:\n{}\nexcept Exception:\n    pass",
    "with open(__file__):\n{}",
]


@st.composite
def handler_bodies(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    return draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=8))


@settings(max_examples=60, deadline=None)
@given(handler_bodies(), st.lists(st.sampled_from(WRAPPERS), max_size=3))
def test_each_statement_is_reported_on_its_own_line_at_any_depth(
    body: list[tuple[str, str | None]], wrappers: list[str]
) -> None:
    block = "local = []\n" + "\n".join(statement for statement, _ in body)
    for wrapper in wrappers:
        block = wrapper.format(textwrap.indent(block, "    "))
    header = (
        "import boto3\nimport psycopg2\nfrom lambdascope import request\n"
        "STATE = [0]\nTABLE = {}\ncounter = 0\n"
        "def lambda_handler(event, context):\n    global counter\n"
    )
    source = header + textwrap.indent(block, "    ") + "\n"
    compile(source, "generated", "exec")
    src_lines = source.splitlines()
    expected = sorted(
        (number, code)
        for number, text in enumerate(src_lines, start=1)
        for statement, code in SNIPPETS
        if code and text.strip() == statement
    )
    assert found(source) == expected


# ---------------------------------------------------------------------------- projects

PROJECTS = FIXTURES / "projects"
PROJECT_FINDINGS = {
    "sam_app": [
        ("image/worker.py", 7, "LS105"),  # ImageConfig.Command, DockerContext
        ("image/worker.py", 8, "LS102"),
        ("reports/app.py", 8, "LS104"),  # Handler from Globals
        ("src/orders.py", 11, "LS101"),  # Handler: orders.place_order, CodeUri: src/
        ("src/shared/audit.py", 10, "LS101"),  # a helper module, two calls deep
    ],
    "serverless_app": [
        ("handlers/notify.py", 10, "LS108"),  # early-return lazy init: no LS105
        ("handlers/users.py", 12, "LS108"),  # `if cache is None:` lazy init: no LS103/LS105
        ("handlers/users.py", 13, "LS105"),
    ],
    "cdk_app": [("lambda/index.py", 5, "LS104"), ("lambda/worker.py", 5, "LS105")],
    "terraform_app": [
        ("src/cleanup.py", 6, "LS106"),
        ("src/lambdaFirehoseLogger.py", 7, "LS105"),  # handler = var.logger_handler
    ],
    "docker_app": [("service.py", 7, "LS105")],
    "plain": [
        ("api.py", 12, "LS107"),  # route parameter as the key of an unbounded cache
        ("api.py", 19, "LS103"),  # request data kept in a global by a route
        ("caches.py", 16, "LS108"),
        ("caches.py", 23, "LS109"),  # constant key: a memo cache
        ("caches.py", 31, "LS107"),  # keyed by event["tenant"], never bounded
        ("caches.py", 39, "LS102"),  # keeps request data beyond its key: not a cache
        ("caches.py", 58, "LS109"),  # keyed by event data, bounded by len()/clear()
        ("consumers.py", 11, "LS105"),
        ("consumers.py", 17, "LS105"),
        ("consumers.py", 22, "LS105"),
        ("consumers.py", 24, "LS105"),
        ("cross_account.py", 17, "LS110"),  # a client per region: cache one per key
        ("cross_account.py", 18, "LS110"),
        ("custom_resource.py", 14, "LS105"),  # crhelper @helper.create
        ("custom_resource.py", 15, "LS101"),
        ("defaults.py", 3, "LS106"),
        ("defaults.py", 4, "LS106"),
        ("defaults.py", 15, "LS106"),
        ("newer_syntax.py", 6, "LS101"),  # a 3.12 f-string, analysed
    ],
}


def newer_python_available() -> bool:
    from lambdascope.check._parse import newer_pythons

    return sys.version_info >= (3, 12) or any(
        subprocess.run(
            [p, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"], check=False
        ).returncode
        == 0
        for p in newer_pythons()
    )


# Python 3.12 f-string syntax (PEP 701): the same quotes inside the replacement field. Written
# by the tests, not kept as a fixture: formatters for older targets would rewrite it.
NEWER_SYNTAX = """\
# Python 3.12 f-string syntax
names = []


def lambda_handler(event, context):
    names.append(f"{event["first"]} {event["last"]}")
    return len(names)
"""


@pytest.mark.parametrize(("name", "expected"), PROJECT_FINDINGS.items())
def test_project(name: str, expected: list[tuple[str, int, str]], tmp_path: Path) -> None:
    root = PROJECTS / name
    if name == "plain":
        root = tmp_path / name
        shutil.copytree(PROJECTS / name, root)
        (root / "newer_syntax.py").write_text(NEWER_SYNTAX)
        if not newer_python_available():  # pragma: no cover - machine-dependent
            expected = [e if e[0] != "newer_syntax.py" else (e[0], 6, "LS000") for e in expected]
    findings = check_paths([str(root)])
    assert [(Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in findings] == (
        expected
    )


def test_project_messages_tell_the_chain_and_the_fix() -> None:
    by_line = {
        (Path(f.path).name, f.line): f.message
        for f in check_paths([str(PROJECTS / "sam_app"), str(PROJECTS / "plain")])
    }
    assert by_line["audit.py", 10].startswith(
        "`trail.append(...)` in audit._remember() (called from handler place_order() in "
        f"{PROJECTS / 'sam_app' / 'src' / 'orders.py'} via audit.record()) mutates module-level "
        "`trail`: the next warm invocation"
    )
    assert "lazy initialisation by hand" in by_line["caches.py", 16]
    assert "@init_resource" in by_line["caches.py", 16]
    assert "memory grows" in by_line["caches.py", 31]
    assert "@init_resource(ttl=...)" in by_line["caches.py", 23]
    assert 'allow=("JWKS",)' in by_line["caches.py", 23]
    assert "mutates the default value of parameter `found` (`[]`)" in by_line["defaults.py", 3]
    assert "Default to None" in by_line["defaults.py", 3]


def test_the_deployment_files_name_the_handlers_not_the_shape(tmp_path: Path) -> None:
    # the same project without its template: shapes decide, and unused.py is a handler
    for name in ("src", "reports", "image"):
        shutil.copytree(PROJECTS / "sam_app" / name, tmp_path / name)
    codes = [(Path(f.path).name, f.line) for f in check_paths([str(tmp_path)])]
    assert ("unused.py", 6) in codes  # `def process(event, context)` counts without a template
    assert ("orders.py", 11) not in codes  # `place_order(request_event, lambda_context)` not
    assert ("tools.py", 8) in codes  # shaped like a handler


def test_a_deployment_file_given_alone_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = PROJECTS / "serverless_app"
    assert main(["--no-config", str(root / "serverless.yml"), str(root / "handlers")]) == 1
    assert f"{root / 'handlers' / 'users.py'}:13: LS105" in capsys.readouterr().out


# ---------------------------------------------------------------------------- deployment readers


def test_yaml_reader_tolerates_cloudformation() -> None:
    from lambdascope.check import _yaml

    text = textwrap.dedent(
        """\
        %YAML 1.2
        # comment
        Key: "quoted # not a comment"   # a comment
        Plain: it's fine
        Ref: !Ref Table
        Att: !GetAtt [Role, Arn]
        Sub: !Sub |
          line ${AWS::Region}
          - not: a list
        Anchor: &base {a: 1, b: [x, "y, z"]}
        Alias: *base
        Seq:
        - one
        - key: value
          other: 'it''s'
        -
          nested: true
        - - inner
        'Quoted key': ''
        Fn::If: [Cond, a, b]
        Empty:
        Folded: >-
          text
        Odd line without a colon
        ---
        Second: document
        """
    )
    assert _yaml.load(text) == {
        "Key": "quoted # not a comment",
        "Plain": "it's fine",
        "Ref": "Table",
        "Att": ["Role", "Arn"],
        "Sub": "line ${AWS::Region}\n- not: a list",
        "Anchor": {"a": "1", "b": ["x", "y, z"]},
        "Alias": "*base",
        "Seq": ["one", {"key": "value", "other": "it's"}, {"nested": "true"}, ["inner"]],
        "Quoted key": "",
        "Fn::If": ["Cond", "a", "b"],
        "Empty": None,
        "Folded": "text",
    }
    assert _yaml.load("") is None
    assert _yaml.load("- a\n-   b\n") == ["a", "b"]


def test_deployment_readers(tmp_path: Path) -> None:
    from lambdascope.check._deploy import read_specs, resolve

    def specs(name: str, text: str) -> list[tuple[str, str, int]]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return [(s.module, s.function, s.line) for s in read_specs(str(path))]

    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "pkg.mod.handle", "Runtime": "python3.12"},
            },
            "Inline": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"ZipFile": "..."}, "Handler": "index.handler"},
            },
            "Node": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "index.handler", "Runtime": "nodejs20.x"},
            },
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }
    }
    assert specs("template.json", json.dumps(template, indent=1)) == [
        ("pkg/mod", "handle", 6),
    ]
    assert specs("broken.json", '{"AWS::Lambda::Function": ') == []
    assert specs("stack.yaml", "Resources: [AWS::Lambda::Function]\n") == []
    assert specs(
        "tf/main.tf",
        """\
        locals {
          entry = "app.entry"
        }
        resource "aws_lambda_function" "a" {
          handler = local.entry
        }
        resource "aws_lambda_function" "b" {
          handler = var.unset
        }
        resource "aws_lambda_function" "c" {
          handler = "${var.prefix}.run"
        }
        """,
    ) == [("app", "entry", 5)]
    assert specs("Dockerfile", "FROM x\nCMD app.handler\n") == [("app", "handler", 2)]
    assert specs("img/Dockerfile.lambda", 'CMD ["python", "-m", "awslambdaric"]\n') == []
    assert specs("bad/Dockerfile", "CMD [oops\n") == []
    assert specs(
        "cdk/stack.py",
        """\
        from aws_cdk.aws_lambda_python_alpha import PythonFunction
        PythonFunction(scope, "F", entry="fn", index="service.py", handler="run")
        Other(handler=handler_name)
        """,
    ) == [("service", "run", 2)]
    assert specs("cdk/broken.py", "import aws_cdk\ndef (:\n") == []
    assert specs("plain.py", "handler = 'a.b'\n") == []
    assert specs("web/app.js", "export const handler = 'index.main'\n") == []
    assert specs("serverless.yml", "functions: []\n") == []
    assert read_specs(str(tmp_path / "missing.yaml")) == []
    files = [str(tmp_path / "src" / "app.py"), str(tmp_path / "other" / "app.py")]
    spec = read_specs(str(tmp_path / "tf" / "main.tf"))
    assert resolve(spec, files) == {}  # nothing named app.py under tf/


# ---------------------------------------------------------------------------- newer syntax


def test_newer_syntax_without_a_newer_python_is_a_warning_naming_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lambdascope.check._parse.newer_pythons", list)
    (tmp_path / "newer_syntax.py").write_text(NEWER_SYNTAX)
    findings = check_paths([str(tmp_path / "newer_syntax.py")])
    if sys.version_info >= (3, 12):
        assert [f.code for f in findings] == ["LS101"]
    else:
        (finding,) = findings
        assert (finding.line, finding.code, finding.severity) == (6, "LS000", "warning")
        assert "it likely needs Python 3.12" in finding.message


def test_a_newer_python_that_cannot_parse_either(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lambdascope.check._parse.newer_pythons", lambda: [sys.executable])
    (finding,) = check_source("def broken(:\n", "bad.py")
    assert finding.code == "LS000"
    assert "nor can the newer Pythons found" in finding.message
    monkeypatch.setattr("lambdascope.check._parse.newer_pythons", lambda: ["/nonexistent/python"])
    assert [f.code for f in check_source("def broken(:\n", "bad.py")] == ["LS000"]


def test_trees_from_a_newer_python_are_rebuilt_faithfully() -> None:
    from lambdascope.check._parse import _DUMP, _build

    source = (PROJECTS / "plain" / "caches.py").read_text() + "x = b'\\xff' + 1j; y = ...\n"
    done = subprocess.run(
        [sys.executable, "-c", _DUMP],
        input=json.dumps({"caches.py": source}),
        capture_output=True,
        text=True,
        check=True,
    )
    tree = _build(json.loads(json.loads(done.stdout)["files"]["caches.py"])["tree"])
    assert isinstance(tree, ast.Module)
    assert ast.dump(tree, include_attributes=True) == ast.dump(
        ast.parse(source), include_attributes=True
    )
    if not hasattr(ast, "TypeAlias"):  # a statement type this Python does not know (< 3.12)
        unknown = _build({"_": "TypeAlias", "@lineno": 3, "name": None})
        assert isinstance(unknown, ast.Pass)
        assert unknown.lineno == 3
    assert isinstance(_build({"_": "ExpressionOfAFuturePython", "@lineno": 1}), ast.Constant)
    assert isinstance(_build({"_": "TemplateStr", "values": []}), ast.Constant)


# ---------------------------------------------------------------------------- configuration


def test_pyproject_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(PROJECTS / "plain", tmp_path / "src")
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.lambdascope]
            paths = ["src"]
            exclude = ["consumers.py"]
            ignore = ["LS106"]
            handlers = ["safe"]
            fail-on = "warning"
            colour = "blue"
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json"]) == 1
    captured = capsys.readouterr()
    codes = {(Path(f["path"]).name, f["code"]) for f in json.loads(captured.out)}
    assert ("consumers.py", "LS105") not in codes
    assert not any(code == "LS106" for _, code in codes)
    assert ("api.py", "LS107") in codes
    assert "'colour' is not a setting" in captured.err
    assert main(["--select", "LS109", "--fail-on", "error"]) == 0
    assert main(["--no-config", "--select", "LS109"]) == 2  # no paths without the config


@pytest.mark.parametrize(
    ("table", "warning"),
    [
        ('select = "LS101"', "select must be a list of strings"),
        ('fail-on = "sometimes"', "fail-on must be error, warning, info or never"),
        ("select = [", "invalid TOML"),
    ],
)
def test_bad_configuration_warns(
    table: str,
    warning: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.lambdascope]\n{table}\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    assert main(["app.py"]) == 0
    assert warning in capsys.readouterr().err


def test_configuration_without_a_toml_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdascope.check import _config

    (tmp_path / "pyproject.toml").write_text('[tool.lambdascope]\nignore = ["LS1"]\n')
    (tmp_path / "app.py").write_text("X = []\ndef lambda_handler(e, c):\n    X.append(e)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_config, "_toml", lambda: None)
    assert main(["app.py"]) == 1  # the ignore list was not read
    assert "has no tomllib; pip install tomli" in capsys.readouterr().err
    monkeypatch.undo()
    assert _config.load(str(tmp_path / "missing.toml"))[1][0].endswith("No such file or directory")
    (tmp_path / "other.toml").write_text("[tool.other]\n")
    assert _config.load(str(tmp_path / "other.toml")) == ({}, [])


# ---------------------------------------------------------------------------- output formats


def test_sarif_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.sarif"
    plain = PROJECTS / "plain"
    assert main(["--no-config", str(plain), "--format", "sarif", "--output", str(out)]) == 1
    assert capsys.readouterr().out == ""
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert {r["defaultConfiguration"]["level"] for r in rules} == {"error", "warning", "note"}
    levels = {(r["ruleId"], r["level"]) for r in run_["results"]}
    assert {("LS107", "warning"), ("LS108", "note"), ("LS105", "error")} <= levels
    first = run_["results"][0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == os.path.relpath(plain / "api.py").replace(
        os.sep, "/"
    )
    assert location["region"] == {"startLine": 12, "startColumn": 9}


def test_fail_on_levels(capsys: pytest.CaptureFixture[str]) -> None:
    caches = str(PROJECTS / "plain" / "caches.py")  # one error, one warning, three info
    assert main(["--no-config", caches]) == 1
    assert main(["--no-config", caches, "--ignore", "LS102"]) == 0
    assert main(["--no-config", caches, "--ignore", "LS102", "--fail-on", "warning"]) == 1
    assert main(["--no-config", caches, "--fail-on", "info", "--ignore", "LS102,LS107"]) == 1
    assert main(["--no-config", caches, "--fail-on", "never", "--select", "LS107"]) == 0
    assert "lambdascope check: 0 error, 1 warning, 0 info" in capsys.readouterr().err


# ---------------------------------------------------------------------------- rules in detail


def test_lazy_initialisation_forms() -> None:
    source = """\
        import boto3
        client = None
        table = None
        CLIENTS = {}
        def get_table():
            global table
            table = table or boto3.resource("dynamodb").Table("t")
            return table
        def lambda_handler(event, context):
            global client
            if not client:
                client = boto3.client("s3")
            if "sqs" not in CLIENTS:
                CLIENTS["sqs"] = boto3.client("sqs")
            get_table()
            return client, CLIENTS["sqs"]
        """
    assert found(source) == [(7, "LS108"), (12, "LS108"), (14, "LS109")]


def test_clients_from_the_event_are_cached_per_key_and_per_request_ones_left_alone() -> None:
    source = """\
        import boto3
        from lambdascope import request
        def regional(region):
            return boto3.client("ec2", region_name=region)
        def lambda_handler(event, context):
            arn = event["role"]
            creds = boto3.client("sts").assume_role(RoleArn=arn)["Credentials"]
            boto3.client("s3", endpoint_url=request.event["endpoint"])
            regional(event["region"])
            regional("eu-west-1")
            for record in event["Records"]:
                boto3.resource("s3", region_name=record["awsRegion"])
            return boto3.Session(botocore_session=creds)
        """
    # per-request credentials (the assumed role's) make a client per request by design; a
    # region or endpoint from the event is a key: one client per key is worth caching
    assert found(source) == [(4, "LS104"), (4, "LS110"), (7, "LS104"), (8, "LS110"), (12, "LS110")]


def test_memo_caches_and_accumulation_are_told_apart() -> None:
    source = """\
        SEEN = {}
        CACHE = {}
        BY_ID = {}
        def lambda_handler(event, context):
            SEEN[event["id"]] = event
            value = CACHE.setdefault("config", {"a": 1})
            BY_ID.setdefault(event["id"], []).append(event)
            if BY_ID.get(event["id"]) is None:
                BY_ID[event["id"]] = []
            CACHE.pop("stale", None)
            return value
        """
    # appending the event to an entry keeps request data: BY_ID leaks, so it is not also called
    # an unbounded cache where it is filled (line 9)
    assert found(source) == [(5, "LS102"), (6, "LS109"), (7, "LS101")]


def test_suppression_in_a_helper_module(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import helpers\ndef lambda_handler(event, context):\n    helpers.keep(event)\n"
    )
    (tmp_path / "helpers.py").write_text(
        "KEPT = []\ndef keep(e):\n    KEPT.append(e)  # lambdascope: ignore[LS101]\n"
        "    KEPT.extend([e])\n"
    )
    (finding,) = check_paths([str(tmp_path)])
    assert (Path(finding.path).name, finding.line, finding.code) == ("helpers.py", 4, "LS101")
    assert "called from handler lambda_handler() in" in finding.message


def test_imports_between_modules_of_the_tree(tmp_path: Path) -> None:
    package = tmp_path / "svc"
    package.mkdir()
    (package / "__init__.py").write_text("from .core import start\n")
    (package / "core.py").write_text(
        "import boto3\nclass Runner:\n    def __init__(self):\n        boto3.client('s3')\n"
        "def start():\n    return Runner()\n"
        "class Asset:\n    @classmethod\n    def get(cls, key):\n        return cls()\n"
        "    def url(self):\n        return boto3.client('s3').generate_presigned_url('get')\n"
    )
    (package / "get.py").write_text(
        "from svc.core import Asset\ndef get(event, context):\n"
        "    asset = Asset.get(event['id'])\n    return asset.url()\n"
    )
    (package / "handler.py").write_text(
        "from . import core\nfrom .core import Runner\nimport svc\nfrom svc import start as go\n"
        "import json\n"
        "def lambda_handler(event, context):\n"
        "    svc.start(); go(); core.start(); Runner(); json.dumps(event); svc.missing()\n"
    )
    findings = check_paths([str(tmp_path)])
    assert [(Path(f.path).name, f.line, f.code) for f in findings] == [
        ("core.py", 4, "LS104"),
        ("core.py", 12, "LS104"),  # an alternate constructor's instance (an ORM's get())
    ]


def test_local_tests_are_not_lazy_initialisation() -> None:
    source = """\
        import boto3
        BLOCKED = ("exe",)
        def lambda_handler(event, context):
            key = event["key"]
            if "." in key and key.split(".")[-1] in BLOCKED:
                return None
            if not key:
                return None
            return boto3.client("s3").get_object(Bucket="b", Key=key)
        """
    assert found(source) == [(9, "LS104")]


def test_filled_once_and_framework_state() -> None:
    source = """\
        import boto3
        from crhelper import CfnResource
        helper = CfnResource()
        JWKS = {}
        @helper.create
        def create(event, context):
            helper.Data["Arn"] = event["ResourceProperties"]["Arn"]
        def keys():
            if JWKS:
                return JWKS
            JWKS.update(fetch())
            return JWKS
        def lambda_handler(event, context):
            keys()
            session = boto3.Session()
            helper(event, context)
        """
    assert found(source) == [(11, "LS109"), (15, "LS104")]
    session = check_source(textwrap.dedent(source))[-1]
    assert "builds a new AWS session on every invocation" in session.message


def test_layer_code_is_followed(tmp_path: Path) -> None:
    layer = tmp_path / "layers" / "common" / "python"
    layer.mkdir(parents=True)
    (layer / "shared_clients.py").write_text(
        "import boto3\ndef table():\n    return boto3.resource('dynamodb').Table('t')\n"
    )
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "app.py").write_text(
        "from shared_clients import table\ndef lambda_handler(event, context):\n"
        "    return table().get_item(Key=event)\n"
    )
    (finding,) = check_paths([str(tmp_path)])
    assert (Path(finding.path).name, finding.line, finding.code) == (
        "shared_clients.py",
        3,
        "LS104",
    )
    # a layer built from its source directory (SAM ContentUri): matched by its package path
    common = tmp_path / "src" / "layers" / "common_layer" / "common"
    common.mkdir(parents=True)
    (common / "__init__.py").write_text("")
    (common / "db.py").write_text("import pymysql\ndef connect():\n    return pymysql.connect()\n")
    (tmp_path / "functions" / "orders.py").write_text(
        "from common.db import connect\nfrom common import missing\nimport nowhere\n"
        "def lambda_handler(event, context):\n    return connect(), missing(), nowhere.x()\n"
    )
    assert [(Path(f.path).name, f.line, f.code) for f in check_paths([str(tmp_path)])] == [
        ("shared_clients.py", 3, "LS104"),
        ("db.py", 3, "LS105"),
    ]


def test_the_pre_commit_hook_runs_the_console_script_on_the_project() -> None:
    from lambdascope.check import _yaml

    (hook,) = _yaml.load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "lambdascope-check"
    assert hook["entry"] == "lambdascope check"
    assert hook["args"] == ["."]
    assert hook["pass_filenames"] == "false"
    assert hook["language"] == "python"
    assert 'lambdascope = "_lambdascope_launcher:main"' in (ROOT / "pyproject.toml").read_text()


def test_vendored_and_installed_packages_are_not_checked(tmp_path: Path) -> None:
    leak = "X = []\ndef lambda_handler(event, context):\n    X.append(event)\n"
    for folder in ("package/requests", "package/mylib", "layer/python/boto3", "venv/lib"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "mod.py").write_text(leak)
    (tmp_path / "package" / "mylib-1.0.dist-info").mkdir()  # pip install -t package/
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "app.py").write_text(leak)
    assert [Path(f.path).name for f in check_paths([str(tmp_path)])] == ["app.py"]


def test_lazy_attributes_of_long_lived_and_per_invocation_objects() -> None:
    source = """\
        import boto3
        class Gateway:
            def __init__(self):
                self._client = None
            def client(self):
                if self._client is None:
                    self._client = boto3.client("apigateway")
                return self._client
            def url(self):
                return self.client().get_rest_apis()
        class Registry:
            _cache = None
            @classmethod
            def load(cls):
                if cls._cache is None:
                    cls._cache = boto3.client("ssm").get_parameters_by_path(Path="/")
                return cls._cache
        gateway = Gateway()
        def lambda_handler(event, context):
            per_request = Gateway()
            Registry.load()
            return gateway.url(), per_request.url()
        """
    # the module-level gateway creates its client once; the one built per request, each time
    (finding,) = check_source(textwrap.dedent(source))
    assert (finding.line, finding.code) == (7, "LS104")
    assert "via Gateway.url()" in finding.message
