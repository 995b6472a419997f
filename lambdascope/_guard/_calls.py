"""The write analysis' calls and propagation (:class:`Linker`): names resolved to their
scopes, calls linked to the module's functions, classes and methods (or judged by the tables
when they are not the module's), facts spread along the edges to the fixed point, and the
sinks read into what handler-time code may write.
"""

from __future__ import annotations

import sys

from lambdascope._layout import LIBRARY_DIRS

from ._classes import Classes, Receiver
from ._facts import KW, POS, Analysis, Arg, Call, Captured, Class, Func, GiveUp, Scope
from ._foreign import IMPORT, Foreign
from ._tables import (
    CALLS_ITS_ARGUMENTS,
    CLASS_SCOPE,
    COPY,
    DEEP,
    EXACT,
    FRESH,
    FUNCTION_SCOPE,
    GIVE_UP_QUALIFIED,
    HANDLER,
    HELD,
    HOLD,
    HOLDS,
    INNER,
    INSIDE,
    INTO,
    LOGGING_METHODS,
    MODULE_SCOPE,
    MUTATING_RESULTS,
    READ_ONLY_METHODS,
    SAFE_BASES,
    immutable_value,
    pure_result,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    Source = Union[Func, Captured, Receiver, tuple[str, str], None]

    NodeId = Optional[int]


def _stdlib(module: Any) -> bool:
    """Is *module* the standard library's (a deque's, a Counter's: the analysis knows their
    methods)? Its name on 3.10+, else where its file is."""
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return module.__name__.partition(".")[0] in names
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return True  # built in
    import os

    folder = os.path.dirname(os.__file__)
    return file.startswith(folder + os.sep) and "site-packages" not in file


class Linker(Classes, Foreign):
    """Links names and calls once all scopes are known, spreads the facts to the fixed
    point, and reads the sinks into an :class:`Analysis`."""

    def resolve(self, scope: Scope, name: str) -> Scope | None:
        """The scope that owns *name* as seen from *scope* (None: a builtin)."""
        if scope.kind == MODULE_SCOPE:
            return self.module_owner(name)
        if name in scope.resolved:
            return scope.resolved[name]
        owner: Scope | None
        if name in scope.globals:
            owner = self.module
        elif name in scope.bound and name not in scope.nonlocals:
            owner = scope
        else:
            owner = None
            parent = scope.parent
            while parent is not None and parent.kind != MODULE_SCOPE:
                if parent.kind != CLASS_SCOPE:
                    if name in parent.globals:
                        break
                    if name in parent.bound and name not in parent.nonlocals:
                        owner = parent
                        break
                parent = parent.parent
            if owner is None:
                owner = self.module_owner(name)
        scope.resolved[name] = owner
        return owner

    def module_owner(self, name: str) -> Scope | None:
        if name in self.module.bound or name in self.namespace or name in self.declared_globals:
            return self.module
        import builtins

        return None if hasattr(builtins, name) else self.module

    def link(self) -> tuple[set[str], set[str]]:
        module = self.module
        loaded: set[str] = set()
        rebound: set[str] = set()
        scopes = self.scopes
        for scope in scopes:
            self.declared_globals |= scope.globals
        for scope in scopes:
            if scope is not module:
                self.link_names(scope, loaded, rebound)
        for scope, root, chain, attr in self.checks:
            self.check_attribute(scope, root, chain, attr)
        self.link_foreign(self.resolve)
        if self.exported:  # other modules may use its classes, their methods, instances
            for klass in module.classes.values():
                klass.escaped = True
        for scope in scopes:
            for name in scope.values:
                for func in self.functions_named(scope, name):
                    func.escaped = True
                cls = self.class_named(scope, name)
                if cls is not None:
                    cls.escaped = True  # stored or passed as a value: anyone may use it
        # Calls by name first: constructions tell which variables hold only instances.
        for call in sorted(self.calls, key=lambda c: c.name is None):
            self.link_call(call)
        return loaded, rebound

    def link_names(self, scope: Scope, loaded: set[str], rebound: set[str]) -> None:
        """Join each free name of *scope* to the variable it refers to (both ways)."""
        module = self.module
        for name, node in list(scope.vars.items()):
            owner = self.resolve(scope, name)
            if owner is None or owner is scope:
                continue
            target = self.var(owner, name)
            self.edge(node, target, COPY)
            self.edge(target, node, COPY)
            if owner is module:
                if name in scope.bound:
                    self.rebound_anywhere.add(name)
                if name in scope.loads:
                    loaded.add(name)
                if name in scope.stores:
                    rebound.add(name)
                if name in scope.bound:
                    module.other.add(name)  # assigned through `global`: not just a def
            elif owner.kind != CLASS_SCOPE:
                self.capture(scope, owner, name)

    def capture(self, scope: Scope, owner: Scope, name: str) -> None:
        """*scope* uses *owner*'s local *name*: a closure cell of the functions between."""
        key = (id(owner), name)
        captured = self.captured.get(key)
        if captured is None:
            captured = self.captured[key] = Captured(owner, name)
        current: Scope | None = scope
        while current is not None and current is not owner:
            func = current.func
            if current.kind == FUNCTION_SCOPE and func is not None and func not in captured.funcs:
                captured.funcs.append(func)
            current = current.parent
        if name in scope.stores:  # ``nonlocal name`` and an assignment
            captured.rebound = True

    def check_attribute(self, scope: Scope, root: str, chain: str, attr: str) -> None:
        owner = self.resolve(scope, root)
        base = self.imports.get(root)
        if base is not None:
            qualified = base + chain[len(root) :]
            reason = GIVE_UP_QUALIFIED.get(f"{qualified}.{attr}")
            if reason is not None:
                raise GiveUp(reason)
        if attr == "__dict__":
            value = self.namespace.get(root) if owner is self.module else None
            if base is not None or (chain == root and type(value) is type(sys)):
                raise GiveUp(f"uses {chain}.__dict__ of a module")

    def functions_named(self, scope: Scope, name: str) -> list[Func]:
        owner = self.resolve(scope, name)
        if owner is None or name in owner.other:
            return []
        return owner.defs.get(name, [])

    def class_named(self, scope: Scope, name: str) -> Class | None:
        owner = self.resolve(scope, name)
        if owner is None or name in owner.other:
            return None
        return owner.classes.get(name)

    def link_call(self, call: Call) -> None:
        if call.wraps_handler:  # handler(watch_tmp=False)(func), as when decorated
            self.qualified_call("lambdascope.handler", call)
        elif call.name is not None:
            self.link_name_call(call, call.name)
        elif call.attr is not None:
            self.link_attribute_call(call, call.attr)
        else:
            self.unknown(call, call.callee)

    def link_name_call(self, call: Call, name: str) -> None:
        """``f(...)``: a function or class of the module, a builtin, an import, or unknown."""
        scope = call.scope
        funcs = self.functions_named(scope, name)
        if funcs:
            self.link_funcs(funcs, call, None)
            if any(f.decorated for f in funcs):
                self.unknown(call, None)  # the decorator's wrapper sees the arguments
            return
        cls = self.class_named(scope, name)
        if cls is not None:
            self.construct(cls, call)
            return
        qualified = self.imports.get(name)
        if qualified is None and self.resolve(scope, name) is None:
            qualified = name  # a builtin
        if qualified is not None:
            self.foreign_result(call)
            self.qualified_call(qualified, call)
        else:
            self.unknown(call, call.callee)

    def link_attribute_call(self, call: Call, attr: str) -> None:
        """``recv.attr(...)``: a module's function, a class's method, or a method call."""
        root, chain = call.root, call.chain
        module_root = call.module_root
        if (
            module_root is not None
            and module_root[0] != IMPORT
            and self.bound_as_seen(call.scope, module_root, self.resolve)
        ):
            self.foreign_result(call)  # module.entry(...) over a collection of modules
            self.unknown(call, None)
            return
        if any(self.users_object(f"{m}.{name}") for m, name in call.object_keys):
            # store.SERVICE.get(event, TABLE): a method of the user's object, never judged
            # by its name: it may write what it is given, and its object
            self.unknown(call, call.recv)
            return
        if root is not None and chain is not None:
            base = self.imports.get(root)
            owner = self.resolve(call.scope, root)
            if base is not None and owner is not None and self.imports_code(root, base, owner):
                self.foreign_result(call)
                self.qualified_call(f"{base}{chain[len(root) :]}.{attr}", call)
                return
            cls = self.class_named(call.scope, root) if chain == root else None
            funcs = self.class_methods(cls, attr) if cls is not None else []
            if funcs:
                self.link_funcs(funcs, call, call.recv, unbound=True)
                return
            if chain == root and self.builtin_type(call.scope, root):
                self.unbound_method_call(call, attr)
                return
        self.method_call(call)

    def users_object(self, qualified: str) -> bool:
        """Is *qualified* (``app.store.SERVICE``) an instance of a class of the user's
        project (defined under the same top-level package as this module, or in a module
        outside the installers' folders), not a module, a class or a function?"""
        module, _, attr = qualified.rpartition(".")
        value = self.look_up("attribute", f"{module}:{attr}") if module else None
        if value is None or isinstance(value, type) or type(value) is type(sys):
            return False
        if (callable(value) and hasattr(value, "__code__")) or type(value).__module__ == "builtins":
            return False
        home = sys.modules.get(type(value).__module__)
        if home is None or _stdlib(home):
            return False
        same_package = home.__name__.partition(".")[0] == self.module_name.partition(".")[0]
        file = getattr(home, "__file__", None) or ""
        return same_package or not LIBRARY_DIRS.intersection(file.replace("\\", "/").split("/"))

    def builtin_type(self, scope: Scope, name: str) -> bool:
        """Does *name* refer to a builtin type (``dict``, ``list``, ``object``) here?"""
        import builtins

        return self.resolve(scope, name) is None and isinstance(getattr(builtins, name, None), type)

    def unbound_method_call(self, call: Call, attr: str) -> None:
        """``dict.update(CONFIG, o)``, ``list.append(L, x)``: a method of a builtin type
        called with its receiver as the first argument."""
        if not call.args or call.args[0].kind != POS:
            self.unknown(call, None)
            return
        bound = Call(call.scope, call.args[1:], call.result)
        bound.attr = attr
        bound.recv = call.args[0].node
        self.method_by_name(bound, attr, bound.recv)

    def unbound_mutator(self, call: Call, arg: Arg) -> bool:
        """Is *arg* a method of a builtin type that may write what it is applied to
        (``map(dict.update, ...)``)?"""
        if arg.method is None:
            return False
        root, attr = arg.method
        return attr not in READ_ONLY_METHODS and self.builtin_type(call.scope, root)

    def imports_code(self, name: str, qualified: str, owner: Scope) -> bool:
        """Is the imported *name* a module, class or function (not data that can be written)?"""
        if name in self.module_imports:
            return True
        value = self.namespace.get(name) if owner is self.module else None
        if value is None:  # not imported yet (lazily, in a function)
            value = self.look_up("module", qualified)
        return isinstance(value, type) or callable(value) or type(value) is type(sys)

    def class_methods(self, cls: Class, name: str) -> list[Func]:
        """Methods called *name* in *cls* and its bases of this module (first found wins)."""
        seen: set[str] = set()
        todo = [cls]
        while todo:
            current = todo.pop(0)
            if current.name in seen:
                continue
            seen.add(current.name)
            funcs = current.methods.get(name)
            if funcs:
                return funcs
            for base in current.bases:
                found = self.module.classes.get(base)
                if found is not None:
                    todo.append(found)
        return []

    def qualified_call(self, qualified: str, call: Call) -> None:
        if qualified in ("setattr", "delattr", "builtins.setattr", "builtins.delattr"):
            self.setattr_call(call)
            return
        if qualified in HANDLER:  # handler(func): an entry point, as when decorated
            for arg in call.args:
                for func in self.arg_functions(call, arg):
                    func.handler = True
            return
        result = pure_result(qualified)
        if result is None or (
            qualified in CALLS_ITS_ARGUMENTS
            and any(self.unbound_mutator(call, arg) for arg in call.args)
        ):
            self.unknown(call, None)
            return
        values: list[NodeId] = []
        for arg in call.args:
            if qualified == "print" and arg.key == "file":
                self.escape(arg.node, call.effects)
            funcs = self.arg_functions(call, arg)
            if funcs:
                self.callback(funcs, call, None, escaped=False)
                if qualified == "map":
                    values.extend(f.ret for f in funcs)
            else:
                values.append(arg.node)
                if qualified in CALLS_ITS_ARGUMENTS and arg.node is not None:
                    self.value_calls.append(arg.node)  # maybe a bound method: called
        if result != FRESH:
            self.result_from(call, values, result)

    def setattr_call(self, call: Call) -> None:
        if not call.args:
            return
        first = call.args[0]
        if first.name is not None:
            owner = self.resolve(call.scope, first.name)
            value = self.namespace.get(first.name) if owner is self.module else None
            if first.name in self.imports or type(value) is type(sys):
                raise GiveUp(f"uses setattr()/delattr() on module {first.name}")
        self.store(first.node, call.scope)
        for arg in call.args:
            self.callback(self.arg_functions(call, arg), call, None, escaped=True)
        if len(call.args) > 2 and first.node is not None and call.args[2].node is not None:
            self.edge(call.args[2].node, first.node, HOLD)

    def method_call(self, call: Call) -> None:
        """``recv.name(...)``: the module's own methods when *recv* is one of its instances
        (linked while solving), else by the method's name."""
        name = call.attr
        assert name is not None
        recv = call.recv
        if call.super_of is not None and call.super_of.owner is not None:
            bases = [self.module.classes.get(b) for b in call.super_of.owner.bases]
            funcs = [f for c in bases if c is not None for f in self.class_methods(c, name)]
            if funcs:
                self.link_funcs(funcs, call, recv)
                return
        if name in self.methods and recv is not None:
            self.pending_methods.setdefault(recv, []).append(call)
            owner = call.self_of.owner if call.self_of is not None else None
            if owner is not None and self.class_methods(owner, name):
                return  # self.method(): the module's own code, linked while solving
            classes = self.constructed_only(call)
            if classes and all(self.class_methods(c, name) for c in classes):
                return  # a variable that only ever holds instances of the module's classes
        self.method_by_name(call, name, recv)

    def method_by_name(self, call: Call, name: str, recv: NodeId) -> None:
        """A method call judged by the method's name: logging, read-only, mutating, unknown."""
        if name in LOGGING_METHODS:
            for arg in call.args:
                self.callback(self.arg_functions(call, arg), call, None, escaped=False)
            return
        result = READ_ONLY_METHODS.get(name)
        mutating = False
        if result is None:
            result = MUTATING_RESULTS.get(name)
            mutating = result is not None
        if result is None:
            self.unknown(call, recv)
            return
        if mutating:
            self.store(recv, call.scope)
        values: list[NodeId] = [recv]
        for arg in call.args:
            funcs = self.arg_functions(call, arg)
            if funcs:
                self.callback(funcs, call, recv, escaped=False)
                continue
            if arg.key == "key" and arg.node is not None:  # list.sort(key=...) calls it
                self.value_calls.append(arg.node)
                continue
            if mutating and arg.node is not None and recv is not None:
                self.edge(arg.node, recv, HOLD)  # stored into the receiver
            if name in ("get", "pop", "setdefault") and arg is not call.args[0]:
                values.append(arg.node)  # the default may be returned
        if result != FRESH:
            self.result_from(call, values, result)

    def constructed_only(self, call: Call) -> list[Class]:
        """The classes of the instances a receiver variable holds, when it is only ever
        bound to new instances of the module's classes, or is itself one: ``C(...).m()``
        (else [])."""
        made = self.constructed.get(call.recv) if call.recv is not None else None
        if made is not None:
            return [made]
        name = call.root
        if name is None or call.chain != name:
            return []
        owner = self.resolve(call.scope, name)
        if owner is None or (owner is self.module and name in self.rebound_anywhere):
            return []
        classes: list[Class] = []
        for value in owner.assigned.get(name, ()):
            cls = None if value is None else self.constructed.get(value)
            if cls is None:
                return []
            classes.append(cls)
        return classes

    def class_fact(self, node: int, cls: Class, instance: bool) -> None:
        """While solving: *node* may be an instance of *cls* (or *cls* itself)."""
        for call in self.pending_methods.get(node, ()):
            key = (id(call), id(cls) if instance else -id(cls))
            if key not in self.linked and call.attr is not None:
                self.linked.add(key)
                funcs = self.class_methods(cls, call.attr)
                if funcs:
                    self.link_funcs(funcs, call, node, unbound=not instance)
        if not instance:
            for call in self.pending_calls.get(node, ()):
                key = (id(call), -id(cls))
                if key not in self.linked:
                    self.linked.add(key)
                    self.construct(cls, call)

    def result_from(self, call: Call, values: list[NodeId], kind: int) -> None:
        for value in values:
            if value is not None:
                self.edge(value, call.result, kind)

    def arg_functions(self, call: Call, arg: Arg) -> list[Func]:
        if arg.func is not None:
            return [arg.func]
        if arg.name is not None:
            return self.functions_named(call.scope, arg.name)
        return []

    def callback(self, funcs: list[Func], call: Call, recv: NodeId, *, escaped: bool) -> None:
        """Functions passed as arguments: other arguments may reach their parameters."""
        if not funcs:
            return
        sources = [a.node for a in call.args if a.node is not None]
        if recv is not None:
            sources.append(recv)
        for func in funcs:
            if escaped:
                func.escaped = True
            for param in func.params.values():
                for source in sources:
                    self.edge(source, param, INTO)

    def unknown(self, call: Call, callee: NodeId) -> None:
        """A call of code the analysis does not know: every argument may be written."""
        effects = call.effects
        values: list[NodeId] = []
        if call.attr is not None:  # an unknown method: it may write its receiver
            self.escape(callee, effects)
            values.append(callee)
        elif callee is not None:  # calling a value: a function, a class, a bound method
            self.pending_calls.setdefault(callee, []).append(call)  # maybe a class
            self.value_calls.append(callee)
            if effects:
                self.called.append(callee)
            self.edge(callee, call.result, INNER)
        for arg in call.args:
            funcs = self.arg_functions(call, arg)
            if funcs:
                self.callback(funcs, call, callee, escaped=True)
            if arg.name is not None:
                cls = self.class_named(call.scope, arg.name)
                if cls is not None:
                    cls.escaped = True  # unknown code may make instances and call methods
            self.escape(arg.node, effects)
            values.append(arg.node)
        self.result_from(call, values, INTO)

    def construct(self, cls: Class, call: Call) -> None:
        self.constructions.append((call.result, cls))
        self.constructed[call.result] = cls
        if cls.local:
            self.edge(cls.node, call.result, HOLD)
        self.edge(call.result, cls.instances, COPY)
        if self.solving:
            self.add_fact(call.result, self.class_sources[id(cls)], EXACT)
        inits = self.class_methods(cls, "__init__")
        if inits:
            self.link_funcs(inits, call, call.result, returns=False)
        else:
            for arg in call.args:
                self.callback(self.arg_functions(call, arg), call, None, escaped=True)
                if arg.node is not None:
                    self.edge(arg.node, call.result, HOLD)
        post = self.class_methods(cls, "__post_init__")
        for func in post:
            if func.positional:
                self.edge(call.result, func.params[func.positional[0]], COPY)
        if not inits and any(
            base not in SAFE_BASES and base not in self.module.classes for base in cls.bases
        ):
            self.unknown(call, None)  # a third-party base class's __init__ sees them

    def link_funcs(
        self,
        funcs: list[Func],
        call: Call,
        recv: NodeId,
        *,
        unbound: bool = False,
        returns: bool = True,
    ) -> None:
        """Arguments flow into the parameters of *funcs*, their return into the result
        (not for ``__init__``: the result of ``C(...)`` is the instance, *returns* False)."""
        for arg in call.args:
            self.callback(self.arg_functions(call, arg), call, None, escaped=True)
        for func in funcs:
            index = 0
            if func.receiver and (func.classmethod if unbound else recv is not None):
                if recv is not None:
                    self.edge(recv, func.params[func.positional[0]], COPY)
                index = 1
            for arg in call.args:
                if arg.node is not None:
                    for param, kind in self.parameters_of(func, arg, index):
                        self.edge(arg.node, param, kind)
                index += arg.kind == POS
            if returns:
                self.edge(func.ret, call.result, COPY)

    def parameters_of(self, func: Func, arg: Arg, index: int) -> list[tuple[int, int]]:
        """The parameters (and edge kinds) an argument reaches; *index*: its position."""
        params = func.params
        if arg.kind == POS:
            if index < len(func.positional):
                return [(params[func.positional[index]], COPY)]
            return [] if func.vararg is None else [(params[func.vararg], HOLD)]
        if arg.kind == KW:
            if arg.key in params and arg.key not in (func.vararg, func.kwarg):
                return [(params[arg.key], COPY)]
            return [] if func.kwarg is None else [(params[func.kwarg], HOLD)]
        # *args, **kwargs: any parameter may get any of their items
        return [
            (param, HOLD if pname in (func.vararg, func.kwarg) else INTO)
            for pname, param in params.items()
        ]

    def result(self) -> Analysis:
        """Link, solve, and read the sinks."""
        loaded, rebound = self.link()
        sources, facts = self.solve()
        written: dict[str, bool] = {}
        params: dict[tuple[str, int], set[str]] = {}
        cells: dict[tuple[str, int], dict[str, bool]] = {}
        foreign: dict[tuple[str, str], bool] = {}

        def write(source: int, deep: bool) -> None:
            if source >= len(sources):
                return  # an instance or class of the module (left to the runtime)
            name, owner = sources[source]
            if owner is None:
                written[name] = written.get(name, False) or deep
            elif type(owner) is tuple:  # another module's name
                foreign[owner] = foreign.get(owner, False) or deep
            elif type(owner) is Func:
                params.setdefault((owner.name, owner.keys[1]), set()).add(name)
            elif type(owner) is Receiver:
                return  # a method's self or cls: a class's verdict
            else:
                assert type(owner) is Captured
                deep = deep or owner.rebound
                for func in owner.funcs:
                    found = cells.setdefault((func.name, func.keys[1]), {})
                    found[name] = found.get(name, False) or deep

        for node in self.stores:
            for source, bits in (facts[node] or {}).items():
                if bits & (INSIDE | EXACT):
                    write(source, bool(bits & INSIDE))
        for node in self.escapes:
            for source in facts[node] or {}:
                write(source, True)
        for node in self.called:  # calling a bound method taken from a value writes it
            for source, bits in (facts[node] or {}).items():
                if bits & INSIDE:
                    write(source, True)
        for name in rebound & written.keys():
            written[name] = True  # a new value that is also written: watch it all
        for captured in self.captured.values():
            if captured.rebound:  # a new value in the cell: its identity is watched
                for func in captured.funcs:
                    cells.setdefault((func.name, func.keys[1]), {}).setdefault(captured.name, False)
        loaded.update(written)
        classes, class_reached = self.class_verdicts(sources, facts)
        return Analysis(
            classes=classes,
            class_reached=class_reached,
            private_names=frozenset(
                name for name in self.idents if name[:1] == "_" and name[:2] != "__"
            ),
            returns=self.returns_of(sources, facts),
            written=written,
            loaded=frozenset(loaded),
            rebound=frozenset(rebound),
            written_params={key: frozenset(names) for key, names in params.items()},
            written_cells=cells,
            imported=frozenset(self.imported),
            # a function taken as a value: its callers may write what it returns
            foreign={**foreign, **dict.fromkeys(self.foreign_taken, True)},
            foreign_rebound=frozenset(self.foreign_rebound),
            foreign_loaded=frozenset(self.foreign_nodes),
        )

    def returns_of(
        self, sources: list[tuple[str, Source]], facts: list[dict[int, int] | None]
    ) -> dict[str, dict[str, int]]:
        """Module-level function -> the module-level names its result may be (fact bits).

        An instance of a module-level class counts as holding the class (a write into it
        may be a write into what a class attribute holds)."""
        returns: dict[str, dict[str, int]] = {}
        for name, funcs in self.module.defs.items():
            if name in self.module.other:
                continue  # also bound otherwise: not known to be these functions
            summary = returns[name] = {}
            for func in funcs:
                for source, state in (facts[func.ret] or {}).items():
                    held, bits = self.returned(sources, source, state)
                    if held is not None:
                        summary[held] = summary.get(held, 0) | bits
        return returns

    def returned(
        self, sources: list[tuple[str, Source]], source: int, bits: int
    ) -> tuple[str | None, int]:
        """The module-level name a source of a function's result stands for, and how."""
        if source < len(sources) and sources[source][1] is None:
            return sources[source][0], bits
        cls, instance = self.class_source(sources, source) or (None, False)
        if cls is None or cls.local:
            return None, bits
        return cls.name, (bits & ~EXACT) | HELD if instance and bits & EXACT else bits

    def solve(
        self,
    ) -> tuple[list[tuple[str, Source]], list[dict[int, int] | None]]:
        """Mark the sources and spread their facts to the fixed point.

        Sources: the module's names, parameters with a default, and for every class its
        instances and the class object (these are not reported: they link method calls
        while solving, and a class whose instances reach unknown code escapes: its
        methods may then be called by anyone, on any instance, and return anything).
        """
        sources: list[tuple[str, Source]] = []
        self.facts = [None] * len(self.fwd)
        self.work = []

        def plant(node: int, name: str, owner: Source) -> None:
            self.add_fact(node, len(sources), EXACT)
            sources.append((name, owner))

        namespace = self.namespace
        for name, node in self.module.vars.items():
            if self.module_owner(name) is None:
                continue  # a builtin used at module level
            if name not in self.rebound_anywhere and immutable_value(namespace.get(name)):
                continue  # None, 3, "text", (1, 2): nothing to write, nothing to follow
            plant(node, name, None)
        for func in self.funcs:
            for pname in func.defaulted:
                plant(func.params[pname], pname, func)
        for captured in self.captured.values():
            if captured.funcs:
                plant(self.var(captured.owner, captured.name), captured.name, captured)
        for key, node in self.foreign_nodes.items():
            plant(node, ".".join(key), key)
        self.plant_receivers(sources)
        class_base = len(sources)
        class_of: list[tuple[Class, bool]] = []
        for cls in self.classes:
            self.class_sources[id(cls)] = len(sources)
            sources.append((cls.name, None))
            sources.append((cls.name, None))
            class_of += [(cls, True), (cls, False)]
            self.add_fact(cls.node, len(sources) - 1, EXACT)
        for node, cls in self.constructions:
            self.add_fact(node, self.class_sources[id(cls)], EXACT)
        self.solving = True
        handled: set[int] = set()
        while True:
            self.propagate(class_base, class_of)
            if not self.escape_classes(class_base, class_of, handled):
                break
        self.solving = False
        self.escapes.extend(f.ret for f in self.funcs if f.escaped and not f.handler)
        self.class_of = class_of
        return sources[:class_base], self.facts

    def escape_classes(
        self, class_base: int, class_of: list[tuple[Class, bool]], handled: set[int]
    ) -> bool:
        """Classes whose instances reached unknown code escape: any code may call any of
        their methods on any instance and get what they return. False: none new."""
        for node in self.leaks:
            for source in self.facts[node] or ():
                if source >= class_base:
                    class_of[source - class_base][0].escaped = True
        for node in self.value_calls:  # a bound method of an instance, called by name
            for source, bits in (self.facts[node] or {}).items():
                if source >= class_base and bits & INSIDE:
                    class_of[source - class_base][0].escaped = True
        escaped = [c for c in self.classes if c.escaped and id(c) not in handled]
        for cls in escaped:
            handled.add(id(cls))
            for funcs in cls.methods.values():
                for func in funcs:
                    func.escaped = True
                    if func.receiver:
                        self.edge(cls.instances, func.params[func.positional[0]], COPY)
        return bool(escaped)

    def propagate(  # noqa: PLR0912, PLR0915 - the hot loop, in one piece for speed
        self, class_base: int, class_of: list[tuple[Class, bool]]
    ) -> None:
        """Handle each new (node, source, state) fact once: spread it along the edges."""
        fwd, rev, facts, work = self.fwd, self.rev, self.facts, self.work
        pop, push = work.pop, work.append
        while work:
            node, source, bits = pop()
            if source >= class_base and bits & EXACT:
                cls, instance = class_of[source - class_base]
                self.class_fact(node, cls, instance)
            for packed in fwd[node]:
                kind = packed & 3
                if kind == COPY:
                    out = bits
                elif kind == INTO:
                    out = INSIDE
                elif kind == HOLD:
                    out = HELD
                elif bits & ~EXACT:
                    out = INSIDE
                else:
                    continue
                dst = packed >> 2
                known = facts[dst]
                if known is None:
                    facts[dst] = {source: out}
                    push((dst, source, out))
                    continue
                old = known.get(source, 0)
                new = out & ~old
                if new:
                    known[source] = old | new
                    push((dst, source, new))
            if bits & HOLDS:  # what an alias holds, the object it came from holds
                for packed in rev[node]:
                    kind = packed & 3
                    if kind == COPY:
                        out = bits & HOLDS
                    elif kind != HOLD:
                        out = DEEP
                    else:
                        out = bits & DEEP
                        if not out:
                            continue
                    dst = packed >> 2
                    known = facts[dst]
                    if known is None:
                        facts[dst] = {source: out}
                        push((dst, source, out))
                        continue
                    old = known.get(source, 0)
                    new = out & ~old
                    if new:
                        known[source] = old | new
                        push((dst, source, new))
