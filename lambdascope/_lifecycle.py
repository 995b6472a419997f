"""Process-wide lifecycle state: initialization type, invocation counter, cold start,
environment recycling (max age / max invocations) and the cold-start report.

Lambda imports the handler module once per execution environment (Init) and then
calls the handler once per event (Invoke). In the Python runtime one process runs
one invocation at a time; under Lambda Managed Instances one environment runs
several processes, each initialised on its own. Everything here is therefore
per *process*.

The handler wrapper calls :meth:`LifecycleState.begin` only when the invocation
number reaches ``check_at`` (the first invocation, and every invocation while a
recycling limit is configured), so the common warm path costs one comparison.
"""

from __future__ import annotations

import math
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "INIT_TYPE_ENV",
    "LifecycleState",
    "configure",
    "init_report",
    "initialization_type",
    "state",
]

INIT_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"
REPORT_ENV = "LAMBDASCOPE_COLD_START_REPORT"

#: Initialization types under which Init happens before any request arrives, so
#: the first invocation does not pay for it and is not a cold start.
_PREINITIALIZED = frozenset({"provisioned-concurrency", "snap-start", "lambda-managed-instances"})


def initialization_type() -> str:
    """Return ``AWS_LAMBDA_INITIALIZATION_TYPE``, or ``"on-demand"`` off Lambda.

    One of ``on-demand``, ``provisioned-concurrency``, ``snap-start`` or
    ``lambda-managed-instances``. Local runs, tests and other runtimes count as
    ``on-demand``: the first invocation pays for Init.
    """
    return os.environ.get(INIT_TYPE_ENV) or "on-demand"


class _Config:
    __slots__ = ("cold_start_report", "max_environment_age", "max_invocations")

    def __init__(self) -> None:
        self.max_environment_age: float | None = None
        self.max_invocations: int | None = None
        self.cold_start_report: bool | None = None  # None: the environment variable decides


config = _Config()


class LifecycleState:
    """Mutable per-process lifecycle facts. One instance lives in :data:`state`."""

    __slots__ = (
        "check_at",
        "cold_eligible",
        "first_ms",
        "first_started",
        "generation_invocation",
        "generation_started",
        "init_started",
        "init_type",
        "invocations",
        "recycled_at",
        "recycles",
        "restored",
    )

    def __init__(self) -> None:
        self.init_started = time.perf_counter()
        self.invocations = 0
        self.init_type = initialization_type()
        self.cold_eligible = self.init_type not in _PREINITIALIZED
        self.check_at: float = 1
        self.first_started: float | None = None
        self.first_ms: float | None = None
        self.generation_started = self.init_started
        self.generation_invocation = 1
        self.recycled_at = 0
        self.recycles = 0
        self.restored = False

    def reset(self) -> None:
        """Forget every invocation, as if this process had just been initialised."""
        self.__init__()  # type: ignore[misc]

    def begin(self, n: int) -> bool:
        """Slow path at the start of invocation *n*; returns its ``cold_start``."""
        now = time.perf_counter()
        cold = False
        if n == 1:
            cold = self.cold_eligible
            self.first_started = now
        elif self._past_limit(n, now):
            from ._resources import reset_resources

            reset_resources()
            self.recycled_at = n
            self.recycles += 1
            self.generation_started = now
            self.generation_invocation = n
        limited = config.max_invocations is not None or config.max_environment_age is not None
        self.check_at = n + 1 if limited else math.inf
        return cold

    def _past_limit(self, n: int, now: float) -> bool:
        limit = config.max_invocations
        if limit is not None and n - self.generation_invocation >= limit:
            return True
        age = config.max_environment_age
        return age is not None and now - self.generation_started >= age

    def end(self, n: int) -> None:
        """Slow path after invocation *n*: the cold-start report follows the first one."""
        if n != 1 or self.first_started is None:
            return
        self.first_ms = (time.perf_counter() - self.first_started) * 1000
        if _report_enabled():
            try:
                import json

                sys.stdout.write(json.dumps(init_report(), default=str) + "\n")
                sys.stdout.flush()
            except Exception:  # a report must never fail an invocation
                import logging

                logging.getLogger("lambdascope").exception("could not write the cold-start report")

    def after_restore(self) -> None:
        """A SnapStart restore: a new environment whose Init ran before the snapshot."""
        self.reset()
        self.restored = True
        self.cold_eligible = False


