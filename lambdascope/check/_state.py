"""Module-state rules: what handler code writes into state that outlives the invocation.

- LS101: a mutating call (``append``, ``update``, ``heapq.heappush``) on a module-level object
  of a builtin or unknown type; on an instance of a *project* class the method's body decides
  (the call is followed like any helper), not its name;
- LS102: an item or attribute of a module-level object written, also through ``self`` in a
  method of a module-level instance, and another module's object (``state.RECENT``);
- LS103: a ``global`` rebound with request data, a value computed in the invocation (unless
  reset to a constant on every call) or an accumulating value;
- LS106: a mutable default argument mutated;
- LS107 / LS109: a memo cache (read and filled by the same key, with a value that is a
  function of the key alone): unbounded and keyed by event data, or deliberate. A write that
  only looks like one (a read-modify-write of an entry, request data beyond the key, request
  data looked for then added) is LS101/LS102, and the object is not also called a cache;
- LS108: lazy initialisation of a global by hand.
"""

from __future__ import annotations

import ast

from lambdascope._mutators import MUTATING_METHODS

from . import _catalogue as cat
from ._facts import container
from ._syntax import dotted, flatten, names, root, show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._facts import Frame, Visit
    from ._model import Module

__all__ = [
    "FIX_STATE",
    "WARM",
    "check_call",
    "check_statement",
    "describe",
    "owner",
    "typed",
]

FIX_STATE = "keep per-invocation data in local variables or on `lambdascope.request`"
WARM = "the next warm invocation in this execution environment still sees it"


def _chain(node: ast.expr) -> str | None:
    """The longest dotted name at the bottom of ``state.CFG["a"].x`` (``state.CFG``)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        found = dotted(node)
        if found is not None:
            return found
        node = node.value
    return dotted(node)


def owner(visit: Visit, node: ast.expr, frame: Frame) -> tuple[Module, str] | None:
    """The module-level object (module, name) *node* writes into, or None (a local, a name in
    ``allow=``, a framework's per-invocation state such as crhelper's ``helper.Data``)."""
    base = root(node)
    if base is None:
        return None
    module, name = visit.module, base.id
    if not module.is_module_name(name, frame.scopes):
        if name in ("self", "cls") and visit.holder is not None:
            holder_module, holder = visit.holder
            return None if visit.allows(holder_module, holder) else visit.holder
        return None
    if name in module.objects:
        if name in module.registries or visit.allows(module, name):
            return None
        return module, name
    return _imported_state(visit, node) if name in module.import_refs else None


def _imported_state(visit: Visit, node: ast.expr) -> tuple[Module, str] | None:
    """Another project module's object *node* writes into (``state.RECENT.append``)."""
    parts = (_chain(node) or "").split(".")
    for cut in range(len(parts), 0, -1):
        found = visit.project.imported_object(visit.module, ".".join(parts[:cut]))
        if found is not None:
            target, attr = found
            if attr in target.registries or visit.allows(target, attr):
                return None
            return found
    return None


def typed(visit: Visit, owner: ast.expr, method: str, frame: Frame) -> bool:
    """Whether ``owner.method(...)`` is decided by a project class's body, not its name."""
    cls = visit.type_of(owner, frame)
    if cls is None:
        return False
    return visit.project.method(cls, method) is not None or not visit.project.opaque(cls)


def describe(name: str, node: ast.expr) -> str:
    """``module-level `CACHE``` or ```self._cache` of module-level `repo```."""
    held = container(node) or name
    if held.split(".")[0] in ("self", "cls") and "." in held:
        return f"`{held}` of module-level `{name}`"
    return f"module-level `{name}`"


# ------------------------------------------------------------------------------ calls


