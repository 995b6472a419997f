"""What the checker knows while it visits one function reached from a handler.

:class:`Visit` is the function being visited: where it sits in the call chain (for messages),
whether it runs once (reached from a lazy initialisation), which module-level object holds
``self`` when it is a method of one, and where findings go. :class:`Frame` is one function
body's facts, gathered by :func:`prepare` before any statement is judged:

- names carrying event data (*tainted*: the event, what is computed from it, per-request
  credentials) and names holding only the function's own configuration (*own*: constants,
  environment variables, module-level objects and what is computed from them alone);
- lazy initialisation: statements that run only while a module-level value is missing;
- memo caches (a module dict read and filled by the same key) and bounded ones, and whether a
  value written into one is a function of its key alone (:meth:`Frame.entry_problem`);
- mutable defaults, local instances of project classes, sessions given per-request
  credentials, globals reset to a constant on every call, names bound to temp paths.
"""

from __future__ import annotations

import ast
import re

from . import _catalogue as cat
from ._rules import Finding
from ._syntax import (
    annotated,
    dotted,
    flatten,
    is_len,
    lazy_guard,
    names,
    params,
    root,
    show,
    walk_shallow,
)
from ._syntax import written as written_names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from ._model import ClassRef, Function, Module, Project, Returned, Scopes

__all__ = ["Findings", "Frame", "Visit", "container", "prepare", "relative_path", "temp_path"]

IGNORE = re.compile(r"#\s*lambdascope:\s*ignore(?:\[([^\]]*)\])?")
_CACHE_CODES = frozenset({"LS107", "LS109"})
_LEAK_CODES = frozenset({"LS101", "LS102"})
Key = tuple[str, int, int, str]  # (path, line, col, code)


class Findings:
    """The findings of one run, and the module-level objects they are about: an object that
    handler code leaks request data into (LS101, LS102) is not also called a cache (its LS107
    and LS109 findings are dropped), wherever the two are found."""

    __slots__ = ("_caches", "_leaking", "found")

    def __init__(self) -> None:
        self.found: dict[Key, Finding] = {}
        self._caches: dict[Key, tuple[str, str]] = {}
        self._leaking: set[tuple[str, str]] = set()

    def add(self, key: Key, finding: Finding, state: tuple[str, str] | None = None) -> None:
        """Record *finding* (the first one at *key*), about module-level object *state*."""
        if key in self.found:
            return
        self.found[key] = finding
        if state is not None and finding.code in _CACHE_CODES:
            self._caches[key] = state
        elif state is not None and finding.code in _LEAK_CODES:
            self._leaking.add(state)

    def result(self) -> list[Finding]:
        """Every finding kept, unordered."""
        return [
            finding
            for key, finding in self.found.items()
            if self._caches.get(key, ("", "")) not in self._leaking
        ]


