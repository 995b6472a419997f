"""Reading Python syntax trees: names, targets, scopes, and walks that respect a time budget.

Every walk of a function body in the analysis goes through :func:`walk_shallow`, which counts
the nodes it yields against the current :class:`Budget` (a context variable, so concurrent
checks do not share one): a file whose analysis runs past its time bound stops with
:class:`BudgetExceeded` instead of holding up the run.
"""

from __future__ import annotations

import ast
import time
from contextvars import ContextVar

from lambdascope._mutators import MUTATING_METHODS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "Budget",
    "BudgetExceeded",
    "annotated",
    "body",
    "dotted",
    "flatten",
    "is_len",
    "is_main_guard",
    "lazy_guard",
    "matches",
    "names",
    "params",
    "root",
    "scope",
    "show",
    "walk_shallow",
    "written",
]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_CHECK_EVERY = 1024  # nodes between two looks at the clock


class BudgetExceeded(Exception):
    """The analysis of one file ran past its time bound."""


class Budget:
    """A time bound for the work done under it (``with budget:``), checked as nodes are walked."""

    __slots__ = ("_token", "count", "deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.count = 0
        self._token: object = None

    def spend(self, nodes: int) -> None:
        """Count *nodes* walked; raise :class:`BudgetExceeded` once past the deadline."""
        before = self.count
        self.count += nodes
        if self.count // _CHECK_EVERY != before // _CHECK_EVERY and (
            time.monotonic() > self.deadline
        ):
            raise BudgetExceeded(self.seconds)

    def __enter__(self) -> Budget:
        self._token = _BUDGET.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _BUDGET.reset(self._token)  # type: ignore[arg-type]


_BUDGET: ContextVar[Budget | None] = ContextVar("lambdascope_check_budget", default=None)


def walk_shallow(nodes: Iterable[ast.AST], *, enter: bool = False) -> Iterator[ast.AST]:
    """Every node under *nodes*; a nested function, lambda or class is yielded, not entered
    (with *enter*, entered too)."""
    budget = _BUDGET.get()
    stack = list(nodes)
    walked = 0
    while stack:
        node = stack.pop()
        yield node
        walked += 1
        if walked == _CHECK_EVERY and budget is not None:
            budget.spend(walked)
            walked = 0
        if enter or not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    if budget is not None:
        budget.spend(walked)


def dotted(node: ast.AST) -> str | None:
    """``"a.b.c"`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def annotated(node: ast.expr | None) -> str | None:
    """The dotted class name an annotation names: ``Service``, ``"models.Service"``,
    ``Optional[Service]``, ``Service | None``; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.Subscript) and (dotted(node.value) or "").endswith("Optional"):
        node = node.slice
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [s for s in (node.left, node.right) if not _is_none(s)]
        node = sides[0] if len(sides) == 1 else None
    return dotted(node) if node is not None else None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def root(node: ast.expr) -> ast.Name | None:
    """The Name under ``a.b[c].d`` (through attributes and subscripts only)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def flatten(target: ast.expr) -> Iterator[ast.expr]:
    """The single targets of an assignment target (``a, (b[0], *c)`` → a, b[0], c)."""
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(reversed(node.elts))
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
        else:
            yield node


def body(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.AST]:
    """The statements of a function (a lambda's expression)."""
    return [node.body] if isinstance(node, ast.Lambda) else list(node.body)


def params(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.arg]:
    """Every parameter, positional first, ``*args`` and ``**kwargs`` included."""
    args = node.args
    return [
        a
        for a in [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
        if a is not None
    ]


def scope(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[set[str], set[str]]:
    """(names declared ``global``, names local to the function) of one function scope."""
    declared: set[str] = set()
    local = {a.arg for a in params(node)}
    for sub in walk_shallow(body(node)):
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


def is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not (isinstance(test, ast.Compare) and [type(op) for op in test.ops] == [ast.Eq]):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


def matches(name: str, wanted: Iterable[str]) -> bool:
    """*name* (``f`` or ``Class.method``) is one of *wanted*, or the end of one (``app.f``)."""
    return any(w == name or w.endswith("." + name) for w in wanted)


def show(node: ast.AST) -> str:
    """*node* as source, cut to 60 characters for a message."""
    try:
        text = ast.unparse(node)
    except RecursionError:  # nested too deeply to print: name the kind of node
        text = f"<{type(node).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def names(node: ast.AST) -> Iterator[str]:
    """Every name used in *node* (walked whole)."""
    for sub in walk_shallow([node], enter=True):
        if isinstance(sub, ast.Name):
            yield sub.id


def written(statements: Iterable[ast.AST]) -> set[str]:
    """Names rebound in *statements*, or written through (items, attributes, mutating calls)."""
    found: set[str] = set()
    for node in walk_shallow(statements):
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and not isinstance(
            node.ctx, ast.Load
        ):
            base = node if isinstance(node, ast.Name) else root(node)
            found.update([base.id] if base else [])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATING_METHODS
        ):
            base = root(node.func.value)
            found.update([base.id] if base else [])
    return found


def is_len(call: ast.Call) -> bool:
    """``len(NAME)``."""
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "len"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
    )


def lazy_guard(test: ast.expr) -> tuple[set[str], bool]:  # noqa: PLR0911 - one per test form
    """(names a test checks for "not created yet", whether the test is the positive form).

    ``x is None``, ``not x``, ``k not in X``, ``X.get(k) is None``, ``X.expires < now`` →
    negative (the body creates); ``x is not None``, ``x``, ``k in X`` → positive (the body
    returns the cached value, what follows creates).
    """
    if isinstance(test, ast.BoolOp):
        found: set[str] = set()
        positive = False
        for value in test.values:
            found_names, positive = lazy_guard(value)
            found |= found_names
        return found, positive
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        found_names, positive = lazy_guard(test.operand)
        return found_names, not positive
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            base = root(right)
            return ({base.id} if base else set()), isinstance(op, ast.In)
        if isinstance(right, ast.Constant) and right.value is None:
            return lazy_guard(test.left)[0], isinstance(op, (ast.IsNot, ast.NotEq))
        if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and not any(
            isinstance(side, ast.Constant) for side in (test.left, right)
        ):  # `if EXPIRES < now:` (refreshed when expired), not `if counter > 10:`
            found = {base.id for base in map(root, (test.left, right)) if base is not None}
            return found, False
        return set(), False
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        if test.func.attr == "get":
            base = root(test.func.value)
            return ({base.id} if base else set()), True
        if dotted(test.func) is None:
            return set(), False
    if isinstance(test, (ast.Name, ast.Attribute, ast.Subscript)):
        base = root(test)
        return ({base.id} if base else set()), True
    return set(), False
