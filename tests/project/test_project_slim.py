"""Functions deployed as they are really built (issue 27): libraries in the task root without
their ``*.dist-info`` — what the Serverless Framework's serverless-python-requirements leaves
with ``slim: true`` (it deletes ``**/*.py[c|o]``, ``**/__pycache__*`` and ``**/*.dist-info*``
after ``pip install -t``), and what stripped layers hold — and the function's own package
installed with its dist-info (``pip install --target build/ .``).

Each build is made for real with pip from the package index, then run in a fresh interpreter
as on Lambda: ``LAMBDA_TASK_ROOT`` set, the task root first on ``sys.path`` and no
``site-packages`` (``python -S``), so every library is imported from the build. No library
module may be guarded (a clean app serves every request), and every module of the function's
own is (a planted leak in it is caught).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lambda_events import rest_v1
from project_support import pip_install

import lambdascope

REPOSITORY = Path(lambdascope.__file__).resolve().parents[1]

AUDIT = """
    RECORDS = []


    def record(order_id, leak=False):
        if leak:
            RECORDS.append(order_id)  # kept for the next request: a leak
        return order_id.upper()
    """

WEB_ROUTE = """
    from service import audit


    def order(order_id, leak):
        return {"id": audit.record(order_id, leak == "1")}
    """

#: Per library set: what pip installs, and the function's own modules (beside ``service``).
APPS: dict[str, tuple[str, dict[str, str]]] = {
    "flask-apig-wsgi": (
        "flask apig-wsgi",
        {
            "service/web.py": """
                from flask import Flask, jsonify, request

                from service import routes

                web = Flask(__name__)


                @web.get("/orders/<order_id>")
                def get_order(order_id):
                    return jsonify(routes.order(order_id, request.args.get("leak")))
                """,
            "lambda_function.py": """
                from apig_wsgi import make_lambda_handler

                from lambdascope import handler
                from service.web import web

                lambda_handler = handler(make_lambda_handler(web))
                """,
        },
    ),
    "fastapi-mangum": (
        "fastapi mangum",
        {
            "service/api.py": """
                from typing import Optional

                from fastapi import FastAPI

                from service import routes

                api = FastAPI()


                @api.get("/orders/{order_id}")
                def get_order(order_id: str, leak: Optional[str] = None):
                    return routes.order(order_id, leak)
                """,
            "lambda_function.py": """
                from mangum import Mangum

                from lambdascope import handler
                from service.api import api

                lambda_handler = handler(Mangum(api, lifespan="off"))
                """,
        },
    ),
    "powertools": (
        "aws-lambda-powertools",
        {
            "lambda_function.py": """
                from aws_lambda_powertools import Logger
                from aws_lambda_powertools.event_handler import APIGatewayRestResolver

                from lambdascope import handler
                from service import routes

                logger = Logger(service="orders")
                app = APIGatewayRestResolver()


                @app.get("/orders/<order_id>")
                def get_order(order_id):
                    return routes.order(order_id, app.current_event.get_query_string_value("leak"))


                @handler
                @logger.inject_lambda_context
                def lambda_handler(event, context):
                    return app.resolve(event, context)
                """,
        },
    ),
    "pydantic": (
        "pydantic",
        {
            "service/models.py": """
                from pydantic import BaseModel


                class Order(BaseModel):
                    order_id: str
                    quantity: int = 1
                """,
            "lambda_function.py": """
                from lambdascope import handler
                from service import audit
                from service.models import Order


                @handler
                def lambda_handler(event, context):
                    order = Order.model_validate(event["order"])
                    return {"id": audit.record(order.order_id, event.get("leak") == "1")}
                """,
        },
    ),
    "requests": (
        "requests",
        {
            "lambda_function.py": """
                import requests

                from lambdascope import handler
                from service import audit

                session = requests.Session()


                @handler
                def lambda_handler(event, context):
                    order_id = event["order"]["order_id"]
                    query = {"id": order_id}
                    url = requests.Request("GET", "https://example.com/orders", params=query)
                    session.prepare_request(url)
                    return {"id": audit.record(order_id, event.get("leak") == "1")}
                """,
        },
    ),
    "sqlalchemy": (
        "sqlalchemy",
        {
            "service/db.py": """
                from sqlalchemy import String, create_engine, select
                from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

                engine = create_engine("sqlite://")


                class Base(DeclarativeBase):
                    pass


                class Order(Base):
                    __tablename__ = "orders"
                    order_id: Mapped[str] = mapped_column(String(20), primary_key=True)


                Base.metadata.create_all(engine)


                def save(order_id):
                    with Session(engine) as session:
                        session.add(Order(order_id=order_id))
                        session.commit()
                        return len(session.scalars(select(Order)).all())
                """,
            "lambda_function.py": """
                from lambdascope import handler
                from service import audit, db


                @handler
                def lambda_handler(event, context):
                    order_id = event["order"]["order_id"]
                    db.save(order_id)
                    return {"id": audit.record(order_id, event.get("leak") == "1")}
                """,
        },
    ),
    "pytz": (
        "pytz",
        {
            "lambda_function.py": """
                import datetime

                import pytz

                from lambdascope import handler
                from service import audit


                @handler
                def lambda_handler(event, context):
                    order_id = event["order"]["order_id"]
                    zone = pytz.timezone(("Europe/Paris", "Asia/Tokyo")[int(order_id[-1]) % 2])
                    datetime.datetime(2026, 1, 15, 12, tzinfo=pytz.utc).astimezone(zone)
                    return {"id": audit.record(order_id, event.get("leak") == "1")}
                """,
        },
    ),
}
WEB = ("flask-apig-wsgi", "fastapi-mangum", "powertools")


def slim(folder: Path) -> None:
    """Delete what serverless-python-requirements' ``slim: true`` deletes."""
    doomed = [
        *folder.rglob("*.py[co]"),
        *folder.rglob("__pycache__*"),
        *folder.rglob("*.dist-info*"),
    ]
    for path in sorted(doomed, key=lambda p: len(p.parts)):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The libraries of each app, installed once per test module and slimmed."""
    base = tmp_path_factory.mktemp("slim-builds")

    class Builds(dict):  # type: ignore[type-arg]
        def __missing__(self, name: str) -> Path:
            folder = base / name
            pip_install(folder, *APPS[name][0].split())
            slim(folder)
            self[name] = folder
            return folder

    return Builds()


def run_on_lambda(root: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Import ``lambda_function`` from *root* in a fresh interpreter as Lambda does, invoke
    its handler with each event; the outcomes, the guarded modules and where the loaded
    modules came from."""
    script = textwrap.dedent(
        """
        import json, os, sys
        root, repository, events = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        sys.path[:0] = [root, repository]
        import lambdascope
        from lambdascope.testing import LambdaContext
        import lambda_function
        outcomes = []
        for event in events:
            try:
                lambda_function.lambda_handler(event, LambdaContext())
                outcomes.append("ok")
            except lambdascope.ScopeLeakError as leak:
                outcomes.append(str(leak))
        guarded = [m.name for m in lambdascope.guarded_modules(lambda_function.lambda_handler)]
        from_root = sorted({
            name.partition(".")[0] for name, module in list(sys.modules.items())
            if str(getattr(module, "__file__", "") or "").startswith(root + os.sep)
        })
        print(json.dumps({"outcomes": outcomes, "guarded": guarded, "from_root": from_root}))
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAMBDASCOPE_")}
    env.update(LAMBDA_TASK_ROOT=str(root), LAMBDASCOPE_COLD_START_REPORT="0")
    env.update(AWS_REGION="eu-west-1", POWERTOOLS_SERVICE_NAME="orders")
    done = subprocess.run(
        [sys.executable, "-S", "-c", script, str(root), str(REPOSITORY), json.dumps(events)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def events_for(name: str, *, leak: bool) -> list[dict[str, Any]]:
    query = {"leak": "1"} if leak else {}
    if name in WEB:
        return [
            rest_v1(
                "GET",
                f"/orders/o-{n}",
                resource="/orders/{order_id}",
                path_parameters={"order_id": f"o-{n}"},
                query=query or None,
            )
            for n in range(4)
        ]
    return [{"order": {"order_id": f"o-{n}"}, **query} for n in range(4)]


@pytest.mark.parametrize("name", list(APPS))
def test_a_slim_build_guards_the_functions_modules_and_no_librarys(
    builds: dict[str, Path], tmp_path: Path, name: str
) -> None:
    root = tmp_path / "task"
    shutil.copytree(builds[name], root)
    files = {"service/__init__.py": "", "service/audit.py": AUDIT, "service/routes.py": WEB_ROUTE}
    write(root, {**files, **APPS[name][1]})
    own = sorted({"lambda_function", "service"})

    clean = run_on_lambda(root, events_for(name, leak=False))
    assert clean["outcomes"] == ["ok"] * 4, clean["outcomes"][0][:2000]
    libraries = set(clean["from_root"]) - set(own)
    assert libraries, "the libraries were not imported from the build"
    guarded = clean["guarded"]
    assert {module.partition(".")[0] for module in guarded} <= set(own), guarded
    assert {"lambda_function", "service", "service.audit"} <= set(guarded)
    loaded_own = [n for n in guarded if n.startswith("service.")]
    assert loaded_own == sorted(loaded_own)

    leaky = run_on_lambda(root, events_for(name, leak=True)[:2])
    for outcome in leaky["outcomes"]:  # every request: the warm one starts from Init again
        assert "module 'service.audit': list `RECORDS`" in outcome, outcome


OWN_PACKAGE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "orders-function"
        version = "1.0.0"

        [tool.setuptools]
        packages = ["orders_fn", "orders_shared"]
        """,
    "orders_fn/__init__.py": "",
    "orders_fn/handler.py": """
        from lambdascope import handler

        from orders_fn import store
        from orders_shared import audit


        @handler
        def lambda_handler(event, context):
            return store.put(event["order"]["order_id"]) + audit.record(
                event["order"]["order_id"], event.get("leak") == "1"
            )
        """,
    "orders_fn/store.py": """
        ITEMS = {}


        def put(order_id):
            return order_id
        """,
    "orders_shared/__init__.py": "",
    "orders_shared/audit.py": AUDIT,
    "lambda_function.py": """
        from orders_fn.handler import lambda_handler
        """,
}


