"""The module-state guard: handler code must not write module-level state.

How it works (the cost model is in ``docs/guard.md``):

- **Census** (first invocation): for every guarded module, the write analysis
  (:mod:`lambdascope._guard_analysis`) reads the module's source and says which
  module-level names handler-time code can write, and whether only the top-level
  container or also data nested in it. Those values are *watched*: a shallow copy of
  every mutable node reachable from them (the builtin containers, tuples looked
  through, instances and classes defined in a guarded module, ``__slots__`` included)
  plus the identity of their non-scalar items. Values the handler only reads are not
  copied at all, but they are scanned once (in C, :func:`_reaches_code`): a value that
  holds the guarded modules' instances or classes (their methods, properties and dunders
  can write them, whatever they are called) or a ``defaultdict`` (a read inserts) is
  watched whole. Also watched: values that escape the module's own data (another module
  holds them, a default argument, a bound method), mutable default arguments of
  parameters the code writes, and closure cells of functions made at Init that the code
  writes or rebinds. When the analysis cannot vouch for the module (no source,
  ``globals()``, ``exec``, source edited after import, ...) every value is watched, as
  before the analysis existed.
- **Per invocation**: one check before the handler (a change seen there happened
  between invocations, in test code or Init: the snapshot is refreshed silently) and
  one after it. A check compares every module-level binding (the list of the namespace's
  values with a saved one, identity first, plus identity of the few bindings whose type
  has value equality) and every watched node with its copy by identity, in C; only when
  that fails does the closer, semantic comparison run.
- **After the handler**: a difference is classified. Init-scope work done lazily is
  accepted: a name (or a closure cell) going from ``None``/unbound to an object that
  holds a resource (a client, a connection: not a builtin scalar or container), a dict
  gaining such objects under keys of the module's source (clients memoised by service
  name), a module attribute that is an imported module, a
  ``functools.cached_property`` filling its cache, and whatever an ``@init_resource``
  factory wrote while it ran. Everything else is a
  leak: in ``raise`` mode the leaked state is restored and
  :class:`~lambdascope.ScopeLeakError` is raised; in ``warn`` mode a
  :class:`~lambdascope.ScopeLeakWarning` is issued once per variable.
"""

from __future__ import annotations

import sys
from collections import Counter, OrderedDict, defaultdict, deque
from operator import eq, getitem, is_

from . import _resources
from ._errors import ScopeLeakError, ScopeLeakWarning
from ._leaklog import module_leaks
from ._mutators import MUTATING_METHODS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from ._guard_analysis import Analysis

__all__ = ["MODES", "Guard", "resolve_mode"]

MODES = ("raise", "warn", "off")
ENV = "LAMBDASCOPE_GUARD"

# exact type -> (kind name, family)
_KINDS: dict[type, tuple[str, type]] = {
    list: ("list", list),
    dict: ("dict", dict),
    set: ("set", set),
    bytearray: ("bytearray", bytearray),
    deque: ("deque", deque),
    defaultdict: ("defaultdict", dict),
    OrderedDict: ("OrderedDict", dict),
    Counter: ("Counter", dict),
}
#: An attribute bag whose ``__dict__`` is data: ``types.SimpleNamespace``.
_NAMESPACE = type(sys.implementation)
_MAX_SITES = 3
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<unbound>"})()
# Values that cannot hold other objects: a container holding only these needs no identity pass.
_SCALARS = frozenset({str, int, float, bool, bytes, complex, type(None)})
# Values that carry data rather than hold a resource: a name set to one of these during an
# invocation is per-request data, never init-scope work done lazily.
_DATA = _SCALARS | frozenset(_KINDS) | {tuple, frozenset, range}
_DATA_MODULES = frozenset(
    {"array", "datetime", "decimal", "fractions", "uuid", "ipaddress", "pathlib"}
)


def resolve_mode(guard: object) -> str:
    """Validate ``guard=`` (``None`` reads ``LAMBDASCOPE_GUARD``, default ``"raise"``)."""
    if guard is None:
        import os

        raw = os.environ.get(ENV, "")
        value = raw.strip().lower()
        if not value:
            return "raise"
        if value not in MODES:
            raise ValueError(
                f"environment variable {ENV}={raw!r} is not a guard mode. Set it to one of "
                "'raise', 'warn' or 'off' (or unset it for the default 'raise')."
            )
        return value
    if guard not in MODES:
        raise ValueError(
            f"@handler(guard={guard!r}) is not a guard mode. Use guard='raise' (the default: "
            "fail the invocation), guard='warn' (report once per variable) or guard='off'."
        )
    return str(guard)


def _names(option: str, value: object, example: str) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"@handler({option}=...) takes a tuple of names, got {value!r}. Write {example}."
        )
    names: list[str] = []
    for item in value:  # type: ignore[attr-defined,unused-ignore]
        name = getattr(item, "__name__", None) if option == "modules" else None
        if name is None:
            name = item
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"@handler({option}=...) takes names (strings), got {item!r}. Write {example}."
            )
        names.append(name)
    return tuple(names)


def _is_dunder(name: object) -> bool:
    return isinstance(name, str) and len(name) > 4 and name[:2] == name[-2:] == "__"


def innermost(func: Any) -> Any:
    """The user's own function under decorators that set ``__wrapped__`` (``functools.wraps``)."""
    for _ in range(100):
        if isinstance(func, (staticmethod, classmethod)):
            func = func.__func__
            continue
        try:
            wrapped = getattr(func, "__wrapped__", None)
        except Exception:  # an exotic callable whose attribute lookup fails
            return func
        if wrapped is None or wrapped is func or not callable(wrapped):
            return func
        func = wrapped
    return func


def _function_globals(func: Any) -> dict[str, Any]:
    """The module namespace the handler's own code lives in (decorators looked through)."""
    func = innermost(func)
    for _ in range(10):  # unwrap bound method/partial/callable instance
        namespace = getattr(func, "__globals__", None)
        if isinstance(namespace, dict):
            return namespace
        inner = getattr(func, "__func__", None) or getattr(func, "func", None)
        if inner is None:
            inner = getattr(type(func), "__call__", None)  # noqa: B004
        if inner is None or inner is func:
            break
        func = innermost(inner)
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    return vars(module) if module is not None else {}


