"""The write analysis made ahead of time (``lambdascope analyse``): written at the project's
root, used on the first invocation for every module it still holds for (the cold-start
report lists them, and :mod:`ast` is never imported), and ignored, module by module, when
the source, the kind of a module-level value, or the versions changed. What it decides is
what a live analysis decides: a leak is caught, a clean handler runs clean.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
import textwrap
import warnings
from typing import TYPE_CHECKING, Any, Callable

import pytest
from project_support import cold_start

import lambdascope
from lambdascope import AnalysisFileWarning, ScopeLeakError
from lambdascope.cli import main
from lambdascope.cli._python import find_python
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
    report = _guard_report()
    assert report["analysed_ahead"] == ["shop", "shop.app"]
    assert report["analysed_live"] == {"shop.store": "its source changed since the analysis"}
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
    report = _guard_report()
    assert report["analysed_ahead"] == ["shop", "shop.app"]
    assert report["analysed_live"] == {
        "shop.store": "its module-level name 'CACHE' holds another kind of value than when analysed"
    }


def test_a_file_of_another_version_is_ignored(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"
    document = json.loads(written.read_text())
    document["lambdascope"] = "0.0.1"
    written.write_text(json.dumps(document))
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    report = _guard_report()
    assert report["analysed_ahead"] == []
    why = f"{written} was made by lambdascope 0.0.1; this is lambdascope {lambdascope.__version__}"
    assert report["analysed_live"] == dict.fromkeys(MODULES, why)
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        app.lambda_handler({"leak": True, "id": 7}, LambdaContext())


def test_without_a_file_the_report_says_where_it_was_looked_for(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    why = f"no lambdascope-analysis.json in {handler_dir.path.resolve()}"
    assert _guard_report()["analysed_live"] == dict.fromkeys(MODULES, why)


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
    assert "  shop.store: its source changed\n" in out
    assert "run lambdascope analyse shop.app:lambda_handler again" in out
    written = handler_dir.path / "lambdascope-analysis.json"
    document = json.loads(written.read_text())
    document["python"] = "3.8"
    written.write_text(json.dumps(document))
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1
    out = capsys.readouterr().out
    assert "out of date for 3 module(s)" in out
    assert f"  shop, shop.app, shop.store: {written} was made on Python 3.8; this is" in out


def test_check_says_why_each_entry_is_out_of_date(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"
    document = json.loads(written.read_text())
    del document["modules"]["shop"]
    document["modules"]["shop.store"][0]["digest"] = "0" * 32

    def other_kind(content: dict[str, Any]) -> None:
        content["names"]["store"] = "builtins.dict"

    _edit_entry(document["modules"]["shop.app"][0], other_kind, digest=True)
    written.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1
    out = capsys.readouterr().out
    assert "  shop: not in the file\n" in out
    assert "  shop.app: a module-level name it uses holds another kind of value\n" in out
    assert "  shop.store: its entry was changed after it was written" in out

    written.write_text(json.dumps({**document, "format": 1}))  # as written before
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1
    assert f"{written} is of format 1; lambdascope" in capsys.readouterr().out


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


# -- the folder form of the handler setting -------------------------------------------------

TODOS_STORE = """
TODOS = []


def add(item):
    TODOS.append(item)
"""

TODOS_CREATE = """
from todos import store


def create(event, context):
    if event.get("leak"):
        store.add(event["text"])
    return {"statusCode": 201}