class Visit:
    """One function visited from a handler, and the findings of the whole run."""

    __slots__ = (
        "allowed",
        "findings",
        "function",
        "holder",
        "in_temp",
        "module",
        "once",
        "project",
        "resets",
        "root_module",
        "where",
    )

    def __init__(
        self,
        project: Project,
        function: Function,
        findings: Findings,
        *,
        where: str,
        root_module: Module,
        allowed: frozenset[str] = frozenset(),
        once: bool = False,
        holder: tuple[Module, str] | None = None,
        resets: frozenset[str] = frozenset(),
        in_temp: bool = False,
    ) -> None:
        self.project = project
        self.function = function
        self.module = function.module
        self.findings = findings
        self.where = where  # "in handler f()" or "in g() (called from handler f() via h())"
        self.root_module = root_module  # the handler's module
        self.allowed = allowed  # the handler's `allow=` names
        self.once = once  # reached from a lazy initialisation: runs once per environment
        self.holder = holder  # the module-level object (or class) `self`/`cls` belongs to
        self.resets = resets  # globals the handler resets to a constant on every invocation
        self.in_temp = in_temp  # the handler made the temp dir the working directory

    def shown(self, module: Module, name: str) -> str:
        """Module-level *name* of *module* as a message names it (qualified when another
        module's than the visited function's)."""
        return name if module is self.module else f"{module.name}.{name}"

    def allows(self, module: Module, name: str) -> bool:
        """Whether the handler's ``allow=`` names module-level *name* of *module*: as
        ``"module.name"``, or bare for a name of the handler's own module."""
        return f"{module.name}.{name}" in self.allowed or (
            module is self.root_module and name in self.allowed
        )

    def report(
        self,
        node: ast.AST,
        code: str,
        message: str,
        module: Module | None = None,
        *,
        state: tuple[Module, str] | None = None,
    ) -> None:
        """Record a finding at *node*, unless a ``# lambdascope: ignore`` comment silences it;
        *state*: the module-level object (module, name) it is about."""
        module = module or self.module
        line = getattr(node, "lineno", 1)
        ignore = IGNORE.search(module.lines[line - 1]) if line <= len(module.lines) else None
        if ignore and (ignore[1] is None or code in {c.strip() for c in ignore[1].split(",")}):
            return
        col = getattr(node, "col_offset", 0)
        about = (state[0].path, state[1]) if state is not None else None
        finding = Finding(module.path, line, col + 1, code, message)
        self.findings.add((module.path, line, col, code), finding, about)

    def own_class(self) -> ClassRef | None:
        """The project class whose method is visited."""
        from ._model import ClassRef

        name = self.function.class_name
        return ClassRef(self.module, name) if name else None

    def returned_by(self, call: ast.Call, frame: Frame) -> Returned:
        """What the project function *call* calls returns (see :meth:`Project.returned`):
        ``repository_for(kind)`` → the classes of the instances it hands out, and where they
        are kept."""
        called = dotted(call.func)
        if called is None or not self.module.is_module_name(called.split(".")[0], frame.scopes):
            return [], None
        function = self.module.functions.get(called) or self.project.imported(self.module, called)
        if function is None or function.class_name is not None:
            return [], None
        return self.project.returned(function)

    def type_of(  # noqa: PLR0911 - one return per kind of receiver
        self, node: ast.expr, frame: Frame
    ) -> ClassRef | None:
        """The project class *node* is an instance of (or is), when the checker can tell:
        ``self``, a local ``Service()``, a module-level or imported instance, a class."""
        project, module = self.project, self.module
        if isinstance(node, ast.Call):
            called = dotted(node.func)
            head = (called or "").split(".")[0]
            if not called or not module.is_module_name(head, frame.scopes):
                return None
            built = project.constructed(module, called)
            return built or next(iter(self.returned_by(node, frame)[0]), None)
        name = dotted(node)
        if name is None:
            return None
        head = name.split(".")[0]
        if name in ("self", "cls"):
            return self.own_class()
        if name in frame.instances:
            return frame.instances[name]
        if not module.is_module_name(head, frame.scopes):
            return None
        return project.class_ref(module, name) or project.instance_class(module, name)


