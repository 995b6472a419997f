"""The write analysis' facts and scopes: the records of the module's code (functions,
classes, Python scopes, call sites, closure cells), the :class:`Analysis` it answers with,
and the alias graph with its primitives (:class:`Graph`): nodes, edges of kinds COPY, INTO,
HOLD and INNER, and facts (source, state) added to the work list of the solver.
"""

from __future__ import annotations

import sys

from ._tables import COPY, MODULE_SCOPE, back_state, forward_state

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    from typing import Any, Optional

    NodeId = Optional[int]


class Analysis:
    """What handler-time code of one module may do to its module-level names."""

    __slots__ = (
        "ahead",
        "class_reached",
        "classes",
        "foreign",
        "foreign_loaded",
        "foreign_rebound",
        "gave_up",
        "imported",
        "loaded",
        "private_names",
        "rebound",
        "returns",
        "written",
        "written_cells",
        "written_params",
    )

    def __init__(
        self,
        *,
        gave_up: str | None = None,
        written: dict[str, bool] | None = None,
        loaded: frozenset[str] = frozenset(),
        rebound: frozenset[str] = frozenset(),
        written_params: dict[tuple[str, int], frozenset[str]] | None = None,
        written_cells: dict[tuple[str, int], dict[str, bool]] | None = None,
        imported: frozenset[str] = frozenset(),
        foreign: dict[tuple[str, str], bool] | None = None,
        foreign_rebound: frozenset[tuple[str, str]] = frozenset(),
        foreign_loaded: frozenset[tuple[str, str]] = frozenset(),
        returns: dict[str, dict[str, int]] | None = None,
        classes: frozenset[str] = frozenset(),
        class_reached: bool = False,
        private_names: frozenset[str] = frozenset(),
    ) -> None:
        #: ``None``, or why the analysis cannot be trusted (watch the whole module).
        self.gave_up = gave_up
        #: name -> deep: handler-time code may write into the value bound to the name.
        self.written: dict[str, bool] = written if written is not None else {}
        #: names read at all by handler-time code (includes ``written``).
        self.loaded = loaded
        #: names assigned, deleted or augmented through ``global``.
        self.rebound = rebound
        #: (co_name, co_firstlineno) -> parameters with a default that may be written.
        self.written_params: dict[tuple[str, int], frozenset[str]] = (
            written_params if written_params is not None else {}
        )
        #: (co_name, co_firstlineno) -> free variables of that function (closure cells)
        #: that may be written (True: deep) or rebound through ``nonlocal``.
        #: module-level names bound by an import (``from .store import ITEMS``): the value is
        #: another module's, which the runtime names as that module's where it can.
        self.imported = imported
        self.written_cells: dict[tuple[str, int], dict[str, bool]] = (
            written_cells if written_cells is not None else {}
        )
        #: (module, name) of another module -> deep: handler-time code may write into the
        #: value that module binds to the name, reached through the module object
        #: (``store.ITEMS.append(v)``); name "" is the module object itself (used as a
        #: value: anything may happen to the module).
        self.foreign: dict[tuple[str, str], bool] = foreign if foreign is not None else {}
        #: (module, name) of another module that handler-time code rebinds (``config.X = v``).
        self.foreign_rebound = foreign_rebound
        #: (module, name) of other modules that the code reads through the module object.
        #: A name ending in ``()`` is the result of calling that module's function.
        self.foreign_loaded = foreign_loaded
        #: module-level function -> the module-level names its result may be, be inside or
        #: hold (fact bits): for other modules that call it and write what it returns.
        self.returns: dict[str, dict[str, int]] = returns if returns is not None else {}
        #: module-level classes whose class object handler-time code never writes.
        self.classes = classes
        #: a class reached through an instance (``type(x)``, ``x.__class__``) may be
        #: written: no class of the project is vouched for.
        self.class_reached = class_reached
        #: the ``_private`` names the module's code uses (a variable, an attribute, an import):
        #: a class's private attribute no code of the project names is a library's bookkeeping
        self.private_names = private_names
        #: made ahead of time and read from the file shipped with the code (``_ahead``)
        self.ahead = False

    def __repr__(self) -> str:
        if self.gave_up is not None:
            return f"Analysis(gave_up={self.gave_up!r})"
        return (
            f"Analysis(written={self.written!r}, loaded={sorted(self.loaded)!r}, "
            f"rebound={sorted(self.rebound)!r}, "
            f"written_params={self.written_params!r}, written_cells={self.written_cells!r})"
        )


