"""Client rules: AWS clients, sessions and connections built on every invocation.

- LS104: a boto3 client, resource or session built in handler code;
- LS105: a database, search, cache or HTTP connection opened in handler code;
- LS110: either one built from a *key* taken from the event (a region, an endpoint, a host):
  a few distinct values, each worth one client per execution environment — cache per key.

Not reported: clients built with per-request credentials (an assumed role's keys, a caller's
token, a session given them with ``set_credentials``), which are per request by design; those
inside a lazy initialisation or reached from one. The function's *own* credentials (its
session's ``get_credentials()``, environment variables) do not make a client per request.
"""

from __future__ import annotations

import ast

from . import _catalogue as cat
from ._syntax import show, walk_shallow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._facts import Frame, Visit

__all__ = ["check_call"]


def _kind(visit: Visit, call: ast.Call, frame: Frame) -> str | None:
    """``"session"``, ``"aws"``, ``"connection"`` or None: what *call* builds."""
    module = visit.module
    target = call.func
    qualified = module.qualify(target)
    if qualified in cat.SESSIONS:
        return "session"
    if qualified in cat.AWS_FACTORIES:
        return "aws"
    if qualified in cat.CONNECTIONS:
        return "connection"
    if (
        isinstance(target, ast.Attribute)
        and target.attr in cat.SESSION_METHODS
        and isinstance(target.value, ast.Name)
        and target.value.id in module.sessions
        and module.is_module_name(target.value.id, frame.scopes)
    ):
        return "aws"
    return None


def _arguments(call: ast.Call, kind: str) -> list[tuple[str, ast.expr]]:
    """(parameter name, value) of every argument; ``"*"`` for one that cannot be named."""
    names: tuple[str, ...] = ()
    if kind == "session":
        names = cat.SESSION_PARAMETERS
    elif kind == "aws":
        names = cat.CLIENT_PARAMETERS
    found = [
        (names[i] if i < len(names) and not isinstance(a, ast.Starred) else "*", a)
        for i, a in enumerate(call.args)
    ]
    return found + [(k.arg or "*", k.value) for k in call.keywords]


def check_call(visit: Visit, call: ast.Call, frame: Frame) -> None:
    """LS104, LS105 or LS110 for a call that builds a client, session or connection."""
    kind = _kind(visit, call, frame)
    if kind is None or visit.once or id(call) in frame.guarded or id(call) in frame.covered:
        return
    if id(call) in frame.credentialed:
        return  # a session given per-request credentials right after: per request by design
    arguments = _arguments(call, kind)
    if any(n in cat.CREDENTIAL_KEYWORDS and not frame.is_own(v) for n, v in arguments):
        return  # per-request credentials (an assumed role, the caller's): per request by design
    from_event = [n for n, v in arguments if frame.tainted_by(v)]
    keys = cat.CONNECTION_KEY_KEYWORDS if kind == "connection" else cat.AWS_KEY_KEYWORDS
    if from_event and not set(from_event) <= keys:
        return  # built from other request data: per request by design
    shown = f"`{show(call.func)}(...)` {visit.where}"
    if from_event:
        what = {"connection": "connection", "session": "AWS session"}.get(kind, "AWS client")
        visit.report(
            call,
            "LS110",
            f"{shown} builds a new {what} on every invocation for "
            f"{', '.join(f'`{n}`' for n in sorted(set(from_event)))} taken from the event: a "
            "few distinct values, each worth one client per execution environment. Cache one "
            "per key: a function of the key decorated with functools.lru_cache(maxsize=...) "
            "that builds it, or an @init_resource returning a dict of clients by key",
        )
    elif kind == "session":
        visit.report(
            call,
            "LS104",
            f"{shown} builds a new AWS session on every invocation, warm ones included "
            "(configuration loaded and credentials resolved again): create it once, in an "
            '@init_resource factory (for the region alone, read os.environ["AWS_REGION"])',
        )
    elif kind == "aws":
        visit.report(
            call,
            "LS104",
            f"{shown} builds a new AWS client on every invocation, warm ones included (tens of "
            "milliseconds and a new TLS connection each time): create it once, in an "
            "@init_resource factory or with lambdascope.aws.client()",
        )
    else:
        visit.report(
            call,
            "LS105",
            f"{shown} opens a new connection on every invocation, warm ones included: open it "
            "once, in an @init_resource factory (validate= reconnects when it drops)",
        )
    # one finding per construction: the session built only to sign it is part of it
    inside = [*call.args, *(k.value for k in call.keywords)]
    frame.covered.update(id(sub) for sub in walk_shallow(inside))