class Frame:
    """What one function body (one scope) knows while it is visited."""

    __slots__ = (
        "bindings",
        "bounded",
        "covered",
        "credentialed",
        "defaults",
        "guarded",
        "in_temp",
        "instances",
        "memo",
        "own",
        "resets",
        "scopes",
        "tainted",
        "temp",
    )

    def __init__(self, scopes: Scopes) -> None:
        self.scopes = scopes
        self.tainted: set[str] = set()
        self.own: set[str] = set()  # locals holding only the function's own configuration
        self.bindings: dict[str, list[ast.AST]] = {}  # local → the values it is assigned
        self.guarded: dict[int, set[str]] = {}  # id(node) → names checked before creating
        self.memo: set[str] = set()  # containers (`CACHE`, `self._cache`) used as memo caches
        self.bounded: set[str] = set()  # ... whose size is kept in check here
        self.defaults: dict[str, str] = {}  # parameter → its mutable default, shown
        self.instances: dict[str, ClassRef] = {}  # `svc = Service()` → Service
        self.credentialed: set[int] = set()  # calls building sessions given per-request keys
        self.resets: set[str] = set()  # globals set to a constant at the top of the body
        self.temp: dict[str, str] = {}  # names bound to a temp path: see temp_path()
        self.covered: set[int] = set()  # calls inside a reported client's construction
        self.in_temp: int | None = None  # line of `os.chdir("/tmp")` in this body, if any

    def is_local(self, name: str) -> bool:
        """Whether *name* is local to the innermost function (a parameter included)."""
        return name in self.scopes[0][1]

    def tainted_by(self, node: ast.AST) -> bool:
        """Whether *node* uses event data or per-request credentials."""
        for sub in walk_shallow([node], enter=True):
            if isinstance(sub, ast.Name) and sub.id in self.tainted:
                return True
            if isinstance(sub, ast.Attribute) and (
                sub.attr in cat.EVENT_ATTRIBUTES or dotted(sub) == "request.event"
            ):
                return True
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in cat.CREDENTIAL_CALLS
            ):
                return True
        return False

    def is_own(self, node: ast.AST) -> bool:
        """Whether *node* holds only the function's own configuration: constants, environment
        variables, module-level objects and own locals — nothing of the request (its event, its
        context, a parameter, an exception, an assumed role)."""
        if self.tainted_by(node):
            return False
        for sub in walk_shallow([node], enter=True):
            if (
                isinstance(sub, ast.Name)
                and self._local_anywhere(sub.id)
                and sub.id not in self.own
            ):
                return False
        return True

    def entry_problem(
        self, value: ast.AST | None, keys: Iterable[ast.expr], cache: str
    ) -> str | None:
        """Why writing *value* under *keys* into the memo cache *cache* is not filling a cache:
        ``"reads"`` when the value is computed from the cache itself (a read-modify-write, such
        as a running total), ``"request"`` when it carries request data other than the key;
        None when it is a function of the key alone (``CACHE[key] = fetch(key)``)."""
        if value is None:
            return None
        atoms, key_names = _key_atoms(keys, self.bindings)
        kinds = {type(node) for node in atoms.values()}
        found: set[str] = set()
        followed: set[str] = set()
        stack: list[ast.AST] = [value]
        while stack:
            node = stack.pop()
            if type(node) in kinds and ast.dump(node) in atoms:
                continue  # the key itself
            if isinstance(node, (ast.Name, ast.Attribute)) and dotted(node) == cache:
                found.add("reads")
                continue
            if isinstance(node, ast.Name):
                if node.id in key_names or node.id in followed:
                    continue
                followed.add(node.id)
                values = self.bindings.get(node.id)
                if values is not None:  # a local: what it was computed from
                    stack.extend(values)
                elif node.id in self.tainted:  # a parameter or loop variable of the request
                    found.add("request")
                continue
            if not isinstance(node, ast.Name) and self._request_source(node):
                found.add("request")
            stack.extend(ast.iter_child_nodes(node))
        return "reads" if "reads" in found else next(iter(found), None)

    @staticmethod
    def _request_source(node: ast.AST) -> bool:
        """Whether *node* itself reads the request (``app.current_event``, an assumed role)."""
        if isinstance(node, ast.Attribute):
            return node.attr in cat.EVENT_ATTRIBUTES or dotted(node) == "request.event"
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in cat.CREDENTIAL_CALLS
        )

    def _local_anywhere(self, name: str) -> bool:
        for declared, local in self.scopes:
            if name in declared:
                return False
            if name in local:
                return True
        return False


# ------------------------------------------------------------------------------ gathering


def prepare(
    visit: Visit, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, frame: Frame
) -> None:
    """Gather *frame*'s facts about the body of *node* (see the module docstring)."""
    body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
    nodes = list(walk_shallow(body))
    _propagate(nodes, frame)
    _own(nodes, frame)
    _caches(visit, body, nodes, frame)
    _defaults(visit.module, node, frame)
    _instances(visit, node, nodes, frame)
    _credentialed(nodes, frame)
    _resets(body, frame)
    _temp_names(visit, nodes, frame)


def _assignments(nodes: Iterable[ast.AST]) -> Iterator[tuple[ast.AST | None, list[ast.expr]]]:
    """(value, targets) of every binding among *nodes* (value None: bound by other means)."""
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets: list[ast.expr] = (
                list(node.targets) if isinstance(node, ast.Assign) else [node.target]
            )
            yield node.value, targets
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            yield node.iter, [node.target]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            yield node.context_expr, [node.optional_vars]


