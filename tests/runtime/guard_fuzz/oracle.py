"""The oracle: a deep picture of a program's module state, written from the guard's promises.

It shares no code with lambdascope's guard and does not look at how the guard works: it
walks everything the program's modules can reach and says what an invocation changed.

What it follows (docs/guard.md, "What it catches"):

- every non-dunder name of every module of the function's own code (the roots): the modules
  the generator wrote as the project's (never a library's, whatever the guard's rules say),
  each as its top-level code left its namespace, also when it then put something else in
  ``sys.modules`` in its place; a module that joins during an invocation (a lazy import) is
  compared from the next one on (docs: it "joins the guarded set when that invocation ends");
- builtin containers (``list``, ``dict``, ``set``, ``bytearray``, ``deque``, ``defaultdict``,
  ``OrderedDict``, ``Counter``, ``SimpleNamespace``, ``array``) and subclasses of them that
  the generated modules define: their items *and* their instance attributes; the standard
  library's data holders (``ChainMap``, ``UserDict``, ``UserList``, ``UserString``,
  ``queue.Queue``) and subclasses of them: they hold the program's data (issue 27); not the
  weak containers nor ``queue.SimpleQueue``, which the docs say are not watched;
- ``contextvars.ContextVar`` objects: the value each has in the context of the caller, which is
  what the next invocation sees (see ``CONTEXTVARS``);
- tuples, namedtuples and frozensets, by structure (they are values);
- instances of classes the generated modules define (``__dict__`` and ``__slots__``), unless
  the class derives from a library class that keeps state (docs: it "counts as the
  library's"); the classes themselves (their ``__dict__`` minus dunders, and for enums minus
  the ``_sunder_`` names where enum keeps its member maps);
- functions defined in the generated files: their defaults, keyword-only defaults, closure
  cells and attributes; a function from elsewhere only for what it wraps (``__wrapped__``:
  ``@handler`` over a decorator of the module); methods, ``staticmethod``, ``classmethod``,
  ``property`` and ``cached_property`` wrappers found in classes; bound methods (their
  ``__self__``).

Everything else is opaque and compared by identity only: modules, classes and functions from
elsewhere, loggers, locks, patterns, clients, ``functools.partial``, ...

How it compares: scalars by type and value (an equal scalar put in place of another is no
change), tuples by structure, every other followed object by identity *and* content, so an
item replaced by a new object that merely compares equal is a change. Plain dicts compare as
mappings (their key order is not state), ``OrderedDict`` with its order.

What it accepts (docs/guard.md, "What it accepts"), each rule small and explicit in
:class:`Acceptance`: a module-level name going from ``None`` or unbound to an object that holds
a resource, once per name; a name going from unbound to a module (a lazy import); an instance
attribute filled by a ``functools.cached_property`` of its class; a dict gaining an entry that
holds a resource under a key written in the program's source, or a closure variable going from
``None`` to such an object (clients memoised lazily), once each; whatever the top-level code of
a module imported during the invocation does (Init work run late, issue 27: the runner tells
the oracle when such code starts and ends); a class of the project gaining a new attribute that
holds a library's object (a library configuring the user's classes lazily, as SQLAlchemy's
``backref`` does on first use, issue 27).

It never runs the program's code: containers are read through the builtin types' own methods
(``list.__iter__``, ``dict.items``), attributes through ``object.__getattribute__`` and the
classes' ``__dict__``, and the paths it prints never call a ``__repr__`` of the program's.
"""

from __future__ import annotations

