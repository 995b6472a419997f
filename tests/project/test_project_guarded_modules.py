"""``lambdascope.guarded_modules(handler)`` (issue 20): which modules the guard watches, from
which file, and why — the project's modules, what ``modules=`` adds, less what ``exclude=``
leaves out; never the standard library, lambdascope, installed libraries or modules from
outside the project root.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lambda_events import rest_v1
from project_support import guarded

import lambdascope
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from project_support import ProjectMaker

pytestmark = [
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]

SHOP = {
    "app",
    "app.handler",
    "app.config",
    "app.models",
    "app.routes",
    "app.routes.orders",
    "app.routes.health",
    "app.services",
    "app.services.pricing",
    "app.services.audit",
    "app.services.notify",
    "app.repository",
    "app.repository.base",
    "app.repository.orders",
    "app.utils",
    "app.utils.ids",
    "app.utils.clock",
    "app.utils.money",
    "app.vendored",
    "app.vendored.backoff",
}
LAZY = "app.services.tax"  # imported by the first invocation that prices an order
NOT_THE_PROJECT = ("lambdascope", "mangum", "fastapi", "starlette", "pydantic", "anyio", "boto")


def order_event() -> dict[str, Any]:
    body = {"customer": "c-1", "items": [{"sku": "sku-1", "quantity": 2}]}
    return rest_v1("POST", "/orders", body=body)


def test_the_project_with_its_files_and_why(make_project: ProjectMaker) -> None:
    project = make_project("shop")
    lambda_handler = project.import_module("app.handler").lambda_handler
    assert set(guarded(lambda_handler)) == SHOP  # what Init imported

    assert lambda_handler(order_event(), LambdaContext())["statusCode"] == 201
    records = lambdascope.guarded_modules(lambda_handler)  # type: ignore[attr-defined]
    assert isinstance(records, list)
    assert {record.name for record in records} == {*SHOP, LAZY}
    for record in records:
        assert Path(record.file).resolve() == Path(sys.modules[record.name].__file__).resolve()
        assert Path(record.file).resolve().is_relative_to(project.root)
        assert isinstance(record.reason, str)
        assert "project" in record.reason, record.reason


@pytest.mark.usefixtures("aws")
def test_a_framework_app_is_its_own_modules_only(make_project: ProjectMaker) -> None:
    project = make_project("fastapi_shop", web_common="app")
    lambda_handler = project.import_module("app.handler").lambda_handler
    assert lambda_handler(order_event(), LambdaContext())["statusCode"] == 201
    names = set(guarded(lambda_handler))
    assert names == {
        "app",
        "app.handler",
        "app.main",
        "app.routers",
        "app.routers.orders",
        "app.routers.health",
        "app.models",
        "app.settings",
        "app.clients",
    }
    assert not [name for name in names if name.startswith(NOT_THE_PROJECT)]


def test_exclude_takes_modules_out_and_modules_adds_them(make_project: ProjectMaker) -> None:
    importlib.import_module("jmespath")  # an installed library the user asks to watch
    project = make_project("shop", options="exclude=('app.vendored',), modules=('jmespath',)")
    lambda_handler = project.import_module("app.handler").lambda_handler
    assert lambda_handler(order_event(), LambdaContext())["statusCode"] == 201
    records = guarded(lambda_handler)
    added = {name for name in sys.modules if name == "jmespath" or name.startswith("jmespath.")}
    assert set(records) == (SHOP | {LAZY} | added) - {"app.vendored", "app.vendored.backoff"}
    for name in added:
        assert "modules=" in records[name].reason, records[name].reason
        assert records[name].file == sys.modules[name].__file__


def test_modules_from_outside_the_project_root_are_not_guarded(
    make_project: ProjectMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shared_cache.py").write_text(
        "SEEN = []\n\n\ndef remember(key):\n    SEEN.append(key)\n    return len(SEEN)\n"
    )
    files = {
        "lambda_function.py": """
            import shared_cache

            from lambdascope import handler


            @handler
            def lambda_handler(event, context):
                return shared_cache.remember(event["key"])
            """
    }
    project = make_project(files=files)
    monkeypatch.syspath_prepend(str(elsewhere))  # a second folder on the path, not the root
    lambda_handler = project.import_module("lambda_function").lambda_handler
    assert [lambda_handler({"key": key}, None) for key in "abc"] == [1, 2, 3]
    assert set(guarded(lambda_handler)) == {"lambda_function"}


def test_anything_but_a_handler_is_a_clear_type_error() -> None:
    def plain(event: Any, context: Any) -> Any:
        return event

    with pytest.raises(TypeError, match="@handler"):
        lambdascope.guarded_modules(plain)  # type: ignore[attr-defined]
