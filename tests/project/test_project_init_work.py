"""Init work that runs during an invocation is never a leak, and a restore never fails
(issue 27, section 1): a module imported inside the handler registering itself, an ORM
configuring the user's classes on the first query, an object that refuses to be put back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from project_support import handler_project

import lambdascope
from lambdascope import ScopeLeakError

if TYPE_CHECKING:
    from project_support import ProjectMaker

ROUTES = {
    "app/routes.py": """
        ROUTES = {}


        def route(name):
            def register(func):
                ROUTES[name] = func
                return func

            return register
    """,
    "app/reports.py": """
        from app.routes import route

        LOADED = []
        LOADED.append("reports")  # its own top-level state, filled at import


        @route("report")
        def report(event):
            return f"report {event['n']}"
    """,
}


def test_a_module_imported_by_the_handler_registers_its_route_as_init_work(
    make_project: ProjectMaker,
) -> None:
    body = """
        if event["route"] == "report":
            import app.reports  # imported on first use: its route registers itself
        return ROUTES[event["route"]](event)
    """
    project, lambda_handler = handler_project(
        make_project, ROUTES, body, "from app.routes import ROUTES"
    )
    assert "app.reports" not in project.loaded()
    answers = [lambda_handler({"route": "report", "n": n}, None) for n in range(4)]
    assert answers == [f"report {n}" for n in range(4)]
    assert list(project.loaded()["app.routes"].ROUTES) == ["report"]


def test_a_leak_before_a_lazy_import_is_undone_and_the_registration_stays(
    make_project: ProjectMaker,
) -> None:
    body = """
        if event.get("mark"):
            ROUTES["last"] = event["mark"]  # request data in the registry: a leak
        import app.reports

        return ROUTES[event["route"]](event)
    """
    project, lambda_handler = handler_project(
        make_project, ROUTES, body, "from app.routes import ROUTES"
    )
    with pytest.raises(ScopeLeakError, match=r"dict `ROUTES` was modified in place"):
        lambda_handler({"route": "report", "n": 1, "mark": "m"}, None)
    routes = project.loaded()["app.routes"].ROUTES
    assert list(routes) == ["report"]  # the request's key undone, the import's work kept
    assert lambda_handler({"route": "report", "n": 2}, None) == "report 2"


MODELS = """
    from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
    from sqlalchemy.orm import declarative_base, relationship

    Base = declarative_base()


    class Customer(Base):
        __tablename__ = "customers"
        id = Column(Integer, primary_key=True)
        name = Column(String)


    class Order(Base):
        __tablename__ = "orders"
        id = Column(Integer, primary_key=True)
        customer_id = Column(Integer, ForeignKey("customers.id"))
        customer = relationship("Customer", backref="orders")  # Customer.orders: made lazily


    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
"""


def test_an_orm_configuring_the_users_classes_on_the_first_query_is_not_a_leak(
    make_project: ProjectMaker, request: pytest.FixtureRequest
) -> None:
    body = """
        with Session(engine) as session:
            customer = Customer(name=event["name"])
            session.add(Order(customer=customer))
            session.commit()
            return len(customer.orders)
    """
    imports = "from sqlalchemy.orm import Session\n\nfrom app.models import Customer, Order, engine"
    project, lambda_handler = handler_project(
        make_project, {"app/models.py": MODELS}, body, imports
    )
    models = project.loaded()["app.models"]
    request.addfinalizer(models.engine.dispose)  # its sqlite connection, closed
    assert "orders" not in vars(models.Customer)  # configured on the first query
    assert [lambda_handler({"name": f"c{n}"}, None) for n in range(3)] == [1, 1, 1]
    assert "orders" in vars(models.Customer)


def test_request_data_on_an_orm_class_is_still_a_leak(
    make_project: ProjectMaker, request: pytest.FixtureRequest
) -> None:
    body = 'Customer.last_name = event["name"]\nreturn "ok"'
    project, lambda_handler = handler_project(
        make_project, {"app/models.py": MODELS}, body, "from app.models import Customer"
    )
    models = project.loaded()["app.models"]
    request.addfinalizer(models.engine.dispose)
    with pytest.raises(ScopeLeakError, match=r"`Customer` were set or deleted"):
        lambda_handler({"name": "c1"}, None)
    assert "last_name" not in vars(models.Customer)


SEALED = """
    class Sealed(type):
        def __delattr__(cls, name):
            raise TypeError(f"{cls.__name__} is sealed")


    class Settings(metaclass=Sealed):
        region = "eu-west-1"
"""


def test_an_object_that_refuses_to_be_restored_is_reported_never_an_internal_error(
    make_project: ProjectMaker,
) -> None:
    body = 'Settings.tenant = event["tenant"]\nreturn Settings.region'
    _, lambda_handler = handler_project(
        make_project, {"app/settings.py": SEALED}, body, "from app.settings import Settings"
    )
    with pytest.raises(ScopeLeakError) as raised:
        lambda_handler({"tenant": "acme"}, None)
    message = str(raised.value)
    assert "`Settings` (TypeError), which refused to be restored" in message
    assert "the next invocation in this environment will see that change" in message
    assert "acme" not in message


@pytest.mark.guard_internal_error
def test_an_error_inside_the_guard_never_fails_the_request_nor_disarms_the_guard(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug of the guard's own (injected here: linking the project fails once) lets the
    invocation through, is logged without the error's text, and the next invocation starts
    the guard again: a leak then is caught."""
    import lambdascope._guard._watch as watch

    project = make_project(
        files={
            "app/__init__.py": "",
            "app/handler.py": """
                from lambdascope import handler

                SEEN = []


                @handler
                def lambda_handler(event, context):
                    if event.get("leak"):
                        SEEN.append(event["user"])
                    return "ok"
            """,
        }
    )
    lambda_handler = project.import_module("app.handler").lambda_handler
    real_link = watch.link_project
    calls: list[int] = []

    def link_once_broken(spaces: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("alice@example.com")  # an error whose text holds request data
        real_link(spaces)  # type: ignore[arg-type]

    monkeypatch.setattr(watch, "link_project", link_once_broken)
    with caplog.at_level("ERROR", logger="lambdascope"):
        assert lambda_handler({"user": "alice@example.com"}, None) == "ok"
    [record] = [r for r in caplog.records if r.name == "lambdascope"]
    assert "internal error (KeyError at " in record.getMessage()
    assert "alice@example.com" not in record.getMessage()
    assert record.exc_info is None
    with pytest.raises(ScopeLeakError, match=r"list `SEEN`"):
        lambda_handler({"user": "bob@example.com", "leak": True}, None)
    assert project.loaded()["app.handler"].SEEN == []
    report = lambdascope.init_report()
    [entry] = [g for g in report["guard"] if g["handler"] == "app.handler.lambda_handler"]
    assert entry["internal_errors"] == 1
