"""What a leak message says: the variable, what happened to it, where the module uses it,
and the fix (``request`` for per-invocation data, ``@init_resource`` for reused objects,
``allow=`` for a deliberate cache). Building a message never raises and never shows a value
that may be a secret.
"""

from __future__ import annotations

from lambdascope._mutators import MUTATING_METHODS

from ._kinds import MISSING, MODULE_TYPE, SCALARS, class_namespace, plain_function
from ._redact import note_project, project_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._census import Space
    from ._nodes import Node


_MAX_SITES = 3


def name_leak(
    spaces: list[Space], space: Space, key: str, before: Any, now: Any
) -> tuple[str, str, str, str]:
    """The leak ``(module, path, what, allow_as)`` of a module-level name of *space*: a name
    the project's source does not write (``globals()[event["id"]] = ...``) is not shown."""
    note_project(spaces)
    if key not in project_words(space):
        key = "<name>"
    return space.name, key, rebinding(key, before, now), key


def node_leak(spaces: list[Space], node: Node) -> tuple[str, str, str, str]:
    """The leak ``(module, path, what, allow_as)`` of a watched object that changed; keys
    and names the project's source does not write are not shown."""
    note_project(spaces)
    return node.origin.module, node.path, node_words(node), node.origin.allow_as


def rebinding(key: str, before: Any, now: Any) -> str:
    if now is MISSING:
        return f"name `{key}` was deleted (`global {key}; del {key}`)"
    if before is MISSING:
        return f"name `{key}` was created (`global {key}; {key} = ...`)"
    if before is None:
        return (
            f"name `{key}` was set from None to a {type(now).__name__} "
            f"(`global {key}; {key} = ...`): data, not a client or connection made lazily"
        )
    return f"name `{key}` was rebound (`global {key}; {key} = ...` or `{key} += ...`)"


def node_words(node: Node) -> str:
    words = node.describe()
    if node.origin.noun:
        words += f" — {node.origin.noun}"
    return words


def identifier(name: str) -> str:
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
        items = [value, *(class_namespace(value).values() if issubclass(type(value), type) else ())]
        for item in items:
            func = plain_function(item)  # never a look-up that reaches the user's __getattr__
            if func is not None and func.__globals__ is namespace:
                found.append(func.__code__)
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


def use_sites(
    spaces: list[Space], start: Any, module: str, name: str, rebinding: bool
) -> list[str]:
    """``file:line`` where functions of *module* use the module-level *name*, and functions
    of the other guarded modules use it through the module (``store.ITEMS``,
    ``app.store.ITEMS``) or by the name they imported it as (``from .store import ITEMS``).

    Code reachable from the handler comes first, and in it the uses that look like
    writes (a mutating method, ``[...] =``, ``del``, ``+=``).
    """
    import dis

    owner = next((s.namespace for s in spaces if s.name == module), {})
    value = owner.get(name, MISSING)
    wanted = {"STORE_GLOBAL", "DELETE_GLOBAL"} if rebinding else {"LOAD_GLOBAL", "STORE_GLOBAL"}
    likely: list[str] = []
    other: list[str] = []
    for space in sorted(spaces, key=lambda s: s.namespace is not owner):
        namespace = space.namespace
        imported = set()
        if namespace is not owner and not rebinding and value is not MISSING:
            imported = {k for k, v in namespace.items() if v is value and type(v) not in SCALARS}
        for code in _codes(namespace, start):
            line = code.co_firstlineno
            instructions = list(dis.get_instructions(code))
            for index, ins in enumerate(instructions):
                if isinstance(ins.starts_line, int) and not isinstance(ins.starts_line, bool):
                    line = ins.starts_line
                line = getattr(ins, "line_number", None) or line
                if namespace is owner:
                    if ins.opname not in wanted or ins.argval != name:
                        continue
                elif not (
                    (ins.opname == "LOAD_GLOBAL" and ins.argval in imported)
                    or _through_module(instructions, index, namespace, owner, name)
                ):
                    continue
                _note(code, line, instructions, index, (likely, other))
    return (likely + [s for s in other if s not in likely])[:_MAX_SITES]