def _in_order(nodes: list[ast.AST]) -> list[tuple[ast.AST | None, list[ast.expr]]]:
    """The bindings among *nodes* in source order (what flows forward converges in a pass)."""
    found = list(_assignments(nodes))
    found.sort(key=lambda b: (getattr(b[1][0], "lineno", 0), getattr(b[1][0], "col_offset", 0)))
    return found


def _propagate(nodes: list[ast.AST], frame: Frame) -> None:
    """Add the names that carry event data to ``frame.tainted``, to a fixpoint."""
    bindings = _in_order(nodes)
    for _ in range(len(bindings) + 1):  # a loop's data can flow backwards: until stable
        before = len(frame.tainted)
        for value, targets in bindings:
            if value is not None and frame.tainted_by(value):
                for target in targets:
                    frame.tainted.update(t.id for t in flatten(target) if isinstance(t, ast.Name))
        if len(frame.tainted) == before:
            break


def _own(nodes: list[ast.AST], frame: Frame) -> None:
    """``frame.own``: locals whose every binding is an own value (to a fixpoint, from all)."""
    values: dict[str, list[ast.AST]] = {}
    other: set[str] = set()  # bound by a loop, `with`, `except`, a walrus of anything
    bindings = _in_order(nodes)
    for value, targets in bindings:
        for target in targets:
            for sub in flatten(target):
                if not isinstance(sub, ast.Name):
                    continue
                if value is None or len(targets) > 1 or sub is not target:
                    other.add(sub.id)  # unpacked: which part it gets is not tracked
                else:
                    values.setdefault(sub.id, []).append(value)
    frame.own = set(values) - other
    frame.bindings = {name: found for name, found in values.items() if name not in other}
    for _ in range(len(bindings) + 1):  # from all names down: until stable
        before = len(frame.own)
        frame.own = {n for n in frame.own if all(frame.is_own(v) for v in values[n])}
        if len(frame.own) == before:
            break


def _key_atoms(
    keys: Iterable[ast.expr], bindings: dict[str, list[ast.AST]]
) -> tuple[dict[str, ast.AST], set[str]]:
    """The expressions a cache key is made of, by ``ast.dump`` (``CACHE[(tenant, f"{a}:{b}")]``:
    the key, ``tenant``, the f-string, ``a``, ``b``; a local key's value too: ``key =
    event["key"]`` makes ``event["key"]`` part of the key), and the names among them."""
    atoms: dict[str, ast.AST] = {}
    key_names: set[str] = set()
    stack: list[ast.AST] = list(keys)
    while stack:
        node = stack.pop()
        atoms[ast.dump(node)] = node
        if isinstance(node, ast.Name) and node.id not in key_names:
            key_names.add(node.id)
            found = bindings.get(node.id, [])
            stack.extend(found[:1] if len(found) == 1 else ())
        elif isinstance(node, ast.Tuple):
            stack.extend(node.elts)
        elif isinstance(node, ast.JoinedStr):
            stack.extend(v.value for v in node.values if isinstance(v, ast.FormattedValue))
        elif isinstance(node, ast.BinOp):
            stack.extend((node.left, node.right))
    return atoms, key_names


_BLOCKS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.ExceptHandler,
)
_BLOCKS += tuple(getattr(ast, name) for name in ("TryStar", "match_case") if hasattr(ast, name))


def _guards(visit: Visit, node: ast.AST, frame: Frame) -> None:
    """Mark what *node* creates only when a module-level value is missing (lazy init)."""
    if isinstance(node, ast.If):
        found, positive = lazy_guard(node.test)
        branch = node.orelse if positive else node.body
        found &= written_names(branch)  # the branch sets the value up
        if found:
            _guard(visit, branch, found, frame)
    if isinstance(node, _BLOCKS):
        for statements in _statement_lists(node):
            _early_returns(visit, statements, frame)
    if (
        isinstance(node, ast.BoolOp)
        and isinstance(node.op, ast.Or)
        and isinstance(node.values[0], ast.Name)
    ):
        _guard(visit, node.values[1:], {node.values[0].id}, frame)  # x = x or make()