import array
import ast
import collections
import contextvars
import datetime
import decimal
import enum
import functools
import ipaddress
import pathlib
import queue
import sys
import types
import uuid
from collections import Counter, OrderedDict, defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: What a ContextVar set by an invocation and not reset is: "request" (the guard gives
#: ContextVars request scope: what the next invocation sees must be what Init left, and what
#: the handler sets is no leak) or "report" (a leak like any other state: reported, and
#: undone). The lead decides which docs/guard.md will say (issue 27); the oracle follows.
CONTEXTVARS = "request"

# A value as the oracle records it: hashable tuples.
#   ("v", type name, value)     a scalar
#   ("t", type id, (values...)) a tuple (namedtuples too), compared by structure
#   ("f", frozenset(values))    a frozenset
#   ("e", type id, value repr)  an enum member (atoms: enum caches its members)
#   ("r", id)                   a followed object: see Snapshot.nodes
#   ("o", id, type name)        an opaque object, by identity
#   ("u",)                      unbound (a missing name, an empty cell, an unset slot)
Value = tuple[Any, ...]
UNBOUND: Value = ("u",)

SCALARS = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    range,
    type(Ellipsis),
    type(NotImplemented),
)
# In the order a subclass is matched: the most derived builtin first.
CONTAINERS = (
    Counter,
    OrderedDict,
    defaultdict,
    dict,
    deque,
    list,
    set,
    bytearray,
    array.array,
    types.SimpleNamespace,
)
# The standard library's classes made to hold data (and to be subclassed): followed through
# their attributes (``maps``, ``data``, ``queue``), like the program's own objects. The weak
# containers and ``queue.SimpleQueue`` are not (docs: "not watched": their entries come and go
# with the garbage collector; a SimpleQueue's items cannot be read without taking them).
HOLDERS = (
    collections.ChainMap,
    collections.UserDict,
    collections.UserList,
    collections.UserString,
    queue.Queue,
)
# Bases that add no state (docs: they do not make a class "the library's").
STATELESS_BASES = {object}
for _module, _name in (("abc", "ABC"), ("typing", "Generic"), ("typing", "Protocol")):
    _base = getattr(sys.modules.get(_module) or __import__(_module), _name, None)
    if isinstance(_base, type):
        STATELESS_BASES.add(_base)
# Values that are data, not resources, for the lazy-init rule (docs: "a datetime, Decimal,
# UUID, path or IP address").
DATA_TYPES: tuple[type, ...] = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    decimal.Decimal,
    uuid.UUID,
    pathlib.PurePath,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


BOUND_METHODS = (types.MethodType, types.BuiltinMethodType, types.MethodWrapperType)
# Objects that hold functions or objects: followed to what they hold.
WRAPPERS = (staticmethod, classmethod, property, functools.cached_property, functools.partial)
CONTEXT_VALUE = "<context value>"  # a ContextVar's entry: its value in the current context
# The builtin types' own descriptors: reading through them runs no code of the program's.
_DEFAULT_FACTORY = vars(defaultdict)["default_factory"]
_MAXLEN = vars(deque)["maxlen"]
_TYPECODE = vars(array.array)["typecode"]


def is_dunder(name: object) -> bool:
    return isinstance(name, str) and len(name) > 4 and name[:2] == name[-2:] == "__"


def is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def container_base(kind: type) -> type | None:
    for base in CONTAINERS:
        if issubclass(kind, base):
            return base
    return None


@dataclass
class Change:
    """One difference between two snapshots."""

    where: tuple[Any, ...]  # ("root", module, name) or ("node", id, key)
    path: str  # readable: app.STATE['items'][0]
    old: Value
    new: Value
    roots: frozenset[str] = frozenset()  # module-level names the changed object is reached from

    def describe(self) -> str:
        return f"{self.path}: {show(self.old)} -> {show(self.new)}"


def show(value: Value) -> str:  # noqa: PLR0911 - one return per kind of value
    tag = value[0]
    if tag == "v":
        return repr(value[2]) if value[1] != "float" else value[2]
    if tag == "u":
        return "<unbound>"
    if tag == "r":
        return "<object>"
    if tag == "o":
        return f"<{value[2]}>"
    if tag == "e":
        return f"<enum {value[2]}>"
    if tag == "t":
        return "(" + ", ".join(show(v) for v in value[2]) + ",)"
    return "frozenset(...)"


@dataclass
class Snapshot:
    """Every root value and every followed object's content at one moment."""

    modules: tuple[str, ...]
    roots: dict[tuple[str, str], Value] = field(default_factory=dict)
    nodes: dict[int, dict[Any, Value]] = field(default_factory=dict)
    objects: dict[int, Any] = field(default_factory=dict)  # keeps them alive: ids stay unique
    opaque: dict[int, Any] = field(default_factory=dict)  # the same for opaque objects
    paths: dict[int, str] = field(default_factory=dict)
    reach: dict[int, set[str]] = field(default_factory=dict)

    def release(self) -> None:
        """Let go of the objects (what is left compares, but cannot tell their types)."""
        self.objects.clear()
        self.opaque.clear()


