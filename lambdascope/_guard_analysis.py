"""Static write analysis: which module-level names can handler-time code write?

The guard watches only what handler code can write. This module reads a guarded
module's source once (``ast``, on the first invocation) and answers, for every
module-level name, whether *handler-time code* may write into the value bound
to it, and how deeply (:func:`analyse` returns an :class:`Analysis`). The
runtime side then snapshots and compares only those values, and compares every
binding by identity.

Handler-time code
    Every function, lambda and method body, at any nesting. Not module-level
    statements, not module-level class bodies (both run during Init), not an
    ``if __name__ == "__main__":`` block, and not the bodies of
    ``@init_resource`` factories (init-scope by nature; recognised through the
    module's imports: ``init_resource``, ``init_resource(...)``,
    ``lambdascope.init_resource``, ``ls.init_resource``, ``as`` names). Those
    are still read for how values flow (``ALIAS = TABLE`` or
    ``REPO = Repo(TABLE)`` at module level, what a factory returns), but
    nothing they do counts as a write.

What is a write of module global ``X`` (when unsure, it is one)
    - ``global X`` and an assignment, ``del``, augmented assignment, import,
      ``def``/``class`` or ``except ... as X``: ``X`` is *rebound* (and
      ``written`` deep if its value is also mutated);
    - a subscript or attribute store or delete on ``X`` or on something that
      may alias it (``X[k] = v``, ``X.a = v``, ``del X[k]``, ``X[k] += 1``;
      an in-place operator may also mutate the value or item in place, unless
      it adds a number literal: ``BUF += b"..."``, ``ITEMS *= 0``);
    - a mutating method (``append``, ``update``, ``setdefault``, ``pop``, ...)
      or any method not in the read-only table, called on such a value, also
      as a builtin type's method with the value first (``dict.update(X, o)``);
    - a mutating method taken as a value (``map(X.add, ids)``,
      ``key=X.setdefault``): whoever calls it writes the value;
    - passing such a value to code the analysis does not know (anything that
      is not a function of this module nor in the small tables of pure
      builtins and stdlib functions below), including ``with X:`` (its
      ``__enter__``/``__exit__`` are unknown code) and calling a bound method
      taken from it (``add = SEEN.add; add(k)``);
    - returning it from a function whose callers cannot be seen: one that is
      decorated (other than by lambdascope), or referenced other than by a
      direct call (passed, stored, assigned, registered at module level), or a
      method of a class that escapes (below). A function decorated by
      lambdascope's ``@handler`` (or wrapped by ``handler(f)``) is an entry
      point: the Lambda runtime serialises its result and never writes it, so
      returning a table entry from a handler is not a write. A plain
      function nobody references is an entry point too.

Depth
    ``written[X] is False`` (shallow) when only the container bound to ``X`` is
    written, directly or through an exact alias (``y = X; y.append(v)``,
    ``y = X if c else Y``, a helper that returns ``X`` itself). ``True``
    (deep) when something nested may be written: a store through ``X[k]``,
    ``X.a``, ``X.get(k)``, an iteration variable, an unknown method or unknown
    code, or a name that is both rebound and written.

Aliases
    Every value is a node of one graph for the whole module: module globals,
    local variables (one per name and scope, with Python's scoping: locals,
    ``global``, ``nonlocal``, closures, comprehension scopes, walrus targets,
    class scopes), parameters, return values and temporaries. Edges say how a
    value derives from another: ``COPY`` (``y = X``, conditional and boolean
    expressions, arguments into parameters, returns to callers), ``INTO``
    (``X[k]``, ``X.a``, ``X.get(k)``, ``for y in X``, unpacking, ``with X as
    y``, a ``case`` capture: the result is somewhere inside) and ``HOLD`` (a
    fresh container built from it: ``[X]``, ``list(X)``, ``dict(X)``,
    ``X.copy()``, ``X[:]``, a generator's yields, or a value stored into a
    container: ``OTHER.append(y)``). A fact is (source, state): the node *is*
    the source (exact), is *inside* it, or *holds* parts of it (a fresh
    object). Writes on an exact node are shallow writes of the source, on an
    inside node deep writes, on a holding node nothing (the fresh container
    itself is written); unknown code makes every state a deep write. What a
    node holds also flows back to what it is an alias of (a store into
    ``y = X`` is a store into ``X``), and, through an element (``c[0]``), to
    what the element came from.

Calls and classes
    Calls of the module's functions (by name, nested functions included) add
    edges from arguments to parameters (``*args``/``**kwargs`` reach every
    parameter) and from the return value to the result. Each class of the
    module is a source too, for its instances and for the class object: when
    an instance reaches ``recv`` in ``recv.m(...)``, the call is linked to the
    class's ``m`` while solving (``self.m()``, ``cls.m()``, ``super().m()``,
    ``C.m()``, ``C(...)`` into ``__init__``/``__post_init__``). Dunder methods
    and properties run implicitly on every instance the module creates. A
    class whose instances (or the class itself) reach unknown code escapes:
    any code may then call any of its methods on any instance and use what
    they return. Facts spread with one worklist over (node, source, state):
    that is the fixed point, reached in time linear in the facts, not by
    repeated passes per name (about 20 ms per 1,000 lines with the parse).

Parameters with a default value are sources too: ``written_params`` reports
those that may be written (``def f(k, seen=[])``, keyword-only defaults,
lambdas), so the runtime can watch ``__defaults__``/``__kwdefaults__``. So are
local variables that inner functions use (closure cells): ``written_cells``
reports, per inner function, those that may be written or rebound through
``nonlocal`` (a factory's dict that the helper it returns fills, a decorator's
memo), so the runtime can watch the ``__closure__`` of functions made at Init.
Values nothing can write into are not followed at all: a module name bound to a
str, number, ``None`` or a tuple of those (and never rebound by a function), a
default such as ``None``, ``0`` or ``("a", "b")``.

Giving up
    When the analysis cannot see every write it says so (``gave_up``) and the
    caller watches the whole module: no source; a ``SyntaxError``; anywhere in
    the module ``globals()``, ``vars()``, ``exec``, ``eval``, ``__import__``,
    ``importlib.import_module``, a self-import, ``sys.modules``,
    ``<module>.__dict__``, ``__globals__``, frames (``sys._getframe``,
    ``inspect.currentframe``/``stack``, ``f_globals``/``f_locals``),
    ``setattr``/``delattr`` on a module; and code that shares the module's
    globals but is not the parsed source: every function reachable from the
    namespace (through ``__wrapped__``, methods of the module's classes,
    ``functools.partial``, properties) whose ``__globals__`` is the namespace
    must match a def of the source by file, name, first line, parameter names
    and the names its code uses (the methods ``dataclasses`` writes are
    known). Any internal error is a give-up too, never silence.

Known blind spots and imprecisions (documented, not detected)
    - Code in another module writing through the module object
      (``import app; app.X.append(v)``) or through a value it received
      (``from app import X``): only this module's source is read.
    - Objects reached only through third-party code (a library that keeps a
      reference to a table and writes it later): passing a value to unknown
      code is a deep write of it, but what that code keeps is invisible.
    - The tables of read-only methods and pure functions are by name: a
      third-party object whose ``get``/``copy``/``items``/``match``/... writes
      its arguments is trusted like a dict or a compiled pattern. The
      module's own instances and classes, wherever they are kept, are left to
      the runtime, which decides from the values (``loaded`` reports what the
      code reads), as are types whose reads write (``defaultdict``).
    - Attributes of one object are not told apart: a write through
      ``self.table`` is a deep write of everything the instance holds.
"""

from __future__ import annotations

import sys

from ._mutators import MUTATING_METHODS, RETURNS_AN_ITEM

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    from typing import Any, Callable, Optional

    _Node = Optional[int]
else:
    ast = None  # bound by the first analyse(): importing ast costs nothing until then

__all__ = ["Analysis", "analyse", "shared_functions", "source_constants"]


class Analysis:
    """What handler-time code of one module may do to its module-level names."""

    __slots__ = (
        "gave_up",
        "loaded",
        "rebound",
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
        self.written_cells: dict[tuple[str, int], dict[str, bool]] = (
            written_cells if written_cells is not None else {}
        )

    def __repr__(self) -> str:
        if self.gave_up is not None:
            return f"Analysis(gave_up={self.gave_up!r})"
        return (
            f"Analysis(written={self.written!r}, loaded={sorted(self.loaded)!r}, "
            f"rebound={sorted(self.rebound)!r}, "
            f"written_params={self.written_params!r}, written_cells={self.written_cells!r})"
        )


class _GiveUp(Exception):
    """Raised anywhere in the analysis to give up with a reason."""


def analyse(module_name: str, namespace: dict[str, Any]) -> Analysis:
    """Analyse the source of the module whose ``__dict__`` is *namespace*."""
    import gc

    # The syntax tree and the graph are many small objects and no cycles worth collecting:
    # the cyclic collector would run over and over on them (about a tenth of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse(module_name, namespace)
    finally:
        if enabled:
            gc.enable()


def _analyse(module_name: str, namespace: dict[str, Any]) -> Analysis:
    global ast
    try:
        source, filename = _source(module_name, namespace)
        import ast

        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError) as exc:
            return Analysis(gave_up=f"source does not parse ({type(exc).__name__}: {exc})")
        builder = _Builder(module_name, namespace, tree)
        builder.build()
        _check_code(module_name, namespace, builder)
        return builder.result()
    except _GiveUp as exc:
        return Analysis(gave_up=str(exc))
    except RecursionError:
        return Analysis(gave_up="source too deeply nested to analyse")
    except Exception as exc:  # an analysis bug must fall back to watching everything
        return Analysis(gave_up=f"analysis failed ({type(exc).__name__}: {exc})")