#: The lifecycle state of this process.
state = LifecycleState()


def _report_enabled() -> bool:
    if config.cold_start_report is not None:
        return config.cold_start_report
    return os.environ.get(REPORT_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def init_report() -> dict[str, Any]:
    """What this environment's Init and first invocation cost, as JSON-ready data.

    The same data is written as one JSON line to stdout (CloudWatch Logs) after
    the first invocation, unless ``configure(cold_start_report=False)`` or
    ``LAMBDASCOPE_COLD_START_REPORT=0``. Keys:

    - ``init_type``: ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand`` off Lambda);
    - ``restored``: whether this environment was restored from a SnapStart snapshot;
    - ``init_ms``: milliseconds from ``import lambdascope`` (or the restore) to the
      first invocation, for on-demand environments — Lambda's own Init starts a
      little earlier (runtime start, imports before lambdascope's); ``None`` when
      Init ran ahead of traffic, where that gap is idle time, not cost;
    - ``first_invocation_ms``: the first invocation's duration, or ``None`` before it ends;
    - ``resources``: each init resource factory run so far (``name``, ``ms``,
      ``phase`` ``"init"`` or ``"invoke"``, ``error``), slowest first, so the
      client that dominates the cold start is at the top.
    """
    from ._resources import report_entry, resource_records

    init_ms = None
    if state.first_started is not None and state.cold_eligible:
        init_ms = round((state.first_started - state.init_started) * 1000, 3)
    records = sorted(resource_records(), key=lambda r: r.duration, reverse=True)
    return {
        "message": "lambdascope cold start report",
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "init_type": state.init_type,
        "restored": state.restored,
        "init_ms": init_ms,
        "first_invocation_ms": None if state.first_ms is None else round(state.first_ms, 3),
        "resources": [report_entry(r) for r in records],
    }


def configure(
    *,
    max_environment_age: float | None = None,
    max_invocations: int | None = None,
    cold_start_report: bool | None = None,
) -> None:
    """Set process-wide lifecycle options (each call sets all three).

    Args:
        max_environment_age: seconds (or a ``timedelta``) after which the first
            invocation past the limit closes and drops every init resource before
            it runs, so they are created afresh — a forced re-initialisation.
        max_invocations: the same, after this many invocations.
        cold_start_report: write the one-line JSON cold-start report after the
            first invocation (default: on, unless ``LAMBDASCOPE_COLD_START_REPORT=0``).

    The recycled invocation has ``request.recycled == True``; its ``cold_start``
    stays ``False`` (the environment's Init is not repeated, only the resources).

    Raises:
        TypeError: an option has the wrong type.
        ValueError: a limit is not a positive, finite number.
    """
    from ._util import positive_seconds

    age = positive_seconds(
        "configure(max_environment_age=...)", max_environment_age, "pass None for no limit"
    )
    if max_invocations is not None and (
        isinstance(max_invocations, bool) or not isinstance(max_invocations, int)
    ):
        raise TypeError(f"configure(max_invocations=...) must be an int, got {max_invocations!r}")
    if max_invocations is not None and max_invocations < 1:
        raise ValueError(
            f"configure(max_invocations=...) must be at least 1, got {max_invocations}; "
            "pass None for no limit"
        )
    if cold_start_report is not None and not isinstance(cold_start_report, bool):
        raise TypeError(
            "configure(cold_start_report=...) must be True, False or None, "
            f"got {cold_start_report!r}"
        )
    config.max_environment_age = age
    config.max_invocations = max_invocations
    config.cold_start_report = cold_start_report
    if state.invocations:  # already running: check from the next invocation on
        state.check_at = state.invocations + 1
