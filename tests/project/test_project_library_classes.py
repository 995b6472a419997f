"""Classes of the project built by a library's metaclass keep the library's bookkeeping in
private attributes: marshmallow fills a ``defaultdict`` in ``_hooks`` on every ``Schema``
subclass each time it loads. That is not the function's state: a handler loading with a
schema of its own runs clean. A private attribute the project's own code uses is still the
user's: writing it is caught.
"""

from __future__ import annotations

import importlib
import textwrap
from typing import TYPE_CHECKING

import pytest

from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from conftest import HandlerDir

pytest.importorskip("marshmallow")

SCHEMAS = """
from marshmallow import Schema, fields, post_load


class OrderSchema(Schema):
    order_id = fields.Str(required=True)
    quantity = fields.Int(load_default=1)
    _seen = []

    @post_load
    def total(self, data, **kwargs):
        data["total"] = data["quantity"] * 3
        return data


def remember(order_id):
    OrderSchema._seen.append(order_id)
"""

HANDLER = """
from lambdascope import handler

from .schemas import OrderSchema, remember

SCHEMA = OrderSchema()


@handler(watch_tmp=False)
def lambda_handler(event, context):
    order = SCHEMA.load(event["body"])
    if event.get("remember"):
        remember(order["order_id"])
    return order["total"]
"""


def _app(handler_dir: HandlerDir) -> object:
    package = handler_dir.path / "orders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "schemas.py").write_text(textwrap.dedent(SCHEMAS))
    (package / "handler.py").write_text(textwrap.dedent(HANDLER))
    return importlib.import_module("orders.handler")


def test_a_schema_loading_runs_clean_for_a_hundred_invocations(handler_dir: HandlerDir) -> None:
    app = _app(handler_dir)
    for number in range(100):
        body = {"order_id": f"o-{number}", "quantity": number % 4 + 1}
        assert app.lambda_handler({"body": body}, LambdaContext()) == (number % 4 + 1) * 3  # type: ignore[attr-defined]


def test_a_private_attribute_the_project_uses_is_still_watched(handler_dir: HandlerDir) -> None:
    app = _app(handler_dir)
    schemas = importlib.import_module("orders.schemas")
    with pytest.raises(ScopeLeakError, match="_seen"):
        app.lambda_handler({"body": {"order_id": "o-1"}, "remember": True}, LambdaContext())  # type: ignore[attr-defined]
    assert schemas.OrderSchema._seen == []