class Oracle:
    """Snapshots of the state of a fixed set of modules (the generated ones)."""

    def __init__(
        self,
        modules: Callable[[], list[tuple[str, dict[str, Any]]]],
        files: Iterable[str],
    ) -> None:
        self.modules = modules  # the project's modules loaded now: (name, namespace)
        self.files = set(files)  # the project's source files
        self.module_names: set[str] = set()

    # -- what is followed --------------------------------------------------------------------

    def own_class(self, kind: type) -> bool:
        return getattr(kind, "__module__", None) in self.module_names

    def library_derived(self, kind: type) -> bool:
        """A class of the program that derives from a stateful library class."""
        for base in kind.__mro__:
            if self.own_class(base) or base in STATELESS_BASES or base in CONTAINERS:
                continue
            if base in HOLDERS:  # what is above it is the holder's own machinery
                return False
            if base is tuple:
                continue
            return True
        return False

    def own_function(self, value: Any) -> bool:
        code = getattr(value, "__code__", None)
        return isinstance(value, types.FunctionType) and code.co_filename in self.files

    def followed(self, value: Any) -> bool:  # noqa: PLR0911 - one return per kind of object
        kind = type(value)
        if kind in CONTAINERS or kind in HOLDERS:
            return True
        if isinstance(value, contextvars.ContextVar):
            return True
        if isinstance(value, type):
            return self.own_class(value)
        if self.own_class(kind):
            return container_base(kind) is not None or not self.library_derived(kind)
        if isinstance(value, types.FunctionType):  # a wrapper leads to what it wraps
            return self.own_function(value) or hasattr(value, "__wrapped__")
        if isinstance(value, BOUND_METHODS):
            owner = getattr(value, "__self__", None)
            return owner is not None and not isinstance(owner, types.ModuleType)
        return isinstance(value, WRAPPERS)

    # -- the walk ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        modules = self.modules()
        self.module_names = {name for name, _ in modules}
        snap = Snapshot(tuple(name for name, _ in modules))
        for module_name, namespace in modules:
            for name in sorted(namespace):
                if is_dunder(name):
                    continue
                label = f"{module_name}.{name}"
                snap.roots[(module_name, name)] = self.encode(snap, namespace[name], label, name)
        _propagate_reach(snap)
        return snap

    def encode(self, snap: Snapshot, value: Any, path: str, root: str) -> Value:
        kind = type(value)
        if kind in SCALARS:
            shown = repr(value) if kind in (float, complex) else value
            return ("v", kind.__name__, shown)
        if isinstance(value, enum.Enum):
            return ("e", id(kind), repr(value._value_))
        if isinstance(value, tuple):
            items = tuple(
                self.encode(snap, item, f"{path}[{n}]", root) for n, item in enumerate(value)
            )
            return ("t", id(kind), items)
        if kind is frozenset:
            return ("f", frozenset(self.encode(snap, item, f"{path}{{}}", root) for item in value))
        if not self.followed(value):
            snap.opaque[id(value)] = value
            return ("o", id(value), kind.__qualname__)
        key = id(value)
        if key not in snap.nodes:
            snap.objects[key] = value
            snap.paths[key] = path
            snap.nodes[key] = {}  # placeholder: cycles end here
            snap.nodes[key] = self.content(snap, value, path, root)
        return ("r", key)

    def content(  # noqa: PLR0911, PLR0912 - one return per kind of object
        self, snap: Snapshot, value: Any, path: str, root: str
    ) -> dict[Any, Value]:
        entries: dict[Any, Value] = {"<type>": ("o", id(type(value)), type(value).__qualname__)}

        def put(key: Any, item: Any, where: str) -> None:
            entries[key] = self.encode(snap, item, where, root)

        if isinstance(value, type):
            self.class_content(value, put, path)
            return entries
        if isinstance(value, types.FunctionType) and not self.own_function(value):
            put("<wrapped>", value.__wrapped__, f"{path}.__wrapped__")  # another library's
            return entries
        if isinstance(value, types.FunctionType):
            self.function_content(value, put, path)
            return entries
        if isinstance(value, BOUND_METHODS):
            put("<self>", value.__self__, f"{path}.__self__")
            if isinstance(value, types.MethodType):
                put("<func>", value.__func__, f"{path}.__func__")
            return entries
        if isinstance(value, (staticmethod, classmethod)):
            put("<func>", value.__func__, path)
            return entries
        if isinstance(value, property):
            for part in ("fget", "fset", "fdel"):
                put(f"<{part}>", getattr(value, part), f"{path}.{part}")
            return entries
        if isinstance(value, functools.cached_property):
            put("<func>", value.func, path)
            return entries
        if isinstance(value, functools.partial):
            put("<func>", value.func, f"{path}.func")
            put("<args>", value.args, f"{path}.args")
            put("<keywords>", value.keywords, f"{path}.keywords")
            return entries
        if isinstance(value, contextvars.ContextVar):
            try:
                current = value.get()  # its value, else its default: what code sees
            except LookupError:
                current = _Unset
            put(CONTEXT_VALUE, current, f"{path}.get()")
            return entries
        base = container_base(type(value))
        if base is not None:
            self.container_content(value, base, put, entries, path=path, snap=snap, root=root)
        self.attribute_content(value, base, put, path)
        return entries

    def container_content(
        self,
        value: Any,
        base: type,
        put: Any,
        entries: dict[Any, Value],
        *,
        path: str,
        snap: Snapshot,
        root: str,
    ) -> None:
        if issubclass(base, dict):
            order = []
            # dict.items of an OrderedDict is in insertion order, not the OrderedDict's own
            for key, item in (OrderedDict.items if base is OrderedDict else dict.items)(value):
                encoded = self.encode(snap, key, f"{path}<key {_shown(key)}>", root)
                order.append(encoded)
                put(("[]", encoded), item, f"{path}[{_shown(key)}]")
            if base is OrderedDict:
                entries["<order>"] = ("t", 0, tuple(order))
            if base is defaultdict:
                factory = _DEFAULT_FACTORY.__get__(value, defaultdict)
                put("<default_factory>", factory, f"{path}.default_factory")
        elif base in (list, deque):
            items = list(list.__iter__(value)) if base is list else list(deque.__iter__(value))
            entries["<len>"] = ("v", "int", len(items))
            for index, item in enumerate(items):
                put(("[]", index), item, f"{path}[{index}]")
            if base is deque:
                entries["<maxlen>"] = ("v", "maxlen", _MAXLEN.__get__(value, deque))
        elif base is set:
            members = frozenset(
                self.encode(snap, item, f"{path}{{{_shown(item)}}}", root)
                for item in set.__iter__(value)
            )
            entries["<members>"] = ("f", members)
        elif base is bytearray:
            entries["<bytes>"] = ("v", "bytes", bytes(bytearray.copy(value)))
        elif base is array.array:
            code = _TYPECODE.__get__(value, array.array)
            entries["<array>"] = ("v", code, tuple(map(repr, array.array.tolist(value))))

    def attribute_content(self, value: Any, base: type | None, put: Any, path: str) -> None:
        try:
            attributes = object.__getattribute__(value, "__dict__")
        except (AttributeError, TypeError):
            attributes = {}
        everything = base is types.SimpleNamespace
        for name, item in list(attributes.items()):
            if everything or not is_dunder(name):
                put((".", name), item, f"{path}.{name}")
        for cls in type(value).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            if isinstance(slots, str):
                slots = (slots,)
            for slot in slots:
                if slot in ("__dict__", "__weakref__"):
                    continue
                name = slot
                if slot.startswith("__") and not slot.endswith("__"):
                    name = f"_{cls.__name__.lstrip('_')}{slot}"
                descriptor = cls.__dict__.get(name)
                if descriptor is None or not hasattr(descriptor, "__get__"):
                    continue
                try:
                    item = descriptor.__get__(value, cls)
                except AttributeError:
                    item = _Unset
                put((".", name), item, f"{path}.{name}")

    def class_content(self, value: type, put: Any, path: str) -> None:
        is_enum = isinstance(value, enum.EnumMeta)
        for name, item in list(value.__dict__.items()):
            if is_dunder(name) or (is_enum and is_sunder(name)):
                continue
            put((".", name), item, f"{path}.{name}")

    def function_content(self, value: types.FunctionType, put: Any, path: str) -> None:
        for index, default in enumerate(value.__defaults__ or ()):
            put(("<default>", index), default, f"{path}(default {index})")
        for name, default in (value.__kwdefaults__ or {}).items():
            put(("<kwdefault>", name), default, f"{path}(default {name})")
        for name, cell in zip(value.__code__.co_freevars, value.__closure__ or ()):
            try:
                item = cell.cell_contents
            except ValueError:
                item = _Unset
            put(("<cell>", name), item, f"{path}.<closure {name}>")
        for name, item in list(value.__dict__.items()):
            if not is_dunder(name):
                put((".", name), item, f"{path}.{name}")


