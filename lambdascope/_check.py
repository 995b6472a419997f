"""``lambdascope check``: find state that leaks between warm invocations, statically.

The checker parses handler modules (it never imports or runs them) and reports code that is
reachable from a handler and

- mutates a module-level object (``files.append(key)``, ``heapq.heappush(QUEUE, x)``) —
  **LS101** — or assigns, augments or deletes one of its items or attributes
  (``CACHE[k] = v``, ``config.debug = True``) — **LS102**;
- rebinds a module-level name through ``global`` — **LS103**;
- creates an AWS client, resource or session (``boto3.client(...)``) — **LS104** — or opens a
  database/HTTP connection (``psycopg2.connect(...)``) — **LS105** — on every invocation.

See docs/check.md. This module is used by the CLI only; ``import lambdascope`` never loads it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import tokenize
from collections import deque
from dataclasses import asdict, dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "RULES",
    "CheckError",
    "Finding",
    "add_arguments",
    "check_paths",
    "check_source",
    "main",
    "run",
]

RULES: dict[str, str] = {
    "LS101": "mutating method or function called on a module-level object in handler code",
    "LS102": "item or attribute of a module-level object assigned, augmented or deleted "
    "in handler code",
    "LS103": "module-level name rebound through `global` in handler code",
    "LS104": "AWS client, resource or session created in handler code",
    "LS105": "database or HTTP connection opened in handler code",
}
"""Rule codes and what each one reports ("handler code": code reachable from a handler)."""

_MUTATING_METHODS = frozenset(
    {
        "__setitem__",
        "__delitem__",
        "add",
        "append",
        "appendleft",
        "clear",
        "difference_update",
        "discard",
        "extend",
        "extendleft",
        "insert",
        "intersection_update",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "reverse",
        "rotate",
        "setdefault",
        "sort",
        "symmetric_difference_update",
        "update",
    }
)
# Standard-library functions that mutate their first argument in place.
_MUTATING_FUNCTIONS = frozenset(
    {
        "bisect.insort",
        "bisect.insort_left",
        "bisect.insort_right",
        "heapq.heapify",
        "heapq.heappop",
        "heapq.heappush",
        "heapq.heappushpop",
        "heapq.heapreplace",
        "random.shuffle",
    }
)
_SESSIONS = frozenset({"boto3.Session", "boto3.session.Session", "botocore.session.get_session"})
_AWS_FACTORIES = _SESSIONS | {"boto3.client", "boto3.resource"}
_SESSION_METHODS = frozenset({"client", "resource", "create_client"})
# Each opens a network connection (or a pool of them) meant to be reused.
_CONNECTIONS = frozenset(
    {
        "httpx.Client",
        "mysql.connector.connect",
        "pg8000.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "pymongo.MongoClient",
        "pymysql.connect",
        "redis.Redis",
        "redis.Redis.from_url",
        "redis.StrictRedis",
        "redis.from_url",
        "requests.Session",
        "sqlalchemy.create_engine",
        "urllib3.PoolManager",
    }
)
_HANDLER_DECORATORS = frozenset({"handler", "lambdascope.handler"})
_ONCE_DECORATORS = frozenset({"init_resource", "cache", "lru_cache"})
_SKIP_DIRS = frozenset({"__pycache__", "node_modules"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_IGNORE = re.compile(r"#\s*lambdascope:\s*ignore(?:\[([^\]]*)\])?")

_FIX_STATE = "keep per-invocation data local or on `request`"


@dataclass(frozen=True)
class Finding:
    """One problem, at ``path:line:col`` (both 1-based); ``str()`` gives the report line."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


class CheckError(ValueError):
    """A path could not be checked: missing, not a ``*.py`` file, unreadable or invalid Python.

    For a file that is not valid Python, :attr:`finding` is an ``LS000`` finding at the line
    of the error; otherwise it is ``None``.
    """

    def __init__(self, message: str, finding: Finding | None = None) -> None:
        super().__init__(message)
        self.finding = finding


# ------------------------------------------------------------------------------ AST helpers