def _through_module(
    instructions: list[Any], index: int, namespace: dict[str, Any], owner: dict[str, Any], name: str
) -> bool:
    """Does the ``LOAD_GLOBAL`` at *index* start ``module.name`` (or ``pkg.module.name``)
    with ``module`` the module whose globals are *owner*?"""
    ins = instructions[index]
    if ins.opname != "LOAD_GLOBAL":
        return False
    found = namespace.get(ins.argval)
    for nxt in instructions[index + 1 : index + 8]:
        if nxt.opname in ("COPY", "DUP_TOP", "CACHE", "EXTENDED_ARG"):
            continue
        if nxt.opname not in ("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"):
            return False
        if type(found) is MODULE_TYPE and vars(found) is owner:
            return bool(nxt.argval == name)
        if type(found) is not MODULE_TYPE:
            return False
        found = vars(found).get(nxt.argval)
    return False


def _note(
    code: Any, line: int, instructions: list[Any], index: int, found: tuple[list[str], list[str]]
) -> None:
    """File the use at *index* among the likely writes or the other uses (*found*)."""
    likely, other = found
    site = f"{code.co_filename}:{line}"
    ins = instructions[index]
    after = instructions[index : index + 8]
    write = ins.opname not in ("LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD") or any(
        a.opname in _WRITE_OPS
        or (a.opname in ("LOAD_METHOD", "LOAD_ATTR") and a.argval in MUTATING_METHODS)
        for a in after
    )
    target = likely if write else other
    if site not in likely and site not in target:
        target.append(site)


def leak_message(
    func: Any,
    spaces: list[Space],
    site: str | None,
    leaks: list[tuple[str, str, str, str]],
    restored: bool,
    *,
    unrestored: list[str] | None = None,
) -> str:
    """The message of a ``ScopeLeakError`` (or warning): each leak ``(module, path, what,
    allow_as)`` with the module's file and the lines that use the variable, and the fix,
    with an ``allow=(...)`` that works (names of modules other than *site* qualified);
    *unrestored*: what refused to be put back (the next invocation will see it)."""
    name = getattr(func, "__qualname__", None) or type(func).__name__
    lines = [
        f"handler {name}() wrote to module-level state during an invocation. "
        "Module-level state outlives the invocation: on a warm Lambda the next request "
        "would see this data."
    ]
    files = {space.name: space.namespace.get("__file__") for space in spaces}
    allow: list[str] = []
    for module, _path, what, allow_as in leaks:
        qualified = allow_as if module == site else f"{module}.{allow_as}"
        if qualified not in allow and not allow_as.startswith("<"):  # "<name>": not shown
            allow.append(qualified)
        try:
            sites = use_sites(spaces, func, module, allow_as, "name `" in what)
        except Exception:  # the message must never fail
            sites = []
        file = files.get(module)
        if sites and isinstance(file, str) and not any(s.startswith(file + ":") for s in sites):
            where = f" (in {file}; used at {', '.join(sites)})"  # used from other modules only
        elif sites:
            where = f" (used at {', '.join(sites)})"
        else:  # written from elsewhere (another module): at least say where it lives
            where = f" (in {file})" if isinstance(file, str) else ""
        lines.append(f"  - module {module!r}: {what}{where}")
    if restored and unrestored:
        lines.append(
            "The guarded state has been restored to what it was before this invocation, "
            f"except {', '.join(unrestored)}, which refused to be restored: the next invocation "
            "in this environment will see that change."
        )
    elif restored:
        lines.append("The guarded state has been restored to what it was before this invocation.")
    example = identifier(allow[0].rpartition(".")[2]) if allow else "value"
    allow_it = f"; or, if this is a deliberate cache, allow it: @handler(allow={tuple(allow)!r})"
    lines.append(
        "Fix: keep per-invocation data in a local variable or on lambdascope.request "
        f"(e.g. `request.{example} = ...`); create long-lived objects (clients, caches you "
        f"mean to keep) in an @init_resource factory{allow_it if allow else ''}."
    )
    return "\n".join(lines)