def _source(module_name: str, namespace: dict[str, Any]) -> tuple[str | bytes, str]:
    """The module's source text and file name, or :class:`_GiveUp`."""
    filename = namespace.get("__file__")
    filename = filename if isinstance(filename, str) else f"<{module_name}>"
    loader = namespace.get("__loader__")
    get_source = getattr(loader, "get_source", None)
    if get_source is not None:
        try:
            text = get_source(module_name)
        except Exception:
            text = None
        if isinstance(text, str):
            return text, filename
    if filename.endswith(".py"):
        try:
            with open(filename, "rb") as fh:
                return fh.read(), filename
        except OSError as exc:
            raise _GiveUp(f"no source file ({exc.strerror}: {filename})") from None
    raise _GiveUp("no source file")


# ---------------------------------------------------------------------------------------------
# Tables. Small on purpose: anything not listed is unknown code (a deep write of its arguments).

# Edge kinds: how the value of the destination derives from the source. INNER is INTO
# for what is *inside* the source only (calling a bound method taken from a value may
# return something inside the value; calling a function or class returns nothing of it).
_COPY, _INTO, _HOLD, _INNER = 0, 1, 2, 3
# Fact states (bits): the node is the source, holds parts of it, or is inside it; DEEP:
# holds parts of it through one of its elements (a store into ``c[0]``), which also holds
# for what the element came from.
_EXACT, _HELD, _INSIDE, _DEEP = 1, 2, 4, 8
_HOLDS = _HELD | _DEEP

# Call results: nothing aliased (FRESH), a fresh container of the arguments (HOLD), or
# something inside the arguments (INTO).
_FRESH = 3


def _words(*lines: str) -> list[str]:
    """The names in *lines*, separated by white space (keeps the tables below readable)."""
    return " ".join(lines).split()


_LOGGING_METHODS = frozenset(_words("debug info warning warn error exception critical log fatal"))

# Methods that never write their receiver nor their arguments -> what the result aliases.
_READ_ONLY_METHODS: dict[str, int] = dict.fromkeys(
    _words(
        # containers
        "count index __contains__ __len__ issubset issuperset isdisjoint __eq__ __ne__",
        # str / bytes
        "startswith endswith format format_map join split rsplit splitlines strip lstrip rstrip",
        "lower upper casefold title capitalize swapcase replace encode decode find rfind rindex",
        "isdigit isalpha isalnum isspace islower isupper isnumeric isdecimal isidentifier",
        "isascii istitle isprintable zfill center ljust rjust partition rpartition removeprefix",
        "removesuffix expandtabs translate hex",
        # numbers, dates
        "isoformat strftime timestamp total_seconds to_bytes bit_length is_integer weekday",
        "isoweekday astimezone",
        # compiled re patterns and match objects (third-party for this purpose: not writes)
        "match search fullmatch findall finditer sub subn group groups groupdict span start end",
        # hashes
        "hexdigest digest",
    ),
    _FRESH,
)
_READ_ONLY_METHODS.update(
    dict.fromkeys(
        _words(
            "copy __copy__ keys values items union intersection difference",
            "symmetric_difference most_common elements",
        ),
        _HOLD,
    )
)
_READ_ONLY_METHODS.update(dict.fromkeys(_words("get __getitem__"), _INTO))

# Methods that write their receiver's top level (shallow) -> what the result aliases.
_MUTATING_METHODS: dict[str, int] = {
    name: _INTO if name in RETURNS_AN_ITEM else _FRESH for name in MUTATING_METHODS
}

# Builtins and stdlib functions that write none of their arguments -> what the result aliases.
_PURE: dict[str, int] = dict.fromkeys(
    _words(
        "abs all any ascii bin bool bytes bytearray callable chr complex divmod float format",
        "hasattr hash hex id int isinstance issubclass len oct ord pow print range repr round",
        "str slice object",
        "json.dumps json.loads copy.deepcopy dataclasses.asdict",
        "os.getenv os.path.join os.path.basename os.path.dirname os.path.exists",
        "os.path.splitext os.path.isfile os.path.isdir",
        "time.time time.monotonic time.perf_counter uuid.uuid4 decimal.Decimal",
        "datetime.datetime.now datetime.datetime.fromisoformat datetime.datetime.fromtimestamp",
        "base64.b64encode base64.b64decode hashlib.sha256 hashlib.md5 hashlib.sha1",
        "urllib.parse.quote urllib.parse.unquote urllib.parse.urlencode urllib.parse.urlparse",
        "urllib.parse.parse_qs",
        "re.compile re.escape re.match re.search re.fullmatch re.sub re.subn re.split",
        "re.findall re.finditer",
        "logging.debug logging.info logging.warning logging.error logging.exception",
        "logging.critical logging.log logging.getLogger",
    ),
    _FRESH,
)
_PURE.update(
    dict.fromkeys(
        _words(
            "dict list tuple set frozenset sorted reversed enumerate zip iter map filter",
            "copy.copy collections.OrderedDict collections.defaultdict collections.Counter",
            "collections.deque itertools.chain itertools.islice",
        ),
        _HOLD,
    )
)
_PURE.update(dict.fromkeys(_words("getattr next min max sum type memoryview"), _INTO))
_PURE_PREFIXES = ("math.",)
# Pure functions that call what they are given (a bound method of an instance, say).
_CALLS_ITS_ARGUMENTS = frozenset(_words("map filter sorted min max"))

# Using any of these names or qualified names gives up.
_GIVE_UP_NAMES = {
    "globals": "uses globals()",
    "vars": "uses vars()",
    "exec": "uses exec()",
    "eval": "uses eval()",
    "__import__": "uses __import__()",
}
_GIVE_UP_ATTRS = {
    "__globals__": "uses __globals__",
    "f_globals": "uses a frame's f_globals",
    "f_locals": "uses a frame's f_locals",
    "_getframe": "uses sys._getframe()",
}
_GIVE_UP_QUALIFIED = {
    "sys.modules": "uses sys.modules",
    "sys._getframe": "uses sys._getframe()",
    "inspect.currentframe": "uses inspect.currentframe()",
    "inspect.stack": "uses inspect.stack()",
    "inspect.getouterframes": "uses inspect.getouterframes()",
    "inspect.trace": "uses inspect.trace()",
    "importlib.import_module": "uses importlib.import_module()",
    "importlib.__import__": "uses importlib.__import__()",
    "builtins.globals": "uses globals()",
    "builtins.vars": "uses vars()",
    "builtins.exec": "uses exec()",
    "builtins.eval": "uses eval()",
    "builtins.__import__": "uses __import__()",
}
_CHECKED_ATTRS = frozenset(name.rpartition(".")[2] for name in _GIVE_UP_QUALIFIED) | {"__dict__"}

# Methods the analysis links explicitly (construction); other dunders run implicitly.
_EXPLICIT = frozenset({"__init__", "__post_init__", "__new__", "__init_subclass__"})

# Values that nothing can write into.
_IMMUTABLE = frozenset({str, bytes, int, float, complex, bool, type(None), frozenset, range})

_HANDLER = frozenset({"lambdascope.handler", "lambdascope._handler.handler"})
_FACTORY = frozenset({"lambdascope.init_resource", "lambdascope._resources.init_resource"})

# Bases whose constructor stores its arguments without writing them.
_SAFE_BASES = frozenset(
    _words(
        "object dict list set tuple str int float bytes frozenset Exception BaseException",
        "NamedTuple TypedDict Enum IntEnum StrEnum Flag IntFlag Generic Protocol ABC",
    )
)

_MODULE, _FUNCTION, _CLASS, _COMPREHENSION = 0, 1, 2, 3


class _Func:
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
        self.owner: _Class | None = None
        self.receiver = False
        self.decorated = False
        self.handler = False
        self.factory = False
        self.escaped = False
        self.idents: set[str] = set()
        self.scope: _Scope | None = None


class _Class:
    """A class statement of the module."""

    __slots__ = ("bases", "escaped", "instances", "local", "methods", "name", "node")

    def __init__(self, name: str, bases: list[str], node: int, instances: int) -> None:
        self.name = name
        self.bases = bases
        self.node = node  # the variable the class statement binds
        self.instances = instances  # every instance the module creates flows here
        self.methods: dict[str, list[_Func]] = {}
        self.escaped = False  # instances or the class reach code the analysis cannot see
        self.local = False  # not a module-level class statement


