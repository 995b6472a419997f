"""Which of the module's classes handler-time code may write: the class objects themselves.

A class is a mutable object, and every method call or attribute read goes through it, so
the runtime would otherwise compare each class the code uses on every invocation. The
analysis lists the module-level class statements whose class object handler-time code
never writes (:attr:`Analysis.classes`). A class is not listed when it may be stored into
or deleted from through the class or a ``cls`` (``cls.count += 1``, ``Record.x = v``,
``cls.items.append(v)``), when the class or one of its instances reaches code the analysis
does not know (at any time, Init included: a library that keeps it may do anything
later), or when a decorator other than ``dataclass``/``total_ordering``/``final`` holds it.
A class reached through an instance or another class (``type(self).x = v``,
``self.__class__.x = v``, ``cls.__mro__[1].x = v``, ``cls.__bases__``, ``cls.__subclasses__()``)
written anywhere makes no class of the project vouched for, and every class of the project
watched (:attr:`Analysis.class_reached`).

A store through an instance (``self.items.append(v)``) writes what the instance's
attribute holds: a class attribute when the instance has none of its own, which the
runtime rules out by watching any class whose attributes hold more than functions,
descriptors and immutable values (``_census.quiet_classes``, which also joins the answers
of every module along the inheritance relation and checks the metaclass and bases).

Each method's receiver is a source of its own (:class:`Receiver`), whatever call reaches
it: a method called through a path the analysis cannot follow (a read-only method name
trusted by name, ``getattr``) still writes through its ``self`` or ``cls``.
"""

from __future__ import annotations

import ast

from ._facts import Graph
from ._tables import EXACT, IMMUTABLE, INSIDE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._facts import Class


# Class decorators whose result is the class, with no state they write later.
INERT_DECORATORS = frozenset(
    (
        "dataclasses.dataclass",
        "functools.total_ordering",
        "typing.final",
        "typing_extensions.final",
    )
)


class Receiver:
    """The owner of a receiver source: the ``self`` (*instance*) or ``cls`` of the methods
    of *cls*; with *cls* None, what ``type(x)`` and ``x.__class__`` evaluate to."""

    __slots__ = ("cls", "instance")

    def __init__(self, cls: Class | None, instance: bool) -> None:
        self.cls = cls
        self.instance = instance


class Classes(Graph):
    """The receiver sources and the verdict on each class (a mixin of the builder)."""

    def class_decorated(self, cls: Class, decorators: list[ast.expr]) -> None:
        """Record a class decorator that may keep the class (and write it later)."""
        for decorator in decorators:
            target = decorator.func if type(decorator) is ast.Call else decorator
            if self.qualify_expr(target) not in INERT_DECORATORS:
                cls.decorated = True

    if TYPE_CHECKING:

        def qualify_expr(self, node: ast.expr) -> str | None: ...  # the visitor's

    def mutable_class_attribute(self, class_name: str, attr: str) -> bool:
        """Can ``instance.attr`` reach a writable class attribute? (False when the class
        has no such attribute at run time, as for dataclass fields, or it is immutable.)"""
        cls = self.namespace.get(class_name)
        if not isinstance(cls, type):
            return True  # not there (yet): be conservative
        if attr not in cls.__dict__:
            return False
        return type(cls.__dict__[attr]) not in IMMUTABLE

    def plant_receivers(self, sources: list[tuple[str, Any]]) -> None:
        """Plant a source at every method's receiver, and one at every ``type(x)``."""
        for cls in self.classes:
            owners = {True: Receiver(cls, True), False: Receiver(cls, False)}
            for funcs in cls.methods.values():
                for func in funcs:
                    if func.receiver:
                        owner = owners[not func.classmethod]
                        self.add_fact(func.params[func.positional[0]], len(sources), EXACT)
                        sources.append((cls.name, owner))
        reached = Receiver(None, False)
        for node in self.typeof:
            self.add_fact(node, len(sources), EXACT)
            sources.append(("type()", reached))

    def class_source(
        self, sources: list[tuple[str, Any]], source: int
    ) -> tuple[Class | None, bool] | None:
        """``(class, instance)`` a source stands for: a class's own sources (numbered after
        *sources*, as solved: its instances and the class object), a method's receiver,
        ``type(x)`` (class None); None for any other source."""
        if source >= len(sources):
            return self.class_of[source - len(sources)]
        owner = sources[source][1]
        if type(owner) is Receiver:
            return owner.cls, owner.instance
        return None

    def class_verdicts(
        self, sources: list[tuple[str, Any]], facts: list[dict[int, int] | None]
    ) -> tuple[frozenset[str], bool]:
        """``(classes, class_reached)``: see the module docstring."""
        written, reached = self.class_writes(sources, facts)
        statements: dict[str, int] = {}
        for cls in self.classes:
            if not cls.local:
                statements[cls.name] = statements.get(cls.name, 0) + 1
        module = self.module
        vouched: list[str] = []
        for cls in self.classes:
            name = cls.name
            if (
                cls.local
                or cls.decorated
                or id(cls) in written
                or statements[name] > 1
                or name in module.other
                or name in self.rebound_anywhere
            ):
                continue
            vouched.append(name)
        return frozenset(vouched), reached

    def class_writes(
        self, sources: list[tuple[str, Any]], facts: list[dict[int, int] | None]
    ) -> tuple[set[int], bool]:
        """``(written, reached)``: ids of the classes whose class object may be written,
        and whether a class reached through an instance may be written."""
        written: set[int] = set()
        reached = False
        for node in self.stores:
            for source, bits in (facts[node] or {}).items():
                found = self.class_source(sources, source)
                if found is None:
                    continue
                cls, instance = found
                if cls is None:
                    reached = reached or bool(bits & (EXACT | INSIDE))
                elif not instance and bits & (EXACT | INSIDE):
                    written.add(id(cls))
        for node in [*self.leaks, *self.escapes, *self.called]:
            for source in facts[node] or ():
                found = self.class_source(sources, source)
                if found is not None:
                    if found[0] is None:
                        reached = True
                    else:
                        written.add(id(found[0]))
        return written, reached