def outside(how: str, name: str) -> Any:
    """What the analysis reads of the other modules now loaded: the module *name*
    (*how* ``"module"``), the module or the attribute of its parent package it names
    (``"loaded"``: ``a.b`` is module ``a.b`` or attribute ``b`` of ``a``), or attribute
    ``m:attr`` of module ``m`` (``"attribute"``). None when not loaded."""
    if how == "attribute":
        module, _, attr = name.partition(":")
        return _binding(sys.modules.get(module), attr)
    found = sys.modules.get(name)
    if found is None and how == "loaded":
        parent, _, attr = name.rpartition(".")
        found = _binding(sys.modules.get(parent), attr) if parent else None
    return found


def _binding(module: Any, name: str) -> Any:
    """What module *module* binds to *name*, read from its namespace: a module-level
    ``__getattr__`` (PEP 562) is the user's code, never run by the analysis."""
    namespace = getattr(module, "__dict__", None) if type(module) is type(sys) else None
    return namespace.get(name) if isinstance(namespace, dict) else None


class GiveUp(Exception):
    """Raised anywhere in the analysis to give up with a reason."""


class Func:
    """A def or lambda of the module."""

    __slots__ = (
        "classmethod",
        "decorated",
        "defaulted",
        "escaped",
        "factory",
        "handler",
        "idents",
        "keys",
        "kwarg",
        "kwonly",
        "name",
        "owner",
        "params",
        "positional",
        "receiver",
        "ret",
        "scope",
        "vararg",
    )

    def __init__(self, name: str, keys: tuple[int, ...], ret: int) -> None:
        self.name = name
        self.keys = keys  # candidate co_firstlineno values
        self.ret = ret
        self.positional: list[str] = []
        self.vararg: str | None = None
        self.kwonly: list[str] = []
        self.kwarg: str | None = None
        self.params: dict[str, int] = {}
        self.defaulted: list[str] = []
        self.classmethod = False
        self.owner: Class | None = None
        self.receiver = False
        self.decorated = False
        self.handler = False
        self.factory = False
        self.escaped = False
        self.idents: set[str] = set()
        self.scope: Scope | None = None


class Class:
    """A class statement of the module."""

    __slots__ = ("bases", "decorated", "escaped", "instances", "local", "methods", "name", "node")

    def __init__(self, name: str, bases: list[str], node: int, instances: int) -> None:
        self.name = name
        self.bases = bases
        self.node = node  # the variable the class statement binds
        self.instances = instances  # every instance the module creates flows here
        self.methods: dict[str, list[Func]] = {}
        self.escaped = False  # instances or the class reach code the analysis cannot see
        self.local = False  # not a module-level class statement
        self.decorated = False  # a decorator that may keep it (not dataclass, ...)


class Scope:
    """A Python scope: the module, a function or lambda, a class body, a comprehension."""

    __slots__ = (
        "assigned",
        "bound",
        "classes",
        "defs",
        "effects",
        "func",
        "globals",
        "kind",
        "loads",
        "nonlocals",
        "other",
        "parent",
        "resolved",
        "stores",
        "values",
        "vars",
    )

    def __init__(self, kind: int, parent: Scope | None, func: Func | None, effects: bool):
        self.kind = kind
        self.parent = parent
        self.func = func
        self.effects = effects  # handler-time code: its writes count
        self.vars: dict[str, int] = {}
        self.bound: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.defs: dict[str, list[Func]] = {}
        self.classes: dict[str, Class] = {}
        self.other: set[str] = set()  # names bound other than by def/class
        self.loads: set[str] = set()
        self.values: set[str] = set()  # names loaded as plain values (a function escapes)
        self.stores: set[str] = set()
        self.resolved: dict[str, Scope | None] = {}
        self.assigned: dict[str, list[NodeId]] = {}  # name -> the values bound to it


