"""Process-state rule LS112: handler code writing request data into the process environment.

``os.environ["TENANT_ID"] = event["tenant"]`` (also ``os.environ.update(...)``,
``os.environ.setdefault(...)``, ``os.putenv(...)``) changes state of the whole process, not of
the invocation: the next invocation in the execution environment reads this request's value,
and so does every library that reads the variable (boto3 reads its credentials and region
there). Setting a variable to a constant or to the function's own configuration is the same on
every invocation and is not reported.
"""

from __future__ import annotations

import ast

from . import _catalogue as cat
from ._syntax import show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._facts import Frame, Visit

__all__ = ["check_call", "check_statement"]


def _report(visit: Visit, node: ast.AST, shown: str) -> None:
    visit.report(
        node,
        "LS112",
        f"`{shown}` {visit.where} puts request data into the process environment: it outlives "
        "the invocation, so the next one in this execution environment reads this request's "
        "value (and so does every library that reads the variable). Pass the value on as an "
        "argument, or keep it on `lambdascope.request`",
    )


def check_statement(visit: Visit, node: ast.AST, frame: Frame) -> None:
    """LS112 for ``os.environ[name] = value`` with request data in *value*."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) or node.value is None:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if (
            isinstance(target, ast.Subscript)
            and visit.module.qualify(target.value) in cat.ENVIRONMENTS
            and frame.tainted_by(node.value)
        ):
            _report(visit, target, show(target))


def check_call(visit: Visit, call: ast.Call, frame: Frame) -> None:
    """LS112 for ``os.environ.update(...)``, ``os.environ.setdefault(...)`` and
    ``os.putenv(...)`` given request data."""
    qualified = visit.module.qualify(call.func) or ""
    writes = qualified in cat.ENVIRONMENT_WRITES or (
        qualified.rsplit(".", 1)[0] in cat.ENVIRONMENTS
        and qualified.rsplit(".", 1)[-1] in cat.ENVIRONMENT_METHODS
    )
    if writes and any(frame.tainted_by(a) for a in [*call.args, *(k.value for k in call.keywords)]):
        _report(visit, call, f"{show(call.func)}(...)")
