"""The analysis behind ``lambdascope check``: handler code, what it writes, what it creates.

From every handler the checker follows the functions it reaches — in its own module and, through
imports, in the other modules of the checked tree — and reports (see :data:`RULES`):

- per-invocation data written into module-level state (LS101 mutating call, LS102 item or
  attribute write, LS103 ``global`` rebinding with request data or an accumulating value);
- clients and connections built on every invocation (LS104 AWS, LS105 others), unless built from
  the event or from per-request credentials (legitimately per invocation);
- mutable default arguments mutated in handler code (LS106);
- memo caches: a module dict filled by key is a cache, not a leak (LS109, info), but one keyed
  by event data without any bound grows with every request (LS107, warning);
- lazy initialisation by hand (``global client; if client is None: client = ...``): LS108, info.
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from dataclasses import dataclass

from lambdascope._mutators import MUTATING_METHODS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from ._parse import Parsed

__all__ = ["RULES", "Finding", "Project", "Rule"]


@dataclass(frozen=True)
class Rule:
    """A rule: its code, severity (``error``, ``warning`` or ``info``), name and summary."""

    code: str
    severity: str
    name: str
    summary: str


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "LS000",
            "warning",
            "file-not-analysed",
            "a file could not be read or parsed, so it was not analysed (the run goes on)",
        ),
        Rule(
            "LS101",
            "error",
            "module-state-mutated",
            "handler code mutates a module-level "
            "object (append, update, ...): the next warm invocation sees the data",
        ),
        Rule(
            "LS102",
            "error",
            "module-state-written",
            "handler code assigns, augments or "
            "deletes an item or attribute of a module-level object",
        ),
        Rule(
            "LS103",
            "error",
            "global-rebound",
            "handler code rebinds a module-level name "
            "through `global` with request data or an accumulating value",
        ),
        Rule(
            "LS104",
            "error",
            "aws-client-per-invocation",
            "an AWS client, resource or session is created on every invocation",
        ),
        Rule(
            "LS105",
            "error",
            "connection-per-invocation",
            "a database, search or HTTP client/connection is created on every invocation",
        ),
        Rule(
            "LS106",
            "error",
            "mutable-default-mutated",
            "a mutable default argument of a "
            "handler-reachable function is mutated: the default is shared by all invocations",
        ),
        Rule(
            "LS107",
            "warning",
            "unbounded-cache",
            "a module-level cache keyed by event data grows without bound across warm invocations",
        ),
        Rule(
            "LS108",
            "info",
            "lazy-init-by-hand",
            "a module-level name is initialised on "
            "first use by hand (`global x; if x is None: x = ...`): @init_resource does it",
        ),
        Rule(
            "LS109",
            "info",
            "memo-cache",
            "a module-level dict is filled by key as a memo "
            "cache: give it a lifetime with @init_resource(ttl=...) or declare it with allow=",
        ),
    )
}
"""Every rule by code ("handler code": code reachable from a handler)."""
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One finding at ``path:line:col`` (1-based); ``str()`` gives the text report line."""

    path: str
    line: int
    col: int
    code: str
    message: str

    @property
    def severity(self) -> str:
        """``error``, ``warning`` or ``info`` (the rule's)."""
        return RULES[self.code].severity

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} [{self.severity}] {self.message}"