class _Scope:
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

    def __init__(self, kind: int, parent: _Scope | None, func: _Func | None, effects: bool):
        self.kind = kind
        self.parent = parent
        self.func = func
        self.effects = effects  # handler-time code: its writes count
        self.vars: dict[str, int] = {}
        self.bound: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.defs: dict[str, list[_Func]] = {}
        self.classes: dict[str, _Class] = {}
        self.other: set[str] = set()  # names bound other than by def/class
        self.loads: set[str] = set()
        self.values: set[str] = set()  # names loaded as plain values (a function escapes)
        self.stores: set[str] = set()
        self.resolved: dict[str, _Scope | None] = {}
        self.assigned: dict[str, list[_Node]] = {}  # name -> the values bound to it


class _Arg:
    """One argument of a recorded call."""

    __slots__ = ("func", "key", "kind", "method", "name", "node")

    def __init__(self, kind: int, key: str | None, node: _Node) -> None:
        self.kind = kind  # _POS, _STAR, _KW, _DSTAR
        self.key = key
        self.node = node
        self.func: _Func | None = None  # a lambda argument
        self.name: str | None = None  # a plain name argument (maybe a function)
        self.method: tuple[str, str] | None = None  # ``T.m`` (maybe an unbound method)


_POS, _STAR, _KW, _DSTAR = 0, 1, 2, 3


class _Captured:
    """A local variable of a function that inner functions use: a closure cell."""

    __slots__ = ("funcs", "name", "owner", "rebound")

    def __init__(self, owner: _Scope, name: str) -> None:
        self.owner = owner
        self.name = name
        self.funcs: list[_Func] = []  # the functions whose closure holds the cell
        self.rebound = False  # assigned through ``nonlocal``


class _Call:
    """A call site, linked once all scopes are known."""

    __slots__ = (
        "args",
        "attr",
        "callee",
        "chain",
        "effects",
        "name",
        "recv",
        "result",
        "root",
        "scope",
        "self_of",
        "super_of",
    )

    def __init__(self, scope: _Scope, args: list[_Arg], result: int) -> None:
        self.scope = scope
        self.effects = scope.effects
        self.args = args
        self.result = result
        self.name: str | None = None  # f(...)
        self.attr: str | None = None  # recv.attr(...)
        self.recv: _Node = None
        self.root: str | None = None  # recv is a name, or a dotted chain of names
        self.chain: str | None = None
        self.callee: _Node = None  # any other callee value
        self.self_of: _Func | None = None  # recv is the receiver of this method
        self.super_of: _Func | None = None  # recv is super() in this method


