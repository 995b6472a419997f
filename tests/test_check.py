"""`lambdascope check`: the static checker, through check_source, check_paths and main()."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdascope import ScopeLeakError, handler
from lambdascope._check import (
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

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BAD = FIXTURES / "antipatterns"
CLEAN = FIXTURES / "clean"


def found(source: str, handlers: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """(line, code) of every finding in *source* (dedented)."""
    return [(f.line, f.code) for f in check_source(textwrap.dedent(source), "m.py", handlers)]


# ---------------------------------------------------------------------------- fixtures

EXPECTED = {
    "seed_files_leak.py": [(11, "LS104"), (15, "LS101")],
    "seed_client_per_invocation.py": [(9, "LS104")],
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
    client, leak = check_paths([str(BAD / "seed_files_leak.py")])
    assert str(client) == (
        f"{BAD / 'seed_files_leak.py'}:11: LS104 `boto3.client(...)` in handler lambda_handler() "
        "creates an AWS client or session on every invocation: create it once, in an "
        "@init_resource factory or with lambdascope.aws.client()"
    )
    assert (client.col, leak.col) == (10, 13)
    assert "`files.append(...)` in handler lambda_handler() mutates module-level `files`" in str(
        leak
    )
    (helper, _) = check_paths([str(BAD / "helper_append.py")])
    assert "in remember() (called from handler lambda_handler())" in helper.message


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
        ("from frameworks import handler\n@handler\ndef work(event, context):\n", 0),
        ("def lambda_handler(*args, **kwargs):\n", 1),
        ("async def handler(event, context):\n", 1),
        ("def handler(event, context, *, debug=False):\n", 1),
        ("def handler(func, /, *, guard=None):\n", 0),  # lambdascope's own decorator
        ("def handler(event):\n", 0),
        ("def handler(event, context, extra):\n", 0),
        ("def handler(event, context, *rest):\n", 0),
        ("class Jobs:\n  def lambda_handler(self, event, context):\n  ", 0),
        ("def work(event, context):\n", 0),
    ],
)
def test_what_counts_as_a_handler(header: str, expected: int) -> None:
    assert len(found("STATE = []\n" + header + WRITE)) == expected


def test_handlers_given_by_name() -> None:
    source = """\
        STATE = []
        def process(event, context):
            STATE.append(event)
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
        def impl(event, context):
            STATE.append(event)
            CACHE[event] = 1
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
    assert found(source) == [
        (5, "LS103"),
        (6, "LS103"),
        (7, "LS103"),
        (7, "LS103"),
        (8, "LS103"),
        (9, "LS103"),
        (10, "LS103"),
        (11, "LS103"),
        (16, "LS101"),
        (17, "LS103"),
    ]


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


def test_invalid_source_raises_check_error_with_an_ls000_finding() -> None:
    with pytest.raises(CheckError) as info:
        check_source("x = 1\ndef broken(:\n", "bad.py")
    assert info.value.finding == Finding("bad.py", 2, 1, "LS000", info.value.finding.message)
    assert str(info.value).startswith("bad.py:2: LS000 syntax error: ")
    with pytest.raises(CheckError) as info:
        check_source("x = 1\0\n", "nul.py")
    assert info.value.finding is not None
    assert info.value.finding.code == "LS000"
    assert isinstance(info.value, ValueError)


def test_check_paths_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "bad.py").write_text("def (:\n")
    with pytest.raises(CheckError, match="no such file or directory"):
        check_paths([str(tmp_path / "missing.py")])
    with pytest.raises(CheckError, match=r"notes.txt: not a Python file \(\*\.py\)"):
        check_paths([str(tmp_path / "notes.txt")])
    with pytest.raises(CheckError, match="LS000 syntax error"):
        check_paths([str(tmp_path)])
    assert check_paths([]) == []


def test_finding_is_a_frozen_value() -> None:
    finding = Finding("app.py", 3, 5, "LS101", "message")
    assert str(finding) == "app.py:3: LS101 message"
    with pytest.raises(AttributeError):
        finding.line = 4  # type: ignore[misc]
    assert set(RULES) == {"LS101", "LS102", "LS103", "LS104", "LS105"}


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
        "message": only["message"],
    }
    assert main([str(project), "--select", "LS10", "--ignore", "LS101,LS104"]) == 1
    assert [line.split(" ")[1] for line in lines(capsys.readouterr().out)] == ["LS102"]
    assert main([str(project), "--format", "json", "--ignore", "LS1"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: PATH"),
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


def test_invalid_files_are_ls000_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pkg" / "broken.py").write_text("def lambda_handler(e, c):\n    return (\n")
    (project / "pkg" / "latin.py").write_bytes(b"NAME = '\xe9'\n")
    assert main([str(project / "pkg"), "--ignore", "LS1"]) == 2
    out = lines(capsys.readouterr().out)
    assert [line.split(" ")[:2] for line in out] == [
        [f"{project / 'pkg' / 'broken.py'}:2:", "LS000"],
        [f"{project / 'pkg' / 'latin.py'}:1:", "LS000"],
    ]
    assert "syntax error: cannot decode" in out[1]


def test_unreadable_file_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.symlink(project / "nowhere.py", project / "pkg" / "dangling.py")
    assert main([str(project / "pkg")]) == 2
    captured = capsys.readouterr()
    assert (
        f"{project / 'pkg' / 'dangling.py'}: cannot read: No such file or directory" in captured.err
    )
    assert f"{project / 'pkg' / 'a.py'}:5: LS104" in captured.out  # the other files still checked


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
    assert "lambdascope: ignore[LS101]" in out


def test_run_with_the_dispatchers_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="lambdascope")
    commands = parser.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("check"))
    args = parser.parse_args(["check", str(BAD / "global_counter.py")])
    assert run(args) == 1
    assert len(lines(capsys.readouterr().out)) == 2


def test_python_dash_m(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "lambdascope._check", str(BAD / "seed_files_leak.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert [line.split(" ")[1] for line in lines(result.stdout)] == ["LS104", "LS101"]


def test_import_lambdascope_does_not_load_the_checker() -> None:
    code = "import sys, lambdascope; print('lambdascope._check' in sys.modules)"
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
