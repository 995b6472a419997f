"""The write analysis made ahead of time (``lambdascope analyse``): written at the project's
root, used on the first invocation for every module it still holds for (the cold-start
report lists them, and :mod:`ast` is never imported), and ignored, module by module, when
the source, the kind of a module-level value, or the versions changed. What it decides is
what a live analysis decides: a leak is caught, a clean handler runs clean.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope
from lambdascope import ScopeLeakError
from lambdascope.cli import main
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import HandlerDir

STORE = """
import os

ITEMS = []
TABLE = {"a": {"price": 1}}
CACHE = {} if os.environ.get("SHOP_CACHE") else None


def add(value):
    ITEMS.append(value)


def price(key):
    return TABLE[key]["price"]
"""

APP = """
from lambdascope import handler

from . import store


@handler(watch_tmp=False)
def lambda_handler(event, context):
    if event.get("leak"):
        store.add(event["id"])
    return store.price("a")
"""

MODULES = ["shop", "shop.app", "shop.store"]


def _project(root: Path) -> None:
    package = root / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text(textwrap.dedent(STORE))
    (package / "app.py").write_text(textwrap.dedent(APP))


def _fresh() -> Any:
    """The project imported again: new namespaces, analysed (or looked up) again."""
    for name in [n for n in sys.modules if n == "shop" or n.startswith("shop.")]:
        del sys.modules[name]
    return importlib.import_module("shop.app")


def _guard_report() -> dict[str, Any]:
    found = [
        g for g in lambdascope.init_report()["guard"] if g["handler"] == "shop.app.lambda_handler"
    ]
    assert found
    return found[-1]  # type: ignore[no-any-return]


def test_the_analysis_written_ahead_is_used_and_catches_the_same_leak(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    out = capsys.readouterr().out
    written = handler_dir.path / "lambdascope-analysis.json"
    assert f"wrote {written}" in out
    assert "3 module(s)" in out
    document = json.loads(written.read_text())
    assert sorted(document["modules"]) == MODULES
    assert document["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"

    app = _fresh()
    assert app.lambda_handler({}, LambdaContext()) == 1
    assert _guard_report()["analysed_ahead"] == MODULES
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        app.lambda_handler({"leak": True, "id": 7}, LambdaContext())
    assert sys.modules["shop.store"].ITEMS == []


def test_a_module_changed_since_is_analysed_live_the_others_not(
    handler_dir: HandlerDir,
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    store = handler_dir.path / "shop" / "store.py"
    store.write_text(
        store.read_text() + "\n\nSEEN = set()\n\n\ndef see(value):\n    SEEN.add(value)\n"
    )
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    assert _guard_report()["analysed_ahead"] == ["shop", "shop.app"]
    sys.modules["shop.store"].see("x")  # outside an invocation: Init-like, accepted
    app.lambda_handler({}, LambdaContext())


def test_a_value_of_another_kind_at_run_time_makes_its_module_analysed_live(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    monkeypatch.setenv("SHOP_CACHE", "1")  # CACHE is a dict now, None when analysed
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    assert _guard_report()["analysed_ahead"] == ["shop", "shop.app"]


def test_a_file_of_another_version_is_ignored(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"
    document = json.loads(written.read_text())
    document["lambdascope"] = "0.0.1"
    written.write_text(json.dumps(document))
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    assert _guard_report()["analysed_ahead"] == []
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        app.lambda_handler({"leak": True, "id": 7}, LambdaContext())


def test_running_code_that_is_not_the_source_is_watched_whole(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    for name in [n for n in sys.modules if n.startswith("shop")]:
        del sys.modules[name]
    store = importlib.import_module("shop.store")
    exec("def add(value):\n    pass\n", vars(store))  # shares the globals, not from the file
    app = importlib.import_module("shop.app")
    app.lambda_handler({}, LambdaContext())
    report = _guard_report()
    assert "shop.store" not in report["analysed_ahead"]
    assert report["watched_whole"] == MODULES  # one module cannot be vouched for: all whole


def test_a_fresh_process_never_imports_ast(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    script = (
        "import sys\nimport lambdascope\nfrom shop import app\n"
        "app.lambda_handler({}, None)\n"
        "print('AST', 'ast' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=handler_dir.path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "PYTHONPATH": str(handler_dir.path)},
    )
    assert "AST False" in done.stdout, done.stdout + done.stderr
    report = next(json.loads(line) for line in done.stdout.splitlines() if "cold start" in line)
    assert report["guard"][0]["analysed_ahead"] == MODULES


def test_analyse_says_why_it_cannot(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("plain", "def lambda_handler(event, context):\n    return 1\n")
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "off")
    assert main(["analyse", "plain:lambda_handler"]) == 1
    assert "guard is off" in capsys.readouterr().err
    assert main(["analyse", "missing_module:lambda_handler"]) == 1
    assert "ModuleNotFoundError" in capsys.readouterr().err


def test_check_says_whether_the_file_is_current(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1  # no file yet
    assert "out of date for 3 module(s): shop, shop.app, shop.store" in capsys.readouterr().out
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    capsys.readouterr()
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 0
    assert "is current" in capsys.readouterr().out
    store = handler_dir.path / "shop" / "store.py"
    store.write_text(store.read_text() + "\nLIMIT = 3\n")
    _fresh()
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1
    out = capsys.readouterr().out
    assert "out of date for 1 module(s): shop.store" in out
    assert "run lambdascope analyse shop.app:lambda_handler again" in out


def test_two_handlers_analysed_in_turn_share_the_file(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "orders", "ITEMS = []\n\n\ndef lambda_handler(event, context):\n    return 1\n"
    )
    handler_dir.write("health", "def lambda_handler(event, context):\n    return 'ok'\n")
    assert main(["analyse", "orders:lambda_handler"]) == 0
    del sys.modules["orders"]  # as in a second process: the first run's modules are not loaded
    assert main(["analyse", "health:lambda_handler"]) == 0
    written = json.loads((handler_dir.path / "lambdascope-analysis.json").read_text())
    assert {"orders", "health"} <= set(written["modules"])


def test_a_script_applying_handler_still_uses_the_file(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "orders", "ITEMS = []\n\n\ndef lambda_handler(event, context):\n    return 1\n"
    )
    assert main(["analyse", "orders:lambda_handler"]) == 0
    # a script of the project applying handler() holds the handler's module, which is then
    # analysed as used by other modules: the file has that analysis too
    handler_dir.write(
        "drive",
        "import orders\nfrom lambdascope import handler\n\n"
        "wrapped = handler(orders.lambda_handler, watch_tmp=False)\n",
    )
    del sys.modules["orders"]
    drive = importlib.import_module("drive")
    assert drive.wrapped({}, LambdaContext()) == 1
    report = next(
        g for g in lambdascope.init_report()["guard"] if g["handler"] == "orders.lambda_handler"
    )
    assert "orders" in report["analysed_ahead"]
    assert "drive" not in report["analysed_ahead"]  # not analysed ahead: analysed live