class Arg:
    """One argument of a recorded call."""

    __slots__ = ("func", "key", "kind", "method", "name", "node")

    def __init__(self, kind: int, key: str | None, node: NodeId) -> None:
        self.kind = kind  # POS, STAR, KW, DSTAR
        self.key = key
        self.node = node
        self.func: Func | None = None  # a lambda argument
        self.name: str | None = None  # a plain name argument (maybe a function)
        self.method: tuple[str, str] | None = None  # ``T.m`` (maybe an unbound method)


POS, STAR, KW, DSTAR = 0, 1, 2, 3


class Captured:
    """A local variable of a function that inner functions use: a closure cell."""

    __slots__ = ("funcs", "name", "owner", "rebound")

    def __init__(self, owner: Scope, name: str) -> None:
        self.owner = owner
        self.name = name
        self.funcs: list[Func] = []  # the functions whose closure holds the cell
        self.rebound = False  # assigned through ``nonlocal``


class Call:
    """A call site, linked once all scopes are known."""

    __slots__ = (
        "args",
        "attr",
        "callee",
        "callee_keys",
        "chain",
        "effects",
        "module_root",
        "name",
        "object_keys",
        "recv",
        "result",
        "root",
        "scope",
        "self_of",
        "super_of",
        "wraps_handler",
    )

    def __init__(self, scope: Scope, args: list[Arg], result: int) -> None:
        self.scope = scope
        self.effects = scope.effects
        self.args = args
        self.result = result
        self.name: str | None = None  # f(...)
        self.attr: str | None = None  # recv.attr(...)
        self.recv: NodeId = None
        self.root: str | None = None  # recv is a name, or a dotted chain of names
        self.chain: str | None = None
        self.callee: NodeId = None  # any other callee value
        self.callee_keys: list[tuple[str, str]] = []  # other modules' functions called
        self.module_root: tuple[str, str] | None = None  # recv is a module: how it is bound
        self.object_keys: list[tuple[str, str]] = []  # recv is another module's NAME
        self.wraps_handler = False  # handler(guard=...)(func): func is an entry point
        self.self_of: Func | None = None  # recv is the receiver of this method
        self.super_of: Func | None = None  # recv is super() in this method


