"""The request scope: per-invocation data kept in a :class:`contextvars.ContextVar`.

The Lambda runtime does not reset context variables between invocations, so the
scope is opened and closed by ``@handler`` around every call. A closed scope is
marked inactive: a thread or task that outlives its invocation gets
:class:`~lambdascope.OutsideInvocationError`, never stale data.
"""

from __future__ import annotations

from contextvars import ContextVar

from ._errors import OutsideInvocationError
from ._state import state

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from ._logging import LogFields

__all__ = ["Request", "in_invocation", "request"]

_RESERVED = frozenset(
    {"event", "context", "request_id", "cold_start", "invocation", "recycled", "get", "as_dict"}
    | {"log", "deadline", "remaining", "check_deadline"}
)


# A scope is a plain list, not an object: creating it is the largest per-invocation cost,
# and a list literal is about 3x cheaper than an instance with __init__ (docs/design.md).
# Layout: [event, context, invocation, cold_start, attrs (dict | None), active (bool),
#          cleanups (list | None)]. The handler wrapper builds it as a literal.
EVENT, CONTEXT, INVOCATION, COLD_START, ATTRS, ACTIVE, CLEANUPS = range(7)

if TYPE_CHECKING:
    _Scope = list[Any]


current: ContextVar[_Scope | None] = ContextVar("lambdascope.request", default=None)


def on_invocation_end(scope: _Scope, cleanup: Callable[[], object]) -> None:
    """Run *cleanup* when the invocation of *scope* ends (newest first, after the scope closes).

    For per-invocation things lambdascope creates on first use (a private directory,
    logging fields): an invocation that never uses them pays one ``is None`` check.
    """
    if scope[CLEANUPS] is None:
        scope[CLEANUPS] = [cleanup]
    else:
        scope[CLEANUPS].append(cleanup)


def current_scope() -> _Scope | None:
    """The scope of this context's invocation (closed or not), or ``None``."""
    return current.get()


def run_cleanups(scope: _Scope) -> None:
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


def _outside(what: str, scope: _Scope | None) -> OutsideInvocationError:
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


def _active_scope(what: str) -> _Scope:
    scope = current.get()
    if scope is None or not scope[ACTIVE]:
        raise _outside(what, scope)
    return scope


#: The running invocation's scope; ``OutsideInvocationError`` (naming ``request.<what>``) if none.
active_scope = _active_scope


def in_invocation() -> bool:
    """Return ``True`` while a ``@handler`` invocation is running in this context.

    Unlike reading :data:`request`, this never raises::

        if lambdascope.in_invocation():
            log.info("request %s", lambdascope.request.request_id)
    """
    scope = current.get()
    return scope is not None and scope[ACTIVE]


