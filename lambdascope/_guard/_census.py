"""The census: what of a guarded module is watched, and the walk that snapshots it.

:class:`Space` holds one module's bindings and decides, from the write analysis and from
the values themselves, which values to watch and how deeply (:meth:`Space.to_watch`), which
default arguments and closure cells (:meth:`Space.defaults`, :meth:`Space.cells`);
:func:`walk` turns each into :class:`~lambdascope._guard._nodes.Node` objects. Also here:
what init-scope work done lazily looks like one level down (:func:`lazy_init`), and the
per-module caches of the analysis and of the values something else holds.
"""

from __future__ import annotations

from ._kinds import (
    CELL_TYPE,
    FAMILIES,
    FUNCTION_TYPE,
    KINDS,
    MISSING,
    MODULE_TYPE,
    NAMESPACE,
    SCALARS,
    cell_values,
    class_attr,
    held,
    holder,
    holds_resource,
    instance_dict,
    is_dunder,
    is_own,
    looked_through,
    slot_names,
    value_equality,
)
from ._nodes import Node, Origin
from ._scan import reaches_code
from ._tables import DEEP, EXACT, INSIDE, words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Iterator
    from typing import Any

    from ._facts import Analysis


class _EveryName:
    """Contains every name: what the project's code uses when an analysis cannot say."""

    def __contains__(self, name: object) -> bool:
        return True


EVERY_NAME = _EveryName()


