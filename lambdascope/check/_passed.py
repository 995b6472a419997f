"""Module state handed to a helper that writes it (LS101): ``merge_into(config.FLAGS, extra)``
where ``def merge_into(target, extra): target.update(extra)``.

Each project function gets a summary of the parameters it writes in place: a mutating method
(``target.update(...)``, ``items.append(...)``), an item stored or deleted (``target[k] = v``),
a mutating standard-library function (``heapq.heappush(queue, x)``), or the parameter handed on
to another project function that writes it. A parameter the function rebinds first is its own
object. A call that passes a module-level object for such a parameter writes module state per
invocation, reported at the call, which is where the object is named (the same helper called
with a local dict is fine). Attributes set on a parameter are left to the rules that see the
object's class.
"""

from __future__ import annotations

import ast

from lambdascope._mutators import MUTATING_METHODS

from . import _catalogue as cat
from ._state import FIX_STATE, WARM, describe, owner, typed
from ._syntax import params, root, show, walk_shallow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._facts import Frame, Visit
    from ._model import Function, Project

__all__ = ["check_call", "written_parameters"]

_DEPTH = 3  # helpers handing the parameter on, followed this deep


def bound(callee: Function, call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    """(parameter of *callee*, argument) for each argument *call* passes by position or name."""
    names = [a.arg for a in [*callee.node.args.posonlyargs, *callee.node.args.args]]
    if callee.class_name and names and names[0] in ("self", "cls"):
        names = names[1:]
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or i >= len(names):
            break
        yield names[i], arg
    for keyword in call.keywords:
        if keyword.arg is not None:
            yield keyword.arg, keyword.value


def written_parameters(project: Project, function: Function, _depth: int = 0) -> dict[str, str]:
    """The parameters *function* writes in place, each with the write shown (``target.update(
    ...)``), from the project's cache."""
    key = id(function)
    if key not in project.written:
        project.written[key] = {}  # recursion: nothing known yet
        project.written[key] = _summary(project, function, _depth)
    return project.written[key]


def _summary(project: Project, function: Function, depth: int) -> dict[str, str]:
    node, module = function.node, function.module
    candidates = {a.arg for a in params(node)} - {"self", "cls"}
    nodes = list(walk_shallow(node.body))
    rebound = {
        n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
    }
    candidates -= rebound
    found: dict[str, str] = {}
    for sub in nodes:
        if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            base = root(sub)
            if base is not None and base.id in candidates:
                found.setdefault(base.id, show(sub))
        elif isinstance(sub, ast.Call):
            target = sub.func
            if (
                isinstance(target, ast.Attribute)
                and target.attr in MUTATING_METHODS
                and isinstance(target.value, ast.Name)
                and target.value.id in candidates
            ):
                found.setdefault(target.value.id, f"{show(target)}(...)")
            elif (
                (module.qualify(target) or "") in cat.MUTATING_FUNCTIONS
                and sub.args
                and isinstance(sub.args[0], ast.Name)
                and sub.args[0].id in candidates
            ):
                found.setdefault(sub.args[0].id, f"{show(target)}(...)")
            elif depth < _DEPTH:
                _handed_on(project, function, sub, candidates, found, depth=depth)
    return found


def _handed_on(
    project: Project,
    function: Function,
    call: ast.Call,
    candidates: set[str],
    found: dict[str, str],
    *,
    depth: int,
) -> None:
    """A parameter handed on to another project function that writes it."""
    name = ast.unparse(call.func) if isinstance(call.func, (ast.Name, ast.Attribute)) else ""
    module = function.module
    callee = module.functions.get(name) or (project.imported(module, name) if name else None)
    if callee is None or callee.class_name is not None:
        return
    written = written_parameters(project, callee, depth + 1)
    for param, arg in bound(callee, call):
        if isinstance(arg, ast.Name) and arg.id in candidates and param in written:
            found.setdefault(arg.id, f"{written[param]} in {callee.qualname}()")


def check_call(visit: Visit, call: ast.Call, callee: Function, frame: Frame) -> None:
    """LS101 for *call* passing a module-level object to *callee*, which writes it in place."""
    written = written_parameters(visit.project, callee)
    if not written:
        return
    for param, arg in bound(callee, call):
        if param not in written:
            continue
        found = owner(visit, arg, frame)
        method = written[param].partition("(")[0].rpartition(".")[2]
        if found is None or typed(visit, arg, method, frame):
            continue
        visit.report(
            call,
            "LS101",
            f"`{show(call)}` {visit.where} passes {describe(visit.shown(*found), arg)} to "
            f"{callee.qualname}(), which writes it in place (`{written[param]}`): {WARM} (data "
            f"of one request leaks into the next); {FIX_STATE}",
            state=found,
        )