"""


def _todos(root: Path) -> None:
    """The Serverless Framework's layout: ``todos/create.py``, no ``__init__.py``, handler
    setting ``todos/create.create``, and imports from the task root (``from todos import``)."""
    (root / "todos").mkdir()
    (root / "todos" / "store.py").write_text(textwrap.dedent(TODOS_STORE))
    (root / "todos" / "create.py").write_text(textwrap.dedent(TODOS_CREATE))


def test_the_folder_form_of_the_handler_setting_is_invoked_and_analysed(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _todos(handler_dir.path)
    assert main(["invoke", "todos/create.create", "--guard", "raise", "--times", "2"]) == 0
    assert '{"statusCode": 201}' in capsys.readouterr().out
    assert (
        main(
            [
                "invoke",
                "todos/create.create",
                "--guard",
                "raise",
                "--event-json",
                '{"leak": 1, "text": "x"}',
                "--times",
                "1",
            ]
        )
        == 1
    )
    assert "ScopeLeakError" in capsys.readouterr().out

    assert main(["analyse", "todos/create.create"]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"  # at the task root
    assert f"wrote {written}" in capsys.readouterr().out
    report = cold_start(handler_dir.path, "todos/create.create", {})
    assert report["guard"][0]["analysed_ahead"] == ["todos.create", "todos.store"]


# -- another Python --------------------------------------------------------------------------


def _other_python() -> tuple[str, str]:
    """Another Python version Lambda runs, and its interpreter (skip: none installed)."""
    here = "{}.{}".format(*sys.version_info[:2])
    for version in ("3.12", "3.11", "3.13", "3.10", "3.9"):
        python = find_python(version) if version != here else None
        if python is not None:
            return version, python
    pytest.skip("no other Python version installed")


def test_analyse_under_the_python_of_the_function_runtime(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(handler_dir.path)
    version, python = _other_python()
    assert main(["analyse", "shop.app:lambda_handler", "--python", version]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"
    assert json.loads(written.read_text())["python"] == version
    assert main(["analyse", "shop.app:lambda_handler", "--python", version, "--check"]) == 0
    capsys.readouterr()

    # on that runtime, it is used; here, it is not, and the report says why
    report = cold_start(handler_dir.path, "shop.app.lambda_handler", {}, python=python)
    assert report["guard"][0]["analysed_ahead"] == MODULES
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    why = _guard_report()["analysed_live"]["shop.store"]
    here = "{}.{}".format(*sys.version_info[:2])
    assert why == (
        f"{written} was made on Python {version}; this is Python {here} "
        f"(lambdascope analyse --python {here} makes it for this one)"
    )
    assert main(["analyse", "shop.app:lambda_handler", "--check"]) == 1
    assert f"was made on Python {version}" in capsys.readouterr().out


# -- a file that can never hurt --------------------------------------------------------------


def _edit_entry(
    entry: dict[str, Any], edit: Callable[[dict[str, Any]], None], digest: bool
) -> None:
    """Edit the content of *entry*; with *digest*, give it the digest the docs define
    (BLAKE2b-128 of its source digest, ``exported`` and content, one per line): what a tool
    that wrote the wrong thing would have made."""
    content = json.loads(entry["content"])
    edit(content)
    entry["content"] = json.dumps(content, sort_keys=True, separators=(",", ":"))
    if digest:
        text = f"{entry['source']}\n{json.dumps(entry['exported'])}\n{entry['content']}"
        entry["digest"] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _edit_entries(path: Path, edit: Callable[[dict[str, Any]], None], *, digest: bool) -> None:
    """:func:`_edit_entry` on every entry of shop.store and shop.app."""
    document = json.loads(path.read_text())
    for name in ("shop.store", "shop.app"):
        for entry in document["modules"][name]:
            _edit_entry(entry, edit, digest)
    path.write_text(json.dumps(document))


def _remove_the_write(entry: dict[str, Any]) -> None:
    entry["analysis"]["written"].pop("ITEMS", None)


def _wrong_types(entry: dict[str, Any]) -> None:
    entry["analysis"]["written"] = dict.fromkeys(entry["analysis"]["written"], "yes")
    entry["analysis"]["loaded"] = 3


DAMAGES: dict[str, tuple[Callable[[Path], None], str, list[str]]] = {
    "utf-16": (
        lambda path: path.write_text(path.read_text(), encoding="utf-16"),
        "is not UTF-8 text",
        [],
    ),
    "garbled": (
        lambda path: path.write_text(path.read_text()[:200]),
        "is not valid JSON",
        [],
    ),
    "too deep": (
        lambda path: path.write_text("[" * 100_000 + "]" * 100_000),
        "is nested too deeply to decode",
        [],
    ),
    "a folder": (
        lambda path: (path.unlink(), path.mkdir()),  # type: ignore[func-returns-value]
        "cannot be read",
        [],
    ),
    "not an object": (lambda path: path.write_text("[]"), "is not a JSON object", []),
    "an entry that is not a list": (
        lambda path: path.write_text(
            json.dumps(
                {
                    **json.loads(path.read_text()),
                    "modules": {name: {"exported": True} for name in MODULES},
                }
            )
        ),
        "is damaged: the entry of module 'shop' is not a list of entries",
        [],
    ),
    "no modules": (
        lambda path: path.write_text(
            json.dumps({**json.loads(path.read_text()), "modules": ["shop.store"]})
        ),
        'has no "modules" object',
        [],
    ),
    "a write removed": (
        lambda path: _edit_entries(path, _remove_the_write, digest=False),
        "is damaged: the entry of module 'shop.store' was changed after it was written",
        ["shop", "shop.app"],
    ),
    "wrong types, digest made anew": (  # two entries: one warning, for the first
        lambda path: _edit_entries(path, _wrong_types, digest=True),
        "is damaged: the entry of module 'shop.app' does not have the shape",
        ["shop"],
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_file_means_analysed_live_and_one_warning(
    handler_dir: HandlerDir, damage: str
) -> None:
    spoil, problem, ahead = DAMAGES[damage]
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    written = handler_dir.path / "lambdascope-analysis.json"
    spoil(written)
    app = _fresh()
    with pytest.warns(AnalysisFileWarning) as caught:
        assert app.lambda_handler({}, LambdaContext()) == 1
    assert app.lambda_handler({}, LambdaContext()) == 1  # no second warning (filter: error)
    # the guard is armed: the leak the damaged entry would have hidden is caught
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        app.lambda_handler({"leak": True, "id": 7}, LambdaContext())
    assert len(caught) == 1  # one warning for the file, whatever is wrong in it
    message = str(caught[0].message)
    assert message.startswith(f"{written} {problem}")
    assert "Write it again with `lambdascope analyse`" in message
    report = _guard_report()
    assert report["analysed_ahead"] == ahead
    assert report["watched_whole"] == []
    assert sorted(report["analysed_live"]) == [m for m in MODULES if m not in ahead]
    assert sys.modules["shop.store"].ITEMS == []


def test_a_damaged_file_under_warnings_as_errors_fails_one_invocation_and_no_more(
    handler_dir: HandlerDir,
) -> None:
    _project(handler_dir.path)
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    _edit_entries(handler_dir.path / "lambdascope-analysis.json", _remove_the_write, digest=False)
    app = _fresh()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AnalysisFileWarning)  # as -W error asks
        with pytest.raises(AnalysisFileWarning, match=r"'shop\.store' was changed"):
            app.lambda_handler({}, LambdaContext())
        assert app.lambda_handler({}, LambdaContext()) == 1  # the file warned once: no more
        with pytest.raises(ScopeLeakError, match="ITEMS"):  # and the guard is armed
            app.lambda_handler({"leak": True, "id": 7}, LambdaContext())
    assert _guard_report()["analysed_ahead"] == ["shop", "shop.app"]


def test_analyse_writes_a_damaged_file_anew(handler_dir: HandlerDir) -> None:
    _project(handler_dir.path)
    written = handler_dir.path / "lambdascope-analysis.json"
    written.write_text("{garbled", encoding="utf-16")
    assert main(["analyse", "shop.app:lambda_handler"]) == 0
    app = _fresh()
    app.lambda_handler({}, LambdaContext())
    assert _guard_report()["analysed_ahead"] == MODULES


def test_analyse_never_writes_into_an_installed_library(
    tmp_path: Path,
    handler_dir: HandlerDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a handler applied in code that lives in a library's folder: its project root is there
    site = tmp_path / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "vendored_app.py").write_text(
        "from lambdascope import handler\n\n\n@handler\ndef lambda_handler(event, context):\n"
        "    return 1\n"
    )
    monkeypatch.syspath_prepend(str(site))
    assert main(["analyse", "vendored_app:lambda_handler"]) == 1
    assert "is an installed library's folder" in capsys.readouterr().err
    assert not (site / "lambdascope-analysis.json").exists()
    output = handler_dir.path / "elsewhere.json"
    assert main(["analyse", "vendored_app:lambda_handler", "--output", str(output)]) == 0
    assert output.exists()