class Space:
    """The module-level names of one guarded module, and what of them is watched."""

    __slots__ = (
        "_constants",
        "allow",
        "analysis",
        "functions",
        "loaded",
        "name",
        "named",
        "namespace",
        "project",
        "quiet",
        "rebound",
        "returned",
        "snap",
        "values",
        "watching",
        "whole",
        "written",
    )

    def __init__(
        self, name: str, namespace: dict[str, Any], allow: frozenset[str], analysis: Analysis
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.allow = allow
        self.analysis = analysis
        # What the module's own code does, and then (link_project) the other modules' code.
        #: watch every name, deeply, and every binding: the analysis cannot vouch for less.
        self.whole = analysis.gave_up is not None
        self.written = dict(analysis.written)
        self.loaded = set(analysis.loaded)
        self.rebound = set(analysis.rebound)
        self.snap: dict[str, Any] = {}
        self.values: list[Any] = []
        self._constants: frozenset[Any] | None = None
        self.watching: set[str] = set()  # the names whose values are snapshotted
        self.functions: list[Any] = []  # the module's functions at the last take()
        #: ids of the project's classes no handler-time code writes (:func:`quiet_classes`)
        self.quiet: frozenset[int] = frozenset()
        #: the private names the project's code uses (:func:`link_project`; all when unknown)
        self.named: Container[str] = EVERY_NAME
        #: the names of every guarded module (set by the guard's snapshot)
        self.project: frozenset[str] = frozenset((name,))
        #: functions whose result other modules write (:func:`link_project`): their defaults
        self.returned: set[str] = set()

    def constants(self) -> frozenset[Any]:
        """The strings and numbers written in the module's source: keys that are not
        request data (read on demand, for messages and lazily filled dicts)."""
        if self._constants is None:
            from ._source import source_constants

            self._constants = source_constants(self.name, self.namespace)
        return self._constants

    def watched(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and not is_dunder(key)
            and key not in self.allow
            and f"{self.name}.{key}" not in self.allow
        )

    def allowed(self) -> list[Any]:
        """The values of the names ``allow=`` takes out (as ``"name"`` or ``"module.name"``)."""
        return [
            value
            for key, value in self.namespace.items()
            if isinstance(key, str)
            and not is_dunder(key)
            and not self.watched(key)
            and type(value) not in SCALARS
        ]

    def take(self) -> None:
        from ._source import shared_functions

        namespace = self.namespace
        self.functions = shared_functions(self.name, namespace)
        self.watching = set()
        self.snap = {k: v for k, v in namespace.items() if self.watched(k)}
        self.values = list(namespace.values()) if self.whole else []  # see bindings()

    def identities(self) -> Iterator[tuple[Any, Any, Any]]:
        """``(namespace, name, value)`` of the bindings to check by identity (``value`` is
        MISSING for a name the code may bind that is not bound now).

        A module the analysis vouches for: the names its code (or another module's, through
        the module object) rebinds, and the names watched (the snapshot must follow a new
        object). Nothing else can be rebound: checking it would cost every name of every
        module on every invocation. A module watched whole has all its bindings compared
        (:meth:`bindings`); here only what ``==`` alone would not vouch for: a name bound to
        a new object that compares equal to the old one."""
        namespace, snap = self.namespace, self.snap
        if self.whole:
            for key, value in snap.items():
                if value_equality(value):
                    yield namespace, key, value
            return
        for key in self.rebindable():
            yield namespace, key, snap.get(key, MISSING)

    def rebindable(self) -> list[str]:
        """In a module the analysis vouches for, the watched names code can rebind: its own
        ``global`` writes, other modules' ``config.X = v``, and the names snapshotted."""
        return [key for key in sorted(self.rebound | self.watching) if self.watched(key)]

    def bindings(self) -> tuple[Any, list[Any]] | None:
        """``(live values, saved list)`` when every binding is compared (a module watched
        whole: a rebinding, a new or a deleted name changes the list); None otherwise."""
        return (self.namespace.values(), self.values) if self.whole else None

    def to_watch(
        self, names: frozenset[str], functions: list[Any]
    ) -> Iterator[tuple[str, Any, bool]]:
        """``(name, value, deep)`` of every module-level value to snapshot.

        What the analysis says the code writes, and what the code reads that holds objects
        whose use runs the guarded modules' code (their instances and classes, whatever
        their methods are called) or inserts on read (a ``defaultdict``): decided from the
        values themselves. Functions of the module met on the way go to *functions*.
        """
        written, loaded = self.written, self.loaded
        for key, value in self.snap.items():
            if type(value) in SCALARS:
                continue
            if self.whole:
                reaches_code(value, names, functions)
                yield key, value, True
            elif key in written or (key in loaded and id(value) not in self.quiet):
                # a bound method, a partial, a data holder: using it writes what it holds
                hidden = held(value) is not None
                deep = reaches_code(value, names, functions) or written.get(key, False) or hidden
                if deep or key in written:
                    yield key, value, deep

    def cells(
        self, names: frozenset[str], functions: list[Any]
    ) -> Iterator[tuple[Origin, Any, str, bool]]:
        """``(origin, cell, variable, deep)`` of closure cells the module's code may write
        or rebind: the state of functions built at Init by a factory or a decorator."""
        analysis = self.analysis
        labels = self.labels()
        for func in self.own_functions(functions):
            closure = func.__closure__
            if not closure:
                continue
            code = func.__code__
            written = analysis.written_cells.get((code.co_name, code.co_firstlineno), {})
            label = self.label(func, labels)
            for variable, cell in zip(code.co_freevars, closure):
                contents = cell_values(cell, (variable,)).get(variable)
                runs_code = reaches_code(contents, names, [])
                if not self.whole and variable not in written and not runs_code:
                    continue
                name = f"{label}.{variable}"
                if not self.watched(name):
                    continue
                noun = (
                    f"the closure variable `{variable}` of {func.__qualname__}(), made once at "
                    "Init and shared by every call"
                )
                deep = self.whole or written.get(variable, False) or runs_code
                yield Origin(self, name, name, noun), cell, variable, deep

    def defaults(self, names: frozenset[str], functions: list[Any]) -> Iterator[tuple[Origin, Any]]:
        """Mutable default arguments the module's code may write: created once, at Init.
        Its functions, and those of its code found elsewhere (*functions*: in a table, a
        decorator's wrapper bound in another module); all the defaults of a function whose
        result other modules write (``get()[k] = v`` where ``def get(cache={})``)."""
        written = self.analysis.written_params
        labels = self.labels()
        for func in self.own_functions(functions):
            code = func.__code__
            positional = code.co_varnames[: code.co_argcount]
            defaults = func.__defaults__ or ()
            pairs = list(zip(positional[len(positional) - len(defaults) :], defaults))
            pairs.extend((func.__kwdefaults__ or {}).items())
            params = written.get((code.co_name, code.co_firstlineno), frozenset())
            label = self.label(func, labels)
            every = self.whole or label in self.returned
            for param, value in pairs:
                if type(value) in SCALARS:
                    continue
                if not every and param not in params and not reaches_code(value, names, []):
                    continue
                name = f"{label}.{param}"
                if not self.watched(name):
                    continue
                noun = (
                    f"the default value of parameter `{param}` of {label}(); defaults are "
                    "created once, at Init, and shared by every call: default to None and "
                    "create the value inside the function"
                )
                yield Origin(self, name, name, noun), value

    def own_functions(self, functions: list[Any]) -> list[Any]:
        """The module's functions, and those of *functions* whose globals are the module's,
        once each."""
        namespace, seen = self.namespace, set()
        found = []
        for func in [*self.functions, *functions]:
            if id(func) not in seen and func.__globals__ is namespace:
                seen.add(id(func))
                found.append(func)
        return found

    def labels(self) -> dict[int, str]:
        """``id(function) -> the module-level name bound to it`` (``REMEMBER`` rather than
        ``<lambda>``; a decorated function by the name it is known by)."""
        return {
            id(value): key for key, value in self.namespace.items() if type(value) is FUNCTION_TYPE
        }

    def label(self, func: Any, labels: dict[int, str]) -> str:
        """What ``allow=`` takes for *func*: its module-level name, else the item of a
        module-level table that holds it (``ROUTES['add']``), else its qualified name."""
        found = labels.get(id(func))
        if found is not None:
            return found
        for key, value in list(self.namespace.items()):
            items: Any = (
                value.items()
                if type(value) is dict
                else enumerate(value)
                if type(value) in (list, tuple)
                else ()
            )
            for item, member in items:
                if member is func and type(item) in (str, int):
                    return f"{key}[{item!r}]"
        return str(func.__qualname__)

    def changes(self) -> list[tuple[str, Any, Any]]:
        """``(name, before, now)`` of every watched module-level name that changed: in a
        module watched whole, any; in one the analysis vouches for, those its code can
        rebind and those watched (the others changed outside an invocation: a test, Init)."""
        namespace, snap = self.namespace, self.snap
        if self.whole:
            keys = [*snap, *(key for key in list(namespace) if key not in snap)]
        else:
            keys = self.rebindable()
        return [
            (key, snap.get(key, MISSING), namespace.get(key, MISSING))
            for key in keys
            if self.watched(key) and namespace.get(key, MISSING) is not snap.get(key, MISSING)
        ]

    def restore(self, key: str, before: Any) -> None:
        if before is MISSING:
            self.namespace.pop(key, None)
        else:
            self.namespace[key] = before


def lazy_init(node: Node) -> bool:
    """Init-scope work done lazily, one level down: a closure cell going from None to a
    client (``nonlocal client``), or a dict gaining entries that hold resources under keys
    written in the module's source (``CLIENTS[name] = boto3.client(name)``, with ``name``
    one of the module's own constants, not request data). Accepted once: the objects stay."""
    if node.kind == "cell":
        before = node.snap.get(node.slots[0])
        now = node.live().get(node.slots[0], MISSING)
        return before is None and holds_resource(now)
    entries = node.new_entries()
    if not entries:
        return False
    constants = node.origin.constants()
    try:
        return all(
            type(key) in (str, int) and key in constants and holds_resource(value)
            for key, value in entries
        )
    except Exception:  # an unhashable or strange key: not a constant
        return False


_analyses: dict[tuple[str, bool], tuple[dict[str, Any], Analysis]] = {}


def module_analysis(
    name: str, namespace: dict[str, Any], exported: bool = False, roots: tuple[str, ...] = ()
) -> Analysis:
    """The write analysis of one module, made once per module (and namespace); *exported*:
    other modules of the project use it (see :func:`exported_modules`). Made ahead of time
    and shipped in one of the project's *roots*, when it still holds (``_ahead``)."""
    from . import _ahead

    recording = _ahead.recording()
    cached = _analyses.get((name, exported))
    if cached is not None and cached[0] is namespace and not recording:
        return cached[1]
    result = None if recording else _ahead.lookup(name, namespace, exported, roots)
    if result is None:
        from ._analysis import analyse

        result = analyse(name, namespace, exported=exported)
    _analyses[name, exported] = (namespace, result)
    return result


def exported_modules(modules: list[tuple[str, dict[str, Any]]], entries: set[str]) -> set[str]:
    """The guarded modules other code of the project may call into: all but the *entries*
    (the module where ``handler()`` is applied and the handler's own), unless another
    guarded module holds an entry module or one of its functions or classes."""
    found = {name for name, _ in modules if name not in entries}
    namespaces = {id(namespace): name for name, namespace in modules}
    for name, namespace in modules:
        for value in list(namespace.values()):
            if type(value) is MODULE_TYPE:
                held = namespaces.get(id(getattr(value, "__dict__", None)))
            else:
                held = getattr(value, "__module__", None) if callable(value) else None
            if held in entries and held != name:
                found.add(held)
    return found


def _result_written(by_name: dict[str, Space], space: Space, name: str, deep: bool) -> None:
    """Another module wrote into what ``space.name()`` returned (*deep*: into its items):
    the names of *space* that result may be (or be inside, or hold) are written."""
    value = space.namespace.get(name)
    summary = space.analysis.returns.get(name)
    space.returned.add(name)  # it may return one of its own mutable defaults
    if isinstance(value, type):  # an instance it made: what its class attributes hold
        if deep:
            space.written[name] = True
        return
    if summary is None and callable(value):
        home = by_name.get(getattr(value, "__module__", None) or "")
        real = getattr(value, "__name__", "")
        if home is not None and home is not space and home.namespace.get(real) is value:
            _result_written(by_name, home, real, deep)  # re-exported: its own module's
            return
        code = getattr(value, "__code__", None)
        if home is not None and code is not None:  # a lambda, a def we cannot vouch for:
            for used in _global_names(code):  # every name its code uses, deeply
                if used in home.namespace:
                    home.written[used] = True
        return
    for key, bits in (summary or {}).items():
        if (deep and bits) or bits & (INSIDE | DEEP):
            space.written[key] = True
        elif bits & EXACT:
            space.written.setdefault(key, False)


def bound_functions(spaces: list[Space]) -> list[Any]:
    """Every function bound in a guarded module, with each layer under it (``__wrapped__``):
    a decorator of one module applied in another leaves there a wrapper whose code, and
    closure, are the decorator's module's."""
    found: list[Any] = []
    for space in spaces:
        for value in list(space.namespace.values()):
            layer = value
            for _ in range(20):  # decorators nest a few deep; a cycle must not loop
                if type(layer) is FUNCTION_TYPE:
                    found.append(layer)
                attributes = instance_dict(layer) if callable(layer) else None
                layer = attributes.get("__wrapped__") if attributes else None
                if layer is None:
                    break
    return found


def _global_names(code: Any) -> set[str]:
    """The global names *code* and the code nested in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _global_names(const)
    return names


def link_project(spaces: list[Space]) -> None:
    """What each module's code does to the other modules' names, added to theirs.

    ``store.ITEMS.append(v)`` in one module is a write of ``ITEMS`` in ``store``;
    ``config.X = v`` a rebinding of ``X`` in ``config``; a module object used as a value
    (passed, stored, aliased) lets anything happen to that module: it is watched whole.
    When one module's analysis gave up, nothing says what it does to the others (``exec``,
    ``sys.modules``, frames, an import inside a function): every module is watched whole.
    """
    if any(space.whole for space in spaces):
        for space in spaces:
            space.whole = True
        return
    named = frozenset().union(*(space.analysis.private_names for space in spaces))
    by_name = {space.name: space for space in spaces}
    for space in spaces:
        _link_module(by_name, space)
    for space in spaces:
        _modules_as_values(by_name, space)
    for space in spaces:
        for name in space.rebound & space.written.keys():
            space.written[name] = True  # a new value that is also written: watch it all
        space.loaded.update(space.written)
    # a class reached through an instance or another class (``type(x).attr = v``,
    # ``cls.__mro__``, ``__subclasses__()``) and written: no class is quiet, all are watched
    reached = any(space.analysis.class_reached for space in spaces)
    quiet = frozenset() if reached else quiet_classes(by_name)
    for space in spaces:
        space.quiet = quiet
        space.named = named
        if reached:  # every class of the project, named by its code or not
            space.loaded.update(
                key
                for key, value in space.namespace.items()
                if isinstance(value, type) and value.__module__ == space.name
            )


def _link_module(by_name: dict[str, Space], space: Space) -> None:
    """What the code of *space* does to the other modules' names."""
    analysis = space.analysis
    for (module, name), deep in analysis.foreign.items():
        target = by_name.get(module)
        if target is None:
            continue  # a library's, or a module left out: not watched
        if not name or (name not in target.namespace and "__getattr__" in target.namespace):
            target.whole = True  # the module itself, or a name its __getattr__ serves (PEP 562)
        elif name.endswith("()"):  # what its function returned was written
            _result_written(by_name, target, name[:-2], deep)
        else:
            target.written[name] = target.written.get(name, False) or deep
            if callable(target.namespace.get(name)):  # whoever calls it writes its result
                _result_written(by_name, target, name, deep=True)
    for module, name in analysis.foreign_rebound:
        target = by_name.get(module)
        if target is not None:
            target.rebound.add(name)
    for module, name in analysis.foreign_loaded:
        target = by_name.get(module)
        if target is not None:  # what is called is used too (a bound method writes its owner)
            target.loaded.add(name[:-2] if name.endswith("()") else name)


