"""Deadlines: the invocation's deadline on the monotonic clock, and enforcing a margin.

``request.deadline`` is read from ``context.get_remaining_time_in_millis()`` once per
invocation — at its start for ``@handler(deadline_margin=...)``, else the first time
it is asked — and kept as a ``time.monotonic()`` value. The context's deadline is an
absolute time, so when it is read does not change the result. An invocation that
never asks pays nothing: the record is created on first use and lives in the scope
(registered as a no-op end-of-invocation callback, so it ends with it).

Enforcement is opt-in and never kills user code: an ``async def`` handler is
cancelled at deadline minus the margin (asyncio cancellation: its ``finally`` blocks run),
and a sync handler checks cooperatively with ``request.check_deadline()``.
"""

from __future__ import annotations

import threading
import time

from ._errors import DeadlineExceededError
from ._scope import CLEANUPS, CONTEXT, active_scope, current_scope, on_invocation_end

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

__all__ = ["bounded", "check_deadline", "deadline", "remaining", "start"]

_create_lock = threading.Lock()


class _Deadline:
    """One invocation's deadline (monotonic seconds, or ``None``) and its margin."""

    __slots__ = ("deadline", "limit", "margin")

    def __init__(self, deadline: float | None, margin: float) -> None:
        self.deadline = deadline
        self.margin = margin
        self.limit = None if deadline is None else deadline - margin

    def __call__(self) -> None:
        """Nothing to clean up: it ends with the scope it is registered on."""


def _from_context(context: Any) -> float | None:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return None
    now = time.monotonic()
    value = remaining_ms()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return now + value / 1000


def _record(scope: list[Any], margin: float = 0.0) -> _Deadline:
    cleanups = scope[CLEANUPS]
    if cleanups is not None:
        for item in cleanups:
            if type(item) is _Deadline:
                return item
    with _create_lock:  # threads of one invocation share its scope: read the context once
        for item in scope[CLEANUPS] or ():
            if type(item) is _Deadline:
                return item
        record = _Deadline(_from_context(scope[CONTEXT]), margin)
        on_invocation_end(scope, record)
    return record


def start(margin: float) -> None:
    """At the start of an invocation of a ``deadline_margin`` handler: fix its deadline."""
    scope = current_scope()
    if scope is not None:  # pragma: no branch - the wrapper calls it inside the scope
        _record(scope, margin)


def deadline() -> float | None:
    """``request.deadline``."""
    return _record(active_scope("deadline")).deadline


def remaining() -> float:
    """``request.remaining()``."""
    when = _record(active_scope("remaining()")).deadline
    if when is None:
        return float("inf")
    left = when - time.monotonic()
    return left if left > 0 else 0.0


def check_deadline() -> None:
    """``request.check_deadline()``."""
    record = _record(active_scope("check_deadline()"))
    limit = record.limit
    if limit is None:
        return
    now = time.monotonic()
    if now >= limit:
        raise DeadlineExceededError(_check_message(record, now))


def _check_message(record: _Deadline, now: float) -> str:
    assert record.deadline is not None
    left = max(record.deadline - now, 0.0)
    if record.margin:
        where = f"its deadline minus deadline_margin ({record.margin:g} s)"
    else:
        where = "its deadline (no deadline_margin is set on @handler)"
    return (
        f"request.check_deadline(): the invocation is past {where}; {left:.3f} s were left "
        "before the function timeout. Stop the work here: return a partial result, or let "
        "this error fail the invocation before Lambda times it out"
    )


async def bounded(coro: Coroutine[Any, Any, Any], margin: float) -> Any:
    """Run the handler's coroutine, cancelling it at the deadline minus *margin*."""
    import asyncio

    scope = current_scope()
    record = None if scope is None else _record(scope, margin)
    if record is None or record.limit is None:
        return await coro
    loop = asyncio.get_running_loop()
    task = loop.create_task(coro)
    fired = False

    def cancel() -> None:
        nonlocal fired
        if not task.done():
            fired = True
            task.cancel()

    timer = loop.call_later(max(record.limit - time.monotonic(), 0.0), cancel)
    try:
        return await task
    except asyncio.CancelledError:
        if not fired:
            raise
        raise DeadlineExceededError(
            f"the async handler was cancelled at its deadline minus deadline_margin "
            f"({margin:g} s), before the function timeout; its finally blocks and async "
            "context managers have run. Give it less work per invocation, a longer function "
            "timeout, or return a partial result when asyncio.CancelledError reaches it"
        ) from None
    finally:
        timer.cancel()