def _statement_lists(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value
    for handler in getattr(node, "handlers", ()):
        yield handler.body


def container(node: ast.AST) -> str | None:
    """``"CACHE"`` or ``"self._cache"``: the dotted container a subscript or call is on."""
    return dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


def _cache_call(node: ast.Call, read: set[tuple[str, str]], statement: bool, frame: Frame) -> None:
    if is_len(node):
        frame.bounded.add(ast.unparse(node.args[0]))  # `len(CACHE)`: a name
    if not isinstance(node.func, ast.Attribute):
        return
    owner, attr = container(node.func.value), node.func.attr
    if owner is None:
        return
    if attr == "get" and node.args:
        read.add((owner, ast.dump(node.args[0])))
    elif attr == "setdefault" and not statement:
        frame.memo.add(owner)  # `return CACHE.setdefault(k, make())`
    elif attr in ("clear", "pop", "popitem"):
        frame.bounded.add(owner)


def _early_returns(visit: Visit, statements: list[ast.stmt], frame: Frame) -> None:
    """``if x is not None: return x`` (the cached value), then what creates it."""
    for i, stmt in enumerate(statements):
        if isinstance(stmt, ast.If) and not stmt.orelse and stmt.body:
            found, positive = lazy_guard(stmt.test)
            last = stmt.body[-1]
            if positive and isinstance(last, ast.Return) and last.value is not None:
                found &= set(names(last.value))
                returned = dotted(last.value) or ""
                if found & {"self", "cls"} and returned.split(".")[0] in ("self", "cls"):
                    # `if cls.frozen is not None: return cls.frozen`: what follows creates
                    # `cls.frozen`, not any other attribute of the class
                    found = (found - {"self", "cls"}) | {returned}
                if found:
                    _guard(visit, statements[i + 1 :], found, frame)


def _caches(visit: Visit, body: list[ast.AST], nodes: list[ast.AST], frame: Frame) -> None:
    """Lazy-initialisation guards, memo caches and bounded caches of one scope."""
    stored: set[tuple[str, str]] = set()
    read: set[tuple[str, str]] = set()
    statements = {id(n.value) for n in nodes if isinstance(n, ast.Expr)}
    _early_returns(visit, [b for b in body if isinstance(b, ast.stmt)], frame)
    for node in nodes:
        _guards(visit, node, frame)
        if isinstance(node, ast.Subscript) and container(node.value):
            name, key = str(container(node.value)), ast.dump(node.slice)
            if isinstance(node.ctx, ast.Load):
                read.add((name, key))
            elif isinstance(node.ctx, ast.Store):
                stored.add((name, key))
                base = root(node)
                if base is not None and base.id in frame.guarded.get(id(node), ()):
                    frame.memo.add(name)  # `if k not in CACHE: CACHE[k] = ...`
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            checked = container(node.comparators[0])
            if checked:
                read.add((checked, ast.dump(node.left)))
        elif isinstance(node, ast.Call):
            _cache_call(node, read, id(node) in statements, frame)
    frame.memo |= {name for name, key in stored & read}
    module = visit.module
    frame.memo = {
        m for m in frame.memo if m.split(".")[0] in module.objects or m.startswith("self.")
    }


def _guard(visit: Visit, statements: Iterable[ast.AST], found: set[str], frame: Frame) -> None:
    """Mark *statements* as run only while module-level *found* names are not set up yet."""
    module = visit.module
    found = {
        n
        for n in found
        if ((n in module.objects or n in module.imports) and module.is_module_name(n, frame.scopes))
        or (n.split(".")[0] == "self" and visit.holder is not None)  # `self._client` of one
        or n.split(".")[0] == "cls"  # a module-level object's; `cls.frozen` (an early return)
    }
    if not found:
        return  # a test of local values only (`if key in allowed: return`)
    for sub in walk_shallow(statements):
        frame.guarded.setdefault(id(sub), set()).update(found)


def _defaults(
    module: Module, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, frame: Frame
) -> None:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    if not pairs:
        return
    walked = list(walk_shallow(node.body))
    augmented = {id(n.target) for n in walked if isinstance(n, ast.AugAssign)}
    rebound = {
        n.id
        for n in walked
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and id(n) not in augmented
    }
    for arg, default in pairs:
        mutable = isinstance(
            default, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
        ) or (
            isinstance(default, ast.Call)
            and (module.qualify(default.func) or "") in cat.MUTABLE_CALLS
        )
        if mutable and arg.arg not in rebound:
            frame.defaults[arg.arg] = show(default)


def _instances(
    visit: Visit,
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    nodes: list[ast.AST],
    frame: Frame,
) -> None:
    """Locals that hold an instance of a project class, built here (``svc = Service()``,
    ``Service.get(...)``, ``with Service() as svc``) or annotated (``svc: Service``)."""
    project, module = visit.project, visit.module
    hints: list[tuple[str, ast.expr]] = [
        (a.arg, a.annotation) for a in params(node) if a.annotation is not None
    ]
    for sub in nodes:
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
            cls = visit.type_of(sub.value, frame)
            for target in sub.targets:
                if isinstance(target, ast.Name) and cls is not None:
                    frame.instances[target.id] = cls
        elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
            hints.append((sub.target.id, sub.annotation))
        elif isinstance(sub, ast.withitem) and isinstance(sub.optional_vars, ast.Name):
            cls = visit.type_of(sub.context_expr, frame)
            if cls is not None:
                frame.instances[sub.optional_vars.id] = cls
    for name, annotation in hints:
        written = annotated(annotation)
        cls = project.class_ref(module, written) if written else None
        if cls is not None:
            frame.instances.setdefault(name, cls)


def _credentialed(nodes: list[ast.AST], frame: Frame) -> None:
    """Sessions built here and then given per-request credentials
    (``session = botocore.session.get_session(); session.set_credentials(creds[...], ...)``):
    ``frame.credentialed`` holds the calls that build them."""
    names: set[str] = set()
    for sub in nodes:
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in cat.CREDENTIAL_SETTERS
            and isinstance(sub.func.value, ast.Name)
            and not all(frame.is_own(a) for a in [*sub.args, *(k.value for k in sub.keywords)])
        ):
            names.add(sub.func.value.id)
    for sub in nodes:
        if (
            names
            and isinstance(sub, ast.Assign)
            and isinstance(sub.value, ast.Call)
            and any(isinstance(t, ast.Name) and t.id in names for t in sub.targets)
        ):
            frame.credentialed.add(id(sub.value))


