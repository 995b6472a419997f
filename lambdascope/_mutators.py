"""Which methods of builtin and standard-library containers change the object they are called on.

One list for the guard's runtime messages, its static write analysis, and ``lambdascope check``.
"""

from __future__ import annotations

__all__ = ["MUTATING_METHODS", "RETURNS_AN_ITEM"]

#: Methods of ``list``, ``dict``, ``set``, ``bytearray``, ``collections.deque``,
#: ``OrderedDict`` and ``Counter`` that write their receiver's top level.
MUTATING_METHODS = frozenset(
    {
        "__delitem__",
        "__iadd__",
        "__ior__",
        "__setitem__",
        "add",
        "append",
        "appendleft",
        "clear",
        "difference_update",
        "discard",
        "extend",
        "extendleft",
        "insert",
        "intersection_update",
        "move_to_end",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "reverse",
        "rotate",
        "setdefault",
        "sort",
        "subtract",
        "symmetric_difference_update",
        "update",
    }
)

#: Of those, the ones whose result is an item taken from (or left in) the receiver.
RETURNS_AN_ITEM = frozenset({"pop", "popitem", "popleft", "setdefault"})
