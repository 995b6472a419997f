"""The write analysis' pass over a module's syntax tree (:class:`Visitor`): every
statement and expression becomes nodes and edges of the alias graph, stores and escapes
become sinks, calls are recorded to be linked once all scopes are known.
"""

from __future__ import annotations

import ast

from ._classes import Classes
from ._facts import DSTAR, KW, POS, STAR, Arg, Call, Class, Func, GiveUp, Scope
from ._foreign import Foreign
from ._syntax import attribute_chain, immutable_literal, is_main_test, number_literal, vars_of_chain
from ._tables import (
    CHECKED_ATTRS,
    CLASS_SCOPE,
    COMPREHENSION_SCOPE,
    COPY,
    EXPLICIT,
    FACTORY,
    FUNCTION_SCOPE,
    GIVE_UP_ATTRS,
    GIVE_UP_NAMES,
    HANDLER,
    HOLD,
    INTO,
    MODULE_SCOPE,
    MUTATING_RESULTS,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    NodeId = Optional[int]


def _method_of(scope: Scope) -> Func | None:
    """The method (with a receiver, ``self`` or ``cls``) enclosing *scope*, if any."""
    current: Scope | None = scope
    while current is not None:
        func = current.func
        if current.kind == FUNCTION_SCOPE and func is not None and func.receiver:
            return func
        current = current.parent
    return None


# Attributes and methods that reach classes from an instance or another class.
CLASS_OF = frozenset(("__class__", "__mro__", "__bases__", "__base__", "__subclasses__", "mro"))


class Visitor(Classes, Foreign):
    """The single pass over the module's syntax tree: scopes, nodes and edges, sinks,
    call sites to link later."""

    def __init__(self, module_name: str, namespace: dict[str, Any], tree: ast.Module) -> None:
        super().__init__(module_name, namespace, tree)
        self.expr_handlers: dict[type, Callable[[Any, Scope], NodeId]] = {
            ast.Name: self.e_name,
            ast.Constant: self.e_constant,
            ast.Attribute: self.e_attribute,
            ast.Subscript: self.e_subscript,
            ast.Call: self.e_call,
            ast.BoolOp: self.e_join_copy,
            ast.IfExp: self.e_ifexp,
            ast.BinOp: self.e_binop,
            ast.UnaryOp: self.e_unary,
            ast.Compare: self.e_compare,
            ast.List: self.e_sequence,
            ast.Tuple: self.e_sequence,
            ast.Set: self.e_sequence,
            ast.Dict: self.e_dict,
            ast.ListComp: self.e_comprehension,
            ast.SetComp: self.e_comprehension,
            ast.GeneratorExp: self.e_comprehension,
            ast.DictComp: self.e_comprehension,
            ast.Lambda: self.e_lambda,
            ast.NamedExpr: self.e_namedexpr,
            ast.Await: self.e_await,
            ast.Yield: self.e_yield,
            ast.YieldFrom: self.e_yield,
            ast.Starred: self.e_await,
            ast.JoinedStr: self.e_joinedstr,
            ast.FormattedValue: self.e_formatted,
            ast.Slice: self.e_slice,
        }
        self.stmt_handlers: dict[type, Callable[[Any, Scope], None]] = {
            ast.FunctionDef: self.s_function,
            ast.AsyncFunctionDef: self.s_function,
            ast.ClassDef: self.s_class,
            ast.Return: self.s_return,
            ast.Delete: self.s_delete,
            ast.Assign: self.s_assign,
            ast.AugAssign: self.s_augassign,
            ast.AnnAssign: self.s_annassign,
            ast.For: self.s_for,
            ast.AsyncFor: self.s_for,
            ast.While: self.s_while,
            ast.If: self.s_if,
            ast.With: self.s_with,
            ast.AsyncWith: self.s_with,
            ast.Raise: self.s_raise,
            ast.Try: self.s_try,
            ast.Assert: self.s_assert,
            ast.Import: self.s_import,
            ast.ImportFrom: self.s_importfrom,
            ast.Global: self.s_global,
            ast.Nonlocal: self.s_nonlocal,
            ast.Expr: self.s_expr,
            ast.Pass: self.s_nothing,
            ast.Break: self.s_nothing,
            ast.Continue: self.s_nothing,
        }
        for name, handler in (
            ("TryStar", self.s_try),
            ("Match", self.s_match),
            ("TypeAlias", self.s_typealias),
        ):
            node_type = getattr(ast, name, None)
            if node_type is not None:
                self.stmt_handlers[node_type] = handler

    def build(self) -> None:
        self._prescan(self.tree.body)
        for stmt in self.tree.body:
            if type(stmt) is ast.If and self.module_name != "__main__" and is_main_test(stmt.test):
                continue
            self.stmt(stmt, self.module)

    def _prescan(self, body: list[ast.stmt]) -> None:
        """Module-level imports and class attributes, needed before the pass reaches them."""
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.s_import_names(stmt, None)
            elif isinstance(stmt, ast.ClassDef):
                for item in stmt.body:
                    targets: list[ast.expr] = []
                    if type(item) is ast.Assign:
                        targets = item.targets
                    elif type(item) is ast.AnnAssign and item.value is not None:
                        targets = [item.target]
                    elif type(item) is ast.ClassDef:
                        self.class_attrs.setdefault(item.name, []).append(stmt.name)
                    for target in targets:
                        if type(target) is ast.Name and self.mutable_class_attribute(
                            stmt.name, target.id
                        ):
                            self.class_attrs.setdefault(target.id, []).append(stmt.name)
            elif isinstance(stmt, (ast.If, ast.Try)):
                self._prescan(stmt.body)
                self._prescan(stmt.orelse)
                for handler in getattr(stmt, "handlers", ()):
                    self._prescan(handler.body)

    def stmts(self, body: list[ast.stmt], scope: Scope) -> None:
        handlers = self.stmt_handlers
        for stmt in body:
            handler = handlers.get(type(stmt))
            if handler is None:
                raise GiveUp(f"unsupported statement {type(stmt).__name__}")
            handler(stmt, scope)

    def stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        handler = self.stmt_handlers.get(type(stmt))
        if handler is None:
            raise GiveUp(f"unsupported statement {type(stmt).__name__}")
        handler(stmt, scope)

    def expr(self, node: ast.expr, scope: Scope) -> NodeId:
        handler = self.expr_handlers.get(type(node))
        if handler is None:
            raise GiveUp(f"unsupported expression {type(node).__name__}")
        return handler(node, scope)

    def s_nothing(self, node: ast.stmt, scope: Scope) -> None:
        return

    def s_expr(self, node: ast.Expr, scope: Scope) -> None:
        self.expr(node.value, scope)

    def s_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        self.function(node, scope, node.name, node.args, node.decorator_list)

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scope: Scope,
        name: str,
        args: ast.arguments,
        decorators: list[ast.expr],
    ) -> Func:
        lines = [node.lineno] + [d.lineno for d in decorators]
        func = Func(name, (node.lineno, min(lines)), self.new())
        in_class = scope.kind == CLASS_SCOPE
        static = self.decorate(func, decorators, scope)
        # A decorator gets the function: its callers are unknown. Methods escape with
        # their class (see solve).
        func.escaped = func.decorated
        self.funcs.append(func)
        if type(node) is ast.Lambda:
            self.lambda_lines.setdefault(node.lineno, []).append(func)
        else:
            for line in set(func.keys):
                self.def_keys.setdefault((name, line), []).append(func)
            scope.defs.setdefault(name, []).append(func)
            scope.bound.add(name)
            self.var(scope, name)
            if scope.effects:
                scope.stores.add(name)  # rebinds a module name when declared global
            if in_class:
                self.methods.setdefault(name, []).append(func)
        inner = self.parameters(func, args, scope, getattr(node, "returns", None))
        func.receiver = in_class and not static and bool(func.positional)
        saved = self.idents
        self.idents = func.idents
        try:
            if isinstance(node, ast.Lambda):
                value = self.expr(node.body, inner)
                if value is not None:
                    self.edge(value, func.ret, COPY)
            else:
                self.stmts(node.body, inner)
        finally:
            self.idents = saved
        return func

    def decorate(self, func: Func, decorators: list[ast.expr], scope: Scope) -> bool:
        """Record what the decorators make of *func*; True for a staticmethod."""
        static = False
        for decorator in decorators:
            self.expr(decorator, scope)
            role = self.decorator_role(decorator)
            if role == "handler":
                func.handler = True
            elif role == "factory":
                func.factory = True
            elif role == "staticmethod":
                static = True
            elif role == "classmethod":
                func.classmethod = True
            else:
                func.decorated = True
        return static

    def add_idents(self, nodes: list[ast.expr | None]) -> None:
        """Record the names used by expressions that are not otherwise analysed."""
        idents = self.idents
        for root in nodes:
            if root is None:
                continue
            for node in ast.walk(root):
                if isinstance(node, ast.Name):
                    idents.add(node.id)
                elif isinstance(node, ast.Attribute):
                    idents.add(node.attr)

    def parameters(
        self, func: Func, args: ast.arguments, scope: Scope, returns: ast.expr | None
    ) -> Scope:
        """The function's scope, with its parameters and the edges from their defaults."""
        # Defaults are evaluated where the def runs, before the body's scope exists.
        positional = args.posonlyargs + args.args
        if scope.func is not None:  # so are annotations: the names their code uses
            annotated = [*positional, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations = [a.annotation for a in annotated if a is not None]
            self.add_idents([*annotations, returns])
        defaults = [self.expr(d, scope) for d in args.defaults]
        kw_defaults = [None if d is None else self.expr(d, scope) for d in args.kw_defaults]
        inner = self.scope(FUNCTION_SCOPE, scope, func, effects=not func.factory)
        func.scope = inner
        func.positional = [a.arg for a in positional]
        func.kwonly = [a.arg for a in args.kwonlyargs]
        func.vararg = args.vararg.arg if args.vararg is not None else None
        func.kwarg = args.kwarg.arg if args.kwarg is not None else None
        for pname in [*func.positional, *func.kwonly, func.vararg, func.kwarg]:
            if pname is not None:
                inner.bound.add(pname)
                func.params[pname] = self.var(inner, pname)
        first_default = len(positional) - len(args.defaults)
        pairs = [
            (func.positional[first_default + i], default, node)
            for i, (default, node) in enumerate(zip(args.defaults, defaults))
        ]
        pairs += [
            (pname, default, node)
            for pname, default, node in zip(func.kwonly, args.kw_defaults, kw_defaults)
            if default is not None
        ]
        for pname, default, node in pairs:
            if not immutable_literal(default):  # None, 0, "x", (1, 2): nothing to write
                func.defaulted.append(pname)
            if node is not None:
                self.edge(node, func.params[pname], COPY)
        return inner

    def decorator_role(self, decorator: ast.expr) -> str | None:
        if type(decorator) is ast.Call:
            decorator = decorator.func
        if type(decorator) is ast.Name and decorator.id in ("staticmethod", "classmethod"):
            return decorator.id
        qualified = self.qualify_expr(decorator)
        if qualified in HANDLER:
            return "handler"
        if qualified in FACTORY:
            return "factory"
        return None

    def qualify_expr(self, node: ast.expr) -> str | None:
        """``a.b.c`` resolved through the module's imports, or None."""
        parts: list[str] = []
        while type(node) is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        if type(node) is not ast.Name:
            return None
        base = self.imports.get(node.id)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

    def s_class(self, node: ast.ClassDef, scope: Scope) -> None:
        bases: list[str] = []
        for base in node.bases:
            if type(base) is ast.Name:  # naming a base class does not let it escape
                self.e_name(base, scope, as_value=False)
                bases.append(base.id)
            else:
                self.expr(base, scope)
                bases.append(base.attr if type(base) is ast.Attribute else "?")
        for keyword in node.keywords:
            self.expr(keyword.value, scope)
        lines = [node.lineno] + [d.lineno for d in node.decorator_list]
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        for line in lines:
            self.class_keys.add((node.name, line))
        cls = Class(node.name, bases, self.var(scope, node.name), self.new())
        self.class_decorated(cls, node.decorator_list)
        self.classes.append(cls)
        scope.classes[node.name] = cls
        scope.bound.add(node.name)
        if scope.effects:
            scope.stores.add(node.name)
        body = self.scope(CLASS_SCOPE, scope, scope.func, scope.effects)
        self.stmts(node.body, body)
        if scope is not self.module:
            # Not seen by the prescan: instances reach the class's attributes through the
            # class object, which holds them.
            cls.local = True
            for attr_node in body.vars.values():
                self.edge(attr_node, cls.node, HOLD)
        for name, funcs in body.defs.items():
            cls.methods[name] = funcs
            for func in funcs:
                func.owner = cls
                # Python calls dunders and properties implicitly, on any instance.
                implicit = func.decorated or (name.startswith("__") and name not in EXPLICIT)
                if implicit and func.receiver:
                    self.edge(cls.instances, func.params[func.positional[0]], COPY)

    def s_return(self, node: ast.Return, scope: Scope) -> None:
        if node.value is not None:
            value = self.expr(node.value, scope)
            func = scope.func
            if value is not None and func is not None:
                self.edge(value, func.ret, COPY)

    def s_delete(self, node: ast.Delete, scope: Scope) -> None:
        for target in node.targets:
            self.assign(target, None, scope)

    def s_assign(self, node: ast.Assign, scope: Scope) -> None:
        value = self.expr(node.value, scope)
        for target in node.targets:
            self.assign(target, value, scope)

    def s_annassign(self, node: ast.AnnAssign, scope: Scope) -> None:
        self.add_idents([node.annotation])
        if node.value is not None:
            self.assign(node.target, self.expr(node.value, scope), scope)
        elif type(node.target) is ast.Name:
            scope.bound.add(node.target.id)
            scope.other.add(node.target.id)

    def s_augassign(self, node: ast.AugAssign, scope: Scope) -> None:
        value = self.expr(node.value, scope)
        # An in-place operator may mutate the current value (list += ..., BUF += b"...",
        # ITEMS *= 0), unless it adds a number literal: no builtin container accepts that
        # in place (the module's own classes are left to the runtime, which watches them).
        inplace = not (type(node.op) is not ast.Mult and number_literal(node.value, self.namespace))
        target = node.target
        if type(target) is ast.Name:
            current = self.e_name(target, scope, as_value=False)
            if inplace:
                self.store(current, scope)
            self.assign(target, self.join([current, value], HOLD), scope)
        elif type(target) is ast.Subscript:
            base = self.expr(target.value, scope)
            self.expr(target.slice, scope)
            self.store(base, scope)
            if inplace:
                self.store(self.derive(base, INTO), scope)
            if value is not None and base is not None:
                self.edge(value, base, HOLD)
        elif type(target) is ast.Attribute:
            if self.foreign_store(target, scope):  # config.COUNT += 1: the other module's
                if inplace:
                    self.store(self.foreign_load(target, scope), scope)
                return
            base = self.e_attribute_base(target, scope)
            self.store(base, scope)
            if inplace:
                self.store(self.derive(base, INTO), scope)
            if value is not None and base is not None:
                self.edge(value, base, HOLD)
        else:
            raise GiveUp(f"unsupported augmented target {type(target).__name__}")

    def s_for(self, node: ast.For | ast.AsyncFor, scope: Scope) -> None:
        iterable = self.expr(node.iter, scope)
        self.note_loop(node.target, node.iter, scope)
        self.assign(node.target, self.derive(iterable, INTO), scope)
        self.stmts(node.body, scope)
        self.stmts(node.orelse, scope)

    def s_while(self, node: ast.While, scope: Scope) -> None:
        self.expr(node.test, scope)
        self.stmts(node.body, scope)
        self.stmts(node.orelse, scope)

    def s_if(self, node: ast.If, scope: Scope) -> None:
        while True:  # an elif chain is a loop here, not a recursion as deep as the chain
            self.expr(node.test, scope)
            self.stmts(node.body, scope)
            orelse = node.orelse
            if len(orelse) != 1 or type(orelse[0]) is not ast.If:
                break
            node = orelse[0]
        self.stmts(orelse, scope)

    def s_with(self, node: ast.With | ast.AsyncWith, scope: Scope) -> None:
        for item in node.items:
            value = self.expr(item.context_expr, scope)
            # __enter__/__exit__ are unknown code run on the value.
            self.escape(value, scope.effects)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, self.derive(value, INTO), scope)
        self.stmts(node.body, scope)

    def s_raise(self, node: ast.Raise, scope: Scope) -> None:
        # What is raised reaches whoever catches it, in this module or another
        # (``except ValueError as e: e.args[0].append(x)``): unknown code, at handler time.
        for raised in (node.exc, node.cause):
            if raised is not None:
                self.escape(self.expr(raised, scope), scope.effects)

    def s_try(self, node: ast.Try, scope: Scope) -> None:
        self.stmts(node.body, scope)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, scope)
            if handler.name is not None:
                self.bind(handler.name, None, scope)
            self.stmts(handler.body, scope)
        self.stmts(node.orelse, scope)
        self.stmts(node.finalbody, scope)

    def s_assert(self, node: ast.Assert, scope: Scope) -> None:
        self.expr(node.test, scope)
        if node.msg is not None:
            self.expr(node.msg, scope)

    def s_global(self, node: ast.Global, scope: Scope) -> None:
        scope.globals.update(node.names)
        self.idents.update(node.names)

    def s_nonlocal(self, node: ast.Nonlocal, scope: Scope) -> None:
        scope.nonlocals.update(node.names)

    def s_match(self, node: Any, scope: Scope) -> None:
        subject = self.expr(node.subject, scope)
        for case in node.cases:
            self.pattern(case.pattern, subject, scope)
            if case.guard is not None:
                self.expr(case.guard, scope)
            self.stmts(case.body, scope)

    def pattern(self, pattern: Any, subject: NodeId, scope: Scope) -> None:
        """Bind the captures of a ``case`` pattern: each is inside the subject."""
        kind = type(pattern).__name__
        inside = subject if kind in ("MatchAs", "MatchOr") else self.derive(subject, INTO)
        expressions = [*getattr(pattern, "keys", ())]
        if kind == "MatchValue":
            expressions.append(pattern.value)
        elif kind == "MatchClass":
            expressions.append(pattern.cls)
        for expression in expressions:
            self.expr(expression, scope)
        nested = [*getattr(pattern, "patterns", ()), *getattr(pattern, "kwd_patterns", ())]
        if getattr(pattern, "pattern", None) is not None:
            nested.append(pattern.pattern)
        for item in nested:
            self.pattern(item, inside, scope)
        name = getattr(pattern, "name", None)  # MatchAs, MatchStar
        if name is not None:
            self.bind(name, self.derive(subject, HOLD if kind == "MatchStar" else INTO), scope)
        rest = getattr(pattern, "rest", None)  # MatchMapping
        if rest is not None:
            self.bind(rest, self.derive(subject, HOLD), scope)

    def s_typealias(self, node: Any, scope: Scope) -> None:
        # ``type X = ...``: the value is evaluated lazily (its own code object), by typing.
        self.class_keys.add((node.name.id, node.lineno))
        self.assign(node.name, None, scope)

    def bind(self, name: str, value: NodeId, scope: Scope) -> None:
        """Bind a local name (or a declared global) to *value*."""
        scope.bound.add(name)
        scope.other.add(name)
        self.idents.add(name)
        if scope.effects:
            scope.stores.add(name)
        node = self.var(scope, name)
        scope.assigned.setdefault(name, []).append(value)
        if value is not None:
            self.edge(value, node, COPY)

    def assign(self, target: ast.expr, value: NodeId, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if type(element) is ast.Starred:
                    self.assign(element.value, self.derive(value, HOLD), scope)
                else:
                    self.assign(element, self.derive(value, INTO), scope)
        elif isinstance(target, ast.Subscript):
            base = self.expr(target.value, scope)
            self.expr(target.slice, scope)
            self.store(base, scope)
            if value is not None and base is not None:
                self.edge(value, base, HOLD)
        elif isinstance(target, ast.Attribute):
            if self.foreign_store(target, scope):  # config.X = v: the other module's name
                return
            base = self.e_attribute_base(target, scope)
            self.store(base, scope)
            if value is not None and base is not None:
                self.edge(value, base, HOLD)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, scope)
        else:
            raise GiveUp(f"unsupported assignment target {type(target).__name__}")

    def e_constant(self, node: ast.Constant, scope: Scope) -> NodeId:
        return None

    def e_name(self, node: ast.Name, scope: Scope, as_value: bool = True) -> NodeId:
        name = node.id
        self.idents.add(name)
        reason = GIVE_UP_NAMES.get(name)
        if reason is not None or (name == "locals" and scope.kind == MODULE_SCOPE):
            raise GiveUp(reason or "uses locals() at module level")
        if scope.effects:
            scope.loads.add(name)
        if as_value:
            scope.values.add(name)
        return self.var(scope, name)

    def e_attribute_base(self, node: ast.Attribute, scope: Scope) -> NodeId:
        """Evaluate ``node.value`` (the object whose attribute is used) with the checks."""
        attr = node.attr
        self.idents.add(attr)
        reason = GIVE_UP_ATTRS.get(attr)
        if reason is not None:
            raise GiveUp(reason)
        value = node.value
        if type(value) is ast.Name:
            if attr in CHECKED_ATTRS:
                self.checks.append((scope, value.id, value.id, attr))
            return self.e_name(value, scope, as_value=False)
        if attr in CHECKED_ATTRS:
            root, chain = attribute_chain(value)
            if root is not None and chain is not None:
                self.checks.append((scope, root, chain, attr))
        return self.expr(value, scope)

    def e_attribute(self, node: ast.Attribute, scope: Scope) -> NodeId:
        if node.attr not in CHECKED_ATTRS and node.attr not in GIVE_UP_ATTRS:
            site = self.foreign_load(node, scope)  # store.ITEMS: another module's name
            if site is not None:
                return site
        base = self.e_attribute_base(node, scope)
        if node.attr in MUTATING_RESULTS:
            # A bound mutating method taken as a value (``map(SEEN.add, ids)``,
            # ``key=X.setdefault``): whoever calls it writes the receiver.
            self.store(base, scope)
        owners = self.class_attrs.get(node.attr)
        if owners is None:
            found = self.derive(base, INTO)
            if node.attr in CLASS_OF and found is not None:  # a class, from an instance or class
                self.typeof.append(found)
            return found
        # A class attribute of a module-level class, read through any instance.
        nodes = [base, *(self.var(self.module, owner) for owner in owners)]
        return self.join(nodes, INTO)

    def e_subscript(self, node: ast.Subscript, scope: Scope) -> NodeId:
        base = self.expr(node.value, scope)
        index = node.slice
        self.expr(index, scope)
        if type(index) is ast.Slice:
            return self.derive(base, HOLD)  # a slice of a builtin sequence is a copy
        return self.derive(base, INTO)

    def e_slice(self, node: ast.Slice, scope: Scope) -> NodeId:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.expr(part, scope)
        return None

    def e_join_copy(self, node: ast.BoolOp, scope: Scope) -> NodeId:
        return self.join([self.expr(v, scope) for v in node.values], COPY)

    def e_ifexp(self, node: ast.IfExp, scope: Scope) -> NodeId:
        self.expr(node.test, scope)
        return self.join([self.expr(node.body, scope), self.expr(node.orelse, scope)], COPY)

    def e_binop(self, node: ast.BinOp, scope: Scope) -> NodeId:
        return self.join([self.expr(node.left, scope), self.expr(node.right, scope)], HOLD)

    def e_unary(self, node: ast.UnaryOp, scope: Scope) -> NodeId:
        self.expr(node.operand, scope)
        return None

    def e_compare(self, node: ast.Compare, scope: Scope) -> NodeId:
        self.expr(node.left, scope)
        for comparator in node.comparators:
            self.expr(comparator, scope)
        return None

    def e_sequence(self, node: ast.List | ast.Tuple | ast.Set, scope: Scope) -> NodeId:
        return self.join([self.expr(e, scope) for e in node.elts], HOLD)

    def e_dict(self, node: ast.Dict, scope: Scope) -> NodeId:
        nodes = [self.expr(v, scope) for v in node.values]
        nodes.extend(self.expr(k, scope) for k in node.keys if k is not None)
        return self.join(nodes, HOLD)

    def e_joinedstr(self, node: ast.JoinedStr, scope: Scope) -> NodeId:
        for value in node.values:
            self.expr(value, scope)
        return None

    def e_formatted(self, node: ast.FormattedValue, scope: Scope) -> NodeId:
        self.expr(node.value, scope)
        if node.format_spec is not None:
            self.expr(node.format_spec, scope)
        return None

    def e_await(self, node: ast.Await | ast.Starred, scope: Scope) -> NodeId:
        return self.expr(node.value, scope)

    def e_yield(self, node: ast.Yield | ast.YieldFrom, scope: Scope) -> NodeId:
        if node.value is not None:
            value = self.expr(node.value, scope)
            func = scope.func
            if value is not None and func is not None:
                self.edge(value, func.ret, HOLD)
        return None

    def e_namedexpr(self, node: ast.NamedExpr, scope: Scope) -> NodeId:
        value = self.expr(node.value, scope)
        target = scope
        while target.kind == COMPREHENSION_SCOPE and target.parent is not None:
            target = target.parent
        self.bind(node.target.id, value, target)
        return value

    def e_lambda(self, node: ast.Lambda, scope: Scope) -> NodeId:
        func = self.function(node, scope, "<lambda>", node.args, [])
        func.escaped = True
        return None

    def e_comprehension(self, node: Any, scope: Scope) -> NodeId:
        generators = node.generators
        first = self.expr(generators[0].iter, scope)
        inner = self.scope(COMPREHENSION_SCOPE, scope, scope.func, scope.effects)
        for i, generator in enumerate(generators):
            iterable = first if i == 0 else self.expr(generator.iter, inner)
            self.note_loop(generator.target, generator.iter, inner)
            self.comp_target(generator.target, self.derive(iterable, INTO), inner)
            for condition in generator.ifs:
                self.expr(condition, inner)
        if type(node) is ast.DictComp:
            parts = [self.expr(node.key, inner), self.expr(node.value, inner)]
        else:
            parts = [self.expr(node.elt, inner)]
        return self.join(parts, HOLD)

    def comp_target(self, target: ast.expr, value: NodeId, scope: Scope) -> None:
        # Comprehension targets are locals of the comprehension (not stores of the function).
        if type(target) is ast.Name:
            scope.bound.add(target.id)
            scope.other.add(target.id)
            self.idents.add(target.id)
            if value is not None:
                self.edge(value, self.var(scope, target.id), COPY)
        elif type(target) is ast.Tuple or type(target) is ast.List:
            for element in target.elts:
                if type(element) is ast.Starred:
                    self.comp_target(element.value, self.derive(value, HOLD), scope)
                else:
                    self.comp_target(element, self.derive(value, INTO), scope)
        else:
            self.assign(target, value, scope)

    def e_call(self, node: ast.Call, scope: Scope) -> NodeId:
        func = node.func
        if type(func) is ast.Name and func.id == "super" and not node.args:
            self.e_name(func, scope, as_value=False)
            method = _method_of(scope)
            return None if method is None else self.var(scope, method.positional[0])
        if vars_of_chain(node) and "vars" not in self.namespace:
            return self.e_vars(node.args[0], scope)
        call = Call(scope, self.call_args(node, scope), self.new())
        self.note_callee(call, func, scope)
        if isinstance(func, ast.Name):
            call.name = func.id
            call.callee = self.e_name(func, scope, as_value=False)
            if func.id == "type" and len(node.args) == 1:
                self.typeof.append(call.result)
        elif isinstance(func, ast.Attribute):
            call.attr = func.attr
            value = func.value
            method = _method_of(scope)
            if (
                type(value) is ast.Call
                and type(value.func) is ast.Name
                and value.func.id == "super"
            ):
                call.super_of = method
            call.recv = self.e_attribute_base(func, scope)
            root, chain = attribute_chain(value)
            if type(value) is ast.Attribute:
                found = self.foreign_keys(value, scope)
                if found is not None and all(key[1] for key in found[1]):
                    root = chain = None  # store.ITEMS.append(): a method of the value
            call.root, call.chain = root, chain
            if method is not None and type(value) is ast.Name and method.positional[0] == value.id:
                call.self_of = method
        else:
            call.callee = self.expr(func, scope)
            call.wraps_handler = type(func) is ast.Call and self.decorator_role(func) == "handler"
        self.calls.append(call)
        if call.attr in CLASS_OF:  # cls.__subclasses__(), cls.mro()
            self.typeof.append(call.result)
        return call.result

    def call_args(self, node: ast.Call, scope: Scope) -> list[Arg]:
        args: list[Arg] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.append(Arg(STAR, None, self.expr(arg.value, scope)))
            else:
                args.append(self.call_arg(arg, POS, None, scope))
        for keyword in node.keywords:
            if keyword.arg is None:
                args.append(Arg(DSTAR, None, self.expr(keyword.value, scope)))
            else:
                args.append(self.call_arg(keyword.value, KW, keyword.arg, scope))
        return args

    def e_vars(self, arg: ast.expr, scope: Scope) -> NodeId:
        """``vars(obj)`` of a name or attribute chain: the object's own ``__dict__``, like
        ``obj.__dict__`` (a module's gives up, at link time). Other uses of ``vars`` (no
        argument, the result of a call) give up in :meth:`e_name`."""
        root, chain = attribute_chain(arg)
        assert root is not None
        assert chain is not None
        self.idents.add("vars")
        value = self.expr(arg, scope)
        self.checks.append((scope, root, chain, "__dict__"))
        return self.derive(value, INTO)

    def call_arg(self, arg: ast.expr, kind: int, key: str | None, scope: Scope) -> Arg:
        if type(arg) is ast.Lambda:
            item = Arg(kind, key, None)
            item.func = self.function(arg, scope, "<lambda>", arg.args, [])
            return item
        if type(arg) is ast.Name:
            item = Arg(kind, key, self.e_name(arg, scope, as_value=False))
            item.name = arg.id
            return item
        item = Arg(kind, key, self.expr(arg, scope))
        if type(arg) is ast.Attribute and type(arg.value) is ast.Name:
            item.method = (arg.value.id, arg.attr)
        return item