def _dotted(node: ast.AST) -> str | None:
    """``"a.b.c"`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _root(node: ast.expr) -> ast.Name | None:
    """The Name under ``a.b[c].d`` (through attributes and subscripts only)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _flatten(target: ast.expr) -> Iterator[ast.expr]:
    """The single targets of an assignment target (``a, (b[0], *c)`` → a, b[0], c)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _flatten(elt)
    elif isinstance(target, ast.Starred):
        yield from _flatten(target.value)
    else:
        yield target


def _walk_shallow(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under *nodes*; a nested function, lambda or class is yielded, not entered."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def _body(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.AST]:
    return [node.body] if isinstance(node, ast.Lambda) else list(node.body)


def _scope(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[set[str], set[str]]:
    """(names declared ``global``, names local to the function) of one function scope."""
    declared: set[str] = set()
    local: set[str] = set()
    args = node.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            local.add(arg.arg)
    for sub in _walk_shallow(_body(node)):
        if isinstance(sub, ast.Global):
            declared.update(sub.names)
        elif isinstance(sub, ast.Nonlocal):
            local.update(sub.names)  # an enclosing function's variable: not module state
        elif isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
            local.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            local.update((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            local.add(sub.name)
        elif type(sub).__name__ in ("MatchAs", "MatchStar") and getattr(sub, "name", None):
            local.add(sub.name)  # type: ignore[attr-defined]  # `case [x, *rest]:` (3.10+)
    return declared, local - declared


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not (isinstance(test, ast.Compare) and [type(op) for op in test.ops] == [ast.Eq]):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name → what it was imported as (``{"b3": "boto3", "connect": "pymysql.connect"}``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    names[root] = root
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")  # relative: never a known library
            for alias in node.names:
                names[alias.asname or alias.name] = f"{module}.{alias.name}"
    return names


def _matches(name: str, wanted: Iterable[str]) -> bool:
    """*name* (``f`` or ``Class.method``) is one of *wanted*, or the end of one (``app.f``)."""
    return any(w == name or w.endswith("." + name) for w in wanted)


# ------------------------------------------------------------------------------ module model


class _Function:
    __slots__ = ("class_name", "node", "once", "qualname")

    def __init__(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str | None
    ) -> None:
        self.node = node
        self.class_name = class_name
        self.qualname = f"{class_name}.{node.name}" if class_name else node.name
        self.once = any(
            (_dotted(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
            in _ONCE_DECORATORS
            for d in node.decorator_list
        )


_Scopes = list[tuple[set[str], set[str]]]  # (declared global, local), innermost first


class _Module:
    """The module-level names, functions, classes and handlers of one module."""

    def __init__(self, tree: ast.Module, handler_names: tuple[str, ...]) -> None:
        self.imports = _imports(tree)
        self.functions: dict[str, _Function] = {}
        self.classes: set[str] = set()
        self.objects: set[str] = set()  # names bound at module level other than by import
        self.instances: dict[str, str] = {}  # `service = Service()` → {"service": "Service"}
        self.sessions: set[str] = set()  # `session = boto3.Session()`
        self.allow: dict[str, frozenset[str]] = {}  # handler → names in its `allow=`
        self._collect(tree.body)
        self.handlers = self._find_handlers(tree, handler_names)

    def qualify(self, node: ast.AST) -> str | None:
        """*node*'s dotted name, its root import resolved (``b3.client`` → ``boto3.client``)."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        root, dot, rest = dotted.partition(".")
        return self.imports.get(root, root) + dot + rest

    def _collect(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = _Function(stmt, None)
                self.objects.add(stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                self.classes.add(stmt.name)
                self.objects.add(stmt.name)
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        method = _Function(item, stmt.name)
                        self.functions[method.qualname] = method
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value:
                self._bind(
                    stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target], stmt.value
                )
            elif isinstance(stmt, ast.If) and not _is_main_guard(stmt.test):
                self._collect(stmt.body + stmt.orelse)
            elif isinstance(stmt, ast.Try):
                handlers = [s for h in stmt.handlers for s in h.body]
                self._collect(stmt.body + handlers + stmt.orelse + stmt.finalbody)
            elif isinstance(stmt, ast.With):
                self._collect(stmt.body)

    def _bind(self, targets: list[ast.expr], value: ast.expr) -> None:
        if self.qualify(value) == "lambdascope.request":
            return  # `request = lambdascope.request`: the per-invocation scope itself
        called = self.qualify(value.func) if isinstance(value, ast.Call) else None
        for target in targets:
            for name in _flatten(target):
                if isinstance(name, ast.Name):
                    self.objects.add(name.id)
                    if called in self.classes:
                        self.instances[name.id] = str(called)
                    if called in _SESSIONS:
                        self.sessions.add(name.id)

    def _is_handler_decorator(self, node: ast.expr) -> bool:
        return (
            self.qualify(node.func if isinstance(node, ast.Call) else node) in _HANDLER_DECORATORS
        )

    def _find_handlers(self, tree: ast.Module, names: tuple[str, ...]) -> list[_Function]:
        found: dict[str, _Function] = {}
        for func in self.functions.values():
            node = func.node
            positional = len(node.args.posonlyargs) + len(node.args.args)
            shaped = func.class_name is None and (
                node.name == "lambda_handler"
                or (node.name == "handler" and positional == 2 and node.args.vararg is None)
            )
            decorators = [d for d in node.decorator_list if self._is_handler_decorator(d)]
            if shaped or decorators or _matches(func.qualname, names):
                found[func.qualname] = func
            for decorator in decorators:
                self._allow(func, decorator)
        # `lambda_handler = handler(impl)`, `lambda_handler = service.handle`
        for stmt in tree.body:
            if not isinstance(stmt, ast.Assign):
                continue
            call, value = None, stmt.value
            if isinstance(value, ast.Call) and self._is_handler_decorator(value) and value.args:
                call, value = value, value.args[0]
            elif not any(
                isinstance(t, ast.Name) and (t.id == "lambda_handler" or _matches(t.id, names))
                for t in stmt.targets
            ):
                continue
            target = self.resolve(value, [], {}, None)
            if target is not None:
                found.setdefault(target.qualname, target)
                if call is not None:
                    self._allow(target, call)
        return list(found.values())

    def _allow(self, func: _Function, decorator: ast.expr) -> None:
        """Record the plain names of ``@handler(allow=("CACHE", ...))`` for *func*."""
        for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
            if keyword.arg == "allow" and isinstance(keyword.value, (ast.Tuple, ast.List)):
                self.allow[func.qualname] = frozenset(
                    e.value
                    for e in keyword.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )

    def is_module_name(self, name: str, scopes: _Scopes) -> bool:
        """Whether *name*, used inside *scopes*, refers to the module-level name."""
        for declared, local in scopes:
            if name in declared:
                return True
            if name in local:
                return False
        return True

    def resolve(
        self, node: ast.expr, scopes: _Scopes, instances: dict[str, str], class_name: str | None
    ) -> _Function | None:
        """The module's own function or method *node* refers to, when that can be told."""
        if isinstance(node, ast.Name):
            if not self.is_module_name(node.id, scopes):
                return None
            if node.id in self.classes:
                return self.functions.get(f"{node.id}.__init__")
            return self.functions.get(node.id)
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        owner = node.value.id
        if owner in ("self", "cls") and class_name:
            cls: str | None = class_name
        elif owner in instances:
            cls = instances[owner]
        elif self.is_module_name(owner, scopes):
            cls = owner if owner in self.classes else self.instances.get(owner)
        else:
            cls = None
        return self.functions.get(f"{cls}.{node.attr}") if cls else None


# ------------------------------------------------------------------------------ analysis


class _Checker:
    def __init__(self, module: _Module, path: str, lines: list[str]) -> None:
        self.module = module
        self.path = path
        self.lines = lines
        self.findings: dict[tuple[int, int, str], Finding] = {}
        self.callees: list[_Function] = []
        self.where = ""
        self.allowed: frozenset[str] = frozenset()

    def run(self) -> list[Finding]:
        """Analyse every handler and the functions it reaches, breadth first."""
        queue = deque((h, h) for h in self.module.handlers)
        seen: set[tuple[str, str]] = set()
        while queue:
            func, root = queue.popleft()
            if (func.qualname, root.qualname) in seen or func.once:
                continue
            seen.add((func.qualname, root.qualname))
            self.where = f"in handler {root.qualname}()"
            if func is not root:
                self.where = f"in {func.qualname}() (called from handler {root.qualname}())"
            self.allowed = self.module.allow.get(root.qualname, frozenset())
            self.callees = []
            self._visit(func.node, [_scope(func.node)], func, {})
            queue.extend((callee, root) for callee in self.callees)
        return sorted(self.findings.values(), key=_order)

    def _report(self, node: ast.expr, code: str, message: str) -> None:
        line = node.lineno
        ignore = _IGNORE.search(self.lines[line - 1])
        if ignore and (ignore[1] is None or code in {c.strip() for c in ignore[1].split(",")}):
            return
        key = (line, node.col_offset, code)
        self.findings.setdefault(key, Finding(self.path, line, node.col_offset + 1, code, message))

    def _module_object(self, node: ast.expr, scopes: _Scopes) -> str | None:
        """The module-level name at the root of *node*, unless local or in ``allow=``."""
        root = _root(node)
        if root is None or root.id not in self.module.objects or root.id in self.allowed:
            return None
        return root.id if self.module.is_module_name(root.id, scopes) else None

    def _visit(
        self,
        scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scopes: _Scopes,
        func: _Function,
        instances: dict[str, str],
    ) -> None:
        body = _body(scope)
        instances = {**instances, **self._local_instances(body, scopes)}
        for node in _walk_shallow(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if isinstance(node, ast.Lambda) or not _Function(node, None).once:
                    self._visit(node, [_scope(node), *scopes], func, instances)
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                callee = self.module.resolve(node, scopes, instances, func.class_name)
                if callee is not None:
                    self.callees.append(callee)
            elif isinstance(node, ast.Call):
                self._call(node, scopes)
            else:
                verb = {ast.Delete: "deleted", ast.AugAssign: "updated"}.get(type(node), "assigned")
                for target in _store_targets(node):
                    self._store(target, scopes, verb)

    def _local_instances(self, body: list[ast.AST], scopes: _Scopes) -> dict[str, str]:
        """``svc = Service()`` in this function: ``svc.method()`` goes to ``Service.method``."""
        found: dict[str, str] = {}
        for node in _walk_shallow(body):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id in self.module.classes
                and self.module.is_module_name(node.value.func.id, scopes)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.func.id
        return found

    def _call(self, call: ast.Call, scopes: _Scopes) -> None:
        target = call.func
        qualified = self.module.qualify(target)
        if isinstance(target, ast.Attribute) and target.attr in _MUTATING_METHODS:
            name = self._module_object(target.value, scopes)
            shown = f"{_show(target)}(...)"
        elif qualified in _MUTATING_FUNCTIONS and call.args:
            name = self._module_object(call.args[0], scopes)
            shown = f"{qualified}({_show(call.args[0])}, ...)"
        else:
            name = None
        if name:
            self._report(
                call,
                "LS101",
                f"`{shown}` {self.where} mutates module-level `{name}`, which outlives the "
                f"invocation: {_FIX_STATE}",
            )
        session = (
            isinstance(target, ast.Attribute)
            and target.attr in _SESSION_METHODS
            and isinstance(target.value, ast.Name)
            and target.value.id in self.module.sessions
            and self.module.is_module_name(target.value.id, scopes)
        )
        if qualified in _AWS_FACTORIES or session:
            self._report(
                call,
                "LS104",
                f"`{_show(target)}(...)` {self.where} creates an AWS client or session on "
                "every invocation: create it once, in an @init_resource factory or with "
                "lambdascope.aws.client()",
            )
        elif qualified in _CONNECTIONS:
            self._report(
                call,
                "LS105",
                f"`{_show(target)}(...)` {self.where} opens a connection on every invocation: "
                "open it once, in an @init_resource factory",
            )

    def _store(self, target: ast.expr, scopes: _Scopes, verb: str) -> None:
        for sub in _flatten(target):
            if not isinstance(sub, ast.Name):
                name = self._module_object(sub, scopes)
                if name:
                    self._report(
                        sub,
                        "LS102",
                        f"`{_show(sub)}` {verb} {self.where}: module-level `{name}` outlives "
                        f"the invocation; {_FIX_STATE}",
                    )
            elif sub.id in scopes[0][0] and sub.id not in self.allowed:
                self._report(
                    sub,
                    "LS103",
                    f"`global {sub.id}` {verb} {self.where}: the module-level name outlives "
                    f"the invocation; {_FIX_STATE}",
                )


def _store_targets(node: ast.AST) -> list[ast.expr]:
    """What a statement or expression binds or writes to (empty when nothing)."""
    if isinstance(node, (ast.Assign, ast.Delete)):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in node.items if i.optional_vars is not None]
    return []


def _show(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _order(finding: Finding) -> tuple[str, int, int, str]:
    return finding.path, finding.line, finding.col, finding.code


# ------------------------------------------------------------------------------ public API


def check_source(
    source: str, filename: str = "<string>", handlers: Iterable[str] = ()
) -> list[Finding]:
    """Check one module's source text; return its findings ordered by line.

    *handlers* names more functions to treat as handlers: ``"process"``,
    ``"Service.handle"``, or a Lambda handler setting such as ``"app.process"``.

    Raises:
        CheckError: *source* is not valid Python (its ``finding`` is an ``LS000`` finding).
    """
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes before Python 3.12
        line = getattr(exc, "lineno", None) or 1
        message = getattr(exc, "msg", None) or str(exc)
        finding = Finding(filename, line, 1, "LS000", f"syntax error: {message}")
        raise CheckError(str(finding), finding) from None
    module = _Module(tree, tuple(handlers))
    lines = re.split(r"\r\n?|\n", source)  # Python's line breaks only, unlike str.splitlines
    return _Checker(module, filename, lines).run()


def _expand(paths: Iterable[str]) -> list[str]:
    """The ``*.py`` files named by *paths*, directories walked recursively."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS
                )
                files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
        elif not os.path.exists(path):
            raise CheckError(f"{path}: no such file or directory")
        elif not path.endswith(".py"):
            raise CheckError(f"{path}: not a Python file (*.py)")
        else:
            files.append(path)
    return list(dict.fromkeys(files))  # each file once, even when named twice


def _read(path: str) -> str:
    try:
        with tokenize.open(path) as fh:  # honours PEP 263 encoding declarations
            return fh.read()
    except OSError as exc:
        raise CheckError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (SyntaxError, UnicodeDecodeError) as exc:
        finding = Finding(path, 1, 1, "LS000", f"syntax error: cannot decode: {exc}")
        raise CheckError(str(finding), finding) from None


def check_paths(paths: Iterable[str], handlers: Iterable[str] = ()) -> list[Finding]:
    """Check files and directories (their ``*.py`` files, recursively); return all findings.

    Hidden directories, ``__pycache__`` and ``node_modules`` are skipped.

    Raises:
        CheckError: a path does not exist, is not a ``*.py`` file or directory, cannot be
            read, or holds invalid Python.
    """
    handlers = tuple(handlers)
    findings: list[Finding] = []
    for path in _expand(paths):
        findings += check_source(_read(path), path, handlers)
    return sorted(findings, key=_order)


# ------------------------------------------------------------------------------ CLI


def _codes(value: str) -> tuple[str, ...]:
    import argparse

    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    unknown = [c for c in codes if not any(rule.startswith(c) for rule in RULES)]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(
            f"unknown rule code(s) {', '.join(unknown) or repr(value)}; known: {', '.join(RULES)}"
        )
    return codes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``check`` arguments to *parser* (the CLI dispatcher's sub-parser)."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="*.py files or directories")
    parser.add_argument(
        "--handler",
        action="append",
        metavar="NAME",
        help="also treat NAME as a handler (function, Class.method or module.function); repeatable",
    )
    parser.add_argument(
        "--select",
        type=_codes,
        default=(),
        metavar="CODES",
        help="report only these rules (LS101,LS104)",
    )
    parser.add_argument(
        "--ignore", type=_codes, default=(), metavar="CODES", help="do not report these rules"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    """Check ``args.paths``, print the findings and return the exit status (0, 1 or 2)."""
    try:
        files = _expand(args.paths)
    except CheckError as exc:
        print(f"lambdascope check: error: {exc}", file=sys.stderr)
        return 2
    findings: list[Finding] = []
    failed = False
    for path in files:
        try:
            findings += check_source(_read(path), path, args.handler or ())
        except CheckError as exc:
            if exc.finding is None:
                print(f"lambdascope check: error: {exc}", file=sys.stderr)
                failed = True
            else:
                findings.append(exc.finding)
    shown = sorted(
        (
            f
            for f in findings
            if f.code == "LS000"
            or (
                (not args.select or f.code.startswith(args.select))
                and not f.code.startswith(tuple(args.ignore))
            )
        ),
        key=_order,
    )
    if args.format == "json":
        print(json.dumps([asdict(f) for f in shown], indent=2))
    else:
        for finding in shown:
            print(finding)
    if failed or any(f.code == "LS000" for f in shown):
        return 2
    return 1 if shown else 0


_EPILOG = (
    "rules:\n"
    + "".join(f"  {code}  {text}\n" for code, text in RULES.items())
    + "\nSilence a line with `# lambdascope: ignore` or `# lambdascope: ignore[LS101]`.\n"
    "Exit status: 0 nothing found, 1 findings, 2 usage error, unreadable or invalid file (LS000)."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lambdascope check`` with *argv* (default: ``sys.argv[1:]``); return the exit status."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="lambdascope check",
        description="Statically check Lambda handler modules for state that leaks between "
        "warm invocations and for clients or connections created on every invocation.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # argparse: 2 on a usage error, 0 after --help
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":  # pragma: no cover - run in a subprocess by the tests
    sys.exit(main())
