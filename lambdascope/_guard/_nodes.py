"""One watched object: its shallow copy, how it is compared, described and restored.

A :class:`Node` is a container, an instance's attributes or slots, a class namespace or a
closure cell, with the copy taken at the snapshot; :class:`Origin` says where the walk that
found it started (a module-level name, a default argument, a closure variable). The fast
check compares by identity in C (:meth:`Node.check`); :meth:`Node.state` looks closer when
that fails.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from itertools import repeat
from operator import is_

from ._kinds import (
    COPIES,
    MISSING,
    SCALARS,
    cell_values,
    class_attr,
    class_namespace,
    instance_dict,
    internal,
    library_descriptor,
    slot_names,
    slot_values,
)
from ._redact import Words, class_words, keys_text, project_words, step_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Container
    from typing import Any, Protocol

    class Owner(Protocol):
        """The guarded module a walk started in (a :class:`~._census.Space`)."""

        name: str
        namespace: dict[str, Any]
        named: Container[str]  # the private names the project's code uses
        project: frozenset[str]  # the names of the guarded modules

        def constants(self) -> frozenset[Any]: ...


class Node:
    """One watched mutable object, its shallow copy and where it was found."""

    __slots__ = (
        "children",
        "family",
        "kind",
        "obj",
        "ordered",
        "origin",
        "parent",
        "slots",
        "snap",
        "steps",
    )

    def __init__(  # noqa: PLR0917 - one internal call site
        self,
        obj: Any,
        kind: str,
        family: type | None,
        origin: Origin,
        parent: Node | None,
        steps: tuple[tuple[str, Any], ...],
        variable: str = "",
    ) -> None:
        self.obj = obj
        # "list", "dict", ... (or the name of the user's subclass), "attributes", "slots",
        # "class", "cell" (a closure cell of a function: *variable* names it)
        self.kind = kind
        self.family = family  # list, dict, set, deque, bytearray, array; None: named values
        self.ordered = family is dict and issubclass(type(obj), OrderedDict)
        self.origin = origin
        self.parent = parent
        self.steps = steps  # how to get here from the parent: ("[", 0), (".", "attr"), ...
        if kind == "slots":
            self.slots = slot_names(type(obj))
        elif kind == "defaults":  # a function's default values (``f.__defaults__ = ...``)
            self.slots = ("__defaults__", "__kwdefaults__")
        elif kind == "cell":
            self.slots = (variable,)
        else:
            self.slots = ()
        self.snap = self.copy()
        self.children = self._children()

    @property
    def path(self) -> str:
        """``ROOT['key'].attr[0]``: built only when a message needs it. Keys and attribute
        names the source does not write stand as their type (``ROOT[<str>]``)."""
        texts: list[str] = []
        node: Node | None = self
        while node is not None:
            parent = node.parent  # the first step is into it, the others through tuples
            texts[:0] = [
                _step_text(how, key, parent if i == 0 else None)
                for i, (how, key) in enumerate(node.steps)
            ]
            node = parent
        return self.origin.label + "".join(texts)

    def words(self) -> Words:
        """What a message may show of this object's keys and attribute names: the words of
        the sources of the project and of the modules defining its class (and bases)."""
        cls = self.obj if self.kind == "class" else type(self.obj)
        return project_words(self.origin.space) | class_words(cls)

    def live(self) -> Any:
        """The object's own storage to compare with the snapshot in the fast check: the
        container, the instance's ``__dict__``, the class's namespace; the values of slots
        and cells (read afresh)."""
        obj, kind = self.obj, self.kind
        if kind in ("slots", "defaults"):
            return slot_values(obj, self.slots)
        if kind == "cell":
            return cell_values(obj, self.slots)
        if kind == "class":
            return class_namespace(obj)
        if self.family is None:
            attributes = instance_dict(obj)  # the very dict (an empty one too), never a copy
            return {} if attributes is None else attributes
        return obj

    def copy(self) -> Any:
        """A copy of what the object holds, read from its storage: no method of the
        object's class runs (a ``__len__`` that counts, an ``__iter__`` that sorts)."""
        obj, family = self.obj, self.family
        if family is not None:
            if self.ordered:  # an OrderedDict's order lives beside the dict
                return dict(OrderedDict.items(obj))
            return COPIES[family](obj)
        if self.kind in ("slots", "defaults", "cell", "class"):
            return dict(self.live())
        return dict(self.live())  # instance attributes

    def rebase(self, old: Node, between: Any) -> None:
        """Keep *old*'s baseline (the handler had written this object before some Init work
        ran) plus what the Init work did: *between* is what the object held when it began.
        Entries of a mapping (a dict, attributes, slots, a cell) that the Init work set or
        deleted join the baseline; other kinds keep *old*'s (their items have no key)."""
        snap = old.snap
        if isinstance(snap, dict) and isinstance(between, dict):
            live = self.copy()
            snap = dict(snap)
            for key in [*between, *(k for k in live if k not in between)]:
                now = live.get(key, MISSING)
                if now is between.get(key, MISSING):
                    continue
                if now is MISSING:
                    snap.pop(key, None)
                else:
                    snap[key] = now
        self.snap = snap
        self.children = self._children()

    def _internal(self, key: object) -> bool:
        """:func:`~._kinds.internal`, knowing the names the project's code uses."""
        return internal(self.obj, key, self.origin.space.named)

    def _children(self) -> tuple[tuple[Any, Any], ...]:
        """``(key, value)`` of the non-scalar items: checked by identity too.

        Equal content is no data crossing, but an item replaced by an *equal* new object
        (a nested container, a dataclass with a ``compare=False`` field) is another object:
        identity catches it. A set's members have no key (``None``): they are walked into,
        and set equality already tells them apart.
        """
        family, snap = self.family, self.snap
        items: Any
        if family is dict or self.kind == "defaults":
            items = snap.items()
        elif family is None:  # attributes: dunders are Python's (and libraries') business
            items = ((k, v) for k, v in snap.items() if not self._internal(k))
        elif family is list or family is deque:
            items = enumerate(snap)
        elif family is set:
            items = ((None, v) for v in snap)
        else:
            return ()
        return tuple((k, v) for k, v in items if type(v) not in SCALARS)

    def check(self) -> tuple[Callable[[Any, Any], Any], Any, Any]:
        """What the fast check compares: ``(compare, live, saved)``, by identity, in C.

        Identity is stricter than what counts as a change (an item replaced by an equal
        scalar is not one): when it fails, :meth:`state` looks closer.
        """
        obj, family, snap = self.obj, self.family, self.snap
        if self.kind in ("slots", "defaults", "cell"):
            return _node_same, self, None  # slot and cell values are read afresh each time
        if not isinstance(snap, dict):  # list, deque: identity; set, bytes, array: their ==
            compare = _SEQUENCES.get(family) or _builtin_equality(family)
            return compare, obj, snap
        if self.kind == "class":  # the namespace's proxy (libraries set dunders lazily)
            compare, live = _same_proxy, class_namespace(obj)
        else:
            compare, live = (_same_ordered if self.ordered else _same_dict), self.live()
        return compare, live, (list(snap), list(snap.values()))

    def state(self) -> str:
        """``"same"``, ``"lazy"`` (only dunders or a cached_property filled) or ``"changed"``."""
        try:
            if self._same():
                return "same"
            return "lazy" if self._lazy_only() else "changed"
        except Exception:  # a comparison that raises (a new item's __eq__) counts as a change
            return "changed"

    def _same(self) -> bool:
        """Does the object hold what the snapshot holds? Items that are not plain scalars
        must be the very same objects, scalars equal and of the same type (``1.0`` is not
        ``1``); a mapping's keys in the same order (an LRU's order is data). Only builtin
        comparisons run: never a method of the user's (an ``__eq__`` with side effects)."""
        now, snap = self.copy(), self.snap
        if isinstance(snap, dict):
            return _same_sequence(list(now), list(snap)) and _same_sequence(
                list(now.values()), list(snap.values())
            )
        if self.family is set:
            return _same_members(now, snap)
        if self.family is list or self.family is deque:
            return _same_sequence(now, snap)
        return bool(now == snap)  # bytes of a bytearray, an array: compared in C

    def _lazy_only(self) -> bool:
        """Only dunders changed (libraries set them lazily) or cached_property values added."""
        if self.family is not None or self.kind in ("slots", "defaults", "cell"):
            return False
        from functools import cached_property

        live, snap, cls = self.copy(), self.snap, type(self.obj)
        for key in set(live) | set(snap):
            if self._internal(key) or live.get(key, MISSING) is snap.get(key, MISSING):
                continue
            if (
                self.kind == "class"
                and key not in snap
                and library_descriptor(live[key], self.origin.space.project)
            ):
                continue
            if (
                self.kind == "attributes"
                and key not in snap
                and isinstance(class_attr(cls, key), cached_property)
            ):
                continue
            return False
        return True

    def restore(self) -> None:
        """Put the snapshot back, with the builtin type's own methods (never an override)."""
        obj, family, snap = self.obj, self.family, self.snap
        if family is dict:
            if isinstance(obj, OrderedDict):  # its order lives beside the dict
                OrderedDict.clear(obj)
                for key, value in snap.items():
                    OrderedDict.__setitem__(obj, key, value)
            else:
                dict.clear(obj)
                dict.update(obj, snap)
        elif family is list:
            list.__setitem__(obj, slice(None), snap)
        elif family is deque:
            deque.clear(obj)
            deque.extend(obj, snap)
        elif family is set:
            set.clear(obj)
            set.update(obj, snap)
        elif family is not None:  # bytearray, array.array: a slice assignment in place
            family.__setitem__(obj, slice(None), snap)  # type: ignore[index]
        else:
            self._restore_values()

    def _restore_values(self) -> None:
        obj, snap = self.obj, self.snap
        if self.kind in ("slots", "defaults"):
            for name in self.slots:
                if name in snap:
                    object.__setattr__(obj, name, snap[name])
                elif name in slot_values(obj, (name,)):
                    object.__delattr__(obj, name)
        elif self.kind == "cell":
            if self.slots[0] in snap:
                obj.cell_contents = snap[self.slots[0]]
            elif cell_values(obj, self.slots):
                del obj.cell_contents
        elif self.kind == "attributes":
            attrs = instance_dict(obj)
            if attrs is not None:
                dict.clear(attrs)
                dict.update(attrs, snap)
        else:
            self._restore_class()

    def _restore_class(self) -> None:
        """Put a class's attributes back (its dunders and an enum's internals are not ours):
        every one that can be, then raise what the first refusal raised."""
        obj, snap = self.obj, self.snap
        refused: Exception | None = None
        for name in [k for k in class_namespace(obj) if not self._internal(k) and k not in snap]:
            try:
                delattr(obj, name)
            except Exception as exc:  # a metaclass that refuses: put back the rest
                refused = refused or exc
        for name, value in snap.items():
            if not self._internal(name) and class_namespace(obj).get(name, snap) is not value:
                try:
                    setattr(obj, name, value)
                except Exception as exc:
                    refused = refused or exc
        if refused is not None:
            raise refused

    def describe(self) -> str:
        """What changed, in words (never raises)."""
        try:
            return self._describe()
        except Exception:
            return f"{self.kind} `{self.path}` was modified in place"

    def _describe(self) -> str:
        obj, snap, kind = self.obj, self.snap, self.kind
        if kind in ("attributes", "slots"):
            what = f"attribute(s) of `{self.path}` (a {type(obj).__name__} instance)"
            diff = _key_diff(self.copy(), snap, "attribute", self.words())
            return f"{what} were set or deleted: {diff}"
        if kind == "cell":
            return f"closure variable `{self.path}` was rebound (`nonlocal {self.slots[0]}`)"
        if kind == "defaults":
            return f"the default values of function `{self.path}` were replaced (`__defaults__`)"
        if kind == "class":
            public = {k: v for k, v in self.copy().items() if not self._internal(k)}
            saved = {k: v for k, v in snap.items() if not self._internal(k)}
            return (
                f"class attribute(s) of `{self.path}` were set or deleted: "
                f"{_key_diff(public, saved, 'attribute', self.words())}"
            )
        return self._describe_items()

    def _describe_items(self) -> str:
        now, snap, kind = self.copy(), self.snap, self.kind
        where = f"{kind} `{self.path}` was modified in place"
        if self.family is dict:
            return f"{where}: {_key_diff(now, snap, 'key', self.words())}"
        before, after = len(snap), len(now)
        if after > before:
            return f"{where} ({after - before} item(s) added, e.g. .append/.add/.extend/+=)"
        if after < before:
            return f"{where} ({before - after} item(s) removed, e.g. .pop/.remove/del/.clear)"
        return f"{where} (item(s) replaced or reordered, e.g. x[i] = ... or .sort())"

    def new_entries(self) -> list[tuple[Any, Any]] | None:
        """``(key, value)`` added to a dict that changed only by gaining them, else None."""
        if self.family is not dict:
            return None
        live, snap = self.copy(), self.snap
        if len(live) <= len(snap) or any(live.get(k, MISSING) is not v for k, v in snap.items()):
            return None
        return [(k, v) for k, v in live.items() if k not in snap]