# Modules whose classes may be bases of a class no handler-time code writes.
_PLAIN_BASES = frozenset(("builtins", "abc", "typing", "typing_extensions"))


# Entries of a class's ``__dict__`` that hold no state of the user's (their values are
# the class's machinery: set when the class statement runs, not written later).
_MACHINERY = frozenset(
    words(
        "__dict__ __weakref__ __module__ __doc__ __qualname__ __annotations__ __slots__",
        "__dataclass_fields__ __dataclass_params__ __match_args__ __orig_bases__",
        "__parameters__ __abstractmethods__ _abc_impl __firstlineno__ __static_attributes__",
        "__type_params__ __hash__ __annotate__ __annotate_func__ __annotations_cache__",
    )
)


def quiet_classes(by_name: dict[str, Space]) -> frozenset[int]:
    """The ids of the project's classes whose class objects no handler-time code writes:
    the runtime need not compare them on every invocation.

    From the analyses (:attr:`Analysis.classes`), classes related by inheritance judged
    together (a base's method may write a subclass's attribute through ``cls``): a class
    is quiet when the analysis of every class related to it vouches for it and each holds
    nothing but functions, descriptors and immutable values (an attribute holding a list,
    a dict, an instance may be written through any instance, or by a property's code
    run by a read). Not quiet: a class with a metaclass of the user's, a base class of a
    library's (its code runs on the instances), any class when a module is watched whole."""
    import abc

    spaces = by_name.values()
    if any(space.whole for space in spaces):
        return frozenset()
    vouched: dict[int, bool] = {}
    classes: dict[int, type] = {}
    for space in spaces:
        for name in space.analysis.classes:
            cls = space.namespace.get(name)
            if isinstance(cls, type) and cls.__module__ == space.name and cls.__qualname__ == name:
                vouched[id(cls)] = (
                    type(cls) in (type, abc.ABCMeta) and name not in space.written and _inert(cls)
                )
                classes[id(cls)] = cls
    group = {key: key for key in classes}

    def root(key: int) -> int:
        while group[key] != key:
            key = group[key]
        return key

    for key, cls in classes.items():
        for base in cls.__mro__[1:]:
            if id(base) in classes:
                group[root(key)] = root(id(base))
            elif base.__module__ not in _PLAIN_BASES:
                vouched[key] = False  # a library's class, or one of ours it cannot vouch for
    families: dict[int, list[int]] = {}
    for key in classes:
        families.setdefault(root(key), []).append(key)
    return frozenset(
        key
        for members in families.values()
        if all(vouched[key] for key in members)
        for key in members
    )