class Request:
    """The current invocation's scope; use the :data:`lambdascope.request` instance.

    Built-in, read-only fields: :attr:`event`, :attr:`context`, :attr:`request_id`,
    :attr:`cold_start` and :attr:`invocation`. Any other attribute may be set and
    read during an invocation and is gone when it ends::

        @handler
        def lambda_handler(event, context):
            request.user = event["user"]
            return greet()

        def greet():
            return f"hello {request.user}"

    Reading or writing it outside an invocation raises
    :class:`~lambdascope.OutsideInvocationError`.
    """

    __slots__ = ()
    __module__ = "lambdascope"

    @property
    def event(self) -> Any:
        """The event the handler was called with."""
        return _active_scope("event")[EVENT]

    @property
    def context(self) -> Any:
        """The Lambda context object (``None`` when a handler is called without one)."""
        return _active_scope("context")[CONTEXT]

    @property
    def request_id(self) -> str | None:
        """``context.aws_request_id``, or ``None`` when the context has none."""
        return getattr(_active_scope("request_id")[CONTEXT], "aws_request_id", None)

    @property
    def cold_start(self) -> bool:
        """``True`` only for the invocation that paid for this environment's Init.

        That is the first invocation in this process, unless Init ran ahead of
        traffic (provisioned concurrency, SnapStart, Lambda Managed Instances).
        """
        cold: bool = _active_scope("cold_start")[COLD_START]
        return cold

    @property
    def invocation(self) -> int:
        """1 for the first invocation in this environment (process), 2 for the next, ..."""
        number: int = _active_scope("invocation")[INVOCATION]
        return number

    @property
    def recycled(self) -> bool:
        """``True`` for the invocation that re-created init resources because the
        environment passed ``configure(max_environment_age=..., max_invocations=...)``."""
        return state.recycled(_active_scope("recycled")[INVOCATION])

    @property
    def log(self) -> LogFields:
        """This invocation's log fields: ``request.log.update(order_id=...)``.

        Every log record carries them (with ``aws_request_id``, ``cold_start`` and
        ``invocation``) while the invocation runs, on handlers given the filter by
        :func:`~lambdascope.install_log_context`; gone when it ends. See
        :class:`~lambdascope.LogFields`.
        """
        _active_scope("log")
        fields: LogFields = (_log_module or _load("_logging")).log_fields
        return fields

    @property
    def deadline(self) -> float | None:
        """When Lambda's timeout ends this invocation, as a :func:`time.monotonic` value.

        Read from ``context.get_remaining_time_in_millis()`` once per invocation;
        ``None`` when the handler was called without such a context.
        """
        when: float | None = (_deadline_module or _load("_deadline")).deadline()
        return when

    def remaining(self) -> float:
        """Seconds left before the function timeout (``0.0`` once past it,
        ``math.inf`` without a deadline)::

            while batch and request.remaining() > 5:
                process(batch.pop())
        """
        left: float = (_deadline_module or _load("_deadline")).remaining()
        return left

    def check_deadline(self) -> None:
        """Raise :class:`~lambdascope.DeadlineExceededError` once past the deadline
        minus ``@handler(deadline_margin=...)`` (the deadline itself without a margin).

        The cooperative way for sync code to stop in time, where nothing else stops
        it (Lambda Managed Instances keep running code past its timeout). Returns
        ``None`` while there is time, and always without a deadline::

            for record in event["Records"]:
                request.check_deadline()
                process(record)
        """
        (_deadline_module or _load("_deadline")).check_deadline()

    def get(self, name: str, default: Any = None) -> Any:
        """Return the attribute *name* set during this invocation, or *default*."""
        attrs = _active_scope(name)[ATTRS]
        if attrs is None:
            return default
        return attrs.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        """Return a copy of the attributes set during this invocation."""
        attrs = _active_scope("as_dict()")[ATTRS]
        return {} if attrs is None else dict(attrs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Never resolve private or dunder names: tools probe objects with
            # hasattr(obj, "__wrapped__") and the like, at any time.
            raise AttributeError(name)
        attrs = _active_scope(name)[ATTRS]
        try:
            return attrs[name]
        except (KeyError, TypeError):
            raise AttributeError(
                f"lambdascope.request has no attribute {name!r} in this invocation; "
                f"set it first, or use request.get({name!r}, default)"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        _check_name(name)
        scope = _active_scope(name)
        if scope[ATTRS] is None:
            scope[ATTRS] = {name: value}
        else:
            scope[ATTRS][name] = value

    def __delattr__(self, name: str) -> None:
        _check_name(name)
        attrs = _active_scope(name)[ATTRS]
        if attrs is None or name not in attrs:
            raise AttributeError(f"lambdascope.request has no attribute {name!r} to delete")
        del attrs[name]

    def __contains__(self, name: object) -> bool:
        attrs = _active_scope("__contains__")[ATTRS]
        return attrs is not None and name in attrs

    def __iter__(self) -> Iterator[str]:
        attrs = _active_scope("__iter__")[ATTRS]
        return iter(() if attrs is None else list(attrs))

    def __repr__(self) -> str:
        scope = current.get()
        if scope is None or not scope[ACTIVE]:
            return "<lambdascope.request: no invocation running>"
        names = sorted(scope[ATTRS] or ())
        return (
            f"<lambdascope.request invocation={scope[INVOCATION]} "
            f"cold_start={scope[COLD_START]} attributes={names}>"
        )


# The log-context and deadline modules build on this one, so it loads them on first use
# (an import statement per call would cost ~0.5 us) and keeps them here.
_log_module: Any = None
_deadline_module: Any = None


def _load(name: str) -> Any:
    global _log_module, _deadline_module
    import sys

    full = f"{__package__}.{name}"
    __import__(full)
    module = sys.modules[full]
    if name == "_logging":
        _log_module = module
    else:
        _deadline_module = module
    return module


def _check_name(name: str) -> None:
    if name in _RESERVED:
        raise AttributeError(f"lambdascope.request.{name} is read-only")
    if name.startswith("_"):
        raise AttributeError(
            f"lambdascope.request attribute names must not start with an underscore: {name!r}"
        )


#: The current invocation's request scope. See :class:`Request`.
request = Request()
"""The current invocation's scope: ``request.event``, ``request.cold_start``, any
attribute you set, ... (see :class:`Request`). Gone when the invocation ends."""
