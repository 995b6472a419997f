"""Writes across modules (issue 20): one module's code reaching another module's data
through the module object, a function's result, an alias or an argument, is watched as that
module's; a read across modules is not a report; a module registered under a second name, a
test module wrapping the function's handler and an adapter wrapped from a test are judged
by where their code lives. The cold-start report says what each guard watches.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope
from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import HandlerDir

STORE = """
ITEMS = ["a"]
TABLE = {"k": []}
COUNT = 0


def current():
    return ITEMS


def table():
    return TABLE


def cell():
    return TABLE["k"]


def total(values):
    return sum(values) + len(ITEMS)
"""


def _package(handler_dir: HandlerDir, body: str, imports: str = "from . import store") -> Any:
    package = handler_dir.path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text(textwrap.dedent(STORE))
    (package / "app.py").write_text(
        "from lambdascope import handler\n"
        f"{imports}\n\n\n"
        "@handler(watch_tmp=False)\n"
        "def lambda_handler(event, context):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )
    return importlib.import_module("shop.app")


WRITES = {
    "append through the module": 'store.ITEMS.append(event["user"])',
    "item of a dict through the module": 'store.TABLE["k"].append(event["user"])',
    "rebinding through the module": "store.COUNT += 1",
    "assigning through the module": 'store.ITEMS = [event["user"]]',
    "a function's result": 'store.current().append(event["user"])',
    "a function's result, deeply": 'store.table()["k"].append(event["user"])',
    "an item returned": 'store.cell().append(event["user"])',
    "a function taken as a value": 'get = store.current\nget().append(event["user"])',
    "the module aliased": 'module = store\nmodule.ITEMS.append(event["user"])',
    "the module passed": 'put(store, event["user"])',
    "setattr on the module": 'setattr(store, "COUNT", event["user"])',
}


@pytest.mark.parametrize("body", list(WRITES.values()), ids=list(WRITES))
def test_another_modules_data_written_is_caught_named_and_undone(
    handler_dir: HandlerDir, body: str
) -> None:
    app = _package(handler_dir, body + "\n")
    if "put(" in body:
        (handler_dir.path / "shop" / "app.py").write_text(
            (handler_dir.path / "shop" / "app.py").read_text()
            + "\n\ndef put(module, value):\n    module.ITEMS.append(value)\n"
        )
        del sys.modules["shop.app"]
        app = importlib.import_module("shop.app")
    store = sys.modules["shop.store"]
    before = (list(store.ITEMS), json.dumps(store.TABLE), store.COUNT)
    for user in ("u-1", "u-2"):
        with pytest.raises(ScopeLeakError) as caught:
            app.lambda_handler({"user": user}, LambdaContext())
        assert "module 'shop.store'" in str(caught.value)
        assert (list(store.ITEMS), json.dumps(store.TABLE), store.COUNT) == before


@pytest.mark.parametrize(
    ("body", "imports"),
    [
        ('store.ITEMS.append(event["user"])', "from . import store"),
        ('shop.store.TABLE["k"].append(event["user"])', "import shop.store"),
        ("store.COUNT += 1", "from . import store"),
        ('ITEMS.append(event["user"])', "from .store import ITEMS"),
    ],
)
def test_the_message_names_the_line_of_the_module_that_wrote(
    handler_dir: HandlerDir, body: str, imports: str
) -> None:
    app = _package(handler_dir, body + "\n", imports)
    with pytest.raises(ScopeLeakError) as caught:
        app.lambda_handler({"user": "u-1"}, LambdaContext())
    written = handler_dir.path / "shop" / "app.py"
    line = written.read_text().splitlines().index("    " + body) + 1
    assert f"{written}:{line}" in str(caught.value)


def test_reading_another_modules_data_is_no_report_and_watches_nothing_deeply(
    handler_dir: HandlerDir,
) -> None:
    app = _package(
        handler_dir,
        """
        found = store.TABLE.get(event["user"], [])
        return [store.ITEMS.count(event["user"]), len(found), store.total([1, 2]), store.COUNT]
        """,
    )
    for user in ("a", "b", "a"):
        assert app.lambda_handler({"user": user}, LambdaContext())[0] == (user == "a")
    # nothing of the store is watched deeply: what only reads costs nothing per item
    report = lambdascope.init_report()["guard"]
    entry = next(item for item in report if item["handler"] == "shop.app.lambda_handler")
    assert set(entry["modules"]) == {"shop", "shop.app", "shop.store"}
    assert entry["watched_whole"] == []


def test_a_module_handed_to_code_the_analysis_cannot_see_is_watched_whole(
    handler_dir: HandlerDir,
) -> None:
    app = _package(
        handler_dir, "return len(pprint.pformat(store)) > 0", "import pprint\n\nfrom . import store"
    )
    assert app.lambda_handler({"user": "u"}, LambdaContext()) is True
    entry = next(
        item
        for item in lambdascope.init_report()["guard"]
        if item["handler"] == "shop.app.lambda_handler"
    )
    assert entry["watched_whole"] == ["shop.store"]
    store = sys.modules["shop.store"]
    store.ITEMS.append("written between invocations")  # outside an invocation: accepted
    assert app.lambda_handler({"user": "u"}, LambdaContext()) is True


def test_a_module_registered_under_a_second_name_is_judged_once(handler_dir: HandlerDir) -> None:
    handler_dir.write("helpers", "SEEN = set()\n\ndef seen(key):\n    return key in SEEN\n")
    handler_dir.write(
        "app",
        """
        import sys

        import helpers
        from lambdascope import handler

        sys.modules["vendored_alias.helpers"] = helpers  # as requests.packages.urllib3 does


        @handler(watch_tmp=False)
        def lambda_handler(event, context):
            return helpers.seen(event["key"])
        """,
    )
    app = importlib.import_module("app")
    try:
        names = [module.name for module in lambdascope.guarded_modules(app.lambda_handler)]
        assert "helpers" in names
        assert "vendored_alias.helpers" not in names
        assert app.lambda_handler({"key": "k"}, LambdaContext()) is False
    finally:
        del sys.modules["vendored_alias.helpers"]


def test_a_test_module_wrapping_the_handler_keeps_its_bookkeeping_unguarded(
    handler_dir: HandlerDir,
) -> None:
    handler_dir.write("orders", "def lambda_handler(event, context):\n    return event['id']\n")
    test_module = handler_dir.write(
        "test_orders",
        """
        import lambdascope
        import orders

        CALLS = []


        def recording(event, context):
            CALLS.append(event["id"])  # the test's own bookkeeping
            return orders.lambda_handler(event, context)


        wrapped = lambdascope.handler(orders.lambda_handler, watch_tmp=False)
        """,
    )
    module = importlib.import_module(test_module.stem)
    names = [item.name for item in lambdascope.guarded_modules(module.wrapped)]
    assert names == ["orders"]
    assert module.wrapped({"id": 7}, LambdaContext()) == 7


ADAPTER = """
class Adapter:
    \"\"\"An adapter of a web framework, as a library writes it (Mangum, apig-wsgi).\"\"\"

    def __init__(self, app):
        self.app = app

    def __call__(self, event, context):
        return self.app(event)
"""


def test_an_adapter_wrapped_outside_the_project_guards_the_project_it_serves(
    handler_dir: HandlerDir, tmp_path: Path
) -> None:
    libraries = tmp_path / "site-packages"  # installed: a dist-info claims it
    (libraries / "adapterlib-1.0.dist-info").mkdir(parents=True)
    (libraries / "adapterlib-1.0.dist-info" / "top_level.txt").write_text("adapterlib\n")
    (libraries / "adapterlib.py").write_text(textwrap.dedent(ADAPTER))
    project = tmp_path / "project"
    project.mkdir()
    (project / "web.py").write_text(
        "RECENT = []\n\n\ndef app(event):\n    RECENT.append(event['id'])\n    return len(RECENT)\n"
    )
    sys.path[:0] = [str(project), str(libraries)]
    web = importlib.import_module("web")
    adapterlib = importlib.import_module("adapterlib")
    wrapped = lambdascope.handler(adapterlib.Adapter(web.app), watch_tmp=False)
    names = [item.name for item in lambdascope.guarded_modules(wrapped)]
    assert "web" in names
    assert "adapterlib" not in names
    with pytest.raises(ScopeLeakError, match="RECENT"):
        wrapped({"id": 1}, LambdaContext())
    assert web.RECENT == []
