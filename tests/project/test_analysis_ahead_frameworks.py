"""``lambdascope analyse`` for every handler form the guard accepts, on the web framework
projects really installed (issue 28): the adapter object itself (``Mangum(app)``, apig-wsgi's
handler, a ``functools.partial`` of serverless-wsgi's, a Powertools resolver, the Chalice
object), undecorated as the redirect serves it, or wrapped in ``handler()`` in the code.

The analysis chooses the guarded set and the roots the runtime chooses: the file lands at the
function's task root (never in the adapter library's folder), and a fresh process's first
invocation finds every guarded module analysed ahead.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import mangum
import pytest
from lambda_events import rest_v1
from project_support import cold_start

from lambdascope.cli import main

if TYPE_CHECKING:
    from project_support import ProjectMaker

FILE_NAME = "lambdascope-analysis.json"
SITE_PACKAGES = Path(mangum.__file__).resolve().parents[1]  # where the frameworks are

pytestmark = [
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]

# serverless-wsgi's own wsgi_handler does this: the library's function, bound to the app
SLS_ADAPTER = """
import functools

import serverless_wsgi

from .web import app

handler = functools.partial(serverless_wsgi.handle_request, app)
"""


@dataclasses.dataclass(frozen=True)
class Form:
    fixture: str
    package: str  # the package receiving the shared models, settings and clients
    setting: str  # the Lambda handler setting
    modules: frozenset[str]  # modules of the app the guard must cover


def _app(handler_module: str, routes: str, package: str = "app") -> frozenset[str]:
    parent = routes.rpartition(".")[0]
    shared = (f"{package}.models", f"{package}.settings", f"{package}.clients")
    return frozenset({handler_module, routes, f"{parent}.health", *shared})


FASTAPI = _app("app.handler", "app.routers.orders")
APIG = _app("app.lambda_apig", "app.views.orders")
SLS = _app("app.sls_adapter", "app.views.orders")
POWERTOOLS = _app("app.handler", "app.routes.orders")
CHALICE = _app("app", "chalicelib.orders", "chalicelib")
FORMS = {
    "mangum-object": Form("fastapi_shop", "app", "app.handler.adapter", FASTAPI),
    "mangum-decorated": Form("fastapi_shop", "app", "app.handler.lambda_handler", FASTAPI),
    "apig-wsgi-function": Form("flask_shop", "app", "app.lambda_apig.adapter", APIG),
    "serverless-wsgi-partial": Form("flask_shop", "app", "app.sls_adapter.handler", SLS),
    "powertools-resolver": Form("powertools_shop", "app", "app.handler.app", POWERTOOLS),
    "chalice-object": Form("chalice_shop", "chalicelib", "app.app", CHALICE),
    "chalice-decorated": Form("chalice_shop", "chalicelib", "app.lambda_handler", CHALICE),
}


@pytest.mark.parametrize("name", FORMS)
def test_analyse_writes_at_the_task_root_and_a_cold_start_uses_every_entry(
    make_project: ProjectMaker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    form = FORMS[name]
    files = {"app/sls_adapter.py": SLS_ADAPTER} if form.fixture == "flask_shop" else None
    project = make_project(form.fixture, files=files, web_common=form.package)
    environ = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ORDERS_TABLE_NAME": "orders-test",
        "ORDERS_REGION": "eu-west-1",
    }
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(project.root)  # the build runs it in the function's code folder

    assert main(["analyse", form.setting]) == 0
    out = capsys.readouterr().out
    assert f"wrote {project.root / FILE_NAME}" in out
    assert not (SITE_PACKAGES / FILE_NAME).exists()

    report = cold_start(project.root, form.setting, rest_v1("GET", "/health"))
    guard = report["guard"][0]
    assert form.modules <= set(guard["modules"])
    assert guard["analysed_ahead"] == guard["modules"]
    assert guard["analysed_live"] == {}
