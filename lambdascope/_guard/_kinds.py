"""What the guard knows about Python's own types: data tables and small predicates.

Which containers it looks into (and how their families compare, copy and restore), which
values are scalars or data rather than resources, which objects are the user's own (their
classes live in a guarded module and derive from no library class), which names on an
object are the language's or a library's business (dunders, enum's ``_sunder_`` caches),
and the slots, cells and attribute bags it reads values from.
"""

from __future__ import annotations

import sys
from collections import Counter, OrderedDict, defaultdict, deque
from contextvars import ContextVar
from functools import partial
from types import CellType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Container
    from typing import Any


# exact type -> (kind name, family)
KINDS: dict[type, tuple[str, type]] = {
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
NAMESPACE = type(sys.implementation)


MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<unbound>"})()


# Values that cannot hold other objects: a container holding only these needs no identity pass.
SCALARS = frozenset({str, int, float, bool, bytes, complex, type(None)})


# Values that carry data rather than hold a resource: a name set to one of these during an
# invocation is per-request data, never init-scope work done lazily.
_DATA = SCALARS | frozenset(KINDS) | {tuple, frozenset, range}


_DATA_MODULES = frozenset(
    {"array", "datetime", "decimal", "fractions", "uuid", "ipaddress", "pathlib"}
)


def is_dunder(name: object) -> bool:
    return isinstance(name, str) and len(name) > 4 and name[:2] == name[-2:] == "__"


def safe_repr(value: object, limit: int = 40) -> str:
    """A short repr that never raises and never shows a long string (it may be a secret)."""
    if isinstance(value, (str, bytes)) and len(value) > 24:
        return f"<{type(value).__name__} of {len(value)} characters>"
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    return text if len(text) <= limit else f"<{type(value).__name__} object>"


def slot_names(cls: type) -> tuple[str, ...]:
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


def slot_values(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for name in names:
        try:
            value = object.__getattribute__(obj, name)
        except AttributeError:  # an empty slot
            continue
        values[name] = value
    return values


# How a watched container is copied, by family: with the builtin type's own storage
# access, never a method a subclass overrides (a list subclass whose ``__iter__`` yields a
# sorted view must be copied as it is stored, or a restore would rewrite it sorted).
COPIES: dict[type, Callable[[Any], Any]] = {
    dict: lambda obj: dict(dict.items(obj)),
    list: list.copy,
    deque: lambda obj: list(deque.__iter__(obj)),
    set: set.copy,
    bytearray: lambda obj: bytes(bytearray.copy(obj)),
}

_TYPE_DICT: Callable[[type], Any] = type.__dict__["__dict__"].__get__
_INSTANCE_DICT = object.__getattribute__
_QUALNAME: Callable[[type], str] = type.__dict__["__qualname__"].__get__


def class_attr(cls: type, name: str, default: Any = None) -> Any:
    """*name* looked up on the class *cls* as Python would find it in its own and its bases'
    namespaces, without running any code of the class's (``inspect.getattr_static``'s way):
    a metaclass's ``__getattr__`` or ``__getattribute__`` that caches or counts is never
    called."""
    for klass in type.__getattribute__(cls, "__mro__"):
        namespace = _TYPE_DICT(klass)
        if name in namespace:
            return namespace[name]
    return default


def class_namespace(cls: type) -> Any:
    """The class's own namespace (a read-only proxy), without running its metaclass's code."""
    return _TYPE_DICT(cls)


def instance_dict(obj: object) -> dict[str, Any] | None:
    """The instance's ``__dict__``, or None, without running its class's code (a
    ``__getattr__`` asked for ``__dict__`` of an object with slots, a ``__getattribute__``)."""
    try:
        found = _INSTANCE_DICT(obj, "__dict__")
    except AttributeError:
        return None
    return found if isinstance(found, dict) else None


def stored_items(obj: Any, family: type | None) -> Any:
    """What a watched container of *family* holds, read from its storage (see COPIES)."""
    return COPIES[family](obj) if family is not None else instance_dict(obj)


def cell_values(cell: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``{variable: value}`` of a closure cell (empty when the cell is)."""
    try:
        return {names[0]: cell.cell_contents}
    except ValueError:  # an empty cell
        return {}


def internal(owner: object, name: object, named: Container[str] = ()) -> bool:
    """A name the language or a library manages on *owner*, not the user's data: dunders;
    on classes with a metaclass of their own (an enum, a library's base class), the
    ``_sunder_`` names (enum caches the flag combinations it creates in
    ``_value2member_map_``) and the private names no code of the project uses (*named*:
    marshmallow fills a ``defaultdict`` in ``_hooks`` on every ``Schema`` subclass as it
    loads, SQLAlchemy keeps ``_sa_`` state on mapped classes)."""
    if not isinstance(name, str) or len(name) < 3 or name[0] != "_":
        return False
    if name[-1] != "_":
        return _library_class(owner) and name not in named
    if name[:2] == name[-2:] == "__":
        return len(name) > 4
    return isinstance(owner, type) and type(owner) is not type


def _library_class(owner: object) -> bool:
    """A class made by a metaclass other than ``type`` and ``abc.ABCMeta``."""
    if not isinstance(owner, type):
        return False
    meta = type(owner)
    return meta is not type and not (meta.__module__ == "abc" and meta.__name__ == "ABCMeta")


def library_descriptor(value: object, project: frozenset[str]) -> bool:
    """Is *value*, new on a class of the project, a library's lazy configuration of it: a
    descriptor of a library's type (SQLAlchemy adds ``Customer.orders``, an
    ``InstrumentedAttribute``, when it configures a ``backref`` on the first query)? Not a
    function, property or other builtin descriptor, nor one of the project's own."""
    kind = type(value)
    module = class_attr(kind, "__module__")
    return (
        isinstance(module, str)
        and module != "builtins"
        and module not in project
        and class_attr(kind, "__get__") is not None
    )


def value_equality(value: object) -> bool:
    """Could ``==`` take a new, equal object for this one (and data cross unseen)?"""
    kind = type(value)
    if kind in SCALARS or issubclass(kind, type) or kind.__eq__ is object.__eq__:
        return False
    if kind is tuple or kind is frozenset:  # equal tuples of scalars carry the same data
        return any(type(item) not in SCALARS for item in value)  # type: ignore[attr-defined]
    return True


def runs_code(value: object, kind: type, names: frozenset[str]) -> bool:
    """Can using *value* run code that writes it? Instances and classes of a guarded module
    (any method, property or dunder), and mappings that insert on a read (``__missing__``)."""
    if issubclass(kind, type):
        return class_attr(value, "__module__") in names  # type: ignore[arg-type]
    missing = class_attr(kind, "__missing__")
    return (missing is not None and missing is not Counter.__missing__) or is_own(kind, names)


# Bases that add no state of their own: a class deriving only from these (and the guarded
# modules' classes) is the user's; one deriving from a library class keeps the library's
# state (a Powertools BatchProcessor subclass stores each batch on itself, by design).
# The standard library's containers and data holders count too (``collections``: deque,
# Counter, OrderedDict, defaultdict, UserDict, UserList; ``types``: SimpleNamespace;
# ``array``): a subclass of them keeps the user's data, and is watched like the user's own.
_STRUCTURAL = frozenset(
    {"builtins", "abc", "typing", "typing_extensions", "_collections_abc", "collections"}
    | {"collections.abc", "types", "array"}
)


def is_own(kind: type, names: frozenset[str]) -> bool:
    """Are *kind*'s instances the user's own objects (not a library's)?"""
    return kind.__module__ in names and all(
        getattr(base, "__module__", None) in names or base.__module__ in _STRUCTURAL
        for base in kind.__mro__
    )


# Functions, methods and builtins: code, never a resource.
_CODE = frozenset(
    {type(is_dunder), type(len), type([].append), type(Counter().update), type(sys.exc_info)}
)


def holds_resource(value: object) -> bool:
    """Is *value* an object that holds a resource (a client, a connection), not data, and
    not code (a function, a method, a class: a reference to code is no resource)?"""
    kind = type(value)
    if kind in _DATA or kind in _CODE or issubclass(kind, (BaseException, type)):
        return False
    module = (getattr(kind, "__module__", None) or "").partition(".")[0]
    return module not in _DATA_MODULES and not issubclass(kind, (str, int, float, tuple))


# Bound methods: of a builtin's (``[].append``) and of a Python class's (``Log().add``).
_PYTHON_METHOD: type = type(Counter().update)
_METHODS = frozenset({type([].append), _PYTHON_METHOD})

#: The standard library's classes that hold the user's data in their instance attributes:
#: watched like an attribute bag, whole (``CHAIN.maps[0][k] = v``, ``QUEUE.put(v)``).
_HOLDERS = frozenset(
    {
        ("collections", "ChainMap"),
        ("collections", "UserDict"),
        ("collections", "UserList"),
        ("collections", "UserString"),
        ("queue", "Queue"),
        ("queue", "LifoQueue"),
        ("queue", "PriorityQueue"),
    }
)


def holder(kind: type) -> bool:
    """Is *kind* a standard-library data holder (:data:`_HOLDERS`)?"""
    return (class_attr(kind, "__module__"), _QUALNAME(kind)) in _HOLDERS


def held(value: object) -> tuple[tuple[str, Any], ...] | None:
    """``(attribute, value)`` of what a bound method, a ``functools.partial``, a
    ``ContextVar`` or a data holder keeps, that calling or using it may write (``record =
    [].append`` writes its list, ``partial(Outbox.send, Outbox())`` its outbox, a
    ``ContextVar``'s default list is every request's); None for anything else."""
    kind = type(value)
    found: tuple[tuple[str, Any], ...] | None = None
    if kind in _METHODS:
        owner = value.__self__  # type: ignore[attr-defined]
        plain = owner is None or type(owner) in SCALARS or isinstance(owner, (type, MODULE_TYPE))
        found = None if plain else (("__self__", owner),)
    elif kind is partial:
        found = (("func", value.func), ("args", value.args), ("keywords", value.keywords))  # type: ignore[attr-defined]
    elif kind is ContextVar:  # its value now, else its default: shared by every request
        try:
            found = (("get()", value.get()),)  # type: ignore[attr-defined]
        except LookupError:
            found = None
    elif holder(kind):
        attributes = instance_dict(value)
        found = tuple(attributes.items()) if attributes else None
    return found


def looked_through(kind: type) -> bool:
    """A bound method or a partial: the walk goes on into what it holds (see :func:`held`)."""
    return kind in _METHODS or kind is partial or kind is ContextVar


def is_imported_module(value: object) -> bool:
    """A module object that ``sys.modules`` holds (``import pkg.sub`` sets ``pkg.sub``)."""
    name = getattr(value, "__name__", None) if type(value) is type(sys) else None
    return name is not None and sys.modules.get(name) is value


FUNCTION_TYPE = type(is_dunder)
CELL_TYPE = CellType
MODULE_TYPE = type(sys)


def modules_in(value: object) -> list[Any] | None:
    """The modules a tuple, list, set or dict (its values) holds, when it holds modules only
    and at least one (else None); stops at the first item that is not a module."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (tuple, list, set, frozenset)):
        items = value
    else:
        return None
    modules = []
    for item in items:
        if type(item) is not MODULE_TYPE or not isinstance(item.__name__, str):
            return None
        modules.append(item)
    return modules or None


# The builtin container a user's subclass derives from (first match wins; know_arrays adds
# ``array.array`` in place, so every module that imported this list sees it).
FAMILIES: list[tuple[type, type]] = [
    (OrderedDict, dict),
    (dict, dict),
    (list, list),
    (set, set),
    (deque, deque),
    (bytearray, bytearray),
]


def know_arrays() -> None:
    """Watch ``array.array`` like the builtin containers, once its module is imported
    (not importing it here: a shared library to load, for a type few handlers use)."""
    module = sys.modules.get("array")
    kind = getattr(module, "array", None)
    if isinstance(kind, type) and kind not in KINDS:
        KINDS[kind] = ("array", kind)
        COPIES[kind] = lambda obj: kind(kind.__dict__["typecode"].__get__(obj), obj)
        FAMILIES.append((kind, kind))


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


def plain_function(value: object) -> Any:
    """The function under *value* — a function, a ``staticmethod``/``classmethod``, a bound
    method, a ``functools.wraps`` wrapper (its ``__wrapped__``, innermost) — found without
    running any code of the user's (no ``getattr`` that could reach a ``__getattr__``); None
    when *value* holds no function."""
    for _ in range(100):
        kind = type(value)
        if kind in (staticmethod, classmethod) or kind is _PYTHON_METHOD:
            value = value.__func__  # type: ignore[attr-defined]
            continue
        if kind is not FUNCTION_TYPE:
            return None
        wrapped = (instance_dict(value) or {}).get("__wrapped__")
        if wrapped is None or wrapped is value:
            return value
        if type(wrapped) is not FUNCTION_TYPE and plain_function(wrapped) is None:
            return value
        value = wrapped
    return value


def function_globals(func: Any) -> dict[str, Any]:
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