def test_the_functions_own_package_installed_with_its_dist_info_is_guarded(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    write(source, OWN_PACKAGE)
    build = tmp_path / "build"
    pip_install(build, "--no-deps", "--no-build-isolation", str(source))
    assert list(build.glob("orders_function-1.0.0.dist-info"))
    shutil.copy(source / "lambda_function.py", build / "lambda_function.py")

    clean = run_on_lambda(build, [{"order": {"order_id": "o-1"}}, {"order": {"order_id": "o-2"}}])
    assert clean["outcomes"] == ["ok", "ok"]
    assert clean["guarded"] == [
        "lambda_function",
        "orders_fn",
        "orders_fn.handler",
        "orders_fn.store",
        "orders_shared",
        "orders_shared.audit",
    ]
    leaky = run_on_lambda(build, [{"order": {"order_id": "o-1"}, "leak": "1"}])
    assert "module 'orders_shared.audit': list `RECORDS`" in leaky["outcomes"][0]


def test_a_project_module_named_like_a_standard_library_module_is_guarded(
    tmp_path: Path,
) -> None:
    # in the task root, profile.py and calendar.py shadow the standard library's: the file
    # the import system loaded decides, not the name
    root = tmp_path / "task"
    write(
        root,
        {
            "profile.py": AUDIT,
            "calendar.py": """
                HOLIDAYS = {"2026-12-25"}


                def is_holiday(day):
                    return day in HOLIDAYS
                """,
            "lambda_function.py": """
                import calendar
                import profile

                from lambdascope import handler


                @handler
                def lambda_handler(event, context):
                    calendar.is_holiday(event["day"])
                    return profile.record(event["order"]["order_id"], event.get("leak") == "1")
                """,
        },
    )
    clean = run_on_lambda(root, [{"day": "2026-12-24", "order": {"order_id": "o-1"}}])
    assert clean["outcomes"] == ["ok"]
    assert clean["guarded"] == ["calendar", "lambda_function", "profile"]
    leaky = run_on_lambda(root, [{"day": "d", "order": {"order_id": "o-1"}, "leak": "1"}])
    assert "module 'profile': list `RECORDS`" in leaky["outcomes"][0]