def _propagate_reach(snap: Snapshot) -> None:
    """Which module-level names reach each object (an object is walked once, from the
    first name that reaches it: the others are found here)."""
    for (_, name), value in snap.roots.items():
        stack = list(_refs(value))
        while stack:
            node = stack.pop()
            roots = snap.reach.setdefault(node, set())
            if name in roots:
                continue
            roots.add(name)
            for entry in snap.nodes.get(node, {}).values():
                stack.extend(_refs(entry))


def _refs(value: Value) -> list[int]:
    """The followed objects a value refers to (inside tuples and frozensets too)."""
    tag = value[0]
    if tag == "r":
        return [value[1]]
    if tag == "t":
        return [ref for item in value[2] for ref in _refs(item)]
    if tag == "f":
        return [ref for item in value[1] for ref in _refs(item)]
    return []


class _UnsetType:
    """Stands for an unbound cell or an unset slot while encoding."""


_Unset = _UnsetType()


def _is_unset(value: Value) -> bool:
    return value[0] == "o" and value[2] == "_UnsetType"


def diff(
    before: Snapshot, after: Snapshot, *, keep: bool = True, part: str = "state"
) -> list[Change]:
    """What changed between two snapshots of the same modules (``keep=False``: release
    *after* once compared). *part*: ``"state"``, or ``"context"`` for the values ContextVars
    have (which are module state too when ``CONTEXTVARS`` is ``"report"``)."""
    changes = _diff(before, after, part)
    if not keep:
        after.release()
    return changes


