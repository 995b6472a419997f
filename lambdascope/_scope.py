"""The request scope's storage: one plain list per invocation, held in a ``ContextVar``.

The handler wrapper builds the list, sets it in :data:`current` around the handler and
closes it afterwards; :mod:`lambdascope._request` reads it for ``request``; features
created on first use (``request.tmpdir``) register a cleanup that runs when the
invocation ends.
"""

from __future__ import annotations

from contextvars import ContextVar

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
    "current",
    "current_scope",
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
