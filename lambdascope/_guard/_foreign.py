"""The write analysis' imports and what crosses modules (:class:`Foreign`): the import
statements, and another module's names used through the module object.

``import app.store``, ``from . import store``, ``import app.utils.money as money``: the
code then reaches the other module's data as ``store.ITEMS``, ``app.utils.money.TOTALS``,
and rebinds it as ``config.ALERT_TOPIC = v``. The analysis runs on a live process (the
first invocation), so the chain is resolved against the modules themselves: ``store`` *is*
``app.store``, ``store.ITEMS`` is the name ``ITEMS`` of ``app.store``. Each such name is a
source of its own (a *foreign* source), and what the code does to it is reported as the
other module's (:attr:`Analysis.foreign`, :attr:`Analysis.foreign_rebound`); the runtime
adds it to what that module's own analysis says (:func:`._census.link_project`).

Only a chain whose root is bound by imports alone in its scope is read so; the check waits
for the link, when every scope is known, and a root bound otherwise too (``store = other``,
a parameter of the same name) falls back to a plain attribute of the name. A module object
used as a value (passed, aliased, stored) is not followed: that module's name is written
like any other module-level name, and the runtime then watches the whole module.
"""

from __future__ import annotations

import ast

from lambdascope._layout import relative_import

from ._facts import Call, GiveUp, Graph, Scope
from ._kinds import MODULE_TYPE, modules_in
from ._tables import COMPREHENSION_SCOPE, COPY, GIVE_UP_QUALIFIED, INTO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    NodeId = Optional[int]
    Root = tuple[str, str]  # (IMPORT | LOOP | CONTAINER, name)


#: What the root of a chain of modules is: a name bound by imports, a loop variable over a
#: collection of modules, an item of such a collection.
IMPORT, LOOP, CONTAINER = "import", "loop", "container"