def check_call(visit: Visit, call: ast.Call, frame: Frame) -> None:
    """LS101, LS106, LS107 and LS109 for a call; ``setattr(obj, "name", v)`` and ``delattr``
    with a literal name as the statement they stand for (LS102)."""
    target = call.func
    qualified = visit.module.qualify(target)
    if qualified in _SETATTR and len(call.args) >= 2:
        attr = call.args[1]
        if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
            stored = ast.Attribute(value=call.args[0], attr=attr.value, ctx=ast.Store())
            verb = "deleted" if qualified.endswith("delattr") else "assigned"
            value = call.args[2] if len(call.args) > 2 else None
            _store(visit, call, ast.copy_location(stored, call), verb, frame, value=value)
        return
    if isinstance(target, ast.Attribute) and target.attr in MUTATING_METHODS:
        held = target.value
        if isinstance(held, ast.Name) and held.id in frame.defaults:
            _default(visit, call, held.id, f"{show(target)}(...)", frame)
            return
        if typed(visit, held, target.attr, frame) or _entry_mutated(visit, call, frame):
            return  # a project class's method (followed, its body decides), or a cache entry
        found = owner(visit, held, frame)
        if found is None or _cache_call(visit, call, found, frame):
            return
        shown = ""  # the method called
    elif qualified in cat.MUTATING_FUNCTIONS and call.args:
        held = call.args[0]
        found = owner(visit, held, frame)
        if found is None:
            return
        shown = f"{qualified}({show(held)}, ...)"
    else:
        return
    _mutated(visit, call, found, held, shown=shown)


def _mutated(
    visit: Visit,
    call: ast.Call,
    found: tuple[Module, str],
    held: ast.expr,
    *,
    shown: str = "",
    why: str = "",
) -> None:
    shown = shown or f"{show(call.func)}(...)"
    visit.report(
        call,
        "LS101",
        f"`{shown}` {visit.where} mutates {describe(visit.shown(*found), held)}: {WARM} (data "
        f"of one request leaks into the next){why}; {FIX_STATE}",
        state=found,
    )


_SETATTR = frozenset(("setattr", "delattr", "builtins.setattr", "builtins.delattr"))
#: Why a write into a memo cache is module state written per request instead.
_NOT_A_CACHE = {
    "reads": ". Not a memo cache: the new value is computed from the entry it replaces (a "
    "read-modify-write, such as a running total)",
    "request": ". Not a memo cache: it keeps request data beyond its key (a memo cache's value "
    "is a function of its key alone)",
    "adds": ". Not a memo cache: it collects request data (looked for, then added), which "
    "the next invocations find",
    "grows": ". Not a memo cache: an entry of it grows on every call (a memo cache's value is "
    "a function of its key alone)",
}
#: Methods that add to what their receiver holds on every call (never a memo cache's fill).
_GROWING = frozenset({"append", "appendleft", "extend", "extendleft", "insert", "__iadd__"})


def _cache_call(visit: Visit, call: ast.Call, found: tuple[Module, str], frame: Frame) -> bool:
    """Whether a mutating call on module-level object *found* fills or keeps a memo cache
    (reported as one here, or upkeep such as ``pop()``); False: it writes module state."""
    assert isinstance(call.func, ast.Attribute)
    held, method = call.func.value, call.func.attr
    base = root(held)
    if base is not None and base.id in frame.guarded.get(id(call), ()):
        data = [*call.args, *(k.value for k in call.keywords)]
        if any(frame.tainted_by(a) for a in data):  # `if tool not in SEEN: SEEN.append(tool)`
            _mutated(visit, call, found, held, why=_NOT_A_CACHE["adds"])
        else:
            _memo(
                visit, call, found, held, None, frame=frame
            )  # `if not KEYS: KEYS.update(fetch())`
        return True
    cache = container(held)
    if cache is None or cache not in frame.memo:
        return False
    if method == "setdefault":
        key = call.args[0] if call.args else None
        value = call.args[1] if len(call.args) > 1 else None
        why = frame.entry_problem(value, [key] if key else [], cache)
        if why is None:
            _memo(visit, call, found, held, key, frame=frame)
        else:
            _mutated(visit, call, found, held, why=_NOT_A_CACHE[why])
        return True
    if method == "update":
        why = _update_problem(call, cache, frame)
        if why is not None:
            _mutated(visit, call, found, held, why=_NOT_A_CACHE[why])
        return True
    return method in cat.CACHE_UPKEEP