def _step_text(how: str, key: Any, container: Node | None) -> str:
    """One step of a path: into *container* (a watched node), or through a tuple (``None``)."""
    if how == "{":
        return "{<" + type(key).__name__ + ">}"  # a set member: an object, shown by its type
    if container is None:  # a tuple's index, a namedtuple's field
        return f".{key}" if how == "." else f"[{key}]"
    if how == ".":
        return "." + (key if key in container.words() else "<attribute>")
    if container.family is list or container.family is deque:
        return f"[{key}]"
    return f"[{step_key(key, container.words())}]"


def _same_value(now: Any, before: Any) -> bool:
    """The same object, or equal scalars of the same type (builtin equality only)."""
    return now is before or (type(now) is type(before) and type(now) in SCALARS and now == before)


def _same_sequence(now: list[Any], before: list[Any]) -> bool:
    return len(now) == len(before) and all(map(_same_value, now, before))


def _same_members(now: set[Any], before: set[Any]) -> bool:
    """A set's members: the same objects, or equal scalars (a set holds equal members once)."""
    if len(now) != len(before):
        return False
    new = {id(member): member for member in now}
    old = {id(member): member for member in before}
    if new.keys() == old.keys():
        return True
    added = [m for key, m in new.items() if key not in old]
    gone = [m for key, m in old.items() if key not in new]
    scalar = all(type(m) in SCALARS for m in (*added, *gone))
    return scalar and {(type(m), m) for m in added} == {(type(m), m) for m in gone}