class Foreign(Graph):
    """Visit-time resolution of ``module.NAME`` chains, and their check at link time."""

    def __init__(self, module_name: str, namespace: dict[str, Any], tree: ast.Module) -> None:
        super().__init__(module_name, namespace, tree)
        #: other modules of the project use this one: what its functions return and what
        #: its classes' methods do are seen by code this analysis does not read
        self.exported = False
        #: (module name, attribute) -> the node of that foreign source; attribute "" is
        #: the module object itself.
        self.foreign_nodes: dict[tuple[str, str], int] = {}
        #: use sites to check at link time: (scope, root, root node, site node, keys)
        self.foreign_uses: list[tuple[Scope, Root, NodeId, int, list[tuple[str, str]]]] = []
        #: rebindings to check at link time: (scope, root, root node, keys)
        self.foreign_stores: list[tuple[Scope, Root, NodeId, list[tuple[str, str]]]] = []
        #: (id(scope), name) -> the modules a loop variable iterates over, and how many
        #: loops bind it; the collections looped over, to check at link time
        self.loop_modules: dict[tuple[int, str], list[Any]] = {}
        self.loop_binds: dict[tuple[int, str], int] = {}
        self.loop_sources: list[tuple[Scope, str]] = []
        #: (id(scope), name) -> how many times imports bind the name in that scope
        self.import_binds: dict[tuple[int, str], int] = {}
        #: foreign names handler-time code rebinds (``config.X = v``, ``del config.X``)
        self.foreign_rebound: set[tuple[str, str]] = set()
        #: functions of other modules taken as values by handler-time code
        self.foreign_taken: set[tuple[str, str]] = set()

    # -- visiting ------------------------------------------------------------------------
    def chain_modules(self, node: ast.expr, scope: Scope) -> tuple[Root, list[Any]] | None:
        """``(root, modules)`` when *node* is a module now: a name bound by an import, a
        loop variable over a module-level collection of modules (``for module in
        MODULES``), an item of one (``ROUTES[kind]``), or a chain of attributes on those
        that stays in modules (``app.utils.money``); None otherwise. *root* says what the
        link must confirm (that the name is bound so and only so)."""
        parts: list[str] = []
        while type(node) is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        found = self.root_modules(node, scope)
        if found is None:
            return None
        root, values = found
        self.idents.update(parts)
        modules = []
        for start in values:
            value = start
            for part in reversed(parts):  # bindings only: a PEP 562 __getattr__ never runs
                value = vars(value).get(part) if type(value) is MODULE_TYPE else None
            if type(value) is not MODULE_TYPE or not isinstance(value.__name__, str):
                return None
            modules.append(value)
        return root, modules

    def root_modules(self, node: ast.expr, scope: Scope) -> tuple[Root, list[Any]] | None:
        if type(node) is ast.Subscript and type(node.value) is ast.Name:
            held = modules_in(self.namespace.get(node.value.id))  # ROUTES[kind]
            return None if held is None else ((CONTAINER, node.value.id), held)
        if type(node) is not ast.Name:
            return None
        name = node.id
        looped = self.loop_modules.get((id(scope), name))
        if looped is not None:
            return (LOOP, name), looped
        if name not in self.imports:
            return None
        # imported in a function: the module it names, if loaded
        value = (
            self.namespace.get(name)
            if name in self.imported
            else self.look_up("loaded", self.imports[name])
        )
        return ((IMPORT, name), [value]) if type(value) is MODULE_TYPE else None

    def foreign_keys(
        self, node: ast.Attribute, scope: Scope
    ) -> tuple[Root, list[tuple[str, str]]] | None:
        """``(root, [(module, attribute), ...])`` when *node* is ``<module>.attribute``
        (attribute "": the attribute is a submodule, the module object itself)."""
        found = self.chain_modules(node.value, scope)
        if found is None:
            return None
        root, modules = found
        self.idents.add(node.attr)
        keys = []
        for module in modules:
            value = vars(module).get(node.attr)
            if type(value) is MODULE_TYPE and isinstance(getattr(value, "__name__", None), str):
                keys.append((value.__name__, ""))
            else:
                keys.append((module.__name__, node.attr))
        return root, keys

    def note_loop(self, target: ast.expr, iterable: ast.expr, scope: Scope) -> None:
        """``for module in MODULES`` (or ``ROUTES.values()``), MODULES a module-level
        collection of modules: the loop variable is one of them."""
        if type(target) is not ast.Name:
            return
        if (
            type(iterable) is ast.Call
            and type(iterable.func) is ast.Attribute
            and iterable.func.attr == "values"
            and not iterable.args
            and type(iterable.func.value) is ast.Name
            and isinstance(self.namespace.get(iterable.func.value.id), dict)
        ):
            iterable = iterable.func.value
        elif type(iterable) is not ast.Name or isinstance(self.namespace.get(iterable.id), dict):
            return
        held = modules_in(self.namespace.get(iterable.id))
        if held is None:
            return
        key = (id(scope), target.id)
        self.loop_modules.setdefault(key, []).extend(held)
        self.loop_sources.append((scope, iterable.id))
        self.loop_binds[key] = self.loop_binds.get(key, 0) + 1

    def foreign_load(self, node: ast.Attribute, scope: Scope) -> NodeId:
        """The node of ``module.NAME`` read at *node*, or None when it is not one."""
        found = self.foreign_keys(node, scope)
        if found is None:
            return None
        root, keys = found
        root_node = self.e_root(node, scope)
        site = self.new()
        self.foreign_uses.append((scope, root, root_node, site, keys))
        return site

    def foreign_store(self, node: ast.Attribute, scope: Scope) -> bool:
        """``module.NAME = v`` / ``del module.NAME``: a rebinding of the other module's name.
        False when *node* is not one (then it is an attribute store like any other)."""
        found = self.foreign_keys(node, scope)
        if found is None:
            return False
        root, keys = found
        root_node = self.e_root(node, scope)
        if scope.effects:
            self.foreign_stores.append((scope, root, root_node, keys))
        return True

    def e_root(self, node: ast.expr, scope: Scope) -> NodeId:
        """The root of the chain *node* (a name, ``ROUTES[kind]``), evaluated as usual."""
        while type(node) is ast.Attribute:
            node = node.value
        if type(node) is ast.Name:
            return self.e_name(node, scope, as_value=False)
        return self.expr(node, scope)

    if TYPE_CHECKING:

        def e_name(self, node: ast.Name, scope: Scope, as_value: bool = True) -> NodeId: ...

        def bind(self, name: str, value: NodeId, scope: Scope) -> None: ...

        def expr(self, node: ast.expr, scope: Scope) -> NodeId: ...

    def note_import(self, name: str, scope: Scope) -> None:
        key = (id(scope), name)
        self.import_binds[key] = self.import_binds.get(key, 0) + 1

    # -- imports ---------------------------------------------------------------------------
    def s_import(self, node: ast.Import, scope: Scope) -> None:
        self.s_import_names(node, scope)

    def s_importfrom(self, node: ast.ImportFrom, scope: Scope) -> None:
        self.s_import_names(node, scope)

    def s_import_names(self, node: ast.Import | ast.ImportFrom, scope: Scope | None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == self.module_name:
                    raise GiveUp(f"imports itself (import {alias.name})")
                self.idents.update((alias.name, *alias.name.split(".")))
                bound = alias.asname or alias.name.partition(".")[0]
                self.module_imports.add(bound)
                target = alias.name if alias.asname else bound
                self.import_bind(bound, target, scope, (target, ""))
            return
        module = node.module or ""
        self.idents.add(module)
        module = relative_import(self.package, node.level, module)
        for alias in node.names:
            self.idents.add(alias.name)
            if alias.name == "*":
                continue
            full = f"{module}.{alias.name}" if module else alias.name
            if full == self.module_name:
                raise GiveUp(f"imports itself (from {module or '.'} import {alias.name})")
            reason = GIVE_UP_QUALIFIED.get(full)
            if reason is not None:
                raise GiveUp(reason)
            bound = alias.asname or alias.name
            self.import_bind(bound, full, scope, (module, alias.name))
            if module == self.module_name and scope is not None:
                # `from <this package> import name` reads the module's own global `name`.
                self.edge(self.var(self.module, alias.name), self.var(scope, bound), COPY)

    def import_bind(
        self, bound: str, target: str, scope: Scope | None, source: tuple[str, str]
    ) -> None:
        """*bound* names *target* (``module`` or ``module.name``). At the top level the
        name is the module's own; in a function it is a local bound to the other module's
        object or name (*source*: ``(module, "")`` or ``(module, name)``): a write through it
        that no chain of loaded modules explains (``from app.common import RECENT`` then
        ``RECENT.append(v)``; ``import app.store`` then ``app.store.ITEMS.append(v)``
        before ``app.store`` was ever loaded) is a write of that name or module."""
        self.idents.add(bound)
        self.imports[bound] = target
        if scope is None:  # the prescan of the module's top level
            self.imported.add(bound)
        else:
            self.bind(bound, None, scope)
            if source[0] != self.module_name:
                self.edge(self.foreign_node(source), self.var(scope, bound), COPY)
            self.note_import(bound, scope)

    def note_callee(self, call: Call, func: ast.expr, scope: Scope) -> None:
        """The other modules' functions a call such as ``store.current(...)``,
        ``current(...)`` after ``from .store import current`` or ``module.entry(...)`` in
        a loop over modules calls (``call.callee_keys``: its result may be the other
        module's data, :attr:`Analysis.returns` of that module says which), and how the
        module the method is looked up on is bound (``call.module_root``)."""
        if type(func) is ast.Attribute:
            found = self.chain_modules(func.value, scope)
            if found is not None:
                call.module_root = found[0]
                call.callee_keys = [(module.__name__, func.attr) for module in found[1]]
            elif type(func.value) is ast.Attribute:  # store.SERVICE.get(...): an object's
                keys = self.foreign_keys(func.value, scope)
                if keys is not None:
                    call.object_keys = [key for key in keys[1] if key[1]]
        elif type(func) is ast.Name and func.id in self.imports:
            module, _, attr = self.imports[func.id].rpartition(".")
            if module:
                call.callee_keys = [(module, attr)]

    def foreign_result(self, call: Call) -> None:
        """A call of another module's function: its result is that function's result."""
        for module, name in call.callee_keys:
            self.edge(self.foreign_node((module, name + "()")), call.result, COPY)

    # -- linking -------------------------------------------------------------------------
    def foreign_node(self, key: tuple[str, str]) -> int:
        node = self.foreign_nodes.get(key)
        if node is None:
            node = self.foreign_nodes[key] = self.new()
        return node

    def link_foreign(self, owner_of: Any) -> None:
        """Join each use site to its foreign source, or, when its root is not bound by
        imports alone (*owner_of* resolves a name in a scope), to the root as a plain
        attribute of the name."""
        for scope, root, root_node, site, keys in self.foreign_uses:
            if self.bound_as_seen(scope, root, owner_of):
                for key in keys:
                    self.edge(self.foreign_node(key), site, COPY)
                    value = self.look_up("attribute", f"{key[0]}:{key[1]}") if key[1] else None
                    if callable(value) and not isinstance(value, type) and scope.effects:
                        # a function taken as a value (``get = store.current``): whoever
                        # calls it may write what it returns
                        self.foreign_taken.add(key)
            elif root_node is not None:
                self.edge(root_node, site, INTO)
                for key in keys:
                    for cls in self.class_attrs.get(key[1], ()):  # a class attribute of ours
                        self.edge(self.var(self.module, cls), site, INTO)
        for scope, root, root_node, keys in self.foreign_stores:
            if self.bound_as_seen(scope, root, owner_of):
                self.foreign_rebound.update(keys)
            else:
                self.store(root_node, scope)

    def bound_as_seen(self, scope: Scope, root: Root, owner_of: Any) -> bool:
        """Is the root of a chain bound the way the visit read it: an imported name by
        imports alone, a loop variable by loops over collections of modules alone, and a
        collection of modules by the module's top level alone?"""
        kind, name = root
        if kind == IMPORT:
            return self.imports_only(scope, name, owner_of)
        if kind == CONTAINER:
            return self.module_constant(scope, name, owner_of)
        owner: Scope | None = owner_of(scope, name)
        if owner is not scope or not all(
            self.module_constant(where, source, owner_of) for where, source in self.loop_sources
        ):
            return False
        binds = self.loop_binds.get((id(scope), name), 0)
        assigned = len(scope.assigned.get(name, ()))
        return assigned == binds or (scope.kind == COMPREHENSION_SCOPE and assigned == 0)

    def module_constant(self, scope: Scope, name: str, owner_of: Any) -> bool:
        """*name* is the module's, bound once at its top level and never by a function."""
        return (
            owner_of(scope, name) is self.module
            and name not in self.rebound_anywhere
            and len(self.module.assigned.get(name, ())) == 1
        )

    def imports_only(self, scope: Scope, root: str, owner_of: Any) -> bool:
        owner: Scope | None = owner_of(scope, root)
        if owner is None:
            return False
        if owner is self.module:
            if root not in self.imported or root in self.rebound_anywhere:
                return False
        elif root in self.imported:
            return False  # the module-level import is shadowed here
        func = owner.func
        if root in owner.defs or root in owner.classes or (func and root in func.params):
            return False
        binds = self.import_binds.get((id(owner), root), 0)
        return binds > 0 and binds == len(owner.assigned.get(root, ()))
