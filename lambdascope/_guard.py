"""The module-state guard: handler code must not write module-level state.

How it works (the cost model is in ``docs/guard.md``):

- On the first invocation the guard takes a *snapshot* of every guarded module:
  the identity of each module-level value, and a shallow copy of every mutable
  node reachable from them — the builtin containers (list, dict, set, bytearray,
  deque and the ``collections`` dict subclasses), tuples are looked through,
  the ``__dict__`` of instances of classes defined in a guarded module, and the
  non-dunder attributes of such classes. Third-party objects (loggers, boto3
  clients, ``random.Random``, locks, ``lru_cache`` wrappers, compiled regexes)
  and the values held by :func:`~lambdascope.init_resource` are never entered.
- Before and after every invocation each node is compared with its copy by
  identity and C-level ``==`` (no deep copies, nothing in Python per element).
  A difference seen *before* the invocation happened outside one (Init, test
  code): the snapshot is silently refreshed. A difference seen *after* it is a
  leak: in ``raise`` mode the state is restored from the snapshot and
  :class:`~lambdascope.ScopeLeakError` is raised; in ``warn`` mode a
  :class:`~lambdascope.ScopeLeakWarning` is issued once per variable and the
  snapshot is refreshed.

Because the check compares state rather than intercepting writes, writes made
by C code (``heapq.heappush``, ``dict.update`` through the C API, ``+=``) are
caught as surely as ``list.append``; the price is that the exact line is not
known, so the message lists the lines of the module that use the variable.
"""

from __future__ import annotations

import sys
from collections import Counter, OrderedDict, defaultdict, deque
from operator import eq, getitem, is_

from ._errors import ScopeLeakError, ScopeLeakWarning

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
_MAX_SITES = 3
# Values that cannot hold other objects: a container holding only these needs no identity pass.
_SCALARS = frozenset({str, int, float, bool, bytes, complex, type(None)})


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
    return isinstance(name, str) and name.startswith("__") and name.endswith("__")


def _public(namespace: Any) -> dict[str, Any]:
    return {k: v for k, v in namespace.items() if not _is_dunder(k)}


def _function_globals(func: Any) -> dict[str, Any]:
    """The module namespace the handler's code lives in."""
    for _ in range(10):  # unwrap staticmethod/bound method/partial/callable instance
        namespace = getattr(func, "__globals__", None)
        if isinstance(namespace, dict):
            return namespace
        inner = getattr(func, "__func__", None) or getattr(func, "func", None)
        if inner is None:
            inner = getattr(type(func), "__call__", None)  # noqa: B004
        if inner is None or inner is func:
            break
        func = inner
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    return vars(module) if module is not None else {}


