"""The request scope: per-invocation data kept in a :class:`contextvars.ContextVar`.

The Lambda runtime does not reset context variables between invocations, so the
scope is opened and closed by ``@handler`` around every call. A closed scope is
marked inactive: a thread or task that outlives its invocation gets
:class:`~lambdascope.OutsideInvocationError`, never stale data.
"""

from __future__ import annotations

from ._deadline import check_deadline, deadline, remaining
from ._logging import LogFields, log_fields
from ._scope import ACTIVE, ATTRS, COLD_START, CONTEXT, EVENT, INVOCATION, active_scope, current
from ._state import state

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

__all__ = ["Request", "request"]

_RESERVED = frozenset(
    {"event", "context", "request_id", "cold_start", "invocation", "recycled", "get", "as_dict"}
    | {"log", "deadline", "remaining", "check_deadline", "tmpdir"}
)


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
        return active_scope("event")[EVENT]

    @property
    def context(self) -> Any:
        """The Lambda context object (``None`` when a handler is called without one)."""
        return active_scope("context")[CONTEXT]

    @property
    def request_id(self) -> str | None:
        """``context.aws_request_id``, or ``None`` when the context has none."""
        return getattr(active_scope("request_id")[CONTEXT], "aws_request_id", None)

    @property
    def cold_start(self) -> bool:
        """``True`` only for the invocation that paid for this environment's Init.

        That is the first invocation in this process, unless Init ran ahead of
        traffic (provisioned concurrency, SnapStart, Lambda Managed Instances).
        """
        cold: bool = active_scope("cold_start")[COLD_START]
        return cold

    @property
    def invocation(self) -> int:
        """1 for the first invocation in this environment (process), 2 for the next, ..."""
        number: int = active_scope("invocation")[INVOCATION]
        return number

    @property
    def recycled(self) -> bool:
        """``True`` for the invocation that re-created init resources because the
        environment passed ``configure(max_environment_age=..., max_invocations=...)``."""
        return state.recycled(active_scope("recycled")[INVOCATION])

    @property
    def log(self) -> LogFields:
        """This invocation's log fields: ``request.log.update(order_id=...)``.

        Every log record carries them (with ``aws_request_id``, ``cold_start`` and
        ``invocation``) while the invocation runs, on handlers given the filter by
        :func:`~lambdascope.install_log_context`; gone when it ends. See
        :class:`~lambdascope.LogFields`.
        """
        active_scope("log")
        return log_fields

    @property
    def deadline(self) -> float | None:
        """When Lambda's timeout ends this invocation, as a :func:`time.monotonic` value.

        Read from ``context.get_remaining_time_in_millis()`` once per invocation;
        ``None`` when the handler was called without such a context.
        """
        return deadline()

    def remaining(self) -> float:
        """Seconds left before the function timeout (``0.0`` once past it,
        ``math.inf`` without a deadline)::

            while batch and request.remaining() > 5:
                process(batch.pop())
        """
        return remaining()

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
        check_deadline()

    @property
    def tmpdir(self) -> Path:
        """A private directory for this invocation, removed with its contents when it ends.

        Created on first use (mode 0700, under the system temp dir), unique per process
        and invocation; removed also when the handler raises or is cancelled. Files the
        invocation needs only while it runs belong here::

            out = request.tmpdir / "report.csv"
        """
        scope = active_scope("tmpdir")
        from ._tmp import request_dir

        return request_dir(scope)

    def get(self, name: str, default: Any = None) -> Any:
        """Return the attribute *name* set during this invocation, or *default*."""
        attrs = active_scope(name)[ATTRS]
        if attrs is None:
            return default
        return attrs.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        """Return a copy of the attributes set during this invocation."""
        attrs = active_scope("as_dict()")[ATTRS]
        return {} if attrs is None else dict(attrs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Never resolve private or dunder names: tools probe objects with
            # hasattr(obj, "__wrapped__") and the like, at any time.
            raise AttributeError(name)
        attrs = active_scope(name)[ATTRS]
        try:
            return attrs[name]
        except (KeyError, TypeError):
            raise AttributeError(
                f"lambdascope.request has no attribute {name!r} in this invocation; "
                f"set it first, or use request.get({name!r}, default)"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        _check_name(name)
        scope = active_scope(name)
        if scope[ATTRS] is None:
            scope[ATTRS] = {name: value}
        else:
            scope[ATTRS][name] = value

    def __delattr__(self, name: str) -> None:
        _check_name(name)
        attrs = active_scope(name)[ATTRS]
        if attrs is None or name not in attrs:
            raise AttributeError(f"lambdascope.request has no attribute {name!r} to delete")
        del attrs[name]

    def __contains__(self, name: object) -> bool:
        attrs = active_scope("__contains__")[ATTRS]
        return attrs is not None and name in attrs

    def __iter__(self) -> Iterator[str]:
        attrs = active_scope("__iter__")[ATTRS]
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
