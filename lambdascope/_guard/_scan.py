"""The census scan: does a value the handler reads hold something whose use can write it?

Instances and classes of the guarded modules (their methods, properties and dunders can
write them, whatever they are called) and mappings that insert on a read (``__missing__``).
One pass per value, in C (the pickler walking the value and writing nowhere), memory flat in
the size of the data; a Python walk for what the pickler cannot do (cycles, deep nesting).
"""

from __future__ import annotations

import sys

from ._kinds import FUNCTION_TYPE, KINDS, MISSING, NAMESPACE, SCALARS, held, runs_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _contents(obj: Any, kind: type) -> Any:
    """What a builtin container, tuple (a namedtuple too) or attribute bag holds (a
    mapping's keys and values as pairs); None for anything else."""
    if kind in KINDS:
        return obj.items() if KINDS[kind][1] is dict else obj
    if issubclass(kind, tuple):  # read from its storage: a subclass's __iter__ never runs
        return tuple.__iter__(obj)
    if issubclass(kind, frozenset):
        return frozenset.__iter__(obj)
    if kind is NAMESPACE:
        return vars(obj).values()
    pairs = held(obj)  # a bound method's receiver, a partial's arguments, a holder's data
    return None if pairs is None else [value for _, value in pairs]


def reaches_code(value: Any, names: frozenset[str], functions: list[Any]) -> bool:
    """Does *value* hold, through builtin containers, tuples and attribute bags, an object
    for which :func:`runs_code` holds? Functions met on the way are added to *functions*
    (their closures may keep state). Run once per watched name, on the first invocation.

    The walk is the C pickler's (a tenth of the time a Python loop takes over plain data),
    writing nowhere: builtin containers are walked in C, anything else is handed to
    :meth:`_Scan.reducer_override`, which looks into what the guard looks into and no
    further, and never runs the object's own code. Memory stays flat in the size of the
    data. Cycles, very deep or heavily shared data go to :func:`_reaches_code_slowly`.
    """
    scan = _scanner(names, functions)
    if scan is not None:
        try:
            scan.dump(value)
        except Exception:  # a cycle, too deep, too much shared: the slow walk decides
            scan = None
        else:
            return bool(scan.found)
    return _reaches_code_slowly(value, names, functions)


def _nothing(*args: object) -> None:
    """What the scan says every opaque object is made of: nothing it looks into."""


_NOTHING = (_nothing, ())


_scan_class: Any = None


def _scanner(names: frozenset[str], functions: list[Any]) -> Any:
    """A :class:`_Scan` (built on ``_pickle``, imported on the first census), or None."""
    global _scan_class
    if _scan_class is None:
        try:
            from _pickle import Pickler
        except ImportError:  # pragma: no cover - CPython always has it
            _scan_class = False
            return None

        class _Scan(Pickler):
            """Walks a value with the pickler's C loop; classifies what is not plain data."""

            found: bool
            names: frozenset[str]
            functions: list[Any]

            def reducer_override(self, obj: Any) -> Any:
                if obj is _nothing:
                    return NotImplemented  # the pickler writes it as a name, nothing more
                kind = type(obj)
                if kind is FUNCTION_TYPE:
                    self.functions.append(obj)
                    return _NOTHING
                if runs_code(obj, kind, self.names):
                    self.found = True
                items = _contents(obj, kind)
                return _NOTHING if items is None else (_nothing, (), None, iter(items))

        _scan_class = _Scan
    if _scan_class is False:
        return None
    scan = _scan_class(_Sink(), 5)
    scan.fast = True  # no memo: memory stays flat; a cycle raises ValueError
    scan.found = False
    scan.names = names
    scan.functions = functions
    return scan


class _Sink:
    """Where the scan writes: nowhere. It stops the scan of heavily shared data (the
    same parts written again and again) once it has written 64 MiB."""

    __slots__ = ("written",)

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)
        if self.written > 1 << 26:
            raise ValueError("too much shared data for the fast scan")


def _reaches_code_slowly(value: Any, names: frozenset[str], functions: list[Any]) -> bool:
    """:func:`reaches_code` in Python: one iterator per level, and only objects something
    else also refers to are remembered (to stop at cycles and shared parts); an object its
    container alone refers to cannot be met twice."""
    found = False
    stack: list[Any] = [iter((value,))]
    seen: set[int] = set()
    getrefcount = sys.getrefcount
    while stack:
        try:
            obj = next(stack[-1], MISSING)
        except Exception:  # a container changed size under us (another thread): done with it
            obj = MISSING
        if obj is MISSING:
            stack.pop()
            continue
        kind = type(obj)
        if kind in SCALARS:
            continue
        if kind is FUNCTION_TYPE:
            functions.append(obj)
            continue
        shared = getrefcount(obj) > _UNIQUE  # held elsewhere too: may be met again
        try:
            if runs_code(obj, kind, names):
                found = True
            items = _contents(obj, kind) if kind not in _PLAIN else _plain_contents(obj, kind)
            if items is None or id(obj) in seen:
                continue  # not a container, or met before
        except Exception:  # an object that refuses to be looked at: its own business
            continue
        if shared:
            seen.add(id(obj))
        stack.append(iter(items))
    return found


# References to an object met by _reaches_code_slowly that only its container holds: the
# container, the local variable and getrefcount's argument.
_UNIQUE = 3


# What the pickler walks in C without asking: plain builtin containers.
_PLAIN = frozenset({dict, list, set, frozenset, tuple})


def _plain_contents(obj: Any, kind: type) -> Any:
    return obj.items() if kind is dict else obj