def _resets(body: list[ast.AST], frame: Frame) -> None:
    """Globals set to a constant by a statement of the body itself (on every call)."""
    for stmt in body:
        constant = isinstance(stmt, ast.Assign) and not any(
            isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(stmt.value)
        )
        if constant and isinstance(stmt, ast.Assign):
            frame.resets.update(
                t.id
                for target in stmt.targets
                for t in flatten(target)
                if isinstance(t, ast.Name) and t.id in frame.scopes[0][0]
            )


def _temp_names(visit: Visit, nodes: list[ast.AST], frame: Frame) -> None:
    """Locals bound to a hard-coded temp path (``path = f"/tmp/{key}"``)."""
    for value, targets in _assignments(nodes):
        if value is None or len(targets) != 1 or not isinstance(targets[0], ast.Name):
            continue
        kind = temp_path(visit, value, frame)
        if kind is not None:
            frame.temp[targets[0].id] = kind
    for sub in nodes:  # `os.chdir("/tmp")`: relative paths written after it land there
        if (
            isinstance(sub, ast.Call)
            and visit.module.qualify(sub.func) in cat.CHDIR_CALLS
            and sub.args
            and temp_path(visit, sub.args[0], frame) in ("dir", "path", "tempdir")
        ):
            frame.in_temp = min(frame.in_temp or sub.lineno, sub.lineno)


def _temp_text(value: object) -> str | None:
    """``"dir"`` for the temp dir itself, ``"path"`` for a path under it, else None."""
    if not isinstance(value, str):
        return None
    if value.rstrip("/") == cat.TEMP_DIR:
        return "dir"
    return "path" if value.startswith(cat.TEMP_DIR + "/") else None