class _Node:
    """One watched mutable object and its shallow copy."""

    __slots__ = ("children", "family", "kind", "module", "obj", "path", "snap")

    def __init__(self, obj: Any, kind: str, family: type | None, module: str, path: str) -> None:
        self.obj = obj
        self.kind = kind  # "list", "dict", ..., "attributes", "class"
        self.family = family
        self.module = module
        self.path = path
        self.snap = self.copy()
        self.children = self._children()

    def _children(self) -> tuple[tuple[Any, Any], ...]:
        """``(key, value)`` of the non-scalar items: these are also checked by identity."""
        obj, family = self.obj, self.family
        items: Any
        if family is dict:
            items = obj.items()
        elif family is list or family is deque:
            items = enumerate(obj)
        elif family is None:
            items = ((k, v) for k, v in self.snap.items() if not _is_dunder(k))
        else:
            return ()
        return tuple((k, v) for k, v in items if type(v) not in _SCALARS)

    def copy(self) -> Any:
        obj, family = self.obj, self.family
        if family is dict:
            return dict(obj)
        if family is list or family is deque:
            return list(obj)
        if family is set:
            return set(obj)
        if family is bytearray:
            return bytes(obj)
        return dict(vars(obj))  # instance attributes, or the class namespace

    def same(self) -> bool:
        """Unchanged? A comparison that raises (``__eq__`` of a new item) counts as a change."""
        try:
            return self._same()
        except Exception:
            return False

    def _same(self) -> bool:
        """Unchanged? ``==`` (identity first per item) plus identity of the children.

        Equal content is no data crossing; identity of the non-scalar children makes sure a
        nested container swapped for an equal new one is still seen (the new one is unwatched).
        This is the one-node version of :func:`_unchanged`, used to say *what* changed.
        """
        obj, family, snap = self.obj, self.family, self.snap
        container = vars(obj) if family is None else obj
        if self.kind == "OrderedDict":
            equal = bool(obj == OrderedDict(snap))
        elif family is deque:
            equal = bool(obj == deque(snap))
        elif family in (list, dict, set):
            equal = family.__eq__(obj, snap) is True
        elif self.kind == "class":  # libraries may set dunders lazily (__pydantic_complete__)
            equal = _public(container) == _public(snap)
        else:  # bytearray, instance __dict__
            equal = bool(container == snap)
        return equal and all(getitem(container, k) is v for k, v in self.children)

    def restore(self) -> None:
        obj, family, snap = self.obj, self.family, self.snap
        if type(obj) is dict:
            obj.clear()
            obj.update(snap)
        elif family is dict:  # OrderedDict keeps its own order, Counter.update adds
            obj.clear()
            for key, value in snap.items():
                obj[key] = value
        elif family is list:
            list.__setitem__(obj, slice(None), snap)
        elif family is deque:
            obj.clear()
            obj.extend(snap)
        elif family is set:
            set.clear(obj)
            set.update(obj, snap)
        elif family is bytearray:
            obj[:] = snap
        elif self.kind == "attributes":
            attrs = vars(obj)
            attrs.clear()
            attrs.update(snap)
        else:
            for name in [k for k in vars(obj) if not _is_dunder(k) and k not in snap]:
                delattr(obj, name)
            for name, value in snap.items():
                if not _is_dunder(name) and vars(obj).get(name, snap) is not value:
                    setattr(obj, name, value)

    def describe(self) -> str:
        """What changed, in words."""
        obj, snap = self.obj, self.snap
        if self.kind == "attributes":
            what = f"attribute(s) of `{self.path}` (a {type(obj).__name__} instance)"
            return f"{what} were set or deleted: {_key_diff(vars(obj), snap, 'attribute')}"
        if self.kind == "class":
            return (
                f"class attribute(s) of `{self.path}` were set or deleted: "
                f"{_key_diff(_public(vars(obj)), _public(snap), 'attribute')}"
            )
        where = f"{self.kind} `{self.path}` was modified in place"
        if self.family is dict:
            return f"{where}: {_key_diff(obj, snap, 'key')}"
        before, after = len(snap), len(obj)
        if after > before:
            return f"{where} ({after - before} item(s) added, e.g. .append/.add/.extend/+=)"
        if after < before:
            return f"{where} ({before - after} item(s) removed, e.g. .pop/.remove/del/.clear)"
        return f"{where} (item(s) replaced or reordered, e.g. x[i] = ... or .sort())"


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _plan(spaces: list[_Namespace], nodes: list[_Node]) -> tuple[Any, ...]:
    """Arrange the snapshot for :func:`_unchanged`: one C-level ``map`` per kind of check.

    ``==`` of builtin containers tries identity first for every item, so an unchanged
    container costs one C loop and calls no ``__eq__`` of user objects.
    """
    watched = {id(node.obj) for node in nodes}
    lists: tuple[list[Any], list[Any]] = ([], [])
    maps: tuple[list[Any], list[Any]] = ([], [])
    others: tuple[list[Any], list[Any]] = ([], [])
    children: tuple[list[Any], list[Any], list[Any]] = ([], [], [])

    def add_children(container: Any, items: Any) -> None:
        for key, value in items:
            if id(value) in watched:  # a watched object must stay the very same object
                children[0].append(container)
                children[1].append(key)
                children[2].append(value)

    for space in spaces:
        maps[0].append(space.namespace)
        maps[1].append(space.full)
        add_children(space.namespace, zip(space.keys, space.values))
    for node in nodes:
        obj, family = node.obj, node.family
        if family is list:
            lists[0].append(obj)
            lists[1].append(node.snap)
            add_children(obj, node.children)
        elif node.kind == "OrderedDict":  # OrderedDict == OrderedDict is order-sensitive
            others[0].append(obj)
            others[1].append(OrderedDict(node.snap))
            add_children(obj, node.children)
        elif family is dict or node.kind == "attributes":
            container = obj if family is dict else vars(obj)
            maps[0].append(container)
            maps[1].append(node.snap)
            add_children(container, node.children)
        elif family is None:  # a class: compare its live mappingproxy
            others[0].append(vars(obj))
            others[1].append(node.snap)
            add_children(vars(obj), node.children)
        elif family is deque:
            others[0].append(obj)
            others[1].append(deque(node.snap))
        else:  # set, bytearray: no identity to keep inside
            others[0].append(obj)
            others[1].append(node.snap)
    return (lists, maps, others, children)