class _Builder:
    """Builds the alias graph of one module in a single pass, then links and solves it."""

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
        # Calls, functions, classes.
        self.calls: list[_Call] = []
        self.funcs: list[_Func] = []
        self.classes: list[_Class] = []
        self.methods: dict[str, list[_Func]] = {}  # method name -> the module's methods
        self.pending_methods: dict[int, list[_Call]] = {}  # receiver -> calls of its methods
        self.pending_calls: dict[int, list[_Call]] = {}  # callee -> calls of it
        self.linked: set[tuple[int, int]] = set()  # (id(call), +-id(class)) already linked
        self.constructions: list[tuple[int, _Class]] = []  # (construction result, class)
        self.constructed: dict[int, _Class] = {}  # call result -> the class it constructs
        self.class_sources: dict[int, int] = {}  # id(class) -> its instance source
        self.class_attrs: dict[str, list[str]] = {}  # attribute -> module classes having it
        # Names and scopes.
        self.module = _Scope(_MODULE, None, None, effects=False)
        self.scopes: list[_Scope] = [self.module]
        self.declared_globals: set[str] = set()
        self.captured: dict[tuple[int, str], _Captured] = {}  # closure cells
        self.rebound_anywhere: set[str] = set()  # module names bound in functions
        self.imports: dict[str, str] = {}  # bound name -> qualified name
        self.module_imports: set[str] = set()  # names bound by `import x` (a module)
        self.checks: list[tuple[_Scope, str, str, str]] = []  # (scope, root, chain, attr)
        # What the source defines, to compare with the running code.
        self.lambda_lines: dict[int, list[_Func]] = {}
        self.def_keys: dict[tuple[str, int], list[_Func]] = {}
        self.class_keys: set[tuple[str, int]] = set()
        self.idents: set[str] = set()  # names used by the code being read
        package = namespace.get("__package__")
        if not isinstance(package, str):
            package = module_name.rpartition(".")[0]
        self.package = package
        self.expr_handlers: dict[type, Callable[[Any, _Scope], _Node]] = {
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
        self.stmt_handlers: dict[type, Callable[[Any, _Scope], None]] = {
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

    # -- graph primitives ---------------------------------------------------------------------

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
                out = _forward_state(bits, kind)
                if out:
                    self.add_fact(dst, source, out)
            for source, bits in list((facts[dst] or {}).items()):
                back = _back_state(bits, kind)
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

    def derive(self, src: _Node, kind: int) -> _Node:
        if src is None:
            return None
        if kind == _COPY:
            return src
        dst = self.new()
        self.edge(src, dst, kind)
        return dst

    def join(self, nodes: list[_Node], kind: int) -> _Node:
        present = [n for n in nodes if n is not None]
        if not present:
            return None
        if kind == _COPY and len(present) == 1:
            return present[0]
        dst = self.new()
        for n in present:
            self.edge(n, dst, kind)
        return dst

    def scope(self, kind: int, parent: _Scope, func: _Func | None, effects: bool) -> _Scope:
        scope = _Scope(kind, parent, func, effects)
        self.scopes.append(scope)
        return scope

    def var(self, scope: _Scope, name: str) -> int:
        node = scope.vars.get(name)
        if node is None:
            node = scope.vars[name] = self.new()
        return node

    def store(self, node: _Node, scope: _Scope) -> None:
        if node is not None and scope.effects:
            self.stores.append(node)

    def escape(self, node: _Node, effects: bool) -> None:
        """*node* reaches unknown code: a deep write (in handler-time code), and the
        module's instances and classes it holds escape (at any time)."""
        if node is not None:
            if effects:
                self.escapes.append(node)
            self.leaks.append(node)

    # -- the pass -----------------------------------------------------------------------------

    def build(self) -> None:
        self._prescan(self.tree.body)
        for stmt in self.tree.body:
            if type(stmt) is ast.If and self.module_name != "__main__" and _is_main_test(stmt.test):
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

    def mutable_class_attribute(self, class_name: str, attr: str) -> bool:
        """Can ``instance.attr`` reach a writable class attribute? (False when the class
        has no such attribute at run time, as for dataclass fields, or it is immutable.)"""
        cls = self.namespace.get(class_name)
        if not isinstance(cls, type):
            return True  # not there (yet): be conservative
        if attr not in cls.__dict__:
            return False
        return type(cls.__dict__[attr]) not in _IMMUTABLE

    def stmts(self, body: list[ast.stmt], scope: _Scope) -> None:
        handlers = self.stmt_handlers
        for stmt in body:
            handler = handlers.get(type(stmt))
            if handler is None:
                raise _GiveUp(f"unsupported statement {type(stmt).__name__}")
            handler(stmt, scope)

    def stmt(self, stmt: ast.stmt, scope: _Scope) -> None:
        handler = self.stmt_handlers.get(type(stmt))
        if handler is None:
            raise _GiveUp(f"unsupported statement {type(stmt).__name__}")
        handler(stmt, scope)

    def expr(self, node: ast.expr, scope: _Scope) -> _Node:
        handler = self.expr_handlers.get(type(node))
        if handler is None:
            raise _GiveUp(f"unsupported expression {type(node).__name__}")
        return handler(node, scope)

    # -- statements ---------------------------------------------------------------------------

    def s_nothing(self, node: ast.stmt, scope: _Scope) -> None:
        return

    def s_expr(self, node: ast.Expr, scope: _Scope) -> None:
        self.expr(node.value, scope)

    def s_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> None:
        self.function(node, scope, node.name, node.args, node.decorator_list)

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scope: _Scope,
        name: str,
        args: ast.arguments,
        decorators: list[ast.expr],
    ) -> _Func:
        lines = [node.lineno] + [d.lineno for d in decorators]
        func = _Func(name, (node.lineno, min(lines)), self.new())
        in_class = scope.kind == _CLASS
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
                    self.edge(value, func.ret, _COPY)
            else:
                self.stmts(node.body, inner)
        finally:
            self.idents = saved
        return func

    def decorate(self, func: _Func, decorators: list[ast.expr], scope: _Scope) -> bool:
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
        self, func: _Func, args: ast.arguments, scope: _Scope, returns: ast.expr | None
    ) -> _Scope:
        """The function's scope, with its parameters and the edges from their defaults."""
        # Defaults are evaluated where the def runs, before the body's scope exists.
        positional = args.posonlyargs + args.args
        if scope.func is not None:  # so are annotations: the names their code uses
            annotated = [*positional, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations = [a.annotation for a in annotated if a is not None]
            self.add_idents([*annotations, returns])
        defaults = [self.expr(d, scope) for d in args.defaults]
        kw_defaults = [None if d is None else self.expr(d, scope) for d in args.kw_defaults]
        inner = self.scope(_FUNCTION, scope, func, effects=not func.factory)
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
            if not _immutable_literal(default):  # None, 0, "x", (1, 2): nothing to write
                func.defaulted.append(pname)
            if node is not None:
                self.edge(node, func.params[pname], _COPY)
        return inner

    def decorator_role(self, decorator: ast.expr) -> str | None:
        if type(decorator) is ast.Call:
            decorator = decorator.func
        if type(decorator) is ast.Name and decorator.id in ("staticmethod", "classmethod"):
            return decorator.id
        qualified = self.qualify_expr(decorator)
        if qualified in _HANDLER:
            return "handler"
        if qualified in _FACTORY:
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

    def s_class(self, node: ast.ClassDef, scope: _Scope) -> None:
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
        cls = _Class(node.name, bases, self.var(scope, node.name), self.new())
        self.classes.append(cls)
        scope.classes[node.name] = cls
        scope.bound.add(node.name)
        if scope.effects:
            scope.stores.add(node.name)
        body = self.scope(_CLASS, scope, scope.func, scope.effects)
        self.stmts(node.body, body)
        if scope is not self.module:
            # Not seen by the prescan: instances reach the class's attributes through the
            # class object, which holds them.
            cls.local = True
            for attr_node in body.vars.values():
                self.edge(attr_node, cls.node, _HOLD)
        for name, funcs in body.defs.items():
            cls.methods[name] = funcs
            for func in funcs:
                func.owner = cls
                # Python calls dunders and properties implicitly, on any instance.
                implicit = func.decorated or (name.startswith("__") and name not in _EXPLICIT)
                if implicit and func.receiver:
                    self.edge(cls.instances, func.params[func.positional[0]], _COPY)

    def s_return(self, node: ast.Return, scope: _Scope) -> None:
        if node.value is not None:
            value = self.expr(node.value, scope)
            func = scope.func
            if value is not None and func is not None:
                self.edge(value, func.ret, _COPY)

    def s_delete(self, node: ast.Delete, scope: _Scope) -> None:
        for target in node.targets:
            self.assign(target, None, scope)

    def s_assign(self, node: ast.Assign, scope: _Scope) -> None:
        value = self.expr(node.value, scope)
        for target in node.targets:
            self.assign(target, value, scope)

    def s_annassign(self, node: ast.AnnAssign, scope: _Scope) -> None:
        self.add_idents([node.annotation])
        if node.value is not None:
            self.assign(node.target, self.expr(node.value, scope), scope)
        elif type(node.target) is ast.Name:
            scope.bound.add(node.target.id)
            scope.other.add(node.target.id)

    def s_augassign(self, node: ast.AugAssign, scope: _Scope) -> None:
        value = self.expr(node.value, scope)
        # An in-place operator may mutate the current value (list += ..., BUF += b"...",
        # ITEMS *= 0), unless it adds a number literal: no builtin container accepts that
        # in place (the module's own classes are left to the runtime, which watches them).
        inplace = not (type(node.op) is not ast.Mult and _number_literal(node.value))
        target = node.target
        if type(target) is ast.Name:
            current = self.e_name(target, scope, as_value=False)
            if inplace:
                self.store(current, scope)
            self.assign(target, self.join([current, value], _HOLD), scope)
        elif type(target) is ast.Subscript:
            base = self.expr(target.value, scope)
            self.expr(target.slice, scope)
            self.store(base, scope)
            if inplace:
                self.store(self.derive(base, _INTO), scope)
            if value is not None and base is not None:
                self.edge(value, base, _HOLD)
        elif type(target) is ast.Attribute:
            base = self.e_attribute_base(target, scope)
            self.store(base, scope)
            if inplace:
                self.store(self.derive(base, _INTO), scope)
            if value is not None and base is not None:
                self.edge(value, base, _HOLD)
        else:
            raise _GiveUp(f"unsupported augmented target {type(target).__name__}")

    def s_for(self, node: ast.For | ast.AsyncFor, scope: _Scope) -> None:
        iterable = self.expr(node.iter, scope)
        self.assign(node.target, self.derive(iterable, _INTO), scope)
        self.stmts(node.body, scope)
        self.stmts(node.orelse, scope)

    def s_while(self, node: ast.While, scope: _Scope) -> None:
        self.expr(node.test, scope)
        self.stmts(node.body, scope)
        self.stmts(node.orelse, scope)

    def s_if(self, node: ast.If, scope: _Scope) -> None:
        while True:  # an elif chain is a loop here, not a recursion as deep as the chain
            self.expr(node.test, scope)
            self.stmts(node.body, scope)
            orelse = node.orelse
            if len(orelse) != 1 or type(orelse[0]) is not ast.If:
                break
            node = orelse[0]
        self.stmts(orelse, scope)

    def s_with(self, node: ast.With | ast.AsyncWith, scope: _Scope) -> None:
        for item in node.items:
            value = self.expr(item.context_expr, scope)
            # __enter__/__exit__ are unknown code run on the value.
            self.escape(value, scope.effects)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, self.derive(value, _INTO), scope)
        self.stmts(node.body, scope)

    def s_raise(self, node: ast.Raise, scope: _Scope) -> None:
        if node.exc is not None:
            self.expr(node.exc, scope)
        if node.cause is not None:
            self.expr(node.cause, scope)

    def s_try(self, node: ast.Try, scope: _Scope) -> None:
        self.stmts(node.body, scope)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, scope)
            if handler.name is not None:
                self.bind(handler.name, None, scope)
            self.stmts(handler.body, scope)
        self.stmts(node.orelse, scope)
        self.stmts(node.finalbody, scope)

    def s_assert(self, node: ast.Assert, scope: _Scope) -> None:
        self.expr(node.test, scope)
        if node.msg is not None:
            self.expr(node.msg, scope)

    def s_import(self, node: ast.Import, scope: _Scope) -> None:
        self.s_import_names(node, scope)

    def s_importfrom(self, node: ast.ImportFrom, scope: _Scope) -> None:
        self.s_import_names(node, scope)

    def s_import_names(self, node: ast.Import | ast.ImportFrom, scope: _Scope | None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == self.module_name:
                    raise _GiveUp(f"imports itself (import {alias.name})")
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
                raise _GiveUp(f"imports itself (from {module or '.'} import {alias.name})")
            reason = _GIVE_UP_QUALIFIED.get(full)
            if reason is not None:
                raise _GiveUp(reason)
            bound = alias.asname or alias.name
            self.import_bind(bound, full, scope)
            if module == self.module_name and scope is not None:
                # `from <this package> import name` reads the module's own global `name`.
                self.edge(self.var(self.module, alias.name), self.var(scope, bound), _COPY)

    def import_bind(self, bound: str, target: str, scope: _Scope | None) -> None:
        self.idents.add(bound)
        self.imports[bound] = target
        if scope is not None:
            self.bind(bound, None, scope)

    def s_global(self, node: ast.Global, scope: _Scope) -> None:
        scope.globals.update(node.names)
        self.idents.update(node.names)

    def s_nonlocal(self, node: ast.Nonlocal, scope: _Scope) -> None:
        scope.nonlocals.update(node.names)

    def s_match(self, node: Any, scope: _Scope) -> None:
        subject = self.expr(node.subject, scope)
        for case in node.cases:
            self.pattern(case.pattern, subject, scope)
            if case.guard is not None:
                self.expr(case.guard, scope)
            self.stmts(case.body, scope)

    def pattern(self, pattern: Any, subject: _Node, scope: _Scope) -> None:
        """Bind the captures of a ``case`` pattern: each is inside the subject."""
        kind = type(pattern).__name__
        inside = subject if kind in ("MatchAs", "MatchOr") else self.derive(subject, _INTO)
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
            self.bind(name, self.derive(subject, _HOLD if kind == "MatchStar" else _INTO), scope)
        rest = getattr(pattern, "rest", None)  # MatchMapping
        if rest is not None:
            self.bind(rest, self.derive(subject, _HOLD), scope)

    def s_typealias(self, node: Any, scope: _Scope) -> None:
        # ``type X = ...``: the value is evaluated lazily (its own code object), by typing.
        self.class_keys.add((node.name.id, node.lineno))
        self.assign(node.name, None, scope)

    # -- assignment targets -------------------------------------------------------------------

    def bind(self, name: str, value: _Node, scope: _Scope) -> None:
        """Bind a local name (or a declared global) to *value*."""
        scope.bound.add(name)
        scope.other.add(name)
        self.idents.add(name)
        if scope.effects:
            scope.stores.add(name)
        node = self.var(scope, name)
        scope.assigned.setdefault(name, []).append(value)
        if value is not None:
            self.edge(value, node, _COPY)

    def assign(self, target: ast.expr, value: _Node, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if type(element) is ast.Starred:
                    self.assign(element.value, self.derive(value, _HOLD), scope)
                else:
                    self.assign(element, self.derive(value, _INTO), scope)
        elif isinstance(target, ast.Subscript):
            base = self.expr(target.value, scope)
            self.expr(target.slice, scope)
            self.store(base, scope)
            if value is not None and base is not None:
                self.edge(value, base, _HOLD)
        elif isinstance(target, ast.Attribute):
            base = self.e_attribute_base(target, scope)
            self.store(base, scope)
            if value is not None and base is not None:
                self.edge(value, base, _HOLD)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, scope)
        else:
            raise _GiveUp(f"unsupported assignment target {type(target).__name__}")

    # -- expressions --------------------------------------------------------------------------

    def e_constant(self, node: ast.Constant, scope: _Scope) -> _Node:
        return None

    def e_name(self, node: ast.Name, scope: _Scope, as_value: bool = True) -> _Node:
        name = node.id
        self.idents.add(name)
        reason = _GIVE_UP_NAMES.get(name)
        if reason is not None or (name == "locals" and scope.kind == _MODULE):
            raise _GiveUp(reason or "uses locals() at module level")
        if scope.effects:
            scope.loads.add(name)
        if as_value:
            scope.values.add(name)
        return self.var(scope, name)

    def e_attribute_base(self, node: ast.Attribute, scope: _Scope) -> _Node:
        """Evaluate ``node.value`` (the object whose attribute is used) with the checks."""
        attr = node.attr
        self.idents.add(attr)
        reason = _GIVE_UP_ATTRS.get(attr)
        if reason is not None:
            raise _GiveUp(reason)
        value = node.value
        if type(value) is ast.Name:
            if attr in _CHECKED_ATTRS:
                self.checks.append((scope, value.id, value.id, attr))
            return self.e_name(value, scope, as_value=False)
        if attr in _CHECKED_ATTRS:
            root, chain = _chain(value)
            if root is not None and chain is not None:
                self.checks.append((scope, root, chain, attr))
        return self.expr(value, scope)

    def e_attribute(self, node: ast.Attribute, scope: _Scope) -> _Node:
        base = self.e_attribute_base(node, scope)
        if node.attr in _MUTATING_METHODS:
            # A bound mutating method taken as a value (``map(SEEN.add, ids)``,
            # ``key=X.setdefault``): whoever calls it writes the receiver.
            self.store(base, scope)
        owners = self.class_attrs.get(node.attr)
        if owners is None:
            return self.derive(base, _INTO)
        # A class attribute of a module-level class, read through any instance.
        nodes = [base, *(self.var(self.module, owner) for owner in owners)]
        return self.join(nodes, _INTO)

    def e_subscript(self, node: ast.Subscript, scope: _Scope) -> _Node:
        base = self.expr(node.value, scope)
        index = node.slice
        self.expr(index, scope)
        if type(index) is ast.Slice:
            return self.derive(base, _HOLD)  # a slice of a builtin sequence is a copy
        return self.derive(base, _INTO)

    def e_slice(self, node: ast.Slice, scope: _Scope) -> _Node:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.expr(part, scope)
        return None

    def e_join_copy(self, node: ast.BoolOp, scope: _Scope) -> _Node:
        return self.join([self.expr(v, scope) for v in node.values], _COPY)

    def e_ifexp(self, node: ast.IfExp, scope: _Scope) -> _Node:
        self.expr(node.test, scope)
        return self.join([self.expr(node.body, scope), self.expr(node.orelse, scope)], _COPY)

    def e_binop(self, node: ast.BinOp, scope: _Scope) -> _Node:
        return self.join([self.expr(node.left, scope), self.expr(node.right, scope)], _HOLD)

    def e_unary(self, node: ast.UnaryOp, scope: _Scope) -> _Node:
        self.expr(node.operand, scope)
        return None

    def e_compare(self, node: ast.Compare, scope: _Scope) -> _Node:
        self.expr(node.left, scope)
        for comparator in node.comparators:
            self.expr(comparator, scope)
        return None

    def e_sequence(self, node: ast.List | ast.Tuple | ast.Set, scope: _Scope) -> _Node:
        return self.join([self.expr(e, scope) for e in node.elts], _HOLD)

    def e_dict(self, node: ast.Dict, scope: _Scope) -> _Node:
        nodes = [self.expr(v, scope) for v in node.values]
        nodes.extend(self.expr(k, scope) for k in node.keys if k is not None)
        return self.join(nodes, _HOLD)

    def e_joinedstr(self, node: ast.JoinedStr, scope: _Scope) -> _Node:
        for value in node.values:
            self.expr(value, scope)
        return None

    def e_formatted(self, node: ast.FormattedValue, scope: _Scope) -> _Node:
        self.expr(node.value, scope)
        if node.format_spec is not None:
            self.expr(node.format_spec, scope)
        return None

    def e_await(self, node: ast.Await | ast.Starred, scope: _Scope) -> _Node:
        return self.expr(node.value, scope)

    def e_yield(self, node: ast.Yield | ast.YieldFrom, scope: _Scope) -> _Node:
        if node.value is not None:
            value = self.expr(node.value, scope)
            func = scope.func
            if value is not None and func is not None:
                self.edge(value, func.ret, _HOLD)
        return None

    def e_namedexpr(self, node: ast.NamedExpr, scope: _Scope) -> _Node:
        value = self.expr(node.value, scope)
        target = scope
        while target.kind == _COMPREHENSION and target.parent is not None:
            target = target.parent
        self.bind(node.target.id, value, target)
        return value

    def e_lambda(self, node: ast.Lambda, scope: _Scope) -> _Node:
        func = self.function(node, scope, "<lambda>", node.args, [])
        func.escaped = True
        return None

    def e_comprehension(self, node: Any, scope: _Scope) -> _Node:
        generators = node.generators
        first = self.expr(generators[0].iter, scope)
        inner = self.scope(_COMPREHENSION, scope, scope.func, scope.effects)
        for i, generator in enumerate(generators):
            iterable = first if i == 0 else self.expr(generator.iter, inner)
            self.comp_target(generator.target, self.derive(iterable, _INTO), inner)
            for condition in generator.ifs:
                self.expr(condition, inner)
        if type(node) is ast.DictComp:
            parts = [self.expr(node.key, inner), self.expr(node.value, inner)]
        else:
            parts = [self.expr(node.elt, inner)]
        return self.join(parts, _HOLD)

    def comp_target(self, target: ast.expr, value: _Node, scope: _Scope) -> None:
        # Comprehension targets are locals of the comprehension (not stores of the function).
        if type(target) is ast.Name:
            scope.bound.add(target.id)
            scope.other.add(target.id)
            self.idents.add(target.id)
            if value is not None:
                self.edge(value, self.var(scope, target.id), _COPY)
        elif type(target) is ast.Tuple or type(target) is ast.List:
            for element in target.elts:
                if type(element) is ast.Starred:
                    self.comp_target(element.value, self.derive(value, _HOLD), scope)
                else:
                    self.comp_target(element, self.derive(value, _INTO), scope)
        else:
            self.assign(target, value, scope)

    def e_call(self, node: ast.Call, scope: _Scope) -> _Node:
        func = node.func
        if type(func) is ast.Name and func.id == "super" and not node.args:
            self.e_name(func, scope, as_value=False)
            method = _method_of(scope)
            return None if method is None else self.var(scope, method.positional[0])
        if _vars_of_chain(node) and "vars" not in self.namespace:
            return self.e_vars(node.args[0], scope)
        call = _Call(scope, self.call_args(node, scope), self.new())
        if isinstance(func, ast.Name):
            call.name = func.id
            call.callee = self.e_name(func, scope, as_value=False)
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
            root, chain = _chain(value)
            call.root, call.chain = root, chain
            if method is not None and type(value) is ast.Name and method.positional[0] == value.id:
                call.self_of = method
        else:
            call.callee = self.expr(func, scope)
        self.calls.append(call)
        return call.result

    def call_args(self, node: ast.Call, scope: _Scope) -> list[_Arg]:
        args: list[_Arg] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.append(_Arg(_STAR, None, self.expr(arg.value, scope)))
            else:
                args.append(self.call_arg(arg, _POS, None, scope))
        for keyword in node.keywords:
            if keyword.arg is None:
                args.append(_Arg(_DSTAR, None, self.expr(keyword.value, scope)))
            else:
                args.append(self.call_arg(keyword.value, _KW, keyword.arg, scope))
        return args

    def e_vars(self, arg: ast.expr, scope: _Scope) -> _Node:
        """``vars(obj)`` of a name or attribute chain: the object's own ``__dict__``, like
        ``obj.__dict__`` (a module's gives up, at link time). Other uses of ``vars`` (no
        argument, the result of a call) give up in :meth:`e_name`."""
        root, chain = _chain(arg)
        assert root is not None
        assert chain is not None
        self.idents.add("vars")
        value = self.expr(arg, scope)
        self.checks.append((scope, root, chain, "__dict__"))
        return self.derive(value, _INTO)

    def call_arg(self, arg: ast.expr, kind: int, key: str | None, scope: _Scope) -> _Arg:
        if type(arg) is ast.Lambda:
            item = _Arg(kind, key, None)
            item.func = self.function(arg, scope, "<lambda>", arg.args, [])
            return item
        if type(arg) is ast.Name:
            item = _Arg(kind, key, self.e_name(arg, scope, as_value=False))
            item.name = arg.id
            return item
        item = _Arg(kind, key, self.expr(arg, scope))
        if type(arg) is ast.Attribute and type(arg.value) is ast.Name:
            item.method = (arg.value.id, arg.attr)
        return item

    # -- linking ------------------------------------------------------------------------------

    def resolve(self, scope: _Scope, name: str) -> _Scope | None:
        """The scope that owns *name* as seen from *scope* (None: a builtin)."""
        if scope.kind == _MODULE:
            return self.module_owner(name)
        if name in scope.resolved:
            return scope.resolved[name]
        owner: _Scope | None
        if name in scope.globals:
            owner = self.module
        elif name in scope.bound and name not in scope.nonlocals:
            owner = scope
        else:
            owner = None
            parent = scope.parent
            while parent is not None and parent.kind != _MODULE:
                if parent.kind != _CLASS:
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

    def module_owner(self, name: str) -> _Scope | None:
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

    def link_names(self, scope: _Scope, loaded: set[str], rebound: set[str]) -> None:
        """Join each free name of *scope* to the variable it refers to (both ways)."""
        module = self.module
        for name, node in list(scope.vars.items()):
            owner = self.resolve(scope, name)
            if owner is None or owner is scope:
                continue
            target = self.var(owner, name)
            self.edge(node, target, _COPY)
            self.edge(target, node, _COPY)
            if owner is module:
                if name in scope.bound:
                    self.rebound_anywhere.add(name)
                if name in scope.loads:
                    loaded.add(name)
                if name in scope.stores:
                    rebound.add(name)
                if name in scope.bound:
                    module.other.add(name)  # assigned through `global`: not just a def
            elif owner.kind != _CLASS:
                self.capture(scope, owner, name)

    def capture(self, scope: _Scope, owner: _Scope, name: str) -> None:
        """*scope* uses *owner*'s local *name*: a closure cell of the functions between."""
        key = (id(owner), name)
        captured = self.captured.get(key)
        if captured is None:
            captured = self.captured[key] = _Captured(owner, name)
        current: _Scope | None = scope
        while current is not None and current is not owner:
            func = current.func
            if current.kind == _FUNCTION and func is not None and func not in captured.funcs:
                captured.funcs.append(func)
            current = current.parent
        if name in scope.stores:  # ``nonlocal name`` and an assignment
            captured.rebound = True

    def check_attribute(self, scope: _Scope, root: str, chain: str, attr: str) -> None:
        owner = self.resolve(scope, root)
        base = self.imports.get(root)
        if base is not None:
            qualified = base + chain[len(root) :]
            reason = _GIVE_UP_QUALIFIED.get(f"{qualified}.{attr}")
            if reason is not None:
                raise _GiveUp(reason)
        if attr == "__dict__":
            value = self.namespace.get(root) if owner is self.module else None
            if base is not None or (chain == root and type(value) is type(sys)):
                raise _GiveUp(f"uses {chain}.__dict__ of a module")

    def functions_named(self, scope: _Scope, name: str) -> list[_Func]:
        owner = self.resolve(scope, name)
        if owner is None or name in owner.other:
            return []
        return owner.defs.get(name, [])

    def class_named(self, scope: _Scope, name: str) -> _Class | None:
        owner = self.resolve(scope, name)
        if owner is None or name in owner.other:
            return None
        return owner.classes.get(name)

    def link_call(self, call: _Call) -> None:
        if call.name is not None:
            self.link_name_call(call, call.name)
        elif call.attr is not None:
            self.link_attribute_call(call, call.attr)
        else:
            self.unknown(call, call.callee)

    def link_name_call(self, call: _Call, name: str) -> None:
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
            self.qualified_call(qualified, call)
        else:
            self.unknown(call, call.callee)

    def link_attribute_call(self, call: _Call, attr: str) -> None:
        """``recv.attr(...)``: a module's function, a class's method, or a method call."""
        root, chain = call.root, call.chain
        if root is not None and chain is not None:
            base = self.imports.get(root)
            owner = self.resolve(call.scope, root)
            if base is not None and owner is not None and self.imports_code(root, base, owner):
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

    def builtin_type(self, scope: _Scope, name: str) -> bool:
        """Does *name* refer to a builtin type (``dict``, ``list``, ``object``) here?"""
        import builtins

        return self.resolve(scope, name) is None and isinstance(getattr(builtins, name, None), type)

    def unbound_method_call(self, call: _Call, attr: str) -> None:
        """``dict.update(CONFIG, o)``, ``list.append(L, x)``: a method of a builtin type
        called with its receiver as the first argument."""
        if not call.args or call.args[0].kind != _POS:
            self.unknown(call, None)
            return
        bound = _Call(call.scope, call.args[1:], call.result)
        bound.attr = attr
        bound.recv = call.args[0].node
        self.method_by_name(bound, attr, bound.recv)

    def unbound_mutator(self, call: _Call, arg: _Arg) -> bool:
        """Is *arg* a method of a builtin type that may write what it is applied to
        (``map(dict.update, ...)``)?"""
        if arg.method is None:
            return False
        root, attr = arg.method
        return attr not in _READ_ONLY_METHODS and self.builtin_type(call.scope, root)

    def imports_code(self, name: str, qualified: str, owner: _Scope) -> bool:
        """Is the imported *name* a module, class or function (not data that can be written)?"""
        if name in self.module_imports:
            return True
        value = self.namespace.get(name) if owner is self.module else None
        if value is None:  # not imported yet (lazily, in a function)
            value = sys.modules.get(qualified)
        return isinstance(value, type) or callable(value) or type(value) is type(sys)

    def class_methods(self, cls: _Class, name: str) -> list[_Func]:
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

    def qualified_call(self, qualified: str, call: _Call) -> None:
        if qualified in ("setattr", "delattr", "builtins.setattr", "builtins.delattr"):
            self.setattr_call(call)
            return
        if qualified in _HANDLER:  # handler(func): an entry point, as when decorated
            for arg in call.args:
                for func in self.arg_functions(call, arg):
                    func.handler = True
            return
        result = _pure_result(qualified)
        if result is None or (
            qualified in _CALLS_ITS_ARGUMENTS
            and any(self.unbound_mutator(call, arg) for arg in call.args)
        ):
            self.unknown(call, None)
            return
        values: list[_Node] = []
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
                if qualified in _CALLS_ITS_ARGUMENTS and arg.node is not None:
                    self.value_calls.append(arg.node)  # maybe a bound method: called
        if result != _FRESH:
            self.result_from(call, values, result)

    def setattr_call(self, call: _Call) -> None:
        if not call.args:
            return
        first = call.args[0]
        if first.name is not None:
            owner = self.resolve(call.scope, first.name)
            value = self.namespace.get(first.name) if owner is self.module else None
            if first.name in self.imports or type(value) is type(sys):
                raise _GiveUp(f"uses setattr()/delattr() on module {first.name}")
        self.store(first.node, call.scope)
        for arg in call.args:
            self.callback(self.arg_functions(call, arg), call, None, escaped=True)
        if len(call.args) > 2 and first.node is not None and call.args[2].node is not None:
            self.edge(call.args[2].node, first.node, _HOLD)

    def method_call(self, call: _Call) -> None:
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

    def method_by_name(self, call: _Call, name: str, recv: _Node) -> None:
        """A method call judged by the method's name: logging, read-only, mutating, unknown."""
        if name in _LOGGING_METHODS:
            for arg in call.args:
                self.callback(self.arg_functions(call, arg), call, None, escaped=False)
            return
        result = _READ_ONLY_METHODS.get(name)
        mutating = False
        if result is None:
            result = _MUTATING_METHODS.get(name)
            mutating = result is not None
        if result is None:
            self.unknown(call, recv)
            return
        if mutating:
            self.store(recv, call.scope)
        values: list[_Node] = [recv]
        for arg in call.args:
            funcs = self.arg_functions(call, arg)
            if funcs:
                self.callback(funcs, call, recv, escaped=False)
                continue
            if arg.key == "key" and arg.node is not None:  # list.sort(key=...) calls it
                self.value_calls.append(arg.node)
                continue
            if mutating and arg.node is not None and recv is not None:
                self.edge(arg.node, recv, _HOLD)  # stored into the receiver
            if name in ("get", "pop", "setdefault") and arg is not call.args[0]:
                values.append(arg.node)  # the default may be returned
        if result != _FRESH:
            self.result_from(call, values, result)

    def constructed_only(self, call: _Call) -> list[_Class]:
        """The classes of the instances a receiver variable holds, when it is only ever
        bound to new instances of the module's classes (else [])."""
        name = call.root
        if name is None or call.chain != name:
            return []
        owner = self.resolve(call.scope, name)
        if owner is None or (owner is self.module and name in self.rebound_anywhere):
            return []
        classes: list[_Class] = []
        for value in owner.assigned.get(name, ()):
            cls = None if value is None else self.constructed.get(value)
            if cls is None:
                return []
            classes.append(cls)
        return classes

    def class_fact(self, node: int, cls: _Class, instance: bool) -> None:
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

    def result_from(self, call: _Call, values: list[_Node], kind: int) -> None:
        for value in values:
            if value is not None:
                self.edge(value, call.result, kind)

    def arg_functions(self, call: _Call, arg: _Arg) -> list[_Func]:
        if arg.func is not None:
            return [arg.func]
        if arg.name is not None:
            return self.functions_named(call.scope, arg.name)
        return []

    def callback(self, funcs: list[_Func], call: _Call, recv: _Node, *, escaped: bool) -> None:
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
                    self.edge(source, param, _INTO)

    def unknown(self, call: _Call, callee: _Node) -> None:
        """A call of code the analysis does not know: every argument may be written."""
        effects = call.effects
        values: list[_Node] = []
        if call.attr is not None:  # an unknown method: it may write its receiver
            self.escape(callee, effects)
            values.append(callee)
        elif callee is not None:  # calling a value: a function, a class, a bound method
            self.pending_calls.setdefault(callee, []).append(call)  # maybe a class
            self.value_calls.append(callee)
            if effects:
                self.called.append(callee)
            self.edge(callee, call.result, _INNER)
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
        self.result_from(call, values, _INTO)

    def construct(self, cls: _Class, call: _Call) -> None:
        self.constructions.append((call.result, cls))
        self.constructed[call.result] = cls
        if cls.local:
            self.edge(cls.node, call.result, _HOLD)
        self.edge(call.result, cls.instances, _COPY)
        if self.solving:
            self.add_fact(call.result, self.class_sources[id(cls)], _EXACT)
        inits = self.class_methods(cls, "__init__")
        if inits:
            self.link_funcs(inits, call, call.result)
        else:
            for arg in call.args:
                self.callback(self.arg_functions(call, arg), call, None, escaped=True)
                if arg.node is not None:
                    self.edge(arg.node, call.result, _HOLD)
        post = self.class_methods(cls, "__post_init__")
        for func in post:
            if func.positional:
                self.edge(call.result, func.params[func.positional[0]], _COPY)
        if not inits and any(
            base not in _SAFE_BASES and base not in self.module.classes for base in cls.bases
        ):
            self.unknown(call, None)  # a third-party base class's __init__ sees them

    def link_funcs(
        self, funcs: list[_Func], call: _Call, recv: _Node, *, unbound: bool = False
    ) -> None:
        """Arguments flow into the parameters of *funcs*, their return into the result."""
        for arg in call.args:
            self.callback(self.arg_functions(call, arg), call, None, escaped=True)
        for func in funcs:
            index = 0
            if func.receiver and (func.classmethod if unbound else recv is not None):
                if recv is not None:
                    self.edge(recv, func.params[func.positional[0]], _COPY)
                index = 1
            for arg in call.args:
                if arg.node is not None:
                    for param, kind in self.parameters_of(func, arg, index):
                        self.edge(arg.node, param, kind)
                index += arg.kind == _POS
            self.edge(func.ret, call.result, _COPY)

    def parameters_of(self, func: _Func, arg: _Arg, index: int) -> list[tuple[int, int]]:
        """The parameters (and edge kinds) an argument reaches; *index*: its position."""
        params = func.params
        if arg.kind == _POS:
            if index < len(func.positional):
                return [(params[func.positional[index]], _COPY)]
            return [] if func.vararg is None else [(params[func.vararg], _HOLD)]
        if arg.kind == _KW:
            if arg.key in params and arg.key not in (func.vararg, func.kwarg):
                return [(params[arg.key], _COPY)]
            return [] if func.kwarg is None else [(params[func.kwarg], _HOLD)]
        # *args, **kwargs: any parameter may get any of their items
        return [
            (param, _HOLD if pname in (func.vararg, func.kwarg) else _INTO)
            for pname, param in params.items()
        ]

    # -- solving ------------------------------------------------------------------------------

    def result(self) -> Analysis:
        """Link, solve, and read the sinks."""
        loaded, rebound = self.link()
        sources, facts = self.solve()
        written: dict[str, bool] = {}
        params: dict[tuple[str, int], set[str]] = {}
        cells: dict[tuple[str, int], dict[str, bool]] = {}

        def write(source: int, deep: bool) -> None:
            if source >= len(sources):
                return  # an instance or class of the module (left to the runtime)
            name, owner = sources[source]
            if owner is None:
                written[name] = written.get(name, False) or deep
            elif type(owner) is _Func:
                params.setdefault((owner.name, owner.keys[1]), set()).add(name)
            else:
                assert type(owner) is _Captured
                deep = deep or owner.rebound
                for func in owner.funcs:
                    found = cells.setdefault((func.name, func.keys[1]), {})
                    found[name] = found.get(name, False) or deep

        for node in self.stores:
            for source, bits in (facts[node] or {}).items():
                if bits & (_INSIDE | _EXACT):
                    write(source, bool(bits & _INSIDE))
        for node in self.escapes:
            for source in facts[node] or {}:
                write(source, True)
        for node in self.called:  # calling a bound method taken from a value writes it
            for source, bits in (facts[node] or {}).items():
                if bits & _INSIDE:
                    write(source, True)
        for name in rebound & written.keys():
            written[name] = True  # a new value that is also written: watch it all
        for captured in self.captured.values():
            if captured.rebound:  # a new value in the cell: its identity is watched
                for func in captured.funcs:
                    cells.setdefault((func.name, func.keys[1]), {}).setdefault(captured.name, False)
        loaded.update(written)
        return Analysis(
            written=written,
            loaded=frozenset(loaded),
            rebound=frozenset(rebound),
            written_params={key: frozenset(names) for key, names in params.items()},
            written_cells=cells,
        )

    def solve(
        self,
    ) -> tuple[list[tuple[str, _Func | _Captured | None]], list[dict[int, int] | None]]:
        """Mark the sources and spread their facts to the fixed point.

        Sources: the module's names, parameters with a default, and for every class its
        instances and the class object (these are not reported: they link method calls
        while solving, and a class whose instances reach unknown code escapes: its
        methods may then be called by anyone, on any instance, and return anything).
        """
        sources: list[tuple[str, _Func | _Captured | None]] = []
        self.facts = [None] * len(self.fwd)
        self.work = []

        def plant(node: int, name: str, owner: _Func | _Captured | None) -> None:
            self.add_fact(node, len(sources), _EXACT)
            sources.append((name, owner))

        namespace = self.namespace
        for name, node in self.module.vars.items():
            if self.module_owner(name) is None:
                continue  # a builtin used at module level
            if name not in self.rebound_anywhere and _immutable_value(namespace.get(name)):
                continue  # None, 3, "text", (1, 2): nothing to write, nothing to follow
            plant(node, name, None)
        for func in self.funcs:
            for pname in func.defaulted:
                plant(func.params[pname], pname, func)
        for captured in self.captured.values():
            if captured.funcs:
                plant(self.var(captured.owner, captured.name), captured.name, captured)
        class_base = len(sources)
        class_of: list[tuple[_Class, bool]] = []
        for cls in self.classes:
            self.class_sources[id(cls)] = len(sources)
            sources.append((cls.name, None))
            sources.append((cls.name, None))
            class_of += [(cls, True), (cls, False)]
            self.add_fact(cls.node, len(sources) - 1, _EXACT)
        for node, cls in self.constructions:
            self.add_fact(node, self.class_sources[id(cls)], _EXACT)
        self.solving = True
        handled: set[int] = set()
        while True:
            self.propagate(class_base, class_of)
            if not self.escape_classes(class_base, class_of, handled):
                break
        self.solving = False
        self.escapes.extend(f.ret for f in self.funcs if f.escaped and not f.handler)
        return sources[:class_base], self.facts

    def escape_classes(
        self, class_base: int, class_of: list[tuple[_Class, bool]], handled: set[int]
    ) -> bool:
        """Classes whose instances reached unknown code escape: any code may call any of
        their methods on any instance and get what they return. False: none new."""
        for node in self.leaks:
            for source in self.facts[node] or ():
                if source >= class_base:
                    class_of[source - class_base][0].escaped = True
        for node in self.value_calls:  # a bound method of an instance, called by name
            for source, bits in (self.facts[node] or {}).items():
                if source >= class_base and bits & _INSIDE:
                    class_of[source - class_base][0].escaped = True
        escaped = [c for c in self.classes if c.escaped and id(c) not in handled]
        for cls in escaped:
            handled.add(id(cls))
            for funcs in cls.methods.values():
                for func in funcs:
                    func.escaped = True
                    if func.receiver:
                        self.edge(cls.instances, func.params[func.positional[0]], _COPY)
        return bool(escaped)

    def propagate(  # noqa: PLR0912, PLR0915 - the hot loop, in one piece for speed
        self, class_base: int, class_of: list[tuple[_Class, bool]]
    ) -> None:
        """Handle each new (node, source, state) fact once: spread it along the edges."""
        fwd, rev, facts, work = self.fwd, self.rev, self.facts, self.work
        pop, push = work.pop, work.append
        while work:
            node, source, bits = pop()
            if source >= class_base and bits & _EXACT:
                cls, instance = class_of[source - class_base]
                self.class_fact(node, cls, instance)
            for packed in fwd[node]:
                kind = packed & 3
                if kind == _COPY:
                    out = bits
                elif kind == _INTO:
                    out = _INSIDE
                elif kind == _HOLD:
                    out = _HELD
                elif bits & ~_EXACT:
                    out = _INSIDE
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
            if bits & _HOLDS:  # what an alias holds, the object it came from holds
                for packed in rev[node]:
                    kind = packed & 3
                    if kind == _COPY:
                        out = bits & _HOLDS
                    elif kind != _HOLD:
                        out = _DEEP
                    else:
                        out = bits & _DEEP
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


def _immutable_value(value: object) -> bool:
    """A value nothing can write into (a str, a number, None, a tuple of those...)."""
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(_immutable_value(item) for item in value)  # type: ignore[attr-defined]
    return kind in _IMMUTABLE


def _number_literal(node: ast.expr) -> bool:
    """``1``, ``-2.5``: a number written in the source."""
    if type(node) is ast.UnaryOp:
        node = node.operand
    return type(node) is ast.Constant and type(node.value) in (int, float, complex)


def _immutable_literal(node: ast.expr) -> bool:
    """A literal whose value nothing can write into (a default worth no watching)."""
    if type(node) is ast.Constant:
        return True
    if type(node) is ast.UnaryOp:
        return type(node.operand) is ast.Constant
    if type(node) is ast.Tuple:
        return all(_immutable_literal(element) for element in node.elts)
    return False


def _forward_state(bits: int, kind: int) -> int:
    """The state facts *bits* take along an edge of *kind* (0: none)."""
    if kind == _COPY:
        return bits
    if kind == _INTO:
        return _INSIDE
    if kind == _HOLD:
        return _HELD
    return _INSIDE if bits & ~_EXACT else 0


def _back_state(bits: int, kind: int) -> int:
    """The state a held fact takes going back along an edge of *kind* (0: none)."""
    if not bits & _HOLDS:
        return 0
    if kind == _COPY:
        return bits & _HOLDS
    return bits & _DEEP if kind == _HOLD else _DEEP


def _pure_result(qualified: str) -> int | None:
    """What a call of a known pure function returns (None: not known to be pure)."""
    result = _PURE.get(qualified)
    if result is None and qualified.startswith(_PURE_PREFIXES):
        result = _FRESH
    if result is None and "." not in qualified:
        import builtins

        value = getattr(builtins, qualified, None)
        if isinstance(value, type) and issubclass(value, BaseException):
            result = _HOLD  # an exception keeps its arguments in .args
    return result


def _chain(node: ast.expr) -> tuple[str | None, str | None]:
    """``a.b.c`` -> ("a", "a.b.c"); anything else -> (None, None)."""
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None, None
    parts.append(node.id)
    return node.id, ".".join(reversed(parts))


def _vars_of_chain(node: ast.Call) -> bool:
    """``vars(x)`` or ``vars(x.y)``: one argument, a name or an attribute chain."""
    func = node.func
    return (
        type(func) is ast.Name
        and func.id == "vars"
        and len(node.args) == 1
        and not node.keywords
        and _chain(node.args[0])[0] is not None
    )


def _method_of(scope: _Scope) -> _Func | None:
    """The method (with a receiver, ``self`` or ``cls``) enclosing *scope*, if any."""
    current: _Scope | None = scope
    while current is not None:
        func = current.func
        if current.kind == _FUNCTION and func is not None and func.receiver:
            return func
        current = current.parent
    return None


def _is_main_test(test: ast.expr) -> bool:
    if type(test) is not ast.Compare or len(test.comparators) != 1:
        return False
    if type(test.ops[0]) is not ast.Eq:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if type(s) is ast.Name and s.id == "__name__"]
    consts = [s for s in sides if type(s) is ast.Constant and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


# ---------------------------------------------------------------------------------------------
# Does the running code come from this source?


_ALWAYS_NAMES = frozenset({"AssertionError", ""})
_DATACLASS_METHODS = frozenset(
    _words(
        "__init__ __repr__ __eq__ __lt__ __le__ __gt__ __ge__ __hash__ __setattr__",
        "__delattr__ __getstate__ __setstate__ __replace__ __create_fn__",
    )
)


def _check_code(module_name: str, namespace: dict[str, Any], builder: _Builder) -> None:
    """Give up unless every function sharing *namespace* is a def of the parsed source."""
    filename = namespace.get("__file__")
    for code in _shared_code(module_name, namespace):
        if isinstance(filename, str) and code.co_filename != filename:
            raise _GiveUp(
                f"function {code.co_name} shares the module's globals but was compiled from "
                f"{code.co_filename!r}"
            )
        _check_one(code, builder, None)


def _shared_code(module_name: str, namespace: dict[str, Any]) -> list[Any]:
    """Code of the functions reachable from *namespace* whose globals are *namespace*."""
    return [code for _, code in _functions_and_code(module_name, namespace) if code is not None]


def shared_functions(module_name: str, namespace: dict[str, Any]) -> list[Any]:
    """The functions of the module: reachable from *namespace* (module-level values, the
    methods of its classes, every layer under decorators, partials and properties) with
    *namespace* as their globals. The guard reads their defaults and closures."""
    return [func for func, code in _functions_and_code(module_name, namespace) if code is not None]


def _functions_and_code(module_name: str, namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """``(function, code)`` of :func:`shared_functions`; code is None for the methods that
    ``dataclasses`` compiles with the module's globals (not the module's source)."""
    function_type = type(_check_code)  # types.FunctionType, without importing types here
    seen: set[int] = set()
    todo: list[tuple[Any, bool]] = [(value, False) for value in namespace.values()]
    found: list[tuple[Any, Any]] = []
    while todo:
        value, in_dataclass = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if type(value) is function_type and value.__globals__ is namespace:
            code = value.__code__
            generated = (
                in_dataclass
                and code.co_name in _DATACLASS_METHODS
                and code.co_filename == "<string>"
            )
            found.append((value, None if generated else code))
        if isinstance(value, type):
            in_dataclass = "__dataclass_fields__" in value.__dict__
        todo.extend((inner, in_dataclass) for inner in _inner_functions(value, module_name))
    return found


def source_constants(module_name: str, namespace: dict[str, Any]) -> frozenset[Any]:
    """The strings and integers written as literals in the module's source (empty without
    a source). Dict keys among them are not request data: messages may show them."""
    global ast
    try:
        source, filename = _source(module_name, namespace)
        import ast

        tree = ast.parse(source, filename)
    except (_GiveUp, SyntaxError, ValueError, RecursionError):
        return frozenset()
    return frozenset(
        node.value
        for node in ast.walk(tree)
        if type(node) is ast.Constant and type(node.value) in (str, int)
    )


def _inner_functions(value: Any, module_name: str) -> list[Any]:
    """What *value* wraps or holds that may be a function of the module (never runs code)."""
    import functools
    import types

    kind = type(value)
    found: list[Any]
    if kind is types.FunctionType:
        found = [value.__dict__.get("__wrapped__")]
    elif kind is types.MethodType or kind is staticmethod or kind is classmethod:
        found = [value.__func__]
    elif kind is property:
        found = [value.fget, value.fset, value.fdel]
    elif kind is functools.partial:
        found = [value.func]
    elif isinstance(value, type):
        own = value.__dict__
        found = list(own.values()) if own.get("__module__") == module_name else []

    else:
        found = [_own_wrapped(value)]
    return [f for f in found if f is not None]


def _own_wrapped(value: Any) -> Any:
    """``__wrapped__`` (or ``func``: ``functools.cached_property``) from an object's own
    dict, without running a proxy's ``__getattr__``."""
    try:
        attrs = object.__getattribute__(value, "__dict__")
    except Exception:
        return None
    if type(attrs) is not dict:
        return None
    return attrs.get("__wrapped__") or attrs.get("func")


def _check_one(code: Any, builder: _Builder, parent: set[str] | None) -> None:
    name = code.co_name
    idents: set[str] | None
    if name == "<lambda>":
        funcs = builder.lambda_lines.get(code.co_firstlineno)
        if not funcs:
            raise _GiveUp(
                f"source does not match the running code (lambda line {code.co_firstlineno})"
            )
        idents = set().union(*(f.idents for f in funcs))
        _check_params(code, funcs)
    elif name.startswith("<"):  # comprehensions (3.11 and older), annotation scopes
        idents = parent
    elif (name, code.co_firstlineno) in builder.def_keys:
        funcs = builder.def_keys[name, code.co_firstlineno]
        idents = set().union(*(f.idents for f in funcs))
        _check_params(code, funcs)
    elif (name, code.co_firstlineno) in builder.class_keys:
        idents = None  # a class body or a type alias: implicit names not worth modelling
    else:
        raise _GiveUp(
            f"source does not match the running code ({name} at line {code.co_firstlineno})"
        )
    if idents is not None:
        for used in code.co_names:
            if used in idents or used in _ALWAYS_NAMES or _demangled(used) in idents:
                continue
            raise _GiveUp(
                f"source does not match the running code ({name} uses {used!r}, "
                "absent from its source)"
            )
    for const in code.co_consts:
        if type(const) is type(code):
            _check_one(const, builder, idents)


def _check_params(code: Any, funcs: list[_Func]) -> None:
    count = code.co_argcount + code.co_kwonlyargcount
    flags = code.co_flags
    count += bool(flags & 0x04) + bool(flags & 0x08)  # CO_VARARGS, CO_VARKEYWORDS
    names = sorted(_demangled(name) for name in code.co_varnames[:count])
    for func in funcs:
        expected = [*func.positional, *func.kwonly, func.vararg, func.kwarg]
        if sorted(name for name in expected if name is not None) == names:
            return
    raise _GiveUp(f"source does not match the running code (parameters of {code.co_name} changed)")


def _demangled(name: str) -> str:
    """``_Class__name`` -> ``__name`` (private names are mangled in the code, not the source)."""
    start = name.find("__", 1)
    if name.startswith("_") and start > 0 and not name.endswith("__"):
        return name[start:]
    return name
