"""Following handler code: from each handler, every function it reaches, and the rules run on
each.

:func:`check` walks breadth first from every handler through the calls it makes and the
functions it passes on (``map(helper, items)``), across the project's modules; methods are
resolved through the project classes of their receivers (``self``, ``Service()``, a
module-level or imported instance, an annotated parameter), including the special methods a
``with`` statement or a call of an instance runs. Framework callbacks start there too: the
functions a handler's decorators are given (a batch processor's record handler, a route's
middlewares) and Powertools middleware factories used on a handler. Event data follows the
arguments; a lazy initialisation's callees run once; ``self`` keeps the module-level object it
belongs to, so its writes are module state.

Each file's handlers are analysed under a time bound; a file whose analysis fails or runs out
of time is an ``LS000`` finding and the others go on.
"""

from __future__ import annotations

import ast
from collections import deque

from . import _catalogue as cat
from . import _clients, _environ, _passed, _state, _tempfiles
from ._facts import Findings, Frame, Visit, prepare
from ._model import ClassRef
from ._rules import Finding, order
from ._syntax import Budget, BudgetExceeded, body, dotted, params, scope, walk_shallow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ._model import Function, Module, Project

__all__ = ["check"]

_MAX_FUNCTIONS = 500  # per handler: enough for any real call graph, a bound for generated ones
# (function, parameters given event data, chain of callers, runs once, holder of `self`)
_Queued = tuple["Function", frozenset[str], tuple[str, ...], bool, "tuple[Module, str] | None"]
_Callee = tuple["Function", "tuple[Module, str] | None"]


def check(project: Project, handlers: dict[str, list[Function]], seconds: float) -> list[Finding]:
    """Analyse every handler of every module (``{path: handlers}``), each file's handlers
    within *seconds*; a file that cannot be analysed is an ``LS000`` finding."""
    checker = _Checker(project)
    for path in sorted(handlers):
        with Budget(seconds):
            for function in handlers[path]:
                if not checker.run_safely(function, path, seconds):
                    break  # out of time: the file's other handlers are not started
    return sorted(checker.findings.result(), key=order)


def _bind_args(
    callee: Function, call: ast.Call, tainted: Callable[[ast.AST], bool]
) -> frozenset[str]:
    """The parameters of *callee* that *call* passes event data to."""
    names = [a.arg for a in [*callee.node.args.posonlyargs, *callee.node.args.args]]
    if callee.class_name and names and names[0] in ("self", "cls"):
        names = names[1:]
    found: set[str] = set()
    for i, arg in enumerate(call.args):
        if tainted(arg):
            if isinstance(arg, ast.Starred) or i >= len(names):
                return _all_params(callee)
            found.add(names[i])
    for keyword in call.keywords:
        if tainted(keyword.value):
            if keyword.arg is None:
                return _all_params(callee)
            found.add(keyword.arg)
    return frozenset(found)


def _all_params(function: Function) -> frozenset[str]:
    return frozenset(a.arg for a in params(function.node)) - {"self", "cls"}