def _unchanged(plan: tuple[Any, ...]) -> bool:
    """The fast path of every check: no Python frame per watched object."""
    lists, maps, others, children = plan
    return (
        all(map(list.__eq__, *lists))
        and all(map(dict.__eq__, *maps))
        and all(map(eq, *others))
        and all(map(is_, map(getitem, children[0], children[1]), children[2]))
    )


def _key_diff(current: Any, snap: dict[Any, Any], noun: str) -> str:
    added = [k for k in current if k not in snap]
    removed = [k for k in snap if k not in current]
    changed = [k for k in current if k in snap and current[k] is not snap[k]]
    parts = []
    for label, keys in (("added", added), ("removed", removed), ("replaced", changed)):
        if keys:
            shown = ", ".join(repr(k) for k in keys[:3]) + (", ..." if len(keys) > 3 else "")
            parts.append(f"{noun}(s) {label}: {shown}")
    return "; ".join(parts) or "contents reordered"


class _Namespace:
    """The module-level names of one guarded module, by identity."""

    __slots__ = ("allow", "full", "keys", "name", "namespace", "snap", "values")

    def __init__(self, name: str, namespace: dict[str, Any], allow: frozenset[str]) -> None:
        self.name = name
        self.namespace = namespace
        self.allow = allow
        self.take()

    def watched(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and not _is_dunder(key)
            and key not in self.allow
            and f"{self.name}.{key}" not in self.allow
        )

    def take(self) -> None:
        namespace = self.namespace
        self.snap = {k: v for k, v in namespace.items() if self.watched(k)}
        self.full = dict(namespace)
        children = [(k, v) for k, v in self.snap.items() if type(v) not in _SCALARS]
        self.keys = tuple(k for k, _ in children)
        self.values = tuple(v for _, v in children)

    def same(self) -> bool:
        namespace = self.namespace
        if _equal(namespace, self.full) and all(
            map(is_, map(namespace.get, self.keys), self.values)
        ):
            return True
        if self.changes():
            return False
        self.full = dict(namespace)  # only dunders (__warningregistry__) or allowed names
        return True

    def changes(self) -> list[tuple[str, str]]:
        """``(name, what happened)`` for every watched module-level name that changed."""
        namespace, snap, missing = self.namespace, self.snap, object()
        found = []
        for key, value in snap.items():
            now = namespace.get(key, missing)
            if now is missing:
                found.append((key, f"name `{key}` was deleted (`global {key}; del {key}`)"))
            elif now is not value:
                found.append(
                    (
                        key,
                        f"name `{key}` was rebound (`global {key}; {key} = ...` or `{key} += ...`)",
                    )
                )
        found.extend(
            (key, f"name `{key}` was created (`global {key}; {key} = ...`)")
            for key in namespace
            if key not in snap and self.watched(key)
        )
        return found

    def restore(self) -> None:
        namespace = self.namespace
        for key in [k for k in namespace if k not in self.snap and self.watched(k)]:
            del namespace[key]
        namespace.update(self.snap)
        self.full = dict(namespace)


