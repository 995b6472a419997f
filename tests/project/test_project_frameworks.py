"""Web frameworks as they run on Lambda, really installed (issue 20): the guard covers the
app's own modules whatever the handler target is — the adapter object (``Mangum(app)``,
apig-wsgi's handler, a ``functools.partial`` of serverless-wsgi's, Powertools' bound
``app.resolve``, the Chalice object) or a ``def`` around it.

Each app is an orders API laid out as such projects are: the app object at module level,
routers or blueprints in modules of their own, pydantic models, settings from the
environment (pydantic-settings) and a DynamoDB client created during Init (moto).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Callable

import pytest
from lambda_events import function_url, http_v2, rest_v1
from project_support import allow_suggested, guarded

from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from project_support import Project, ProjectMaker

pytestmark = [
    # Mangum() asks asyncio for the current event loop, which warns on Python 3.12 when the
    # main thread has none yet (it then creates one, as on Lambda).
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]

EventMaker = Callable[..., "dict[str, Any]"]


@pytest.fixture(autouse=True)
def _powertools_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools keeps its cold start in a module global: each test here is an environment
    of its own, and the flag is as it was for the tests that run after these."""
    from aws_lambda_powertools.logging import logger

    monkeypatch.setattr(logger, "is_cold_start", True)


@dataclasses.dataclass(frozen=True)
class Framework:
    fixture: str
    package: str  # the package that receives the shared models, settings and clients
    handler_module: str
    routes: str  # the module holding the orders routes (and the planted leak)
    formats: tuple[EventMaker, ...]  # the event formats its adapter accepts

    def modules(self) -> set[str]:
        """The app's modules that every invocation path loads."""
        parent = self.routes.rpartition(".")[0]
        return {
            self.handler_module,
            self.routes,
            f"{parent}.health",
            f"{self.package}.models",
            f"{self.package}.settings",
            f"{self.package}.clients",
        }


ALL_FORMATS = (rest_v1, http_v2, function_url)
FRAMEWORKS = {
    "fastapi-mangum": Framework(
        "fastapi_shop", "app", "app.handler", "app.routers.orders", ALL_FORMATS
    ),
    "flask-apig-wsgi": Framework(
        "flask_shop", "app", "app.lambda_apig", "app.views.orders", ALL_FORMATS
    ),
    "flask-serverless-wsgi": Framework(
        "flask_shop", "app", "app.lambda_sls", "app.views.orders", ALL_FORMATS
    ),
    "powertools-rest-resolver": Framework(
        "powertools_shop", "app", "app.handler", "app.routes.orders", (rest_v1,)
    ),
    "chalice": Framework("chalice_shop", "chalicelib", "app", "chalicelib.orders", (rest_v1,)),
}
# The adapter itself as the handler target, and a hand-written function around it.
STYLES = ("lambda_handler", "wrapped_handler")
CASES = [pytest.param(name, style, id=f"{name}-{style}") for name in FRAMEWORKS for style in STYLES]


def start(
    make_project: ProjectMaker, name: str, style: str, *leaks: str
) -> tuple[Project, Framework, Any]:
    framework = FRAMEWORKS[name]
    project = make_project(framework.fixture, leaks=leaks, web_common=framework.package)
    module = project.import_module(framework.handler_module)
    return project, framework, getattr(module, style)


def call(lambda_handler: Any, event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke as Lambda does; the status code and the decoded JSON body."""
    response = lambda_handler(event, LambdaContext(function_name="orders"))
    return response["statusCode"], json.loads(response["body"])


def create(fmt: EventMaker, customer: str) -> dict[str, Any]:
    body = {"customer": customer, "items": [{"sku": "sku-1", "quantity": 2}]}
    return fmt("POST", "/orders", body=body)


def read(fmt: EventMaker, order_id: str) -> dict[str, Any]:
    if fmt is rest_v1:
        return rest_v1(
            "GET",
            f"/orders/{order_id}",
            resource="/orders/{order_id}",
            path_parameters={"order_id": order_id},
        )
    return fmt("GET", f"/orders/{order_id}")


@pytest.mark.parametrize(("name", "style"), CASES)
@pytest.mark.usefixtures("aws")
def test_a_clean_app_is_guarded_and_serves_100_invocations_without_a_report(
    make_project: ProjectMaker, name: str, style: str
) -> None:
    project, framework, lambda_handler = start(make_project, name, style)
    for number in range(25):  # 4 requests each: 100 invocations
        fmt = framework.formats[number % len(framework.formats)]
        status, created = call(lambda_handler, create(fmt, f"c-{number}"))
        assert (status, created["customer"], created["quantity"]) == (201, f"c-{number}", 2)
        status, found = call(lambda_handler, read(fmt, created["order_id"]))
        assert (status, found["customer"]) == (200, f"c-{number}")
        assert call(lambda_handler, fmt("GET", "/orders/recent")) == (200, {"recent": []})
        status, health = call(lambda_handler, fmt("GET", "/health"))
        assert (status, health["status"], health["region"]) == (200, "ok", "eu-west-1")

    names = set(guarded(lambda_handler))
    assert framework.modules() <= names
    assert names == set(project.loaded())  # the app's modules: nothing of the frameworks'


@pytest.mark.parametrize(("name", "style"), CASES)
@pytest.mark.usefixtures("aws")
def test_a_per_request_append_in_a_route_module_is_caught_and_undone(
    make_project: ProjectMaker, name: str, style: str
) -> None:
    project, framework, lambda_handler = start(make_project, name, style, "route-append")
    routes = project.import_module(framework.routes)
    fmt = framework.formats[-1]
    for _ in range(2):  # the warm invocation starts from the Init state again
        with pytest.raises(ScopeLeakError) as caught:
            call(lambda_handler, create(fmt, "c-1"))
        allow_suggested(
            str(caught.value),
            framework.routes,
            "RECENT_ORDERS",
            [f"{framework.routes}.RECENT_ORDERS"],
        )
        assert routes.RECENT_ORDERS == []
        assert call(lambda_handler, fmt("GET", "/orders/recent")) == (200, {"recent": []})
