"""Class objects of the project: a class the code only uses (constructs, calls methods on,
reads constants of) is not compared on every invocation, so every way code can write a
class itself must still be caught: through a subclass in another module, an instance made
or returned by another module, ``cls``, ``type(self)``, ``self.__class__``, a library
function handed the class. A project whose classes are only used runs clean.
"""

from __future__ import annotations

import importlib
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from lambdascope import ScopeLeakError
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from conftest import HandlerDir

STORE = """
import abc
from dataclasses import dataclass


class Base:
    items = []

    @classmethod
    def register(cls, value):
        cls.seen = value


class Box:
    items = []


def make():
    return Box()


class Shape(abc.ABC):
    SIDES = 0

    @abc.abstractmethod
    def area(self): ...

    def describe(self):
        return f"{type(self).__name__} with {self.SIDES} sides"


class Square(Shape):
    SIDES = 4

    def __init__(self, side):
        self.side = side
        self.history = []

    def area(self):
        self.history.append(self.side)
        return self.side * self.side


@dataclass(frozen=True)
class Point:
    x: int = 0
    y: int = 0


LIMITS = (1, 2, 3)
"""

APP = """
import functools

from lambdascope import handler

from . import store


class Sub(store.Base):
    def add(self, value):
        self.items.append(value)


class Counter:
    count = 0

    def bump(self):
        self.__class__.count += 1

    def bump_type(self):
        type(self).count += 1


class Ordered:
    def __lt__(self, other):
        return False


class Walker(store.Box):
    def up(self):
        type(self).__mro__[1].tag = 1


class Quiet(store.Square):
    LABEL = "q"

    def label(self):
        return self.LABEL + str(self.area())


@handler(watch_tmp=False)
def lambda_handler(event, context):
{body}
"""


def _package(handler_dir: HandlerDir, body: str) -> Any:
    package = handler_dir.path / "shapes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text(textwrap.dedent(STORE))
    code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    (package / "app.py").write_text(textwrap.dedent(APP).format(body=code))
    return importlib.import_module("shapes.app")


WRITES = {
    "a subclass appends to a base's class list": ('Sub().add(event["user"])', "items"),
    "an instance another module returned": ('store.make().items.append(event["user"])', "items"),
    "an instance made through the module": ('store.Box().items.append(event["user"])', "items"),
    "a base's classmethod sets on a subclass": ('Sub.register(event["user"])', "seen"),
    "self.__class__": ("Counter().bump()", "count"),
    "type(self)": ("Counter().bump_type()", "count"),
    "a base reached through __mro__": ("Walker().up()", "tag"),
    "a base reached through __bases__": ("Walker.__bases__[0].tag = 2", "tag"),
    "a subclass reached through __subclasses__()": ("store.Box.__subclasses__()[0].tag = 3", "tag"),
    "a library function handed the class": (
        'functools.partial(setattr, Ordered)("flag", event["user"])',
        "flag",
    ),
}


@pytest.mark.parametrize("case", list(WRITES))
def test_a_class_written_is_caught_and_undone(handler_dir: HandlerDir, case: str) -> None:
    body, name = WRITES[case]
    app = _package(handler_dir, body)
    store = importlib.import_module("shapes.store")
    classes = (store.Base, store.Box, app.Sub, app.Counter, app.Walker)
    before = {cls: dict(vars(cls)) for cls in classes}
    with pytest.raises(ScopeLeakError, match=name):
        app.lambda_handler({"user": "u-1"}, LambdaContext())
    for cls, saved in before.items():
        assert dict(vars(cls)) == saved  # restored, lists emptied again
    assert store.Base.items == []
    assert store.Box.items == []


def test_classes_only_used_run_clean_for_a_hundred_invocations(handler_dir: HandlerDir) -> None:
    app = _package(
        handler_dir,
        """
        square = store.Square(len(event["user"]))
        quiet = Quiet(2)
        point = store.Point(x=square.area(), y=len(store.LIMITS))
        return [square.describe(), quiet.label(), point.x + point.y, Sub.__name__]
        """,
    )
    for number in range(100):
        result = app.lambda_handler({"user": "u" * (number % 5 + 1)}, LambdaContext())
        assert result[0] == "Square with 4 sides"
        assert result[1] == "q4"
