"""Which modules are the project, decided from what the files are and what uses them (issue 27,
section 2): a subpackage that shares a vendored library's name, production modules named like
tests, a module that puts an object of its own class in ``sys.modules``, and the project found
through what a handler applied in a test calls (a resolver's bound method, a lambda).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest
from lambda_events import rest_v1
from project_support import allow_suggested, guarded

import lambdascope
from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from project_support import ProjectMaker

AUDIT = """
    RECORDS = []


    def record(event):
        RECORDS.append(event["id"])  # kept for the next request: a leak
        return len(RECORDS)
    """


def test_a_subpackage_named_like_a_vendored_library_is_the_projects(
    make_project: ProjectMaker,
) -> None:
    # app/redis/ and app/requests/ are the project's own folders: only a library at the top
    # of the tree (``import redis``) is the vendored one
    files = {
        "app/__init__.py": "",
        "app/handler.py": """
            from lambdascope import handler

            from app.redis import cache
            from app.requests import audit


            @handler
            def lambda_handler(event, context):
                return cache.remember(event["id"]) + audit.record(event)
            """,
        "app/redis/__init__.py": "",
        "app/redis/cache.py": """
            SEEN = {}


            def remember(key):
                return SEEN.get(key, 0)
            """,
        "app/requests/__init__.py": "",
        "app/requests/audit.py": AUDIT,
    }
    project = make_project(files=files)
    lambda_handler = project.import_module("app.handler").lambda_handler
    assert set(guarded(lambda_handler)) == {
        "app",
        "app.handler",
        "app.redis",
        "app.redis.cache",
        "app.requests",
        "app.requests.audit",
    }
    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler({"id": "o-1"}, LambdaContext())
    allow_suggested(
        str(caught.value), "app.requests.audit", "RECORDS", ["app.requests.audit.RECORDS"]
    )
    assert project.import_module("app.requests.audit").RECORDS == []


EXPERIMENTS = {
    "app/__init__.py": "",
    "app/handler.py": """
        from lambdascope import handler

        from app import test_mode
        from app.ab_test import variant_for
        from app.split_test import record


        @handler
        def lambda_handler(event, context):
            if test_mode.enabled():
                return "test"
            return variant_for(event["user"]) + str(record(event))
        """,
    # production modules whose names pytest would collect
    "app/ab_test.py": """
        VARIANTS = ("a", "b")


        def variant_for(user):
            return VARIANTS[len(user) % 2]
        """,
    "app/split_test.py": AUDIT,
    "app/test_mode.py": """
        import os

        FLAGS = {}


        def enabled():
            return os.environ.get("APP_TEST_MODE") == "1"
        """,
    # the project's real tests, beside the code as some projects keep them
    "app/handler_test.py": """
        import pytest

        CALLS = []


        def fake_record(event):
            CALLS.append(event["id"])  # a test's recorder: the test's state, not the function's
            return 0


        def test_variant():
            assert True
        """,
    "test_handler.py": """
        from app import handler

        SEEN = []


        def test_handler():
            SEEN.append(handler)
        """,
}


def test_production_modules_named_like_tests_are_guarded(make_project: ProjectMaker) -> None:
    project = make_project(files=EXPERIMENTS)
    lambda_handler = project.import_module("app.handler").lambda_handler
    project.import_module("app.handler_test")
    project.import_module("test_handler")
    names = set(guarded(lambda_handler))
    assert names == {"app", "app.handler", "app.ab_test", "app.split_test", "app.test_mode"}
    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler({"id": "o-1", "user": "ann"}, LambdaContext())
    allow_suggested(str(caught.value), "app.split_test", "RECORDS", ["app.split_test.RECORDS"])


def test_a_test_modules_fake_patched_into_the_code_stays_the_tests(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a test replaces a production function by a fake that records its calls in the test
    # module: the production module now holds the test's function, the test is still a test
    project = make_project(files=EXPERIMENTS)
    module = project.import_module("app.handler")
    tests = project.import_module("app.handler_test")
    monkeypatch.setattr(module, "record", tests.fake_record)
    for number in range(3):
        assert module.lambda_handler({"id": f"o-{number}", "user": "bo"}, LambdaContext()) == "a0"
    assert tests.CALLS == ["o-0", "o-1", "o-2"]
    assert "app.handler_test" not in guarded(module.lambda_handler)


def test_a_module_that_puts_an_object_of_its_own_class_in_its_place_is_guarded(
    make_project: ProjectMaker, request: pytest.FixtureRequest
) -> None:
    # the object has no file: the project's cleanup would not find it in sys.modules
    request.addfinalizer(lambda: sys.modules.pop("app.settings", None))
    files = {
        "app/__init__.py": "",
        "app/settings.py": """
            import sys

            SEEN = []


            class _Settings:
                @property
                def region(self):
                    return "eu-west-1"

                def remember(self, value):
                    SEEN.append(value)
                    return len(SEEN)


            sys.modules[__name__] = _Settings()
            """,
        "app/handler.py": """
            from lambdascope import handler

            from app import settings


            @handler
            def lambda_handler(event, context):
                return settings.remember(event["id"]), settings.region
            """,
    }
    project = make_project(files=files)
    lambda_handler = project.import_module("app.handler").lambda_handler
    records = guarded(lambda_handler)
    assert set(records) == {"app", "app.handler", "app.settings"}
    assert records["app.settings"].file == str(project.root / "app" / "settings.py")
    with pytest.raises(ScopeLeakError, match=r"module 'app\.settings': list `SEEN`"):
        lambda_handler({"id": "o-1"}, LambdaContext())


POWERTOOLS_ROUTES = {"app", "app.handler", "app.routes", "app.routes.orders", "app.routes.health"}


def _order() -> dict[str, Any]:
    return rest_v1(
        "POST", "/orders", body={"customer": "c-1", "items": [{"sku": "s", "quantity": 1}]}
    )


@pytest.mark.usefixtures("aws")
def test_a_resolvers_bound_method_wrapped_in_a_test_guards_the_app(
    make_project: ProjectMaker,
) -> None:
    project = make_project("powertools_shop", leaks=("route-append",), web_common="app")
    module = project.import_module("app.handler")
    wrapped = lambdascope.handler(module.app.resolve)  # applied here, in a test module
    assert set(guarded(wrapped)) >= POWERTOOLS_ROUTES
    with pytest.raises(ScopeLeakError) as caught:
        wrapped(_order(), LambdaContext())
    allow_suggested(
        str(caught.value), "app.routes.orders", "RECENT_ORDERS", ["app.routes.orders.RECENT_ORDERS"]
    )


@pytest.mark.usefixtures("aws")
def test_a_lambda_wrapped_in_a_test_guards_what_it_calls(make_project: ProjectMaker) -> None:
    project = make_project("powertools_shop", leaks=("route-append",), web_common="app")
    app = project.import_module("app.handler").app
    from_object = lambdascope.handler(lambda e, c: app.resolve(e, c))  # noqa: PLW0108
    assert set(guarded(from_object)) >= POWERTOOLS_ROUTES

    process = project.import_module("app.handler").wrapped_handler.__wrapped__
    from_function = lambdascope.handler(lambda e, c: process(e, c))  # noqa: PLW0108
    names = set(guarded(from_function))
    assert names >= POWERTOOLS_ROUTES
    assert __name__ in names  # the lambda's own module: its code is there
    with pytest.raises(ScopeLeakError) as caught:
        from_function(_order(), LambdaContext(function_name="orders"))
    allow_suggested(
        str(caught.value), "app.routes.orders", "RECENT_ORDERS", ["app.routes.orders.RECENT_ORDERS"]
    )


@pytest.mark.parametrize("descriptor", ["template.yaml", "serverless.yml"])
def test_the_code_folder_the_deployment_descriptor_names_is_the_project(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch, descriptor: str
) -> None:
    # deployed from src/ (the function's handler is orders/app.lambda_handler there); the
    # tests put src/orders/ on sys.path and import the handler's module as `app`
    files = {
        "src/orders/app.py": """
            from lambdascope import handler

            from shared import audit


            @handler
            def lambda_handler(event, context):
                return audit.record(event)
            """,
        "src/shared/__init__.py": "",
        "src/shared/audit.py": AUDIT,
    }
    if descriptor == "template.yaml":
        files["template.yaml"] = """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              OrdersFunction:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src/  # the whole folder is deployed
                  Handler: orders/app.lambda_handler
                  Runtime: python3.12
            """
    else:
        files["src/serverless.yml"] = "service: orders\nprovider:\n  name: aws\n"
    project = make_project(files=files)
    monkeypatch.syspath_prepend(str(project.root / "src"))
    monkeypatch.syspath_prepend(str(project.root / "src" / "orders"))
    lambda_handler = project.import_module("app").lambda_handler
    assert set(guarded(lambda_handler)) == {"app", "shared", "shared.audit"}
    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler({"id": "o-1"}, LambdaContext())
    allow_suggested(str(caught.value), "shared.audit", "RECORDS", ["shared.audit.RECORDS"])
