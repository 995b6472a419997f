"""What the per-invocation log context and the deadline helpers cost.

Run: ``python -m benchmarks.bench_logging`` (or the whole suite: ``python -m benchmarks``).

Each row is a ratio against a baseline measured in the same run:

- per invocation: ``@handler(guard='off')`` around a bare function. Installing the log
  context changes nothing on that path (the filter runs per log record, not per
  invocation), so an invocation that does not use it must cost the same;
- per log call: a real ``logging`` call through a ``StreamHandler`` with the Lambda
  runtime's JSON formatter, without the filter;
- per deadline check: ``context.get_remaining_time_in_millis()`` of the testing context,
  what handler code calls without lambdascope.
"""

from __future__ import annotations

import functools
import io
import logging
import time
from typing import Any, Callable

from benchmarks._timing import Row, goal, looped, rounds_of

SECTION_INVOCATION = "log context and deadlines: per invocation"
SECTION_LOG = "log context: per log call (the runtime's JSON formatter)"
SECTION_DEADLINE = "deadlines: per check"


def _per_invocation(quick: bool) -> list[Row]:
    import lambdascope
    from lambdascope import request
    from lambdascope.testing import LambdaContext

    def bare(event: Any, context: Any) -> Any:
        return event

    def uses_fields(event: Any, context: Any) -> Any:
        request.log.update(order_id="A-1")
        return event

    def reads_deadline(event: Any, context: Any) -> Any:
        return request.remaining()

    baseline = lambdascope.handler(guard="off")(bare)
    stream = io.StringIO()
    sink = logging.StreamHandler(stream)
    logging.getLogger("bench.logctx.invocation").addHandler(sink)
    lambdascope.install_log_context(sink)  # installed, never used by the handler below
    installed_unused = lambdascope.handler(guard="off")(bare)
    context = LambdaContext(timeout=900)
    number = 2_000 if quick else 20_000
    funcs: dict[str, Callable[[Any, Any], Any]] = {
        "@handler(guard='off') (baseline)": baseline,
        "log context installed, request.log unused": installed_unused,
        "request.log.update(order_id=...) once per invocation": lambdascope.handler(guard="off")(
            uses_fields
        ),
        "@handler(guard='off', deadline_margin=1), sync": lambdascope.handler(
            guard="off", deadline_margin=1
        )(bare),
        "request.remaining() once per invocation": lambdascope.handler(guard="off")(reads_deadline),
    }
    event: dict[str, str] = {}
    per = rounds_of(
        {name: looped(functools.partial(f, event, context), number) for name, f in funcs.items()},
        number,
        3 if quick else 7,
    )
    base = per["@handler(guard='off') (baseline)"]
    rows = []
    for name, value in per.items():
        ratio = value / base
        target = ""
        if name == "log context installed, request.log unused":
            target = goal("≤ 1.1x baseline (≈ 0 added)", ratio <= 1.1)
        rows.append(Row(SECTION_INVOCATION, name, value * 1e9, "ns/call", ratio, target))
    return rows


def _per_log_call(quick: bool) -> list[Row]:
    from awslambdaric.lambda_runtime_log_utils import JsonFormatter  # type: ignore[import-untyped]

    import lambdascope
    from lambdascope import request

    def logger_with_handler(name: str, install: bool) -> logging.Logger:
        sink = logging.StreamHandler(io.StringIO())
        sink.setFormatter(JsonFormatter())
        log = logging.getLogger(name)
        log.propagate = False
        log.setLevel(logging.INFO)
        log.handlers[:] = [sink]
        if install:
            lambdascope.install_log_context(sink)
        return log

    plain = logger_with_handler("bench.logctx.plain", install=False)
    filtered = logger_with_handler("bench.logctx.filtered", install=True)
    number = 1_000 if quick else 10_000
    timings: dict[str, float] = {}

    @lambdascope.handler(guard="off")
    def measure(event: Any, context: Any) -> None:
        request.log.update(order_id="A-1", customer="c-42")
        variants = {
            "log.info, no filter (baseline)": looped(lambda: plain.info("order %s", 1), number),
            "log.info, filter installed, 3 built-in + 2 fields": looped(
                lambda: filtered.info("order %s", 1), number
            ),
        }
        timings.update(rounds_of(variants, number, 3 if quick else 7))

    measure({}, None)
    outside = rounds_of(
        {
            "log.info, no filter (baseline)": looped(lambda: plain.info("order %s", 1), number),
            "log.info, filter installed, outside an invocation": looped(
                lambda: filtered.info("order %s", 1), number
            ),
        },
        number,
        3 if quick else 7,
    )
    base = timings["log.info, no filter (baseline)"]
    used = timings["log.info, filter installed, 3 built-in + 2 fields"]
    idle = outside["log.info, filter installed, outside an invocation"]
    idle_base = outside["log.info, no filter (baseline)"]
    return [
        Row(SECTION_LOG, "log.info, no filter (baseline)", base * 1e9, "ns/call", 1.0),
        Row(
            SECTION_LOG,
            "log.info, filter installed, 3 built-in + 2 fields",
            used * 1e9,
            "ns/call",
            used / base,
            goal("≤ 1.3x no filter", used / base <= 1.3),
        ),
        Row(
            SECTION_LOG,
            "log.info, filter installed, outside an invocation",
            idle * 1e9,
            "ns/call",
            idle / idle_base,
            goal("≤ 1.1x no filter", idle / idle_base <= 1.1),
        ),
    ]


def _per_check(quick: bool) -> list[Row]:
    import lambdascope
    from lambdascope import request
    from lambdascope.testing import LambdaContext

    number = 5_000 if quick else 50_000
    context = LambdaContext(timeout=900)
    timings: dict[str, float] = {}

    @lambdascope.handler(guard="off", deadline_margin=1)
    def measure(event: Any, context: Any) -> None:
        variants = {
            "context.get_remaining_time_in_millis() (baseline)": looped(
                context.get_remaining_time_in_millis, number
            ),
            "request.check_deadline()": looped(request.check_deadline, number),
            "request.remaining()": looped(request.remaining, number),
            "time.monotonic()": looped(time.monotonic, number),
        }
        timings.update(rounds_of(variants, number, 3 if quick else 7))

    measure({}, context)
    base = timings["context.get_remaining_time_in_millis() (baseline)"]
    rows = []
    for name, value in timings.items():
        ratio = value / base
        target = ""
        if name == "request.check_deadline()":
            target = goal("≤ 2x get_remaining_time_in_millis()", ratio <= 2)
        rows.append(Row(SECTION_DEADLINE, name, value * 1e9, "ns/call", ratio, target))
    return rows


def logging_rows(quick: bool) -> list[Row]:
    """Every row of this module, for ``python -m benchmarks``."""
    return _per_invocation(quick) + _per_log_call(quick) + _per_check(quick)


if __name__ == "__main__":
    import sys

    quick = "--quick" in sys.argv
    for row in logging_rows(quick):
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        print(f"{row.section} | {row.name} | {row.value:,.1f} {row.unit} | {ratio} | {row.goal}")
