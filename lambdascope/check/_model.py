"""What the checker knows of each module before following any call: its names, functions,
classes, module-level instances, sessions and registries, its handlers — and, across the
project, what a dotted name or a class's method resolves to.

:class:`Module` reads one parsed file; :class:`Project` puts the modules of a checked tree
together on top of :class:`~lambdascope.check._project.ProjectModel` (which finds the module
an import names) and answers the typed questions: the project class a module-level instance
belongs to, a method looked up through the class's project bases, a function, class or
object imported from another module.
"""

from __future__ import annotations

import ast
import os
from collections import deque

from . import _catalogue as cat
from ._project import ProjectModel, import_table
from ._syntax import annotated, dotted, flatten, is_main_guard, matches, scope, walk_shallow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from ._parse import Parsed
    from ._project import ImportRef

__all__ = ["ClassRef", "Function", "Module", "Project", "Returned", "Scopes", "module_level"]

Scopes = list[tuple[set[str], set[str]]]  # (declared global, local), innermost first
#: What a function returns: the project classes it may be an instance of, and the module-level
#: object keeping it (None: built by the call)
Returned = tuple[list["ClassRef"], "tuple[Module, str] | None"]


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements module code runs, in source order: those of the module body and of its
    ``if`` (not ``if __name__ == "__main__":``), ``try`` and ``with`` blocks."""
    pending = deque(body)  # blocks' statements go first (no recursion)
    while pending:
        stmt = pending.popleft()
        if isinstance(stmt, ast.If):
            if not is_main_guard(stmt.test):
                pending.extendleft(reversed(stmt.body + stmt.orelse))
        elif isinstance(stmt, ast.Try):
            handlers = [s for h in stmt.handlers for s in h.body]
            pending.extendleft(reversed(stmt.body + handlers + stmt.orelse + stmt.finalbody))
        elif isinstance(stmt, ast.With):
            pending.extendleft(reversed(stmt.body))
        else:
            yield stmt


class Function:
    """A module-level function or a method of a module-level class."""

    __slots__ = ("class_name", "module", "node", "once", "qualname")

    def __init__(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str | None, module: Module
    ) -> None:
        self.node = node
        self.class_name = class_name
        self.module = module
        self.qualname = f"{class_name}.{node.name}" if class_name else node.name
        self.once = any(
            (dotted(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
            in cat.ONCE_DECORATORS
            for d in node.decorator_list
        )

    def decorated_with(self, names: frozenset[str]) -> bool:
        """Whether a decorator of this function is one of *names* (qualified or bare)."""
        for decorator in self.node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualified = self.module.qualify(target) or ""
            if qualified in names or qualified.rsplit(".", 1)[-1] in names:
                return True
        return False


class ClassRef:
    """A class defined in the project: its module and name."""

    __slots__ = ("module", "name")

    def __init__(self, module: Module, name: str) -> None:
        self.module, self.name = module, name

    @property
    def node(self) -> ast.ClassDef:
        """The class statement."""
        return self.module.classes[self.name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassRef) and (self.module, self.name) == (
            other.module,
            other.name,
        )

    def __hash__(self) -> int:
        return hash((id(self.module), self.name))


class Module:
    """The module-level names, functions, classes and handlers of one parsed file."""

    def __init__(self, parsed: Parsed, imports: dict[str, ImportRef] | None = None) -> None:
        self.path = parsed.path
        self.lines = parsed.lines
        self.name = os.path.splitext(os.path.basename(parsed.path))[0]
        tree = parsed.tree
        self.import_refs = imports if imports is not None else import_table(tree)
        self.imports = {name: ref.qualified for name, ref in self.import_refs.items()}
        self.functions: dict[str, Function] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.objects: set[str] = set()  # names bound at module level other than by import
        self.instances: dict[str, str] = {}  # `service = Service()` → {"service": "Service"}
        self.sessions: set[str] = set()  # `session = boto3.Session()`
        self.registries: set[str] = set()  # `app = APIGatewayRestResolver()`
        self.constants: dict[str, ast.expr] = {}  # `TMP = "/tmp/x"`: names bound once, to this
        self.allow: dict[str, frozenset[str]] = {}  # handler → names in its `allow=`
        self.holders: dict[str, str] = {}  # handler method → the module-level name of its self
        self.adapted: set[str] = set()  # `handler = Mangum(app)`: apps served on Lambda
        self.routes: set[str] = set()  # functions given to an app (`Route("/", home)`)
        self.handler_refs: list[str] = []  # handlers imported from another module, dotted
        self.tree = tree
        self._collect(tree.body)

    def qualify(self, node: ast.AST) -> str | None:
        """*node*'s dotted name, its root import resolved (``b3.client`` → ``boto3.client``)."""
        name = dotted(node)
        if name is None:
            return None
        head, dot, rest = name.partition(".")
        return self.imports.get(head, head) + dot + rest

    def _collect(self, body: list[ast.stmt]) -> None:
        for stmt in module_level(body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = Function(stmt, None, self)
                self.objects.add(stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
                self.objects.add(stmt.name)
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        method = Function(item, stmt.name, self)
                        self.functions[method.qualname] = method
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value:
                self._bind(
                    stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target], stmt.value
                )
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    written = annotated(stmt.annotation)  # `repo: Optional[Repo] = None`
                    if written and stmt.target.id not in self.instances:
                        self.instances[stmt.target.id] = written

    def _bind(self, targets: list[ast.expr], value: ast.expr) -> None:
        if self.qualify(value) == "lambdascope.request":
            return  # `request = lambdascope.request`: the per-invocation scope itself
        called = dotted(value.func) if isinstance(value, ast.Call) else None
        qualified = self.qualify(value.func) if isinstance(value, ast.Call) else None
        for target in targets:
            for name in flatten(target):
                if not isinstance(name, ast.Name):
                    continue
                if name.id in self.objects:
                    self.constants.pop(name.id, None)  # bound twice: not a constant
                else:
                    self.constants[name.id] = value
                self.objects.add(name.id)
                if called:
                    self.instances[name.id] = called  # maybe a class: the project tells
                if qualified in cat.SESSIONS:
                    self.sessions.add(name.id)
                if qualified and qualified.rsplit(".", 1)[-1] in cat.REGISTRIES:
                    self.registries.add(name.id)
        if qualified in cat.ADAPTERS and isinstance(value, ast.Call) and value.args:
            app = dotted(value.args[0])  # `handler = Mangum(app)`: the app's routes are handlers
            if app is not None:
                self.adapted.add(app)

    def link_routes(self) -> None:
        """Functions an app or router of this module is given at module level rather than by a
        decorator: ``Starlette(routes=[Route("/", home)])``, ``app.add_url_rule("/",
        view_func=index)``, ``app.add_api_route("/items", list_items)`` (not what builds the
        app: ``app = create_app(config)`` runs once)."""
        for stmt in module_level(self.tree.body):
            call = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
            if not isinstance(call, ast.Call):
                continue
            if isinstance(stmt, ast.Assign):
                given = any(
                    isinstance(t, ast.Name) and t.id in self.registries for t in stmt.targets
                )
            else:
                owner = call.func.value if isinstance(call.func, ast.Attribute) else None
                given = isinstance(owner, ast.Name) and owner.id in self.registries
            arguments = [*call.args, *(k.value for k in call.keywords)] if given else []
            for node in (sub for arg in arguments for sub in ast.walk(arg)):
                if isinstance(node, ast.Name) and node.id in self.functions:
                    self.routes.add(node.id)

    def _is_handler_decorator(self, node: ast.expr) -> bool:
        return (
            self.qualify(node.func if isinstance(node, ast.Call) else node)
            in cat.HANDLER_DECORATORS
        )

    def registered(self, func: Function) -> bool:
        """Registered on a Powertools resolver/router, crhelper, Chalice or web-framework app."""
        if func.qualname in self.routes:
            return True
        for decorator in func.node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in self.registries
            ):
                return True
        return False

    def find_handlers(self, names: Iterable[str], by_signature: bool) -> list[Function]:
        """The module's handlers: decorated, named (*names*), registered routes, or shaped."""
        names = tuple(names)
        found: dict[str, Function] = {}
        for func in self.functions.values():
            node = func.node
            positional = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
            shaped = func.class_name is None and (
                node.name == "lambda_handler"
                or (node.name == "handler" and len(positional) == 2 and not node.args.vararg)
                or (
                    by_signature
                    and len(positional) == 2
                    and positional[0] in cat.EVENT_PARAMS
                    and positional[1] in cat.CONTEXT_PARAMS
                    and not node.args.vararg
                )
            )
            decorators = [d for d in node.decorator_list if self._is_handler_decorator(d)]
            registered = func.class_name is None and self.registered(func)
            if shaped or decorators or registered or matches(func.qualname, names):
                found[func.qualname] = func
            for decorator in decorators:
                self._allow(func, decorator)
        # `lambda_handler = handler(impl)`, `lambda_handler = service.handle`
        for stmt in module_level(self.tree.body):
            if not isinstance(stmt, ast.Assign):
                continue
            call, value = None, stmt.value
            if isinstance(value, ast.Call) and self._is_handler_decorator(value) and value.args:
                call, value = value, value.args[0]
            elif not any(
                isinstance(t, ast.Name) and (t.id == "lambda_handler" or matches(t.id, names))
                for t in stmt.targets
            ):
                continue
            target = self.local_function(value)
            if target is None:
                target = self._wrapped(value)
            if target is not None:
                found.setdefault(target.qualname, target)
                if call is not None:
                    self._allow(target, call)
                holder = self._holder(value, stmt.targets)
                if holder and target.class_name:
                    self.holders.setdefault(target.qualname, holder)
        return list(found.values())

    def _wrapped(self, value: ast.expr) -> Function | None:
        """The function a wrapper applied at module level is given: ``wrapper(impl)``,
        ``wrapper(options)(impl)``, ``a(b(impl))`` (a tracing or error-reporting library's
        handler wrapper) → ``impl``. One imported from another module is left, dotted, in
        ``handler_refs`` for the project to resolve."""
        pending = [value] if isinstance(value, ast.Call) else []
        if isinstance(value, (ast.Name, ast.Attribute)):  # `lambda_handler = imported.handle`
            name = dotted(value)
            if name and name.split(".")[0] in self.import_refs:
                self.handler_refs.append(name)
        while pending:
            call = pending.pop(0)
            keywords = [k.value for k in call.keywords if k.arg in cat.WRAPPED_KEYWORDS]
            for arg in [*call.args, *keywords]:
                if isinstance(arg, ast.Name) and arg.id in self.classes:
                    continue  # a class given to a wrapper is not what Lambda calls
                target = self.local_function(arg)
                name = dotted(arg)
                if target is not None:
                    return target
                if name and name.split(".")[0] in self.import_refs:
                    self.handler_refs.append(name)
                elif isinstance(arg, ast.Call):
                    pending.append(arg)
            if isinstance(call.func, ast.Call):
                pending.append(call.func)
        return None

    def _allow(self, func: Function, decorator: ast.expr) -> None:
        if not isinstance(decorator, ast.Call):
            return
        names = set(self.allow.get(func.qualname, ()))
        for keyword in decorator.keywords:
            if keyword.arg == "allow" and isinstance(keyword.value, (ast.Tuple, ast.List)):
                names.update(
                    e.value
                    for e in keyword.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
        self.allow[func.qualname] = frozenset(names)

    @staticmethod
    def is_module_name(name: str, scopes: Scopes) -> bool:
        """Whether *name*, used inside *scopes*, refers to the module-level name."""
        for declared, local in scopes:
            if name in declared:
                return True
            if name in local:
                return False
        return True

    def _holder(self, value: ast.expr, targets: list[ast.expr]) -> str | None:
        """The module-level name keeping the instance a handler method runs on."""
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
            return value.value.id if value.value.id in self.instances else None
        return next((t.id for t in targets if isinstance(t, ast.Name)), None)

    def local_function(self, node: ast.expr) -> Function | None:
        """The module's function, class constructor or instance method *node* (at module level)
        names: ``impl``, ``Service``, ``service.handle``, ``Handler()`` (its ``__call__``)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = node.func.id
            return self.functions.get(f"{called}.__call__") if called in self.classes else None
        if isinstance(node, ast.Name):
            if node.id in self.classes:
                return self.functions.get(f"{node.id}.__init__")
            return self.functions.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = node.value.id
            cls = owner if owner in self.classes else self.instances.get(owner)
            return self.functions.get(f"{cls}.{node.attr}") if cls else None
        return None


class Project:
    """The parsed modules of a checked tree, and what names in them resolve to."""

    def __init__(self, parsed: Iterable[Parsed], roots: Iterable[str]) -> None:
        parsed = list(parsed)
        self.model = ProjectModel({p.path: p.tree for p in parsed}, roots)
        self.modules: dict[str, Module] = {}
        self.failed: list[tuple[str, str]] = []  # (path, why): files not modelled
        self._returned: dict[int, Returned] = {}  # id(function) → what it returns
        self.written: dict[int, dict[str, str]] = {}  # id(function) → parameters it writes
        for p in parsed:
            try:
                self.modules[os.path.abspath(p.path)] = Module(p, self.model.imports(p.path))
            except Exception as exc:
                self.failed.append((p.path, f"{type(exc).__name__} while reading its names"))
        for module in list(self.modules.values()):
            for app in module.adapted:  # an app served through an adapter is a registry
                found = (module, app) if app in module.objects else self.locate(module, app)
                if found is not None and "." not in found[1]:
                    found[0].registries.add(found[1])
        for module in self.modules.values():
            module.link_routes()

    def find_handlers(
        self, module: Module, names: Iterable[str], by_signature: bool
    ) -> list[Function]:
        """:meth:`Module.find_handlers`, with the handlers it names from other modules
        (``lambda_handler = wrapper(forward)`` after ``from forwarder import forward``)."""
        found = module.find_handlers(names, by_signature)
        for name in module.handler_refs:
            imported = self.imported(module, name)
            if imported is not None and imported not in found:
                found.append(imported)
        return found

    def relative(self, path: str) -> str:
        """*path* relative to the checked directory it is in (``/``-separated)."""
        return self.model.relative(path)

    def locate(self, module: Module, name: str) -> tuple[Module, str] | None:
        """(the other project module, the name in it) that dotted *name* in *module* names."""
        found = self.model.locate(module.path, name)
        if found is None or found[0] not in self.modules:
            return None
        return self.modules[found[0]], found[1]

    # ---------------------------------------------------------------- classes

    def class_ref(self, module: Module, name: str) -> ClassRef | None:
        """The project class dotted *name* (as written in *module*) refers to."""
        if name in module.classes:
            return ClassRef(module, name)
        found = self.locate(module, name)
        if found is not None and found[1] in found[0].classes:
            return ClassRef(found[0], found[1])
        return None

    def _bases(self, cls: ClassRef) -> tuple[list[ClassRef], bool]:
        """(the project classes *cls* derives from, whether another base may add methods)."""
        bases: list[ClassRef] = []
        opaque = False
        for base in cls.node.bases:
            expr = base.value if isinstance(base, ast.Subscript) else base  # Generic[T]
            name = dotted(expr) or ""
            ref = self.class_ref(cls.module, name) if name else None
            if ref is not None and ref != cls:
                bases.append(ref)
            elif (cls.module.qualify(expr) or name) not in cat.NEUTRAL_BASES:
                opaque = True
        return bases, opaque

    def method(self, cls: ClassRef, name: str, _depth: int = 0) -> Function | None:
        """Method *name* of *cls*, looked up through its project base classes."""
        found = cls.module.functions.get(f"{cls.name}.{name}")
        if found is not None or _depth > 8:
            return found
        for base in self._bases(cls)[0]:
            found = self.method(base, name, _depth + 1)
            if found is not None:
                return found
        return None

    def opaque(self, cls: ClassRef, _depth: int = 0) -> bool:
        """Whether *cls* (or a project base) derives from a class outside the project (``dict``,
        a library's), whose methods the checker cannot read."""
        bases, opaque = self._bases(cls)
        return opaque or (_depth < 8 and any(self.opaque(b, _depth + 1) for b in bases))

    def instance_class(self, module: Module, name: str) -> ClassRef | None:
        """The project class of the module-level instance *name* (``repo = Repo()``), also one
        imported from another module; alternate constructors (``Repo.from_env()``) count."""
        written = module.instances.get(name)
        if written is None:
            found = self.locate(module, name)
            if found is None or found[1] not in found[0].instances:
                return None
            module, written = found[0], found[0].instances[found[1]]
        return self.constructed(module, written)

    def constructed(self, module: Module, called: str) -> ClassRef | None:
        """The project class a call of dotted *called* in *module* returns an instance of:
        ``Service(...)``, or an alternate constructor ``Service.get(...)``."""
        cls = self.class_ref(module, called)
        if cls is None and "." in called:
            cls = self.class_ref(module, called.rsplit(".", 1)[0])
        return cls

    # ---------------------------------------------------------------- other modules

    def constructor(self, cls: ClassRef) -> Function | None:
        """What constructing *cls* runs of the project's code: its ``__init__``, or the
        ``__post_init__`` a dataclass's generated ``__init__`` calls."""
        return self.method(cls, "__init__") or self.method(cls, "__post_init__")

    def imported(self, module: Module, name: str) -> Function | None:
        """The function (or class's ``__init__``, or instance's method) of another project
        module that dotted *name* in *module* refers to."""
        found = self.locate(module, name)
        if found is None:
            return None
        target, attr = found
        if attr in target.classes:
            return self.constructor(ClassRef(target, attr))
        head, _, method = attr.partition(".")
        if method and "." not in method:
            cls = ClassRef(target, head) if head in target.classes else None
            cls = cls or self.instance_class(target, head)
            if cls is not None:
                return self.method(cls, method)
        return target.functions.get(attr)

    def imported_object(self, module: Module, name: str) -> tuple[Module, str] | None:
        """(module, name) of a module-level object (not a function, class or import) of another
        project module that dotted *name* in *module* refers to (``state.RECENT``)."""
        found = self.locate(module, name)
        if found is None:
            return None
        target, attr = found
        if attr in target.objects and attr not in target.functions and attr not in target.classes:
            return target, attr
        return None

    # ---------------------------------------------------------------- return values

    def returned(self, function: Function) -> Returned:
        """The project classes of what *function* returns and the module-level object keeping
        it: ``return Service()`` (built per call), ``return repo`` (a module-level instance),
        ``return _REPOSITORIES[kind]`` or ``.get(kind)`` (an item of a module-level table of
        instances, as a registry or factory hands them out)."""
        found = self._returned.get(id(function))
        if found is None:
            self._returned[id(function)] = ([], None)  # recursion: nothing known yet
            found = self._returned[id(function)] = self._returns(function)
        return found

    def _returns(self, function: Function) -> Returned:
        module = function.module
        local = scope(function.node)[1]
        bound: dict[str, list[ast.expr]] = {}
        returns: list[ast.expr] = []
        for node in walk_shallow(function.node.body):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.Return) and node.value is not None:
                returns.append(node.value)
        classes: list[ClassRef] = []
        holder: tuple[Module, str] | None = None
        for value in returns:
            expr = value
            if isinstance(value, ast.Name) and value.id in local:
                values = bound.get(value.id, [])
                if len(values) != 1:
                    continue
                expr = values[0]  # `repo = _REPOSITORIES[kind]; return repo`
            found, kept = self._value_classes(module, expr, local)
            classes += [c for c in found if c not in classes]
            holder = holder or kept
        return classes, holder

    def _value_classes(
        self, module: Module, value: ast.expr, local: set[str]
    ) -> tuple[list[ClassRef], tuple[Module, str] | None]:
        if isinstance(value, ast.Call) and not (
            isinstance(value.func, ast.Attribute) and value.func.attr == "get"
        ):
            called = dotted(value.func)
            cls = self.constructed(module, called) if called else None
            return ([cls] if cls else []), None
        table = value.value if isinstance(value, ast.Subscript) else value
        if isinstance(table, ast.Call):  # `TABLE.get(key)`
            assert isinstance(table.func, ast.Attribute)
            table = table.func.value
        name = dotted(table)
        if name is None or name.split(".")[0] in local:
            return [], None
        kept = (module, name) if name in module.objects else self.locate(module, name)
        if kept is None:
            return [], None
        if table is value:  # `return repo`: a module-level instance
            cls = self.instance_class(module, name)
            return ([cls] if cls else []), kept
        return self._items(*kept), kept

    def _items(self, module: Module, name: str) -> list[ClassRef]:
        """The project classes of the instances a module-level table holds (``{"a": A()}``,
        ``[A(), B()]``, ``OrderedDict(a=A(), b=B())``)."""
        table = module.constants.get(name)
        items: list[ast.expr] = []
        if isinstance(table, ast.Dict):
            items = [v for v in table.values if v is not None]
        elif isinstance(table, (ast.List, ast.Tuple, ast.Set)):
            items = list(table.elts)
        elif isinstance(table, ast.Call):
            items = [k.value for k in table.keywords]
            items += [v for a in table.args if isinstance(a, ast.Dict) for v in a.values if v]
        classes: list[ClassRef] = []
        for item in items:
            called = dotted(item.func) if isinstance(item, ast.Call) else None
            cls = self.constructed(module, called) if called else None
            if cls is None and isinstance(item, ast.Name):
                cls = self.instance_class(module, item.id)
            if cls is not None and cls not in classes:
                classes.append(cls)
        return classes