class Guard:
    """An invocation hook for ``@handler`` that checks guarded module state.

    ``enter`` compares the state with the snapshot (refreshing it silently when
    something changed between invocations); ``exit`` compares again and reports
    what the invocation wrote.
    """

    __slots__ = ("_allow", "_extra", "_func", "_namespaces", "_nodes", "_plan", "_warned", "mode")

    def __init__(self, func: Any, mode: str, allow: object = (), modules: object = ()) -> None:
        self.mode = mode
        self._func = func
        self._allow = frozenset(_names("allow", allow, "allow=('cache',)"))
        self._extra = _names("modules", modules, "modules=('mypackage',)")
        self._namespaces: list[_Namespace] | None = None
        self._nodes: list[_Node] = []
        self._plan: tuple[Any, ...] = ()
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

    def _snapshot(self) -> None:
        from ._resources import _live_resources

        if self._namespaces is None:
            self._namespaces = [_Namespace(n, g, self._allow) for n, g in self._guarded()]
        else:
            for space in self._namespaces:
                space.take()
        names = frozenset(space.name for space in self._namespaces)
        seen = {id(r._value) for r in _live_resources()}  # init_resource values are theirs
        nodes: list[_Node] = []
        for space in self._namespaces:
            for key, value in space.snap.items():
                self._walk(value, key, space.name, names, seen, nodes)
        self._nodes = nodes
        self._plan = _plan(self._namespaces, nodes)

    def _walk(  # noqa: PLR0917 - one internal call site
        self,
        value: Any,
        path: str,
        module: str,
        names: frozenset[str],
        seen: set[int],
        nodes: list[_Node],
    ) -> None:
        stack = [(value, path)]
        while stack:
            obj, where = stack.pop()
            kind = type(obj)
            if kind in _SCALARS or id(obj) in seen:
                continue
            known = _KINDS.get(kind)
            if known is not None:
                seen.add(id(obj))
                nodes.append(_Node(obj, known[0], known[1], module, where))
                if known[1] is dict:
                    stack.extend((v, f"{where}[{k!r}]") for k, v in obj.items())
                elif known[1] is list or known[1] is deque:
                    stack.extend((v, f"{where}[{i}]") for i, v in enumerate(obj))
            elif kind is tuple:
                seen.add(id(obj))
                stack.extend((v, f"{where}[{i}]") for i, v in enumerate(obj))
            elif isinstance(obj, type):
                if obj.__module__ in names:
                    seen.add(id(obj))
                    node = _Node(obj, "class", None, module, where)
                    nodes.append(node)
                    stack.extend(
                        (v, f"{where}.{k}") for k, v in node.snap.items() if not _is_dunder(k)
                    )
            elif kind.__module__ in names and isinstance(getattr(obj, "__dict__", None), dict):
                seen.add(id(obj))
                node = _Node(obj, "attributes", None, module, where)
                nodes.append(node)
                stack.extend((v, f"{where}.{k}") for k, v in node.snap.items())
                if id(kind) not in seen:  # the class itself, even if not a module-level name
                    stack.append((kind, kind.__qualname__))

    def _dirty(self) -> tuple[list[tuple[_Namespace, str, str]], list[_Node]]:
        assert self._namespaces is not None
        try:
            if _unchanged(self._plan):
                return [], []
        except Exception:  # an __eq__ of a new item raised: look node by node
            pass
        rebound = [
            (space, key, what)
            for space in self._namespaces
            if not space.same()
            for key, what in space.changes()
        ]
        mutated = [node for node in self._nodes if not node.same()]
        if not rebound and not mutated:  # only dunders / allowed names moved: re-baseline
            self._snapshot()
        return rebound, mutated

    # -- the hook -------------------------------------------------------------------------
    def enter(self) -> object:
        """Before the handler runs: make sure the snapshot is current."""
        if self._namespaces is None:
            self._snapshot()
            return None
        rebound, mutated = self._dirty()
        if rebound or mutated:  # written outside an invocation (Init, tests): legitimate
            self._snapshot()
        return None

    def exit(self, token: object, failed: bool) -> None:
        """After the handler ran: report (and in raise mode undo) what it wrote."""
        rebound, mutated = self._dirty()
        if not rebound and not mutated:
            return
        leaks = [(space.name, key, what) for space, key, what in rebound]
        leaks.extend((node.module, node.path, node.describe()) for node in mutated)
        if self.mode == "raise":
            for node in mutated:
                node.restore()
            assert self._namespaces is not None
            for space in self._namespaces:
                space.restore()
            raise ScopeLeakError(self._message(leaks, restored=True))
        fresh = [leak for leak in leaks if (leak[0], _root(leak[1])) not in self._warned]
        self._warned.update((module, _root(path)) for module, path, _ in leaks)
        self._snapshot()
        if fresh:
            import warnings

            warnings.warn(ScopeLeakWarning(self._message(fresh, restored=False)), stacklevel=4)

    # -- the message ----------------------------------------------------------------------
    def _message(self, leaks: list[tuple[str, str, str]], restored: bool) -> str:
        name = getattr(self._func, "__qualname__", None) or type(self._func).__name__
        lines = [
            f"handler {name}() wrote to module-level state during an invocation. "
            "Module-level state outlives the invocation: on a warm Lambda the next request "
            "would see this data."
        ]
        roots: list[str] = []
        for module, path, what in leaks:
            root = _root(path)
            if root not in roots:
                roots.append(root)
            sites = _sites(self._namespaces or [], self._func, module, root, "name `" in what)
            where = f" (used at {', '.join(sites)})" if sites else ""
            lines.append(f"  - module {module!r}: {what}{where}")
        if restored:
            lines.append(
                "The guarded state has been restored to what it was before this invocation."
            )
        example = roots[0]
        lines.append(
            "Fix: keep per-invocation data in a local variable or on lambdascope.request "
            f"(e.g. `request.{_identifier(example)} = ...`); create long-lived objects (clients, "
            "caches you mean to keep) in an @init_resource factory; or, if this is a deliberate "
            f"cache, allow it: @handler(allow=({example!r},))."
        )
        return "\n".join(lines)


def _root(path: str) -> str:
    for i, char in enumerate(path):
        if char in ".[":
            return path[:i]
    return path


def _identifier(name: str) -> str:
    return name if name.isidentifier() else "value"


_MUTATORS = frozenset(
    {
        "__setitem__",
        "intersection_update",
        "sort",
        "popitem",
        "extendleft",
        "__delitem__",
        "rotate",
        "__iadd__",
        "append",
        "appendleft",
        "insert",
        "extend",
        "clear",
        "symmetric_difference_update",
        "update",
        "reverse",
        "setdefault",
        "discard",
        "subtract",
        "pop",
        "difference_update",
        "add",
        "__ior__",
        "move_to_end",
        "remove",
    }
)
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
            func = getattr(item, "__func__", item)
            func = getattr(func, "__wrapped__", func)
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


def _sites(
    spaces: list[_Namespace], start: Any, module: str, name: str, rebinding: bool
) -> list[str]:
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
                or (a.opname in ("LOAD_METHOD", "LOAD_ATTR") and a.argval in _MUTATORS)
                for a in after
            )
            target = likely if write else other
            if site not in likely and site not in target:
                target.append(site)
    return (likely + [s for s in other if s not in likely])[:_MAX_SITES]