# The fast checks: identity, in C, through the builtin types' own methods.


def _sequence_check(length: Callable[[Any], int], items: Callable[[Any], Any]) -> Any:
    """The same objects in the same order, read through *length* and *items*."""

    def same(live: Any, saved: list[Any]) -> bool:
        return length(live) == len(saved) and all(map(is_, items(live), saved))

    return same


def _mapping_check(
    length: Callable[[Any], int], keys: Callable[[Any], Any], values: Callable[[Any], Any]
) -> Any:
    """The same keys, in the same order, bound to the same objects."""

    def same(live: Any, saved: tuple[list[Any], list[Any]]) -> bool:
        old_keys, old_values = saved
        return (
            length(live) == len(old_keys)
            and all(map(is_, keys(live), old_keys))
            and all(map(is_, values(live), old_values))
        )

    return same


_same_list = _sequence_check(list.__len__, list.__iter__)
_same_deque = _sequence_check(deque.__len__, deque.__iter__)
_same_dict = _mapping_check(dict.__len__, dict.keys, dict.values)  # a dict, a __dict__
_same_ordered = _mapping_check(dict.__len__, OrderedDict.keys, OrderedDict.values)
_same_proxy = _mapping_check(len, iter, lambda proxy: proxy.values())  # a class namespace