def _inert(cls: type) -> bool:
    """Does the class's own ``__dict__`` hold only functions, descriptors of functions and
    immutable values (nothing a write through an instance's attribute could change)?"""
    for key, value in cls.__dict__.items():
        kind = type(value)
        if key in _MACHINERY or kind in SCALARS or kind in (FUNCTION_TYPE, property):
            continue
        if kind in (staticmethod, classmethod) and type(value.__func__) is FUNCTION_TYPE:
            continue
        if kind in (tuple, frozenset) and all(type(item) in SCALARS for item in value):
            continue
        return False
    return True


def _modules_as_values(by_name: dict[str, Space], space: Space) -> None:
    """A module object that code writes (passes, stores, writes through where no chain of
    loaded modules explains it: a submodule imported lazily): anything goes for it. Its own
    module's names, or another's (``from app import store`` in a function, ``store``
    loaded later)."""
    for key in space.written:
        value = space.namespace.get(key)
        if type(value) is MODULE_TYPE:
            target = by_name.get(getattr(value, "__name__", ""))
        else:  # a submodule its package does not bind yet (being imported) or any more
            target = None if key in space.namespace else by_name.get(f"{space.name}.{key}")
        if target is not None:
            target.whole = True


def walk(  # noqa: PLR0917 - one internal call site
    value: Any,
    origin: Origin,
    deep: bool,
    names: frozenset[str],
    seen: set[int],
    nodes: list[Node],
    met: set[str],
) -> None:
    """Snapshot *value* and, if *deep*, everything mutable reachable from it. A guarded
    module met on the way (held in a class attribute, an instance, a container) is added to
    *met*: anything may be written through it, and the guard watches it whole."""
    stack: list[tuple[Any, Node | None, tuple[tuple[str, Any], ...]]] = [(value, None, ())]
    while stack:
        obj, parent, steps = stack.pop()
        kind = type(obj)
        if kind in SCALARS or id(obj) in seen:
            continue
        if kind is MODULE_TYPE:
            if deep and obj.__name__ in names:
                met.add(obj.__name__)
            continue
        if looked_through(kind):  # a bound method, a partial: what it holds
            seen.add(id(obj))
            stack.extend((v, parent, (*steps, (".", a))) for a, v in held(obj) or ())
            continue
        try:
            found = _nodes_for(obj, kind, origin, parent, steps, names)
        except Exception:  # an object that cannot be copied (a proxy): its own business
            continue
        if issubclass(kind, (tuple, frozenset)):  # looked through (a namedtuple too)
            seen.add(id(obj))
            stack.extend((v, parent, (*steps, step)) for step, v in _members(obj, kind))
            if not found:
                continue
        if not found:
            continue
        seen.add(id(obj))
        nodes.extend(found)
        if not deep:
            continue
        stack.extend(_inside(obj, kind, found, steps, names, seen))