# -- safe words about user objects: building a message must never raise -------------------


def _safe_repr(value: object, limit: int = 40) -> str:
    """A short repr that never raises and never shows a long string (it may be a secret)."""
    if isinstance(value, (str, bytes)) and len(value) > 24:
        return f"<{type(value).__name__} of {len(value)} characters>"
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    return text if len(text) <= limit else f"<{type(value).__name__} object>"


def _slot_names(cls: type) -> tuple[str, ...]:
    """Names of the ``__slots__`` of *cls* and its bases (mangled as Python stores them)."""
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"  # noqa: PLW2901
            if name not in names:
                names.append(name)
    return tuple(names)


def _slot_values(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for name in names:
        try:
            value = object.__getattribute__(obj, name)
        except AttributeError:  # an empty slot
            continue
        values[name] = value
    return values


# -- watched objects ------------------------------------------------------------------------


class _Node:
    """One watched mutable object, its shallow copy and where it was found."""

    __slots__ = ("children", "family", "kind", "obj", "origin", "parent", "slots", "snap", "steps")

    def __init__(  # noqa: PLR0917 - one internal call site
        self,
        obj: Any,
        kind: str,
        family: type | None,
        origin: _Origin,
        parent: _Node | None,
        steps: tuple[tuple[str, Any], ...],
        variable: str = "",
    ) -> None:
        self.obj = obj
        # "list", "dict", ... (or the name of the user's subclass), "attributes", "slots",
        # "class", "cell" (a closure cell of a function: *variable* names it)
        self.kind = kind
        self.family = family  # list, dict, set, deque, bytearray, array; None: named values
        self.origin = origin
        self.parent = parent
        self.steps = steps  # how to get here from the parent: ("[", 0), (".", "attr"), ...
        if kind == "slots":
            self.slots = _slot_names(type(obj))
        elif kind == "cell":
            self.slots = (variable,)
        else:
            self.slots = ()
        self.snap = self.copy()
        self.children = self._children()

    @property
    def path(self) -> str:
        """``ROOT['key'].attr[0]``: built only when a message needs it."""
        steps: list[tuple[str, Any]] = []
        node: _Node | None = self
        while node is not None:
            steps[:0] = node.steps
            node = node.parent
        constants = self.origin.constants()
        return self.origin.label + "".join(_step_text(how, key, constants) for how, key in steps)

    def live(self) -> Any:
        """The mapping or sequence to compare with the snapshot."""
        if self.kind == "slots":
            return _slot_values(self.obj, self.slots)
        if self.kind == "cell":
            return _cell_values(self.obj, self.slots)
        if self.family is None:
            return vars(self.obj)
        return self.obj

    def copy(self) -> Any:
        obj, family = self.obj, self.family
        if family is not None:
            return _COPIES[family](obj)
        if self.kind == "slots":
            return _slot_values(obj, self.slots)
        if self.kind == "cell":
            return _cell_values(obj, self.slots)
        return dict(vars(obj))  # instance attributes, or the class namespace

    def _children(self) -> tuple[tuple[Any, Any], ...]:
        """``(key, value)`` of the non-scalar items: checked by identity too.

        Equal content is no data crossing, but an item replaced by an *equal* new object
        (a nested container, a dataclass with a ``compare=False`` field) is another object:
        identity catches it. A set's members have no key (``None``): they are walked into,
        and set equality already tells them apart.
        """
        family, snap = self.family, self.snap
        items: Any
        if family is dict:
            items = snap.items()
        elif family is None:  # attributes: dunders are Python's (and libraries') business
            obj = self.obj
            items = ((k, v) for k, v in snap.items() if not _internal(obj, k))
        elif family is list or family is deque:
            items = enumerate(snap)
        elif family is set:
            items = ((None, v) for v in snap)
        else:
            return ()
        return tuple((k, v) for k, v in items if type(v) not in _SCALARS)

    def check(self) -> tuple[Callable[[Any, Any], Any], Any, Any]:
        """What the fast check compares: ``(compare, live, saved)``, by identity, in C.

        Identity is stricter than what counts as a change (an item replaced by an equal
        scalar is not one): when it fails, :meth:`state` looks closer.
        """
        obj, family, snap = self.obj, self.family, self.snap
        if family is list or family is deque:
            return _same_items, obj, snap
        if self.kind in ("slots", "cell"):
            return _node_same, self, None  # slot and cell values are read afresh each time
        if self.kind == "class":  # libraries set dunders lazily: compare the mappingproxy
            return eq, vars(obj), snap
        if family is dict or family is None:
            return (
                _same_entries,
                obj if family is dict else vars(obj),
                (list(snap), list(snap.values())),
            )
        return eq, obj, snap  # set, bytearray: nothing inside has an identity to keep

    def state(self) -> str:
        """``"same"``, ``"lazy"`` (only dunders or a cached_property filled) or ``"changed"``."""
        try:
            if self._same():
                return "same"
            return "lazy" if self._lazy_only() else "changed"
        except Exception:  # a comparison that raises (a new item's __eq__) counts as a change
            return "changed"

    def _same(self) -> bool:
        live, family = self.live(), self.family
        if isinstance(live, OrderedDict):
            equal = bool(OrderedDict.__eq__(live, OrderedDict(self.snap)))
        elif family is deque:
            equal = bool(deque.__eq__(live, deque(self.snap)))
        elif family in (list, dict, set):
            equal = family.__eq__(live, self.snap) is True
        else:
            equal = bool(live == self.snap)
        if equal and (family is dict or self.kind == "attributes"):
            equal = list(live) == list(self.snap)  # the order of keys is data too (an LRU)
        if equal and family is not set and family is not bytearray:
            equal = _same_types(live, self.snap)
        if family is set:
            return equal
        return equal and all(getitem(live, k) is v for k, v in self.children)

    def _lazy_only(self) -> bool:
        """Only dunders changed (libraries set them lazily) or cached_property values added."""
        if self.family is not None or self.kind in ("slots", "cell"):
            return False
        from functools import cached_property

        obj = self.obj
        live, snap, cls = vars(obj), self.snap, type(obj)
        for key in set(live) | set(snap):
            if _internal(obj, key) or live.get(key, _MISSING) is snap.get(key, _MISSING):
                continue
            if self.kind == "attributes" and key not in snap:
                attribute = next((k.__dict__[key] for k in cls.__mro__ if key in k.__dict__), None)
                if isinstance(attribute, cached_property):
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
        if self.kind == "slots":
            for name in self.slots:
                if name in snap:
                    object.__setattr__(obj, name, snap[name])
                elif name in _slot_values(obj, (name,)):
                    object.__delattr__(obj, name)
        elif self.kind == "cell":
            if self.slots[0] in snap:
                obj.cell_contents = snap[self.slots[0]]
            elif _cell_values(obj, self.slots):
                del obj.cell_contents
        elif self.kind == "attributes":
            attrs = vars(obj)
            attrs.clear()
            attrs.update(snap)
        else:  # a class: its dunders (and an enum's internals) are not ours
            for name in [k for k in vars(obj) if not _internal(obj, k) and k not in snap]:
                delattr(obj, name)
            for name, value in snap.items():
                if not _internal(obj, name) and vars(obj).get(name, snap) is not value:
                    setattr(obj, name, value)

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
            return f"{what} were set or deleted: {_key_diff(self.live(), snap, 'attribute')}"
        if kind == "cell":
            return f"closure variable `{self.path}` was rebound (`nonlocal {self.slots[0]}`)"
        if kind == "class":
            public = {k: v for k, v in vars(obj).items() if not _internal(obj, k)}
            saved = {k: v for k, v in snap.items() if not _internal(obj, k)}
            return (
                f"class attribute(s) of `{self.path}` were set or deleted: "
                f"{_key_diff(public, saved, 'attribute')}"
            )
        return self._describe_items()

    def _describe_items(self) -> str:
        obj, snap, kind = self.obj, self.snap, self.kind
        where = f"{kind} `{self.path}` was modified in place"
        if self.family is dict:
            return f"{where}: {_key_diff(obj, snap, 'key', self.origin.constants())}"
        before, after = len(snap), len(obj)
        if after > before:
            return f"{where} ({after - before} item(s) added, e.g. .append/.add/.extend/+=)"
        if after < before:
            return f"{where} ({before - after} item(s) removed, e.g. .pop/.remove/del/.clear)"
        return f"{where} (item(s) replaced or reordered, e.g. x[i] = ... or .sort())"

    def new_entries(self) -> list[tuple[Any, Any]] | None:
        """``(key, value)`` added to a dict that changed only by gaining them, else None."""
        if self.family is not dict:
            return None
        live, snap = self.obj, self.snap
        if len(live) <= len(snap) or any(live.get(k, _MISSING) is not v for k, v in snap.items()):
            return None
        return [(k, v) for k, v in live.items() if k not in snap]


# How a watched container is copied, by family.
_COPIES: dict[type, Callable[[Any], Any]] = {
    dict: dict,
    list: list,
    deque: list,
    set: set,
    bytearray: bytes,
}


def _cell_values(cell: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``{variable: value}`` of a closure cell (empty when the cell is)."""
    try:
        return {names[0]: cell.cell_contents}
    except ValueError:  # an empty cell
        return {}


def _internal(owner: object, name: object) -> bool:
    """A name the language or a library manages on *owner*, not the user's data: dunders,
    and on classes with a metaclass of their own (an enum) the ``_sunder_`` names (enum
    caches the flag combinations it creates in ``_value2member_map_``)."""
    if not isinstance(name, str) or len(name) < 3 or name[0] != "_" or name[-1] != "_":
        return False
    if name[:2] == name[-2:] == "__":
        return len(name) > 4
    return isinstance(owner, type) and type(owner) is not type


def _step_text(how: str, key: Any, constants: frozenset[Any]) -> str:
    if how == ".":
        return f".{key}"
    if how == "{":
        return "{" + _safe_repr(key) + "}"
    return f"[{_key_text(key, constants)}]"


def _key_text(key: Any, constants: frozenset[Any]) -> str:
    """A key as the message shows it: in full when it is a constant of the module's source
    (not request data), else in the short, secret-safe form."""
    try:
        if type(key) in (str, int) and key in constants:
            text = repr(key)
            if len(text) <= 80:
                return text
    except Exception:  # an unhashable key: not a constant
        pass
    return _safe_repr(key)


def _same_types(live: Any, saved: Any) -> bool:
    """Equal is not the same data when a value changed type (``0`` for ``False``, ``1.0`` for
    ``1``): the values, in order, must have the types they had."""
    if hasattr(live, "values"):
        live, saved = live.values(), saved.values()
    return list(map(type, live)) == list(map(type, saved))


def _same_items(live: Any, saved: list[Any]) -> bool:
    """The same objects in the same order (a list or deque)."""
    return len(live) == len(saved) and all(map(is_, live, saved))


def _same_entries(live: dict[Any, Any], saved: tuple[list[Any], list[Any]]) -> bool:
    """The same keys, in the same order, bound to the same objects (a dict or ``__dict__``)."""
    keys, values = saved
    return list(live) == keys and all(map(is_, live.values(), values))


def _node_same(node: _Node, _: object) -> bool:
    return node._same()


def _never(_: object, __: object) -> bool:
    return False


def _identical(where: tuple[tuple[Any, ...], tuple[Any, ...]], values: tuple[Any, ...]) -> bool:
    """Every ``container[key]`` is still the very object it was (one C-level pass)."""
    containers, keys = where
    return all(map(is_, map(getitem, containers, keys), values))


def _key_diff(
    current: Any, snap: dict[Any, Any], noun: str, constants: frozenset[Any] = frozenset()
) -> str:
    added = [k for k in current if k not in snap]
    removed = [k for k in snap if k not in current]
    changed = [k for k in current if k in snap and current[k] is not snap[k]]
    parts = []
    for label, keys in (("added", added), ("removed", removed), ("replaced", changed)):
        if keys:
            shown = ", ".join(_key_text(k, constants) for k in keys[:3])
            shown += ", ..." if len(keys) > 3 else ""
            parts.append(f"{noun}(s) {label}: {shown}")
    return "; ".join(parts) or "contents reordered"


class _Origin:
    """Where a walk started: a module-level name, a function's default argument or closure."""

    __slots__ = ("allow_as", "label", "noun", "space")

    def __init__(self, space: _Space, label: str, allow_as: str, noun: str = "") -> None:
        self.space = space
        self.label = label  # the start of every path found from here
        self.allow_as = allow_as  # what allow=(...) takes to accept it
        self.noun = noun  # extra words for the message ("" for a module-level name)

    @property
    def module(self) -> str:
        return self.space.name

    def constants(self) -> frozenset[Any]:
        return self.space.constants()


# -- one guarded module -----------------------------------------------------------------------


class _Space:
    """The module-level names of one guarded module, and what of them is watched."""

    __slots__ = (
        "_constants",
        "allow",
        "analysis",
        "escaped",
        "name",
        "namespace",
        "snap",
        "values",
        "watching",
    )

    def __init__(
        self, name: str, namespace: dict[str, Any], allow: frozenset[str], analysis: Analysis
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.allow = allow
        self.analysis = analysis
        self.escaped = _module_escapes(name, namespace)
        self.snap: dict[str, Any] = {}
        self.values: list[Any] = []
        self._constants: frozenset[Any] | None = None
        self.watching: set[str] = set()  # the names whose values are snapshotted

    def constants(self) -> frozenset[Any]:
        """The strings and numbers written in the module's source: keys that are not
        request data (read on demand, for messages and lazily filled dicts)."""
        if self._constants is None:
            from ._guard_analysis import source_constants

            self._constants = source_constants(self.name, self.namespace)
        return self._constants

    def watched(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and not _is_dunder(key)
            and key not in self.allow
            and f"{self.name}.{key}" not in self.allow
        )

    def take(self) -> None:
        namespace = self.namespace
        self.watching = set()
        self.snap = {k: v for k, v in namespace.items() if self.watched(k)}
        self.values = list(namespace.values())

    def identities(self) -> Iterator[tuple[Any, Any, Any]]:
        """``(namespace, name, value)`` of the bindings ``==`` alone would not vouch for:
        a name the module's code rebinds (``global``) to a new object that compares equal
        to the old one, and a *watched* name rebound so by anyone (the snapshot must
        follow the new object). A read-only name is compared with ``==`` only: an equal
        copy of what the code only reads carries nothing new."""
        namespace, analysis, watching = self.namespace, self.analysis, self.watching
        rebound = None if analysis.gave_up is not None else analysis.rebound
        for key, value in self.snap.items():
            if (rebound is None or key in rebound or key in watching) and _value_equality(value):
                yield namespace, key, value

    def to_watch(
        self, names: frozenset[str], functions: list[Any]
    ) -> Iterator[tuple[str, Any, bool]]:
        """``(name, value, deep)`` of every module-level value to snapshot.

        What the analysis says the code writes, and what the code reads that holds objects
        whose use runs the guarded modules' code (their instances and classes, whatever
        their methods are called) or inserts on read (a ``defaultdict``): decided from the
        values themselves. Functions of the module met on the way go to *functions*.
        """
        analysis = self.analysis
        for key, value in self.snap.items():
            if type(value) in _SCALARS:
                continue
            if analysis.gave_up is not None or key in self.escaped:
                _reaches_code(value, names, functions)
                yield key, value, True
            elif key in analysis.written or key in analysis.loaded:
                deep = _reaches_code(value, names, functions) or analysis.written.get(key, False)
                if deep or key in analysis.written:
                    yield key, value, deep

    def cells(
        self, names: frozenset[str], functions: list[Any]
    ) -> Iterator[tuple[_Origin, Any, str, bool]]:
        """``(origin, cell, variable, deep)`` of closure cells the module's code may write
        or rebind: the state of functions built at Init by a factory or a decorator."""
        from ._guard_analysis import shared_functions

        analysis, namespace = self.analysis, self.namespace
        labels = self.labels()
        seen: set[int] = set()
        for func in [*shared_functions(self.name, namespace), *functions]:
            closure = getattr(func, "__closure__", None)
            if not closure or id(func) in seen or func.__globals__ is not namespace:
                continue
            seen.add(id(func))
            code = func.__code__
            written = analysis.written_cells.get((code.co_name, code.co_firstlineno), {})
            label = labels.get(id(func)) or func.__qualname__
            for variable, cell in zip(code.co_freevars, closure):
                contents = _cell_values(cell, (variable,)).get(variable)
                runs_code = _reaches_code(contents, names, [])
                if analysis.gave_up is None and variable not in written and not runs_code:
                    continue
                name = f"{label}.{variable}"
                if not self.watched(name):
                    continue
                noun = (
                    f"the closure variable `{variable}` of {func.__qualname__}(), made once at "
                    "Init and shared by every call"
                )
                deep = analysis.gave_up is not None or written.get(variable, False) or runs_code
                yield _Origin(self, name, name, noun), cell, variable, deep

    def defaults(self, names: frozenset[str]) -> Iterator[tuple[_Origin, Any]]:
        """Mutable default arguments the module's code may write: created once, at Init."""
        from ._guard_analysis import shared_functions

        written = self.analysis.written_params
        labels = self.labels()
        for func in shared_functions(self.name, self.namespace):
            code = func.__code__
            positional = code.co_varnames[: code.co_argcount]
            defaults = func.__defaults__ or ()
            pairs = list(zip(positional[len(positional) - len(defaults) :], defaults))
            pairs.extend((func.__kwdefaults__ or {}).items())
            params = written.get((code.co_name, code.co_firstlineno), frozenset())
            label = labels.get(id(func)) or func.__qualname__
            for param, value in pairs:
                if type(value) in _SCALARS:
                    continue
                if (
                    self.analysis.gave_up is None
                    and param not in params
                    and not _reaches_code(value, names, [])
                ):
                    continue
                name = f"{label}.{param}"
                if not self.watched(name):
                    continue
                noun = f"the default value of parameter `{param}` of {label}()"
                yield _Origin(self, name, name, noun), value

    def labels(self) -> dict[int, str]:
        """``id(function) -> the module-level name bound to it`` (``REMEMBER`` rather than
        ``<lambda>``; a decorated function by the name it is known by)."""
        return {id(value): key for key, value in self.namespace.items() if type(value) is _FUNCTION}

    def changes(self) -> list[tuple[str, Any, Any]]:
        """``(name, before, now)`` of every watched module-level name that changed."""
        namespace, snap = self.namespace, self.snap
        found = [
            (key, value, namespace.get(key, _MISSING))
            for key, value in snap.items()
            if namespace.get(key, _MISSING) is not value
        ]
        found.extend(
            (key, _MISSING, namespace[key])
            for key in list(namespace)
            if key not in snap and self.watched(key)
        )
        return found

    def restore(self, key: str, before: Any) -> None:
        if before is _MISSING:
            self.namespace.pop(key, None)
        else:
            self.namespace[key] = before


def _value_equality(value: object) -> bool:
    """Could ``==`` take a new, equal object for this one (and data cross unseen)?"""
    kind = type(value)
    if kind in _SCALARS or issubclass(kind, type) or kind.__eq__ is object.__eq__:
        return False
    if kind is tuple or kind is frozenset:  # equal tuples of scalars carry the same data
        return any(type(item) not in _SCALARS for item in value)  # type: ignore[attr-defined]
    return True


def _runs_code(value: object, kind: type, names: frozenset[str]) -> bool:
    """Can using *value* run code that writes it? Instances and classes of a guarded module
    (any method, property or dunder), and mappings that insert on a read (``__missing__``)."""
    if issubclass(kind, type):
        return getattr(value, "__module__", None) in names
    missing = getattr(kind, "__missing__", None)
    return (missing is not None and missing is not Counter.__missing__) or _own(kind, names)


def _contents(obj: Any, kind: type) -> Any:
    """What a builtin container, tuple (a namedtuple too) or attribute bag holds (a
    mapping's keys and values as pairs); None for anything else."""
    if kind in _KINDS:
        return obj.items() if _KINDS[kind][1] is dict else obj
    if issubclass(kind, (tuple, frozenset)):
        return obj
    if kind is _NAMESPACE:
        return vars(obj).values()
    return None


def _reaches_code(value: Any, names: frozenset[str], functions: list[Any]) -> bool:
    """Does *value* hold, through builtin containers, tuples and attribute bags, an object
    for which :func:`_runs_code` holds? Functions met on the way are added to *functions*
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
                if kind is _FUNCTION:
                    self.functions.append(obj)
                    return _NOTHING
                if _runs_code(obj, kind, self.names):
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
    """:func:`_reaches_code` in Python: one iterator per level, and only objects something
    else also refers to are remembered (to stop at cycles and shared parts); an object its
    container alone refers to cannot be met twice."""
    found = False
    stack: list[Any] = [iter((value,))]
    seen: set[int] = set()
    getrefcount = sys.getrefcount
    while stack:
        try:
            obj = next(stack[-1], _MISSING)
        except Exception:  # a container changed size under us (another thread): done with it
            obj = _MISSING
        if obj is _MISSING:
            stack.pop()
            continue
        kind = type(obj)
        if kind in _SCALARS:
            continue
        if kind is _FUNCTION:
            functions.append(obj)
            continue
        shared = getrefcount(obj) > _UNIQUE  # held elsewhere too: may be met again
        try:
            if _runs_code(obj, kind, names):
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


# Bases that add no state of their own: a class deriving only from these (and the guarded
# modules' classes) is the user's; one deriving from a library class keeps the library's
# state (a Powertools BatchProcessor subclass stores each batch on itself, by design).
_STRUCTURAL = frozenset({"builtins", "abc", "typing", "typing_extensions", "_collections_abc"})


def _own(kind: type, names: frozenset[str]) -> bool:
    """Are *kind*'s instances the user's own objects (not a library's)?"""
    return kind.__module__ in names and all(
        getattr(base, "__module__", None) in names or base.__module__ in _STRUCTURAL
        for base in kind.__mro__
    )


def _escaped(module: str, namespace: dict[str, Any]) -> frozenset[str]:
    """Mutable module-level values that something outside the module's bindings also holds.

    ``from app import ITEMS`` in another module, ``add = ITEMS.append``, a default
    argument ``def f(x, seen=ITEMS)``: code the analysis does not read can write these.
    Counted with reference counts: the module's own bindings, plus this frame's two.
    """
    bindings = Counter(map(id, namespace.values()))
    names = frozenset((module,))
    found = []
    value = None
    for key in list(namespace):
        value = namespace[key]
        kind = type(value)
        if (kind in _KINDS or kind is _NAMESPACE or _own(kind, names)) and (
            sys.getrefcount(value) > bindings[id(value)] + 2
        ):
            found.append(key)
    del value
    return frozenset(found)


def _holds_resource(value: object) -> bool:
    """Is *value* an object that holds a resource (a client, a connection), not data?"""
    kind = type(value)
    if kind in _DATA or issubclass(kind, BaseException):
        return False
    module = (getattr(kind, "__module__", None) or "").partition(".")[0]
    return module not in _DATA_MODULES and not issubclass(kind, (str, int, float, tuple))


def _lazy_init(node: _Node) -> bool:
    """Init-scope work done lazily, one level down: a closure cell going from None to a
    client (``nonlocal client``), or a dict gaining entries that hold resources under keys
    written in the module's source (``CLIENTS[name] = boto3.client(name)``, with ``name``
    one of the module's own constants, not request data). Accepted once: the objects stay."""
    if node.kind == "cell":
        before = node.snap.get(node.slots[0])
        now = node.live().get(node.slots[0], _MISSING)
        return before is None and _holds_resource(now)
    entries = node.new_entries()
    if not entries:
        return False
    constants = node.origin.constants()
    try:
        return all(
            type(key) in (str, int) and key in constants and _holds_resource(value)
            for key, value in entries
        )
    except Exception:  # an unhashable or strange key: not a constant
        return False


def _is_imported_module(value: object) -> bool:
    """A module object that ``sys.modules`` holds (``import pkg.sub`` sets ``pkg.sub``)."""
    name = getattr(value, "__name__", None) if type(value) is type(sys) else None
    return name is not None and sys.modules.get(name) is value


_FUNCTION = type(_is_dunder)
_analyses: dict[str, tuple[dict[str, Any], Analysis]] = {}


def _analysis(name: str, namespace: dict[str, Any]) -> Analysis:
    """The write analysis of one module, made once per module (and namespace)."""
    cached = _analyses.get(name)
    if cached is not None and cached[0] is namespace:
        return cached[1]
    from ._guard_analysis import analyse

    result = analyse(name, namespace)
    _analyses[name] = (namespace, result)
    return result


_escapes: dict[str, tuple[dict[str, Any], frozenset[str]]] = {}


def _module_escapes(name: str, namespace: dict[str, Any]) -> frozenset[str]:
    """:func:`_escaped` of one module, counted once per module (and namespace): at the first
    census of the first guard that watches it, before any guard's snapshot holds references
    to its values (a second handler of the same module must not see the first one's
    snapshot as someone else holding them, and watch more)."""
    cached = _escapes.get(name)
    if cached is not None and cached[0] is namespace:
        return cached[1]
    found = _escaped(name, namespace)
    _escapes[name] = (namespace, found)
    return found


# -- the guard ---------------------------------------------------------------------------------

#: The guards of the invocations running now (innermost last): the factory observer's target.
_active: list[Guard] = []


class Guard:
    """The module-state check ``@handler`` runs around each invocation.

    :meth:`enter` makes sure the snapshot is current (refreshing it silently when
    something changed between invocations); :meth:`exit` compares again and reports
    what the invocation wrote.
    """

    __slots__ = (
        "_allow",
        "_bindings",
        "_checks",
        "_extra",
        "_func",
        "_nodes",
        "_spaces",
        "_warned",
        "mode",
    )

    def __init__(self, func: Any, mode: str, allow: object = (), modules: object = ()) -> None:
        self.mode = mode
        self._func = innermost(func)
        self._allow = frozenset(_names("allow", allow, "allow=('cache',)"))
        self._extra = _names("modules", modules, "modules=('mypackage',)")
        self._spaces: list[_Space] | None = None
        self._nodes: list[_Node] = []
        # Every binding of every guarded module: the namespace's values in order, compared
        # (identity first, in C) with a saved list. A rebinding, a new or a deleted name
        # changes it; names whose values have value equality are also checked by identity.
        self._bindings: list[tuple[Any, list[Any]]] = []
        self._checks: list[tuple[Callable[[Any, Any], Any], Any, Any]] = []
        self._warned: set[tuple[str, str]] = set()

    # -- snapshot -----------------------------------------------------------------------
    def _guarded(self) -> list[tuple[str, dict[str, Any]]]:
        own = _function_globals(self._func)
        found: dict[str, dict[str, Any]] = {}
        if own:
            found[str(own.get("__name__", "?"))] = own
        for wanted in self._extra:
            if wanted not in sys.modules:
                import importlib

                try:
                    importlib.import_module(wanted)
                except ImportError as exc:
                    raise ValueError(
                        f"@handler(modules=({wanted!r},)): module {wanted!r} cannot be imported "
                        f"({exc}). Give the dotted name of a module or package of your code."
                    ) from exc
            prefix = wanted + "."
            for name, module in list(sys.modules.items()):
                if (
                    (name == wanted or name.startswith(prefix))
                    and module is not None
                    and name.partition(".")[0] != "lambdascope"  # its own state is not yours
                ):
                    found.setdefault(name, vars(module))
        return list(found.items())

    def _census(self) -> None:
        """First invocation: analyse the guarded modules, then take the snapshot."""
        self._spaces = [
            _Space(name, namespace, self._allow, _analysis(name, namespace))
            for name, namespace in self._guarded()
        ]
        self._snapshot()

    def _snapshot(self) -> None:
        assert self._spaces is not None
        _know_arrays()
        names = frozenset(space.name for space in self._spaces)
        seen = {id(value) for value in _resources.cached_values()}  # theirs, not yours
        nodes: list[_Node] = []
        for space in self._spaces:
            space.take()
            functions: list[Any] = []
            for key, value, deep in space.to_watch(names, functions):
                space.watching.add(key)
                _walk(value, _Origin(space, key, key), deep, names, seen, nodes)
            for origin, value in space.defaults(names):
                _walk(value, origin, True, names, seen, nodes)
            for origin, cell, variable, deep in space.cells(names, functions):
                nodes.append(_Node(cell, "cell", None, origin, None, (), variable))
                for contents in _cell_values(cell, (variable,)).values():
                    _walk(contents, origin, deep, names, seen, nodes)
        self._nodes = nodes
        self._checks = self._plan()

    def _plan(self) -> list[tuple[Callable[[Any, Any], Any], Any, Any]]:
        """The fast check: one comparison per watched object, one identity pass for names."""
        assert self._spaces is not None
        self._bindings = [(space.namespace.values(), space.values) for space in self._spaces]
        checks: list[tuple[Callable[[Any, Any], Any], Any, Any]] = []
        where: list[tuple[Any, Any, Any]] = []
        for space in self._spaces:
            where.extend(space.identities())
        checks.extend(node.check() for node in self._nodes)
        if where:
            containers, keys, values = zip(*where)
            checks.append((_identical, (containers, keys), values))
        return checks

    def _unchanged(self) -> bool:
        """The fast path of every check: a few C-level comparisons, no Python per item."""
        try:
            for values, saved in self._bindings:
                if list(values) != saved:
                    return False
            for compare, live, saved in self._checks:
                if compare(live, saved) is not True:
                    return False
        except Exception:  # an __eq__ of a new item raised: look closer
            return False
        return True

    # -- the invocation -------------------------------------------------------------------
    def enter(self) -> None:
        """Before the handler runs: make sure the snapshot is current."""
        if self._spaces is None:
            self._census()
        elif not self._unchanged():  # written outside an invocation (Init, tests): legitimate
            self._snapshot()
        _active.append(self)

    def exit(self) -> None:
        """After the handler ran: report (and in raise mode undo) what it wrote."""
        if _active and _active[-1] is self:
            _active.pop()
        if self._unchanged():
            return
        names, nodes = self._leaks()
        if not names and not nodes:  # init-scope work done lazily, or dunders: accept it
            self._snapshot()
            return
        leaks = [
            (space.name, key, _rebinding(key, before, now), key)
            for space, key, before, now in names
        ]
        leaks.extend(
            (node.origin.module, node.path, _node_words(node), node.origin.allow_as)
            for node in nodes
        )
        if self.mode == "raise":
            for node in nodes:
                node.restore()
            for space, key, before, _ in names:
                space.restore(key, before)
            if not self._unchanged():  # accepted changes stand: they become the baseline
                self._snapshot()
            raise ScopeLeakError(self._message(leaks, restored=True))
        spaces, func = self._spaces or [], self._func
        module_leaks(func, leaks, lambda m, a, w: _sites(spaces, func, m, a, "name `" in w))
        fresh = [leak for leak in leaks if (leak[0], leak[3]) not in self._warned]
        self._warned.update((module, allow_as) for module, _, _, allow_as in leaks)
        self._snapshot()
        if fresh:
            import warnings

            warnings.warn(ScopeLeakWarning(self._message(fresh, restored=False)), stacklevel=4)

    def _leaks(self) -> tuple[list[tuple[_Space, str, Any, Any]], list[_Node]]:
        """What changed and is not init-scope work done lazily."""
        assert self._spaces is not None
        names = [
            (space, key, before, now)
            for space in self._spaces
            for key, before, now in space.changes()
            if not _is_imported_module(now)
            and not ((before is None or before is _MISSING) and _holds_resource(now))
        ]
        return names, [
            node for node in self._nodes if node.state() == "changed" and not _lazy_init(node)
        ]

    # -- init resources created during an invocation --------------------------------------
    def _dirty(self) -> tuple[dict[tuple[str, str], Any], dict[int, _Node]]:
        """Names (with their old value) and nodes that differ from the snapshot now."""
        if self._spaces is None or self._unchanged():
            return {}, {}
        names = {
            (space.name, key): before
            for space in self._spaces
            for key, before, _ in space.changes()
        }
        return names, {id(node.obj): node for node in self._nodes if node.state() != "same"}

    def _rebaseline_except(
        self, dirty: tuple[dict[tuple[str, str], Any], dict[int, _Node]]
    ) -> None:
        """Accept what changed since :meth:`_dirty`, keep the rest under watch."""
        names, nodes = dirty
        self._snapshot()
        assert self._spaces is not None
        for space in self._spaces:
            for (module, key), before in names.items():
                if module == space.name:
                    if before is _MISSING:
                        space.snap.pop(key, None)
                    else:
                        space.snap[key] = before
        for node in self._nodes:
            old = nodes.get(id(node.obj))
            if old is not None and old.kind == node.kind:
                node.snap, node.children = old.snap, old.children
        checks = self._plan()
        if names:  # the fast check would not see them: make exit look closer
            checks.append((_never, None, None))
        self._checks = checks

    # -- the message ----------------------------------------------------------------------
    def _message(self, leaks: list[tuple[str, str, str, str]], restored: bool) -> str:
        func = self._func
        name = getattr(func, "__qualname__", None) or type(func).__name__
        lines = [
            f"handler {name}() wrote to module-level state during an invocation. "
            "Module-level state outlives the invocation: on a warm Lambda the next request "
            "would see this data."
        ]
        allow: list[str] = []
        for module, _path, what, allow_as in leaks:
            if allow_as not in allow:
                allow.append(allow_as)
            try:
                sites = _sites(self._spaces or [], func, module, allow_as, "name `" in what)
            except Exception:  # the message must never fail
                sites = []
            where = f" (used at {', '.join(sites)})" if sites else ""
            lines.append(f"  - module {module!r}: {what}{where}")
        if restored:
            lines.append(
                "The guarded state has been restored to what it was before this invocation."
            )
        lines.append(
            "Fix: keep per-invocation data in a local variable or on lambdascope.request "
            f"(e.g. `request.{_identifier(allow[0])} = ...`); create long-lived objects "
            "(clients, caches you mean to keep) in an @init_resource factory; or, if this is "
            f"a deliberate cache, allow it: @handler(allow={tuple(allow)!r})."
        )
        return "\n".join(lines)


def _rebinding(key: str, before: Any, now: Any) -> str:
    if now is _MISSING:
        return f"name `{key}` was deleted (`global {key}; del {key}`)"
    if before is _MISSING:
        return f"name `{key}` was created (`global {key}; {key} = ...`)"
    if before is None:
        return (
            f"name `{key}` was set from None to a {type(now).__name__} "
            f"(`global {key}; {key} = ...`): data, not a client or connection made lazily"
        )
    return f"name `{key}` was rebound (`global {key}; {key} = ...` or `{key} += ...`)"


def _node_words(node: _Node) -> str:
    words = node.describe()
    if node.origin.noun:
        words += (
            f" — {node.origin.noun}; defaults are created once, at Init, and shared by every "
            "call: default to None and create the value inside the function"
        )
    return words


def _walk(  # noqa: PLR0917 - one internal call site
    value: Any,
    origin: _Origin,
    deep: bool,
    names: frozenset[str],
    seen: set[int],
    nodes: list[_Node],
) -> None:
    """Snapshot *value* and, if *deep*, everything mutable reachable from it."""
    stack: list[tuple[Any, _Node | None, tuple[tuple[str, Any], ...]]] = [(value, None, ())]
    while stack:
        obj, parent, steps = stack.pop()
        kind = type(obj)
        if kind in _SCALARS or id(obj) in seen:
            continue
        try:
            found = _nodes_for(obj, kind, origin, parent, steps, names)
        except Exception:  # an object that cannot be copied (a proxy): its own business
            continue
        if issubclass(kind, (tuple, frozenset)):  # looked through (a namedtuple too)
            seen.add(id(obj))
            fields = getattr(kind, "_fields", None) if issubclass(kind, tuple) else None
            if isinstance(fields, tuple) and len(fields) == len(obj):  # a namedtuple
                items: Any = (((".", f), v) for f, v in zip(fields, obj))
            elif issubclass(kind, tuple):
                items = ((("[", i), v) for i, v in enumerate(obj))
            else:
                items = ((("{", v), v) for v in obj)
            stack.extend((v, parent, (*steps, step)) for step, v in items)
            if not found:
                continue
        if not found:
            continue
        seen.add(id(obj))
        nodes.extend(found)
        if not deep:
            continue
        for node in found:
            how = "." if node.family is None else "{" if node.family is set else "["
            stack.extend(
                (item, node, ((how, item if key is None else key),)) for key, item in node.children
            )
        if not issubclass(kind, type) and _own(kind, names) and id(kind) not in seen:
            stack.append((kind, None, ()))  # the class itself, even if not a module-level name


# The builtin container a user's subclass derives from (first match wins).
_FAMILIES: tuple[tuple[type, type], ...] = (
    (OrderedDict, dict),
    (dict, dict),
    (list, list),
    (set, set),
    (deque, deque),
    (bytearray, bytearray),
)


def _know_arrays() -> None:
    """Watch ``array.array`` like the builtin containers, once its module is imported
    (not importing it here: a shared library to load, for a type few handlers use)."""
    module = sys.modules.get("array")
    kind = getattr(module, "array", None)
    if isinstance(kind, type) and kind not in _KINDS:
        _KINDS[kind] = ("array", kind)
        _COPIES[kind] = lambda obj: kind(obj.typecode, obj)
        global _FAMILIES
        _FAMILIES = (*_FAMILIES, (kind, kind))


def _nodes_for(  # noqa: PLR0917 - one internal call site
    obj: Any,
    kind: type,
    origin: _Origin,
    parent: _Node | None,
    steps: tuple[tuple[str, Any], ...],
    names: frozenset[str],
) -> list[_Node]:
    known = _KINDS.get(kind)
    if known is not None:
        return [_Node(obj, known[0], known[1], origin, parent, steps)]
    if kind is _NAMESPACE:
        return [_Node(obj, "attributes", None, origin, parent, steps)]
    if issubclass(kind, type):
        if obj.__module__ not in names:
            return []
        if parent is None and not steps and origin.label != obj.__name__:
            origin = _Origin(origin.space, obj.__qualname__, obj.__qualname__)
        return [_Node(obj, "class", None, origin, parent, steps)]
    if not _own(kind, names):
        return []
    found = []
    family = next((family for base, family in _FAMILIES if issubclass(kind, base)), None)
    if family is not None:  # the items of the user's own subclass of a builtin container
        found.append(_Node(obj, kind.__name__, family, origin, parent, steps))
    if isinstance(getattr(obj, "__dict__", None), dict):
        found.append(_Node(obj, "attributes", None, origin, parent, steps))
    if _slot_names(kind):
        found.append(_Node(obj, "slots", None, origin, parent, steps))
    return found


def factory_started() -> object:
    """An ``@init_resource`` factory starts during an invocation: note what is dirty already."""
    guard = _active[-1] if _active else None
    return None if guard is None else (guard, guard._dirty())


def factory_finished(token: object) -> None:
    """The factory returned: what it wrote is init-scope work, the new baseline."""
    if isinstance(token, tuple):
        guard: Guard = token[0]
        guard._rebaseline_except(token[1])


_resources.observe_factories(factory_started, factory_finished)


def _identifier(name: str) -> str:
    return name if name.isidentifier() else "value"


_WRITE_OPS = frozenset(
    {
        "BINARY_OP",
        "STORE_SLICE",
        "DELETE_SLICE",
        "DELETE_ATTR",
        "STORE_ATTR",
        "STORE_SUBSCR",
        "INPLACE_ADD",
        "DELETE_GLOBAL",
        "INPLACE_OR",
        "STORE_GLOBAL",
        "DELETE_SUBSCR",
    }
)


def _codes(namespace: dict[str, Any], start: Any) -> list[Any]:
    """Code objects of *namespace*: those reachable from *start* first, then the rest."""

    def code_of(value: Any) -> list[Any]:
        found = []
        items = [value, *(vars(value).values() if isinstance(value, type) else ())]
        for item in items:
            func = innermost(getattr(item, "__func__", item))
            code = getattr(func, "__code__", None)
            if code is not None and getattr(func, "__globals__", None) is namespace:
                found.append(code)
        return found

    ordered: list[Any] = []
    todo = code_of(start)
    while todo:
        code = todo.pop(0)
        if code in ordered:
            continue
        ordered.append(code)
        todo.extend(c for c in code.co_consts if hasattr(c, "co_code"))
        for name in code.co_names:
            todo.extend(code_of(namespace.get(name)))
    rest = [c for value in list(namespace.values()) for c in code_of(value)]
    while rest:
        code = rest.pop(0)
        if code not in ordered:
            ordered.append(code)
            rest.extend(c for c in code.co_consts if hasattr(c, "co_code"))
    return ordered


def _sites(spaces: list[_Space], start: Any, module: str, name: str, rebinding: bool) -> list[str]:
    """``file:line`` where functions of *module* use the module-level *name*.

    Code reachable from the handler comes first, and in it the uses that look like
    writes (a mutating method, ``[...] =``, ``del``, ``+=``).
    """
    import dis

    namespace = next((s.namespace for s in spaces if s.name == module), {})
    wanted = {"STORE_GLOBAL", "DELETE_GLOBAL"} if rebinding else {"LOAD_GLOBAL", "STORE_GLOBAL"}
    likely: list[str] = []
    other: list[str] = []
    for code in _codes(namespace, start):
        line = code.co_firstlineno
        instructions = list(dis.get_instructions(code))
        for index, ins in enumerate(instructions):
            if isinstance(ins.starts_line, int) and not isinstance(ins.starts_line, bool):
                line = ins.starts_line
            line = getattr(ins, "line_number", None) or line
            if ins.opname not in wanted or ins.argval != name:
                continue
            site = f"{code.co_filename}:{line}"
            after = instructions[index : index + 6]
            write = ins.opname != "LOAD_GLOBAL" or any(
                a.opname in _WRITE_OPS
                or (a.opname in ("LOAD_METHOD", "LOAD_ATTR") and a.argval in MUTATING_METHODS)
                for a in after
            )
            target = likely if write else other
            if site not in likely and site not in target:
                target.append(site)
    return (likely + [s for s in other if s not in likely])[:_MAX_SITES]
