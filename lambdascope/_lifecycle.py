"""What happens at the edges of an invocation: the cold start, recycling, the cold-start report.

The handler wrapper calls :func:`begin` before and :func:`end` after an invocation only
when its number reaches ``state.check_at`` (see :mod:`lambdascope._state`): the first
invocation, and every invocation while a recycling limit is configured.
"""

from __future__ import annotations

import math
import sys
import time

from ._config import COLD_START_REPORT, switch
from ._logging import line_fields
from ._resources import report_entry, reset_resources, resource_records
from ._state import config, state
from ._util import positive_seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["begin", "configure", "end", "init_report", "report_enabled"]


def begin(n: int) -> bool:
    """Slow path at the start of invocation *n*; returns its ``cold_start``.

    Past a recycling limit, every init resource is closed and dropped first, so the
    invocation creates them afresh.
    """
    now = time.perf_counter()
    cold = False
    if n == 1:
        cold = state.cold_eligible
        state.first_started = now
    elif state.past_limit(n, now):
        reset_resources()
        state.recycled_at = n
        state.recycles += 1
        state.generation_started = now
        state.generation_invocation = n
    state.check_at = n + 1 if config.limited else math.inf
    return cold


def end(n: int, context: Any = None) -> None:
    """Slow path after invocation *n* (its *context*): the cold-start report follows the
    first one, with that invocation's request id."""
    if n != 1 or state.first_started is None:
        return
    state.first_ms = (time.perf_counter() - state.first_started) * 1000
    if report_enabled():
        try:
            import json

            report = init_report()
            report.update(line_fields("INFO", context))  # its scope has ended: say which
            sys.stdout.write(json.dumps(report, default=str) + "\n")
            sys.stdout.flush()
        except Exception:  # a report must never fail an invocation
            import logging

            logging.getLogger("lambdascope").exception("could not write the cold-start report")


def report_enabled() -> bool:
    """Whether the cold-start report is written: ``configure()`` first, then the environment."""
    if config.cold_start_report is not None:
        return config.cold_start_report
    return switch(COLD_START_REPORT, True)


def init_report() -> dict[str, Any]:
    """What this environment's Init and first invocation cost, as JSON-ready data.

    The same data is written as one JSON line to stdout (CloudWatch Logs) after
    the first invocation, unless ``configure(cold_start_report=False)`` or
    ``LAMBDASCOPE_COLD_START_REPORT=0``. Keys:

    - ``level``, ``timestamp``, ``service``, ``function_name``, ``function_request_id``
      (the running invocation's) and ``xray_trace_id``: named and written as Powertools'
      ``Logger`` writes them, so one Logs Insights query reads both;

    - ``init_type``: ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand`` off Lambda);
    - ``restored``: whether this environment was restored from a SnapStart snapshot;
    - ``init_ms``: milliseconds from ``import lambdascope`` (or the restore) to the
      first invocation, for on-demand environments — Lambda's own Init starts a
      little earlier (runtime start, imports before lambdascope's); ``None`` when
      Init ran ahead of traffic, where that gap is idle time, not cost;
    - ``first_invocation_ms``: the first invocation's duration, or ``None`` before it ends;
    - ``resources``: each init resource factory run so far (``name``, ``ms``,
      ``phase`` ``"init"`` or ``"invoke"``, ``error``), slowest first, so the
      client that dominates the cold start is at the top;
    - ``guard``: for each guarded handler that has run, the modules its guard watches
      (``modules``), those watched whole because the write analysis cannot vouch for
      less (``watched_whole``), those whose analysis came from the file ``lambdascope
      analyse`` wrote (``analysed_ahead``), why each other one was analysed live
      (``analysed_live``), what the analysis and the first snapshot cost
      (``census_ms``), and the errors inside the guard so far (``internal_errors``).
    """
    init_ms = None
    if state.first_started is not None and state.cold_eligible:
        init_ms = round((state.first_started - state.init_started) * 1000, 3)
    records = sorted(resource_records(), key=lambda r: r.duration, reverse=True)
    return {
        "message": "lambdascope cold start report",
        **line_fields("INFO"),
        "init_type": state.init_type,
        "restored": state.restored,
        "init_ms": init_ms,
        "first_invocation_ms": None if state.first_ms is None else round(state.first_ms, 3),
        "resources": [report_entry(r) for r in records],
        "guard": list(state.guards.values()),
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
