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
import sys

from ._facts import Call, GiveUp, Graph, Scope
from ._tables import COPY, GIVE_UP_QUALIFIED, INTO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    NodeId = Optional[int]

_MODULE = type(sys)


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
        #: use sites to check at link time: (scope, root, root node, site node, key)
        self.foreign_uses: list[tuple[Scope, str, NodeId, int, tuple[str, str]]] = []
        #: rebindings to check at link time: (scope, root, root node, key)
        self.foreign_stores: list[tuple[Scope, str, NodeId, tuple[str, str]]] = []
        #: (id(scope), name) -> how many times imports bind the name in that scope
        self.import_binds: dict[tuple[int, str], int] = {}
        #: foreign names handler-time code rebinds (``config.X = v``, ``del config.X``)
        self.foreign_rebound: set[tuple[str, str]] = set()
        #: functions of other modules taken as values by handler-time code
        self.foreign_taken: set[tuple[str, str]] = set()

    # -- visiting ------------------------------------------------------------------------
    def chain_module(self, node: ast.expr) -> tuple[str, Any] | None:
        """``(root, module)`` when *node* is a name bound by an import, or a chain of
        attributes on one, whose value is a module now; None otherwise."""
        parts: list[str] = []
        while type(node) is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        if type(node) is not ast.Name or node.id not in self.imports:
            return None
        root = node.id
        self.idents.update(parts)
        # imported in a function: the module it names, if loaded
        value = self.namespace.get(root) if root in self.imported else _loaded(self.imports[root])
        for part in reversed(parts):
            if type(value) is not _MODULE:
                return None
            value = getattr(value, part, None)
        return (root, value) if type(value) is _MODULE else None

    def foreign_key(self, node: ast.Attribute) -> tuple[str, tuple[str, str]] | None:
        """``(root, (module, attribute))`` when *node* is ``<module chain>.attribute``."""
        found = self.chain_module(node.value)
        if found is None:
            return None
        root, module = found
        self.idents.add(node.attr)
        name = getattr(module, "__name__", None)
        if not isinstance(name, str):
            return None
        value = getattr(module, node.attr, None)
        if type(value) is _MODULE and isinstance(getattr(value, "__name__", None), str):
            return root, (value.__name__, "")  # a submodule: the module object itself
        return root, (name, node.attr)

    def foreign_load(self, node: ast.Attribute, scope: Scope) -> NodeId:
        """The node of ``module.NAME`` read at *node*, or None when it is not one."""
        found = self.foreign_key(node)
        if found is None:
            return None
        root, key = found
        root_node = self.e_root(node, scope)
        site = self.new()
        self.foreign_uses.append((scope, root, root_node, site, key))
        return site

    def foreign_store(self, node: ast.Attribute, scope: Scope) -> bool:
        """``module.NAME = v`` / ``del module.NAME``: a rebinding of the other module's name.
        False when *node* is not one (then it is an attribute store like any other)."""
        found = self.foreign_key(node)
        if found is None:
            return False
        root, key = found
        root_node = self.e_root(node, scope)
        if scope.effects:
            self.foreign_stores.append((scope, root, root_node, key))
        return True

    def e_root(self, node: ast.expr, scope: Scope) -> NodeId:
        """The root name of the chain *node*, evaluated as a name (its bookkeeping)."""
        while type(node) is ast.Attribute:
            node = node.value
        assert type(node) is ast.Name
        return self.e_name(node, scope, as_value=False)

    if TYPE_CHECKING:

        def e_name(self, node: ast.Name, scope: Scope, as_value: bool = True) -> NodeId: ...

        def bind(self, name: str, value: NodeId, scope: Scope) -> None: ...

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
                self.import_bind(bound, alias.name if alias.asname else bound, scope)
            return
        module = node.module or ""
        self.idents.add(module)
        if node.level:
            base = self.package.split(".") if self.package else []
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, module] if module else base)
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
            self.import_bind(bound, full, scope)
            if module == self.module_name and scope is not None:
                # `from <this package> import name` reads the module's own global `name`.
                self.edge(self.var(self.module, alias.name), self.var(scope, bound), COPY)

    def import_bind(self, bound: str, target: str, scope: Scope | None) -> None:
        self.idents.add(bound)
        self.imports[bound] = target
        if scope is None:  # the prescan of the module's top level
            self.imported.add(bound)
        else:
            self.bind(bound, None, scope)
            self.note_import(bound, scope)

    def callee_key(self, func: ast.expr) -> tuple[str, str] | None:
        """``(module, name)`` of a function called as ``store.current(...)``, or as
        ``current(...)`` after ``from .store import current``: its result may be the
        other module's data (:attr:`Analysis.returns` of that module says which)."""
        if type(func) is ast.Attribute:
            found = self.chain_module(func.value)
            if found is None:
                return None
            name = getattr(found[1], "__name__", None)
            return (name, func.attr) if isinstance(name, str) else None
        if type(func) is ast.Name and func.id in self.imports:
            module, _, attr = self.imports[func.id].rpartition(".")
            return (module, attr) if module else None
        return None

    def foreign_result(self, call: Call) -> None:
        """A call of another module's function: its result is that function's result."""
        if call.callee_key is not None:
            module, name = call.callee_key
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
        for scope, root, root_node, site, key in self.foreign_uses:
            if self.imports_only(scope, root, owner_of):
                self.edge(self.foreign_node(key), site, COPY)
                value = getattr(sys.modules.get(key[0]), key[1], None) if key[1] else None
                if callable(value) and not isinstance(value, type) and scope.effects:
                    # a function taken as a value (``get = store.current``): whoever calls
                    # it may write what it returns
                    self.foreign_taken.add(key)
            elif root_node is not None:
                self.edge(root_node, site, INTO)
                for cls in self.class_attrs.get(key[1], ()):  # a class attribute of ours
                    self.edge(self.var(self.module, cls), site, INTO)
        for scope, root, root_node, key in self.foreign_stores:
            if self.imports_only(scope, root, owner_of):
                self.foreign_rebound.add(key)
            else:
                self.store(root_node, scope)

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


def _loaded(qualified: str) -> Any:
    """The module *qualified* names (``a.b``: the module ``a.b``, or attribute ``b`` of
    ``a``), if loaded."""
    module = sys.modules.get(qualified)
    if module is None:
        parent, _, attr = qualified.rpartition(".")
        module = getattr(sys.modules.get(parent), attr, None) if parent else None
    return module