def _update_problem(call: ast.Call, cache: str, frame: Frame) -> str | None:
    """Why ``CACHE.update(...)`` on a memo cache writes module state (see Frame.entry_problem)."""
    problems: list[str | None] = []
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            problems += [
                frame.entry_problem(v, [k] if k is not None else [], cache)
                for k, v in zip(arg.keys, arg.values)
            ]
        else:
            problems.append(frame.entry_problem(arg, [], cache))
    problems += [frame.entry_problem(k.value, [], cache) for k in call.keywords]
    return next((p for p in sorted(problems, key=str) if p is not None), None)


def _entry_mutated(visit: Visit, call: ast.Call, frame: Frame) -> bool:
    """``BY_ID.setdefault(key, []).append(event)`` on a memo cache: an entry of it written in
    place (reported when that keeps request data or reads the cache); True when handled."""
    assert isinstance(call.func, ast.Attribute)
    entry = call.func.value
    if not (
        isinstance(entry, ast.Call)
        and isinstance(entry.func, ast.Attribute)
        and entry.func.attr == "setdefault"
    ):
        return False
    held = entry.func.value
    cache = container(held)
    found = owner(visit, held, frame)
    if found is None or cache is None or cache not in frame.memo:
        return False
    keys = entry.args[:1]
    data = [*call.args, *(k.value for k in call.keywords)]
    why = next((w for w in (frame.entry_problem(d, keys, cache) for d in data) if w), None)
    if why is None and call.func.attr in _GROWING:
        why = "grows"
    if why is not None:
        _mutated(visit, call, found, held, why=_NOT_A_CACHE[why])
    return True


def _memo(
    visit: Visit,
    node: ast.AST,
    found: tuple[Module, str],
    held: ast.expr,
    key: ast.AST | None,
    *,
    frame: Frame,
) -> None:
    shown = show(node)
    name = visit.shown(*found)
    what = describe(name, held)
    cache = container(held) or name
    if key is not None and frame.tainted_by(key) and cache not in frame.bounded:
        visit.report(
            node,
            "LS107",
            f"`{shown}` {visit.where} fills the cache {what} with a key taken from the "
            f"event: it keeps every distinct key for the life of the execution environment, so "
            f"memory grows with the traffic. Bound it (evict, or "
            f"functools.lru_cache(maxsize=...)) or expire it with @init_resource(ttl=...); "
            f'`allow=("{name}",)` in @handler declares it deliberate',
            state=found,
        )
    else:
        visit.report(
            node,
            "LS109",
            f"`{shown}` {visit.where} fills {what} as a memo cache, kept across warm "
            f"invocations on purpose: say how long it may live with @init_resource(ttl=...), "
            f'or declare it with @handler(allow=("{name}",))',
            state=found,
        )


def _lazy(visit: Visit, node: ast.AST, shown: str) -> None:
    visit.report(
        node,
        "LS108",
        f"`{shown}` is set on first use (or when expired) {visit.where}: lazy initialisation "
        f"by hand, once per execution environment (warm invocations reuse it). "
        f"@init_resource does the same, thread-safely, with ttl=, validate= and close=",
    )


def _default(visit: Visit, node: ast.AST, param: str, shown: str, frame: Frame) -> None:
    visit.report(
        node,
        "LS106",
        f"`{shown}` {visit.where} mutates the default value of parameter `{param}` "
        f"(`{frame.defaults[param]}`), created once when the function is defined and "
        f"shared by every later call: a warm invocation sees what earlier ones put there. "
        f"Default to None and create a new one inside",
    )


# ------------------------------------------------------------------------------ statements