class _Checker:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.findings = Findings()
        self.current: str | None = None  # the file being visited (where a failure is reported)
        self.cleared: set[int] = set()  # memoised functions whose cache the handler clears

    def unfinished(self, path: str, message: str) -> None:
        self.findings.add((path, 1, 0, "LS000"), Finding(path, 1, 1, "LS000", message))

    def run_safely(self, root: Function, path: str, seconds: float) -> bool:
        """:meth:`run`; a failure is an ``LS000`` finding for the file it happened in. False
        when the file's time bound ran out."""
        self.current = None
        try:
            self.run(root)
        except BudgetExceeded:
            self.unfinished(
                path,
                f"analysis stopped after {seconds:g} s (the time bound per file); its handlers' "
                "findings may be incomplete. Split the module, or raise the bound with "
                "--file-timeout",
            )
            return False
        except RecursionError:
            where = self.current or path
            self.unfinished(where, "nested too deeply to analyse; findings may be missing")
        except Exception as exc:  # one file's failure must not stop the run
            self.unfinished(
                self.current or path,
                f"the analysis failed ({type(exc).__name__}: {exc}); findings may be missing "
                "(the other files were analysed)",
            )
        return True

    def run(self, root: Function) -> None:
        """Analyse *root* and the functions it reaches, breadth first."""
        names = [a.arg for a in params(root.node) if a.arg not in ("self", "cls")]
        # a route's parameters come from the request path; a handler's first one is the event
        route = root.module.registered(root)
        starts = frozenset(names if route else names[:1]) - cat.CONTEXT_PARAMS
        held = root.module.holders.get(root.qualname)  # `lambda_handler = Handler()`
        holder = (root.module, held) if held else None
        self.cleared = set()
        queue: deque[_Queued] = deque([(root, starts, (), False, holder)])
        queue.extend((f, t, (root.qualname,), False, None) for f, t in self._callbacks(root))
        seen: set[tuple[int, frozenset[str], bool, object]] = set()
        resets: frozenset[str] = frozenset()
        in_temp = False  # the handler made the temp dir the working directory
        while queue and len(seen) <= _MAX_FUNCTIONS:
            func, tainted, chain, once, holder = queue.popleft()
            key = (id(func), tainted, once, holder and (id(holder[0]), holder[1]))
            if key in seen or (func.once and id(func) not in self.cleared):
                continue
            seen.add(key)
            visit = Visit(
                self.project,
                func,
                self.findings,
                where=_where(root, func, chain),
                allowed=root.module.allow.get(root.qualname, frozenset()),
                root_module=root.module,
                once=once,
                holder=holder,
                resets=resets,
                in_temp=in_temp,
            )
            self.current = func.module.path
            callees: list[tuple[Function, frozenset[str], bool, tuple[Module, str] | None]] = []
            frame = self._visit(visit, func.node, [scope(func.node)], tainted, callees)
            if func is root:
                resets = frozenset(frame.resets)
                in_temp = frame.in_temp is not None
            shown = _shown(root, func)
            queue.extend((c, t, (*chain, shown), once or o, h) for c, t, o, h in callees)

    def _callbacks(self, root: Function) -> list[tuple[Function, frozenset[str]]]:
        """Functions the framework calls per invocation because of *root*'s decorators: those
        given to them (``record_handler=``, ``middlewares=[...]``) and middleware factories."""
        module = root.module
        found: list[tuple[Function, frozenset[str]]] = []
        frame = Frame([({"__never__"}, set())])
        visit = Visit(self.project, root, self.findings, where="", root_module=module)
        for decorator in root.node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            resolved = self._callee(visit, target, frame)
            if resolved is not None and resolved[0].decorated_with(cat.MIDDLEWARE_FACTORIES):
                middleware = resolved[0]
                found.append((middleware, frozenset(a.arg for a in params(middleware.node)[1:2])))
            if not isinstance(decorator, ast.Call):
                continue
            for arg in [*decorator.args, *(k.value for k in decorator.keywords)]:
                for sub in walk_shallow([arg]):
                    if isinstance(sub, (ast.Name, ast.Attribute)):
                        resolved = self._callee(visit, sub, frame)
                        if resolved is not None:
                            found.append((resolved[0], _all_params(resolved[0])))
        return found

    # ---------------------------------------------------------------- the walk

    def _visit(
        self,
        visit: Visit,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scopes: list[tuple[set[str], set[str]]],
        tainted: frozenset[str] | set[str],
        callees: list[tuple[Function, frozenset[str], bool, tuple[Module, str] | None]],
        *,
        enclosing: Frame | None = None,
    ) -> Frame:
        frame = Frame(scopes)
        frame.tainted = set(tainted)
        if enclosing is not None:  # a nested function sees its enclosing function's facts
            frame.instances = dict(enclosing.instances)
            frame.in_temp = enclosing.in_temp  # `os.chdir("/tmp")` before the definition
        prepare(visit, node, frame)
        if enclosing is not None:
            for name, values in enclosing.bindings.items():
                frame.bindings.setdefault(name, values)  # closure variables
        handled: set[int] = set()
        for sub in walk_shallow(body(node)):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self._nested(visit, sub, frame, callees)
            elif isinstance(sub, ast.Call):
                self._cache_cleared(visit, sub, frame, callees)
                resolved = self._callee(visit, sub.func, frame)
                if resolved is not None:
                    handled.add(id(sub.func))
                    callee, holder = resolved
                    bound = _bind_args(callee, sub, frame.tainted_by)
                    callees.append((callee, bound, id(sub) in frame.guarded, holder))
                    _passed.check_call(visit, sub, callee, frame)
                _state.check_call(visit, sub, frame)
                _environ.check_call(visit, sub, frame)
                _clients.check_call(visit, sub, frame)
                _tempfiles.check_call(visit, sub, frame)
            elif isinstance(sub, (ast.Name, ast.Attribute)) and isinstance(sub.ctx, ast.Load):
                if id(sub) not in handled:
                    resolved = self._callee(visit, sub, frame, called=False)
                    # passed on (`map(process, records)`), or a table of them read
                    found = [resolved] if resolved else self._dispatched(visit, sub, frame)
                    for callee, holder in found:
                        passed = _all_params(callee) if frame.tainted else frozenset()
                        callees.append((callee, passed, id(sub) in frame.guarded, holder))
            elif isinstance(sub, ast.withitem):
                self._context_manager(visit, sub, frame, callees)
            else:
                _state.check_statement(visit, sub, frame)
                _environ.check_statement(visit, sub, frame)
        return frame

    def _cache_cleared(
        self,
        visit: Visit,
        call: ast.Call,
        frame: Frame,
        callees: list[tuple[Function, frozenset[str], bool, tuple[Module, str] | None]],
    ) -> None:
        """``factory.cache_clear()`` on an ``@lru_cache``/``@cache`` function: the next call runs
        it again, so it runs per invocation and is followed like any helper."""
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "cache_clear"):
            return
        cleared = self._callee(visit, call.func.value, frame, called=False)
        if cleared is not None and cleared[0].decorated_with(cat.MEMO_DECORATORS):
            self.cleared.add(id(cleared[0]))
            callees.append((cleared[0], frozenset(), id(call) in frame.guarded, cleared[1]))

    def _nested(
        self,
        visit: Visit,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        frame: Frame,
        callees: list[tuple[Function, frozenset[str], bool, tuple[Module, str] | None]],
    ) -> None:
        """A function or lambda defined in the body: it runs in the invocation too."""
        if not isinstance(node, ast.Lambda):
            decorators = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
            if any((dotted(d) or "").rsplit(".", 1)[-1] in cat.ONCE_DECORATORS for d in decorators):
                return
        inner = set(frame.tainted)
        if frame.tainted:  # callbacks of a handler usually get its data
            inner.update(a.arg for a in params(node))
        scopes = [scope(node), *frame.scopes]
        self._visit(visit, node, scopes, inner, callees, enclosing=frame)

    def _context_manager(
        self,
        visit: Visit,
        item: ast.withitem,
        frame: Frame,
        callees: list[tuple[Function, frozenset[str], bool, tuple[Module, str] | None]],
    ) -> None:
        """``with Service() as s``: ``__enter__`` and ``__exit__`` run too."""
        cls = visit.type_of(item.context_expr, frame)
        if cls is None:
            return
        holder = self._holder(visit, item.context_expr, frame, cls)
        for name in ("__enter__", "__exit__", "__aenter__", "__aexit__"):
            method = self.project.method(cls, name)
            if method is not None:
                callees.append((method, frozenset(), id(item) in frame.guarded, holder))

    # ---------------------------------------------------------------- resolution

    def _callee(
        self, visit: Visit, node: ast.expr, frame: Frame, *, called: bool = True
    ) -> _Callee | None:
        """The project function *node* calls (or passes on), and who holds its ``self``."""
        project, module = self.project, visit.module
        if isinstance(node, ast.Name) and not module.is_module_name(node.id, frame.scopes):
            cls = frame.instances.get(node.id)  # `helper(event)`: a local instance, called
            method = project.method(cls, "__call__") if cls and called else None
            return (method, None) if method else None
        if isinstance(node, ast.Name) and node.id in module.classes:
            init = project.constructor(ClassRef(module, node.id))
            return (init, None) if init else None
        if isinstance(node, ast.Name) and node.id in module.functions:
            return module.functions[node.id], None
        if isinstance(node, ast.Attribute):
            found = self._method(visit, node, frame)
            if found is not None:
                method, holder = found
                return (method, holder) if method is not None else None
        name = dotted(node)
        if name is None or not module.is_module_name(name.split(".")[0], frame.scopes):
            return None
        return self._imported(visit, name, called=called)

    def _method(
        self, visit: Visit, node: ast.Attribute, frame: Frame
    ) -> tuple[Function | None, tuple[Module, str] | None] | None:
        """The method ``receiver.name`` calls when the receiver is of a project class (the
        method None: the class has none of that name); None when its class is unknown."""
        project = self.project
        if isinstance(node.value, ast.Call):  # `repository_for(kind).save()`: what it returns
            returned, kept = visit.returned_by(node.value, frame)
            methods = (project.method(cls, node.attr) for cls in returned)
            method = next((m for m in methods if m is not None), None)
            if method is not None:
                return method, kept
        cls = visit.type_of(node.value, frame)
        if cls is None:
            return None
        method = project.method(cls, node.attr)
        return method, self._holder(visit, node.value, frame, cls) if method else None

    def _dispatched(self, visit: Visit, node: ast.expr, frame: Frame) -> list[_Callee]:
        """The project functions a module-level table of them holds (``ROUTES = {"POST
        /orders": create_order}``, a list or tuple of handlers): code that reads the table
        may call any of them (``ROUTES[route](event)``), as the guard assumes at run time."""
        module = visit.module
        name = dotted(node)
        if name is None or not module.is_module_name(name.split(".")[0], frame.scopes):
            return []
        if name in module.constants:
            target, attr = module, name
        else:
            found = self.project.locate(module, name)
            if found is None:
                return []
            target, attr = found
        table = target.constants.get(attr)
        if isinstance(table, ast.Dict):
            items = [value for value in table.values if value is not None]
        elif isinstance(table, (ast.List, ast.Tuple, ast.Set)):
            items = list(table.elts)
        else:
            return []
        callees: list[_Callee] = []
        for item in items:
            key = dotted(item)
            function = None
            if key is not None:
                function = target.functions.get(key) or self.project.imported(target, key)
            if function is not None:
                callees.append((function, None))
        return callees

    def _imported(self, visit: Visit, name: str, *, called: bool) -> _Callee | None:
        """A function, class or instance method of another module that *name* refers to."""
        project, module = self.project, visit.module
        function = project.imported(module, name)
        if function is not None:
            holder = None
            if function.class_name and "." in name:  # `dao.orders.put()`: an imported instance
                owner = name.rsplit(".", 1)[0]
                cls = project.instance_class(module, owner)
                holder = self._located(module, owner) if cls else None
            return function, holder
        if called and "." not in name:  # an imported instance, called
            cls = project.instance_class(module, name)
            method = project.method(cls, "__call__") if cls else None
            return (method, self._located(module, name)) if method else None
        return None

    def _located(self, module: Module, name: str) -> tuple[Module, str]:
        found = self.project.locate(module, name)
        return found if found is not None else (module, name)

    def _holder(
        self, visit: Visit, owner: ast.expr, frame: Frame, cls: ClassRef
    ) -> tuple[Module, str] | None:
        """The module-level object (or class) a method called on *owner* keeps its state in;
        None for an instance built in this invocation."""
        if isinstance(owner, ast.Name):
            if owner.id == "self":
                return visit.holder
            if owner.id == "cls":
                return visit.holder or (cls.module, cls.name)
            if not visit.module.is_module_name(owner.id, frame.scopes):
                return None  # a local instance (or class)
            if owner.id in visit.module.objects:
                return visit.module, owner.id
            return self._located(visit.module, owner.id)
        name = dotted(owner)
        return self._located(visit.module, name) if name else None


def _shown(root: Function, func: Function) -> str:
    if func.module is not root.module:
        return f"{func.module.name}.{func.qualname}"
    return func.qualname


def _where(root: Function, func: Function, chain: tuple[str, ...]) -> str:
    shown = _shown(root, func)
    if func is root:
        return f"in handler {shown}()"
    via = " → ".join(f"{c}()" for c in chain[1:])
    return (
        f"in {shown}() (called from handler {chain[0] if chain else root.qualname}()"
        + (f" in {root.module.path}" if func.module is not root.module else "")
        + (f" via {via}" if via else "")
        + ")"
    )