def _diff(before: Snapshot, after: Snapshot, part: str) -> list[Change]:
    changes: list[Change] = []
    # a module that joined (or left) in between is compared from the next snapshot on
    both = set(before.modules) & set(after.modules)
    state = part == "state"
    for key in sorted(set(before.roots) | set(after.roots)) if state else ():
        if key[0] not in both:
            continue
        old = before.roots.get(key, UNBOUND)
        new = after.roots.get(key, UNBOUND)
        if old != new:
            module, name = key
            changes.append(
                Change(("root", module, name), f"{module}.{name}", old, new, frozenset({name}))
            )
    context_is_state = CONTEXTVARS == "report"
    for node, old_entries in before.nodes.items():
        new_entries = after.nodes.get(node)
        if new_entries is None:
            continue  # no longer reachable: whatever held it changed, and says so
        for key in set(old_entries) | set(new_entries):
            if key == CONTEXT_VALUE:
                if state and not context_is_state:
                    continue
            elif not state:
                continue
            old = _normal(old_entries.get(key, UNBOUND))
            new = _normal(new_entries.get(key, UNBOUND))
            if old != new:
                changes.append(
                    Change(
                        ("node", node, key),
                        before.paths[node] + _show_key(key),
                        old,
                        new,
                        frozenset(before.reach.get(node, ())),
                    )
                )
    return changes


def _normal(value: Value) -> Value:
    return UNBOUND if _is_unset(value) else value


def _shown(value: Any) -> str:
    """A dict key or set member in a path: the program's ``__repr__`` is never called."""
    if type(value) in SCALARS:
        return repr(value)
    return f"<{type(value).__qualname__}>"


def _show_key(key: Any) -> str:
    if key == CONTEXT_VALUE:
        return ".get()"
    if isinstance(key, tuple) and key and key[0] == "[]":
        inner = key[1]
        return f"[{show(inner)}]" if isinstance(inner, tuple) else f"[{inner!r}]"
    if isinstance(key, tuple) and key and key[0] == ".":
        return f".{key[1]}"
    if isinstance(key, tuple):
        return f" {key[0]} {key[1]}"
    return f" {key}"