def temp_path(  # noqa: PLR0911 - one return per form of path
    visit: Visit, node: ast.AST, frame: Frame, _depth: int = 0
) -> str | None:
    """What *node* is as a temp path: ``"dir"`` (the hard-coded temp dir, ``"/tmp"``),
    ``"path"`` (a hard-coded path in it: ``"/tmp/x"``, ``f"/tmp/{k}"``, ``os.path.join("/tmp",
    k)``, ``Path("/tmp") / k``, or ``tempfile.gettempdir()`` joined to a fixed name),
    ``"tempdir"`` (``tempfile.gettempdir()`` itself, which honours TMPDIR), or None."""
    if _depth > 6:
        return None
    module = visit.module
    if isinstance(node, ast.Constant):
        return _temp_text(node.value)
    if isinstance(node, ast.JoinedStr) and node.values:
        start = node.values[0]
        if isinstance(start, ast.FormattedValue):
            start = start.value  # f"{TMP_DIR}/{name}"
        return "path" if temp_path(visit, start, frame, _depth + 1) in ("dir", "path") else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod, ast.Div)):
        left = temp_path(visit, node.left, frame, _depth + 1)
        if left in ("dir", "path") or (left == "tempdir" and isinstance(node.right, ast.Constant)):
            return "path"
        return None
    if isinstance(node, ast.Name):
        if not module.is_module_name(node.id, frame.scopes):
            return frame.temp.get(node.id)
        value = module.constants.get(node.id)
        return temp_path(visit, value, frame, _depth + 1) if value is not None else None
    return _temp_call(visit, node, frame, _depth) if isinstance(node, ast.Call) else None


def _temp_call(  # noqa: PLR0911 - one return per kind of call
    visit: Visit, node: ast.Call, frame: Frame, depth: int
) -> str | None:
    qualified = visit.module.qualify(node.func) or ""
    if qualified in cat.TEMP_DIR_CALLS:
        return "tempdir"
    if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        inner = temp_path(visit, node.func.value, frame, depth + 1)
        return "path" if inner in ("dir", "path") else None
    if not (qualified in ("os.path.join", "posixpath.join") or qualified in cat.PATH_CLASSES):
        return None
    if not node.args:
        return None
    first, rest = temp_path(visit, node.args[0], frame, depth + 1), node.args[1:]
    if first in ("dir", "path"):
        return "path" if rest or first == "path" else "dir"
    if first == "tempdir" and rest:
        return "path" if all(isinstance(r, ast.Constant) for r in rest) else None
    return first if qualified in cat.PATH_CLASSES else None


def relative_path(  # noqa: PLR0911 - one return per form of path
    visit: Visit, node: ast.AST, frame: Frame, _depth: int = 0
) -> bool:
    """Whether *node* is a relative path (resolved against the working directory): ``"x.json"``,
    ``f"{key}.csv"``, ``os.path.basename(key)``, ``key.split("/")[-1]``, a local or constant
    bound to one, ``os.path.join`` starting with one."""
    if _depth > 6:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value) and not node.value.startswith("/")
    if isinstance(node, ast.JoinedStr) and node.values:
        start = node.values[0]
        if isinstance(start, ast.FormattedValue):
            return relative_path(visit, start.value, frame, _depth + 1)
        return relative_path(visit, start, frame, _depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return relative_path(visit, node.left, frame, _depth + 1)
    if isinstance(node, ast.Subscript):  # `key.split("/")[-1]`: the last part of a path
        value = node.value
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr in ("split", "rsplit")
        )
    if isinstance(node, ast.Name):
        if not visit.module.is_module_name(node.id, frame.scopes):
            values = frame.bindings.get(node.id, [])
            return bool(values) and all(relative_path(visit, v, frame, _depth + 1) for v in values)
        constant = visit.module.constants.get(node.id)
        return constant is not None and relative_path(visit, constant, frame, _depth + 1)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return relative_path(visit, node.func.value, frame, _depth + 1)  # "{}.csv".format()
        qualified = visit.module.qualify(node.func) or ""
        if qualified in ("os.path.basename", "posixpath.basename"):
            return True
        if qualified in ("os.path.join", "posixpath.join") or qualified in cat.PATH_CLASSES:
            return bool(node.args) and relative_path(visit, node.args[0], frame, _depth + 1)
    return False