_CACHE_UPKEEP = frozenset({"clear", "pop", "popitem", "setdefault", "update", "__delitem__"})
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
_AWS_FACTORIES = _SESSIONS | {"boto3.client", "boto3.resource", "aioboto3.Session"}
_SESSION_METHODS = frozenset({"client", "resource", "create_client"})
# Each opens a network connection (or a pool of them) meant to be reused.
_CONNECTIONS = frozenset(
    {
        "aiohttp.ClientSession",
        "elasticsearch.Elasticsearch",
        "httpx.AsyncClient",
        "httpx.Client",
        "mysql.connector.connect",
        "opensearchpy.AsyncOpenSearch",
        "opensearchpy.OpenSearch",
        "pg8000.connect",
        "psycopg.AsyncConnection.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "psycopg_pool.ConnectionPool",
        "pymongo.MongoClient",
        "pymysql.connect",
        "pymysql.connections.Connection",
        "redis.Redis",
        "redis.Redis.from_url",
        "redis.StrictRedis",
        "redis.asyncio.Redis",
        "redis.cluster.RedisCluster",
        "redis.from_url",
        "requests.Session",
        "requests.session",
        "sqlalchemy.create_engine",
        "urllib3.PoolManager",
        "motor.motor_asyncio.AsyncIOMotorClient",
        "aurora_dsql_psycopg2.connect",
        "asyncpg.connect",
        "asyncpg.create_pool",
        "aiomysql.connect",
        "cx_Oracle.connect",
        "oracledb.connect",
        "pymssql.connect",
        "pyodbc.connect",
        "snowflake.connector.connect",
        "neo4j.GraphDatabase.driver",
        "cassandra.cluster.Cluster",
        "pika.BlockingConnection",
        "elasticsearch.AsyncElasticsearch",
    }
)
_CREDENTIAL_KEYWORDS = frozenset({"aws_access_key_id", "aws_session_token", "botocore_session"})
_CREDENTIAL_CALLS = frozenset(
    {"assume_role", "assume_role_with_web_identity", "assume_role_with_saml", "get_credentials"}
)
_EVENT_ATTRIBUTES = frozenset({"current_event", "json_body", "raw_event"})
_HANDLER_DECORATORS = frozenset({"handler", "lambdascope.handler"})
_ONCE_DECORATORS = frozenset({"init_resource", "cache", "lru_cache", "cached_property"})
# Objects whose decorators register functions that run per invocation (Powertools event
# handlers and routers, crhelper's CfnResource, Chalice apps).
_REGISTRIES = frozenset(
    {
        "ALBResolver",
        "APIGatewayHttpResolver",
        "APIGatewayRestResolver",
        "APIGatewayResolver",
        "AppSyncResolver",
        "BedrockAgentResolver",
        "CfnResource",
        "Chalice",
        "LambdaFunctionUrlResolver",
        "Router",
        "VPCLatticeResolver",
        "VPCLatticeV2Resolver",
    }
)
_EVENT_PARAMS = frozenset({"event", "_event", "evt", "events"})
_CONTEXT_PARAMS = frozenset({"context", "_context", "ctx", "lambda_context", "_"})
_MUTABLE_CALLS = frozenset(
    {
        "list",
        "dict",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
        "defaultdict",
        "OrderedDict",
        "deque",
        "Counter",
    }
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
IGNORE = re.compile(r"#\s*lambdascope:\s*ignore(?:\[([^\]]*)\])?")
_FIX_STATE = "keep per-invocation data in local variables or on `lambdascope.request`"
_WARM = "the next warm invocation in this execution environment still sees it"


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


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.arg]:
    args = node.args
    return [
        a
        for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
        if a is not None
    ]