class Acceptance:
    """The documented acceptances of init work done during an invocation.

    State is kept across the invocations of one execution environment: a name's lazy init
    is accepted once.
    """

    def __init__(self, constants: frozenset[Any] = frozenset()) -> None:
        self.initialised: set[tuple[Any, ...]] = set()
        # the strings and integers written in the program's source: keys that are not
        # request data ("clients memoised in a dict")
        self.constants = constants

    def split(
        self, changes: list[Change], before: Snapshot, after: Snapshot
    ) -> tuple[list[Change], list[Change]]:
        """(leaks, accepted)."""
        leaks: list[Change] = []
        accepted: list[Change] = []
        for change in changes:
            if self.accepts(change, before, after):
                accepted.append(change)
            else:
                leaks.append(change)
        for change in accepted:
            self.initialised.add(change.where)
        return leaks, accepted

    def accepts(self, change: Change, before: Snapshot, after: Snapshot) -> bool:
        if change.where[0] == "root":
            return self.lazy_name(change, after)
        return (
            self.cached_property(change, before)
            or self.lazy_entry(change, before, after)
            or self.library_configuration(change, before, after)
        )

    def library_configuration(self, change: Change, before: Snapshot, after: Snapshot) -> bool:
        """Issue 27: a class of the project gaining an attribute that holds a library's object
        (SQLAlchemy's ``backref`` adds a descriptor on first use) is the library configuring
        the class lazily, not the handler's data."""
        _, node, key = change.where
        owner = before.objects.get(node)
        if not (isinstance(owner, type) and isinstance(key, tuple) and key[0] == "."):
            return False
        if change.old != UNBOUND:
            return False
        obj = _object_of(change.new, after)
        if obj is _Unset or not holds_resource(obj) or isinstance(obj, type):
            return False
        ours = set(before.modules) | set(after.modules)
        kind = type(obj)
        return kind.__module__ not in ours and kind.__module__ != "builtins"

    def lazy_entry(self, change: Change, before: Snapshot, after: Snapshot) -> bool:
        """Docs: a dict gaining an entry that holds a resource under a key written in the
        module's source, or a closure variable going from None to one; once each."""
        _, node, key = change.where
        if change.where in self.initialised or not isinstance(key, tuple):
            return False
        owner = before.objects.get(node)
        if key[0] == "<cell>":
            old_ok = change.old == ("v", "NoneType", None)
        elif key[0] == "[]" and owner is not None and container_base(type(owner)) is not None:
            encoded = key[1]
            old_ok = (
                change.old == UNBOUND
                and issubclass(container_base(type(owner)) or object, dict)
                and isinstance(encoded, tuple)
                and encoded[0] == "v"
                and encoded[1] in ("str", "int")
                and encoded[2] in self.constants
            )
        else:
            return False
        obj = _object_of(change.new, after)
        return old_ok and obj is not _Unset and holds_resource(obj)

    def lazy_name(self, change: Change, after: Snapshot) -> bool:
        """A name from None/unbound to a resource (once), or from unbound to a module."""
        old, new = change.old, change.new
        if old not in (UNBOUND, ("v", "NoneType", None)):
            return False
        obj = _object_of(new, after)
        if obj is _Unset:
            return False
        if isinstance(obj, types.ModuleType):
            return old == UNBOUND and sys.modules.get(obj.__name__) is obj
        if change.where in self.initialised:
            return False
        return holds_resource(obj)

    def cached_property(self, change: Change, before: Snapshot) -> bool:
        _, node, key = change.where
        if not (isinstance(key, tuple) and key[0] == "." and change.old == UNBOUND):
            return False
        owner = before.objects.get(node)
        if owner is None or isinstance(owner, type):
            return False
        for cls in type(owner).__mro__:
            attribute = cls.__dict__.get(key[1])
            if attribute is not None:
                return isinstance(attribute, functools.cached_property)
        return False


def _object_of(value: Value, snap: Snapshot) -> Any:
    if value[0] == "r":
        return snap.objects[value[1]]
    if value[0] == "o":
        return snap.opaque[value[1]]
    return _Unset  # scalars, tuples, frozensets, enums: data


def source_constants(sources: Iterable[str]) -> frozenset[Any]:
    """The strings and integers written as literals in *sources*."""
    found: set[Any] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and type(node.value) in (str, int):
                found.add(node.value)
    return frozenset(found)


def holds_resource(obj: Any) -> bool:
    """Docs: anything but a builtin scalar or container, a tuple, or a value type."""
    if isinstance(obj, (tuple, frozenset, *SCALARS)):
        return False
    if container_base(type(obj)) is not None:
        return False
    return not isinstance(obj, DATA_TYPES)
