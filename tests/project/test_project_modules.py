"""The guard covers the whole project (issue 20): a leak in any module of a 21-module package
is caught on the first invocation, named right and undone; the clean project runs warm.

The project is ``fixtures/shop``: an orders API (handler, routes, services, a repository
layer, shared utils, config, models, vendored code) with relative and absolute imports,
package re-exports and a lazy import. Each module holds one planted leak, each a different
idiom; a test switches one on (see project_support).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import warnings
from typing import TYPE_CHECKING, Any

import pytest
from lambda_events import rest_v1
from project_support import allow_suggested, guarded, planted_leaks

from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from project_support import ProjectMaker


def order_event(customer: str = "c-1", quantity: int = 12) -> dict[str, Any]:
    body = {
        "customer": customer,
        "tenant": "acme",
        "currency": "EUR",
        "country": "DE",
        "items": [{"sku": "sku-1", "quantity": quantity}, {"sku": "sku-2", "quantity": 1}],
    }
    return rest_v1("POST", "/orders", body=body)


def health_event() -> dict[str, Any]:
    return rest_v1("GET", "/health", source_ip="198.51.100.23")


@dataclasses.dataclass(frozen=True)
class Leak:
    """A planted leak: the module whose data it writes, the variable, the allow= name."""

    id: str
    owner: str
    variable: str
    allow: str = ""
    health: bool = False  # reached by GET /health instead of POST /orders

    @property
    def allow_names(self) -> list[str]:
        """The allow= names the message may suggest (the handler's module: its plain name too)."""
        names = [self.allow or f"{self.owner}.{self.variable}"]
        if self.owner == "app.handler":
            names.append(self.variable)
        return names

    def event(self) -> dict[str, Any]:
        return health_event() if self.health else order_event()


# One per module of the project, each a different idiom.
MODULE_LEAKS = [
    Leak("package-global", "app", "SERVED"),  # global SERVED; SERVED += 1 in a package __init__
    Leak("handler-counter", "app.handler", "ROUTE_HITS"),  # Counter.update
    Leak("config-instance-attribute", "app.config", "SETTINGS"),  # SETTINGS.tenant = ...
    Leak("models-class-attribute", "app.models", "Order"),  # Order.by_id[...] = self
    Leak("routes-memo", "app.routes", "_RESOLVED"),  # a memo dict filled per request
    Leak("orders-append", "app.routes.orders", "RECENT"),  # list.append
    Leak("health-set-add", "app.routes.health", "CALLERS", health=True),  # set.add
    Leak("services-setdefault", "app.services", "DEFAULTS"),  # dict.setdefault
    Leak(  # a mutable default argument
        "pricing-mutable-default",
        "app.services.pricing",
        "apply_discounts",
        allow="app.services.pricing.apply_discounts.applied",
    ),
    Leak("audit-instance-list", "app.services.audit", "TRAIL"),  # TRAIL.entries.append
    Leak("notify-setattr-other-module", "app.config", "ALERT_TOPIC"),  # setattr(config, ...)
    Leak("repository-ordereddict", "app.repository", "_REPOSITORIES"),  # move_to_end
    Leak("base-deque", "app.repository.base", "RECENT_KEYS"),  # deque.append
    Leak("repository-cross-module", "app.repository.base", "DEFAULT_ITEM"),  # base.X[k][j] = v
    Leak("utils-sort", "app.utils", "KNOWN_CURRENCIES"),  # list.sort() in place
    Leak("ids-pop", "app.utils.ids", "POOL"),  # list.pop
    Leak("clock-class-rebind", "app.utils.clock", "Clock"),  # cls.last = ...
    Leak("money-defaultdict", "app.utils.money", "TOTALS"),  # defaultdict: TOTALS[k] += v
    Leak("vendored-policy-update", "app.vendored", "POLICY"),  # dict.update
    Leak("vendored-stats", "app.vendored.backoff", "_STATS"),  # d[k] += 1
]

# Writes into another module's data, in every spelling.
CROSS_MODULE_LEAKS = [
    Leak("notify-setattr-other-module", "app.config", "ALERT_TOPIC"),  # setattr(config, "X", v)
    Leak("notify-assign-other-module", "app.config", "ALERT_TOPIC"),  # config.X = v
    Leak("notify-import-as", "app.repository.base", "DEFAULT_ITEM"),  # import a.b as store
    Leak("notify-dotted-path", "app.utils.money", "TOTALS"),  # app.utils.money.TOTALS[k] += 1
    Leak("notify-from-import", "app.utils", "KNOWN_CURRENCIES"),  # from app.utils import X
    Leak("notify-helper-argument", "app.config", "FLAGS"),  # merge_into(config.FLAGS, ...)
    Leak("repository-cross-module", "app.repository.base", "DEFAULT_ITEM"),  # from . import base
]

LAZY = Leak("tax-lazy-iadd", "app.services.tax", "HISTORY")  # HISTORY["countries"] += [...]

ALL_LEAKS = {leak.id: leak for leak in [*MODULE_LEAKS, *CROSS_MODULE_LEAKS, LAZY]}


def cases(leaks: list[Leak]) -> list[Any]:
    """One parameter per leak; a leak in the handler's own module is caught already today."""
    return [pytest.param(leak, id=leak.id, marks=()) for leak in leaks]


def load(make_project: ProjectMaker, *leaks: str, options: str | None = None) -> Any:
    project = make_project("shop", leaks=leaks, options=options)
    return project, project.import_module("app.handler").lambda_handler


def caught_leak(lambda_handler: Any, owner: str, variable: str, event: Any = None) -> str:
    """The message of the ScopeLeakError the next invocation raises, checked to name the leak
    of *variable* in module *owner* and to suggest ``allow=('owner.variable',)``."""
    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler(event or order_event(), LambdaContext())
    message = str(caught.value)
    allow_suggested(message, owner, variable, [f"{owner}.{variable}"])
    return message


def first_report(lambda_handler: Any, event: dict[str, Any], invocations: int = 1) -> str:
    """The message of the ScopeLeakError raised by the first of *invocations* that fails."""
    for _ in range(invocations):
        try:
            lambda_handler(event, LambdaContext())
        except ScopeLeakError as exc:
            return str(exc)
    pytest.fail(f"no ScopeLeakError in {invocations} invocation(s)")


def test_the_clean_project_is_guarded_whole_and_runs_100_invocations_without_a_report(
    make_project: ProjectMaker,
) -> None:
    project, lambda_handler = load(make_project)
    context = LambdaContext()
    events = [order_event, health_event, lambda: rest_v1("GET", "/orders/recent")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number in range(100):
            event = events[number % 3]()
            response = lambda_handler(event, context)
            assert response["statusCode"] == (201 if event["httpMethod"] == "POST" else 200)
            if event["resource"] == "/orders/recent":
                assert json.loads(response["body"]) == {"recent": []}
    assert caught == []
    # ... and it ran guarded: every module the function loaded is in the guarded set,
    loaded = set(project.loaded())
    assert set(guarded(lambda_handler)) == loaded
    # and every one of them holds a planted leak that a test below switches on
    assert {planted_leaks("shop")[leak.id] for leak in [*MODULE_LEAKS, LAZY]} == loaded


@pytest.mark.parametrize("leak", cases(MODULE_LEAKS))
def test_a_leak_in_any_module_is_caught_on_the_first_invocation_and_undone(
    make_project: ProjectMaker, leak: Leak
) -> None:
    project, lambda_handler = load(make_project, leak.id)
    assert leak.owner in project.loaded()
    before = project.state()
    for _ in range(2):  # restored: the warm invocation starts from the Init state again
        with pytest.raises(ScopeLeakError) as caught:
            lambda_handler(leak.event(), LambdaContext())
        message = str(caught.value)
        assert "lambda_handler" in message
        allow_suggested(message, leak.owner, leak.variable, leak.allow_names)
        assert project.state_of(before) == before


@pytest.mark.parametrize("leak", cases(CROSS_MODULE_LEAKS))
def test_writes_into_another_modules_data_are_caught_and_undone(
    make_project: ProjectMaker, leak: Leak
) -> None:
    project, lambda_handler = load(make_project, leak.id)
    before = project.state()
    caught_leak(lambda_handler, leak.owner, leak.variable)
    assert project.state_of(before) == before


@pytest.mark.parametrize("leak", cases(list(ALL_LEAKS.values())))
def test_the_suggested_allow_works(make_project: ProjectMaker, leak: Leak) -> None:
    _, lambda_handler = load(make_project, leak.id)
    message = first_report(lambda_handler, leak.event(), invocations=2 if leak is LAZY else 1)
    suggestion = allow_suggested(message, leak.owner, leak.variable, leak.allow_names)

    _, allowed = load(make_project, leak.id, options=suggestion)
    for _ in range(3):
        assert allowed(leak.event(), LambdaContext())["statusCode"] in (200, 201)


def test_a_lazily_imported_module_joins_as_soon_as_it_is_imported(
    make_project: ProjectMaker,
) -> None:
    project, lambda_handler = load(make_project, LAZY.id)
    assert "app.services.tax" not in sys.modules
    assert "app.services.tax" not in guarded(lambda_handler)
    # the invocation that imports it runs the module's top-level code (Init work, accepted),
    # then writes its HISTORY: that write, in the same invocation, is caught and undone
    caught_leak(lambda_handler, LAZY.owner, LAZY.variable)
    assert "app.services.tax" in guarded(lambda_handler)
    tax = sys.modules["app.services.tax"]
    assert tax.HISTORY == {"countries": []}  # as its top-level code left it
    joined = project.state_of(["app.services.tax"])
    # and from then on it is guarded like the rest
    caught_leak(lambda_handler, LAZY.owner, LAZY.variable)
    assert project.state_of(["app.services.tax"]) == joined


@pytest.mark.parametrize("target", ["method_handler", "instance_handler", "partial_handler"])
def test_any_handler_target_guards_the_project(make_project: ProjectMaker, target: str) -> None:
    project = make_project("shop", leaks=("orders-append",))
    entrypoints = project.import_module("app.entrypoints")
    lambda_handler = getattr(entrypoints, target)
    before = project.state()
    caught_leak(lambda_handler, "app.routes.orders", "RECENT")
    assert project.state_of(before) == before
    assert sys.modules["app.routes.orders"].RECENT == []


def test_allow_accepts_one_variable_of_any_module_and_only_that_one(
    make_project: ProjectMaker,
) -> None:
    _, lambda_handler = load(
        make_project, "orders-append", options="allow=('app.routes.orders.RECENT',)"
    )
    for number in range(3):
        assert lambda_handler(order_event(f"c-{number}"), LambdaContext())["statusCode"] == 201
    assert len(sys.modules["app.routes.orders"].RECENT) == 3  # the deliberate cache keeps them

    _, lambda_handler = load(
        make_project, "orders-append", "base-deque", options="allow=('app.routes.orders.RECENT',)"
    )
    message = caught_leak(lambda_handler, "app.repository.base", "RECENT_KEYS")
    assert "`RECENT`" not in message


VENDORED = ("vendored-stats", "vendored-policy-update")  # the vendored package's own bookkeeping


def test_exclude_leaves_a_package_and_its_submodules_out(make_project: ProjectMaker) -> None:
    _, lambda_handler = load(make_project, *VENDORED, options="exclude=('app.vendored',)")
    for _ in range(3):
        assert lambda_handler(order_event(), LambdaContext())["statusCode"] == 201
    assert sys.modules["app.vendored.backoff"]._STATS["calls"] == 3
    names = set(guarded(lambda_handler))
    assert "app.routes.orders" in names
    assert not {"app.vendored", "app.vendored.backoff"} & names


def test_exclude_of_a_module_leaves_its_package_guarded(make_project: ProjectMaker) -> None:
    _, lambda_handler = load(make_project, *VENDORED, options="exclude=('app.vendored.backoff',)")
    message = caught_leak(lambda_handler, "app.vendored", "POLICY")
    assert "_STATS" not in message
    assert "app.vendored.backoff" not in guarded(lambda_handler)


TOP_LEVEL = {
    "lambda_function.py": """
        from lambdascope import handler

        import pricing
        from helpers import parse


        @handler
        def lambda_handler(event, context):
            order = parse(event)
            return {"total": str(pricing.total(order["items"]))}
        """,
    "helpers.py": """
        import json

        SEEN = []


        def parse(event):
            order = json.loads(event["body"])
            # LEAK(helpers-append): SEEN.append(order["id"])
            return order
        """,
    "pricing.py": """
        from decimal import Decimal

        PRICES = {"sku-1": Decimal("9.99")}


        def total(items):
            return sum((PRICES[sku] * quantity for sku, quantity in items), Decimal(0))
        """,
}


def test_top_level_modules_beside_the_handler_module_are_the_project(
    make_project: ProjectMaker,
) -> None:
    # the console's layout: lambda_function.py and its helper modules side by side
    event = rest_v1("POST", "/orders", body={"id": "o-1", "items": [["sku-1", 2]]})
    project = make_project(files=TOP_LEVEL)
    clean = project.import_module("lambda_function").lambda_handler
    for _ in range(3):
        assert clean(event, LambdaContext()) == {"total": "19.98"}
    assert set(guarded(clean)) == {"lambda_function", "helpers", "pricing"}

    project = make_project(files=TOP_LEVEL, leaks=("helpers-append",))
    leaky = project.import_module("lambda_function").lambda_handler
    caught_leak(leaky, "helpers", "SEEN", event)
    assert sys.modules["helpers"].SEEN == []