def _inside(  # noqa: PLR0917 - one internal call site
    obj: Any,
    kind: type,
    found: list[Node],
    steps: tuple[tuple[str, Any], ...],
    names: frozenset[str],
    seen: set[int],
) -> list[tuple[Any, Node | None, tuple[tuple[str, Any], ...]]]:
    """What a deep walk goes on into from *obj*, with the path to each: the items of its
    nodes, a function's closure cells (named by their variables), the user's class."""
    more: list[tuple[Any, Node | None, tuple[tuple[str, Any], ...]]] = []
    for node in found:
        if node.kind == "cell":  # its path names the variable already
            more.extend((item, node, ()) for _, item in node.children)
            continue
        how = "." if node.family is None else "{" if node.family is set else "["
        more.extend(
            (item, node, ((how, item if key is None else key),)) for key, item in node.children
        )
    if kind is FUNCTION_TYPE:
        variables = obj.__code__.co_freevars
        more.extend(
            (cell, found[0], (*steps, (".", variable)))
            for variable, cell in zip(variables, obj.__closure__ or ())
        )
    elif not issubclass(kind, type) and is_own(kind, names) and id(kind) not in seen:
        more.append((kind, None, ()))  # the class itself, even if not a module-level name
    return more


def _members(obj: Any, kind: type) -> Any:
    """``(step, value)`` of a tuple (a namedtuple's by field) or frozenset, read from its
    storage (a subclass's ``__iter__`` or ``__len__`` never runs)."""
    if issubclass(kind, frozenset):
        return ((("{", v), v) for v in frozenset.__iter__(obj))
    values = list(tuple.__iter__(obj))
    fields = class_attr(kind, "_fields")
    if isinstance(fields, tuple) and len(fields) == len(values):  # a namedtuple
        return (((".", f), v) for f, v in zip(fields, values))
    return ((("[", i), v) for i, v in enumerate(values))