def check_statement(visit: Visit, node: ast.AST, frame: Frame) -> None:
    """LS102, LS103, LS106, LS107, LS108 and LS109 for an assignment-like statement."""
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    else:
        return
    verb = {ast.Delete: "deleted", ast.AugAssign: "updated"}.get(type(node), "assigned")
    value = getattr(node, "value", None) or getattr(node, "iter", None)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        value = ast.Tuple([i.context_expr for i in node.items], ast.Load())
    for target in targets:
        for sub in flatten(target):
            if isinstance(sub, ast.Name):
                _rebind(visit, node, sub, value, verb, frame=frame)
            else:
                _store(visit, node, sub, verb, frame, value=value)


def _store(
    visit: Visit,
    statement: ast.AST,
    sub: ast.expr,
    verb: str,
    frame: Frame,
    *,
    value: ast.AST | None = None,
) -> None:
    base = root(sub)
    if base is not None and base.id in frame.defaults:
        _default(visit, sub, base.id, f"{show(sub)}", frame)
        return
    found = owner(visit, sub, frame)
    if found is None or base is None:
        return
    why = ""
    if isinstance(sub, ast.Subscript):
        keys, entry = [sub.slice], sub
        while isinstance(entry.value, ast.Subscript):
            entry = entry.value
            keys.append(entry.slice)
        cache = container(entry.value)
        if cache is not None and cache in frame.memo:
            if verb == "deleted":
                return  # eviction
            problem = "reads" if verb == "updated" else frame.entry_problem(value, keys, cache)
            if problem is None:
                _memo(visit, sub, found, entry.value, entry.slice, frame=frame)
                return
            why = _NOT_A_CACHE[problem]
    guarded = frame.guarded.get(id(sub), ())
    if not why and (base.id in guarded or (dotted(sub) or "-") in guarded):
        if base.id not in ("self", "cls"):  # `self._client`: encapsulated, created once
            _lazy(visit, sub, show(sub))
        return
    name = visit.shown(*found)
    held = describe(name, sub.value if isinstance(sub, (ast.Attribute, ast.Subscript)) else sub)
    visit.report(
        sub,
        "LS102",
        f"`{show(sub)}` {verb} {visit.where}: {held} keeps it, and {WARM}{why}; {FIX_STATE}, or "
        f"declare a deliberate cache with allow=",
        state=found,
    )


def _rebind(
    visit: Visit,
    statement: ast.AST,
    sub: ast.Name,
    value: ast.AST | None,
    verb: str,
    *,
    frame: Frame,
) -> None:
    if isinstance(statement, ast.AugAssign) and sub.id in frame.defaults:
        _default(visit, sub, sub.id, show(statement), frame)
        return
    if sub.id not in frame.scopes[0][0] or visit.allows(visit.module, sub.id):
        return
    if (
        sub.id in frame.guarded.get(id(sub), ())
        or sub.id in frame.guarded.get(id(statement), ())
        or (
            isinstance(value, ast.BoolOp)
            and isinstance(value.op, ast.Or)
            and isinstance(value.values[0], ast.Name)
            and value.values[0].id == sub.id
        )
    ):
        _lazy(visit, sub, f"global {sub.id}")
        return
    accumulates = verb in ("updated", "deleted") or (
        value is not None and sub.id in set(names(value))
    )
    if accumulates:
        what = "accumulates across invocations"
    elif value is not None and frame.tainted_by(value):
        what = "holds request data"
    elif (
        value is not None
        and not frame.is_own(value)
        and sub.id not in frame.resets
        and sub.id not in visit.resets
    ):
        what = "holds a value computed in one invocation, never reset"
    else:
        return  # a constant, or the function's own configuration: the same every time
    visit.report(
        sub,
        "LS103",
        f"`global {sub.id}` {verb} {visit.where} {what}: {WARM}, not the module's "
        f"initial value; {FIX_STATE} (`request.invocation` counts invocations)",
    )
