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
    - Another module's code is that module's analysis: what it does through
      the module object (``store.X.append(v)``, ``config.X = v``, a function's
      result) is reported there as :attr:`Analysis.foreign` and joined by the
      runtime (``_census.link_project``); a value it received (``from app
      import X``) is held twice, and the runtime watches it deeply.
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

import ast

from . import _ahead
from ._calls import Linker
from ._facts import Analysis, GiveUp
from ._source import check_code, module_source
from ._visit import Visitor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    NodeId = Optional[int]


class Builder(Visitor, Linker):
    """Builds the alias graph of one module in a single pass, then links and solves it."""


def analyse(module_name: str, namespace: dict[str, Any], *, exported: bool = False) -> Analysis:
    """Analyse the source of the module whose ``__dict__`` is *namespace*; *exported*:
    other modules of the project use it (its functions' results and its classes are theirs
    too)."""
    import gc

    # The syntax tree and the graph are many small objects and no cycles worth collecting:
    # the cyclic collector would run over and over on them (about a tenth of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse(module_name, namespace, exported)
    finally:
        if enabled:
            gc.enable()


def _analyse(module_name: str, namespace: dict[str, Any], exported: bool) -> Analysis:
    try:
        source, filename = module_source(module_name, namespace)
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError) as exc:
            return Analysis(gave_up=f"source does not parse ({type(exc).__name__}: {exc})")
        recording = _ahead.Recording(namespace) if _ahead.recording() else None
        builder = Builder(module_name, namespace if recording is None else recording, tree)
        builder.exported = exported
        builder.build()
        check_code(module_name, namespace, builder)
        analysis = builder.result()
        if recording is not None:
            _ahead.record(module_name, recording, builder, analysis, source)
        return analysis
    except GiveUp as exc:
        return Analysis(gave_up=str(exc))
    except RecursionError:
        return Analysis(gave_up="source too deeply nested to analyse")
    except Exception as exc:  # an analysis bug must fall back to watching everything
        return Analysis(gave_up=f"analysis failed ({type(exc).__name__}: {exc})")
