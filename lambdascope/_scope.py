"""The request scope's storage: the scope list, the ContextVar that holds it, its end.

The lowest floor of the request scope: ``_request`` (the public :data:`request`),
``_handler`` (which opens and closes scopes) and the per-invocation extras built on
it (log fields, deadlines) import from here; it imports nothing of theirs.
"""

from __future__ import annotations

from contextvars import ContextVar

from ._errors import OutsideInvocationError

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "ACTIVE",
    "ATTRS",
    "CLEANUPS",
    "COLD_START",
    "CONTEXT",
    "EVENT",
    "INVOCATION",
    "active_scope",
    "current",
    "current_scope",
    "in_invocation",
    "on_invocation_end",
    "run_cleanups",
]


# A scope is a plain list, not an object: creating it is the largest per-invocation cost,
# and a list literal is about 3x cheaper than an instance with __init__ (docs/design.md).
# Layout: [event, context, invocation, cold_start, attrs (dict | None), active (bool),
#          cleanups (list | None)]. The handler wrapper builds it as a literal.
EVENT, CONTEXT, INVOCATION, COLD_START, ATTRS, ACTIVE, CLEANUPS = range(7)

if TYPE_CHECKING:
    Scope = list[Any]


current: ContextVar[Scope | None] = ContextVar("lambdascope.request", default=None)


def on_invocation_end(scope: Scope, cleanup: Callable[[], object]) -> None:
    """Run *cleanup* when the invocation of *scope* ends (newest first, after the scope closes).

    For per-invocation things lambdascope creates on first use (a private directory,
    logging fields): an invocation that never uses them pays one ``is None`` check.
    """
    if scope[CLEANUPS] is None:
        scope[CLEANUPS] = [cleanup]
    else:
        scope[CLEANUPS].append(cleanup)


def current_scope() -> Scope | None:
    """The scope of this context's invocation (closed or not), or ``None``."""
    return current.get()


def run_cleanups(scope: Scope) -> None:
    """Run the cleanups of an ended invocation; one that fails is logged, never raised."""
    cleanups = scope[CLEANUPS]
    scope[CLEANUPS] = None
    while cleanups:
        cleanup = cleanups.pop()
        try:
            cleanup()
        except Exception:
            import logging

            logging.getLogger("lambdascope").exception(
                "a cleanup at the end of invocation %s failed", scope[INVOCATION]
            )


def _outside(what: str, scope: Scope | None) -> OutsideInvocationError:
    if scope is None:
        why = (
            "no Lambda invocation is running in this context. `request` exists only while a "
            "@handler-decorated function runs. Module top-level code (Init) must not use it: "
            "move the code into the handler, or build shared objects with @init_resource. "
            "Threads started inside a handler see it only when run with "
            "contextvars.copy_context().run(...); in tests, call the decorated handler "
            "(or use lambdascope.testing)."
        )
    else:
        why = (
            f"the invocation it belonged to (invocation {scope[INVOCATION]}) has already ended. "
            "A thread or task that outlives its invocation must not use per-request data: "
            "pass what it needs as arguments, or wait for it before the handler returns."
        )
    return OutsideInvocationError(f"lambdascope.request.{what} was used but {why}")


def active_scope(what: str) -> Scope:
    """The running invocation's scope; ``OutsideInvocationError`` naming ``request.<what>``."""
    scope = current.get()
    if scope is None or not scope[ACTIVE]:
        raise _outside(what, scope)
    return scope


def in_invocation() -> bool:
    """Return ``True`` while a ``@handler`` invocation is running in this context.

    Unlike reading :data:`request`, this never raises::

        if lambdascope.in_invocation():
            log.info("request %s", lambdascope.request.request_id)
    """
    scope = current.get()
    return scope is not None and scope[ACTIVE]