def _nodes_for(  # noqa: PLR0917 - one internal call site
    obj: Any,
    kind: type,
    origin: Origin,
    parent: Node | None,
    steps: tuple[tuple[str, Any], ...],
    names: frozenset[str],
) -> list[Node]:
    known = KINDS.get(kind)
    if known is not None:
        return [Node(obj, known[0], known[1], origin, parent, steps)]
    if kind is NAMESPACE or holder(kind):
        return [Node(obj, "attributes", None, origin, parent, steps)]
    if kind is FUNCTION_TYPE or kind is CELL_TYPE:
        return _function_nodes(obj, origin, parent, steps, names)
    if issubclass(kind, type):
        return _class_nodes(obj, origin, parent, steps, names)
    if not is_own(kind, names):
        return []
    found = []
    family = next((family for base, family in FAMILIES if issubclass(kind, base)), None)
    if family is not None:  # the items of the user's own subclass of a builtin container
        found.append(Node(obj, kind.__name__, family, origin, parent, steps))
    if instance_dict(obj) is not None:
        found.append(Node(obj, "attributes", None, origin, parent, steps))
    if slot_names(kind):
        found.append(Node(obj, "slots", None, origin, parent, steps))
    return found


def _class_nodes(
    cls: type,
    origin: Origin,
    parent: Node | None,
    steps: tuple[tuple[str, Any], ...],
    names: frozenset[str],
) -> list[Node]:
    """A class of the project: its namespace (named by the class when it is reached as
    something else than its own module-level name)."""
    if class_attr(cls, "__module__") not in names:
        return []
    if parent is None and not steps and origin.label != cls.__name__:
        origin = Origin(origin.space, cls.__qualname__, cls.__qualname__)
    return [Node(cls, "class", None, origin, parent, steps)]


def _function_nodes(
    func: Any,
    origin: Origin,
    parent: Node | None,
    steps: tuple[tuple[str, Any], ...],
    names: frozenset[str],
) -> list[Node]:
    """A function of the project reached by what its code can write (a function attribute
    ``helper.seen.append(v)``, ``helper.calls += 1``, its defaults replaced, a cell written
    from outside): its attributes and its default values; :func:`walk` goes on into its
    closure cells, which come back here."""
    if type(func) is CELL_TYPE:  # reached from its function: the last step names it
        return [Node(func, "cell", None, origin, parent, steps, steps[-1][1])]
    if func.__globals__.get("__name__") not in names:  # its code is a library's (a wrapper)
        return []
    return [
        Node(func, "defaults", None, origin, parent, steps),
        Node(func, "attributes", None, origin, parent, steps),
    ]