_SEQUENCES: dict[type | None, Callable[[Any, Any], bool]] = {list: _same_list, deque: _same_deque}


def _builtin_equality(family: type | None) -> Callable[[Any, Any], Any]:
    """The builtin type's own ``==`` (a set, a bytearray against its bytes, an array)."""
    assert family is not None
    compare: Callable[[Any, Any], Any] = class_attr(family, "__eq__")
    return compare


def _node_same(node: Node, _: object) -> bool:
    return node._same()


def never(_: object, __: object) -> bool:
    return False


def identical(where: tuple[tuple[Any, ...], tuple[Any, ...]], values: tuple[Any, ...]) -> bool:
    """Every ``namespace[key]`` is still the very object it was, or still absent when it
    was MISSING (one C-level pass)."""
    namespaces, keys = where
    return all(map(is_, map(dict.get, namespaces, keys, repeat(MISSING)), values))


def _key_diff(current: Any, snap: dict[Any, Any], noun: str, words: Words) -> str:
    added = [k for k in current if k not in snap]
    removed = [k for k in snap if k not in current]
    changed = [k for k in current if k in snap and current[k] is not snap[k]]
    parts = []
    for label, keys in (("added", added), ("removed", removed), ("replaced", changed)):
        if keys:
            parts.append(f"{noun}(s) {label}: {keys_text(keys, words)}")
    return "; ".join(parts) or "contents reordered"


class Origin:
    """Where a walk started: a module-level name, a function's default argument or closure."""

    __slots__ = ("allow_as", "label", "noun", "space")

    def __init__(self, space: Owner, label: str, allow_as: str, noun: str = "") -> None:
        self.space = space
        self.label = label  # the start of every path found from here
        self.allow_as = allow_as  # what allow=(...) takes to accept it
        self.noun = noun  # extra words for the message ("" for a module-level name)

    @property
    def module(self) -> str:
        return self.space.name

    def constants(self) -> frozenset[Any]:
        return self.space.constants()