def _scope(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[set[str], set[str]]:
    """(names declared ``global``, names local to the function) of one function scope."""
    declared: set[str] = set()
    local = {a.arg for a in _params(node)}
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


def _matches(name: str, wanted: Iterable[str]) -> bool:
    """*name* (``f`` or ``Class.method``) is one of *wanted*, or the end of one (``app.f``)."""
    return any(w == name or w.endswith("." + name) for w in wanted)


def _show(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _names(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id


def _written(statements: Iterable[ast.AST]) -> set[str]:
    """Names rebound in *statements*, or written through (items, attributes, mutating calls)."""
    found: set[str] = set()
    for node in _walk_shallow(statements):
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and not isinstance(
            node.ctx, ast.Load
        ):
            root = node if isinstance(node, ast.Name) else _root(node)
            found.update([root.id] if root else [])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATING_METHODS
        ):
            root = _root(node.func.value)
            found.update([root.id] if root else [])
    return found


def _is_len(call: ast.Call) -> bool:
    """``len(NAME)``."""
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "len"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
    )


def _lazy_guard(test: ast.expr) -> tuple[set[str], bool]:  # noqa: PLR0911 - one per test form
    """(names a test checks for "not created yet", whether the test is the positive form).

    ``x is None``, ``not x``, ``k not in X``, ``X.get(k) is None`` → negative (the body
    creates); ``x is not None``, ``x``, ``k in X`` → positive (the body returns the cached
    value, what follows creates).
    """
    if isinstance(test, ast.BoolOp):
        found: set[str] = set()
        positive = False
        for value in test.values:
            names, positive = _lazy_guard(value)
            found |= names
        return found, positive
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        names, positive = _lazy_guard(test.operand)
        return names, not positive
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            root = _root(right)
            return ({root.id} if root else set()), isinstance(op, ast.In)
        if isinstance(right, ast.Constant) and right.value is None:
            return _lazy_guard(test.left)[0], isinstance(op, (ast.IsNot, ast.NotEq))
        return set(), False
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        if test.func.attr == "get":
            root = _root(test.func.value)
            return ({root.id} if root else set()), True
        if _dotted(test.func) is None:
            return set(), False
    if isinstance(test, (ast.Name, ast.Attribute, ast.Subscript)):
        root = _root(test)
        return ({root.id} if root else set()), True
    return set(), False


# ------------------------------------------------------------------------------ module model


class _Function:
    __slots__ = ("class_name", "module", "node", "once", "qualname")

    def __init__(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str | None, module: Module
    ) -> None:
        self.node = node
        self.class_name = class_name
        self.module = module
        self.qualname = f"{class_name}.{node.name}" if class_name else node.name
        self.once = any(
            (_dotted(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
            in _ONCE_DECORATORS
            for d in node.decorator_list
        )


_Scopes = list[tuple[set[str], set[str]]]  # (declared global, local), innermost first


class Module:
    """The module-level names, functions, classes and handlers of one parsed file."""

    def __init__(self, parsed: Parsed) -> None:
        self.path = parsed.path
        self.lines = parsed.lines
        self.name = os.path.splitext(os.path.basename(parsed.path))[0]
        tree = parsed.tree
        self.imports: dict[str, str] = {}  # local name → qualified (relative ones start with .)
        self.import_refs: dict[str, tuple[int, str]] = {}  # local name → (level, dotted)
        self._imports(tree)
        self.functions: dict[str, _Function] = {}
        self.classes: set[str] = set()
        self.objects: set[str] = set()  # names bound at module level other than by import
        self.instances: dict[str, str] = {}  # `service = Service()` → {"service": "Service"}
        self.sessions: set[str] = set()  # `session = boto3.Session()`
        self.registries: set[str] = set()  # `app = APIGatewayRestResolver()`
        self.allow: dict[str, frozenset[str]] = {}  # handler → names in its `allow=`
        self.tree = tree
        self._collect(tree.body)

    def _imports(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    dotted = alias.name if alias.asname else local
                    self.imports[local] = dotted
                    self.import_refs[local] = (0, dotted)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                for alias in node.names:
                    dotted = f"{module}.{alias.name}" if module else alias.name
                    local = alias.asname or alias.name
                    self.imports[local] = "." * node.level + dotted  # never a known library
                    self.import_refs[local] = (node.level, dotted)

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
                self.functions[stmt.name] = _Function(stmt, None, self)
                self.objects.add(stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                self.classes.add(stmt.name)
                self.objects.add(stmt.name)
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        method = _Function(item, stmt.name, self)
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
                    if called and called.rsplit(".", 1)[-1] in _REGISTRIES:
                        self.registries.add(name.id)

    def _is_handler_decorator(self, node: ast.expr) -> bool:
        return (
            self.qualify(node.func if isinstance(node, ast.Call) else node) in _HANDLER_DECORATORS
        )

    def registered(self, func: _Function) -> bool:
        """Registered on a Powertools resolver/router, crhelper or Chalice object."""
        for decorator in func.node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in self.registries
            ):
                return True
        return False

    def find_handlers(self, names: Iterable[str], by_signature: bool) -> list[_Function]:
        """The module's handlers: decorated, named (*names*), registered routes, or shaped."""
        names = tuple(names)
        found: dict[str, _Function] = {}
        for func in self.functions.values():
            node = func.node
            positional = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
            shaped = func.class_name is None and (
                node.name == "lambda_handler"
                or (node.name == "handler" and len(positional) == 2 and not node.args.vararg)
                or (
                    by_signature
                    and len(positional) == 2
                    and positional[0] in _EVENT_PARAMS
                    and positional[1] in _CONTEXT_PARAMS
                    and not node.args.vararg
                )
            )
            decorators = [d for d in node.decorator_list if self._is_handler_decorator(d)]
            registered = func.class_name is None and self.registered(func)
            if shaped or decorators or registered or _matches(func.qualname, names):
                found[func.qualname] = func
            for decorator in decorators:
                self._allow(func, decorator)
        # `lambda_handler = handler(impl)`, `lambda_handler = service.handle`
        for stmt in self.tree.body:
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
    def is_module_name(name: str, scopes: _Scopes) -> bool:
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


# ------------------------------------------------------------------------------ project


class Project:
    """The parsed modules of a checked tree; resolves imports between them."""

    def __init__(self, parsed: Iterable[Parsed], roots: Iterable[str]) -> None:
        self.modules = {os.path.abspath(p.path): Module(p) for p in parsed}
        self.roots = sorted({os.path.abspath(r) for r in roots}, key=len, reverse=True)
        # Lambda layers put their code under python/ (/opt/python on Lambda): importable too
        self.layer_modules = [p for p in self.modules if "layer" in os.path.dirname(p).lower()]
        self.layers = sorted(
            {
                folder
                for folder in map(os.path.dirname, self.modules)
                if os.path.basename(folder) == "python"
            }
        )

    def _bases(self, path: str, level: int) -> list[str]:
        folder = os.path.dirname(path)
        if level:
            for _ in range(level - 1):
                folder = os.path.dirname(folder)
            return [folder]
        root = next((r for r in self.roots if (folder + os.sep).startswith(r + os.sep)), folder)
        bases = [folder]
        while folder != root and len(folder) > len(root):
            folder = os.path.dirname(folder)
            bases.append(folder)
        return bases + [layer for layer in self.layers if layer.startswith(root + os.sep)]

    def relative(self, path: str) -> str:
        """*path* relative to the checked directory it is in (``/``-separated)."""
        full = os.path.abspath(path)
        root = next((r for r in self.roots if full.startswith(r + os.sep)), os.path.dirname(full))
        return os.path.relpath(full, root).replace(os.sep, "/")

    def find_module(self, path: str, level: int, dotted: str) -> Module | None:
        """The checked module ``import dotted`` (with *level* dots) names from *path*."""
        rel = os.path.join(*dotted.split(".")) if dotted else ""
        for base in self._bases(os.path.abspath(path), level):
            folder = os.path.join(base, rel) if rel else base
            for candidate in ((folder + ".py",) if rel else ()) + (
                os.path.join(folder, "__init__.py"),
            ):
                if candidate in self.modules:
                    return self.modules[candidate]
        if level or not rel:
            return None
        # a layer's code (`layers/common/common/db.py`), packaged to /opt/python by the build
        for end in (os.sep + rel + ".py", os.sep + os.path.join(rel, "__init__.py")):
            found = [p for p in self.layer_modules if p.endswith(end)]
            if found:
                return self.modules[found[0]] if len(found) == 1 else None
        return None

    def _locate(self, module: Module, dotted: str, depth: int = 0) -> tuple[Module, str] | None:
        """(the other checked module, the name in it) that *dotted* (``helpers.run``) names."""
        head, _, rest = dotted.partition(".")
        if head not in module.import_refs or depth > 3:
            return None
        level, full = module.import_refs[head]
        parts = (full + ("." + rest if rest else "")).split(".")
        for cut in range(len(parts) - 1, -1 if level else 0, -1):
            target = self.find_module(module.path, level, ".".join(parts[:cut]))
            if target is None or target is module:
                continue
            attr = ".".join(parts[cut:])
            first = attr.split(".")[0]
            if first in target.import_refs:  # a re-export: `from .core import run`
                return self._locate(target, attr, depth + 1)
            return target, attr
        return None

    def imported(self, module: Module, dotted: str) -> _Function | None:
        """The function (or class's ``__init__``) of another checked module *dotted* names."""
        found = self._locate(module, dotted)
        if found is None:
            return None
        target, attr = found
        return target.functions.get(attr + ".__init__" if attr in target.classes else attr)

    def imported_class(self, module: Module, dotted: str) -> str | None:
        """``"path::Class"`` for a class of another checked module that *dotted* names."""
        found = self._locate(module, dotted)
        if found is None or found[1] not in found[0].classes:
            return None
        return f"{os.path.abspath(found[0].path)}::{found[1]}"

    def check(self, handlers: dict[str, list[_Function]]) -> list[Finding]:
        """Analyse every handler of every module (``{path: handlers}``)."""
        checker = _Checker(self)
        for path in sorted(handlers):
            for function in handlers[path]:
                checker.run(function)
        return sorted(checker.findings.values(), key=order)


def order(finding: Finding) -> tuple[str, int, int, str]:
    """Findings sort by file, line, column and code."""
    return finding.path, finding.line, finding.col, finding.code


# ------------------------------------------------------------------------------ analysis


class _Frame:
    """What one function body (one scope) knows while it is visited."""

    __slots__ = ("bounded", "defaults", "guarded", "memo", "scopes", "tainted")

    def __init__(self, scopes: _Scopes) -> None:
        self.scopes = scopes
        self.tainted: set[str] = set()
        self.guarded: dict[int, set[str]] = {}  # id(node) → names checked before creating
        self.memo: set[str] = set()  # module dicts used as memo caches here
        self.bounded: set[str] = set()  # ... whose size is kept in check here
        self.defaults: dict[str, str] = {}  # parameter → its mutable default, shown


def _statement_lists(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value
    for handler in getattr(node, "handlers", ()):
        yield handler.body


_Call = tuple["_Function", frozenset[str], tuple[str, ...], bool, bool]


def _bind_args(
    callee: _Function, call: ast.Call, tainted: Callable[[ast.AST], bool]
) -> frozenset[str]:
    """The parameters of *callee* that *call* passes event data to."""
    params = [a.arg for a in [*callee.node.args.posonlyargs, *callee.node.args.args]]
    if callee.class_name and params and params[0] in ("self", "cls"):
        params = params[1:]
    found: set[str] = set()
    for i, arg in enumerate(call.args):
        if tainted(arg):
            if isinstance(arg, ast.Starred) or i >= len(params):
                return frozenset(a.arg for a in _params(callee.node))
            found.add(params[i])
    for keyword in call.keywords:
        if tainted(keyword.value):
            if keyword.arg is None:
                return frozenset(a.arg for a in _params(callee.node))
            found.add(keyword.arg)
    return frozenset(found)


class _Checker:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.findings: dict[tuple[str, int, int, str], Finding] = {}
        self.where = ""
        self.allowed: frozenset[str] = frozenset()
        self.callees: list[tuple[_Function, frozenset[str], bool, bool]] = []
        self.once = False  # visiting code reached from a lazy initialisation: runs once
        self.kept = False  # visiting a method of an instance that outlives the invocation

    def run(self, root: _Function) -> None:
        """Analyse *root* and the functions it reaches, breadth first."""
        params = [a.arg for a in _params(root.node) if a.arg not in ("self", "cls")]
        # a route's parameters come from the request path; a handler's first one is the event
        route = root.module.registered(root)
        starts = frozenset(params if route else params[:1]) - _CONTEXT_PARAMS
        queue: deque[_Call] = deque([(root, starts, (), False, False)])
        seen: set[tuple[int, frozenset[str], bool, bool]] = set()
        while queue:
            func, tainted, chain, once, kept = queue.popleft()
            if (id(func), tainted, once, kept) in seen or func.once or len(seen) > 500:
                continue
            seen.add((id(func), tainted, once, kept))
            shown = func.qualname
            if func.module is not root.module:
                shown = f"{func.module.name}.{func.qualname}"
            chain = (*chain, shown)
            if func is root:
                self.where = f"in handler {shown}()"
            else:
                via = " → ".join(f"{c}()" for c in chain[1:-1])
                self.where = (
                    f"in {shown}() (called from handler {chain[0]}()"
                    + (f" in {root.module.path}" if func.module is not root.module else "")
                    + (f" via {via}" if via else "")
                    + ")"
                )
            self.allowed = (
                root.module.allow.get(root.qualname, frozenset())
                if func.module is root.module
                else frozenset()
            )
            self.once = once
            self.kept = kept
            self.callees = []
            node = func.node
            self._visit(func.module, node, [_scope(node)], func, instances={}, tainted=set(tainted))
            queue.extend((c, t, chain, once or o, k) for c, t, o, k in self.callees)

    # ---------------------------------------------------------------- reporting

    def _report(self, module: Module, node: ast.AST, code: str, message: str) -> None:
        line = getattr(node, "lineno", 1)
        ignore = IGNORE.search(module.lines[line - 1]) if line <= len(module.lines) else None
        if ignore and (ignore[1] is None or code in {c.strip() for c in ignore[1].split(",")}):
            return
        col = getattr(node, "col_offset", 0)
        key = (module.path, line, col, code)
        self.findings.setdefault(key, Finding(module.path, line, col + 1, code, message))

    def _module_object(self, module: Module, node: ast.expr, frame: _Frame) -> str | None:
        """The module-level name at the root of *node*, unless local or in ``allow=``."""
        root = _root(node)
        if root is None or root.id not in module.objects or root.id in self.allowed:
            return None
        if root.id in module.registries:
            return None  # the framework's own per-invocation state (crhelper's `helper.Data`)
        return root.id if module.is_module_name(root.id, frame.scopes) else None

    # ---------------------------------------------------------------- per-scope facts

    def _tainted(self, node: ast.AST, frame: _Frame) -> bool:
        """Whether *node* uses event data or per-request credentials."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in frame.tainted:
                return True
            if isinstance(sub, ast.Attribute) and sub.attr in _EVENT_ATTRIBUTES:
                return True
            if isinstance(sub, ast.Attribute) and _dotted(sub) == "request.event":
                return True
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in _CREDENTIAL_CALLS
            ):
                return True
        return False

    def _prepare(self, module: Module, body: list[ast.AST], frame: _Frame) -> None:
        nodes = list(_walk_shallow(body))
        self._propagate(nodes, frame)
        self._caches(module, body, nodes, frame)

    def _propagate(self, nodes: list[ast.AST], frame: _Frame) -> None:
        """Add the names that carry event data to ``frame.tainted``, to a fixpoint."""
        for _ in range(4):  # names that carry event data, to a fixpoint
            before = len(frame.tainted)
            for node in nodes:
                value: ast.AST | None = None
                targets: list[ast.expr] = []
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                    value = node.value
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    value, targets = node.iter, [node.target]
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    value, targets = node.context_expr, [node.optional_vars]
                if value is not None and self._tainted(value, frame):
                    for target in targets:
                        frame.tainted.update(
                            t.id for t in _flatten(target) if isinstance(t, ast.Name)
                        )
            if len(frame.tainted) == before:
                break

    def _guards(self, module: Module, node: ast.AST, frame: _Frame) -> None:
        """Mark what *node* creates only when a module-level value is missing (lazy init)."""
        if isinstance(node, ast.If):
            names, positive = _lazy_guard(node.test)
            branch = node.orelse if positive else node.body
            names &= _written(branch)  # the branch sets the value up
            if names:
                self._guard(module, branch, names, frame)
        for statements in _statement_lists(node):
            self._early_returns(module, statements, frame)
        if (
            isinstance(node, ast.BoolOp)
            and isinstance(node.op, ast.Or)
            and isinstance(node.values[0], ast.Name)
        ):
            self._guard(module, node.values[1:], {node.values[0].id}, frame)  # x = x or make()

    @staticmethod
    def _cache_call(
        node: ast.Call, read: set[tuple[str, str]], statement: bool, frame: _Frame
    ) -> None:
        if _is_len(node):
            frame.bounded.add(ast.unparse(node.args[0]))  # `len(CACHE)`: a name
        if not (isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)):
            return
        owner, attr = node.func.value.id, node.func.attr
        if attr == "get" and node.args:
            read.add((owner, ast.dump(node.args[0])))
        elif attr == "setdefault" and not statement:
            frame.memo.add(owner)  # `return CACHE.setdefault(k, make())`
        elif attr in ("clear", "pop", "popitem"):
            frame.bounded.add(owner)

    def _early_returns(self, module: Module, statements: list[ast.stmt], frame: _Frame) -> None:
        """``if x is not None: return x`` (the cached value), then what creates it."""
        for i, stmt in enumerate(statements):
            if isinstance(stmt, ast.If) and not stmt.orelse and stmt.body:
                names, positive = _lazy_guard(stmt.test)
                last = stmt.body[-1]
                if positive and isinstance(last, ast.Return) and last.value is not None:
                    names &= set(_names(last.value))
                    if names:
                        self._guard(module, statements[i + 1 :], names, frame)

    def _caches(
        self, module: Module, body: list[ast.AST], nodes: list[ast.AST], frame: _Frame
    ) -> None:
        """Lazy-initialisation guards, memo caches and bounded caches of one scope."""
        stored: set[tuple[str, str]] = set()
        read: set[tuple[str, str]] = set()
        statements = {id(n.value) for n in nodes if isinstance(n, ast.Expr)}
        self._early_returns(module, [b for b in body if isinstance(b, ast.stmt)], frame)
        for node in nodes:
            self._guards(module, node, frame)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                name, key = node.value.id, ast.dump(node.slice)
                if isinstance(node.ctx, ast.Load):
                    read.add((name, key))
                elif isinstance(node.ctx, ast.Store):
                    stored.add((name, key))
                    if name in frame.guarded.get(id(node), ()):
                        frame.memo.add(name)  # `if k not in CACHE: CACHE[k] = ...`
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn)):
                if isinstance(node.comparators[0], ast.Name):
                    read.add((node.comparators[0].id, ast.dump(node.left)))
            elif isinstance(node, ast.Call):
                self._cache_call(node, read, id(node) in statements, frame)
        frame.memo |= {name for name, key in stored & read}
        frame.memo &= module.objects

    def _guard(
        self, module: Module, statements: Iterable[ast.AST], names: set[str], frame: _Frame
    ) -> None:
        """Mark *statements* as run only while module-level *names* are not set up yet."""
        names = {
            n
            for n in names
            if (
                (n in module.objects or n in module.imports)
                and module.is_module_name(n, frame.scopes)
            )
            or (n == "self" and self.kept)  # `self._client` of a module-level instance
            or n == "cls"
        }
        if not names:
            return  # a test of local values only (`if key in allowed: return`)
        for sub in _walk_shallow(statements):
            frame.guarded.setdefault(id(sub), set()).update(names)

    def _defaults(self, module: Module, node: ast.AST, frame: _Frame) -> None:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        walked = list(_walk_shallow(node.body))
        augmented = {id(n.target) for n in walked if isinstance(n, ast.AugAssign)}
        rebound = {
            n.id
            for n in walked
            if isinstance(n, ast.Name)
            and not isinstance(n.ctx, ast.Load)
            and id(n) not in augmented
        }
        for arg, default in pairs:
            mutable = isinstance(
                default, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
            ) or (
                isinstance(default, ast.Call)
                and (module.qualify(default.func) or "") in _MUTABLE_CALLS
            )
            if mutable and arg.arg not in rebound:
                frame.defaults[arg.arg] = _show(default)

    # ---------------------------------------------------------------- the walk

    def _visit(
        self,
        module: Module,
        scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scopes: _Scopes,
        func: _Function,
        *,
        instances: dict[str, str],
        tainted: set[str],
    ) -> None:
        body = _body(scope)
        frame = _Frame(scopes)
        frame.tainted = set(tainted)
        self._prepare(module, body, frame)
        self._defaults(module, scope, frame)
        instances = {**instances, **self._local_instances(module, body, scopes)}
        handled: set[int] = set()
        for node in _walk_shallow(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if isinstance(node, ast.Lambda) or not _Function(node, None, module).once:
                    inner = set(frame.tainted)
                    if frame.tainted:  # callbacks of a handler usually get its data
                        inner.update(a.arg for a in _params(node))
                    self._visit(
                        module,
                        node,
                        [_scope(node), *scopes],
                        func,
                        instances=instances,
                        tainted=inner,
                    )
            elif isinstance(node, ast.Call):
                callee = self._callee(module, node.func, frame, instances, func)
                if callee is not None:
                    handled.add(id(node.func))
                    bound = _bind_args(callee, node, lambda a: self._tainted(a, frame))
                    kept = self._kept(node.func, instances)
                    self.callees.append((callee, bound, id(node) in frame.guarded, kept))
                self._call(module, node, frame)
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                if id(node) not in handled:
                    callee = self._callee(module, node, frame, instances, func)
                    if callee is not None:  # passed on: `map(process, records)`
                        params = frozenset(a.arg for a in _params(callee.node))
                        passed = params - {"self", "cls"} if frame.tainted else frozenset()
                        kept = self._kept(node, instances)
                        self.callees.append((callee, passed, id(node) in frame.guarded, kept))
            else:
                self._statement(module, node, frame)

    def _kept(self, node: ast.expr, instances: dict[str, str]) -> bool:
        """Whether the method *node* names runs on an object that outlives the invocation."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return False
        owner = node.value.id
        if owner == "self":
            return self.kept
        return owner not in instances  # `cls`, a class, a module-level instance: kept

    def _callee(
        self,
        module: Module,
        node: ast.expr,
        frame: _Frame,
        instances: dict[str, str],
        func: _Function,
    ) -> _Function | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            path, sep, cls = instances.get(node.value.id, "").partition("::")
            if sep and path in self.project.modules:  # an instance of another module's class
                return self.project.modules[path].functions.get(f"{cls}.{node.attr}")
        callee = module.resolve(node, frame.scopes, instances, func.class_name)
        if callee is None and isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            head = (dotted or "").split(".")[0]
            if dotted and module.is_module_name(head, frame.scopes):
                callee = self.project.imported(module, dotted)
        return callee

    def _local_instances(
        self, module: Module, body: list[ast.AST], scopes: _Scopes
    ) -> dict[str, str]:
        """``svc = Service()`` in this function: ``svc.method()`` goes to ``Service.method``.

        So does ``svc = Service.get(...)``: an alternate constructor (``from_env``, an ORM's
        ``get``) is taken to return an instance of its class.
        """
        found: dict[str, str] = {}
        for node in _walk_shallow(body):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            dotted = _dotted(node.value.func) or ""
            head = dotted.split(".")[0]
            if not (dotted and module.is_module_name(head, scopes)):
                continue
            cls = self._class(module, dotted)
            if cls is None and "." in dotted:
                cls = self._class(module, dotted.rsplit(".", 1)[0])
            for target in node.targets:
                if isinstance(target, ast.Name) and cls:
                    found[target.id] = cls  # "Class", or "path::Class" in another module
        return found

    def _class(self, module: Module, dotted: str) -> str | None:
        if dotted in module.classes:
            return dotted
        return self.project.imported_class(module, dotted)

    def _memo(
        self, module: Module, node: ast.AST, name: str, key: ast.AST | None, frame: _Frame
    ) -> None:
        shown = _show(node)
        if key is not None and self._tainted(key, frame) and name not in frame.bounded:
            self._report(
                module,
                node,
                "LS107",
                f"`{shown}` {self.where} fills module-level cache `{name}` with a key taken "
                f"from the event: it keeps every distinct key for the life of the execution "
                f"environment, so memory grows with the traffic. Bound it (evict, or "
                f"functools.lru_cache(maxsize=...)) or expire it with @init_resource(ttl=...); "
                f'`allow=("{name}",)` in @handler declares it deliberate',
            )
        else:
            self._report(
                module,
                node,
                "LS109",
                f"`{shown}` {self.where} fills module-level dict `{name}` as a memo cache, "
                f"kept across warm invocations on purpose: say how long it may live with "
                f'@init_resource(ttl=...), or declare it with @handler(allow=("{name}",))',
            )

    def _call(self, module: Module, call: ast.Call, frame: _Frame) -> None:
        self._mutation(module, call, frame)
        self._client(module, call, frame)

    def _mutation(self, module: Module, call: ast.Call, frame: _Frame) -> None:
        target = call.func
        qualified = module.qualify(target)
        name: str | None = None
        if isinstance(target, ast.Attribute) and target.attr in MUTATING_METHODS:
            owner = target.value
            if isinstance(owner, ast.Name) and owner.id in frame.defaults:
                self._default(module, call, owner.id, f"{_show(target)}(...)", frame)
                return
            name = self._module_object(module, owner, frame)
            if name and name in frame.guarded.get(id(call), ()):
                self._memo(module, call, name, None, frame)  # `if not CACHE: CACHE.update(...)`
                return
            if name in frame.memo and isinstance(owner, ast.Name):
                if target.attr == "setdefault":
                    self._memo(module, call, name, call.args[0] if call.args else None, frame)
                if target.attr in _CACHE_UPKEEP:
                    return
            shown = f"{_show(target)}(...)"
        elif qualified in _MUTATING_FUNCTIONS and call.args:
            name = self._module_object(module, call.args[0], frame)
            shown = f"{qualified}({_show(call.args[0])}, ...)"
        if name:
            self._report(
                module,
                call,
                "LS101",
                f"`{shown}` {self.where} mutates module-level `{name}`: {_WARM} (data of one "
                f"request leaks into the next); {_FIX_STATE}",
            )

    def _client(self, module: Module, call: ast.Call, frame: _Frame) -> None:
        target = call.func
        qualified = module.qualify(target)
        session = (
            isinstance(target, ast.Attribute)
            and target.attr in _SESSION_METHODS
            and isinstance(target.value, ast.Name)
            and target.value.id in module.sessions
            and module.is_module_name(target.value.id, frame.scopes)
        )
        aws = qualified in _AWS_FACTORIES or session
        if not (aws or qualified in _CONNECTIONS) or id(call) in frame.guarded or self.once:
            return
        if any(k.arg in _CREDENTIAL_KEYWORDS for k in call.keywords) or any(
            self._tainted(a, frame) for a in [*call.args, *(k.value for k in call.keywords)]
        ):
            return  # built from the event or per-request credentials: per invocation by design
        if aws and qualified in _SESSIONS:
            self._report(
                module,
                call,
                "LS104",
                f"`{_show(target)}(...)` {self.where} builds a new boto3 session on every "
                "invocation, warm ones included (configuration loaded and credentials resolved "
                "again): create it once, in an @init_resource factory (for the region alone, "
                'read os.environ["AWS_REGION"])',
            )
        elif aws:
            self._report(
                module,
                call,
                "LS104",
                f"`{_show(target)}(...)` {self.where} builds a new AWS client on every "
                "invocation, warm ones included (tens of milliseconds and a new TLS "
                "connection each time): create it once, in an @init_resource factory or with "
                "lambdascope.aws.client()",
            )
        else:
            self._report(
                module,
                call,
                "LS105",
                f"`{_show(target)}(...)` {self.where} opens a new connection on every "
                "invocation, warm ones included: open it once, in an @init_resource factory "
                "(validate= reconnects when it drops)",
            )

    def _default(
        self, module: Module, node: ast.AST, param: str, shown: str, frame: _Frame
    ) -> None:
        self._report(
            module,
            node,
            "LS106",
            f"`{shown}` {self.where} mutates the default value of parameter `{param}` "
            f"(`{frame.defaults[param]}`), created once when the function is defined and "
            f"shared by every later call: a warm invocation sees what earlier ones put there. "
            f"Default to None and create a new one inside",
        )

    def _statement(self, module: Module, node: ast.AST, frame: _Frame) -> None:
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
            for sub in _flatten(target):
                self._store(module, node, sub, value=value, verb=verb, frame=frame)

    def _store(  # noqa: PLR0911 - one return per kind of target
        self,
        module: Module,
        statement: ast.AST,
        sub: ast.expr,
        *,
        value: ast.AST | None,
        verb: str,
        frame: _Frame,
    ) -> None:
        if not isinstance(sub, ast.Name):
            root = _root(sub)
            if root is not None and root.id in frame.defaults:
                self._default(module, sub, root.id, f"{_show(sub)}", frame)
                return
            name = self._module_object(module, sub, frame)
            if not name:
                return
            if name in frame.memo and isinstance(sub, ast.Subscript):
                if verb != "deleted":
                    key = sub
                    while isinstance(key.value, ast.Subscript):
                        key = key.value
                    self._memo(module, sub, name, key.slice, frame)
                return
            self._report(
                module,
                sub,
                "LS102",
                f"`{_show(sub)}` {verb} {self.where}: module-level `{name}` keeps it, and "
                f"{_WARM}; {_FIX_STATE}, or declare a deliberate cache with allow=",
            )
            return
        if isinstance(statement, ast.AugAssign) and sub.id in frame.defaults:
            self._default(module, sub, sub.id, _show(statement), frame)
            return
        if sub.id not in frame.scopes[0][0] or sub.id in self.allowed:
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
            self._report(
                module,
                sub,
                "LS108",
                f"`global {sub.id}` is set on first use {self.where}: lazy initialisation by "
                f"hand, once per execution environment (warm invocations reuse it). "
                f"@init_resource does the same, thread-safely, with ttl=, validate= and close=",
            )
            return
        accumulates = verb in ("updated", "deleted") or (
            value is not None and sub.id in set(_names(value))
        )
        if accumulates or (value is not None and self._tainted(value, frame)):
            what = "accumulates across invocations" if accumulates else "holds request data"
            self._report(
                module,
                sub,
                "LS103",
                f"`global {sub.id}` {verb} {self.where} {what}: {_WARM}, not the module's "
                f"initial value; {_FIX_STATE} (`request.invocation` counts invocations)",
            )