class Graph:
    """The state of one analysis, and the graph primitives every part of it uses."""

    def __init__(self, module_name: str, namespace: dict[str, Any], tree: ast.Module) -> None:
        self.module_name = module_name
        self.namespace = namespace
        self.tree = tree
        # The graph, and what the solver keeps.
        self.fwd: list[list[int]] = []  # node -> [dst << 2 | kind]
        self.rev: list[list[int]] = []  # node -> [src << 2 | kind] (held facts flow back)
        self.facts: list[dict[int, int] | None] = []  # node -> {source: state bits}
        self.work: list[tuple[int, int, int]] = []  # (node, source, new state bits)
        self.solving = False
        # Sinks: where facts become writes.
        self.stores: list[int] = []  # nodes whose object is stored into / mutated
        self.escapes: list[int] = []  # nodes passed to unknown code by handler-time code
        self.called: list[int] = []  # values called as unknown code by handler-time code
        # Where the module's instances and classes may reach unknown code (at any time).
        self.leaks: list[int] = []  # nodes passed to unknown code
        self.value_calls: list[int] = []  # values called (maybe bound methods)
        self.typeof: list[int] = []  # results of type(x) and x.__class__
        # Calls, functions, classes.
        self.calls: list[Call] = []
        self.funcs: list[Func] = []
        self.classes: list[Class] = []
        self.methods: dict[str, list[Func]] = {}  # method name -> the module's methods
        self.pending_methods: dict[int, list[Call]] = {}  # receiver -> calls of its methods
        self.pending_calls: dict[int, list[Call]] = {}  # callee -> calls of it
        self.linked: set[tuple[int, int]] = set()  # (id(call), +-id(class)) already linked
        self.constructions: list[tuple[int, Class]] = []  # (construction result, class)
        self.constructed: dict[int, Class] = {}  # call result -> the class it constructs
        self.class_sources: dict[int, int] = {}  # id(class) -> its instance source
        self.class_of: list[tuple[Class, bool]] = []  # solved: source - base -> (class, instance)
        self.class_attrs: dict[str, list[str]] = {}  # attribute -> module classes having it
        # Names and scopes.
        self.module = Scope(MODULE_SCOPE, None, None, effects=False)
        self.scopes: list[Scope] = [self.module]
        self.declared_globals: set[str] = set()
        self.captured: dict[tuple[int, str], Captured] = {}  # closure cells
        self.rebound_anywhere: set[str] = set()  # module names bound in functions
        self.imports: dict[str, str] = {}  # bound name -> qualified name
        self.imported: set[str] = set()  # names the module's top level binds by import
        self.module_imports: set[str] = set()  # names bound by `import x` (a module)
        self.checks: list[tuple[Scope, str, str, str]] = []  # (scope, root, chain, attr)
        # What the source defines, to compare with the running code.
        self.lambda_lines: dict[int, list[Func]] = {}
        self.def_keys: dict[tuple[str, int], list[Func]] = {}
        self.class_keys: set[tuple[str, int]] = set()
        self.idents: set[str] = set()  # names used by the code being read
        self.looked_up: dict[str, Any] = {}  # what was read of other modules (look_up)
        package = namespace.get("__package__")
        if not isinstance(package, str):
            package = module_name.rpartition(".")[0]
        self.package = package

    def look_up(self, how: str, name: str) -> Any:
        """:func:`outside`, recorded: an analysis made ahead of time holds only while these
        answers stay the same."""
        value = outside(how, name)
        self.looked_up[f"{how} {name}"] = value
        return value

    def new(self) -> int:
        self.fwd.append([])
        self.rev.append([])
        if self.solving:
            self.facts.append(None)
        return len(self.fwd) - 1

    def edge(self, src: int, dst: int, kind: int) -> None:
        self.fwd[src].append(dst << 2 | kind)
        self.rev[dst].append(src << 2 | kind)
        if self.solving:  # an edge found while solving: replay the facts it carries
            facts = self.facts
            for source, bits in list((facts[src] or {}).items()):
                out = forward_state(bits, kind)
                if out:
                    self.add_fact(dst, source, out)
            for source, bits in list((facts[dst] or {}).items()):
                back = back_state(bits, kind)
                if back:
                    self.add_fact(src, source, back)

    def add_fact(self, node: int, source: int, bits: int) -> None:
        known = self.facts[node]
        if known is None:
            known = self.facts[node] = {}
        new = bits & ~known.get(source, 0)
        if new:
            known[source] = known.get(source, 0) | new
            self.work.append((node, source, new))

    def derive(self, src: NodeId, kind: int) -> NodeId:
        if src is None:
            return None
        if kind == COPY:
            return src
        dst = self.new()
        self.edge(src, dst, kind)
        return dst

    def join(self, nodes: list[NodeId], kind: int) -> NodeId:
        present = [n for n in nodes if n is not None]
        if not present:
            return None
        if kind == COPY and len(present) == 1:
            return present[0]
        dst = self.new()
        for n in present:
            self.edge(n, dst, kind)
        return dst

    def scope(self, kind: int, parent: Scope, func: Func | None, effects: bool) -> Scope:
        scope = Scope(kind, parent, func, effects)
        self.scopes.append(scope)
        return scope

    def var(self, scope: Scope, name: str) -> int:
        node = scope.vars.get(name)
        if node is None:
            node = scope.vars[name] = self.new()
        return node

    def store(self, node: NodeId, scope: Scope) -> None:
        if node is not None and scope.effects:
            self.stores.append(node)

    def escape(self, node: NodeId, effects: bool) -> None:
        """*node* reaches unknown code: a deep write (in handler-time code), and the
        module's instances and classes it holds escape (at any time)."""
        if node is not None:
            if effects:
                self.escapes.append(node)
            self.leaks.append(node)
